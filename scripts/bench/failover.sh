#!/usr/bin/env bash
# Registry and failover benchmarks (issue 7). Prints `name: value unit` lines.
# 1. The replicated registry's write latency and batched throughput
#    (master/examples/registry_bench.rs: three raft nodes in one OS process over loopback TCP,
#    fsync on). Arguments go to registry_bench (--quick for a short run, --dir PATH).
# 2. Failover (examples/failover_bench.rs): three release `meso master --peers` processes,
#    `meso agent-emulator` with FAILOVER_AGENTS (10000) agents of 10 tasks each; the leader is
#    killed with SIGKILL FAILOVER_KILLS (20) times: failover_ms_p50/_max (kill -9 -> a
#    surviving master answers a v1 scheduler SUBSCRIBE with SUBSCRIBED; the client follows
#    307s and retries 503s), failover_elected_ms_p50/_max (kill -9 -> the new
#    leader's `elected` log line) and reregister_ms_10k_agents (that log line -> the last
#    emulated agent re-registered with it). The emulator spreads its agents over 16
#    libprocess nodes, so they reach the masters over 16 connections. FAILOVER_KEEP_DIR=PATH keeps the masters' and emulator's logs.
#    FAILOVER_ANSWER_TIMEOUT (2secs): how long an emulated agent waits for an answer before
#    resending; the wait doubles per unanswered attempt up to FAILOVER_MAX_ANSWER_TIMEOUT
#    (1mins), as Mesos's agents back off. FAILOVER_MAX_ANSWER_TIMEOUT=2secs gives the fixed
#    2-3 s wait of earlier sessions (BENCHMARKS.md, Session 9: at 50,000 agents its resends
#    fill the leader's mailbox and the wave does not converge on a loaded machine).
#    The new leader's CPU time over each wave is printed beside the wall time.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p meso-master --example registry_bench >&2
cargo build --release --locked --bin meso --example failover_bench >&2
target/release/examples/registry_bench "$@"
exec target/release/examples/failover_bench --meso target/release/meso \
  --kills "${FAILOVER_KILLS:-20}" --agents "${FAILOVER_AGENTS:-10000}" \
  --tasks-per-agent "${FAILOVER_TASKS_PER_AGENT:-10}" \
  --answer-timeout "${FAILOVER_ANSWER_TIMEOUT:-2secs}" \
  --max-answer-timeout "${FAILOVER_MAX_ANSWER_TIMEOUT:-1mins}" \
  ${FAILOVER_KEEP_DIR:+--keep-dir "$FAILOVER_KEEP_DIR"}
