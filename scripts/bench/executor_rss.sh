#!/usr/bin/env bash
# executor_rss_kb: resident memory of one built-in command executor (`meso executor`)
# running `sleep`, started by a real agent (meso-agent's executor_rss example), with the
# `sleep` process's own RSS as the same-run baseline. Also measures the crate's small
# `meso-executor` binary, which runs the same code.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release --locked -p meso --bin meso -p meso-agent --bin meso-executor --example executor_rss
echo "# meso executor"
target/release/examples/executor_rss "$PWD/target/release/meso"
echo "# meso-executor"
target/release/examples/executor_rss "$PWD/target/release/meso-executor"
