//! Unit tests (after Mesos's task status update manager tests) and a property test over
//! random sequences of updates, acknowledgements and time.

use super::*;
use meso_api::v1::TaskStatus;
use proptest::prelude::*;

fn fw() -> FrameworkId {
    FrameworkId::new("fw-1")
}

fn update(task: &str, state: TaskState, uuid: u8) -> StatusUpdate {
    let mut status = TaskStatus::new(TaskId::new(task), state);
    status.uuid = Some(vec![uuid; 16]);
    StatusUpdate {
        framework_id: fw(),
        executor_id: None,
        agent_id: None,
        status,
        timestamp: 0.0,
        uuid: Some(vec![uuid; 16]),
        latest_state: None,
    }
}

const T0: Duration = Duration::ZERO;

#[test]
fn first_update_is_forwarded_and_later_ones_wait_for_the_ack() {
    let mut m = StatusUpdateManager::new();
    let a = update("t", TaskState::Running, 1);
    let b = update("t", TaskState::Finished, 2);
    assert_eq!(m.update(a.clone(), T0).unwrap(), UpdateOutcome::Forward(a));
    assert_eq!(m.update(b.clone(), T0).unwrap(), UpdateOutcome::Queued);
    match m.acknowledge(&fw(), &TaskId::new("t"), &[1; 16], T0) {
        AckOutcome::Acknowledged { next, terminal } => {
            assert_eq!(next, Some(b));
            assert!(!terminal);
        }
        other => panic!("expected an acknowledgement, got {other:?}"),
    }
}

#[test]
fn update_without_or_with_short_uuid_is_refused() {
    let mut m = StatusUpdateManager::new();
    let mut u = update("t", TaskState::Running, 1);
    u.uuid = None;
    assert!(m.update(u.clone(), T0).is_err());
    u.uuid = Some(vec![1; 3]);
    let err = m.update(u, T0).unwrap_err().to_string();
    assert!(err.contains("16 bytes") && err.contains("'t'"), "{err}");
}

#[test]
fn retry_doubles_from_ten_seconds_up_to_ten_minutes() {
    let mut m = StatusUpdateManager::new();
    m.update(update("t", TaskState::Running, 1), T0).unwrap();
    assert!(m.due(Duration::from_secs(9)).is_empty());
    let mut now = Duration::ZERO;
    let mut waits = Vec::new();
    for _ in 0..8 {
        let next = m.next_due().unwrap();
        waits.push((next - now).as_secs());
        now = next;
        assert_eq!(m.due(now).len(), 1);
    }
    assert_eq!(waits, vec![10, 20, 40, 80, 160, 320, 600, 600]);
}

#[test]
fn duplicate_ack_and_unexpected_ack_are_ignored() {
    let mut m = StatusUpdateManager::new();
    m.update(update("t", TaskState::Running, 1), T0).unwrap();
    m.update(update("t", TaskState::Finished, 2), T0).unwrap();
    assert_eq!(
        m.acknowledge(&fw(), &TaskId::new("t"), &[2; 16], T0),
        AckOutcome::Ignored
    );
    assert!(matches!(
        m.acknowledge(&fw(), &TaskId::new("t"), &[1; 16], T0),
        AckOutcome::Acknowledged { .. }
    ));
    assert_eq!(
        m.acknowledge(&fw(), &TaskId::new("t"), &[1; 16], T0),
        AckOutcome::Ignored
    );
    assert_eq!(
        m.acknowledge(&fw(), &TaskId::new("nope"), &[1; 16], T0),
        AckOutcome::Ignored
    );
}

#[test]
fn duplicate_update_before_and_after_ack_is_ignored() {
    let mut m = StatusUpdateManager::new();
    let a = update("t", TaskState::Running, 1);
    m.update(a.clone(), T0).unwrap();
    assert_eq!(m.update(a.clone(), T0).unwrap(), UpdateOutcome::Duplicate);
    m.acknowledge(&fw(), &TaskId::new("t"), &[1; 16], T0);
    assert_eq!(m.update(a, T0).unwrap(), UpdateOutcome::Duplicate);
}

#[test]
fn terminal_ack_terminates_the_stream() {
    let mut m = StatusUpdateManager::new();
    let done = update("t", TaskState::Finished, 1);
    m.update(done.clone(), T0).unwrap();
    assert_eq!(
        m.acknowledge(&fw(), &TaskId::new("t"), &[1; 16], T0),
        AckOutcome::Acknowledged {
            next: None,
            terminal: true
        }
    );
    assert!(m.is_terminated(&fw(), &TaskId::new("t")));
    assert_eq!(m.update(done, T0).unwrap(), UpdateOutcome::Duplicate);
    assert!(m.update(update("t", TaskState::Failed, 9), T0).is_err());
}

#[test]
fn forwarded_head_carries_the_latest_state() {
    let mut m = StatusUpdateManager::new();
    m.update(update("t", TaskState::Running, 1), T0).unwrap();
    m.update(update("t", TaskState::Finished, 2), T0).unwrap();
    let resent = m.due(RETRY_INTERVAL_MIN);
    assert_eq!(resent[0].latest_state, Some(TaskState::Finished));
    assert_eq!(
        m.latest_state(&fw(), &TaskId::new("t")),
        Some(TaskState::Finished)
    );
}

#[test]
fn paused_manager_queues_and_resume_hands_back_heads() {
    let mut m = StatusUpdateManager::new();
    m.pause();
    assert_eq!(
        m.update(update("a", TaskState::Running, 1), T0).unwrap(),
        UpdateOutcome::Queued
    );
    m.update(update("b", TaskState::Running, 2), T0).unwrap();
    assert!(m.due(Duration::from_secs(3600)).is_empty());
    assert_eq!(m.next_due(), None);
    let heads = m.resume(T0);
    assert_eq!(heads.len(), 2);
    assert_eq!(m.next_due(), Some(RETRY_INTERVAL_MIN));
}

#[derive(Debug, Clone)]
enum Op {
    Update { task: u8, uuid: u8, state: u8 },
    Ack { task: u8, uuid: u8 },
    AckHead { task: u8 },
    Advance { secs: u16 },
    Pause,
    Resume,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u8, 0..12u8, 0..4u8).prop_map(|(task, uuid, state)| Op::Update { task, uuid, state }),
        2 => (0..3u8, 0..12u8).prop_map(|(task, uuid)| Op::Ack { task, uuid }),
        3 => (0..3u8).prop_map(|task| Op::AckHead { task }),
        2 => (0..900u16).prop_map(|secs| Op::Advance { secs }),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
    ]
}

const STATES: [TaskState; 4] = [
    TaskState::Starting,
    TaskState::Running,
    TaskState::Finished,
    TaskState::Failed,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Against a simple model: each stream delivers its updates in arrival order, without
    /// duplicates, one at a time; only the head's ack advances; nothing is sent while
    /// paused; retries come between 10 s and 10 min apart.
    #[test]
    fn streams_deliver_in_order_one_at_a_time(ops in prop::collection::vec(op(), 1..120)) {
        let mut m = StatusUpdateManager::new();
        let mut now = Duration::ZERO;
        // Model: per task, queue of uuids accepted; terminated flag; acked uuids.
        let mut model: BTreeMap<u8, (VecDeque<u8>, HashSet<u8>, bool)> = BTreeMap::new();
        let mut paused = false;
        // Per task, the uuid currently sent (what a framework would see in flight).
        let mut last_sent: BTreeMap<u8, u8> = BTreeMap::new();
        for op in ops {
            let mut sent: Vec<StatusUpdate> = Vec::new();
            // Acknowledging the head is the common, interesting case: pick its uuid.
            let op = match op {
                Op::AckHead { task } => match model.get(&task).and_then(|e| e.0.front()) {
                    Some(head) => Op::Ack { task, uuid: *head },
                    None => continue,
                },
                other => other,
            };
            match op {
                Op::Update { task, uuid, state } => {
                    let state = STATES[state as usize];
                    let entry = model.entry(task).or_default();
                    let seen = entry.0.contains(&uuid) || entry.1.contains(&uuid);
                    let u = update(&format!("t{task}"), state, uuid);
                    match m.update(u, now) {
                        Ok(UpdateOutcome::Duplicate) => prop_assert!(seen),
                        Ok(UpdateOutcome::Forward(s)) => {
                            prop_assert!(!seen && entry.0.is_empty() && !paused && !entry.2);
                            entry.0.push_back(uuid);
                            sent.push(s);
                        }
                        Ok(UpdateOutcome::Queued) => {
                            prop_assert!(!seen && (!entry.0.is_empty() || paused) && !entry.2);
                            entry.0.push_back(uuid);
                        }
                        Err(_) => prop_assert!(!seen && entry.2),
                    }
                }
                Op::Ack { task, uuid } => {
                    let entry = model.entry(task).or_default();
                    let is_head = entry.0.front() == Some(&uuid);
                    let outcome = m.acknowledge(&fw(), &TaskId::new(format!("t{task}")), &[uuid; 16], now);
                    match outcome {
                        AckOutcome::Ignored => prop_assert!(!is_head),
                        AckOutcome::Acknowledged { next, terminal } => {
                            prop_assert!(is_head);
                            entry.0.pop_front();
                            entry.1.insert(uuid);
                            if terminal { entry.2 = true; }
                            prop_assert_eq!(next.is_some(), !entry.0.is_empty() && !paused);
                            sent.extend(next);
                        }
                    }
                }
                Op::Advance { secs } => {
                    now += Duration::from_secs(u64::from(secs));
                    if let Some(due) = m.next_due() {
                        prop_assert!(!paused);
                        if due <= now {
                            sent.extend(m.due(now));
                        }
                    }
                }
                Op::Pause => { m.pause(); paused = true; }
                Op::Resume => { paused = false; sent.extend(m.resume(now)); }
                Op::AckHead { .. } => unreachable!("AckHead was turned into Ack above"),
            }
            for s in sent {
                prop_assert!(!paused);
                let task: u8 = s.status.task_id.as_str()[1..].parse().unwrap();
                let uuid = s.uuid.as_ref().unwrap()[0];
                // Only ever the head of the model's queue is on the wire.
                prop_assert_eq!(model[&task].0.front(), Some(&uuid));
                last_sent.insert(task, uuid);
            }
            if let Some(due) = m.next_due() {
                prop_assert!(due > now || due + RETRY_INTERVAL_MAX >= now);
                prop_assert!(due <= now + RETRY_INTERVAL_MAX);
            }
        }
        let _ = last_sent;
    }
}
