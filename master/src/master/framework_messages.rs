//! The master's handling of frameworks: registration, re-registration (failover),
//! disconnection and the failover timeout, teardown, and the v1 scheduler calls other than
//! ACCEPT/DECLINE (which live in `accept.rs`): REVIVE, SUPPRESS, KILL, ACKNOWLEDGE,
//! RECONCILE, MESSAGE, TEARDOWN.

use std::time::Duration;

use libprocess::slog::{info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::scheduler::{Call, CallType};
use meso_api::v1::{
    FrameworkCapabilityType, FrameworkId, FrameworkInfo, KillPolicy, TaskId, TaskState, TaskStatus,
};
use meso_api::wire;

use super::allocation::AllocatorCall;
use super::reconciliation::{reconciliation_status, unknown_task_state, AgentStanding};
use super::registrar::RegistryChange;
use super::sends::send_to_driver;
use super::{Master, MasterMessage};
use meso_allocator::FrameworkSpec;

/// The allocator's view of a framework.
pub(super) fn spec_of(info: &FrameworkInfo, suppressed: &[String]) -> FrameworkSpec {
    FrameworkSpec {
        roles: info.effective_roles(),
        revocable: info.has_capability(FrameworkCapabilityType::RevocableResources),
        suppressed_roles: suppressed.to_vec(),
    }
}

impl Master {
    pub(super) fn framework_pid(&self, id: &FrameworkId) -> Option<Upid> {
        self.frameworks
            .get(id)
            .filter(|f| f.connected)
            .and_then(|f| f.pid.clone())
    }

    /// Whether `from` is the connected scheduler of `id` (messages from anyone else are
    /// dropped, as Mesos does).
    pub(super) fn sender_is_framework(
        &self,
        ctx: &Context<Self>,
        from: &Option<Upid>,
        id: &FrameworkId,
    ) -> bool {
        let ok = from.is_some() && self.framework_pid(id) == *from;
        if !ok {
            warn!(ctx.node().logger(), "message for a framework from another sender dropped";
                "framework" => %id, "from" => from.as_ref().map(|f| f.to_string()));
        }
        ok
    }

    pub(super) fn register_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        mut msg: wire::RegisterFramework,
    ) {
        let Some(pid) = from else {
            return;
        };
        if let Some(message) = self.refuse_framework_authentication(ctx, &pid, &mut msg.framework) {
            send_to_driver(ctx, &pid, wire::FrameworkError { message });
            return;
        }
        if let Some(id) = self.frameworks.by_pid(&pid).cloned() {
            send_to_driver(
                ctx,
                &pid,
                wire::FrameworkRegistered {
                    framework_id: id,
                    master_info: self.master_info(),
                },
            );
            return;
        }
        if let Some(message) = self.refuse_invalid_framework(ctx, &pid, &msg.framework) {
            send_to_driver(ctx, &pid, wire::FrameworkError { message });
            return;
        }
        if msg.framework.id.is_some() {
            send_to_driver(
                ctx,
                &pid,
                wire::FrameworkError {
                    message: "a new framework must not carry an id; re-register instead"
                        .to_string(),
                },
            );
            return;
        }
        let id = self.frameworks.next_id();
        let info = msg.framework;
        self.frameworks
            .add(info.clone(), id.clone(), Some(pid.clone()));
        self.on_framework_changed(ctx, &id, true);
        ctx.link(&pid);
        self.allocator(AllocatorCall::AddFramework {
            framework: id.value.clone(),
            spec: spec_of(&info, &[]),
            active: true,
        });
        let mut recorded = info.clone();
        recorded.id = Some(id.clone());
        self.registry(ctx, RegistryChange::AddFramework(recorded), None);
        info!(ctx.node().logger(), "framework registered"; "framework" => %id, "name" => &info.name, "pid" => %pid);
        send_to_driver(
            ctx,
            &pid,
            wire::FrameworkRegistered {
                framework_id: id,
                master_info: self.master_info(),
            },
        );
    }

    /// Why a driver's framework is refused before (re-)registration: invalid, or not
    /// allowed by the ACLs (logged); `None` when it may go on.
    fn refuse_invalid_framework(
        &self,
        ctx: &Context<Self>,
        pid: &Upid,
        framework: &FrameworkInfo,
    ) -> Option<String> {
        if let Err(e) = framework.validate() {
            return Some(format!("invalid framework: {e}"));
        }
        let why = self.refuse_framework(framework)?;
        info!(ctx.node().logger(), "framework refused by the ACLs"; "pid" => %pid, "reason" => &why);
        Some(why)
    }

    pub(super) fn reregister_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        mut msg: wire::ReregisterFramework,
    ) {
        let Some(pid) = from else {
            return;
        };
        if let Some(message) = self.refuse_framework_authentication(ctx, &pid, &mut msg.framework) {
            send_to_driver(ctx, &pid, wire::FrameworkError { message });
            return;
        }
        let Some(id) = msg.framework.id.clone() else {
            send_to_driver(
                ctx,
                &pid,
                wire::FrameworkError {
                    message: "re-registration needs the framework id".to_string(),
                },
            );
            return;
        };
        if let Some(message) = self.refuse_invalid_framework(ctx, &pid, &msg.framework) {
            send_to_driver(ctx, &pid, wire::FrameworkError { message });
            return;
        }
        let info = msg.framework;
        if self.frameworks.get(&id).is_some() {
            let was_active = self.frameworks.get(&id).is_some_and(|f| f.active);
            self.close_http_link(&id, "Framework failed over");
            if let Some(old) = self.frameworks.reconnect(&id, info.clone(), pid.clone()) {
                ctx.unlink(&old);
                send_to_driver(
                    ctx,
                    &old,
                    wire::FrameworkError {
                        message: "framework failed over".to_string(),
                    },
                );
            }
            self.allocator(AllocatorCall::UpdateFramework(
                id.value.clone(),
                spec_of(&info, &[]),
            ));
            if !was_active {
                self.allocator(AllocatorCall::Activate(id.value.clone()));
            }
        } else {
            // Unknown (e.g. after a master failover): take it back under its id.
            self.frameworks
                .add(info.clone(), id.clone(), Some(pid.clone()));
            self.allocator(AllocatorCall::AddFramework {
                framework: id.value.clone(),
                spec: spec_of(&info, &[]),
                active: true,
            });
        }
        self.on_framework_changed(ctx, &id, false);
        ctx.link(&pid);
        // Record (or refresh) it so its failover timeout survives the next master failover.
        let mut recorded = info.clone();
        recorded.id = Some(id.clone());
        self.registry(ctx, RegistryChange::AddFramework(recorded), None);
        info!(ctx.node().logger(), "framework re-registered"; "framework" => %id, "pid" => %pid);
        send_to_driver(
            ctx,
            &pid,
            wire::FrameworkReregistered {
                framework_id: id,
                master_info: self.master_info(),
            },
        );
    }

    /// The scheduler's connection broke: stop offers, rescind outstanding ones, and start
    /// the failover timer.
    pub(super) fn framework_disconnected(&mut self, ctx: &mut Context<Self>, id: &FrameworkId) {
        let Some(generation) = self.frameworks.disconnect(id) else {
            return;
        };
        self.on_framework_changed(ctx, id, false);
        self.allocator(AllocatorCall::Deactivate(id.value.clone()));
        for offer in self.offers.of_framework(id) {
            self.rescind_offer(ctx, &offer, None);
        }
        let timeout = self
            .frameworks
            .get(id)
            .map(|f| f.info.failover_timeout)
            .unwrap_or(0.0);
        info!(ctx.node().logger(), "framework disconnected"; "framework" => %id, "failover_timeout_s" => timeout);
        let after = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::MAX / 4);
        ctx.delay(
            after,
            MasterMessage::FailoverTimeout(id.clone(), generation),
        );
    }

    pub(super) fn failover_timeout(
        &mut self,
        ctx: &mut Context<Self>,
        id: &FrameworkId,
        generation: u64,
    ) {
        let expired = self
            .frameworks
            .get(id)
            .is_some_and(|f| !f.connected && f.failover_generation == generation);
        if expired {
            info!(ctx.node().logger(), "framework failover timeout; removing it"; "framework" => %id);
            self.remove_framework(ctx, id);
        }
    }

    pub(super) fn deactivate_framework(&mut self, ctx: &mut Context<Self>, id: &FrameworkId) {
        self.frameworks.deactivate(id);
        self.on_framework_changed(ctx, id, false);
        self.allocator(AllocatorCall::Deactivate(id.value.clone()));
        for offer in self.offers.of_framework(id) {
            self.rescind_offer(ctx, &offer, None);
        }
    }

    /// Removes a framework: its offers are recovered, its tasks killed on their agents.
    pub(super) fn remove_framework(&mut self, ctx: &mut Context<Self>, id: &FrameworkId) {
        let Some(record) = self.frameworks.remove(id) else {
            return;
        };
        self.on_framework_removed(ctx, &record);
        self.http_framework_removed(id);
        for offer in self.offers.of_framework(id) {
            if let Some(o) = self.offers.remove(&offer) {
                self.recover(
                    &id.value,
                    &o.offer.agent_id.value,
                    &o.role,
                    o.offer.resources,
                    None,
                );
            }
        }
        let tasks: Vec<_> = self.tasks.of_framework(id).cloned().collect();
        let mut agents = std::collections::BTreeSet::new();
        for task in tasks {
            agents.insert(task.agent_id.clone());
            if !task.recovered {
                self.recover(
                    &id.value,
                    &task.agent_id.value,
                    &task.role,
                    task.consumed.clone(),
                    None,
                );
            }
            // A task that already reported a terminal state (its update not acknowledged
            // yet) keeps it, as in Mesos; the others are killed with the framework.
            let state = match task.state.is_terminal() {
                true => task.state,
                false => TaskState::Killed,
            };
            self.tasks.complete(id, &task.info.task_id, state);
        }
        for agent in agents {
            if let Some(a) = self.agents.get(&agent) {
                self.send_to_agent(
                    ctx,
                    &a.pid,
                    wire::ShutdownFramework {
                        framework_id: id.clone(),
                    },
                );
            }
        }
        self.allocator(AllocatorCall::RemoveFramework(id.value.clone()));
        if let Some(pid) = &record.pid {
            ctx.unlink(pid);
        }
        self.registry(ctx, RegistryChange::RemoveFramework(id.clone()), None);
        info!(ctx.node().logger(), "framework removed"; "framework" => %id);
    }

    pub(super) fn kill_task(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        task: &TaskId,
        kill_policy: Option<KillPolicy>,
    ) {
        match self.tasks.get(framework, task) {
            Some(t) => {
                match self.agents.get(&t.agent_id) {
                    Some(agent) if agent.active => {
                        self.send_to_agent(
                            ctx,
                            &agent.pid,
                            wire::KillTask {
                                framework_id: framework.clone(),
                                task_id: task.clone(),
                                kill_policy,
                            },
                        );
                    }
                    // Disconnected: the kill is sent when it re-registers.
                    _ => {
                        let agent = t.agent_id.clone();
                        self.pending_kills
                            .record(&agent, framework.clone(), task.clone());
                    }
                }
            }
            None if self.unreachable_tasks.find(framework, task).is_some() => {
                // Its agent is unreachable: the kill waits for it, and the framework is
                // told where the task stands (as Mesos answers by reconciliation).
                let parked = self
                    .unreachable_tasks
                    .find(framework, task)
                    .map(|t| (t.agent_id.clone(), t.state));
                if let Some((agent, state)) = parked {
                    self.pending_kills
                        .record(&agent, framework.clone(), task.clone());
                    let status = reconciliation_status(
                        task.clone(),
                        state,
                        Some(agent),
                        "the task's agent is unreachable; it is killed when the agent returns",
                    );
                    self.send_master_update(ctx, framework, status);
                }
            }
            None => {
                let partition_aware = self
                    .frameworks
                    .get(framework)
                    .is_some_and(|f| f.partition_aware());
                let state = unknown_task_state(AgentStanding::Unknown, partition_aware);
                let status = reconciliation_status(
                    task.clone(),
                    state,
                    None,
                    "attempted to kill an unknown task",
                );
                self.send_master_update(ctx, framework, status);
            }
        }
    }

    pub(super) fn reconcile(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        statuses: Vec<TaskStatus>,
    ) {
        let partition_aware = self
            .frameworks
            .get(framework)
            .is_some_and(|f| f.partition_aware());
        let mut answers = Vec::new();
        if statuses.is_empty() {
            for task in self.tasks.of_framework(framework) {
                answers.push(reconciliation_status(
                    task.info.task_id.clone(),
                    task.state,
                    Some(task.agent_id.clone()),
                    "reconciliation: latest task state",
                ));
            }
        } else {
            for asked in statuses {
                if let Some(task) = self.tasks.get(framework, &asked.task_id) {
                    answers.push(reconciliation_status(
                        asked.task_id,
                        task.state,
                        Some(task.agent_id.clone()),
                        "reconciliation: latest task state",
                    ));
                    continue;
                }
                if asked
                    .agent_id
                    .as_ref()
                    .is_some_and(|a| self.is_recovering(a))
                {
                    // Recovered, not re-registered yet: no answer (Mesos); the framework
                    // retries.
                    continue;
                }
                if let Some(parked) = self.unreachable_tasks.find(framework, &asked.task_id) {
                    answers.push(reconciliation_status(
                        asked.task_id,
                        parked.state,
                        Some(parked.agent_id.clone()),
                        "reconciliation: the task's agent is unreachable",
                    ));
                    continue;
                }
                let standing = match &asked.agent_id {
                    Some(a) if self.agents.get(a).is_some() => AgentStanding::Registered,
                    Some(a) if self.agents.is_unreachable(a) => AgentStanding::Unreachable,
                    Some(a) if self.agents.is_gone(a) => AgentStanding::Gone,
                    _ => AgentStanding::Unknown,
                };
                answers.push(reconciliation_status(
                    asked.task_id,
                    unknown_task_state(standing, partition_aware),
                    asked.agent_id,
                    "reconciliation: task unknown to the master",
                ));
            }
        }
        for status in answers {
            self.send_master_update(ctx, framework, status);
        }
    }

    pub(super) fn framework_to_executor(
        &mut self,
        ctx: &mut Context<Self>,
        msg: wire::FrameworkToExecutor,
    ) {
        if let Some(agent) = self.agents.get(&msg.agent_id) {
            self.send_to_agent(ctx, &agent.pid, msg);
        }
    }

    /// A v1 scheduler call over the message transport.
    pub(super) fn scheduler_call(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        call: Call,
    ) {
        if let Err(e) = call.validate() {
            if let Some(pid) = &from {
                send_to_driver(
                    ctx,
                    pid,
                    wire::FrameworkError {
                        message: format!("invalid call: {e}"),
                    },
                );
            }
            return;
        }
        let Some(framework) = call.framework_id.clone() else {
            return;
        };
        if call.kind == CallType::Subscribe {
            if let Some(subscribe) = call.subscribe {
                let msg = wire::ReregisterFramework {
                    framework: subscribe.framework_info,
                    failover: true,
                };
                self.reregister_framework(ctx, from, msg);
            }
            return;
        }
        if !self.sender_is_framework(ctx, &from, &framework) {
            return;
        }
        self.apply_scheduler_call(ctx, framework, call);
    }

    /// Carries out a validated v1 scheduler call (not SUBSCRIBE) of the connected
    /// framework `framework`, whichever way it came (driver message or HTTP).
    pub(super) fn apply_scheduler_call(
        &mut self,
        ctx: &mut Context<Self>,
        framework: FrameworkId,
        call: Call,
    ) {
        match call.kind {
            CallType::Teardown => self.remove_framework(ctx, &framework),
            CallType::Accept => {
                if let Some(accept) = call.accept {
                    self.accept(
                        ctx,
                        &framework,
                        accept.offer_ids,
                        accept.operations,
                        accept.filters,
                    );
                }
            }
            CallType::Decline => {
                if let Some(decline) = call.decline {
                    self.decline(&framework, decline.offer_ids, decline.filters);
                }
            }
            CallType::Revive => {
                let roles = call.revive.map(|r| r.roles).unwrap_or_default();
                self.allocator(AllocatorCall::Revive(framework.value, roles));
            }
            CallType::Suppress => {
                let roles = call.suppress.map(|r| r.roles).unwrap_or_default();
                self.allocator(AllocatorCall::Suppress(framework.value, roles));
            }
            CallType::Kill => {
                if let Some(kill) = call.kill {
                    self.kill_task(ctx, &framework, &kill.task_id, kill.kill_policy);
                }
            }
            CallType::Acknowledge => {
                if let Some(ack) = call.acknowledge {
                    self.acknowledge(
                        ctx,
                        wire::StatusUpdateAcknowledgement {
                            agent_id: ack.agent_id,
                            framework_id: framework,
                            task_id: ack.task_id,
                            uuid: ack.uuid,
                        },
                    );
                }
            }
            CallType::Reconcile => {
                let tasks = call.reconcile.map(|r| r.tasks).unwrap_or_default();
                let statuses = tasks
                    .into_iter()
                    .map(|t| {
                        let mut s = TaskStatus::new(t.task_id, TaskState::Staging);
                        s.agent_id = t.agent_id;
                        s
                    })
                    .collect();
                self.reconcile(ctx, &framework, statuses);
            }
            CallType::Message => {
                if let Some(m) = call.message {
                    self.framework_to_executor(
                        ctx,
                        wire::FrameworkToExecutor {
                            agent_id: m.agent_id,
                            framework_id: framework,
                            executor_id: m.executor_id,
                            data: m.data,
                        },
                    );
                }
            }
            _ => self.apply_other_scheduler_call(ctx, &framework, call),
        }
    }
}
