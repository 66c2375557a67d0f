//! Wire messages: every message survives a postcard frame, names are unique, malformed
//! frames are typed errors naming the message.

use super::*;
use crate::resources::Resources;
use crate::v1::fixtures::{sample_executor, sample_offer, sample_task};
use crate::v1::scheduler::{Call, CallType};
use crate::v1::*;
use proptest::prelude::*;

fn check<M: WireMessage + PartialEq + std::fmt::Debug>(message: M) {
    let bytes = message.encode();
    let back = M::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
    assert_eq!(back, message, "{}", M::NAME);
    // Every strict prefix is refused with an error naming the message, never a panic.
    for cut in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
        if cut < bytes.len() {
            if let Err(err) = M::decode(&bytes[..cut]) {
                assert!(
                    matches!(&err, crate::Error::Wire { message_name, .. } if message_name == M::NAME),
                    "{err}"
                );
            }
        }
    }
}

fn status_with_uuid() -> TaskStatus {
    let mut s = TaskStatus::new(TaskId::new("web-1"), TaskState::Running);
    s.uuid = Some(vec![5; 16]);
    s.source = Some(TaskStatusSource::Executor);
    s.data = Some(vec![1, 2, 3]);
    s
}

#[test]
fn names_are_unique_and_mesos_like() {
    let mut names = ALL_NAMES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ALL_NAMES.len());
    assert!(ALL_NAMES
        .iter()
        .all(|n| n.starts_with("mesos.") || n.starts_with("meso.")));
    assert_eq!(
        StatusUpdateMessage::NAME,
        "mesos.internal.StatusUpdateMessage"
    );
}

#[test]
fn every_message_round_trips_through_postcard() {
    let fid = FrameworkId::new("M-0000");
    let aid = AgentId::new("M-S0");
    let eid = ExecutorId::new("exec");
    let mut agent = AgentInfo::new("host");
    agent.resources = Resources::parse("cpus:4;mem:4096;ports:[31000-32000]", "*").unwrap();
    agent.attributes = crate::attributes::Attributes::parse("rack:r1").unwrap();
    let framework = FrameworkInfo::new("alice", "demo");
    let master: MasterInfo = crate::json::from_str(
        r#"{"id":"M","ip":16777343,"port":5050,"hostname":"localhost"}"#,
        &Default::default(),
    )
    .unwrap();
    let checkpointed = Resources::parse("cpus(ops):1", "*")
        .unwrap()
        .push_reservation(&crate::resources::ReservationInfo::dynamically(
            "ops/a",
            Some("p"),
        ));
    let capabilities = vec![AgentCapability {
        kind: Some(AgentCapabilityType::MultiRole),
    }];

    check(RegisterAgent {
        agent: agent.clone(),
        checkpointed_resources: checkpointed.clone(),
        version: "0.1.0".into(),
        capabilities: capabilities.clone(),
    });
    check(ReregisterAgent {
        agent: agent.clone(),
        checkpointed_resources: checkpointed.clone(),
        executor_infos: vec![sample_executor()],
        tasks: vec![TaskRecord {
            task: sample_task(),
            framework_id: fid.clone(),
            executor_id: Some(eid.clone()),
            state: TaskState::Running,
            unacknowledged_update_uuid: Some(vec![1; 16]),
        }],
        frameworks: vec![framework.clone()],
        version: "0.1.0".into(),
        capabilities,
    });
    check(AgentRegistered {
        agent_id: aid.clone(),
        total_ping_timeout_seconds: Some(75.0),
    });
    check(AgentReregistered {
        agent_id: aid.clone(),
        total_ping_timeout_seconds: None,
        reconciliations: Vec::new(),
    });
    check(AgentReregistered {
        agent_id: aid.clone(),
        total_ping_timeout_seconds: Some(75.0),
        reconciliations: vec![TaskReconciliation {
            framework_id: FrameworkId::new("f1"),
            partition_aware: true,
            task_ids: vec![TaskId::new("t1"), TaskId::new("t2")],
        }],
    });
    check(UnregisterAgent {
        agent_id: aid.clone(),
    });
    check(PingAgent { connected: true });
    check(UpdateAgentConfig {
        request_id: "r1".into(),
        resources: Some(crate::Resources::parse("cpus:2;mem:512", "*").unwrap()),
        attributes: Some(crate::attributes::Attributes::parse("rack:r1;zone:2").unwrap()),
        force: true,
    });
    check(UpdateAgentConfig {
        request_id: "r2".into(),
        resources: None,
        attributes: None,
        force: false,
    });
    check(AgentConfigUpdated {
        agent_id: aid.clone(),
        request_id: None,
        resources: crate::Resources::parse("cpus:2;ports:[31000-32000]", "*").unwrap(),
        attributes: crate::attributes::Attributes::parse("rack:r1").unwrap(),
        refusal: Some((409, "short of cpus:1".into())),
    });
    check(PongAgent {});
    check(NotLeader {
        leader: Some("master@127.0.0.1:5051".into()),
        term: 7,
    });
    check(NotLeader {
        leader: None,
        term: 0,
    });
    check(RunTask {
        framework: framework.clone(),
        pid: Some("scheduler@127.0.0.1:1234".into()),
        task: sample_task(),
    });
    check(RunTaskGroup {
        framework: framework.clone(),
        executor: sample_executor(),
        task_group: TaskGroupInfo {
            tasks: vec![sample_task()],
        },
    });
    check(KillTask {
        framework_id: fid.clone(),
        task_id: TaskId::new("web-1"),
        kill_policy: Some(KillPolicy {
            grace_period: Some(DurationInfo::from_secs(2)),
        }),
    });
    check(StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: fid.clone(),
            executor_id: Some(eid.clone()),
            agent_id: Some(aid.clone()),
            status: status_with_uuid(),
            timestamp: 1_700_000_000.5,
            uuid: Some(vec![5; 16]),
            latest_state: Some(TaskState::Finished),
        },
        pid: Some("slave(1)@127.0.0.1:5051".into()),
    });
    check(StatusUpdateAcknowledgement {
        agent_id: aid.clone(),
        framework_id: fid.clone(),
        task_id: TaskId::new("web-1"),
        uuid: vec![5; 16],
    });
    check(ShutdownExecutor {
        executor_id: eid.clone(),
        framework_id: fid.clone(),
    });
    check(ShutdownFramework {
        framework_id: fid.clone(),
    });
    check(ExitedExecutor {
        agent_id: aid.clone(),
        framework_id: fid.clone(),
        executor_id: eid.clone(),
        status: 256,
    });
    check(CheckpointResources {
        resources: checkpointed,
    });
    check(ShutdownAgent {
        message: "removed".into(),
    });
    check(OperationApplied {
        record: crate::v1::operation_book::OperationRecord::finished(
            Some(fid.clone()),
            aid.clone(),
            serde_json::from_value(serde_json::json!({
                "type": "RESERVE", "id": {"value": "op"}, "reserve": {"resources": []}
            }))
            .unwrap(),
            Resources::parse("cpus:1", "*").unwrap(),
            [3; 16],
        ),
    });
    check(UpdateOversubscribedResources {
        agent_id: aid.clone(),
        oversubscribed_resources: Resources::parse("cpus:1.5;mem:512", "*")
            .unwrap()
            .into_iter()
            .map(crate::resources::Resource::into_revocable)
            .collect(),
    });
    check(RegisterFramework {
        framework: framework.clone(),
    });
    check(ReregisterFramework {
        framework: framework.clone(),
        failover: true,
    });
    check(FrameworkRegistered {
        framework_id: fid.clone(),
        master_info: master.clone(),
    });
    check(FrameworkReregistered {
        framework_id: fid.clone(),
        master_info: master,
    });
    check(FrameworkError {
        message: "Framework has been removed".into(),
    });
    check(UnregisterFramework {
        framework_id: fid.clone(),
    });
    check(DeactivateFramework {
        framework_id: fid.clone(),
    });
    check(ResourceOffers {
        offers: vec![sample_offer()],
        pids: vec!["slave(1)@10.0.0.1:5051".into()],
    });
    check(RescindResourceOffer {
        offer_id: OfferId::new("M-O1"),
    });
    check(InverseOffers {
        inverse_offers: Vec::new(),
    });
    check(RescindInverseOffer {
        inverse_offer_id: OfferId::new("M-IO1"),
    });
    check(DrainAgent {
        max_grace_period_ns: Some(5),
        mark_gone: true,
    });
    check(LaunchTasks {
        framework_id: fid.clone(),
        offer_ids: vec![OfferId::new("M-O1")],
        tasks: vec![sample_task()],
        filters: Filters {
            refuse_seconds: 1.0,
        },
    });
    check(ReviveOffers {
        framework_id: fid.clone(),
        roles: vec!["ops".into()],
    });
    check(ReconcileTasks {
        framework_id: fid.clone(),
        statuses: vec![status_with_uuid()],
    });
    check(LostAgent {
        agent_id: aid.clone(),
    });
    check(FrameworkToExecutor {
        agent_id: aid.clone(),
        framework_id: fid.clone(),
        executor_id: eid.clone(),
        data: b"hello".to_vec(),
    });
    check(ExecutorToFramework {
        agent_id: aid.clone(),
        framework_id: fid.clone(),
        executor_id: eid.clone(),
        data: Vec::new(),
    });
    check(SchedulerCall {
        call: Call::new(CallType::Teardown, Some(fid.clone())),
    });
    check(RegisterExecutor {
        framework_id: fid.clone(),
        executor_id: eid,
    });
    check(ExecutorRegistered {
        executor_info: sample_executor(),
        framework_id: fid,
        framework_info: framework,
        agent_id: aid,
        agent_info: agent,
    });
    check(Authenticate {
        pid: "slave(1)@127.0.0.1:5051".to_string(),
    });
    check(AuthenticationMechanisms {
        mechanisms: vec!["CRAM-MD5".to_string()],
    });
    check(AuthenticationStart {
        mechanism: "CRAM-MD5".to_string(),
        data: None,
    });
    check(AuthenticationStep {
        data: b"<1.2@m>".to_vec(),
    });
    check(AuthenticationCompleted {});
    check(AuthenticationFailed {});
    check(AuthenticationError {
        error: Some("timed out".to_string()),
    });
}

#[test]
fn messages_dump_as_readable_json() {
    let message = KillTask {
        framework_id: FrameworkId::new("f"),
        task_id: TaskId::new("t"),
        kill_policy: None,
    };
    assert_eq!(
        crate::json::to_string(&message),
        r#"{"framework_id":{"value":"f"},"task_id":{"value":"t"},"kill_policy":null}"#
    );
}

#[test]
fn embedded_json_is_decoded_under_limits() {
    // A hand-made frame whose embedded JSON is nested past the default depth limit.
    let deep = "[".repeat(100) + &"]".repeat(100);
    let frame = postcard::to_allocvec(&(deep.as_bytes(),)).unwrap();
    // postcard keeps only "Serde Deserialization Error" of the inner message, so the
    // observable contract is a typed error naming the message.
    let err = RegisterFramework::decode(&frame).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Wire { message_name, .. }
            if message_name == "mesos.internal.RegisterFrameworkMessage"),
        "{err}"
    );
    // The same JSON one level shallower than the limit is only refused for its shape.
    let shallow = "[".repeat(10) + &"]".repeat(10);
    let frame = postcard::to_allocvec(&(shallow.as_bytes(),)).unwrap();
    assert!(RegisterFramework::decode(&frame).is_err());
    let ok = postcard::to_allocvec(&(crate::json::to_vec(&FrameworkInfo::new("u", "n")),)).unwrap();
    assert_eq!(
        RegisterFramework::decode(&ok).unwrap().framework,
        FrameworkInfo::new("u", "n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_frames_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = RegisterAgent::decode(&bytes);
        let _ = ReregisterAgent::decode(&bytes);
        let _ = StatusUpdateMessage::decode(&bytes);
        let _ = ResourceOffers::decode(&bytes);
        let _ = LaunchTasks::decode(&bytes);
        let _ = CheckpointResources::decode(&bytes);
        let _ = SchedulerCall::decode(&bytes);
    }
}

/// A `RunTask` frame written by hand in `wire::task_info`'s layout: framework (JSON bytes),
/// pid, then the task's name, ids, resources, data and its nested values.
fn run_task_frame(resources: &Resources, command_json: &[u8]) -> Vec<u8> {
    let framework = crate::json::to_vec(&FrameworkInfo::new("u", "n"));
    let no_json: Option<&[u8]> = None;
    postcard::to_allocvec(&(
        framework.as_slice(),
        None::<String>,
        (
            "web",
            TaskId::new("web-1"),
            AgentId::new("M-S0"),
            resources,
            None::<Vec<u8>>,
            no_json,
            Some(command_json),
            (no_json, no_json, no_json, no_json, no_json, no_json),
        ),
    ))
    .unwrap()
}

#[test]
fn a_task_in_a_frame_is_native_with_its_nested_values_as_json() {
    let resources = Resources::parse("cpus:0.5;mem:128", "*").unwrap();
    let command = crate::json::to_vec(&CommandInfo::shell("sleep 10"));
    let decoded = RunTask::decode(&run_task_frame(&resources, &command)).unwrap();
    let mut expected = TaskInfo::command("web-1", AgentId::new("M-S0"), "sleep 10")
        .with_resources(resources.clone());
    expected.name = "web".into();
    assert_eq!(decoded.task, expected);
    // Bad nested JSON (here nested deeper than the default limit) is a typed error naming
    // the message, never a panic.
    let deep = format!("{{\"value\":{}{}}}", "[".repeat(100), "]".repeat(100));
    let err = RunTask::decode(&run_task_frame(&resources, deep.as_bytes())).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Wire { message_name, .. }
            if message_name == "mesos.internal.RunTaskMessage"),
        "{err}"
    );
}

#[test]
fn a_task_dumps_as_its_v1_json() {
    let task = TaskInfo::command("t", AgentId::new("a"), "true");
    let record = TaskRecord {
        task: task.clone(),
        framework_id: FrameworkId::new("f"),
        executor_id: None,
        state: TaskState::Running,
        unacknowledged_update_uuid: None,
    };
    let dumped: serde_json::Value = serde_json::from_str(&crate::json::to_string(&record)).unwrap();
    let v1: serde_json::Value = serde_json::from_str(&crate::json::to_string(&task)).unwrap();
    assert_eq!(dumped["task"], v1);
}

#[test]
fn a_drain_bounds_the_grace_period_and_gives_one_to_tasks_without() {
    use crate::v1::{DurationInfo, KillPolicy};
    let own = |s: i64| KillPolicy {
        grace_period: Some(DurationInfo::from_secs(s)),
    };
    let grace = |p: Option<KillPolicy>| p.and_then(|p| p.grace_period).map(|g| g.nanoseconds);
    let drain = |max: Option<i64>| DrainAgent {
        max_grace_period_ns: max,
        mark_gone: false,
    };
    assert_eq!(
        drain(None).kill_policy_for(Some(&own(30))),
        None,
        "no bound: the task's own"
    );
    assert_eq!(
        grace(drain(Some(5_000_000_000)).kill_policy_for(Some(&own(30)))),
        Some(5_000_000_000)
    );
    assert_eq!(
        grace(drain(Some(5_000_000_000)).kill_policy_for(Some(&own(1)))),
        Some(1_000_000_000)
    );
    assert_eq!(grace(drain(Some(0)).kill_policy_for(None)), Some(0));
}
