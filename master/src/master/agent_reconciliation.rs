//! Reconciling the task list of an agent that re-registers while the master still has it
//! registered (it restarted and recovered, or its link broke and healed), as Mesos's
//! `reconcileKnownSlave`.
//!
//! - A task the master has on the agent that the agent does not report is either gone
//!   from the agent (a launch lost in a crash, a sandbox lost) or on its way to it (a launch
//!   that crossed the re-registration in flight). Only the agent can tell, so the master
//!   asks it, as Mesos's `reconcileKnownSlave` does: `AgentReregistered` carries the tasks
//!   (`reconciliations`), and the agent answers TASK_DROPPED (PARTITION_AWARE frameworks)
//!   or TASK_LOST, reason REASON_RECONCILIATION, for each one it does not know; the update
//!   ends the task and gives its resources back like any terminal update. (Deciding here
//!   alone ended launches the agent then ran, and their resources were offered twice:
//!   simulator seed 10024.) A task the master already had terminal, waiting for an
//!   acknowledgement the agent can no longer resend, simply completes.
//! - A task the agent reports that the master does not know (it failed over, or the task's
//!   record was lost) is adopted, with its framework, and leaves the completed list if it
//!   was there; the allocator then gets the agent again with everything it runs.
//! - Kills the master could not deliver while the agent was away are sent now.
//!
//! [`missing_from_report`] is the pure part: which of the master's tasks the report lacks.

use std::collections::HashSet;

use libprocess::slog::info;
use libprocess::{Context, Upid};
use meso_api::v1::{AgentId, FrameworkId, TaskId};
use meso_api::wire;

use super::allocation::AllocatorCall;
use super::tasks::Task;
use super::Master;

/// The master's tasks (`known`) that the agent's report (`reported`) does not list.
pub fn missing_from_report(
    known: &[(FrameworkId, TaskId)],
    reported: &HashSet<(&FrameworkId, &TaskId)>,
) -> Vec<(FrameworkId, TaskId)> {
    known
        .iter()
        .filter(|(f, t)| !reported.contains(&(f, t)))
        .cloned()
        .collect()
}

impl Master {
    /// A registered agent re-registered from `pid` with its tasks: see the module docs.
    pub(super) fn reconcile_known_agent(
        &mut self,
        ctx: &mut Context<Self>,
        pid: Upid,
        id: AgentId,
        msg: wire::ReregisterAgent,
    ) {
        let was_active = self.agents.get(&id).is_some_and(|a| a.active);
        // What the agent runs with now (it may have changed online while disconnected, or
        // restarted with other flags): recorded after the answer, as an online change.
        let config = (msg.agent.resources.clone(), msg.agent.attributes.clone());
        self.agents.update_pid(&id, pid.clone());
        let known = self.tasks.on_agent(&id);
        let missing = {
            let reported: HashSet<(&FrameworkId, &TaskId)> = msg
                .tasks
                .iter()
                .map(|r| (&r.framework_id, &r.task.task_id))
                .collect();
            missing_from_report(&known, &reported)
        };
        let reconciliations = self.reconciliations_for(ctx, &id, missing);
        let removed = self.removed_frameworks_of(&msg.frameworks);
        for framework in &msg.frameworks {
            if !framework.id.as_ref().is_some_and(|id| removed.contains(id)) {
                self.adopt_framework(framework);
            }
        }
        let mut adopted = 0usize;
        let mut reported = Vec::with_capacity(msg.tasks.len());
        for record in msg.tasks {
            if removed.contains(&record.framework_id) {
                continue;
            }
            reported.push((
                record.framework_id.clone(),
                record.task.task_id.clone(),
                record.state,
            ));
            if record.state.is_terminal()
                || self
                    .tasks
                    .contains(&record.framework_id, &record.task.task_id)
            {
                continue;
            }
            let task = self.task_of_report(&id, record);
            let (framework, task_id) = (task.framework_id.clone(), task.info.task_id.clone());
            self.tasks.forget_completed(&framework, &task_id);
            self.tasks.add(task);
            self.on_task_added(&framework, &task_id);
            adopted += 1;
        }
        if adopted > 0 {
            info!(ctx.node().logger(), "re-registered agent reports tasks the master did not know; adopted";
                "agent" => %id, "tasks" => adopted);
            self.reallocate_agent(ctx, &id);
        } else if !was_active {
            self.agent_reactivated(&id);
        }
        self.on_agent_added(ctx, &id);
        ctx.link(&pid);
        self.send_to_agent(
            ctx,
            &pid,
            wire::AgentReregistered {
                agent_id: id.clone(),
                total_ping_timeout_seconds: Some(self.ping_timeout_seconds()),
                reconciliations,
            },
        );
        // After the answer, as Mesos: the agent acts on kills once it is registered.
        self.replay_kills(ctx, &pid, &id, &reported);
        self.shut_down_removed_frameworks(ctx, &pid, removed);
        self.apply_agent_controls(ctx, &id);
        self.record_agent_config(ctx, &id, config.0, config.1, None);
    }

    /// The master's tasks the re-registered agent `id` did not report: one already
    /// terminal here (waiting for an acknowledgement the agent can no longer resend)
    /// completes; the others are asked about with the answer (the agent ends each one it
    /// does not know), grouped by framework.
    fn reconciliations_for(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        missing: Vec<(FrameworkId, TaskId)>,
    ) -> Vec<wire::TaskReconciliation> {
        let mut asked: Vec<wire::TaskReconciliation> = Vec::new();
        for (framework_id, task_id) in missing {
            let Some(task) = self.tasks.get(&framework_id, &task_id) else {
                continue;
            };
            if task.state.is_terminal() {
                let state = task.state;
                self.tasks.complete(&framework_id, &task_id, state);
                continue;
            }
            info!(ctx.node().logger(), "task unknown to the re-registered agent; reconciling with the agent";
                "agent" => %id, "task" => %task_id);
            match asked.iter_mut().find(|r| r.framework_id == framework_id) {
                Some(r) => r.task_ids.push(task_id),
                None => asked.push(wire::TaskReconciliation {
                    partition_aware: self.is_partition_aware(&framework_id),
                    framework_id,
                    task_ids: vec![task_id],
                }),
            }
        }
        asked
    }

    /// The master's record of a task an agent reports.
    pub(super) fn task_of_report(&self, id: &AgentId, record: wire::TaskRecord) -> Task {
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
        Task {
            info: record.task,
            framework_id: record.framework_id,
            agent_id: id.clone(),
            state: record.state,
            status: None,
            consumed,
            role,
            recovered: false,
        }
    }

    /// Gives the allocator agent `id` afresh with what its active tasks hold (after tasks
    /// were adopted onto it); its outstanding offers are rescinded first.
    fn reallocate_agent(&mut self, ctx: &mut Context<Self>, id: &AgentId) {
        let Some(total) = self.agents.get(id).map(|a| a.info.resources.clone()) else {
            return;
        };
        for offer in self.offers.on_agent(id) {
            self.rescind_offer(ctx, &offer, None);
        }
        let used = self
            .tasks
            .on_agent(id)
            .iter()
            .filter_map(|(f, t)| self.tasks.get(f, t))
            .filter(|t| !t.recovered)
            .map(|t| {
                (
                    t.framework_id.value.clone(),
                    t.role.clone(),
                    t.consumed.clone(),
                )
            })
            .collect::<Vec<_>>();
        // Adopted revocable tasks may hold more than the last estimate: raise it to them.
        let held = super::oversubscription::held_revocable(used.iter().map(|(_, _, r)| r));
        let revocable = super::oversubscription::raise_to_held(&total.revocable(), &held);
        let total = total.non_revocable() + &revocable;
        self.agents.set_revocable(id, revocable);
        self.allocator(AllocatorCall::RemoveAgent(id.value.clone()));
        self.allocator(AllocatorCall::AddAgent {
            agent: id.value.clone(),
            total,
            used,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreported_tasks_are_missing() {
        let key = |f: &str, t: &str| (FrameworkId::new(f), TaskId::new(t));
        let known = vec![key("f", "t1"), key("f", "t2"), key("g", "t1")];
        let (f, g, t1) = (
            FrameworkId::new("f"),
            FrameworkId::new("g"),
            TaskId::new("t1"),
        );
        let reported: HashSet<_> = [(&f, &t1)].into_iter().collect();
        assert_eq!(
            missing_from_report(&known, &reported),
            vec![key("f", "t2"), key("g", "t1")]
        );
        let all: HashSet<_> = [(&f, &t1), (&g, &t1)].into_iter().collect();
        assert_eq!(missing_from_report(&known, &all), vec![key("f", "t2")]);
        assert!(missing_from_report(&[], &all).is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Missing is exactly the master's tasks minus the reported ones, in the master's
        /// order, whatever the overlap.
        #[test]
        fn missing_is_the_difference(
            known in proptest::collection::btree_set((0u8..3, 0u8..6), 0..12),
            reported in proptest::collection::btree_set((0u8..3, 0u8..6), 0..12),
        ) {
            let ids = |set: &std::collections::BTreeSet<(u8, u8)>| -> Vec<(FrameworkId, TaskId)> {
                set.iter()
                    .map(|(f, t)| (FrameworkId::new(format!("f{f}")), TaskId::new(format!("t{t}"))))
                    .collect()
            };
            let (known_ids, reported_ids) = (ids(&known), ids(&reported));
            let report: HashSet<_> = reported_ids.iter().map(|(f, t)| (f, t)).collect();
            let expected: Vec<_> = known
                .difference(&reported)
                .map(|(f, t)| (FrameworkId::new(format!("f{f}")), TaskId::new(format!("t{t}"))))
                .collect();
            proptest::prop_assert_eq!(missing_from_report(&known_ids, &report), expected);
        }
    }
}
