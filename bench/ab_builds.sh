#!/usr/bin/env bash
# A/B of two builds of the benchmark program (say, before and after a change to the library)
# on one workload: each contender of each build runs interleaved with the others, the order
# rotated each round, `sync` before each run. Prints the median and min-max microseconds per
# operation.
#   bash bench/ab_builds.sh DIR BENCH_A BENCH_B WORKLOAD COUNT ROUNDS CONTENDER...
#   e.g. (BENCH_A built from the parent commit with bench/run.sh's cmake line)
#   AW_FS_SIZE=4G bash tests/reliability/with_fs.sh ext4 bash bench/ab_builds.sh \
#     '$AW_TEST_DIR' build/bench-old/bench/aw_bench build/bench/bench/aw_bench \
#     replace 2000 11 aw-none write-rename
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 7 ]] || { sed -n '2,10p' "$0"; exit 2; }
dir=$1 a=$2 b=$3 workload=$4 count=$5 rounds=$6
shift 6
[[ $dir == '$AW_TEST_DIR' ]] && dir=$AW_TEST_DIR
runs=()
for contender in "$@"; do runs+=("A:$contender" "B:$contender"); done
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#runs[@]}; i++)); do
    run=${runs[$(((i + r) % ${#runs[@]}))]}
    bench=$a
    [[ ${run%%:*} == B ]] && bench=$b
    d=$(mktemp -d -p "$dir")
    sync
    seconds=$("$bench" "${run#*:}" "$workload" "$d" "$count" 4096)
    rm -rf "$d"
    echo "$run $seconds"
  done
done | /usr/bin/python3 -c '
import collections, statistics, sys
count = int(sys.argv[1])
runs = collections.defaultdict(list)
for line in sys.stdin:
    name, seconds = line.split()
    runs[name].append(float(seconds) * 1e6 / count)
for name in sorted(runs, key=lambda n: (n[2:], n)):
    v = runs[name]
    print("{:28} median {:8.2f} us/op  min-max {:.2f}-{:.2f} ({} rounds)".format(
        name, statistics.median(v), min(v), max(v), len(v)))
' "$count"
