#!/usr/bin/env bash
# HTTP API benchmarks (issue 6). Prints `name: value unit` lines; a simple list of programs.
# master_state_ms_10k_agents_100k_tasks: GET /master/state over loopback HTTP from a real
# master holding 10,000 agents and 100,000 tasks (master/examples/master_state_bench.rs).
# Pass --quick for a small run.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-master --example master_state_bench
target/release/examples/master_state_bench "$@"
