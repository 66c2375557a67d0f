//! The master's handling of agents: registration (through the registrar), re-registration
//! with running tasks, health checks, and removal (offers rescinded, tasks reported
//! TASK_LOST, or TASK_UNREACHABLE to PARTITION_AWARE frameworks).

use libprocess::slog::{debug, info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::{AgentId, FrameworkInfo, TaskState, TaskStatusReason};
use meso_api::wire;

use super::allocation::{offer_shape, AllocatorCall};
use super::framework_link::ToFramework;
use super::registrar::RegistryChange;
use super::tasks::Task;
use super::{Master, MasterMessage, PendingAdmission};

impl Master {
    fn ping_timeout_seconds(&self) -> f64 {
        self.config.agent_ping_timeout.as_secs_f64()
            * f64::from(self.config.max_agent_ping_timeouts)
    }

    pub(super) fn register_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::RegisterAgent,
    ) {
        let Some(pid) = from else {
            warn!(
                ctx.node().logger(),
                "RegisterAgent without a sender dropped"
            );
            return;
        };
        if let Some(id) = self.agents.by_pid(&pid).cloned() {
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
        if let Err(e) = msg.agent.resources.validate() {
            warn!(ctx.node().logger(), "agent registration refused"; "agent" => %pid, "error" => %e);
            self.send_to_agent(
                ctx,
                &pid,
                wire::ShutdownAgent {
                    message: format!("invalid resources: {e}"),
                },
            );
            return;
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
        self.send_to_agent(
            ctx,
            &pid,
            wire::AgentRegistered {
                agent_id: id,
                total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
            },
        );
    }

    pub(super) fn reregister_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::ReregisterAgent,
    ) {
        let Some(pid) = from else {
            return;
        };
        let Some(id) = msg.agent.id.clone() else {
            warn!(ctx.node().logger(), "ReregisterAgent without an agent id dropped"; "from" => %pid);
            return;
        };
        if let Some(record) = self.agents.get(&id) {
            // Still registered (e.g. the agent restarted quickly, or its link broke): take
            // its new PID, and offer from it again if it was disconnected.
            let was_active = record.active;
            self.agents.update_pid(&id, pid.clone());
            if !was_active {
                self.agent_reactivated(&id);
            }
            self.on_agent_added(ctx, &id);
            ctx.link(&pid);
            self.send_to_agent(
                ctx,
                &pid,
                wire::AgentReregistered {
                    agent_id: id,
                    total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
                },
            );
            return;
        }
        if self.recovery.book.is_recovering(&id) {
            // Admitted in the registry already (a master failover): nothing to write, and
            // 10,000 agents coming back must not mean 10,000 refused log entries.
            self.agent_readmitted(ctx, pid, msg);
            return;
        }
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
        if self.agents.get(&id).is_some() {
            return;
        }
        self.recovery.book.reregistered(&id);
        self.note_recovered_agent_back(ctx);
        // Frameworks the master does not know yet (master failover) join inactive.
        for framework in &msg.frameworks {
            self.adopt_framework(framework);
        }
        // The message is taken apart, not cloned: a failover brings thousands of these,
        // each with its tasks, to this one process.
        let wire::ReregisterAgent { agent, tasks, .. } = msg;
        let total = agent.resources.clone();
        let mut used = Vec::with_capacity(tasks.len());
        let mut tasks_back = Vec::with_capacity(tasks.len());
        let publish = self.has_operator_subscribers();
        let mut added = Vec::new();
        for record in tasks {
            if record.state.is_terminal() {
                continue;
            }
            // The task's allocation role (the least, as a map of allocations would list
            // first), without building that map.
            let role = record
                .task
                .resources
                .iter()
                .filter_map(|r| r.allocation_role.as_deref())
                .min()
                .unwrap_or("*")
                .to_string();
            let consumed = super::validation::task_consumption(&record.task, &role);
            used.push((
                record.framework_id.value.clone(),
                role.clone(),
                consumed.clone(),
            ));
            if publish {
                added.push((record.framework_id.clone(), record.task.task_id.clone()));
            }
            tasks_back.push(Task {
                info: record.task,
                framework_id: record.framework_id,
                agent_id: id.clone(),
                state: record.state,
                status: None,
                consumed,
                role,
                recovered: false,
            });
        }
        self.tasks.add_on_agent(&id, tasks_back);
        for (framework, task) in &added {
            self.on_task_added(framework, task);
        }
        self.agents.add(agent, id.clone(), pid.clone());
        self.on_agent_added(ctx, &id);
        ctx.link(&pid);
        self.allocator(AllocatorCall::AddAgent {
            agent: id.value.clone(),
            total,
            used,
        });
        debug!(ctx.node().logger(), "agent re-registered"; "agent" => %id, "pid" => %pid);
        self.send_to_agent(
            ctx,
            &pid,
            wire::AgentReregistered {
                agent_id: id,
                total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
            },
        );
    }

    /// Adds a framework known only from an agent's report, disconnected and inactive.
    fn adopt_framework(&mut self, framework: &FrameworkInfo) {
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
        self.remove_agent(ctx, &msg.agent_id, false);
    }

    pub(super) fn ping_round(&mut self, ctx: &mut Context<Self>) {
        ctx.delay(self.config.agent_ping_timeout, MasterMessage::PingTimer);
        let round = self.agents.ping_round(self.config.max_agent_ping_timeouts);
        for pid in round.ping {
            let connected = self.agent_connected(&pid);
            self.send_to_agent(ctx, &pid, wire::PingAgent { connected });
        }
        for id in round.expired {
            warn!(ctx.node().logger(), "agent missed its pings; removing it"; "agent" => %id);
            self.remove_agent(ctx, &id, true);
        }
    }

    /// Removes a registered agent: rescinds its offers, reports its tasks lost (or
    /// unreachable), tells the allocator, frameworks and registrar.
    pub(super) fn remove_agent(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        unreachable: bool,
    ) {
        let Some(record) = self.agents.remove(id, unreachable) else {
            return;
        };
        self.on_agent_removed(id);
        for offer in self.offers.on_agent(id) {
            self.rescind_offer(ctx, &offer, None);
        }
        for (framework_id, task_id) in self.tasks.on_agent(id) {
            let partition_aware = self
                .frameworks
                .get(&framework_id)
                .is_some_and(|f| f.partition_aware());
            let state = if unreachable && partition_aware {
                TaskState::Unreachable
            } else {
                TaskState::Lost
            };
            let mut status = meso_api::v1::TaskStatus::new(task_id.clone(), state);
            status.agent_id = Some(id.clone());
            status.source = Some(meso_api::v1::TaskStatusSource::Master);
            status.reason = Some(TaskStatusReason::AgentRemoved);
            status.message = Some(format!("agent {} ({}) removed", id, record.info.hostname));
            self.operator
                .events
                .task_updated(&framework_id, &status, state);
            self.tasks.complete(&framework_id, &task_id, state);
            self.send_master_update(ctx, &framework_id, status);
        }
        self.allocator(AllocatorCall::RemoveAgent(id.value.clone()));
        ctx.unlink(&record.pid);
        let lost = wire::LostAgent {
            agent_id: id.clone(),
        };
        let connected: Vec<_> = self
            .frameworks
            .iter()
            .filter(|f| f.connected)
            .filter_map(|f| f.info.id.clone())
            .collect();
        for framework in connected {
            self.send_to_framework(ctx, &framework, ToFramework::LostAgent(lost.clone()));
        }
        let change = if unreachable {
            RegistryChange::MarkUnreachable(id.clone())
        } else {
            self.send_to_agent(
                ctx,
                &record.pid,
                wire::ShutdownAgent {
                    message: "agent removed".to_string(),
                },
            );
            RegistryChange::RemoveAgent(id.clone())
        };
        self.registry(ctx, change, None);
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
