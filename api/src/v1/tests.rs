//! v1 JSON: the reference's example payloads, golden JSON for Mesos's defaults, typed errors
//! for malformed input, and the structural validation rules.

use super::executor;
use super::fixtures::{decode, decode_err, round_trip, sample_executor, sample_task};
use super::scheduler::{self, Call, CallType, Event, EventType};
use super::*;
use crate::json::{from_str, to_string, Limits};
use crate::resources::Resources;
use crate::Error;

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
fn null_in_a_defaulted_field_means_the_default() {
    let command: CommandInfo = decode(r#"{"value":"ls","shell":null}"#);
    assert!(command.shell);
    let filters: Filters = decode(r#"{"refuse_seconds":null}"#);
    assert_eq!(filters.refuse_seconds, 5.0);
    let agent: AgentInfo = decode(r#"{"hostname":"h","port":null}"#);
    assert_eq!(agent.port, 5051);
    let check: HealthCheck = decode(r#"{"consecutive_failures":null,"delay_seconds":"1.5"}"#);
    assert_eq!((check.consecutive_failures, check.delay_seconds), (3, 1.5));
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
fn task_state_numbers_and_terminality_match_the_reference_table() {
    let table = [
        ("TASK_STAGING", 6, false),
        ("TASK_STARTING", 0, false),
        ("TASK_RUNNING", 1, false),
        ("TASK_KILLING", 8, false),
        ("TASK_FINISHED", 2, true),
        ("TASK_FAILED", 3, true),
        ("TASK_KILLED", 4, true),
        ("TASK_ERROR", 7, true),
        ("TASK_LOST", 5, true),
        ("TASK_DROPPED", 9, true),
        ("TASK_UNREACHABLE", 10, false),
        ("TASK_GONE", 11, true),
        ("TASK_GONE_BY_OPERATOR", 12, true),
        ("TASK_UNKNOWN", 13, false),
    ];
    assert_eq!(TaskState::ALL.len(), table.len());
    for (name, number, terminal) in table {
        let state = TaskState::from_name(name).expect(name);
        assert_eq!(
            (state.number(), state.is_terminal()),
            (number, terminal),
            "{name}"
        );
    }
    for (i, reason) in TaskStatusReason::ALL.iter().enumerate() {
        assert_eq!(
            reason.number() as usize,
            i,
            "{reason}: reasons are numbered 0..=35 (35 is meso's own)"
        );
    }
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
    // Mesos's 35 reasons, then meso's own REASON_FETCHER_FAILED.
    assert_eq!(TaskStatusReason::FetcherFailed.number(), 35);
    assert_eq!(TaskStatusReason::ALL.len(), 36);
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
    let mut multi: FrameworkInfo = decode(
        r#"{"user":"u","name":"n","roles":["a","b"],"capabilities":[{"type":"MULTI_ROLE"}]}"#,
    );
    multi.validate().unwrap();
    multi.roles.push("a".into());
    assert!(multi
        .validate()
        .unwrap_err()
        .to_string()
        .contains("duplicate role 'a'"));
    multi.roles.pop();
    multi.role = Some("a".into());
    assert!(multi
        .validate()
        .unwrap_err()
        .to_string()
        .contains("MULTI_ROLE"));
    let single: FrameworkInfo = decode(r#"{"user":"u","name":"n","roles":["a"]}"#);
    assert!(single
        .validate()
        .unwrap_err()
        .to_string()
        .contains("needs the MULTI_ROLE"));
    let forever: FrameworkInfo = decode(r#"{"user":"u","name":"n","failover_timeout":"Infinity"}"#);
    assert!(forever
        .validate()
        .unwrap_err()
        .to_string()
        .contains("failover_timeout"));
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
