#!/usr/bin/env bash
# The main job: build, then write a file atomically and durably with the CLI, and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DATOMICWRITES_TESTS=OFF \
  -DATOMICWRITES_PYTHON=OFF >/dev/null
cmake --build build/release
mkdir -p build/demo
out=build/demo/greeting.txt
printf 'hello, atomically\nwritten at %s\n' "$(date -u +%FT%TZ)" | ./build/release/atomic-write "$out"
echo "--- $out:"
cat "$out"
ls -l "$out"
