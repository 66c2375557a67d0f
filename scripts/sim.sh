#!/usr/bin/env bash
# The deterministic whole-cluster simulator (crate `sim/`, issue 21): the production
# master, allocator, agents (simulated executors) and scheduler drivers in one thread on a
# simulated network, clock and disk, with seeded faults (master crashes, failed fsyncs and
# torn registry writes among them) and checkers.
#
#   scripts/sim.sh --seed N [--trace]    one seed; --trace prints its event trace (the
#                                        same bytes on every replay)
#   scripts/sim.sh --seed N --minimise   shrinks a failing seed's schedule (faults,
#                                        workload steps) to the smallest that still fails
#                                        the same checker; prints it and its replay command
#   scripts/sim.sh --seeds K [--first-seed S] [--jobs J]
#                                        a campaign (on J threads); prints sim_seeds_run,
#                                        sim_seeds_failed, sim_events_per_s and
#                                        sim_seconds_simulated_per_wall_second
#
# Cluster shape: --agents, --frameworks, --masters (1, or 3-7 on the production Raft
# registry; --raft-every K gives every K-th seed of a campaign 3), --duration-secs,
# --heal-secs, --no-faults;
# --only-faults/--only-steps keep part of a seed's schedule (see --help). A
# failing seed prints the exact command that replays it; the exit status is 1 when any
# seed failed. Built in release (SIM_PROFILE=dev for a debug build, SIM_PROFILE=sim for
# the opt-level 1 build CI uses). Agents' work
# directories go to /dev/shm unless MESO_SIM_WORK_DIR says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
profile="${SIM_PROFILE:-release}"
cargo build --quiet --profile "$profile" -p meso-sim --bin meso-sim
dir="$profile"
[ "$profile" = dev ] && dir=debug
exec "target/$dir/meso-sim" "$@"
