#!/usr/bin/env bash
# A/B of a few aw_bench contenders on one workload, for effects of a few percent that the
# full benchmark's noise hides: each runs interleaved with the others, the order rotated
# each round, `sync` before each run. Prints the median, first quartile and minimum
# microseconds per operation. A contender may name its program, to compare two builds
# (say, before and after a change): PROGRAM:CONTENDER; else build/bench/bench/aw_bench.
#   bash bench/ab.sh DIR WORKLOAD COUNT ROUNDS CONTENDER...
#   e.g. AW_FS_SIZE=4G bash tests/reliability/with_fs.sh ext4 bash bench/ab.sh \
#          '$AW_TEST_DIR' replace 1000 41 aw-durable c-sequence c-reference
#        ... bench/ab.sh '$AW_TEST_DIR' replace 2000 11 \
#          build/bench-old/bench/aw_bench:aw-none aw-none write-rename
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 5 ]] || { sed -n '2,12p' "$0"; exit 2; }
dir=$1 workload=$2 count=$3 rounds=$4
shift 4
[[ $dir == '$AW_TEST_DIR' ]] && dir=$AW_TEST_DIR
runs=("$@")
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#runs[@]}; i++)); do
    run=${runs[$(((i + r) % ${#runs[@]}))]}
    bench=build/bench/bench/aw_bench contender=$run
    [[ $run == *:* ]] && bench=${run%:*} contender=${run##*:}
    d=$(mktemp -d -p "$dir")
    sync
    seconds=$("$bench" "$contender" "$workload" "$d" "$count" 4096)
    rm -rf "$d"
    echo "$run $seconds"
  done
done | /usr/bin/python3 -c '
import collections, statistics, sys
count = int(sys.argv[1])
runs = collections.defaultdict(list)
for line in sys.stdin:
    name, seconds = line.split()
    runs[name].append(float(seconds) * 1e6 / count)
for name, v in runs.items():
    v.sort()
    print("{:40} median {:8.2f}  q1 {:8.2f}  min {:8.2f} us/op ({} rounds)".format(
        name, statistics.median(v), v[len(v) // 4], v[0], len(v)))
' "$count"
