//! Partition awareness on the master (Mesos 1.1+, reference 1.6): what happens to an agent
//! and its tasks when it stops answering pings, when it comes back, and when the operator
//! marks it gone.
//!
//! - **Unreachable**: an agent that missed `--max-agent-ping-timeouts` pings in a row is
//!   marked unreachable, at most as fast as `--agent-removal-rate-limit` allows (a queue
//!   drained by a timer; an agent that answers a ping while queued is spared). Its offers
//!   are rescinded, the allocator forgets it, every framework hears LostAgent, the registry
//!   records it, and each task is reported TASK_UNREACHABLE (with `unreachable_time`) to
//!   PARTITION_AWARE frameworks and TASK_LOST to the others, reason REASON_AGENT_REMOVED.
//!   The tasks are parked in [`super::unreachable_tasks`], not completed; a task already
//!   terminal (its update not yet acknowledged) is parked in that state, unreported.
//! - **Back**: when the agent re-registers, the tasks it reports are active again and each
//!   framework is told their reported state (reason REASON_AGENT_REREGISTERED), so a
//!   PARTITION_AWARE framework sees TASK_RUNNING again; as since Mesos 1.5, nothing is
//!   killed for frameworks that are not partition-aware. Parked tasks it does not report
//!   are dropped (reconciliation then answers TASK_GONE, as Mesos). Kills sent while it was
//!   away are replayed ([`super::pending_kills`]). Tasks of frameworks the master removed
//!   meanwhile are not taken back: the agent is told to shut those frameworks down.
//! - **Gone** (MARK_AGENT_GONE): the agent is recorded gone in the registry; its tasks
//!   (active or parked) end TASK_GONE_BY_OPERATOR for PARTITION_AWARE frameworks and
//!   TASK_LOST for the others; it is told to shut down, and told again whenever it tries
//!   to re-register.
//!
//! Invariant: the allocator forgets an agent (after its offers are rescinded, in the same
//! handler) before its tasks are reported, so no round can offer what they held.

use std::collections::VecDeque;

use libprocess::slog::{info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::{
    AgentId, FrameworkId, FrameworkInfo, TaskId, TaskState, TaskStatus, TaskStatusReason,
    TaskStatusSource, TimeInfo,
};
use meso_api::wire;

use super::allocation::AllocatorCall;
use super::framework_link::ToFramework;
use super::registrar::RegistryChange;
use super::tasks::Task;
use super::{Master, MasterMessage};

/// Agents that missed their pings, waiting for a removal permit.
#[derive(Debug, Default)]
pub struct UnreachableQueue {
    queue: VecDeque<AgentId>,
    /// A pacing timer is pending: the next removal waits for it.
    armed: bool,
}

impl UnreachableQueue {
    /// Queues `id` unless it is queued already; returns whether it was added.
    pub fn push(&mut self, id: AgentId) -> bool {
        if self.queue.contains(&id) {
            return false;
        }
        self.queue.push_back(id);
        true
    }

    /// The next queued agent.
    pub fn pop(&mut self) -> Option<AgentId> {
        self.queue.pop_front()
    }
}

/// A status the master makes up for `task` on `agent`.
pub(super) fn master_status(
    task: TaskId,
    agent: &AgentId,
    state: TaskState,
    reason: TaskStatusReason,
    message: String,
) -> TaskStatus {
    let mut status = TaskStatus::new(task, state);
    status.agent_id = Some(agent.clone());
    status.source = Some(TaskStatusSource::Master);
    status.reason = Some(reason);
    status.message = Some(message);
    status
}

impl Master {
    /// Whether `framework` declared PARTITION_AWARE.
    pub(super) fn is_partition_aware(&self, framework: &FrameworkId) -> bool {
        self.frameworks
            .get(framework)
            .is_some_and(|f| f.partition_aware())
    }

    /// Health checks found `id` silent for too long (or, disconnected, it did not
    /// re-register in time): mark it unreachable now, or queue it behind the removal rate
    /// limit.
    pub(super) fn agent_missed_pings(&mut self, ctx: &mut Context<Self>, id: AgentId) {
        let Some(limit) = self.config.agent_removal_rate_limit else {
            warn!(ctx.node().logger(), "agent missed its pings; marking it unreachable"; "agent" => %id);
            self.mark_unreachable(ctx, &id);
            return;
        };
        if !self.unreachable_queue.push(id.clone()) {
            return;
        }
        warn!(ctx.node().logger(), "agent missed its pings; queued to be marked unreachable";
            "agent" => %id, "rate_limit_interval_secs" => limit.interval().as_secs_f64());
        if !self.unreachable_queue.armed {
            self.mark_next_unreachable(ctx);
        }
    }

    /// Marks the next queued agent unreachable if it is still silent, and arms the pacing
    /// timer for the one after.
    pub(super) fn mark_next_unreachable(&mut self, ctx: &mut Context<Self>) {
        self.unreachable_queue.armed = false;
        while let Some(id) = self.unreachable_queue.pop() {
            // Silent still, or still disconnected (a re-registration timeout): an agent
            // that answered or re-registered meanwhile is spared.
            let still_silent = self.agents.get(&id).is_some_and(|a| {
                a.missed_pings >= self.config.max_agent_ping_timeouts || !a.active
            });
            if !still_silent {
                continue;
            }
            self.mark_unreachable(ctx, &id);
            if let Some(limit) = self.config.agent_removal_rate_limit {
                self.unreachable_queue.armed = true;
                ctx.delay(limit.interval(), MasterMessage::MarkNextUnreachable);
            }
            return;
        }
    }

    /// Marks a registered agent unreachable: see the module docs.
    pub(super) fn mark_unreachable(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
        let Some(record) = self.detach_agent(ctx, id, true) else {
            return;
        };
        let since = self.wall_secs(ctx);
        let unreachable_time = TimeInfo {
            nanoseconds: (since * 1e9) as i64,
        };
        let mut parked = Vec::new();
        for (framework_id, task_id) in self.tasks.on_agent(id) {
            let Some(mut task) = self.tasks.take(&framework_id, &task_id) else {
                continue;
            };
            if task.state.is_terminal() {
                // Its framework has the terminal update and has not acknowledged it yet:
                // parked in that state, nothing more said (AgentWithTerminalTaskPartitioned).
                parked.push(task);
                continue;
            }
            let state = if self.is_partition_aware(&framework_id) {
                TaskState::Unreachable
            } else {
                TaskState::Lost
            };
            let mut status = master_status(
                task_id,
                id,
                state,
                TaskStatusReason::AgentRemoved,
                format!("agent {} ({}) is unreachable", id, record.info.hostname),
            );
            status.unreachable_time = Some(unreachable_time);
            let visible = self.task_info_visibility(&framework_id, Some(&task.info));
            self.operator
                .events
                .task_updated(&visible, &framework_id, &status, state);
            task.state = state;
            task.status = Some(status.clone());
            parked.push(task);
            self.send_master_update(ctx, &framework_id, status);
        }
        info!(ctx.node().logger(), "agent marked unreachable"; "agent" => %id, "tasks" => parked.len());
        self.unreachable_tasks.park(id.clone(), since, parked);
        self.tell_agent_lost(ctx, id);
        let at_ms = libprocess::unix_ms(ctx.wall_time());
        self.registry(
            ctx,
            RegistryChange::MarkUnreachable(id.clone(), at_ms),
            None,
        );
    }

    /// Takes a registered agent out of service: the agent book (kept as unreachable or not),
    /// its offers, the allocator, its link. Its tasks are the caller's to settle, then
    /// `tell_agent_lost`.
    pub(super) fn detach_agent(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        unreachable: bool,
    ) -> Option<super::agents::AgentRecord> {
        let record = self.agents.remove(id, unreachable)?;
        self.on_agent_removed(id);
        // Offers first: the allocator round their recovery triggers is queued behind the
        // removal sent next, so nothing of the agent is offered again.
        for offer in self.offers.on_agent(id) {
            self.rescind_offer(ctx, &offer, None);
        }
        self.allocator(AllocatorCall::RemoveAgent(id.value.clone()));
        ctx.unlink(&record.pid);
        Some(record)
    }

    /// Every connected framework hears that agent `id` is lost (after its tasks' updates,
    /// as Mesos's `sendSlaveLost`).
    fn tell_agent_lost(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
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
    }

    /// Ends `task` (active or parked) of an agent that is gone or removed: TASK_GONE_BY_OPERATOR
    /// (`by_operator`, PARTITION_AWARE frameworks) or TASK_LOST; the task completes.
    fn end_task_of_removed_agent(
        &mut self,
        ctx: &mut Context<Self>,
        mut task: Task,
        by_operator: bool,
        message: &str,
    ) {
        let framework_id = task.framework_id.clone();
        let (state, reason) = if by_operator && self.is_partition_aware(&framework_id) {
            (
                TaskState::GoneByOperator,
                TaskStatusReason::AgentRemovedByOperator,
            )
        } else {
            (TaskState::Lost, TaskStatusReason::AgentRemoved)
        };
        let status = master_status(
            task.info.task_id.clone(),
            &task.agent_id,
            state,
            reason,
            message.to_string(),
        );
        let visible = self.task_info_visibility(&framework_id, Some(&task.info));
        self.operator
            .events
            .task_updated(&visible, &framework_id, &status, state);
        task.state = state;
        task.status = Some(status.clone());
        self.tasks.add_completed(task);
        self.send_master_update(ctx, &framework_id, status);
    }

    /// Removes a registered agent for good (it unregistered, or a new agent registered at
    /// its address): its tasks end (TASK_GONE_BY_OPERATOR for PARTITION_AWARE frameworks,
    /// as Mesos's `removeSlave`, else TASK_LOST), and the registry forgets it.
    pub(super) fn remove_agent(&mut self, ctx: &mut Context<Self>, id: &AgentId, why: &str) {
        let Some(record) = self.detach_agent(ctx, id, false) else {
            return;
        };
        let message = format!("agent {} ({}) removed: {why}", id, record.info.hostname);
        for (framework_id, task_id) in self.tasks.on_agent(id) {
            if let Some(task) = self.tasks.take(&framework_id, &task_id) {
                self.end_task_of_removed_agent(ctx, task, true, &message);
            }
        }
        self.tell_agent_lost(ctx, id);
        self.pending_kills.forget(id);
        // Nothing is sent to its PID (Mesos's `removeSlave` does not): an agent that
        // unregistered is leaving, and a new agent may now live at that address.
        self.registry(ctx, RegistryChange::RemoveAgent(id.clone()), None);
    }

    /// MARK_AGENT_GONE for a registered, unreachable or recovering agent; `false` when the
    /// master knows no such agent (or it is gone already).
    pub(super) fn mark_agent_gone(&mut self, ctx: &mut Context<Self>, id: &AgentId) -> bool {
        let message = format!("agent {id} was marked gone by the operator");
        let registered = self.agents.get(id).is_some();
        let tasks: Vec<Task> = if let Some(record) = self.detach_agent(ctx, id, false) {
            self.send_to_agent(
                ctx,
                &record.pid,
                wire::ShutdownAgent {
                    message: "Agent has been marked gone".to_string(),
                },
            );
            self.tasks
                .on_agent(id)
                .into_iter()
                .filter_map(|(f, t)| self.tasks.take(&f, &t))
                .collect()
        } else if self.agents.is_unreachable(id) {
            self.unreachable_tasks
                .take(id)
                .map(|a| a.tasks)
                .unwrap_or_default()
        } else if self.recovery.book.is_recovering(id) {
            // Its tasks are not known yet (as Mesos, MESOS-9739: no updates).
            self.recovery.book.reregistered(id);
            Vec::new()
        } else {
            return false;
        };
        info!(ctx.node().logger(), "agent marked gone by the operator"; "agent" => %id, "tasks" => tasks.len());
        for task in tasks {
            self.end_task_of_removed_agent(ctx, task, true, &message);
        }
        if registered {
            self.tell_agent_lost(ctx, id);
        }
        self.pending_kills.forget(id);
        self.agents.mark_gone(id.clone());
        let at_ms = libprocess::unix_ms(ctx.wall_time());
        self.registry(ctx, RegistryChange::MarkGone(id.clone(), at_ms), None);
        true
    }

    /// Refuses the re-registration of an agent marked gone, telling it to shut down.
    /// Returns whether it was refused.
    pub(super) fn refuse_gone_agent(
        &mut self,
        ctx: &mut Context<Self>,
        pid: &Upid,
        id: &AgentId,
    ) -> bool {
        if !self.agents.is_gone(id) {
            return false;
        }
        warn!(ctx.node().logger(), "re-registration of an agent marked gone refused"; "agent" => %id, "pid" => %pid);
        self.send_to_agent(
            ctx,
            pid,
            wire::ShutdownAgent {
                message: "Agent has been marked gone".to_string(),
            },
        );
        true
    }

    /// An agent marked unreachable (or unknown to this master, not recovered from the
    /// registry) re-registered with `reported` tasks, now active again: each framework is
    /// told the state the agent reports. Parked tasks it did not report are dropped.
    pub(super) fn unreachable_agent_back(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        reported: &[(FrameworkId, TaskId, TaskState)],
    ) {
        let was_unreachable = self.unreachable_tasks.take(id).is_some();
        let message = if was_unreachable {
            "Unreachable agent re-registered"
        } else {
            "Unknown agent re-registered"
        };
        for (framework_id, task_id, _) in reported {
            let Some(task) = self.tasks.get(framework_id, task_id) else {
                continue;
            };
            let mut status = match &task.status {
                Some(s) => s.clone(),
                None => TaskStatus::new(task_id.clone(), task.state),
            };
            status.state = task.state;
            status.agent_id = Some(id.clone());
            status.source = Some(TaskStatusSource::Master);
            status.reason = Some(TaskStatusReason::AgentReregistered);
            status.message = Some(message.to_string());
            status.uuid = None;
            status.unreachable_time = None;
            let visible = self.task_event_visibility(framework_id, task_id);
            self.operator
                .events
                .task_updated(&visible, framework_id, &status, status.state);
            self.send_master_update(ctx, framework_id, status);
        }
    }

    /// The frameworks among `reported` (an agent's re-registration) that this master has
    /// removed: their tasks are not taken back, and the agent is told to shut them down
    /// (PartitionedSlaveOrphanedTask; Mesos's `isCompletedFramework`).
    pub(super) fn removed_frameworks_of(&self, reported: &[FrameworkInfo]) -> Vec<FrameworkId> {
        reported
            .iter()
            .filter_map(|f| f.id.as_ref())
            .filter(|id| self.frameworks.get(id).is_none() && self.framework_links.was_removed(id))
            .cloned()
            .collect()
    }

    /// Tells the agent at `pid` to shut down `frameworks` (removed at the master).
    pub(super) fn shut_down_removed_frameworks(
        &mut self,
        ctx: &mut Context<Self>,
        pid: &Upid,
        frameworks: Vec<FrameworkId>,
    ) {
        for framework_id in frameworks {
            info!(ctx.node().logger(), "re-registered agent runs a framework removed at the master; shutting it down";
                "framework" => %framework_id, "pid" => %pid);
            self.send_to_agent(ctx, pid, wire::ShutdownFramework { framework_id });
        }
    }

    /// Sends the kills recorded while `id` was away for the tasks it reports non-terminal.
    pub(super) fn replay_kills(
        &mut self,
        ctx: &mut Context<Self>,
        pid: &Upid,
        id: &AgentId,
        reported: &[(FrameworkId, TaskId, TaskState)],
    ) {
        if !self.pending_kills.has(id) {
            return;
        }
        let kills = self.pending_kills.take(id);
        for (framework_id, task_id, state) in reported {
            if state.is_terminal() || !kills.contains(&(framework_id.clone(), task_id.clone())) {
                continue;
            }
            warn!(ctx.node().logger(), "re-registered agent runs a task killed while it was away; killing it now";
                "agent" => %id, "task" => %task_id);
            self.send_to_agent(
                ctx,
                pid,
                wire::KillTask {
                    framework_id: framework_id.clone(),
                    task_id: task_id.clone(),
                    kill_policy: None,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_queued_once() {
        let mut q = UnreachableQueue::default();
        assert!(q.push(AgentId::new("a")));
        assert!(!q.push(AgentId::new("a")));
        assert!(q.push(AgentId::new("b")));
        assert_eq!(q.pop(), Some(AgentId::new("a")));
        assert_eq!(q.pop(), Some(AgentId::new("b")));
        assert_eq!(q.pop(), None);
    }
}
