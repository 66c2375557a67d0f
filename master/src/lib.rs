//! meso-master: the master's parts. The master process with its books, validation,
//! allocator actor (around the pure `meso_allocator` core) and registrar ([`master`]), the
//! Raft log that replicates the durable `meso_registry` state machine ([`raftlog`]), and
//! leadership ([`leadership`]): the master runs on the Raft leader, a stand-in elsewhere.
//!
//! Bounds (issue 22: nothing may grow without a limit over weeks of churn); each book's
//! bound and where it lives:
//! - registered agents, their offers, active tasks, allocator slots and filters: the
//!   cluster's size (an offer or a filter names a live agent and framework and goes with
//!   either; filters also expire, `meso_allocator::Allocator::expire_filters`);
//! - completed tasks: `--max-completed-tasks-per-framework` per framework
//!   (`master::tasks`), and forgotten with their framework when it leaves the completed
//!   frameworks, [`master::operator_state::MAX_COMPLETED_FRAMEWORKS`] (50; its times in
//!   `master::timeline` go too);
//! - removed framework ids refused on re-SUBSCRIBE:
//!   `master::framework_link::REMEMBERED_REMOVED_FRAMEWORKS` (1000);
//! - status history for the web UI: `master::status_history` (20,000 tasks x 16);
//! - operator SUBSCRIBE streams: `master::operator_events::MAX_SUBSCRIBERS`, each stream's
//!   queue and each scheduler stream's: `libprocess::http::STREAM_QUEUE_CHUNKS` (a stream
//!   that cannot keep up is dropped);
//! - every process's mailbox: `libprocess::Limits::mailbox_capacity` (65,536; the newest
//!   message is dropped past it), each peer's outbound queue `outbound_queue_bytes`
//!   (128 MiB), inbound connections `max_connections`;
//! - the Raft log: compacted into a snapshot every `snapshot_after_entries` applied entries (`raftlog::driver`);
//! - pending kills, unreachable tasks and the agent book's unreachable and gone ids: per
//!   agent that may return, dropped when it returns or is marked gone, and at the latest
//!   by registry GC (`master::registry_gc`, Mesos's `--registry_gc_interval` 15 min,
//!   `--registry_max_agent_age` 2 weeks, `--registry_max_agent_count` 102,400), which
//!   prunes the same agents from the registry's `unreachable` and `gone` lists;
//! - re-registrations in progress (`master::reregistering`): one id per agent whose
//!   registry write is outstanding, taken out by the write's answer;
//! - the log: the process's stderr, rotated by whoever runs it.

mod leader_info;
pub mod leadership;
pub mod master;
pub mod raftlog;

pub use master::registrar::{InMemoryRegistrar, Registrar};
pub use master::{Master, MasterConfig, MasterMessage};
