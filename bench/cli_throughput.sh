#!/usr/bin/env bash
# atomic-write's throughput against `cat > file && sync`, on the same disk, same input.
#   bash bench/cli_throughput.sh [DIR] [SIZE_MIB] [ROUNDS]
# Prints a markdown table: median and min-max seconds per contender, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/bench-cli}
size_mib=${2:-1024}
rounds=${3:-5}

cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DATOMICWRITES_TESTS=OFF >/dev/null
cmake --build build/release --target atomic-write >/dev/null
aw=$PWD/build/release/atomic-write
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

seconds() { date +%s.%N; }
# One timed run of a shell snippet; prints the elapsed seconds.
timed() {
  sync
  local start end
  start=$(seconds)
  bash -c "$1"
  end=$(seconds)
  echo "$end - $start" | bc -l
}

declare -A runs
contenders=("cat > file && sync" "atomic-write (durable)" "atomic-write --durability none")
commands=(
  "head -c ${size_mib}M /dev/zero | cat > '$dir/out' && sync"
  "head -c ${size_mib}M /dev/zero | '$aw' '$dir/out'"
  "head -c ${size_mib}M /dev/zero | '$aw' --durability none '$dir/out'"
)
for ((r = 0; r < rounds; r++)); do
  # Rotate the order each round so no contender always runs first (or after the same one).
  for ((k = 0; k < ${#commands[@]}; k++)); do
    i=$(((k + r) % ${#commands[@]}))
    rm -f "$dir/out"
    runs[$i]+="$(timed "${commands[$i]}") "
  done
done
rm -f "$dir/out"

stats() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f", m, v[1], v[NR]}'; }
read -r base _ _ <<<"$(echo "${runs[0]}" | stats)"
echo "| contender (${size_mib} MiB from a pipe, $rounds rounds, $(df -T "$dir" | awk 'NR==2{print $2}')) | median s | min-max s | MiB/s | time vs cat+sync |"
echo "|---|---|---|---|---|"
for i in "${!contenders[@]}"; do
  read -r median low high <<<"$(echo "${runs[$i]}" | stats)"
  printf "| %s | %s | %s-%s | %.0f | %.3f |\n" "${contenders[$i]}" "$median" "$low" "$high" \
    "$(echo "$size_mib / $median" | bc -l)" "$(echo "$median / $base" | bc -l)"
done
