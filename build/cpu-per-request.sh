#!/usr/bin/env bash
# Quick side-by-side of one wrk scenario: bare Kestrel, the hand-buffered ceiling (for paths with an -ideal twin),
# Adaptive (PerWrite) and the library defaults, each run N times in turn, printing requests/s and the server process's
# CPU time per request. Not a replacement for bench.sh: no medians, no report; for looking at one change quickly.
#
#   bash build/cpu-per-request.sh /chatty [--runs N] [--pipelined]
#
# Hill climbing is off in both servers (DOTNET_HillClimbing_Disable=1) so that the thread pool does not move the rates.
set -euo pipefail
cd "$(dirname "$0")/.."

path=${1:?usage: cpu-per-request.sh PATH [--runs N] [--pipelined]}
shift
runs=3
pipelined=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --pipelined) pipelined=(-s build/TcpTuning.Benchmarks/pipeline.lua); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }

dotnet build build/TcpTuning.Benchmarks -c Release -nologo -v q >/dev/null
dll=build/TcpTuning.Benchmarks/bin/Release/net10.0/TcpTuning.Benchmarks.dll
logs=$(mktemp -d)
server_pids=()
cleanup() {
  # Closing a server's standard input stops it.
  for fd in "${server_inputs[@]}"; do
    exec {fd}>&-
  done
  for pid in "${server_pids[@]}"; do
    timeout 15 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$logs"
}
server_inputs=()
trap cleanup EXIT

start() {
  # The server runs until its standard input, a FIFO held open here, closes.
  mkfifo "$logs/$1.in"
  DOTNET_HillClimbing_Disable=1 dotnet "$dll" serve "$1" <"$logs/$1.in" >"$logs/$1.log" 2>&1 &
  started_pid=$!
  local input
  exec {input}>"$logs/$1.in"
  server_inputs+=("$input")
  server_pids+=("$started_pid")
  for _ in $(seq 1 100); do
    grep -q "http://" "$logs/$1.log" 2>/dev/null && break
    sleep 0.1
  done
}
start bare
bare_pid=$started_pid
start tuned
tuned_pid=$started_pid
url() { grep -o "http://$1:[0-9]*" "$logs/$2.log" | head -1; }

configurations=("bare Kestrel|$bare_pid|$(url 127.0.0.10 bare)$path")
if [[ "$path" == /chatty* ]]; then
  configurations+=("ceiling (handler buffers in Kestrel)|$bare_pid|$(url 127.0.0.10 bare)$path-ideal")
fi
configurations+=("Adaptive, PerWrite|$tuned_pid|$(url 127.0.0.14 tuned)$path")
configurations+=("library defaults|$tuned_pid|$(url 127.0.0.15 tuned)$path")

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq 0 "$runs"); do
  for configuration in "${configurations[@]}"; do
    IFS='|' read -r name pid target <<<"$configuration"
    before=$(cpu "$pid")
    out=$(wrk -t1 -c32 -d3s "${pipelined[@]}" "$target" ${pipelined:+-- 16})
    after=$(cpu "$pid")
    requests=$(grep -o '[0-9]* requests in' <<<"$out" | awk '{print $1}')
    rate=$(grep 'Requests/sec' <<<"$out" | awk '{print $2}')
    # Round 0 warms up (JIT tiers, connections) and is not printed.
    if [ "$round" -gt 0 ]; then
      ticks=$(getconf CLK_TCK)
      printf '%-40s %12s req/s %8.2f us CPU per request\n' "$name" "$rate" "$(bc -l <<<"($after - $before) * 1000000 / $ticks / $requests")"
    fi
  done
done
