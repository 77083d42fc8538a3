#!/usr/bin/env bash
# Builds in Release and runs the side-by-side benchmark (bare Kestrel vs each mode) on loopback,
# writing docs/benchmarks.md. Extra arguments go to the benchmark (--rounds N, --requests N, --wrk-seconds N).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is not installed: the throughput table will say so." >&2
  fi
fi

dotnet build build/TcpTuning.Benchmarks -c Release -nologo -v q
dotnet build/TcpTuning.Benchmarks/bin/Release/net10.0/TcpTuning.Benchmarks.dll --out docs/benchmarks.md "$@"
