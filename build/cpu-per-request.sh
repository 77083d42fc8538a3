#!/usr/bin/env bash
# Quick side-by-side of one wrk scenario after a change (see QuickCompare in the benchmark project):
#   bash build/cpu-per-request.sh /chatty [--runs N] [--connections N] [--pipelined]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build build/TcpTuning.Benchmarks -c Release -nologo -v q >/dev/null
exec dotnet build/TcpTuning.Benchmarks/bin/Release/net10.0/TcpTuning.Benchmarks.dll compare "$@"
