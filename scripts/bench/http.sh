#!/usr/bin/env bash
# HTTP API benchmarks on a real master: prints `name: value unit` lines.
# scheduler_calls_per_s: ACKNOWLEDGE calls answered per second on keep-alive connections
# (args: connections, seconds; defaults 4 and 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-master --example scheduler_calls_bench
target/release/examples/scheduler_calls_bench "${SCHEDULER_CALLS_CONNECTIONS:-4}" "${SCHEDULER_CALLS_SECONDS:-3}"
