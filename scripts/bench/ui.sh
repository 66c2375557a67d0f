#!/usr/bin/env bash
# Web UI benchmark (issue 18; examples/ui_bench.rs). Prints `name: value unit` lines:
# ui_first_view_ms_p50/_max (cold load of `/` in headless Chromium to the overview
# rendered, over UI_LOADS (5) fresh browser sessions) and ui_idle_bytes_per_min /
# ui_idle_requests_per_min (what the open overview reads from an idle cluster over
# UI_IDLE_SECS (60) seconds, from Chromium's network log), against one release master
# with `meso agent-emulator`: UI_AGENTS (10000) agents of UI_TASKS_PER_AGENT (10) tasks.
# Needs Debian's chromium and chromium-driver.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --bin meso --example ui_bench >&2
exec "$target/release/examples/ui_bench" --meso "$target/release/meso" \
  --agents "${UI_AGENTS:-10000}" --tasks-per-agent "${UI_TASKS_PER_AGENT:-10}" \
  --loads "${UI_LOADS:-5}" --idle-secs "${UI_IDLE_SECS:-60}"
