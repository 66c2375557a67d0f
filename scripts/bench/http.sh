#!/usr/bin/env bash
# HTTP API benchmarks (issue 6) on real masters. Prints `name: value unit` lines; a simple
# list of programs.
# master_state_ms_10k_agents_100k_tasks: GET /master/state over loopback HTTP from a real
#   master holding 10,000 agents and 100,000 tasks (master/examples/master_state_bench.rs).
#   Pass --quick for a small run.
# scheduler_calls_per_s: ACKNOWLEDGE calls answered per second on keep-alive connections
#   (SCHEDULER_CALLS_CONNECTIONS, SCHEDULER_CALLS_SECONDS; defaults 4 and 3); then the same
#   over HTTPS (https_scheduler_calls_per_s and the ratio) unless SCHEDULER_CALLS_TLS=0.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-master --example master_state_bench --example scheduler_calls_bench
target/release/examples/master_state_bench "$@"
target/release/examples/scheduler_calls_bench "${SCHEDULER_CALLS_CONNECTIONS:-4}" "${SCHEDULER_CALLS_SECONDS:-3}" \
  "$([ "${SCHEDULER_CALLS_TLS:-1}" = 1 ] && echo tls || echo plain)"
