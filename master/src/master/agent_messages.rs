//! The master's handling of agents: registration (through the registrar), re-registration
//! with running tasks, and health checks. A registered agent that re-registers has its task
//! list reconciled (`agent_reconciliation`); an agent that misses its pings is marked
//! unreachable and one that comes back is adopted again (`partition`).

use libprocess::slog::{debug, info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::{AgentId, FrameworkInfo};
use meso_api::wire;

use super::allocation::{offer_shape, AllocatorCall};
use super::framework_link::ToFramework;
use super::registrar::RegistryChange;
use super::reservations::registered_total;
use super::{Master, MasterMessage, PendingAdmission};

impl Master {
    pub(super) fn ping_timeout_seconds(&self) -> f64 {
        self.config.agent_ping_timeout.as_secs_f64()
            * f64::from(self.config.max_agent_ping_timeouts)
    }

    pub(super) fn register_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        mut msg: wire::RegisterAgent,
    ) {
        let Some(pid) = from else {
            warn!(
                ctx.node().logger(),
                "RegisterAgent without a sender dropped"
            );
            return;
        };
        if self.refuse_unauthenticated_agent(ctx, &pid) {
            return;
        }
        if let Some(id) = self.agents.by_pid(&pid).cloned() {
            let active = self.agents.get(&id).is_some_and(|a| a.active);
            if !active || self.tasks.has_on_agent(&id) {
                // A new agent at the address of one whose link broke (it restarted
                // without its state): the old one is removed, as Mesos does, and the new
                // one registers under a new id below. An agent that runs tasks cannot be
                // retrying its first registration either: it restarted before the master
                // saw its link break (MESOS-675), and is treated the same.
                info!(ctx.node().logger(), "a new agent registered at the address of a registered one; removing the old one";
                    "agent" => %id, "pid" => %pid, "old_connected" => active);
                self.remove_agent(ctx, &id, "a new agent registered at the same address");
            } else {
                // A retry: the first answer was lost.
                self.send_to_agent(
                    ctx,
                    &pid,
                    wire::AgentRegistered {
                        agent_id: id,
                        total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
                    },
                );
                return;
            }
        }
        if self.refuse_down_machine(ctx, &pid, &msg.agent.hostname) {
            return;
        }
        let total = msg
            .agent
            .resources
            .validate()
            .map_err(|e| format!("invalid resources: {e}"))
            .and_then(|()| registered_total(&msg.agent.resources, &msg.checkpointed_resources));
        match total {
            Ok(total) => msg.agent.resources = total,
            Err(message) => return self.refuse_agent(ctx, &pid, message),
        }
        let id = self.agents.next_id();
        let mut info = msg.agent.clone();
        info.id = Some(id.clone());
        self.registry(
            ctx,
            RegistryChange::AdmitAgent(info),
            Some(PendingAdmission::Register(pid, id, msg)),
        );
    }

    pub(super) fn agent_admitted(
        &mut self,
        ctx: &mut Context<Self>,
        pid: Upid,
        id: AgentId,
        msg: wire::RegisterAgent,
        applied: bool,
    ) {
        if self.agents.by_pid(&pid).is_some() || !applied {
            return;
        }
        let total = msg.agent.resources.clone();
        self.agents.add(msg.agent, id.clone(), pid.clone());
        self.on_agent_added(ctx, &id);
        ctx.link(&pid);
        self.allocator(AllocatorCall::AddAgent {
            agent: id.value.clone(),
            total,
            used: Vec::new(),
        });
        info!(ctx.node().logger(), "agent registered"; "agent" => %id, "pid" => %pid);
        ctx.node()
            .metrics()
            .counter(super::metrics::AGENT_REGISTRATIONS)
            .inc();
        self.send_to_agent(
            ctx,
            &pid,
            wire::AgentRegistered {
                agent_id: id.clone(),
                total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
            },
        );
        self.apply_agent_controls(ctx, &id);
    }

    /// Tells an agent whose registration is refused to shut down, saying why.
    fn refuse_agent(&mut self, ctx: &mut Context<Self>, pid: &Upid, message: String) {
        warn!(ctx.node().logger(), "agent registration refused"; "agent" => %pid, "error" => &message);
        self.send_to_agent(ctx, pid, wire::ShutdownAgent { message });
    }

    pub(super) fn reregister_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        mut msg: wire::ReregisterAgent,
    ) {
        let Some(pid) = from else {
            return;
        };
        let Some(id) = msg.agent.id.clone() else {
            warn!(ctx.node().logger(), "ReregisterAgent without an agent id dropped"; "from" => %pid);
            return;
        };
        if self.refuse_unauthenticated_agent(ctx, &pid) {
            return;
        }
        if self.refuse_gone_agent(ctx, &pid, &id) {
            return;
        }
        if self.refuse_down_machine(ctx, &pid, &msg.agent.hostname) {
            return;
        }
        if self.reregistering.contains(&id) {
            // A duplicate (the agent re-sent while its first was being admitted): the first
            // one's answer is the answer, as Mesos's `slaves.reregistering`.
            debug!(ctx.node().logger(), "re-registration already in progress; ignored";
                "agent" => %id, "pid" => %pid);
            return;
        }
        if self.agents.get(&id).is_some() {
            // Still registered (the agent restarted and recovered, or its link broke):
            // its task list is reconciled against the master's, and it gets the master's
            // reservations and volumes if it missed a change.
            let reported = std::mem::take(&mut msg.checkpointed_resources);
            self.reconcile_known_agent(ctx, pid, id.clone(), msg);
            self.resend_checkpointed_if_stale(ctx, &id, &reported);
            return;
        }
        match registered_total(&msg.agent.resources, &msg.checkpointed_resources) {
            Ok(total) => msg.agent.resources = total,
            Err(message) => return self.refuse_agent(ctx, &pid, message),
        }
        if self.recovery.book.is_recovering(&id) {
            // Admitted in the registry already (a master failover): nothing to write, and
            // 10,000 agents coming back must not mean 10,000 refused log entries.
            self.agent_readmitted(ctx, pid, msg);
            return;
        }
        self.reregistering.begin(&id);
        self.registry(
            ctx,
            RegistryChange::MarkReachable(msg.agent.clone()),
            Some(PendingAdmission::Reregister(pid, msg)),
        );
    }

    pub(super) fn agent_readmitted(
        &mut self,
        ctx: &mut Context<Self>,
        pid: Upid,
        msg: wire::ReregisterAgent,
    ) {
        let Some(id) = msg.agent.id.clone() else {
            return;
        };
        self.reregistering.end(&id);
        if self.agents.get(&id).is_some() {
            return;
        }
        if self.refuse_gone_agent(ctx, &pid, &id) {
            return;
        }
        let recovering = self.recovery.book.is_recovering(&id);
        // A recovered agent whose registry record differs from what it runs with (changed
        // online while no master listened): the agent's word is written back below.
        let stale_record = recovering
            && self.recovery.book.agents().get(&id).is_some_and(|r| {
                r.resources != msg.agent.resources || r.attributes != msg.agent.attributes
            });
        self.recovery.book.reregistered(&id);
        if recovering {
            self.note_recovered_agent_back(ctx);
        }
        // Frameworks the master does not know yet (master failover) join inactive; those it
        // removed are shut down on the agent, their tasks not taken back.
        let removed = self.removed_frameworks_of(&msg.frameworks);
        for framework in &msg.frameworks {
            if !framework.id.as_ref().is_some_and(|id| removed.contains(id)) {
                self.adopt_framework(framework);
            }
        }
        // The message is taken apart, not cloned: a failover brings thousands of these,
        // each with its tasks, to this one process. The task keys are kept only for an
        // agent back from unreachable (its frameworks are told) or with kills waiting.
        let wire::ReregisterAgent { agent, tasks, .. } = msg;
        let keep_keys = !recovering || self.pending_kills.has(&id);
        let mut reported = Vec::with_capacity(if keep_keys { tasks.len() } else { 0 });
        let total = agent.resources.clone();
        let mut used = Vec::with_capacity(tasks.len());
        let mut tasks_back = Vec::with_capacity(tasks.len());
        let publish = self.has_operator_subscribers();
        let mut added = Vec::new();
        for record in tasks {
            if !removed.is_empty() && removed.contains(&record.framework_id) {
                continue;
            }
            if keep_keys {
                reported.push((
                    record.framework_id.clone(),
                    record.task.task_id.clone(),
                    record.state,
                ));
            }
            if record.state.is_terminal() {
                continue;
            }
            let task = self.task_of_report(&id, record);
            used.push((
                task.framework_id.value.clone(),
                task.role.clone(),
                task.consumed.clone(),
            ));
            if publish {
                added.push((task.framework_id.clone(), task.info.task_id.clone()));
            }
            tasks_back.push(task);
        }
        self.tasks.add_on_agent(&id, tasks_back);
        for (framework, task) in &added {
            self.on_task_added(framework, task);
        }
        if stale_record {
            let mut record = agent.clone();
            record.id = Some(id.clone());
            self.registry(ctx, RegistryChange::UpdateAgentInfo(record), None);
        }
        self.agents.add(agent, id.clone(), pid.clone());
        // Revocable resources its tasks still hold stay in its total until its estimator
        // reports again.
        let held = super::oversubscription::held_revocable(used.iter().map(|(_, _, r)| r));
        let total = super::oversubscription::with_held_revocable(&total, &held);
        self.agents.set_revocable(&id, held);
        self.on_agent_added(ctx, &id);
        ctx.link(&pid);
        self.allocator(AllocatorCall::AddAgent {
            agent: id.value.clone(),
            total,
            used,
        });
        if !recovering {
            self.unreachable_agent_back(ctx, &id, &reported);
        }
        debug!(ctx.node().logger(), "agent re-registered"; "agent" => %id, "pid" => %pid);
        ctx.node()
            .metrics()
            .counter(super::metrics::AGENT_REREGISTRATIONS)
            .inc();
        self.send_to_agent(
            ctx,
            &pid,
            wire::AgentReregistered {
                agent_id: id.clone(),
                total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
                reconciliations: Vec::new(),
            },
        );
        // After the answer, as Mesos: the agent acts on kills once it is registered.
        self.replay_kills(ctx, &pid, &id, &reported);
        self.shut_down_removed_frameworks(ctx, &pid, removed);
        self.apply_agent_controls(ctx, &id);
    }

    /// Adds a framework known only from an agent's report, disconnected and inactive.
    pub(super) fn adopt_framework(&mut self, framework: &FrameworkInfo) {
        let Some(id) = framework.id.clone() else {
            return;
        };
        if self.frameworks.get(&id).is_some() {
            return;
        }
        self.frameworks.add(framework.clone(), id.clone(), None);
        self.allocator(AllocatorCall::AddFramework {
            framework: id.value,
            spec: super::framework_messages::spec_of(framework, &[]),
            active: false,
        });
    }

    pub(super) fn unregister_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::UnregisterAgent,
    ) {
        let registered_pid = self.agents.get(&msg.agent_id).map(|a| a.pid.clone());
        if registered_pid.is_none() || registered_pid != from {
            return;
        }
        self.remove_agent(ctx, &msg.agent_id, "it unregistered");
    }

    pub(super) fn ping_round(&mut self, ctx: &mut Context<Self>) {
        ctx.delay(self.config.agent_ping_timeout, MasterMessage::PingTimer);
        self.offer_inverse_everywhere(ctx);
        let round = self.agents.ping_round(self.config.max_agent_ping_timeouts);
        for pid in round.ping {
            let connected = self.agent_connected(&pid);
            self.send_to_agent(ctx, &pid, wire::PingAgent { connected });
        }
        for id in round.expired {
            self.agent_missed_pings(ctx, id.clone());
            // Still registered: queued behind the removal rate limit. Pings go on, as
            // Mesos's observer's do, so that an agent that answers is spared.
            if let Some(agent) = self.agents.get(&id) {
                let connected = agent.active;
                self.send_to_agent(ctx, &agent.pid, wire::PingAgent { connected });
            }
        }
    }

    pub(super) fn exited_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::ExitedExecutor,
    ) {
        if !self.sender_is_agent(&from, &msg.agent_id) {
            return;
        }
        let framework = msg.framework_id.clone();
        self.send_to_framework(ctx, &framework, ToFramework::ExitedExecutor(msg));
    }

    pub(super) fn executor_to_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::ExecutorToFramework,
    ) {
        if !self.sender_is_agent(&from, &msg.agent_id) {
            return;
        }
        let framework = msg.framework_id.clone();
        self.send_to_framework(ctx, &framework, ToFramework::Message(msg));
    }

    pub(super) fn sender_is_agent(&self, from: &Option<Upid>, id: &AgentId) -> bool {
        match (from, self.agents.get(id)) {
            (Some(from), Some(agent)) => &agent.pid == from,
            _ => false,
        }
    }

    /// Gives resources back to the allocator (recovered, optionally filtered).
    pub(super) fn recover(
        &self,
        framework: &str,
        agent: &str,
        role: &str,
        resources: meso_api::Resources,
        refuse_seconds: Option<f64>,
    ) {
        if resources.is_empty() {
            return;
        }
        self.allocator(AllocatorCall::Recover {
            offer: offer_shape(framework, agent, role, resources),
            refuse_seconds,
        });
    }
}
