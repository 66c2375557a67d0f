#!/usr/bin/env bash
# Registry and failover benchmarks (issue 7). Prints `name: value unit` lines.
# Now: the replicated registry's write latency and batched throughput
# (master/examples/registry_bench.rs: three raft nodes in one OS process over loopback TCP,
# fsync on). failover_ms_* and reregister_ms_10k_agents join once the master runs on the log.
# Arguments go to registry_bench (--quick for a short run, --dir PATH for the stores' disk).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-master --example registry_bench
exec target/release/examples/registry_bench "$@"
