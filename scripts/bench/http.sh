#!/usr/bin/env bash
# HTTP API benchmarks (issue 6) on real masters. Prints `name: value unit` lines; a simple
# list of programs.
# master_state_ms_10k_agents_100k_tasks: GET /master/state over loopback HTTP from a real
#   master holding 10,000 agents and 100,000 tasks (master/examples/master_state_bench.rs).
#   Pass --quick for a small run.
# scheduler_calls_per_s: ACKNOWLEDGE calls answered per second on keep-alive connections
#   (SCHEDULER_CALLS_CONNECTIONS, SCHEDULER_CALLS_SECONDS; defaults 4 and 3); then the same
#   over HTTPS (https_scheduler_calls_per_s and the ratio) unless SCHEDULER_CALLS_TLS=0.
# With --agents N (issue 22: `--agents 50000`): the state at scale with emulated agents
#   instead (examples/state_bench.rs: three masters, `meso agent-emulator` with N agents of
#   STATE_TASKS_PER_AGENT (10) tasks re-registered after a leader kill): /master/state,
#   GET_STATE and SUBSCRIBE's first event on the leader, its RSS (master_rss_mb_<N>_agents).
#   Other arguments after --agents N go to state_bench (--runs R, --keep-dir PATH, --perf-dir DIR: one profiled call of each kind).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = --agents ]; then
  cargo build --release --locked --bin meso --example state_bench >&2
  exec target/release/examples/state_bench --meso target/release/meso \
    --tasks-per-agent "${STATE_TASKS_PER_AGENT:-10}" "$@"
fi
cargo build --release --locked -p meso-master --example master_state_bench --example scheduler_calls_bench
target/release/examples/master_state_bench "$@"
target/release/examples/scheduler_calls_bench "${SCHEDULER_CALLS_CONNECTIONS:-4}" "${SCHEDULER_CALLS_SECONDS:-3}" \
  "$([ "${SCHEDULER_CALLS_TLS:-1}" = 1 ] && echo tls || echo plain)"
