//! meso-api's wire messages between two libprocess nodes over real loopback sockets: an
//! agent-side node asks a master-side process to register, and the reply carries the
//! resources it received (v1 values as embedded JSON, `Resources` natively).

#![cfg(feature = "libprocess")]

use std::time::Duration;

use libprocess::{Context, Handlers, Node, Process, RemoteMessage};
use meso_api::v1::{AgentCapability, AgentCapabilityType, AgentInfo};
use meso_api::wire::{CheckpointResources, RegisterAgent, WireMessage};
use meso_api::Resources;

/// Replies to each registration with everything it was told the agent has.
struct Registrar;

enum RegistrarMessage {
    Register(RegisterAgent),
}

impl From<RegisterAgent> for RegistrarMessage {
    fn from(m: RegisterAgent) -> Self {
        RegistrarMessage::Register(m)
    }
}

impl Process for Registrar {
    type Message = RegistrarMessage;

    fn install(handlers: &mut Handlers<Self>) {
        handlers.on::<RegisterAgent>();
    }

    fn handle(&mut self, ctx: &mut Context<Self>, msg: RegistrarMessage) {
        let RegistrarMessage::Register(register) = msg;
        let all = register.agent.resources.clone() + &register.checkpointed_resources;
        ctx.reply(CheckpointResources { resources: all })
            .expect("the asking node is reachable on loopback");
    }
}

#[test]
fn names_match_between_the_two_traits() {
    assert_eq!(
        <RegisterAgent as RemoteMessage>::NAME,
        <RegisterAgent as WireMessage>::NAME
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_crosses_two_nodes_intact() {
    let master = Node::builder()
        .build()
        .await
        .expect("node binds on loopback");
    let agent_node = Node::builder()
        .build()
        .await
        .expect("node binds on loopback");
    let registrar = master.spawn(Registrar).expect("spawn the registrar");

    let mut agent = AgentInfo::new("agent-1");
    agent.resources =
        Resources::parse("cpus:4;mem:4096;ports:[31000-32000]", "*").expect("valid resources");
    let checkpointed = Resources::parse("disk(ops):100", "*").expect("valid resources");
    let request = RegisterAgent {
        agent: agent.clone(),
        checkpointed_resources: checkpointed.clone(),
        version: "0.1.0".into(),
        capabilities: vec![AgentCapability {
            kind: Some(AgentCapabilityType::MultiRole),
        }],
    };
    // The timeout only guards against a hang; the reply normally takes milliseconds.
    let reply: CheckpointResources = agent_node
        .ask(registrar.upid(), request, Duration::from_secs(60))
        .await
        .expect("the registrar answers");
    assert_eq!(reply.resources, agent.resources + &checkpointed);

    agent_node.shutdown().await;
    master.shutdown().await;
}
