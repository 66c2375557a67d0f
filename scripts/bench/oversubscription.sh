#!/usr/bin/env bash
# Oversubscription benchmark (issue 23): a synthetic business process whose CPU demand
# follows one slow wave from 10% to 90% of the machine and back, beside a meso agent
# harvesting the idle CPU with revocable `while true` tasks (resource estimator and QoS
# controller `load`, real cgroups: needs root). Each 10 s piece of the wave runs twice back
# to back, with the revocable tasks stopped ("alone") and running ("harvested"), so both
# see the same background load on a shared machine. Prints
#   harvested_idle_cpu_fraction  (target >= 0.7)
#   business_slowdown_pct        (target <= 5)
#   eviction_latency_ms_p99      (target <= 2000)
# and the counts behind them; see scripts/bench/oversubscription.py for the definitions.
# Usage: scripts/bench/oversubscription.sh [WAVE_SECONDS (default 300)] [SLOTS (default 4)]
# (PROFILE=debug runs the debug build.) The whole run takes about twice WAVE_SECONDS.
# Extra arguments go to scripts/bench/oversubscription.py (e.g. --window 20).
set -euo pipefail
cd "$(dirname "$0")/../.."
WAVE="${1:-300}"
SLOTS="${2:-4}"
PROFILE="${PROFILE:-release}"
if [ "$(id -u)" != 0 ]; then
  echo "oversubscription.sh: needs root (the agent creates cgroups)" >&2
  exit 2
fi
if [ "$PROFILE" = release ]; then
  cargo build --release --locked --bin meso >&2
else
  cargo build --locked --bin meso >&2
fi
exec python3 scripts/bench/oversubscription.py --meso "$(realpath "target/$PROFILE/meso")" \
  --duration "$WAVE" --slots "$SLOTS" "${@:3}"
