//! v1 round trips: every type and envelope through JSON, random values through JSON and
//! wire frames, and random input into the decoders (no panics).

use super::executor;
use super::fixtures::{
    arb_framework, arb_status, round_trip, sample_executor, sample_offer, sample_task,
};
use super::scheduler::{self, Call, CallType, Event, EventType};
use super::*;
use crate::json::{from_str, to_string, Limits};
use crate::resources::Resources;
use proptest::prelude::*;

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
        network_infos: vec![status::NetworkInfo::host("10.0.0.7")],
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_statuses_round_trip_in_json_and_in_frames(status in arb_status()) {
        let json = to_string(&status);
        prop_assert_eq!(from_str::<TaskStatus>(&json, &Limits::default()).unwrap(), status.clone());
        use crate::wire::WireMessage;
        let message = crate::wire::ReconcileTasks {
            framework_id: FrameworkId::new("f"),
            statuses: vec![status],
        };
        prop_assert_eq!(crate::wire::ReconcileTasks::decode(&message.encode()).unwrap(), message);
    }

    #[test]
    fn random_frameworks_round_trip(framework in arb_framework()) {
        let json = to_string(&framework);
        prop_assert_eq!(from_str::<FrameworkInfo>(&json, &Limits::default()).unwrap(), framework);
    }
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
