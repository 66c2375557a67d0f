#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser reachable from the network, with libFuzzer
# (libfuzzer-sys) on the stable toolchain: rustc's sancov pass gives the coverage, so no
# nightly and no RUSTC_BOOTSTRAP are needed; libFuzzer itself is compiled from
# libfuzzer-sys's sources with the system C++ compiler (g++ or clang++).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds fuzz/ (its own workspace and target dir), then runs each target over its corpus
# fuzz/corpus/<target>/ (new inputs found are added there; commit the interesting ones)
# for SECONDS_PER_TARGET (default 10). Prints one line per target:
#   fuzz_execs_total <target> <executions> crashes=<n>
# and exits non-zero if any target crashed (the input is left in fuzz/artifacts/<target>/;
# turn it into a regression unit test in the crate that is fixed).
# FUZZ_SEED=N fixes libFuzzer's seed and FUZZ_RUNS=N replaces the time budget with a count
# of inputs per target: together they replay exactly the same inputs on any machine, fast or
# slow (CI sets both: a CI run must not fail by chance, and a time budget lets a faster
# machine wander further). Long campaigns leave them unset and explore.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-10}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frames http_request v1_calls recordio resources_attributes checkpoint raft_messages)
fi
export CARGO_INCREMENTAL=0
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
# An explicit --target keeps RUSTFLAGS (the instrumentation) off build scripts and proc
# macros, which are linked without libFuzzer.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --target "$host" "${bins[@]}" >&2
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="target/fuzz-$t.log"
  if [ -n "${FUZZ_RUNS:-}" ]; then budget=(-runs="$FUZZ_RUNS"); else budget=(-max_total_time="$secs"); fi
  if "target/$host/release/$t" "corpus/$t" "${budget[@]}" -rss_limit_mb=2048 \
      ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    crashes=0
  else
    crashes=1
    failed=1
    tail -n 30 "$log" >&2
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  echo "fuzz_execs_total $t ${execs:-0} crashes=$crashes"
done
exit $failed
