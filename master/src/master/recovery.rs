//! Master recovery after a failover: the registry a newly elected master starts from.
//!
//! Agents admitted in the registry are "recovering" until they re-register (with their
//! tasks). When `--agent-reregister-timeout` fires, the ones still recovering are marked
//! unreachable in the registry, one at a time at most as fast as
//! `--agent-removal-rate-limit` allows (no limit by default). While an agent is
//! recovering, explicit reconciliation of its unknown tasks gets no answer (the framework
//! retries), as in Mesos. Frameworks in the registry are known (disconnected, inactive)
//! from the start, and one that does not re-register within its stored failover timeout is
//! removed, so a failover timeout outlives the master that recorded it (MESOS-4659).
//!
//! Invariant: an agent id is recovering, queued for removal, or neither; an agent that
//! re-registers leaves both at once, so it is never marked unreachable afterwards. When more
//! of the recovered agents than `--recovery-agent-removal-limit` allows are still missing at
//! the timeout, none is marked: the master stops instead (see `removal_limit`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use libprocess::slog::{error, info, warn};
use libprocess::Context;
use meso_api::v1::{AgentId, AgentInfo};

use super::allocation::AllocatorCall;
use super::registrar::{RegistryChange, RegistrySnapshot};
use super::sends::send_to_driver;
use super::{Master, MasterMessage};

/// `--agent-removal-rate-limit`: at most `permits` removals per `per` (Mesos syntax
/// `N/secs`, `N/mins`, `N/hrs`, e.g. `1/10mins`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalRateLimit {
    /// Removals allowed per period (at least 1).
    pub permits: u32,
    /// The period (positive).
    pub per: Duration,
}

/// Why a `--agent-removal-rate-limit` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid agent removal rate limit {value:?}: {reason} (expected N/secs, N/mins or N/hrs, e.g. 1/10mins)")]
pub struct RateLimitError {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl RemovalRateLimit {
    /// Parses `N/<duration>` where the duration is `secs`, `mins`, `hrs` with an optional
    /// count (`1/10mins` is one removal per ten minutes).
    pub fn parse(value: &str) -> Result<RemovalRateLimit, RateLimitError> {
        let err = |reason: &str| RateLimitError {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let (permits, period) = value.split_once('/').ok_or_else(|| err("no '/'"))?;
        let permits: u32 = permits
            .trim()
            .parse()
            .map_err(|_| err("the count before '/' is not a whole number"))?;
        if permits == 0 {
            return Err(err("the count must be at least 1"));
        }
        let period = period.trim();
        let digits = period.chars().take_while(|c| c.is_ascii_digit()).count();
        let (count, unit) = period.split_at(digits);
        let count: u64 = if count.is_empty() {
            1
        } else {
            count
                .parse()
                .map_err(|_| err("the period's count is too large"))?
        };
        let unit_secs = match unit {
            "secs" => 1,
            "mins" => 60,
            "hrs" => 3600,
            _ => return Err(err("the period's unit is not secs, mins or hrs")),
        };
        if count == 0 {
            return Err(err("the period must be positive"));
        }
        let secs = count
            .checked_mul(unit_secs)
            .ok_or_else(|| err("the period is too long"))?;
        Ok(RemovalRateLimit {
            permits,
            per: Duration::from_secs(secs),
        })
    }

    /// The time between two removals.
    pub fn interval(&self) -> Duration {
        self.per / self.permits
    }
}

/// Which recovered agents have not re-registered, and which wait to be marked unreachable.
#[derive(Debug, Default)]
pub struct RecoveryBook {
    recovering: BTreeMap<AgentId, AgentInfo>,
    removal_queue: VecDeque<AgentId>,
}

impl RecoveryBook {
    /// Agents admitted in the registry, all recovering.
    pub fn new(admitted: BTreeMap<AgentId, AgentInfo>) -> RecoveryBook {
        RecoveryBook {
            recovering: admitted,
            removal_queue: VecDeque::new(),
        }
    }

    /// Whether `id` was recovered and has not re-registered (nor been marked unreachable).
    pub fn is_recovering(&self, id: &AgentId) -> bool {
        self.recovering.contains_key(id)
    }

    /// The agents still recovering, with the info the registry holds.
    pub fn agents(&self) -> &BTreeMap<AgentId, AgentInfo> {
        &self.recovering
    }

    /// Number of agents still recovering.
    pub fn len(&self) -> usize {
        self.recovering.len()
    }

    /// Whether no agent is recovering.
    pub fn is_empty(&self) -> bool {
        self.recovering.is_empty()
    }

    /// `id` re-registered: it is no longer recovering or queued for removal.
    pub fn reregistered(&mut self, id: &AgentId) {
        if self.recovering.remove(id).is_some() {
            self.removal_queue.retain(|q| q != id);
        }
    }

    /// The re-registration timeout fired: every agent still recovering is queued for
    /// removal; returns how many.
    pub fn timed_out(&mut self) -> usize {
        self.removal_queue = self.recovering.keys().cloned().collect();
        self.removal_queue.len()
    }

    /// The next agent to mark unreachable, if any is queued (it stops recovering).
    pub fn next_removal(&mut self) -> Option<(AgentId, AgentInfo)> {
        while let Some(id) = self.removal_queue.pop_front() {
            if let Some(info) = self.recovering.remove(&id) {
                return Some((id, info));
            }
        }
        None
    }
}

/// What a master starts with after a failover, and the recovery in progress.
#[derive(Debug, Default)]
pub struct Recovery {
    /// The registry as read on election; taken by `initialize`.
    pub snapshot: Option<RegistrySnapshot>,
    /// Recovered agents not yet back.
    pub book: RecoveryBook,
    /// Time to wait for recovered agents.
    pub reregister_timeout: Duration,
    /// Pace of marking them unreachable.
    pub rate_limit: Option<RemovalRateLimit>,
    /// How many agents the registry held when this master started.
    pub recovered_agents: usize,
    /// `--recovery-agent-removal-limit`.
    pub removal_limit: super::removal_limit::RecoveryRemovalLimit,
}

/// Milliseconds since the Unix epoch by the node's wall clock, for log lines that other
/// processes' logs are compared with (failover phases); not used for any decision.
fn log_unix_ms(ctx: &Context<Master>) -> u64 {
    libprocess::unix_ms(ctx.wall_time())
}

impl Master {
    /// Starts this master from a recovered registry (a new leader after a failover).
    pub fn recovered_from(mut self, snapshot: RegistrySnapshot) -> Master {
        self.recovery.snapshot = Some(snapshot);
        self
    }

    /// Whether agent `id` is recovered and has not re-registered yet.
    pub(super) fn is_recovering(&self, id: &AgentId) -> bool {
        self.recovery.book.is_recovering(id)
    }

    /// Called from `initialize`: loads the registry's agents and frameworks.
    pub(super) fn start_recovery(&mut self, ctx: &mut Context<Self>) {
        let Some(snapshot) = self.recovery.snapshot.take() else {
            return;
        };
        info!(ctx.node().logger(), "master recovered the registry";
            "admitted_agents" => snapshot.admitted.len(),
            "unreachable_agents" => snapshot.unreachable.len(),
            "frameworks" => snapshot.frameworks.len());
        for (id, at_ms) in &snapshot.unreachable {
            self.agents.add_unreachable(id.clone());
            self.departed.unreachable(id.clone(), *at_ms);
        }
        for (id, at_ms) in &snapshot.gone {
            self.agents.mark_gone(id.clone());
            self.departed.gone(id.clone(), *at_ms);
        }
        self.apply_role_change(&RegistryChange::UpdateWeights(snapshot.weights.clone()));
        self.apply_role_change(&RegistryChange::UpdateQuotas(snapshot.quotas.clone()));
        self.recover_maintenance(snapshot.machines.clone(), snapshot.agent_controls.clone());
        for (id, info) in snapshot.frameworks {
            if self.frameworks.get(&id).is_some() {
                continue;
            }
            let timeout = info.failover_timeout;
            self.frameworks.add(info.clone(), id.clone(), None);
            self.allocator(AllocatorCall::AddFramework {
                framework: id.value.clone(),
                spec: super::framework_messages::spec_of(&info, &[]),
                active: false,
            });
            let after = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::MAX / 4);
            let generation = self
                .frameworks
                .get(&id)
                .map(|f| f.failover_generation)
                .unwrap_or(0);
            ctx.delay(after, MasterMessage::FailoverTimeout(id, generation));
        }
        self.recovery.recovered_agents = snapshot.admitted.len();
        self.recovery.book = RecoveryBook::new(snapshot.admitted);
        if !self.recovery.book.is_empty() {
            ctx.delay(
                self.recovery.reregister_timeout,
                MasterMessage::ReregisterTimeout,
            );
        }
    }

    /// Logs the first and the last recovered agent coming back (failover phases), and how
    /// many are back at each tenth.
    pub(super) fn note_recovered_agent_back(&self, ctx: &Context<Self>) {
        let left = self.recovery.book.len();
        let total = self.recovery.recovered_agents;
        let back = total.saturating_sub(left);
        if back == 1 {
            info!(ctx.node().logger(), "first recovered agent re-registered";
                "recovered_agents" => total, "at_unix_ms" => log_unix_ms(ctx));
        } else if left > 0 && back % (total / 10).max(1) == 0 {
            // Progress in tenths: one line per agent would be 10,000 lines in a second.
            info!(ctx.node().logger(), "recovered agents re-registering";
                "back" => back, "recovered_agents" => total, "at_unix_ms" => log_unix_ms(ctx));
        }
        if left == 0 && total > 0 {
            info!(ctx.node().logger(), "every recovered agent re-registered";
                "recovered_agents" => total, "at_unix_ms" => log_unix_ms(ctx));
        }
    }

    /// `--agent-reregister-timeout` fired: mark the agents that did not come back
    /// unreachable, paced by the removal rate limit.
    pub(super) fn reregister_timeout(&mut self, ctx: &mut Context<Self>) {
        let not_back = self.recovery.book.len();
        let recovered = self.recovery.recovered_agents;
        if self.recovery.removal_limit.exceeded(not_back, recovered) {
            // As Mesos: refuse to act on what looks like a widespread failure; a person
            // decides. The host sees the master stop while leading and the process exits
            // non-zero; the next leader recovers the same registry.
            error!(ctx.node().logger(), "post-recovery agent removal limit exceeded: refusing to mark the recovered agents that did not re-register unreachable; stopping";
                "not_reregistered" => not_back, "recovered" => recovered,
                "limit" => %self.recovery.removal_limit);
            ctx.terminate();
            return;
        }
        let queued = self.recovery.book.timed_out();
        if queued > 0 {
            warn!(ctx.node().logger(), "recovered agents did not re-register in time; marking them unreachable"; "agents" => queued);
        }
        self.remove_next_recovered(ctx);
    }

    /// Marks the next queued recovered agent unreachable (all of them without a limit).
    pub(super) fn remove_next_recovered(&mut self, ctx: &mut Context<Self>) {
        loop {
            let Some((id, info)) = self.recovery.book.next_removal() else {
                return;
            };
            info!(ctx.node().logger(), "recovered agent marked unreachable"; "agent" => %id, "hostname" => &info.hostname);
            self.agents.add_unreachable(id.clone());
            let lost = meso_api::wire::LostAgent {
                agent_id: id.clone(),
            };
            for framework in self.frameworks.iter() {
                if let (true, Some(pid)) = (framework.connected, &framework.pid) {
                    send_to_driver(ctx, pid, lost.clone());
                }
            }
            let at_ms = libprocess::unix_ms(ctx.wall_time());
            self.registry(ctx, RegistryChange::MarkUnreachable(id, at_ms), None);
            if let Some(limit) = self.recovery.rate_limit {
                ctx.delay(limit.interval(), MasterMessage::RemoveRecoveredAgent);
                return;
            }
        }
    }
}

/// Ids of a recovered registry's agents, for tests.
pub fn recovering_ids(book: &RecoveryBook) -> BTreeSet<AgentId> {
    book.recovering.keys().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn admitted(ids: &[&str]) -> BTreeMap<AgentId, AgentInfo> {
        ids.iter()
            .map(|id| {
                let mut info = AgentInfo::new("h");
                info.id = Some(AgentId::new(*id));
                (AgentId::new(*id), info)
            })
            .collect()
    }

    #[test]
    fn rate_limits_parse_in_mesos_syntax() {
        let l = RemovalRateLimit::parse("1/10mins").unwrap();
        assert_eq!(l.interval(), Duration::from_secs(600));
        let l = RemovalRateLimit::parse("4/secs").unwrap();
        assert_eq!(l.interval(), Duration::from_millis(250));
        assert_eq!(
            RemovalRateLimit::parse("2/3hrs").unwrap().per,
            Duration::from_secs(3 * 3600)
        );
        for bad in [
            "", "1", "0/secs", "x/secs", "1/days", "1/0secs", "1/", "-1/secs",
        ] {
            let e = RemovalRateLimit::parse(bad).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(e.to_string().contains("N/secs"), "{e}");
        }
    }

    #[test]
    fn agents_that_come_back_are_never_removed() {
        let mut book = RecoveryBook::new(admitted(&["a", "b", "c"]));
        book.reregistered(&AgentId::new("b"));
        assert_eq!(book.timed_out(), 2);
        book.reregistered(&AgentId::new("c"));
        let (first, _) = book.next_removal().unwrap();
        assert_eq!(first, AgentId::new("a"));
        assert!(book.next_removal().is_none());
        assert!(book.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn removed_and_reregistered_partition_the_recovered(
            back_before in proptest::collection::vec(0usize..8, 0..8),
            back_after in proptest::collection::vec(0usize..8, 0..8),
        ) {
            let ids: Vec<String> = (0..8).map(|i| format!("a{i}")).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut book = RecoveryBook::new(admitted(&refs));
            let mut back = BTreeSet::new();
            for i in back_before {
                book.reregistered(&AgentId::new(&ids[i]));
                back.insert(ids[i].clone());
            }
            book.timed_out();
            let mut removed = BTreeSet::new();
            for (n, i) in back_after.iter().enumerate() {
                if n % 2 == 0 {
                    if let Some((id, _)) = book.next_removal() {
                        removed.insert(id.value.clone());
                    }
                }
                if !removed.contains(&ids[*i]) {
                    book.reregistered(&AgentId::new(&ids[*i]));
                    back.insert(ids[*i].clone());
                }
            }
            while let Some((id, _)) = book.next_removal() {
                removed.insert(id.value.clone());
            }
            prop_assert!(removed.is_disjoint(&back));
            prop_assert_eq!(removed.len() + back.len(), 8);
            prop_assert!(recovering_ids(&book).is_empty());
        }
    }
}
