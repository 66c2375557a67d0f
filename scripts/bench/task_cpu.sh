#!/usr/bin/env bash
# Where a command task's CPU goes (issue 22: tasks_per_s against fork_exec_per_s). Starts a
# release master and agent on loopback, runs TASKS `true` command tasks through
# `tasks_bench`, and prints CPU milliseconds per task, read from /proc/PID/stat around the
# run (so the figures hold on a loaded machine, unlike wall-clock rates):
#   task_cpu_ms_master        the master's own CPU
#   task_cpu_ms_agent_own     the agent's own CPU (launch, sandbox, executor API, updates,
#                             destroy)
#   task_cpu_ms_agent_children  the processes the agent reaped: each task's executor (forked
#                             by the zygote as the agent's child), `sh -c` and the command
#   task_cpu_ms_zygote        the executor zygote's own CPU (reading each request, opening
#                             the sandbox's log files, the fork), read from its /proc stat:
#                             it lives as long as the agent, so it is never among the reaped
#   task_cpu_ms_total         the sum of the lines above (the framework's included)
#   task_cpu_ms_framework     the benchmark framework (user + system)
#   fork_exec_cpu_ms          baseline: CPU per `true` run by `xargs -P2` (fork_exec_per_s's
#                             processes)
# plus tasks_per_s of the run. Usage: scripts/bench/task_cpu.sh [TASKS (default 2000)];
# MESO_BIN=<path> measures a given binary; PERF_DATA=<file> also records the agent and
# every process it starts during the run with `perf record -g` into that file (profiling
# costs CPU: read the figures of such a run as perturbed).
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-2000}"
case "$N" in '' | *[!0-9]* | 0) echo "usage: $0 [TASKS]" >&2; exit 2 ;; esac
if [ -n "${MESO_BIN:-}" ]; then
  MESO="$(realpath "$MESO_BIN")"
else
  cargo build --release --locked --bin meso >&2
  MESO="$(realpath target/release/meso)"
fi
cargo build --release --locked -p meso-frameworks --example tasks_bench >&2
WORK="$(mktemp -d)"
MPORT=$((30000 + RANDOM % 5000))
APORT=$((MPORT + 1))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)
# utime + stime (fields 14, 15) and the reaped children's (16, 17), in ticks.
own() { awk '{print $14 + $15}' "/proc/$1/stat"; }
children() { awk '{print $16 + $17}' "/proc/$1/stat"; }
per_task() { echo "($2 - $1) * 1000 / $HZ / $N" | bc -l | xargs printf '%.3f'; }

"$MESO" master --port "$MPORT" --allocation-interval 100ms 2>"$WORK/master.log" &
M=$!
PIDS+=("$M")
sleep 0.5
"$MESO" agent --master "127.0.0.1:$MPORT" --port "$APORT" --work-dir "$WORK/agent" \
  --resources "cpus:8;mem:8192;disk:1024" 2>"$WORK/agent.log" &
A=$!
PIDS+=("$A")
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$MPORT/master/state" | grep -q '"activated_slaves":1' && break
  sleep 0.1
done
# The zygote: the agent's oldest `executor` child (started at the first launch; the
# executors it forks are the agent's children too, and younger).
zygote() { pgrep -o -P "$A" -f ' executor$' || true; }
if [ -n "${PERF_DATA:-}" ]; then
  perf record -q -g -o "$PERF_DATA" -p "$A" 2>"$WORK/perf.log" &
  PERF=$!
  sleep 1
fi
m0=$(own "$M"); a0=$(own "$A"); c0=$(children "$A")
/usr/bin/time -f "framework %U %S" -o "$WORK/time" \
  target/release/examples/tasks_bench --master "127.0.0.1:$MPORT" --tasks "$N" \
  --latency-samples 1 >"$WORK/bench.txt"
m1=$(own "$M"); a1=$(own "$A"); c1=$(children "$A")
Z=$(zygote)
z1=0
[ -n "$Z" ] && z1=$(own "$Z")
if [ -n "${PERF:-}" ]; then
  kill -INT "$PERF"
  wait "$PERF" || true
fi
grep '^tasks_per_s:' "$WORK/bench.txt"
echo "task_cpu_ms_master: $(per_task "$m0" "$m1") ms"
echo "task_cpu_ms_agent_own: $(per_task "$a0" "$a1") ms"
echo "task_cpu_ms_agent_children: $(per_task "$c0" "$c1") ms"
echo "task_cpu_ms_zygote: $(per_task 0 "$z1") ms"
read -r _ fu fs <"$WORK/time"
FW=$(echo "($fu + $fs) * 1000 / $N" | bc -l | xargs printf '%.3f')
echo "task_cpu_ms_framework: $FW ms"
TOTAL=$(echo "(($m1 - $m0) + ($a1 - $a0) + ($c1 - $c0) + $z1) * 1000 / $HZ / $N + $FW" | bc -l)
echo "task_cpu_ms_total: $(printf '%.3f' "$TOTAL") ms"
/usr/bin/time -f "%U %S" -o "$WORK/xargs" bash -c "seq $N | xargs -P2 -I{} true"
read -r xu xs <"$WORK/xargs"
echo "fork_exec_cpu_ms: $(echo "($xu + $xs) * 1000 / $N" | bc -l | xargs printf '%.3f') ms"
