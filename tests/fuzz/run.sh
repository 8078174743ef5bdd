#!/usr/bin/env bash
# tests/fuzz/run.sh <target binary> <seed corpus dir> <runs>: one short
# libFuzzer run for the test command. It starts from the seed corpus and
# a fixed seed (the same inputs every time), keeps what it finds in a
# scratch directory (never in the source tree) and writes a crash,
# leak or timeout input beside it; a failure prints that input's path.
set -euo pipefail
bin=$1 corpus=$2 runs=$3
name=$(basename -- "$bin")
work=$(dirname -- "$bin")/work-$name
rm -rf -- "$work"
mkdir -p -- "$work/new"
"$bin" -runs="$runs" -seed=1 -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$corpus"
