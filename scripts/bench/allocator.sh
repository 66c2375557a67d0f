#!/usr/bin/env bash
# Allocator benchmark on the allocator core: builds release and prints `name: value unit`
# lines. allocation_round_ms_{10k,50k}_agents_1k_frameworks are the steady-state round with
# churn (per round: tasks end on 1% of the agents, 0.1% restart, half the offers declined
# with a 5 s filter), beside `_full` (every agent walked, same run); `_decline_offers` is
# Mesos's DeclineOffers scenario. Pass --quick for a small, fast grid, --only LABEL for one.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-allocator --example allocator_bench
exec target/release/examples/allocator_bench "$@"
