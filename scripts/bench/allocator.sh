#!/usr/bin/env bash
# Allocator benchmark (Mesos's DeclineOffers scenario on the allocator core): builds release
# and prints `name: value unit` lines. Pass --quick for a small, fast grid.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-allocator --example allocator_bench
exec target/release/examples/allocator_bench "$@"
