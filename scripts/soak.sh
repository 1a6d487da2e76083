#!/usr/bin/env bash
# The reliability suites' long modes (CI runs each for a bounded time):
#   suite 4  SIGKILL at random moments: AW_SOAK times more runs
#   suite 5  power cuts: more random subsets of unflushed writes per crash point
#   suite 6  concurrency stress for SOAK_SECONDS
#   suite 7  the fuzzer for SOAK_SECONDS
#   bash scripts/soak.sh            (root; about 40 minutes with the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
soak=${AW_SOAK:-20}
seconds=${SOAK_SECONDS:-600}
AW_TEST_STAGES=main bash scripts/test.sh >/dev/null  # builds build/ci (and checks it)
b=$PWD/build/ci/tests
echo "== suite 4: $((70 * 3 * soak)) random kills"
AW_SOAK=$soak AW_PROBE=$b/aw_probe AW_CLI=$PWD/build/ci/atomic-write AW_SHIM=$b/aw_fault_shim.so \
  /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/reliability/test_real_processes.py -k random
echo "== suite 5: power cuts with 10 random subsets per crash point"
AW_LOGDISK=$b/aw_logdisk AW_PROBE=$b/aw_probe AW_SHIM=$b/aw_fault_shim.so \
  /usr/bin/python3 tests/reliability/powercut.py --random 10 --seed "$RANDOM"
echo "== suite 6: stress for $seconds s"
"$b/aw_stress" "$(mktemp -d)" --seconds "$seconds" --processes 4 --writers 3 --readers 3
echo "== suite 7: fuzzing for $seconds s"
AW_TEST_STAGES=fuzz AW_FUZZ_SECONDS=$seconds bash scripts/test.sh
