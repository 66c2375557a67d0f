#!/usr/bin/env bash
# Soak benchmark (issue 22; examples/soak_bench.rs): three masters, 10,000 emulated agents
# plus 200 that leave and join every 2 minutes, 1,000 frameworks launching and killing tasks
# continuously, a leader kill every 10 minutes. Prints soak_tasks_launched, soak_tasks_lost
# (target 0), soak_master_rss_mb_start/_10min/_end and soak_offer_latency_ms_p99.
# Usage: soak.sh [--minutes N (60)] [other soak_bench flags: --agents, --frameworks,
# --tasks-per-framework, --task-life-secs, --churn-agents, --churn-every-secs,
# --kill-every-minutes, --keep-dir PATH].
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --bin meso --example soak_bench >&2
exec target/release/examples/soak_bench --meso target/release/meso "$@"
