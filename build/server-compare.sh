#!/usr/bin/env bash
# Two builds on the benchmark's servers, one after the other, again and again: for a chatty path, the library defaults'
# server CPU per request and rate over the hand-buffered ceiling's, paired within each run, and the median of each build.
# A full run's tables come from one build; a change worth a few percent needs both builds under the same noise.
#   bash build/server-compare.sh BASE_REF [--rounds N] [--runs N] [--connections N] PATH
#   e.g. bash build/server-compare.sh 72bb690 --rounds 4 /chatty-async
set -euo pipefail
cd "$(dirname "$0")/.."
base_ref=${1:?usage: server-compare.sh BASE_REF [--rounds N] [--runs N] [--connections N] PATH}
shift
rounds=4
runs=3
connections=32
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
path=${1:?PATH (a chatty path: /chatty or /chatty-async)}
if [[ $path != /chatty* ]]; then echo "PATH must be a chatty path: only those have the ceiling to pair with" >&2; exit 2; fi
if (( rounds < 1 || rounds > 50 || runs < 1 || runs > 20 )); then echo "--rounds must be 1-50 and --runs 1-20" >&2; exit 2; fi

source build/two-builds.sh
two_builds_checkout "$base_ref"
project=build/TcpTuning.Benchmarks
dotnet build "$project" -c Release -nologo -v q >/dev/null
dotnet build "$base/tree/$project" -c Release -nologo -v q >/dev/null
dll=$project/bin/Release/net10.0/TcpTuning.Benchmarks.dll

results=$base/results
for ((round = 1; round <= rounds; round++)); do
  for build in base this; do
    tree=.
    [[ $build == base ]] && tree=$base/tree
    # Each run prints the ceiling's line, then the library defaults' (QuickCompare's order); 10 minutes at most.
    (cd "$tree" && timeout 600 dotnet "$dll" compare "$path" --runs "$runs" --connections "$connections") \
      | grep -E '^(ceiling|Adaptive \+ MessageBoundary)' | sed "s/^/$build /" | tee -a "$results"
  done
done

# Pairs of lines (ceiling, library) of one run: the library's CPU per request and rate over the ceiling's.
ratios() {
  awk -v b="$1" '$1 == b {
      for (i = 1; i <= NF; i++) { if ($i == "req/s") rate = $(i - 1); if ($i == "us") cpu = $(i - 1) }
      if ($2 == "ceiling") { ceilingRate = rate; ceilingCpu = cpu } else { print cpu / ceilingCpu, rate / ceilingRate }
    }' "$results"
}
for build in base this; do
  echo "$build: library / ceiling over $(ratios $build | wc -l) runs: CPU per request median $(ratios $build | cut -d' ' -f1 | median %.3f), rate median $(ratios $build | cut -d' ' -f2 | median %.3f)"
done
