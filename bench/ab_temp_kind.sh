#!/usr/bin/env bash
# A/B of the temporary-file kind: O_TMPFILE (the default), a named temporary file (O_TMPFILE
# refused by the test fault shim), and the hand-written reference (C reference when durable,
# write + rename when none), interleaved with the order rotated each round, `sync` before
# each run. Prints the median and min-max seconds per run.
#   bash bench/ab_temp_kind.sh DIR [ROUNDS] [durable|none] [WORKLOAD COUNT SIZE]
#   (after bench/run.sh and the test build; WORKLOAD as aw_bench takes it, by default
#   500 replaces of 4 KiB)
#   e.g. AW_FS_SIZE=4G bash tests/reliability/with_fs.sh xfs bash bench/ab_temp_kind.sh '$AW_TEST_DIR'
#        ... bench/ab_temp_kind.sh '$AW_TEST_DIR' 7 durable big 1 1073741824
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bench/ab_temp_kind.sh DIR [ROUNDS] [durable|none] [WORKLOAD COUNT SIZE]}
[[ $dir == '$AW_TEST_DIR' ]] && dir=$AW_TEST_DIR
rounds=${2:-11}
level=${3:-durable}
workload=${4:-replace} count=${5:-500} size=${6:-4096}
case $level in
  durable) reference=c-reference ;;
  none) reference=write-rename ;;
  *) echo "level: durable or none" >&2; exit 2 ;;
esac
bench=build/bench/bench/aw_bench
shim=${AW_SHIM:-build/ci/tests/aw_fault_shim.so}
kinds=(tmpfile named reference)
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#kinds[@]}; i++)); do
    kind=${kinds[$(((i + r) % ${#kinds[@]}))]}
    d=$(mktemp -d -p "$dir")
    sync
    case $kind in
      tmpfile) t=$("$bench" "aw-$level" "$workload" "$d" "$count" "$size") ;;
      named) t=$(env LD_PRELOAD="$shim" AW_SHIM_NO_TMPFILE=1 "$bench" "aw-$level" "$workload" "$d" "$count" "$size") ;;
      reference) t=$("$bench" "$reference" "$workload" "$d" "$count" "$size") ;;
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
    print("{:10} median {:.4f} s  min-max {:.4f}-{:.4f} ({} rounds)".format(
        kind, statistics.median(values), min(values), max(values), len(values)))
'
