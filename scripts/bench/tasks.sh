#!/usr/bin/env bash
# Task benchmark: starts a release `meso master` and one `meso agent` on loopback, then prints
# `name: value unit` lines:
#   fork_exec_per_s     baseline: the same number of `true` processes run by `xargs -P2`
#   tasks_per_s         command tasks running `true`, launched and finished through the agent
#   launch_latency_ms_p50/_p99   ACCEPT sent to TASK_RUNNING received, one task at a time
#   tasks_per_s_checkpointed    tasks_per_s for a framework with `checkpoint` (the agent
#                       writes and fsyncs each task and status update under `meta/`)
#   executor_rss_kb     resident memory of one `meso executor` running `sleep`
#   tasks_per_s_cgroups      tasks_per_s with `--isolation cgroups/cpu,cgroups/mem` (root only)
#   isolate_overhead_ms_p50  launch_latency_ms_p50 with those cgroups minus without (root only)
# Usage: scripts/bench/tasks.sh [--repeat N [--drop-caches]] [TASKS (default 2000)] [LATENCY_SAMPLES (default 100)]
#   --repeat N   the whole benchmark N times back to back, each with a fresh master, agent and
#                work dir (as a user running it N times would); prints every run's lines
#                prefixed `run K`, then per run `tasks_per_s_run_K` and `fork_exec_per_s_run_K`,
#                and `tasks_per_s_last_over_first` (target >= 0.9: no fall run after run).
#   --drop-caches  with --repeat, `sync; echo 3 > /proc/sys/vm/drop_caches` before each run
#                (root), to compare a cold page/buffer cache with back-to-back warm runs.
# MESO_BIN (environment): the `meso` binary to measure instead of building this tree's
# (to compare two builds on the same machine state).
# CHECKPOINTED_TASKS (environment, default TASKS): the checkpointed run's task count (it
# fsyncs per task, slow on a disk other work keeps busy).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = --repeat ]; then
  REPEAT="${2:?--repeat needs a count}"
  shift 2
  case "$REPEAT" in '' | *[!0-9]* | 0) echo "--repeat needs a positive count, not '$REPEAT'" >&2; exit 2 ;; esac
  DROP=0
  if [ "${1:-}" = --drop-caches ]; then
    DROP=1
    shift
    if [ ! -w /proc/sys/vm/drop_caches ]; then
      echo "--drop-caches needs root (cannot write /proc/sys/vm/drop_caches)" >&2
      exit 2
    fi
  fi
  OUT="$(mktemp)"
  trap 'rm -f "$OUT" "$OUT.all"' EXIT
  for k in $(seq "$REPEAT"); do
    if [ "$DROP" = 1 ]; then
      sync
      echo 3 >/proc/sys/vm/drop_caches
      echo "run $k: caches dropped" >&2
    fi
    echo "run $k: $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    bash "$0" "$@" >"$OUT"
    sed "s/^/run $k: /" "$OUT" >&2
    TPS=$(awk '$1 == "tasks_per_s:" {print $2}' "$OUT")
    FPS=$(awk '$1 == "fork_exec_per_s:" {print $2}' "$OUT")
    echo "tasks_per_s_run_$k: $TPS tasks/s"
    echo "fork_exec_per_s_run_$k: $FPS processes/s"
    echo "tasks_per_s_over_fork_exec_run_$k: $(echo "$TPS / $FPS" | bc -l | xargs printf '%.2f') ratio"
    echo "$TPS" >>"$OUT.all"
  done
  FIRST=$(head -1 "$OUT.all")
  LAST=$(tail -1 "$OUT.all")
  rm -f "$OUT.all"
  echo "tasks_per_s_last_over_first: $(echo "$LAST / $FIRST" | bc -l | xargs printf '%.2f') ratio"
  exit 0
fi
TASKS="${1:-2000}"
SAMPLES="${2:-100}"
case "$TASKS$SAMPLES" in *[!0-9]*) echo "usage: $0 [--repeat N] [TASKS] [LATENCY_SAMPLES]" >&2; exit 2 ;; esac
if [ -n "${MESO_BIN:-}" ]; then
  MESO="$MESO_BIN"
else
  cargo build --release --locked --bin meso >&2
  MESO=target/release/meso
fi
cargo build --release --locked -p meso-frameworks --example tasks_bench >&2
WORK="$(mktemp -d)"
MPORT=$((20000 + RANDOM % 10000))
APORT=$((MPORT + 1))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # A stopped agent leaves checkpointed executors running (for its next start): after an
  # interrupted run, end their sessions, found in one pass over the process table.
  local sids
  sids=$(find "$WORK" -name forked.pid -exec tail -c +9 {} \; -exec echo \; 2>/dev/null | tr '\n' ' ')
  if [ -n "${sids// /}" ]; then
    ps -eo pid=,sid= | awk -v list="$sids" \
      'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) s[a[i]] = 1 } ($2 in s) { print $1 }' |
      xargs -r kill -9 2>/dev/null || true
  fi
  rm -rf "$WORK"
  for d in /sys/fs/cgroup/*/"meso-bench-$$"; do rmdir "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

start=$(date +%s.%N)
seq "$TASKS" | xargs -P2 -I{} true
end=$(date +%s.%N)
echo "fork_exec_per_s: $(echo "$TASKS / ($end - $start)" | bc -l | xargs printf '%.1f') processes/s"

MESO="$(realpath "$MESO")"
"$MESO" master --port "$MPORT" --allocation-interval 100ms 2>"$WORK/master.log" &
PIDS+=($!)
sleep 0.5
"$MESO" agent --master "127.0.0.1:$MPORT" --port "$APORT" --work-dir "$WORK/agent" \
  --resources "cpus:8;mem:8192;disk:1024" 2>"$WORK/agent.log" &
PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$MPORT/master/state" | grep -q '"activated_slaves":1' && break
  sleep 0.1
done

target/release/examples/tasks_bench --master "127.0.0.1:$MPORT" --tasks "$TASKS" --latency-samples "$SAMPLES" \
  | tee "$WORK/plain.txt"
target/release/examples/tasks_bench --master "127.0.0.1:$MPORT" --tasks "${CHECKPOINTED_TASKS:-$TASKS}" --latency-samples 1 \
  --checkpoint true >"$WORK/checkpointed.txt"
echo "tasks_per_s_checkpointed: $(awk '$1 == "tasks_per_s:" {print $2}' "$WORK/checkpointed.txt") tasks/s"

# One executor running `sleep`, measured once it is up.
"$MESO" execute --master "127.0.0.1:$MPORT" --name rss --command "sleep 30" >"$WORK/rss.log" 2>&1 &
EXEC=$!
PIDS+=($EXEC)
for _ in $(seq 100); do grep -q TASK_RUNNING "$WORK/rss.log" && break; sleep 0.1; done
# Only this run's binary (other `meso executor`s on the machine are not ours to measure),
# and only an executor in a sandbox of this run's agent: the agent's executor zygote runs
# `meso executor` too, in the agent's directory.
RSS=""
while read -r pid rss exe sub; do
  if [ "$exe" = "$(realpath "$MESO")" ] && [ "$sub" = executor ] &&
    [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$WORK"/* ]]; then
    RSS=$rss
    break
  fi
done < <(ps -eo pid=,rss=,args=)
echo "executor_rss_kb: ${RSS:-unknown} kB"
kill -INT "$EXEC" 2>/dev/null || true
wait "$EXEC" 2>/dev/null || true

# The same tasks in cgroups (cpu and memory controllers), on a fresh master and agent.
if [ "$(id -u)" != 0 ]; then
  echo "tasks_per_s_cgroups: skipped (needs root) n/a"
  exit 0
fi
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=()
MPORT=$((MPORT + 2))
APORT=$((MPORT + 1))
"$MESO" master --port "$MPORT" --allocation-interval 100ms 2>"$WORK/master-cgroups.log" &
PIDS+=($!)
sleep 0.5
"$MESO" agent --master "127.0.0.1:$MPORT" --port "$APORT" --work-dir "$WORK/agent-cgroups" \
  --resources "cpus:8;mem:8192;disk:1024" --isolation cgroups/cpu,cgroups/mem \
  --cgroups-root "meso-bench-$$" 2>"$WORK/agent-cgroups.log" &
PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$MPORT/master/state" | grep -q '"activated_slaves":1' && break
  sleep 0.1
done
target/release/examples/tasks_bench --master "127.0.0.1:$MPORT" --tasks "$TASKS" \
  --latency-samples "$SAMPLES" >"$WORK/cgroups.txt"
value() { awk -v k="$1:" '$1 == k {print $2}' "$2"; }
echo "tasks_per_s_cgroups: $(value tasks_per_s "$WORK/cgroups.txt") tasks/s"
echo "tasks_not_finished_cgroups: $(value tasks_not_finished "$WORK/cgroups.txt") count"
P50_PLAIN=$(value launch_latency_ms_p50 "$WORK/plain.txt")
P50_CGROUPS=$(value launch_latency_ms_p50 "$WORK/cgroups.txt")
echo "isolate_overhead_ms_p50: $(echo "$P50_CGROUPS - $P50_PLAIN" | bc -l | xargs printf '%.2f') ms"
