//! The executor's side of the v1 executor API as a pure state machine: which calls to
//! send and what each event means for the executor, with no I/O.
//!
//! It keeps what Mesos's executor library keeps to survive an agent restart: the updates
//! sent and not yet acknowledged (oldest first) and the tasks launched that no acknowledged
//! update has covered yet. Both go into the next SUBSCRIBE, so a restarted agent takes them
//! again. An ACKNOWLEDGED event drops its update (by uuid) and its task.
//!
//! Invariant: every update the session hands out for sending has a 16-byte uuid, the
//! executor's id and `SOURCE_EXECUTOR`, and stays in the unacknowledged list until the
//! agent acknowledges exactly that uuid.

use std::collections::BTreeMap;

use meso_api::v1::executor::{
    Call, CallType, Event, EventType, Message, Subscribe, Subscribed, UnacknowledgedUpdate, Update,
};
use meso_api::v1::{ExecutorId, FrameworkId, KillPolicy, TaskGroupInfo, TaskId, TaskInfo};
use meso_api::v1::{TaskStatus, TaskStatusSource};

/// What an event asks of the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The first SUBSCRIBED.
    Registered(Box<Subscribed>),
    /// SUBSCRIBED after a re-subscription.
    Reregistered(Box<Subscribed>),
    /// LAUNCH.
    Launch(Box<TaskInfo>),
    /// LAUNCH_GROUP.
    LaunchGroup(Box<TaskGroupInfo>),
    /// KILL.
    Kill(TaskId, Option<KillPolicy>),
    /// MESSAGE from the scheduler.
    Message(Vec<u8>),
    /// SHUTDOWN.
    Shutdown,
    /// ERROR.
    Error(String),
    /// Nothing for the executor (HEARTBEAT, ACKNOWLEDGED, an unknown event).
    Nothing,
}

/// A status the session refuses to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The uuid is missing or not 16 bytes.
    #[error("a status update needs a 16-byte uuid")]
    Uuid,
    /// TASK_STAGING is the agent's state, never an executor's.
    #[error("an executor may not send TASK_STAGING")]
    Staging,
}

/// The session state (see the module docs).
#[derive(Debug, Clone)]
pub struct Session {
    framework_id: FrameworkId,
    executor_id: ExecutorId,
    subscribed_once: bool,
    connected: bool,
    updates: Vec<Update>,
    tasks: BTreeMap<TaskId, TaskInfo>,
}

impl Session {
    /// A session of executor `executor_id` of framework `framework_id`.
    pub fn new(framework_id: FrameworkId, executor_id: ExecutorId) -> Self {
        Session {
            framework_id,
            executor_id,
            subscribed_once: false,
            connected: false,
            updates: Vec::new(),
            tasks: BTreeMap::new(),
        }
    }

    fn call(&self, kind: CallType) -> Call {
        Call {
            executor_id: self.executor_id.clone(),
            framework_id: self.framework_id.clone(),
            kind,
            subscribe: None,
            update: None,
            message: None,
        }
    }

    /// The SUBSCRIBE call, listing what is unacknowledged.
    pub fn subscribe(&self) -> Call {
        let mut call = self.call(CallType::Subscribe);
        call.subscribe = Some(Subscribe {
            unacknowledged_tasks: self.tasks.values().cloned().collect(),
            unacknowledged_updates: self
                .updates
                .iter()
                .map(|u| UnacknowledgedUpdate {
                    status: u.status.clone(),
                })
                .collect(),
        });
        call
    }

    /// The UPDATE call for `status` (given its uuid), remembered until acknowledged.
    pub fn update(&mut self, mut status: TaskStatus) -> Result<Call, UpdateError> {
        if status.uuid.as_ref().map(Vec::len) != Some(16) {
            return Err(UpdateError::Uuid);
        }
        if status.state == meso_api::v1::TaskState::Staging {
            return Err(UpdateError::Staging);
        }
        status.executor_id = Some(self.executor_id.clone());
        status.source = Some(TaskStatusSource::Executor);
        let update = Update { status };
        self.updates.push(update.clone());
        let mut call = self.call(CallType::Update);
        call.update = Some(update);
        Ok(call)
    }

    /// The MESSAGE call carrying `data` to the scheduler.
    pub fn message(&self, data: Vec<u8>) -> Call {
        let mut call = self.call(CallType::Message);
        call.message = Some(Message { data });
        call
    }

    /// Takes one event from the agent.
    pub fn event(&mut self, event: Event) -> Delivery {
        match event.kind {
            EventType::Subscribed => {
                let Some(subscribed) = event.subscribed else {
                    return Delivery::Error("SUBSCRIBED event without 'subscribed'".into());
                };
                self.connected = true;
                if std::mem::replace(&mut self.subscribed_once, true) {
                    Delivery::Reregistered(Box::new(subscribed))
                } else {
                    Delivery::Registered(Box::new(subscribed))
                }
            }
            EventType::Launch => match event.launch {
                Some(launch) => {
                    self.tasks
                        .insert(launch.task.task_id.clone(), launch.task.clone());
                    Delivery::Launch(Box::new(launch.task))
                }
                None => Delivery::Error("LAUNCH event without 'launch'".into()),
            },
            EventType::LaunchGroup => match event.launch_group {
                Some(group) => {
                    for task in &group.task_group.tasks {
                        self.tasks.insert(task.task_id.clone(), task.clone());
                    }
                    Delivery::LaunchGroup(Box::new(group.task_group))
                }
                None => Delivery::Error("LAUNCH_GROUP event without 'launch_group'".into()),
            },
            EventType::Kill => match event.kill {
                Some(kill) => Delivery::Kill(kill.task_id, kill.kill_policy),
                None => Delivery::Error("KILL event without 'kill'".into()),
            },
            EventType::Acknowledged => {
                if let Some(ack) = event.acknowledged {
                    self.updates
                        .retain(|u| u.status.uuid.as_ref() != Some(&ack.uuid));
                    self.tasks.remove(&ack.task_id);
                }
                Delivery::Nothing
            }
            EventType::Message => {
                Delivery::Message(event.message.map(|m| m.data).unwrap_or_default())
            }
            EventType::Shutdown => Delivery::Shutdown,
            EventType::Error => Delivery::Error(
                event
                    .error
                    .map(|e| e.message)
                    .unwrap_or_else(|| "ERROR event without a message".into()),
            ),
            _ => Delivery::Nothing,
        }
    }

    /// The event stream broke; true when it had been subscribed (the executor is told
    /// `disconnected` once per break).
    pub fn disconnected(&mut self) -> bool {
        std::mem::replace(&mut self.connected, false)
    }

    /// Subscribed and the stream is open.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Updates sent and not yet acknowledged.
    pub fn unacknowledged_updates(&self) -> usize {
        self.updates.len()
    }

    /// Tasks launched that no acknowledged update has covered.
    pub fn unacknowledged_tasks(&self) -> usize {
        self.tasks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::executor::{Acknowledged, Launch};
    use meso_api::v1::{AgentId, TaskState};
    use proptest::prelude::*;

    fn session() -> Session {
        Session::new(FrameworkId::new("fw"), ExecutorId::new("ex"))
    }

    fn launch(id: &str) -> Event {
        let mut e = Event::new(EventType::Launch);
        e.launch = Some(Launch {
            task: TaskInfo::command(id, AgentId::new("a"), "true"),
        });
        e
    }

    fn status(id: &str, state: TaskState, uuid: u8) -> TaskStatus {
        let mut s = TaskStatus::new(TaskId::new(id), state);
        s.uuid = Some(vec![uuid; 16]);
        s
    }

    fn ack(id: &str, uuid: u8) -> Event {
        let mut e = Event::new(EventType::Acknowledged);
        e.acknowledged = Some(Acknowledged {
            task_id: TaskId::new(id),
            uuid: vec![uuid; 16],
        });
        e
    }

    #[test]
    fn resubscription_carries_what_is_unacknowledged() {
        let mut s = session();
        assert!(matches!(s.event(launch("t1")), Delivery::Launch(_)));
        let call = s.update(status("t1", TaskState::Running, 1)).unwrap();
        let sent = call.update.unwrap().status;
        assert_eq!(sent.source, Some(TaskStatusSource::Executor));
        assert_eq!(sent.executor_id, Some(ExecutorId::new("ex")));
        let sub = s.subscribe().subscribe.unwrap();
        assert_eq!(sub.unacknowledged_tasks.len(), 1);
        assert_eq!(sub.unacknowledged_updates.len(), 1);
        s.event(ack("t1", 1));
        let sub = s.subscribe().subscribe.unwrap();
        assert!(sub.unacknowledged_tasks.is_empty());
        assert!(sub.unacknowledged_updates.is_empty());
    }

    #[test]
    fn bad_updates_are_refused_and_not_remembered() {
        let mut s = session();
        let mut no_uuid = status("t", TaskState::Running, 0);
        no_uuid.uuid = None;
        assert_eq!(s.update(no_uuid).unwrap_err(), UpdateError::Uuid);
        assert_eq!(
            s.update(status("t", TaskState::Staging, 1)).unwrap_err(),
            UpdateError::Staging
        );
        assert_eq!(s.unacknowledged_updates(), 0);
    }

    #[test]
    fn the_second_subscribed_is_a_reregistration() {
        let mut s = session();
        let subscribed = || {
            let mut e = Event::new(EventType::Subscribed);
            e.subscribed = Some(
                serde_json::from_value(serde_json::json!({
                    "executor_info": {"executor_id": {"value": "ex"}},
                    "framework_info": {"user": "u", "name": "n"},
                    "agent_info": {"hostname": "h"}
                }))
                .unwrap(),
            );
            e
        };
        assert!(matches!(s.event(subscribed()), Delivery::Registered(_)));
        assert!(s.disconnected());
        assert!(!s.disconnected());
        assert!(matches!(s.event(subscribed()), Delivery::Reregistered(_)));
        assert!(s.is_connected());
        let empty = Event::new(EventType::Subscribed);
        assert!(matches!(session().event(empty), Delivery::Error(_)));
    }

    proptest! {
        /// Whatever order acknowledgements come in, exactly the unacknowledged uuids stay.
        #[test]
        fn only_unacknowledged_updates_stay(acks in proptest::collection::vec(0u8..8, 0..16)) {
            let mut s = session();
            for u in 0..8u8 {
                s.update(status(&format!("t{u}"), TaskState::Running, u)).unwrap();
            }
            for a in &acks {
                s.event(ack(&format!("t{a}"), *a));
            }
            let left: std::collections::BTreeSet<u8> = s
                .subscribe()
                .subscribe
                .unwrap()
                .unacknowledged_updates
                .iter()
                .map(|u| u.status.uuid.as_ref().unwrap()[0])
                .collect();
            let want: std::collections::BTreeSet<u8> =
                (0..8).filter(|u| !acks.contains(u)).collect();
            prop_assert_eq!(left, want);
        }
    }
}
