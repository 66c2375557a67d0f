#!/usr/bin/env bash
# libprocess throughput and latency beside raw baselines measured in the same run.
# Prints `name: value unit` lines; extra flags go to the benchmark (see --help).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked --release -p libprocess --example lp_bench >&2
exec target/release/examples/lp_bench "$@"
