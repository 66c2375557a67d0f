#!/usr/bin/env bash
# Why a revocable container's low cpu.shares did not protect the host's processes (issue
# 23), measured on the kernel alone (cgroups v1 `cpu`/`cpuacct`, needs root): one busy loop
# per core in the root cgroup (the "business", as host processes are) against two busy
# loops per core in a container cgroup with cpu.shares 2, the container placed
#   nested: under a parent with the default shares 1024 (the cgroups root `meso` before
#           this session: weights count only among siblings, so the parent competes with
#           the host's processes at 1024),
#   sibling: under `<root>_revocable`, a sibling of the cgroups root with cpu.shares 2 and
#           cpu.idle 1 (what `cgroups/cpu` does now for revocable containers).
# The two layouts alternate ROUNDS times (SECONDS_EACH each) so both see the same
# background load. Prints, per layout, the business's and the container's CPU seconds.
# Usage: scripts/bench/revocable_cpu_weight.sh [ROUNDS (default 3)] [SECONDS_EACH (default 10)]
set -euo pipefail
ROUNDS="${1:-3}"
EACH="${2:-10}"
CORES="$(nproc)"
HZ="$(getconf CLK_TCK)"
if [ "$(id -u)" != 0 ]; then
  echo "revocable_cpu_weight.sh: needs root (it makes cgroups)" >&2
  exit 2
fi
NAME="meso-bench-weight-$$"
CPU=/sys/fs/cgroup/cpu
ACCT=/sys/fs/cgroup/cpuacct
cleanup() {
  for d in "$CPU/$NAME/c" "$CPU/$NAME" "$CPU/${NAME}_revocable/c" "$CPU/${NAME}_revocable" \
    "$ACCT/$NAME/c" "$ACCT/$NAME"; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
  done
}
trap cleanup EXIT

# run LAYOUT: prints "business_cpu_secs container_cpu_secs" for one window.
run() {
  local parent="$1" pids=() business=() usage0 usage1 b=0
  mkdir -p "$CPU/$parent/c" "$ACCT/$NAME/c"
  echo 2 > "$CPU/$parent/c/cpu.shares"
  if [ "$parent" = "${NAME}_revocable" ] && [ "$(cat "$CPU/$parent/cpu.idle" 2>/dev/null)" != 1 ]; then
    echo 2 > "$CPU/$parent/cpu.shares"
    [ -e "$CPU/$parent/cpu.idle" ] && echo 1 > "$CPU/$parent/cpu.idle"
  fi
  usage0="$(cat "$ACCT/$NAME/c/cpuacct.usage")"
  for _ in $(seq $((2 * CORES))); do
    sh -c "echo \$\$ > $CPU/$parent/c/cgroup.procs; echo \$\$ > $ACCT/$NAME/c/cgroup.procs; \
      exec sh -c 'while :; do :; done'" &
    pids+=("$!")
  done
  for _ in $(seq "$CORES"); do
    sh -c 'while :; do :; done' &
    business+=("$!")
  done
  sleep "$EACH"
  for p in "${business[@]}"; do
    b=$((b + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  usage1="$(cat "$ACCT/$NAME/c/cpuacct.usage")"
  kill "${pids[@]}" "${business[@]}"
  wait "${pids[@]}" "${business[@]}" 2>/dev/null || true
  awk -v b="$b" -v hz="$HZ" -v u0="$usage0" -v u1="$usage1" \
    'BEGIN { printf "%.2f %.2f\n", b / hz, (u1 - u0) / 1e9 }'
}

declare -A bsum csum
for layout in nested sibling; do bsum[$layout]=0; csum[$layout]=0; done
for _ in $(seq "$ROUNDS"); do
  for layout in nested sibling; do
    parent="$NAME"
    [ "$layout" = sibling ] && parent="${NAME}_revocable"
    read -r b c < <(run "$parent")
    bsum[$layout]="$(awk -v x="${bsum[$layout]}" -v y="$b" 'BEGIN { print x + y }')"
    csum[$layout]="$(awk -v x="${csum[$layout]}" -v y="$c" 'BEGIN { print x + y }')"
    rmdir "$CPU/$parent/c"
  done
done
for layout in nested sibling; do
  echo "${layout}_business_cpu_secs: ${bsum[$layout]} s"
  echo "${layout}_container_cpu_secs: ${csum[$layout]} s"
done
awk -v n="${bsum[nested]}" -v s="${bsum[sibling]}" -v cn="${csum[nested]}" -v cs="${csum[sibling]}" 'BEGIN {
  printf "container_share_of_cpu_nested: %.3f\n", cn / (n + cn)
  printf "container_share_of_cpu_sibling: %.3f\n", cs / (s + cs)
}'
echo "# $(nproc) cores, $ROUNDS rounds of ${EACH} s per layout; load: $(cut -d' ' -f1-3 /proc/loadavg)"
