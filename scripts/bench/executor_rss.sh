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
# How much of the executor's function list the binary still matches: a stale list (see
# scripts/executor-symbol-order.sh) shows here first, as fewer functions in the block.
grep -v '^#' link/executor-symbol-order.txt | sort -u >"${TMPDIR:-/tmp}/executor-order.$$"
matched=$(nm --defined-only target/release/meso | awk '{print $3}' | sort -u |
  comm -12 - "${TMPDIR:-/tmp}/executor-order.$$" | wc -l)
echo "executor_symbol_order_matched: $matched of $(wc -l <"${TMPDIR:-/tmp}/executor-order.$$") functions"
rm -f "${TMPDIR:-/tmp}/executor-order.$$"
target/release/examples/executor_rss "$PWD/target/release/meso"
echo "# meso executor, forked by the executor zygote of meso agent's default containerizer"
target/release/examples/executor_rss "$PWD/target/release/meso" --zygote
echo "# meso-executor"
target/release/examples/executor_rss "$PWD/target/release/meso-executor"
