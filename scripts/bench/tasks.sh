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
# Usage: scripts/bench/tasks.sh [TASKS (default 2000)] [LATENCY_SAMPLES (default 100)]
set -euo pipefail
cd "$(dirname "$0")/../.."
TASKS="${1:-2000}"
SAMPLES="${2:-100}"
cargo build --release --locked --bin meso >&2
cargo build --release --locked -p meso-frameworks --example tasks_bench >&2
MESO=target/release/meso
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
target/release/examples/tasks_bench --master "127.0.0.1:$MPORT" --tasks "$TASKS" --latency-samples 1 \
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
