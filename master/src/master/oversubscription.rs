//! An agent's revocable (oversubscribed) resources, from its resource estimator (Mesos's
//! `UpdateSlaveMessage` with oversubscribed resources). The agent reports its revocable
//! total; the master keeps it as the revocable part of the agent's total (so `/master/state`
//! shows `cpus_revocable` and `/metrics/snapshot` `master/cpus_revocable_total`), rescinds
//! the agent's outstanding offers that hold revocable resources when the total shrank, and
//! hands the allocator the new total and the rescinded offers in one call.
//!
//! Invariant: the revocable total the allocator gets is never below what the agent's
//! unfinished tasks hold (a launch may cross the agent's report in flight): each revocable
//! resource is raised to what the tasks hold, so the allocator's "allocated fits the total"
//! holds and the QoS controller, not the report, takes the difference back.

use libprocess::slog::{debug, info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::AgentId;
use meso_api::{wire, Resources};

use super::allocation::{offer_shape, AllocatorCall};
use super::framework_link::ToFramework;
use super::Master;

/// Tasks the agents' QoS controllers evicted (TASK_KILLED with REASON_CONTAINER_PREEMPTED,
/// sent by the agent), by Mesos's per-reason metric name.
pub const EVICTED_METRIC: &str = "master/task_killed/source_slave/reason_container_preempted";

/// Counts `status` in [`EVICTED_METRIC`] when it is a QoS eviction.
pub(super) fn count_eviction(ctx: &Context<Master>, status: &meso_api::v1::TaskStatus) {
    if status.state == meso_api::v1::TaskState::Killed
        && status.reason == Some(meso_api::v1::TaskStatusReason::ContainerPreempted)
    {
        ctx.node().metrics().counter(EVICTED_METRIC).inc();
    }
}

/// The revocable part of what `used` holds, without allocation roles (as an agent's total
/// counts it).
pub fn held_revocable<'a>(used: impl IntoIterator<Item = &'a Resources>) -> Resources {
    let mut out = Resources::new();
    for r in used {
        out += &r.revocable().unallocate();
    }
    out
}

/// The revocable total to keep for an agent that reported `reported` while its tasks hold
/// `held` (revocable, unallocated): every entry of `reported` must be revocable and valid,
/// and each resource is raised to what is held. The error names the offending entry.
pub fn revocable_total(reported: &Resources, held: &Resources) -> Result<Resources, String> {
    reported.validate().map_err(|e| e.to_string())?;
    if let Some(r) = reported.iter().find(|r| !r.revocable) {
        return Err(format!("oversubscribed resource '{r}' is not revocable"));
    }
    if let Some(r) = reported.iter().find(|r| r.is_reserved()) {
        return Err(format!("oversubscribed resource '{r}' is reserved"));
    }
    Ok(raise_to_held(reported, held))
}

/// `revocable` with each resource raised to what `held` holds of it.
pub fn raise_to_held(revocable: &Resources, held: &Resources) -> Resources {
    // `-` saturates: what is held beyond `revocable`, added back.
    let short = held.revocable() - revocable;
    revocable.clone() + &short
}

/// An agent's total as it re-registers: what it reports (never revocable: its estimator
/// reports again once registered) plus the revocable resources its tasks still hold.
pub fn with_held_revocable(reported: &Resources, held: &Resources) -> Resources {
    reported.non_revocable() + &held.revocable()
}

impl Master {
    pub(super) fn update_oversubscribed(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::UpdateOversubscribedResources,
    ) {
        if !self.sender_is_agent(&from, &msg.agent_id) {
            debug!(ctx.node().logger(), "oversubscribed resources from an unknown agent dropped";
                "agent" => %msg.agent_id);
            return;
        }
        let id = msg.agent_id;
        let held = held_revocable(self.unfinished_task_resources(&id).iter());
        let total = match revocable_total(&msg.oversubscribed_resources, &held) {
            Ok(total) => total,
            Err(reason) => {
                warn!(ctx.node().logger(), "oversubscribed resources refused";
                    "agent" => %id, "reason" => reason);
                return;
            }
        };
        self.agents
            .set_revocable_report(&id, msg.oversubscribed_resources);
        self.apply_revocable_total(ctx, &id, total, Vec::new());
    }

    /// Gives back `ended`, what a task on agent `id` held, revocable resources among them,
    /// and lets the agent's revocable total fall back towards its latest report (it had been
    /// raised to what the tasks held), in one allocator call so that no round offers the
    /// task's revocable resources under the old total. Without this, a total raised for
    /// tasks the QoS controller then evicted stayed raised until the estimator's next
    /// change, so the evicted tasks' resources were offered and launched again at once on a
    /// machine the estimator had found busy.
    pub(super) fn recover_revocable(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        ended: meso_allocator::Offer,
    ) {
        let Some(report) = self.agents.get(id).map(|a| a.revocable_report.clone()) else {
            self.allocator(AllocatorCall::Recover {
                offer: ended,
                refuse_seconds: None,
            });
            return;
        };
        let held = held_revocable(self.unfinished_task_resources(id).iter());
        let total = raise_to_held(&report, &held);
        self.apply_revocable_total(ctx, id, total, vec![ended]);
    }

    /// Makes `total` agent `id`'s revocable total: rescinds the agent's offers holding
    /// revocable resources when it shrank, and tells the allocator, giving back `recover`
    /// (a task's resources, when a task's end changed it) in the same call.
    fn apply_revocable_total(
        &mut self,
        ctx: &mut Context<Self>,
        id: &AgentId,
        total: Resources,
        mut recover: Vec<meso_allocator::Offer>,
    ) {
        let reported = recover.is_empty();
        let Some(old) = self.agents.set_revocable(id, total.clone()) else {
            return;
        };
        if old == total {
            for offer in recover {
                self.allocator(AllocatorCall::Recover {
                    offer,
                    refuse_seconds: None,
                });
            }
            return;
        }
        if reported {
            info!(ctx.node().logger(), "agent's oversubscribed resources changed";
                "agent" => %id, "from" => %old, "to" => %total);
        } else {
            debug!(ctx.node().logger(), "agent's revocable total back towards its report";
                "agent" => %id, "from" => %old, "to" => %total);
        }
        // When the total shrinks, offers holding revocable resources go (as Mesos's, which
        // rescinds them on every change); when it only grows they stay, so that an estimate
        // moving up does not take away what a framework is about to accept.
        let shrunk = !total.contains(&old);
        let offers = if shrunk {
            self.offers.on_agent(id)
        } else {
            Vec::new()
        };
        for offer_id in offers {
            let revocable = self
                .offers
                .get(&offer_id)
                .is_some_and(|o| o.offer.resources.iter().any(|r| r.revocable));
            if !revocable {
                continue;
            }
            let Some(record) = self.offers.remove(&offer_id) else {
                continue;
            };
            self.send_to_framework(
                ctx,
                &record.offer.framework_id,
                ToFramework::Rescind(wire::RescindResourceOffer { offer_id }),
            );
            recover.push(offer_shape(
                &record.offer.framework_id.value,
                &record.offer.agent_id.value,
                &record.role,
                record.offer.resources,
            ));
        }
        let total = self
            .agents
            .get(id)
            .map(|a| a.info.resources.clone())
            .expect("set_revocable found the agent registered");
        self.allocator(AllocatorCall::UpdateOversubscribed {
            agent: id.value.clone(),
            total,
            recover,
        });
    }

    /// What the unfinished (not yet recovered) tasks on agent `id` hold.
    fn unfinished_task_resources(&self, id: &AgentId) -> Vec<Resources> {
        self.tasks
            .on_agent(id)
            .iter()
            .filter_map(|(f, t)| self.tasks.get(f, t))
            .filter(|t| !t.recovered)
            .map(|t| t.consumed.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revocable(text: &str) -> Resources {
        Resources::parse(text, "*")
            .unwrap()
            .into_iter()
            .map(meso_api::resources::Resource::into_revocable)
            .collect()
    }

    #[test]
    fn the_total_is_the_report_raised_to_what_tasks_hold() {
        let held = held_revocable(&[revocable("cpus:1.5").allocate("batch")]);
        assert_eq!(held, revocable("cpus:1.5"));
        assert_eq!(
            revocable_total(&revocable("cpus:0.5;mem:256"), &held).unwrap(),
            revocable("cpus:1.5;mem:256")
        );
        assert_eq!(
            revocable_total(&revocable("cpus:2"), &held).unwrap(),
            revocable("cpus:2")
        );
        assert_eq!(
            revocable_total(&Resources::new(), &held).unwrap(),
            revocable("cpus:1.5")
        );
    }

    #[test]
    fn a_non_revocable_or_reserved_report_is_refused_by_name() {
        let e = revocable_total(&Resources::parse("cpus:1", "*").unwrap(), &Resources::new())
            .unwrap_err();
        assert!(e.contains("cpus") && e.contains("not revocable"), "{e}");
        let e = revocable_total(&revocable("cpus(ops):1"), &Resources::new()).unwrap_err();
        assert!(e.contains("reserved"), "{e}");
    }

    #[test]
    fn a_reregistering_agent_keeps_what_its_revocable_tasks_hold() {
        let reported = Resources::parse("cpus:2;mem:1024", "*").unwrap();
        let total = with_held_revocable(&reported, &revocable("cpus:1"));
        assert_eq!(total.non_revocable(), reported);
        assert_eq!(total.revocable(), revocable("cpus:1"));
    }
}
