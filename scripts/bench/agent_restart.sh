#!/usr/bin/env bash
# Agent restart benchmark (issue 15): a release `meso master` and one `meso agent` on
# loopback, and a checkpointing framework (`long_tasks` example) keeping TASKS `sleep` tasks
# on it; then RESTARTS times: `kill -9` of the agent and a restart with the same flags.
# Prints `name: value unit` lines:
#   agent_restart_tasks_lost          tasks reported terminal to the framework, or whose
#                                     process is gone, at the end (target 0)
#   agent_recovery_ms_p50 / _max      restart of the agent process to the agent re-registered
#                                     with the master and every executor re-subscribed (its
#                                     task TASK_RUNNING on the agent again)
#   agent_restart_task_pids_changed   tasks whose process is not the one first started (each
#                                     task's shell records its pid once; target 0)
# Usage: scripts/bench/agent_restart.sh [TASKS (default 200)] [RESTARTS (default 20)]
# (PROFILE=debug runs the debug build, for a quick check of the script itself.)
set -euo pipefail
cd "$(dirname "$0")/../.."
TASKS="${1:-200}"
RESTARTS="${2:-20}"
PROFILE="${PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release --locked --bin meso >&2
  cargo build --release --locked -p meso-frameworks --example long_tasks >&2
else
  cargo build --locked --bin meso >&2
  cargo build --locked -p meso-frameworks --example long_tasks >&2
fi
MESO="$(realpath "target/$PROFILE/meso")"
LONG_TASKS="target/$PROFILE/examples/long_tasks"
WORK="$(mktemp -d)"
MPORT=$((20000 + RANDOM % 10000))
APORT=$((MPORT + 1))
MASTER_PID=""
AGENT_PID=""
FW_PID=""
cleanup() {
  for p in "$FW_PID" "$AGENT_PID" "$MASTER_PID"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  # The executors outlive their agent by design: end each one's session (its task too),
  # found in one pass over the process table.
  local sids
  sids=$(find "$WORK/agent/meta" -name forked.pid -exec tail -c +9 {} \; -exec echo \; 2>/dev/null | tr '\n' ' ')
  if [ -n "${sids// /}" ]; then
    ps -eo pid=,sid= | awk -v list="$sids" \
      'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) s[a[i]] = 1 } ($2 in s) { print $1 }' |
      xargs -r kill -9 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start_agent() {
  "$MESO" agent --master "127.0.0.1:$MPORT" --port "$APORT" --work-dir "$WORK/agent" \
    --resources "cpus:8;mem:8192;disk:1024" 2>"$WORK/agent-$1.log" &
  AGENT_PID=$!
}

# Waits (polling every 10 ms, hang guard 120 s) until `$1` holds.
wait_for() {
  local what="$1" i
  for i in $(seq 12000); do
    if eval "$2"; then return 0; fi
    sleep 0.01
  done
  echo "hang guard: $what" >&2
  exit 1
}

"$MESO" master --port "$MPORT" --allocation-interval 100ms 2>"$WORK/master.log" &
MASTER_PID=$!
wait_for "master up" 'curl -sf "http://127.0.0.1:$MPORT/master/health" >/dev/null'
start_agent 0
wait_for "agent registered" 'grep -q "registered" "$WORK/agent-0.log"'
mkdir -p "$WORK/pids"
"$LONG_TASKS" --master "127.0.0.1:$MPORT" --tasks "$TASKS" \
  --command "echo \$\$ >> $WORK/pids/\$MESO_TASK_ID; exec sleep 3600" >"$WORK/fw.log" &
FW_PID=$!
wait_for "$TASKS tasks running" 'grep -qx "running: $TASKS" "$WORK/fw.log"'

: >"$WORK/recovery_ms"
for i in $(seq "$RESTARTS"); do
  kill -9 "$AGENT_PID"
  wait "$AGENT_PID" 2>/dev/null || true
  t0=$(date +%s%N)
  start_agent "$i"
  LOG="$WORK/agent-$i.log"
  wait_for "restart $i: re-registered and $TASKS executors back" \
    'grep -q "re-registered" "$LOG" && [ "$(grep -c "executor subscribed" "$LOG")" -ge "$TASKS" ]'
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000)) >>"$WORK/recovery_ms"
done

lost=$(grep -c '^terminal:' "$WORK/fw.log" || true)
changed=0
for f in "$WORK"/pids/*; do
  lines=$(wc -l <"$f")
  [ "$lines" -gt 1 ] && changed=$((changed + 1))
  pid=$(tail -1 "$f")
  [ -d "/proc/$pid" ] || lost=$((lost + 1))
done
started=$(ls "$WORK/pids" | wc -l)
[ "$started" -lt "$TASKS" ] && lost=$((lost + TASKS - started))
sort -n "$WORK/recovery_ms" >"$WORK/sorted_ms"
n=$(wc -l <"$WORK/sorted_ms")
p50=$(sed -n "$(((n + 1) / 2))p" "$WORK/sorted_ms")
max=$(tail -1 "$WORK/sorted_ms")
echo "agent_restarts: $RESTARTS count"
echo "agent_restart_tasks: $TASKS count"
echo "agent_restart_tasks_lost: $lost count"
echo "agent_recovery_ms_p50: $p50 ms"
echo "agent_recovery_ms_max: $max ms"
echo "agent_restart_task_pids_changed: $changed count"
