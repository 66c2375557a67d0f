//! The status update manager's core: reliable, ordered delivery of task status updates to the
//! framework, as Mesos's task status update manager.
//!
//! A pure state machine (no I/O, no clock reads: the caller passes `now` as a `Duration`
//! since its clock's epoch) wrapped by the agent. One stream per (framework, task):
//! - every update carries a 16-byte uuid; an update without one is refused;
//! - only the **head** of a stream is in flight; the next update is released when the head
//!   is acknowledged;
//! - an update whose uuid was already received or acknowledged is a duplicate and ignored;
//! - an acknowledgement that does not match the head (unexpected or duplicate) is ignored;
//! - the head is resent after [`RETRY_INTERVAL_MIN`], doubling up to [`RETRY_INTERVAL_MAX`];
//! - once a terminal update is acknowledged the stream is terminated and refuses more.
//!
//! While the agent is disconnected from the master the manager is paused: updates queue, no
//! retries are due, and [`StatusUpdateManager::resume`] hands back every stream's head.
//!
//! Checkpointing (frameworks with `checkpoint: true`): the agent asks
//! [`StatusUpdateManager::check_update`] / [`StatusUpdateManager::check_ack`] whether an
//! update is new or an ack matches the head, writes the record to the task's
//! `task.updates`, and only then applies it; after a restart [`recovery`] replays those
//! records into a paused manager, so the unacknowledged heads are resent on resume.
//!
//! Invariants: a stream's in-flight marker exists only when it has a head and the manager is
//! not paused; uuids in `received` are exactly the pending ones plus the acknowledged ones.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use meso_api::v1::{FrameworkId, TaskId, TaskState};
use meso_api::wire::StatusUpdate;

use crate::error::AgentError;

/// First resend of an unacknowledged update (Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MIN`).
pub const RETRY_INTERVAL_MIN: Duration = Duration::from_secs(10);
/// Longest wait between resends (Mesos's `STATUS_UPDATE_RETRY_INTERVAL_MAX`).
pub const RETRY_INTERVAL_MAX: Duration = Duration::from_secs(600);

/// Identifies a stream: the task within its framework.
pub type StreamKey = (FrameworkId, TaskId);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    due: Duration,
    interval: Duration,
}

#[derive(Debug, Default)]
struct Stream {
    pending: VecDeque<StatusUpdate>,
    received: HashSet<Vec<u8>>,
    terminated: bool,
    in_flight: Option<InFlight>,
    latest_state: Option<TaskState>,
}

/// What became of an update handed to [`StatusUpdateManager::update`].
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived return value, moved straight to the wire
pub enum UpdateOutcome {
    /// It is the stream's head: send it now (a copy with `latest_state` filled in).
    Forward(StatusUpdate),
    /// Queued behind the head (or the manager is paused).
    Queued,
    /// Its uuid was seen before; nothing changed.
    Duplicate,
}

/// What became of an acknowledgement.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived return value, moved straight to the wire
pub enum AckOutcome {
    /// The head was acknowledged; `next` is the new head to send, if any (and the manager
    /// is not paused). `terminal` tells whether the acknowledged update was terminal.
    Acknowledged {
        /// The new head to send now.
        next: Option<StatusUpdate>,
        /// The acknowledged update ended the task.
        terminal: bool,
    },
    /// No stream for the task, or the uuid is not the head's: ignored.
    Ignored,
}

/// Reliable per-task status update streams.
#[derive(Debug, Default)]
pub struct StatusUpdateManager {
    streams: BTreeMap<StreamKey, Stream>,
    paused: bool,
}

fn key_of(update: &StatusUpdate) -> StreamKey {
    (update.framework_id.clone(), update.status.task_id.clone())
}

impl StatusUpdateManager {
    /// An empty manager, not paused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `update` would be taken as new (`Ok(true)`: checkpoint it, then call
    /// [`Self::update`]), is a duplicate (`Ok(false)`), or is refused. Changes nothing.
    pub fn check_update(&self, update: &StatusUpdate) -> Result<bool, AgentError> {
        let refuse = |reason: String| AgentError::StatusUpdate {
            task_id: update.status.task_id.to_string(),
            reason,
        };
        let uuid = match &update.uuid {
            Some(u) if u.len() == 16 => u,
            Some(u) => return Err(refuse(format!("uuid must be 16 bytes, got {}", u.len()))),
            None => return Err(refuse("the update has no uuid".into())),
        };
        let Some(stream) = self.streams.get(&key_of(update)) else {
            return Ok(true);
        };
        if stream.received.contains(uuid) {
            return Ok(false);
        }
        if stream.terminated {
            return Err(refuse(format!(
                "the stream is terminated; {} arrived after the acknowledged terminal update",
                update.status.state
            )));
        }
        Ok(true)
    }

    /// Whether an acknowledgement of `uuid` matches the task's head (checkpoint it, then
    /// call [`Self::acknowledge`]). Changes nothing.
    pub fn check_ack(&self, framework_id: &FrameworkId, task_id: &TaskId, uuid: &[u8]) -> bool {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .and_then(|s| s.pending.front())
            .is_some_and(|head| head.uuid.as_deref() == Some(uuid))
    }

    /// Takes a new update. Refused (with an error naming the task) without a 16-byte uuid,
    /// or after the stream's terminal update was acknowledged.
    pub fn update(
        &mut self,
        update: StatusUpdate,
        now: Duration,
    ) -> Result<UpdateOutcome, AgentError> {
        let refuse = |reason: String| AgentError::StatusUpdate {
            task_id: update.status.task_id.to_string(),
            reason,
        };
        let uuid = match &update.uuid {
            Some(u) if u.len() == 16 => u.clone(),
            Some(u) => return Err(refuse(format!("uuid must be 16 bytes, got {}", u.len()))),
            None => return Err(refuse("the update has no uuid".into())),
        };
        let paused = self.paused;
        let stream = self.streams.entry(key_of(&update)).or_default();
        if stream.received.contains(&uuid) {
            return Ok(UpdateOutcome::Duplicate);
        }
        if stream.terminated {
            return Err(refuse(format!(
                "the stream is terminated; {} arrived after the acknowledged terminal update",
                update.status.state
            )));
        }
        stream.received.insert(uuid);
        stream.latest_state = Some(update.status.state);
        stream.pending.push_back(update);
        if stream.pending.len() == 1 && !paused {
            Ok(UpdateOutcome::Forward(start_head(stream, now)))
        } else {
            Ok(UpdateOutcome::Queued)
        }
    }

    /// Takes the framework's acknowledgement of `uuid` for a task.
    pub fn acknowledge(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: &[u8],
        now: Duration,
    ) -> AckOutcome {
        let key = (framework_id.clone(), task_id.clone());
        let Some(stream) = self.streams.get_mut(&key) else {
            return AckOutcome::Ignored;
        };
        let matches_head = stream
            .pending
            .front()
            .is_some_and(|head| head.uuid.as_deref() == Some(uuid));
        if !matches_head {
            return AckOutcome::Ignored;
        }
        let acked = stream
            .pending
            .pop_front()
            .expect("invariant: a matching head exists");
        stream.in_flight = None;
        let terminal = acked.status.state.is_terminal();
        if terminal {
            stream.terminated = true;
        }
        let next = if stream.pending.is_empty() || self.paused {
            None
        } else {
            Some(start_head(stream, now))
        };
        AckOutcome::Acknowledged { next, terminal }
    }

    /// Heads whose retry time has come, each marked with its next (doubled) interval.
    pub fn due(&mut self, now: Duration) -> Vec<StatusUpdate> {
        if self.paused {
            return Vec::new();
        }
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if let Some(flight) = stream.in_flight {
                if flight.due <= now {
                    let interval = (flight.interval * 2).min(RETRY_INTERVAL_MAX);
                    stream.in_flight = Some(InFlight {
                        due: now + interval,
                        interval,
                    });
                    out.push(head_with_latest(stream));
                }
            }
        }
        out
    }

    /// The earliest time a retry will be due, if any.
    pub fn next_due(&self) -> Option<Duration> {
        if self.paused {
            return None;
        }
        self.streams
            .values()
            .filter_map(|s| s.in_flight.map(|f| f.due))
            .min()
    }

    /// Stops sending (the master is unreachable): updates queue, retries stop.
    pub fn pause(&mut self) {
        self.paused = true;
        for stream in self.streams.values_mut() {
            stream.in_flight = None;
        }
    }

    /// Starts sending again: every stream's head, to send now.
    pub fn resume(&mut self, now: Duration) -> Vec<StatusUpdate> {
        self.paused = false;
        self.streams
            .values_mut()
            .filter(|s| !s.pending.is_empty())
            .map(|s| start_head(s, now))
            .collect()
    }

    /// Whether the manager is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Forgets a task's stream (its task and executor are gone).
    pub fn remove(&mut self, framework_id: &FrameworkId, task_id: &TaskId) {
        self.streams
            .remove(&(framework_id.clone(), task_id.clone()));
    }

    /// The state of the newest update received for a task.
    pub fn latest_state(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Option<TaskState> {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .and_then(|s| s.latest_state)
    }

    /// Updates not yet acknowledged for a task (head first).
    pub fn pending(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Vec<StatusUpdate> {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .map(|s| s.pending.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether a task's stream still has unacknowledged updates.
    pub fn has_pending(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .is_some_and(|s| !s.pending.is_empty())
    }

    /// Whether the task's terminal update has been acknowledged.
    pub fn is_terminated(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        self.streams
            .get(&(framework_id.clone(), task_id.clone()))
            .is_some_and(|s| s.terminated)
    }

    /// Every task with an update not yet acknowledged, with that update's state (the
    /// stream's head).
    pub fn unacknowledged(&self) -> Vec<(FrameworkId, TaskId, TaskState)> {
        self.streams
            .iter()
            .filter_map(|((f, t), s)| {
                s.pending
                    .front()
                    .map(|u| (f.clone(), t.clone(), u.status.state))
            })
            .collect()
    }

    /// Streams held.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }
}

fn start_head(stream: &mut Stream, now: Duration) -> StatusUpdate {
    stream.in_flight = Some(InFlight {
        due: now + RETRY_INTERVAL_MIN,
        interval: RETRY_INTERVAL_MIN,
    });
    head_with_latest(stream)
}

fn head_with_latest(stream: &Stream) -> StatusUpdate {
    let mut head = stream
        .pending
        .front()
        .expect("invariant: a stream in flight has a head")
        .clone();
    if stream.pending.len() > 1 {
        head.latest_state = stream.latest_state;
    }
    head
}

pub mod recovery;
#[cfg(test)]
mod tests;
