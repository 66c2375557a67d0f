#!/usr/bin/env bash
# Lines of the batch framework (`meso batch`, issue 20: "written on the SDK, under 500 lines").
# Counts, per file, the code before the file's `#[cfg(test)]` module (our test modules sit
# at the end of each file), leaving out blank lines and comment lines (`//`, `///`, `//!`:
# docs included). The files are the framework itself (frameworks/src/batch/) and its
# command line (src/cli/batch.rs: flags, run, status). What the framework uses from the
# SDK (crate::tasks, stages, locality, packing, progress, driver) is not counted: any
# framework uses it. `--raw` also prints the plain `wc -l` of the same code, the count
# session 9 quoted (759 for frameworks/src/batch/ alone).
# Usage: scripts/batch-lines.sh [--raw]
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=(frameworks/src/batch/*.rs src/cli/batch.rs)
code() { awk '/^#\[cfg\(test\)\]/ { exit } { print }' "$1"; }
total=0; raw=0; raw_lib=0
for f in "${FILES[@]}"; do
  n=$(code "$f" | grep -cvE '^[[:space:]]*(//.*)?$' || true)
  r=$(code "$f" | wc -l)
  total=$((total + n)); raw=$((raw + r))
  [[ "$f" == frameworks/* ]] && raw_lib=$((raw_lib + r))
  if [ "${1:-}" = --raw ]; then printf '%5d %5d  %s\n' "$n" "$r" "$f"; else printf '%5d  %s\n' "$n" "$f"; fi
done
echo "batch_framework_lines: $total (non-blank, non-comment, no tests; target < 500)"
if [ "${1:-}" = --raw ]; then
  echo "raw lines before the tests: $raw ($raw_lib in frameworks/src/batch/)"
fi
