#!/usr/bin/env bash
# Runs the side-by-side benchmark (bare Kestrel against the library's settings) and writes docs/benchmarks.md.
# Installs what it needs (wrk, iproute2, a C compiler, nginx) when run as root on Debian; builds the LD_PRELOAD send counter.
# Extra arguments go to the benchmark: --help lists them (--quick, --rounds N, --requests N, --wrk-seconds N, --out FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

help=false
for argument in "$@"; do
  case "$argument" in -h|--help|-\?) help=true ;; esac
done
if $help; then
  dotnet build build/TcpTuning.Benchmarks -c Release -nologo -v q >/dev/null
  exec dotnet build/TcpTuning.Benchmarks/bin/Release/net10.0/TcpTuning.Benchmarks.dll --help
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

mkdir -p artifacts
counter=()
if cc -shared -fPIC -O2 -o artifacts/libsendcount.so build/sendcount/sendcount.c -ldl; then
  counter=(--send-counter artifacts/libsendcount.so)
fi

dotnet build build/TcpTuning.Benchmarks -c Release -nologo -v q
dotnet build/TcpTuning.Benchmarks/bin/Release/net10.0/TcpTuning.Benchmarks.dll "${counter[@]}" "$@"
