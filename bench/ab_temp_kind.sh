#!/usr/bin/env bash
# A/B of the temporary-file kind for replaces: O_TMPFILE (the default), a named temporary
# file (O_TMPFILE refused by the test fault shim), and the hand-written reference (C
# reference when durable, write + rename when none), interleaved, `sync` before each run.
# Prints the median seconds per 500 writes.
#   bash bench/ab_temp_kind.sh DIR [ROUNDS] [durable|none]   (after bench/run.sh and the
#                                                              test build)
#   e.g. AW_FS_SIZE=4G bash tests/reliability/with_fs.sh xfs bash bench/ab_temp_kind.sh '$AW_TEST_DIR'
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bench/ab_temp_kind.sh DIR [ROUNDS]}
[[ $dir == '$AW_TEST_DIR' ]] && dir=$AW_TEST_DIR
rounds=${2:-11}
level=${3:-durable}
case $level in
  durable) reference=c-reference ;;
  none) reference=write-rename ;;
  *) echo "level: durable or none" >&2; exit 2 ;;
esac
bench=build/bench/bench/aw_bench
shim=${AW_SHIM:-build/ci/tests/aw_fault_shim.so}
for r in $(seq 1 "$rounds"); do
  for kind in tmpfile named reference; do
    d=$(mktemp -d -p "$dir")
    sync
    case $kind in
      tmpfile) t=$("$bench" "aw-$level" replace "$d" 500 4096) ;;
      named) t=$(env LD_PRELOAD="$shim" AW_SHIM_NO_TMPFILE=1 "$bench" "aw-$level" replace "$d" 500 4096) ;;
      reference) t=$("$bench" "$reference" replace "$d" 500 4096) ;;
    esac
    rm -rf "$d"
    echo "$kind $t"
  done
done | /usr/bin/python3 -c '
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in sys.stdin:
    kind, seconds = line.split()
    runs[kind].append(float(seconds))
for kind, values in runs.items():
    print("{:10} median {:.4f} s per 500 ({} rounds)".format(kind, statistics.median(values), len(values)))
'
