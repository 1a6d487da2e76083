#!/usr/bin/env bash
# The main job: build, then write a file atomically and durably, and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DATOMICWRITES_TESTS=OFF >/dev/null
cmake --build build/release
out=build/demo/hello.conf
mkdir -p build/demo
./build/release/examples/hello_atomic "$out"
ls -l "$out"
