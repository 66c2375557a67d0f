//! meso-sim: a whole meso cluster in one deterministic simulation (issue 21).
//!
//! One process, one thread, one seed. The production `Master` (with its allocator
//! process), real `Agent`s and real scheduler drivers run on libprocess nodes whose seams
//! the simulator owns: one paused `TestClock` it advances itself, a simulated network
//! ([`net`]) that carries every frame and HTTP byte with seeded delays, drops and
//! partitions, node rngs seeded from the run's seed, and a tokio current-thread runtime
//! with no I/O or timer driver ([`exec`]). Agents run a simulated containerizer
//! ([`host`]) whose executors are the real executor driver running seeded tasks.
//! Frameworks run a seeded workload ([`workload`]). The master runs on a seat
//! ([`masters`]) that crashes and restarts it; its registry is the production registry state
//! machine over a log ([`registrar`]) on a simulated disk ([`disk`]) the world owns, with
//! fsync failures and torn writes; with `--masters 3` or 5 the masters run the production
//! Raft registry and `MasterHost` instead ([`raft_seats`]), their Raft stores on simulated
//! disks ([`raftstore`]). Faults and workload steps are on an
//! [`agenda`]. [`checkers`] read the actors' books and the machines' truth. [`world`] is
//! one run; the `meso-sim` binary (`scripts/sim.sh`) runs one seed or a campaign (on
//! `--jobs` threads, one seed per thread at a time). A [`plan`] keeps part of a seed's
//! schedule, and the [`minimise`]r uses it to shrink a failing seed to what still fails.
//!
//! Invariant: a run is a function of its [`world::SimConfig`]: the same seed gives the
//! same trace ([`trace`]) byte for byte. Anything that breaks that (a hash map's order, a
//! real clock, a thread) is a bug to fix where it lives.

pub mod agenda;
pub mod checkers;
pub mod disk;
pub mod exec;
pub mod host;
pub mod masters;
pub mod minimise;
pub mod net;
pub mod plan;
pub mod raft_seats;
pub mod raftstore;
pub mod registrar;
pub mod rng;
pub mod trace;
pub mod workload;
pub mod world;

pub use world::{run, Outcome, SimConfig};
