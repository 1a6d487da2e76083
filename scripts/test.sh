#!/usr/bin/env bash
# The whole test suite. Installs what it needs, then runs these stages (all by default; pick
# some with AW_TEST_STAGES="asan main"):
#   fuzz      clang + libFuzzer + ASan/UBSan, a bounded run of the API fuzzer
#   valgrind  the unit suites and the C API tests under memcheck
#   tsan      the suites under ThreadSanitizer
#   asan      the suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   windows   the Windows backend, cross-built with MinGW-w64, its suites run under Wine
#   main      warnings as errors, every test (ctest), last so its summary closes the output
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
stages=${AW_TEST_STAGES:-fuzz valgrind tsan asan windows main}
jobs=$(nproc)
# The Python module is built for, and tested with, the system's /usr/bin/python3.
common=(-G Ninja -DATOMICWRITES_WERROR=ON -DPython_EXECUTABLE=/usr/bin/python3)
# Left to the main stage: tests that measure memory, trace with ptrace (LeakSanitizer cannot
# run under it), rebuild the package, or exercise the kernel's filesystems (mounts, power
# cuts) rather than more of our code.
not_under_sanitizers="package|pip_install|OneGibibyte|Streaming|RealSyscalls|real_processes|filesystem\.|powercut"

stage() { printf '\n=== %s ===\n' "$*"; }

configure_and_build() {  # build-dir, cmake arguments...
  local dir=$1
  shift
  cmake -S . -B "$dir" "${common[@]}" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

for s in $stages; do
  case $s in
    fuzz)
      stage "fuzz: libFuzzer on the public API (clang, ASan, UBSan)"
      sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all"
      CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz "${common[@]}" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATOMICWRITES_FUZZ=ON -DATOMICWRITES_PYTHON=OFF \
        -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
      cmake --build build/fuzz -j "$jobs" --target fuzz_api
      mkdir -p build/fuzz/corpus
      ./build/fuzz/tests/fuzz_api -seed=1 -max_total_time="${AW_FUZZ_SECONDS:-45}" \
        -print_final_stats=1 build/fuzz/corpus 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|stat::number_of_executed_units)"
      ;;
    valgrind)
      stage "valgrind: memcheck on the unit suites and the C API"
      configure_and_build build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
      for t in test_write_file test_atomic_file test_primitives test_errors test_metadata \
               test_protocol test_fault_matrix test_c_api; do
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
          "build/ci/tests/$t" >"build/ci/valgrind-$t.log" 2>&1 ||
          { cat "build/ci/valgrind-$t.log"; echo "valgrind: $t failed"; exit 1; }
        echo "valgrind clean: $t"
      done
      ;;
    tsan)
      stage "tsan: ThreadSanitizer"
      configure_and_build build/tsan -DCMAKE_BUILD_TYPE=Debug -DATOMICWRITES_PYTHON=OFF \
        -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_C_FLAGS=-fsanitize=thread \
        -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=thread
      (cd build/tsan && TSAN_OPTIONS=halt_on_error=1 ctest -j "$jobs" --output-on-failure \
        -E "$not_under_sanitizers|c_api")
      ;;
    asan)
      stage "asan: AddressSanitizer + UndefinedBehaviorSanitizer"
      sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
      configure_and_build build/asan -DCMAKE_BUILD_TYPE=Debug -DATOMICWRITES_PYTHON=OFF \
        -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_C_FLAGS="$sanitize" \
        -DCMAKE_EXE_LINKER_FLAGS="$sanitize" -DCMAKE_MODULE_LINKER_FLAGS="$sanitize"
      # The fault shim is preloaded ahead of the ASan runtime in the C API test.
      (cd build/asan && ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest -j "$jobs" --output-on-failure -E "$not_under_sanitizers|stress")
      ;;
    windows)
      stage "windows: MinGW-w64 cross-build, suites under Wine"
      cmake -S . -B build/windows -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
        -DCMAKE_BUILD_TYPE=Release -DATOMICWRITES_WERROR=ON -DATOMICWRITES_PYTHON=OFF \
        -DATOMICWRITES_CLI=OFF -DATOMICWRITES_EXAMPLES=OFF -DATOMICWRITES_INSTALL=OFF >/dev/null
      cmake --build build/windows -j "$jobs"
      # A prefix of our own and one persistent wineserver instead of one per test (~2.4 s
      # each). wineboot starts Wine's services under it now, with their output to /dev/null:
      # started by the first test instead, they would inherit ctest's output pipe and keep
      # ctest waiting for its end forever.
      export WINEPREFIX=$PWD/build/wine-prefix WINEDEBUG=-all
      mkdir -p "$WINEPREFIX"
      wineserver -p
      wineboot --init >/dev/null 2>&1 </dev/null || true
      status=0
      (cd build/windows && ctest --output-on-failure --timeout 300) || status=$?
      wineserver -k || true
      unset WINEPREFIX
      [[ $status -eq 0 ]] || exit $status
      ;;
    main)
      stage "main: every test"
      configure_and_build build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
      (cd build/ci && ctest --output-on-failure -j "$jobs")
      ;;
    *)
      echo "unknown stage: $s" >&2
      exit 2
      ;;
  esac
done
