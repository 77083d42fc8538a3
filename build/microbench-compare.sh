#!/usr/bin/env bash
# Two builds of one microbenchmark row, run one after the other, again and again: the median of each and their ratio.
# On a busy host separate BenchmarkDotNet runs move by more than a change to the writer is worth; alternating short
# loops (FlushMiddlewareLoop) see both builds under the same noise.
#   bash build/microbench-compare.sh BASE_REF [--rounds N] [--seconds S] [--handler] MODE RESPONSE
#   e.g. bash build/microbench-compare.sh d56f3db --rounds 10 MessageBoundary chatty
set -euo pipefail
cd "$(dirname "$0")/.."
base_ref=${1:?usage: microbench-compare.sh BASE_REF [--rounds N] [--seconds S] [--handler] MODE RESPONSE}
shift
rounds=10
seconds=1
handler=
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --handler) handler=handler; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mode=${1:?MODE}
response=${2:?RESPONSE}
if (( rounds < 1 || rounds > 100 )); then echo "--rounds must be 1-100" >&2; exit 2; fi

source build/two-builds.sh
two_builds_checkout "$base_ref"
# The base may predate the loop: run it with this tree's harness.
cp build/TcpTuning.Microbenchmarks/*.cs "$base/tree/build/TcpTuning.Microbenchmarks/"
project=build/TcpTuning.Microbenchmarks
dotnet build "$project" -c Release -nologo -v q >/dev/null
dotnet build "$base/tree/$project" -c Release -nologo -v q >/dev/null
dll=bin/Release/net10.0/TcpTuning.Microbenchmarks.dll

results=$base/results
for ((round = 1; round <= rounds; round++)); do
  echo "base $(dotnet "$base/tree/$project/$dll" loop "$mode" "$response" "$seconds" $handler)" | tee -a "$results"
  echo "this $(dotnet "$project/$dll" loop "$mode" "$response" "$seconds" $handler)" | tee -a "$results"
done

nanoseconds() { awk -v b="$1" '$1 == b { print $(NF - 3) }' "$results"; }
base_median=$(nanoseconds base | median)
this_median=$(nanoseconds this | median)
echo "median ns per request over $rounds runs each: base ($base_ref) $base_median, this tree $this_median; this / base $(awk -v t="$this_median" -v b="$base_median" 'BEGIN { printf "%.3f", t / b }')"
