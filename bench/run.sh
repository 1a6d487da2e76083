#!/usr/bin/env bash
# Builds the benchmark and its peers, then runs every workload against every contender on
# the root disk and on loop-mounted ext4, xfs and btrfs (root only). Reports and charts go
# to bench/out/; docs/performance.md quotes them.
#   bash bench/run.sh [ROUNDS] [FILESYSTEMS...]    e.g. bash bench/run.sh 5 root ext4 xfs btrfs
# ROUNDS is for W3 and W5; W1, W2 and W4 always get 21 (bench/run.py --short-rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
shift || true
targets=("${@:-root ext4 xfs btrfs}")
read -r -a targets <<<"${targets[*]}"

bash scripts/deps.sh test
packages=(libglib2.0-dev qtbase5-dev python3-atomicwrites python3-matplotlib strace time)
command -v npm >/dev/null || packages+=(nodejs npm)  # Node.js often brings its own npm
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm's write-file-atomic, into bench/node_modules (not committed).
[[ -d bench/node_modules/write-file-atomic ]] ||
  (cd bench && npm install --no-save --no-package-lock --silent write-file-atomic@5)

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DATOMICWRITES_BENCH=ON \
  -DATOMICWRITES_TESTS=OFF -DATOMICWRITES_PYTHON=OFF >/dev/null
cmake --build build/bench
mkdir -p bench/out
for target in "${targets[@]}"; do
  if [[ $target == root ]]; then
    mkdir -p build/bench-data
    /usr/bin/python3 bench/run.py --dir build/bench-data --bin build/bench --rounds "$rounds" \
      --label "root disk" --out bench/out/root.md --chart bench/out/root.png
  else
    AW_FS_SIZE=4G bash tests/reliability/with_fs.sh "$target" bash -c \
      "/usr/bin/python3 bench/run.py --dir \"\$AW_TEST_DIR\" --bin build/bench --rounds $rounds \
         --label 'loop-mounted $target' --out bench/out/$target.md"
  fi
done
