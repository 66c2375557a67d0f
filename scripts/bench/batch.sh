#!/usr/bin/env bash
# Batch framework benchmark (`meso batch run`, issue 20). Starts a release `meso master`
# (--allocation-interval 100ms) on loopback and prints `name: value unit` lines:
#   tasks_per_s         tasks_bench (scripts/bench/tasks.sh's framework): TASKS `true` tasks,
#                       32 in flight, on one agent (cpus:8;mem:8192)
#   batch_tasks_per_s   `meso batch run` of a one-stage job of TASKS `true` tasks
#                       (cpus:0.25;mem:32 each: 32 at once on that agent), start to exit
#   batch_ratio         batch_tasks_per_s / tasks_per_s (target >= 0.8)
#   locality_ratio_3s / _0s   a job of LOCALITY_TASKS `true` tasks, task i preferring
#                       node-(i mod 10), on 10 real agents node-0..node-9 (cpus:2;mem:2048 each,
#                       equal load): fraction run on their preferred agent with
#                       --locality-wait 3secs and 0secs
#   locality_gain       locality_ratio_3s / locality_ratio_0s (target >= 0.9)
#   locality_job_s_3s / _0s, locality_time_ratio   job times and their ratio (target <= 1.2)
# WAITS="0 3" runs the 0 s job first (order effects). Usage: [PROFILE=debug] [WAITS="3 0"] scripts/bench/batch.sh [TASKS (default 5000)] [LOCALITY_TASKS (default 1000)]
set -euo pipefail
cd "$(dirname "$0")/../.."
TASKS="${1:-5000}"
LTASKS="${2:-1000}"
# PROFILE=debug runs unoptimised builds (both frameworks alike) when a release build is
# out of reach.
PROFILE="${PROFILE:-release}"
FLAG=--release; [ "$PROFILE" = debug ] && FLAG=
cargo build $FLAG --locked --bin meso >&2
cargo build $FLAG --locked -p meso-frameworks --example tasks_bench >&2
MESO="$(realpath target/$PROFILE/meso)"
WORK="$(mktemp -d)"
MPORT=$((20000 + RANDOM % 10000))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$MESO" master --port "$MPORT" --allocation-interval 100ms 2>"$WORK/master.log" &
PIDS+=($!)
sleep 0.5
agents_up() {
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$MPORT/master/state" | grep -q "\"activated_slaves\":$1" && return 0
    sleep 0.1
  done
  echo "agents did not register" >&2; exit 1
}
start_agent() { # NAME RESOURCES
  "$MESO" agent --master "127.0.0.1:$MPORT" --port $((MPORT + 1 + $3)) --work-dir "$WORK/$1" \
    --hostname "$1" --resources "$2" 2>"$WORK/$1.log" &
  PIDS+=($!)
}
now() { date +%s.%N; }

# One agent: tasks_bench, then the batch job.
start_agent solo "cpus:8;mem:8192;disk:1024" 0
agents_up 1
target/$PROFILE/examples/tasks_bench --master "127.0.0.1:$MPORT" --tasks "$TASKS" --latency-samples 1 \
  > "$WORK/plain.txt"
tps=$(awk '$1 == "tasks_per_s:" {print $2}' "$WORK/plain.txt")
echo "tasks_per_s: $tps tasks/s"
python3 -c "import json,sys; print(json.dumps({'name': 'bench', 'stages': [{'name': 't', 'tasks': int(sys.argv[1]), 'command': 'true', 'resources': 'cpus:0.25;mem:32'}]}))" \
  "$TASKS" > "$WORK/job.json"
start=$(now)
"$MESO" batch run --master "127.0.0.1:$MPORT" "$WORK/job.json" > "$WORK/batch.txt" 2>&1
end=$(now)
bps=$(echo "$TASKS / ($end - $start)" | bc -l)
printf 'batch_tasks_per_s: %.1f tasks/s\n' "$bps"
printf 'batch_ratio: %.2f x\n' "$(echo "$bps / $tps" | bc -l)"
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true
# (the stopped agent is removed from the master after its timeout; count 10 new ones)

for i in $(seq 0 9); do start_agent "node-$i" "cpus:2;mem:2048;disk:1024" $((i + 1)); done
for _ in $(seq 300); do
  n=$(curl -sf "http://127.0.0.1:$MPORT/master/slaves" | grep -o '"hostname":"node-[0-9]"' | sort -u | wc -l || true)
  [ "$n" -ge 10 ] && break
  sleep 0.1
done
python3 -c "
import json, sys
n = int(sys.argv[1])
prefer = [{'hostname': 'node-%d' % h, 'tasks': [i for i in range(n) if i % 10 == h]} for h in range(10)]
print(json.dumps({'name': sys.argv[2], 'stages': [{'name': 't', 'tasks': n, 'command': 'true',
  'resources': 'cpus:0.25;mem:32', 'prefer': prefer}]}))" "$LTASKS" loc > "$WORK/loc.json"
declare -A RATIO TIME
for wait in ${WAITS:-3 0}; do
  start=$(now)
  "$MESO" batch run --master "127.0.0.1:$MPORT" --locality-wait "${wait}secs" "$WORK/loc.json" \
    > "$WORK/loc$wait.txt" 2>&1
  end=$(now)
  line=$(grep "ran on a preferred place" "$WORK/loc$wait.txt")
  on=$(echo "$line" | sed -E 's/.*; ([0-9]+) of ([0-9]+) with.*/\1/')
  of=$(echo "$line" | sed -E 's/.*; ([0-9]+) of ([0-9]+) with.*/\2/')
  RATIO[$wait]=$(echo "$on / $of" | bc -l)
  TIME[$wait]=$(echo "$end - $start" | bc -l)
  printf 'locality_ratio_%ss: %.3f fraction\n' "$wait" "${RATIO[$wait]}"
  printf 'locality_job_s_%ss: %.1f s\n' "$wait" "${TIME[$wait]}"
done
printf 'locality_gain: %.2f x\n' "$(echo "${RATIO[3]} / ${RATIO[0]}" | bc -l)"
printf 'locality_time_ratio: %.2f x\n' "$(echo "${TIME[3]} / ${TIME[0]}" | bc -l)"
