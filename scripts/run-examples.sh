#!/usr/bin/env bash
# Runs every example briefly so that examples keep working (called by .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --locked -p meso-master --example allocator_bench -- --quick
