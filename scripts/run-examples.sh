#!/usr/bin/env bash
# Runs every example briefly so that examples keep working (called by .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# libprocess: two OS processes exchanging messages, then a service embedding the runtime.
cargo run --locked --release -p libprocess --example ping_pong -- --count 2000
cargo run --locked --release -p libprocess --example job_queue
