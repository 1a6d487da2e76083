#!/usr/bin/env bash
# Installs the Debian 12 packages a task needs, only those missing.
#   scripts/deps.sh build   compiler, CMake, Ninja
#   scripts/deps.sh test    build + GoogleTest, strace, pkg-config, and for the Python module:
#                           pybind11, pytest, venv/pip, and atomicwrites 1.4.1 to compare with;
#                           clang (libFuzzer, sanitizers), valgrind, and the filesystems
#                           and FUSE the reliability suites mount; MinGW-w64 and Wine
set -euo pipefail

packages=(cmake ninja-build g++ make pkg-config)
if [[ "${1:-build}" == test ]]; then
  packages+=(googletest libgtest-dev libgmock-dev strace
    python3 python3-dev python3-pybind11 pybind11-dev python3-pytest python3-venv python3-pip
    python3-setuptools python3-atomicwrites
    clang-14 libclang-rt-14-dev valgrind
    e2fsprogs xfsprogs btrfs-progs fuse3 libfuse3-dev util-linux mount liburing-dev
    g++-mingw-w64-x86-64-posix wine wine64)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "installing: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
