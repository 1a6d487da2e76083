#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds with warnings as errors, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
build=build/ci
# The Python module is built for, and tested with, the system's /usr/bin/python3.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATOMICWRITES_WERROR=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$build"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
