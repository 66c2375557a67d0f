//! Shared test fixtures for the v1 types: JSON helpers, fully populated sample values, and
//! proptest strategies. Used by the v1 and wire tests.

use super::*;
use crate::json::{from_str, to_string, Limits};
use crate::resources::Resources;
use proptest::prelude::*;

pub(crate) fn decode<T: serde::de::DeserializeOwned>(json: &str) -> T {
    from_str(json, &Limits::default()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Encodes, decodes and checks the value survives; returns the JSON.
pub(crate) fn round_trip<T>(value: &T) -> String
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = to_string(value);
    assert!(!json.contains('\n'), "compact output: {json}");
    let back: T = decode(&json);
    assert_eq!(&back, value, "{json}");
    json
}

pub(crate) fn decode_err<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    match from_str::<T>(json, &Limits::default()) {
        Ok(v) => panic!("{json} decoded as {v:?}"),
        Err(e) => e.to_string(),
    }
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
            mesos: Some(MesosInfo {
                image: Some(Image::docker("/srv/images/web")),
            }),
        }),
        health_check: Some(HealthCheck::command(CommandInfo::shell("true"))),
        kill_policy: Some(KillPolicy {
            grace_period: Some(DurationInfo::from_secs(3)),
        }),
        check: Some(super::CheckInfo {
            kind: Some(super::CheckType::Tcp),
            command: None,
            http: None,
            tcp: Some(super::CheckTcp { port: 8080 }),
            delay_seconds: 1.0,
            interval_seconds: 2.0,
            timeout_seconds: 3.0,
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

pub(crate) fn arb_status() -> impl Strategy<Value = TaskStatus> {
    (
        "\\PC{1,12}",
        prop::sample::select(TaskState::ALL),
        prop::option::of("\\PC{0,20}"),
        prop::option::of(prop::sample::select(TaskStatusReason::ALL)),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        prop::option::of(-1.0e12f64..1.0e12),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(
            ("[a-z]{1,4}", prop::option::of("\\PC{0,6}")),
            0..3,
        )),
    )
        .prop_map(
            |(id, state, message, reason, data, timestamp, healthy, labels)| {
                let mut s = TaskStatus::new(TaskId::new(id), state);
                s.message = message;
                s.reason = reason;
                s.uuid = data
                    .as_ref()
                    .map(|d| d.iter().copied().cycle().take(16).collect());
                s.data = data;
                s.timestamp = timestamp;
                s.healthy = healthy;
                s.labels = labels.map(crate::labels::Labels::from_pairs);
                s
            },
        )
}

pub(crate) fn arb_framework() -> impl Strategy<Value = FrameworkInfo> {
    (
        "\\PC{0,10}",
        "\\PC{1,10}",
        prop::option::of("[a-z0-9-]{1,12}"),
        0.0f64..1.0e9,
        any::<bool>(),
        prop::collection::vec("[a-z]{1,5}(/[a-z]{1,5})?", 0..3),
        prop::collection::vec(prop::sample::select(FrameworkCapabilityType::ALL), 0..4),
    )
        .prop_map(
            |(user, name, id, failover_timeout, checkpoint, roles, caps)| {
                let mut f = FrameworkInfo::new(&user, &name);
                f.id = id.map(FrameworkId::new);
                f.failover_timeout = failover_timeout;
                f.checkpoint = checkpoint;
                f.roles = roles;
                f.capabilities = caps
                    .into_iter()
                    .map(|c| FrameworkCapability { kind: Some(c) })
                    .collect();
                f
            },
        )
}
