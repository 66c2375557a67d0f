//! Replay after a crash, against a model of an executor, a disk and a framework: any
//! interleaving of updates, duplicates, acknowledgements, lost messages, retries and agent
//! crashes (at any point of the checkpoint-then-apply sequence) ends, once the network
//! heals, with every update delivered at least once in order and acknowledged on disk
//! exactly once in order.

use std::collections::VecDeque;
use std::time::Duration;

use meso_api::v1::{FrameworkId, TaskId, TaskState, TaskStatus};
use meso_api::wire::StatusUpdate;
use proptest::prelude::*;

use crate::checkpoint::UpdateRecord;
use crate::status_updates::{AckOutcome, StatusUpdateManager, UpdateOutcome};

const TASKS: usize = 2;
const UPDATES: usize = 4;

fn fw() -> FrameworkId {
    FrameworkId::new("fw")
}

fn task_id(task: usize) -> TaskId {
    TaskId::new(format!("t{task}"))
}

/// Update `index` of `task`: uuid `[task*16+index; 16]`, the last one terminal.
fn update(task: usize, index: usize) -> StatusUpdate {
    let state = if index + 1 == UPDATES {
        TaskState::Finished
    } else {
        TaskState::Running
    };
    let uuid = vec![(task * 16 + index) as u8; 16];
    let mut status = TaskStatus::new(task_id(task), state);
    status.uuid = Some(uuid.clone());
    StatusUpdate {
        framework_id: fw(),
        executor_id: None,
        agent_id: None,
        status,
        timestamp: 0.0,
        uuid: Some(uuid),
        latest_state: None,
    }
}

fn index_of(update: &StatusUpdate) -> (usize, usize) {
    let n = update.uuid.as_ref().unwrap()[0] as usize;
    (n / 16, n % 16)
}

#[derive(Debug, Clone)]
enum Op {
    /// The executor sends its next update (a duplicate of the last once all are sent).
    Send { task: usize },
    /// The executor resends an update it sent before.
    Resend { task: usize, back: usize },
    /// The framework receives the next message on the wire and acknowledges it.
    Deliver,
    /// The next message on the wire is lost.
    Drop,
    /// Time passes; due retries go out.
    Advance { secs: u64 },
    /// The agent dies; `at` says where in handling the executor's next update or the
    /// framework's next ack: 0 before checkpointing it, 1 after checkpointing it but
    /// before applying it in memory.
    Crash {
        task: usize,
        during_ack: bool,
        at: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..TASKS).prop_map(|task| Op::Send { task }),
        1 => (0..TASKS, 0..UPDATES).prop_map(|(task, back)| Op::Resend { task, back }),
        4 => Just(Op::Deliver),
        1 => Just(Op::Drop),
        1 => (0..700u64).prop_map(|secs| Op::Advance { secs }),
        2 => (0..TASKS, any::<bool>(), 0..3u8)
            .prop_map(|(task, during_ack, at)| Op::Crash { task, during_ack, at }),
    ]
}

/// Agent (manager + disk), executor and framework, wired by a lossy FIFO.
struct World {
    manager: StatusUpdateManager,
    disk: Vec<Vec<UpdateRecord>>,
    /// Per task: updates sent so far, and those the agent has not acknowledged.
    sent: Vec<usize>,
    exec_unacked: Vec<VecDeque<usize>>,
    wire: VecDeque<StatusUpdate>,
    /// Per task: what the framework received, in order.
    received: Vec<Vec<usize>>,
    now: Duration,
}

impl World {
    fn new() -> Self {
        let mut manager = StatusUpdateManager::new();
        manager.pause();
        let mut w = World {
            manager,
            disk: vec![Vec::new(); TASKS],
            sent: vec![0; TASKS],
            exec_unacked: vec![VecDeque::new(); TASKS],
            wire: VecDeque::new(),
            received: vec![Vec::new(); TASKS],
            now: Duration::ZERO,
        };
        w.register();
        w
    }

    fn register(&mut self) {
        let heads = self.manager.resume(self.now);
        self.wire.extend(heads);
    }

    /// The agent's handling of an executor update: check, checkpoint, apply, ack the
    /// executor. `crash_at` stops it part way.
    fn agent_takes(&mut self, task: usize, index: usize, crash_at: Option<u8>) {
        let u = update(task, index);
        if crash_at == Some(0) {
            return;
        }
        match self.manager.check_update(&u) {
            Ok(true) => {
                self.disk[task].push(UpdateRecord::Update(u.clone()));
                if crash_at == Some(1) {
                    return;
                }
                match self.manager.update(u, self.now).unwrap() {
                    UpdateOutcome::Forward(head) => self.wire.push_back(head),
                    UpdateOutcome::Queued => {}
                    UpdateOutcome::Duplicate => panic!("check_update said it was new"),
                }
            }
            Ok(false) => {}
            Err(e) => panic!("update refused: {e}"),
        }
        self.exec_unacked[task].retain(|i| *i != index);
    }

    fn agent_acks(&mut self, task: usize, index: usize, crash_at: Option<u8>) {
        let uuid = vec![(task * 16 + index) as u8; 16];
        if crash_at == Some(0) || !self.manager.check_ack(&fw(), &task_id(task), &uuid) {
            return;
        }
        self.disk[task].push(UpdateRecord::Ack { uuid: uuid.clone() });
        if crash_at == Some(1) {
            return;
        }
        match self
            .manager
            .acknowledge(&fw(), &task_id(task), &uuid, self.now)
        {
            AckOutcome::Acknowledged { next, .. } => self.wire.extend(next),
            AckOutcome::Ignored => panic!("check_ack said it was the head"),
        }
    }

    fn send(&mut self, task: usize, crash_at: Option<u8>) {
        let index = if self.sent[task] < UPDATES {
            self.sent[task] += 1;
            self.exec_unacked[task].push_back(self.sent[task] - 1);
            self.sent[task] - 1
        } else {
            UPDATES - 1
        };
        self.agent_takes(task, index, crash_at);
    }

    fn deliver(&mut self, crash_at: Option<u8>) {
        if let Some(u) = self.wire.pop_front() {
            let (task, index) = index_of(&u);
            self.received[task].push(index);
            self.agent_acks(task, index, crash_at);
        }
    }

    /// The agent restarts: memory and wire gone, streams replayed from disk, executors
    /// re-subscribe with their unacknowledged updates, the agent re-registers.
    fn restart(&mut self) {
        self.wire.clear();
        self.manager = StatusUpdateManager::new();
        self.manager.pause();
        for task in 0..TASKS {
            self.manager
                .replay(&fw(), &task_id(task), &self.disk[task])
                .unwrap();
        }
        for task in 0..TASKS {
            let pending: Vec<usize> = self.exec_unacked[task].iter().copied().collect();
            for index in pending {
                self.agent_takes(task, index, None);
            }
        }
        self.register();
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Send { task } => self.send(task, None),
            Op::Resend { task, back } => {
                if self.sent[task] > 0 {
                    let index = self.sent[task] - 1 - back.min(self.sent[task] - 1);
                    self.agent_takes(task, index, None);
                }
            }
            Op::Deliver => self.deliver(None),
            Op::Drop => {
                self.wire.pop_front();
            }
            Op::Advance { secs } => {
                self.now += Duration::from_secs(secs);
                let due = self.manager.due(self.now);
                self.wire.extend(due);
            }
            Op::Crash {
                task,
                during_ack,
                at,
            } => {
                let at = (at < 2).then_some(at);
                if during_ack {
                    self.deliver(at);
                } else if self.sent[task] < UPDATES {
                    self.send(task, at);
                }
                self.restart();
            }
        }
    }

    /// The network heals: everything is sent, delivered and retried until quiet.
    fn drain(&mut self) {
        for _ in 0..(TASKS * UPDATES * 8) {
            for task in 0..TASKS {
                while self.sent[task] < UPDATES {
                    self.send(task, None);
                }
            }
            while !self.wire.is_empty() {
                self.deliver(None);
            }
            self.now += Duration::from_secs(3600);
            let due = self.manager.due(self.now);
            if due.is_empty() {
                return;
            }
            self.wire.extend(due);
        }
        panic!("the streams did not quiesce");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn every_update_is_delivered_in_order_and_acked_once_across_crashes(
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let mut world = World::new();
        for op in ops {
            world.apply(op);
        }
        world.drain();
        for task in 0..TASKS {
            let acks: Vec<usize> = world.disk[task]
                .iter()
                .filter_map(|r| match r {
                    UpdateRecord::Ack { uuid } => Some(uuid[0] as usize % 16),
                    UpdateRecord::Update(_) => None,
                })
                .collect();
            prop_assert_eq!(acks, (0..UPDATES).collect::<Vec<_>>(), "task {}", task);
            let updates: Vec<usize> = world.disk[task]
                .iter()
                .filter_map(|r| match r {
                    UpdateRecord::Update(u) => Some(index_of(u).1),
                    UpdateRecord::Ack { .. } => None,
                })
                .collect();
            prop_assert_eq!(updates, (0..UPDATES).collect::<Vec<_>>(), "task {}", task);
            let got = &world.received[task];
            prop_assert!(got.windows(2).all(|w| w[0] <= w[1]), "out of order: {:?}", got);
            let mut distinct = got.clone();
            distinct.dedup();
            prop_assert_eq!(distinct, (0..UPDATES).collect::<Vec<_>>());
            prop_assert!(world.manager.is_terminated(&fw(), &task_id(task)));
            prop_assert!(world.exec_unacked[task].is_empty());
        }
    }
}

#[test]
fn replay_refuses_an_ack_that_matches_no_head() {
    let mut m = StatusUpdateManager::new();
    m.pause();
    let records = vec![
        UpdateRecord::Update(update(0, 0)),
        UpdateRecord::Ack { uuid: vec![9; 16] },
    ];
    let err = m.replay(&fw(), &task_id(0), &records).unwrap_err();
    assert!(err.to_string().contains("record 1"), "{err}");
}

#[test]
fn replayed_unacknowledged_head_is_resent_on_resume() {
    let mut m = StatusUpdateManager::new();
    m.pause();
    let records = vec![
        UpdateRecord::Update(update(0, 0)),
        UpdateRecord::Ack { uuid: vec![0; 16] },
        UpdateRecord::Update(update(0, 1)),
        UpdateRecord::Update(update(0, 2)),
    ];
    m.replay(&fw(), &task_id(0), &records).unwrap();
    let heads = m.resume(Duration::ZERO);
    assert_eq!(heads.len(), 1);
    assert_eq!(index_of(&heads[0]), (0, 1));
    assert_eq!(heads[0].latest_state, Some(TaskState::Running));
}
