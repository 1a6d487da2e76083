#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds with warnings as errors, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
build=build/ci
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATOMICWRITES_WERROR=ON >/dev/null
cmake --build "$build"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
