//! v1 JSON: the reference's example payloads, golden JSON for Mesos's defaults, round
//! trips of every type, and typed errors for malformed input.

use super::executor;
use super::scheduler::{self, Call, CallType, Event, EventType};
use super::*;
use crate::json::{from_str, to_string, Limits};
use crate::resources::Resources;
use crate::Error;
use proptest::prelude::*;

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> T {
    from_str(json, &Limits::default()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Encodes, decodes and checks the value survives; returns the JSON.
fn round_trip<T>(value: &T) -> String
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = to_string(value);
    assert!(!json.contains('\n'), "compact output: {json}");
    let back: T = decode(&json);
    assert_eq!(&back, value, "{json}");
    json
}

fn decode_err<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    match from_str::<T>(json, &Limits::default()) {
        Ok(v) => panic!("{json} decoded as {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reference_subscribe_example_gets_defaults_written_out() {
    let call: Call = decode(
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"alice","name":"demo",
         "failover_timeout":604800,"roles":["web"],"capabilities":[{"type":"MULTI_ROLE"}]}}}"#,
    );
    assert_eq!(call.kind, CallType::Subscribe);
    call.validate().unwrap();
    let info = &call.subscribe.as_ref().unwrap().framework_info;
    assert_eq!(info.effective_roles(), vec!["web".to_string()]);
    assert_eq!(
        round_trip(&call),
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"alice","name":"demo","failover_timeout":604800.0,"checkpoint":false,"roles":["web"],"capabilities":[{"type":"MULTI_ROLE"}]}}}"#
    );
}

#[test]
fn reference_accept_example_round_trips() {
    let call: Call = decode(
        r#"{"type":"ACCEPT","framework_id":{"value":"M-0000"},
     "accept":{"offer_ids":[{"value":"M-O7"}],
      "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t1",
        "task_id":{"value":"t1"},"agent_id":{"value":"M-S0"},
        "command":{"value":"sleep 10"},
        "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},
                     {"name":"mem","type":"SCALAR","scalar":{"value":32}}]}]}}],
      "filters":{"refuse_seconds":5}}}"#,
    );
    call.validate().unwrap();
    let accept = call.accept.as_ref().unwrap();
    let op = &accept.operations[0];
    op.validate().unwrap();
    let task = &op.launch.as_ref().unwrap().task_infos[0];
    task.validate().unwrap();
    assert!(
        task.command.as_ref().unwrap().shell,
        "shell defaults to true"
    );
    assert_eq!(
        task.resources,
        Resources::parse("cpus:0.1;mem:32", "*").unwrap()
    );
    assert_eq!(
        round_trip(&call),
        r#"{"framework_id":{"value":"M-0000"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"M-O7"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t1","task_id":{"value":"t1"},"agent_id":{"value":"M-S0"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32.0}}],"command":{"shell":true,"value":"sleep 10"}}]}}],"filters":{"refuse_seconds":5.0}}}"#
    );
}

#[test]
fn reference_subscribed_example_round_trips() {
    let event: Event = decode(
        r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"M-0000"},
     "heartbeat_interval_seconds":15.0,"master_info":{"id":"M","ip":16777343,
     "port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost",
     "version":"1.11.0","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},
     "capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}]}}}"#,
    );
    let subscribed = event.subscribed.as_ref().unwrap();
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(15.0));
    let master = subscribed.master_info.as_ref().unwrap();
    assert_eq!((master.ip, master.port), (16777343, 5050));
    assert_eq!(master.capabilities.len(), 3);
    round_trip(&event);
}

#[test]
fn error_event_uses_the_error_payload() {
    let event: Event =
        decode(r#"{"type":"ERROR","error":{"message":"Framework has been removed"}}"#);
    assert_eq!(event.error.unwrap().message, "Framework has been removed");
}

#[test]
fn golden_json_for_mesos_defaults() {
    assert_eq!(
        to_string(&FrameworkInfo::new("u", "n")),
        r#"{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":false}"#
    );
    assert_eq!(
        to_string(&CommandInfo::shell("true")),
        r#"{"shell":true,"value":"true"}"#
    );
    let uri: CommandUri = decode(r#"{"value":"http://x/a.tgz"}"#);
    assert_eq!(
        to_string(&uri),
        r#"{"value":"http://x/a.tgz","extract":true}"#
    );
    assert_eq!(
        to_string(&AgentInfo::new("h")),
        r#"{"hostname":"h","port":5051}"#
    );
    assert_eq!(to_string(&Filters::default()), r#"{"refuse_seconds":5.0}"#);
    let filters: Filters = decode("{}");
    assert_eq!(filters.refuse_seconds, 5.0);
    let check: HealthCheck = decode(r#"{"type":"TCP","tcp":{"port":80}}"#);
    assert_eq!(
        to_string(&check),
        r#"{"delay_seconds":15.0,"interval_seconds":10.0,"timeout_seconds":20.0,"consecutive_failures":3,"grace_period_seconds":10.0,"type":"TCP","tcp":{"port":80}}"#
    );
    let var: EnvironmentVariable = decode(r#"{"name":"A","value":"1"}"#);
    assert_eq!(
        to_string(&var),
        r#"{"name":"A","type":"VALUE","value":"1"}"#
    );
    let master: MasterInfo = decode(r#"{"id":"M","ip":1}"#);
    assert_eq!(master.port, 5050);
    // Deprecated-with-default fields are only written when set.
    let legacy: FrameworkInfo = decode(r#"{"user":"u","name":"n"}"#);
    assert_eq!(legacy.role, None);
    assert_eq!(legacy.effective_roles(), vec!["*".to_string()]);
}

#[test]
fn numbers_and_bools_are_accepted_as_strings() {
    let info: FrameworkInfo =
        decode(r#"{"user":"u","name":"n","failover_timeout":"10.5","checkpoint":"true"}"#);
    assert_eq!((info.failover_timeout, info.checkpoint), (10.5, true));
    let agent: AgentInfo = decode(r#"{"hostname":"h","port":"5052"}"#);
    assert_eq!(agent.port, 5052);
    let duration: DurationInfo = decode(r#"{"nanoseconds":"9223372036854775807"}"#);
    assert_eq!(duration.nanoseconds, i64::MAX);
}

#[test]
fn unknown_keys_and_nulls_are_ignored() {
    let info: FrameworkInfo = decode(
        r#"{"user":"u","name":"n","future_field":{"x":[1,2]},"roles":null,"hostname":null}"#,
    );
    assert_eq!(info, FrameworkInfo::new("u", "n"));
}

#[test]
fn missing_required_fields_are_named() {
    assert!(decode_err::<FrameworkInfo>(r#"{"name":"n"}"#).contains("`user`"));
    assert!(decode_err::<TaskStatus>(r#"{"task_id":{"value":"t"}}"#).contains("`state`"));
    assert!(
        decode_err::<TaskInfo>(r#"{"name":"t","task_id":{"value":"t"}}"#).contains("`agent_id`")
    );
    assert!(decode_err::<Call>(r#"{"framework_id":{"value":"f"}}"#).contains("`type`"));
    assert!(decode_err::<scheduler::Acknowledge>(
        r#"{"agent_id":{"value":"a"},"task_id":{"value":"t"}}"#
    )
    .contains("`uuid`"));
}

#[test]
fn enum_names_wrong_in_required_fields_are_named_and_dropped_in_optional_ones() {
    let err = decode_err::<TaskStatus>(r#"{"task_id":{"value":"t"},"state":"TASK_FOO"}"#);
    assert!(err.contains("unknown TaskState 'TASK_FOO'"), "{err}");
    let err = decode_err::<Call>(r#"{"type":"JUMP"}"#);
    assert!(err.contains("'JUMP'"), "{err}");
    let status: TaskStatus = decode(
        r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_MARS","reason":"REASON_RECONCILIATION"}"#,
    );
    assert_eq!(status.source, None);
    assert_eq!(status.reason, Some(TaskStatusReason::Reconciliation));
    let info: FrameworkInfo =
        decode(r#"{"user":"u","name":"n","capabilities":[{"type":"TIME_TRAVEL"}]}"#);
    assert_eq!(info.capabilities[0].kind, None);
}

#[test]
fn bytes_are_base64() {
    let uuid: Vec<u8> = (0u8..16).collect();
    let mut status = TaskStatus::new(TaskId::new("t"), TaskState::Running);
    status.uuid = Some(uuid.clone());
    status.data = Some(b"hi".to_vec());
    let json = round_trip(&status);
    assert!(
        json.contains(r#""uuid":"AAECAwQFBgcICQoLDA0ODw==""#),
        "{json}"
    );
    assert!(json.contains(r#""data":"aGk=""#), "{json}");
    let err = decode_err::<TaskStatus>(
        r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"***"}"#,
    );
    assert!(err.contains("'***' is not Base64"), "{err}");
}

#[test]
fn truncated_and_wrongly_typed_json_are_typed_errors() {
    for json in [
        r#"{"type":"SUBSCRIBE""#,
        r#"{"type":1}"#,
        r#"[]"#,
        "",
        r#"{"type":"TEARDOWN","framework_id":{"value":7}}"#,
    ] {
        let err = from_str::<Call>(json, &Limits::default()).expect_err(json);
        assert!(matches!(err, Error::Json { .. }), "{json}: {err}");
    }
}

#[test]
fn deep_nesting_in_a_call_is_refused_clearly() {
    let json = format!(
        r#"{{"type":"TEARDOWN","framework_id":{{"value":"f"}},"x":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = from_str::<Call>(&json, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::JsonTooDeep { .. }), "{err}");
}

#[test]
fn terminal_states_match_mesos() {
    let terminal: Vec<&str> = TaskState::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        terminal,
        vec![
            "TASK_FINISHED",
            "TASK_FAILED",
            "TASK_KILLED",
            "TASK_ERROR",
            "TASK_LOST",
            "TASK_DROPPED",
            "TASK_GONE",
            "TASK_GONE_BY_OPERATOR"
        ]
    );
    assert_eq!(TaskState::Staging.number(), 6);
    assert_eq!(TaskState::Unknown.number(), 13);
    assert_eq!(TaskStatusReason::AgentDraining.number(), 34);
    assert_eq!(TaskStatusReason::ALL.len(), 35);
}

#[test]
fn every_enum_name_round_trips() {
    fn check<T>(all: &[T], name: fn(T) -> &'static str, from: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
    {
        for v in all {
            assert_eq!(from(name(*v)), Some(*v));
            assert_eq!(to_string(v), format!("\"{}\"", name(*v)));
            assert_eq!(decode::<T>(&to_string(v)), *v);
        }
    }
    check(TaskState::ALL, TaskState::as_str, TaskState::from_name);
    check(
        TaskStatusReason::ALL,
        TaskStatusReason::as_str,
        TaskStatusReason::from_name,
    );
    check(
        TaskStatusSource::ALL,
        TaskStatusSource::as_str,
        TaskStatusSource::from_name,
    );
    check(
        OperationType::ALL,
        OperationType::as_str,
        OperationType::from_name,
    );
    check(CallType::ALL, CallType::as_str, CallType::from_name);
    check(EventType::ALL, EventType::as_str, EventType::from_name);
    check(
        executor::CallType::ALL,
        executor::CallType::as_str,
        executor::CallType::from_name,
    );
    check(
        executor::EventType::ALL,
        executor::EventType::as_str,
        executor::EventType::from_name,
    );
    check(
        FrameworkCapabilityType::ALL,
        FrameworkCapabilityType::as_str,
        FrameworkCapabilityType::from_name,
    );
    check(
        AgentCapabilityType::ALL,
        AgentCapabilityType::as_str,
        AgentCapabilityType::from_name,
    );
    check(
        MasterCapabilityType::ALL,
        MasterCapabilityType::as_str,
        MasterCapabilityType::from_name,
    );
    check(
        HealthCheckType::ALL,
        HealthCheckType::as_str,
        HealthCheckType::from_name,
    );
    check(
        ExecutorType::ALL,
        ExecutorType::as_str,
        ExecutorType::from_name,
    );
    check(
        ContainerType::ALL,
        ContainerType::as_str,
        ContainerType::from_name,
    );
}

pub(crate) fn sample_task() -> TaskInfo {
    TaskInfo {
        name: "web".into(),
        task_id: TaskId::new("web-1"),
        agent_id: AgentId::new("M-S0"),
        resources: Resources::parse("cpus:0.5;mem:128;ports:[31000-31001]", "*").unwrap(),
        executor: None,
        command: Some(CommandInfo {
            uris: vec![CommandUri {
                value: "http://x/app.tgz".into(),
                executable: Some(false),
                extract: true,
                cache: None,
                output_file: Some("app.tgz".into()),
            }],
            environment: Some(task::Environment {
                variables: vec![EnvironmentVariable {
                    name: "PORT".into(),
                    kind: task::EnvironmentVariableType::Value,
                    value: Some("31000".into()),
                }],
            }),
            ..CommandInfo::exec("/bin/server", &["server", "--port", "31000"])
        }),
        container: Some(ContainerInfo {
            kind: ContainerType::Mesos,
            volumes: vec![task::ContainerVolume {
                container_path: "data".into(),
                host_path: Some("/srv".into()),
                mode: task::VolumeAccessMode::Ro,
            }],
            hostname: Some("web".into()),
        }),
        health_check: Some(HealthCheck::command(CommandInfo::shell("true"))),
        kill_policy: Some(KillPolicy {
            grace_period: Some(DurationInfo::from_secs(3)),
        }),
        data: Some(vec![0, 1, 255]),
        labels: Some(crate::labels::Labels::from_pairs([
            ("k", Some("v")),
            ("flag", None),
        ])),
        max_completion_time: Some(DurationInfo::from_secs(60)),
    }
}

pub(crate) fn sample_executor() -> ExecutorInfo {
    ExecutorInfo {
        kind: Some(ExecutorType::Custom),
        executor_id: ExecutorId::new("exec"),
        framework_id: Some(FrameworkId::new("M-0000")),
        command: Some(CommandInfo::shell("./executor")),
        container: None,
        resources: Resources::parse("cpus:0.1;mem:32", "*").unwrap(),
        name: Some("exec".into()),
        data: None,
        shutdown_grace_period: Some(DurationInfo::from_secs(5)),
        labels: None,
    }
}

pub(crate) fn sample_offer() -> Offer {
    Offer {
        id: OfferId::new("M-O1"),
        framework_id: FrameworkId::new("M-0000"),
        agent_id: AgentId::new("M-S0"),
        hostname: "host".into(),
        url: Some(Url {
            scheme: "http".into(),
            address: Address {
                hostname: Some("host".into()),
                ip: Some("10.0.0.1".into()),
                port: 5051,
            },
            path: Some("/slave(1)".into()),
            fragment: None,
        }),
        resources: Resources::parse("cpus(ops):2;mem:1024;ports:[31000-32000]", "*")
            .unwrap()
            .allocate("ops"),
        attributes: crate::attributes::Attributes::parse("rack:a;level:2").unwrap(),
        executor_ids: vec![ExecutorId::new("exec")],
        unavailability: Some(Unavailability {
            start: TimeInfo { nanoseconds: 1 },
            duration: Some(DurationInfo::from_secs(3600)),
        }),
        allocation_info: Some(offer::AllocationInfo {
            role: Some("ops".into()),
        }),
    }
}

#[test]
fn every_type_round_trips() {
    let task = sample_task();
    task.validate().unwrap();
    round_trip(&task);
    round_trip(&sample_executor());
    round_trip(&sample_offer());
    round_trip(&InverseOffer {
        id: OfferId::new("M-O2"),
        url: None,
        framework_id: FrameworkId::new("M-0000"),
        agent_id: Some(AgentId::new("M-S0")),
        unavailability: Unavailability {
            start: TimeInfo { nanoseconds: -5 },
            duration: None,
        },
        resources: Resources::new(),
    });
    let mut status = TaskStatus::new(TaskId::new("web-1"), TaskState::Failed);
    status.message = Some("boom".into());
    status.source = Some(TaskStatusSource::Executor);
    status.reason = Some(TaskStatusReason::ContainerLimitationMemory);
    status.agent_id = Some(AgentId::new("M-S0"));
    status.executor_id = Some(ExecutorId::new("exec"));
    status.timestamp = Some(1_700_000_000.25);
    status.healthy = Some(false);
    status.container_status = Some(status::ContainerStatus {
        container_id: Some(ContainerId {
            value: "child".into(),
            parent: Some(Box::new(ContainerId::new("parent"))),
        }),
        executor_pid: Some(42),
    });
    status.unreachable_time = Some(TimeInfo { nanoseconds: 7 });
    round_trip(&status);
    let mut framework = FrameworkInfo::new("alice", "demo");
    framework.id = Some(FrameworkId::new("M-0000"));
    framework.role = Some("web".into());
    framework.hostname = Some("h".into());
    framework.principal = Some("p".into());
    framework.webui_url = Some("http://ui".into());
    framework.labels = Some(crate::labels::Labels::from_pairs([("a", Some("b"))]));
    round_trip(&framework);
    let mut agent = AgentInfo::new("h");
    agent.resources = Resources::parse("cpus:4;mem:1024", "*").unwrap();
    agent.attributes = crate::attributes::Attributes::parse("rack:r1").unwrap();
    agent.id = Some(AgentId::new("M-S0"));
    round_trip(&agent);

    for op in [
        Operation::launch(vec![task.clone()]),
        Operation::launch_group(
            sample_executor(),
            TaskGroupInfo {
                tasks: vec![task.clone()],
            },
        ),
        Operation::reserve(Resources::parse("cpus:1", "*").unwrap().push_reservation(
            &crate::resources::ReservationInfo::dynamically("ops", Some("p")),
        )),
        Operation::unreserve(Resources::parse("cpus(ops):1", "*").unwrap()),
        Operation::create(Resources::new()),
        Operation::destroy(Resources::new()),
    ] {
        op.validate().unwrap();
        round_trip(&op);
    }

    let fid = Some(FrameworkId::new("M-0000"));
    let mut calls = Vec::new();
    for kind in CallType::ALL {
        let mut call = Call::new(*kind, fid.clone());
        match kind {
            CallType::Subscribe => {
                let mut info = FrameworkInfo::new("u", "n");
                info.id = fid.clone();
                call.subscribe = Some(scheduler::Subscribe {
                    framework_info: info,
                    suppressed_roles: vec!["x".into()],
                })
            }
            CallType::Accept => {
                call.accept = Some(scheduler::Accept {
                    offer_ids: vec![OfferId::new("o")],
                    operations: vec![Operation::launch(vec![task.clone()])],
                    filters: Some(Filters::default()),
                })
            }
            CallType::Decline => {
                call.decline = Some(scheduler::Decline {
                    offer_ids: vec![OfferId::new("o")],
                    filters: Some(Filters {
                        refuse_seconds: 1.5,
                    }),
                })
            }
            CallType::AcceptInverseOffers => {
                call.accept_inverse_offers = Some(scheduler::InverseOffers::default())
            }
            CallType::DeclineInverseOffers => {
                call.decline_inverse_offers = Some(scheduler::InverseOffers::default())
            }
            CallType::Revive => call.revive = Some(scheduler::Roles::default()),
            CallType::Suppress => {
                call.suppress = Some(scheduler::Roles {
                    roles: vec!["a".into()],
                })
            }
            CallType::Kill => {
                call.kill = Some(scheduler::Kill {
                    task_id: TaskId::new("t"),
                    agent_id: None,
                    kill_policy: None,
                })
            }
            CallType::Shutdown => {
                call.shutdown = Some(scheduler::Shutdown {
                    executor_id: ExecutorId::new("e"),
                    agent_id: AgentId::new("a"),
                })
            }
            CallType::Acknowledge => {
                call.acknowledge = Some(scheduler::Acknowledge {
                    agent_id: AgentId::new("a"),
                    task_id: TaskId::new("t"),
                    uuid: vec![7; 16],
                })
            }
            CallType::AcknowledgeOperationStatus => {
                call.acknowledge_operation_status = Some(scheduler::AcknowledgeOperationStatus {
                    agent_id: Some(AgentId::new("a")),
                    uuid: vec![1; 16],
                    operation_id: OperationId::new("op"),
                })
            }
            CallType::Reconcile => {
                call.reconcile = Some(scheduler::Reconcile {
                    tasks: vec![scheduler::ReconcileTask {
                        task_id: TaskId::new("t"),
                        agent_id: None,
                    }],
                })
            }
            CallType::Message => {
                call.message = Some(scheduler::Message {
                    agent_id: AgentId::new("a"),
                    executor_id: ExecutorId::new("e"),
                    data: b"ping".to_vec(),
                })
            }
            CallType::ReconcileOperations => {
                call.reconcile_operations = Some(scheduler::ReconcileOperations {
                    operations: vec![scheduler::ReconcileOperation {
                        operation_id: OperationId::new("op"),
                        agent_id: Some(AgentId::new("a")),
                    }],
                })
            }
            CallType::Request => {
                call.request = Some(scheduler::Requests {
                    requests: vec![scheduler::ResourceRequest {
                        agent_id: None,
                        resources: Resources::parse("cpus:1", "*").unwrap(),
                    }],
                })
            }
            CallType::UpdateFramework => {
                call.update_framework = Some(scheduler::Subscribe {
                    framework_info: FrameworkInfo::new("u", "n"),
                    suppressed_roles: Vec::new(),
                })
            }
            _ => {}
        }
        if *kind != CallType::Unknown {
            call.validate().unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
        round_trip(&call);
        calls.push(call);
    }
    assert_eq!(calls.len(), CallType::ALL.len());

    let mut event = Event::new(EventType::Offers);
    event.offers = Some(scheduler::Offers {
        offers: vec![sample_offer()],
    });
    round_trip(&event);
    let mut event = Event::new(EventType::Update);
    event.update = Some(scheduler::Update { status });
    round_trip(&event);
    let mut event = Event::new(EventType::UpdateOperationStatus);
    event.update_operation_status = Some(scheduler::UpdateOperationStatus {
        status: offer::OperationStatus {
            operation_id: Some(OperationId::new("op")),
            state: offer::OperationState::Finished,
            message: None,
            converted_resources: Resources::parse("cpus(ops):1", "*").unwrap(),
            uuid: Some(offer::Uuid { value: vec![2; 16] }),
            agent_id: Some(AgentId::new("a")),
        },
    });
    let json = round_trip(&event);
    assert!(
        json.contains(r#""uuid":{"value":"AgICAgICAgICAgICAgICAg=="}"#),
        "{json}"
    );
    assert!(offer::OperationState::Finished.is_terminal());
    assert!(!offer::OperationState::Pending.is_terminal());
    let mut event = Event::new(EventType::Failure);
    event.failure = Some(scheduler::Failure {
        agent_id: Some(AgentId::new("a")),
        executor_id: Some(ExecutorId::new("e")),
        status: Some(9),
    });
    round_trip(&event);
    let mut event = Event::new(EventType::Rescind);
    event.rescind = Some(scheduler::Rescind {
        offer_id: OfferId::new("o"),
    });
    assert_eq!(
        round_trip(&event),
        r#"{"type":"RESCIND","rescind":{"offer_id":{"value":"o"}}}"#
    );
    assert_eq!(
        round_trip(&Event::new(EventType::Heartbeat)),
        r#"{"type":"HEARTBEAT"}"#
    );
}

#[test]
fn executor_envelopes_round_trip_and_validate() {
    let mut status = TaskStatus::new(TaskId::new("t"), TaskState::Running);
    status.uuid = Some(vec![3; 16]);
    status.source = Some(TaskStatusSource::Executor);
    let call = executor::Call {
        executor_id: ExecutorId::new("e"),
        framework_id: FrameworkId::new("f"),
        kind: executor::CallType::Update,
        subscribe: None,
        update: Some(executor::Update {
            status: status.clone(),
        }),
        message: None,
    };
    call.validate().unwrap();
    round_trip(&call);
    let mut short = call.clone();
    short.update.as_mut().unwrap().status.uuid = Some(vec![1; 15]);
    assert!(short
        .validate()
        .unwrap_err()
        .to_string()
        .contains("16 bytes, got 15"));
    let mut staging = call.clone();
    staging.update.as_mut().unwrap().status.state = TaskState::Staging;
    assert!(staging
        .validate()
        .unwrap_err()
        .to_string()
        .contains("TASK_STAGING"));
    let mut from_agent = call.clone();
    from_agent.update.as_mut().unwrap().status.source = Some(TaskStatusSource::Agent);
    assert!(from_agent
        .validate()
        .unwrap_err()
        .to_string()
        .contains("SOURCE_EXECUTOR"));
    let mut other = call.clone();
    other.update.as_mut().unwrap().status.executor_id = Some(ExecutorId::new("x"));
    assert!(other.validate().unwrap_err().to_string().contains("'x'"));

    let subscribe = executor::Call {
        kind: executor::CallType::Subscribe,
        subscribe: Some(executor::Subscribe {
            unacknowledged_tasks: vec![sample_task()],
            unacknowledged_updates: vec![executor::UnacknowledgedUpdate { status }],
        }),
        update: None,
        ..call
    };
    subscribe.validate().unwrap();
    round_trip(&subscribe);

    let mut event = executor::Event::new(executor::EventType::Subscribed);
    event.subscribed = Some(executor::Subscribed {
        executor_info: sample_executor(),
        framework_info: FrameworkInfo::new("u", "n"),
        agent_info: AgentInfo::new("h"),
        container_id: Some(ContainerId::new("c")),
    });
    round_trip(&event);
    let mut event = executor::Event::new(executor::EventType::Launch);
    event.launch = Some(executor::Launch {
        task: sample_task(),
    });
    round_trip(&event);
    let mut event = executor::Event::new(executor::EventType::Acknowledged);
    event.acknowledged = Some(executor::Acknowledged {
        task_id: TaskId::new("t"),
        uuid: vec![9; 16],
    });
    round_trip(&event);
    let mut event = executor::Event::new(executor::EventType::Kill);
    event.kill = Some(executor::Kill {
        task_id: TaskId::new("t"),
        kill_policy: None,
    });
    round_trip(&event);
    round_trip(&executor::Event::new(executor::EventType::Shutdown));
}

#[test]
fn call_validation_follows_mesos() {
    let mut call = Call::new(CallType::Acknowledge, Some(FrameworkId::new("f")));
    assert!(call.validate().unwrap_err().to_string().contains("payload"));
    call.acknowledge = Some(scheduler::Acknowledge {
        agent_id: AgentId::new("a"),
        task_id: TaskId::new("t"),
        uuid: vec![0; 3],
    });
    assert!(call
        .validate()
        .unwrap_err()
        .to_string()
        .contains("16 bytes"));
    let teardown = Call::new(CallType::Teardown, None);
    assert!(teardown
        .validate()
        .unwrap_err()
        .to_string()
        .contains("framework_id"));
    let mut subscribe = Call::new(CallType::Subscribe, Some(FrameworkId::new("other")));
    subscribe.subscribe = Some(scheduler::Subscribe {
        framework_info: FrameworkInfo::new("u", "n"),
        suppressed_roles: Vec::new(),
    });
    assert!(subscribe
        .validate()
        .unwrap_err()
        .to_string()
        .contains("differs"));
    let mut bad_role = FrameworkInfo::new("u", "n");
    bad_role.role = Some("a//b".into());
    assert!(bad_role
        .validate()
        .unwrap_err()
        .to_string()
        .contains("'a//b'"));
    let mut task = sample_task();
    task.executor = Some(sample_executor());
    assert!(task.validate().unwrap_err().to_string().contains("both"));
    let mut op = Operation::launch(vec![]);
    op.id = Some(OperationId::new("x"));
    assert!(op
        .validate()
        .unwrap_err()
        .to_string()
        .contains("'id' is not allowed"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_into_the_decoders_never_panics(text in "\\PC{0,60}") {
        let limits = Limits::default();
        let _ = from_str::<Call>(&text, &limits);
        let _ = from_str::<Event>(&text, &limits);
        let _ = from_str::<executor::Call>(&text, &limits);
        let _ = from_str::<TaskInfo>(&text, &limits);
        let _ = from_str::<Resources>(&text, &limits);
        let _ = Resources::parse(&text, "*");
        let _ = crate::attributes::Attributes::parse(&text);
    }

    #[test]
    fn json_shaped_noise_into_the_decoders_never_panics(
        text in r#"[\[\]{}:,"a-z0-9 ._-]{0,80}"#
    ) {
        let limits = Limits::default();
        let _ = from_str::<Call>(&text, &limits);
        let _ = from_str::<TaskStatus>(&text, &limits);
        let _ = from_str::<Offer>(&text, &limits);
        let _ = Resources::parse(&text, "*");
    }
}
