#!/usr/bin/env bash
# executor_rss_kb: resident memory of one built-in command executor (`meso executor`)
# running `sleep`, started by a real agent (meso-agent's executor_rss example), with the
# `sleep` process's own RSS as the same-run baseline. Also measures the crate's small
# `meso-executor` binary, which runs the same code.
set -euo pipefail
cd "$(dirname "$0")/../.."
# `meso` is built on its own, as `cargo build --release` builds it: built together with an
# example, dev-dependency features would be unified in, changing the symbol names that
# link/executor-symbol-order.txt lists (and so the code layout being measured).
cargo build -q --release --locked --bin meso
cargo build -q --release --locked -p meso-agent --bin meso-executor --example executor_rss
echo "# meso executor"
target/release/examples/executor_rss "$PWD/target/release/meso"
echo "# meso-executor"
target/release/examples/executor_rss "$PWD/target/release/meso-executor"
