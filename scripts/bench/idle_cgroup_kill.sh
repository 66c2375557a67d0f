#!/usr/bin/env bash
# How long a SIGKILLed process in an idle cpu cgroup takes to die (issue 23's eviction
# latency), measured on the kernel alone (cgroups v1 `cpu`, needs root). A killed process
# must still be scheduled to run its exit; in a group with cpu.shares 2 and cpu.idle 1 (what
# `cgroups/cpu` makes `<root>_revocable`) it waits for CPU behind every other runnable task.
# Each round starts a busy loop in such a group, lets it run 1 s, SIGKILLs it and times until
# it is reaped, alternately
#   stay: left in the idle group (what a destroy did before `Isolation::evacuate`),
#   move: moved to the root `cpu` cgroup right after the kill (what `evacuate` does).
# Only differs from no-op on a busy machine: on an idle one both are milliseconds.
# Usage: scripts/bench/idle_cgroup_kill.sh [ROUNDS (default 4)]
set -euo pipefail
ROUNDS="${1:-4}"
if [ "$(id -u)" != 0 ]; then
  echo "idle_cgroup_kill.sh: needs root (it makes a cgroup)" >&2
  exit 2
fi
CPU=/sys/fs/cgroup/cpu
if [ ! -f "$CPU/cpu.shares" ]; then
  echo "idle_cgroup_kill.sh: needs the cgroups v1 cpu hierarchy at $CPU" >&2
  exit 2
fi
G="$CPU/meso-bench-idle-kill-$$"
mkdir "$G"
trap 'rmdir "$G" 2>/dev/null || true' EXIT
echo 2 > "$G/cpu.shares"
[ -f "$G/cpu.idle" ] && echo 1 > "$G/cpu.idle"
echo "# load $(cut -d' ' -f1-3 /proc/loadavg), cpu.idle $(cat "$G/cpu.idle" 2>/dev/null || echo n/a)"
for _ in $(seq "$ROUNDS"); do
  for mode in stay move; do
    sh -c 'while :; do :; done' &
    pid=$!
    echo "$pid" > "$G/cgroup.procs"
    sleep 1
    t0=$(date +%s%N)
    kill -KILL "$pid"
    if [ "$mode" = move ]; then
      echo "$pid" > "$CPU/cgroup.procs" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    t1=$(date +%s%N)
    echo "killed_to_reaped_ms_$mode: $(( (t1 - t0) / 1000000 ))"
  done
done
