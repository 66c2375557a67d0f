//! The allocator actor: a thin libprocess process around the pure
//! [`Allocator`](meso_allocator::Allocator) core. The master tells it about agents,
//! frameworks and recovered resources with [`AllocatorCall`]s; it runs an allocation round
//! every `--allocation-interval` and, batched, soon after any call that may make new offers
//! possible (one queued round however many such calls arrive together), and hands the
//! offers to a sink (the master).
//!
//! A round walks every agent, so with 10,000 agents it costs about a millisecond. During a
//! flood of calls (a failover brings 10,000 agents back within a second) back-to-back
//! triggered rounds would take a whole core from the master. So a triggered round waits
//! until [`ROUND_SPACING`] times the previous round's cost has passed since that round
//! ended: the allocator spends at most about a fifth of a core on triggered rounds. A wait
//! under [`MIN_SPACING_WAIT`] is skipped (timers are millisecond-grained, and a small
//! cluster's rounds cost microseconds: waiting would only slow its offers). Measured with the node's clock
//! (a paused test clock measures nothing, so tests see no spacing).
//!
//! Errors from the core (e.g. recovering resources of a framework removed in the meantime,
//! which races are expected to produce) are logged and otherwise ignored: the core changes
//! nothing on error.
//!
//! An agent resized online below what it holds (a forced UPDATE_AGENT) keeps a target here:
//! its total in the core stays at the target plus what is still held beyond it
//! (`meso_api::http::update_agent::effective_total`), and is lowered each time resources
//! on it come back, so it offers nothing beyond the target until the two meet.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use libprocess::slog::{debug, warn};
use libprocess::{Context, Process};
use meso_api::http::update_agent::effective_total;
use meso_api::Resources;

use meso_allocator::{Allocator, AllocatorConfig, AllocatorError, FrameworkSpec, Offer, Timestamp};

/// What the master tells the allocator.
#[derive(Debug)]
pub enum AllocatorCall {
    /// An agent joined, with what known frameworks already use on it.
    AddAgent {
        /// Agent id.
        agent: String,
        /// Its total resources.
        total: Resources,
        /// (framework, role, resources) in use.
        used: Vec<(String, String, Resources)>,
    },
    /// An agent left.
    RemoveAgent(String),
    /// An agent's revocable resources changed: `recover` (its rescinded offers) come back
    /// first, then its total becomes `total`, in one step so that no round sees the one
    /// without the other.
    UpdateOversubscribed {
        /// Agent id.
        agent: String,
        /// Its new total, revocable resources included.
        total: Resources,
        /// Offers rescinded for the change.
        recover: Vec<Offer>,
    },
    /// A framework joined (active unless `active` is false).
    AddFramework {
        /// Framework id.
        framework: String,
        /// Roles and capabilities.
        spec: FrameworkSpec,
        /// Whether offers are made to it now.
        active: bool,
    },
    /// A framework changed its roles or capabilities.
    UpdateFramework(String, FrameworkSpec),
    /// A framework left.
    RemoveFramework(String),
    /// Offers resume for a framework.
    Activate(String),
    /// Offers stop for a framework.
    Deactivate(String),
    /// Offers stop from an agent (its link to the master broke).
    DeactivateAgent(String),
    /// Offers resume from an agent (it re-registered).
    ActivateAgent(String),
    /// Resources come back (unused part of an accept, finished tasks, rescinded offers),
    /// filtered for `refuse_seconds` when given.
    Recover {
        /// Offer shape: framework, agent, role, resources.
        offer: Offer,
        /// Filter duration (seconds), `None` for no filter.
        refuse_seconds: Option<f64>,
    },
    /// Clears filters and suppression for the roles (all when empty).
    Revive(String, Vec<String>),
    /// Stops offers for the roles (all when empty).
    Suppress(String, Vec<String>),
    /// Role weights changed (DRF uses them from the next round).
    UpdateWeights(Vec<(String, f64)>),
    /// A role's quota changed (an empty quota removes it).
    UpdateQuota(String, meso_allocator::Quota),
    /// An offer operation of a framework's ACCEPT converted what it holds on an agent:
    /// `consumed` (held in `role`) becomes `produced`.
    UpdateAllocation {
        /// Framework id.
        framework: String,
        /// Agent id.
        agent: String,
        /// Allocation role.
        role: String,
        /// What the operation consumed.
        consumed: Resources,
        /// What it produced.
        produced: Resources,
    },
    /// An operator's operation converts free resources on an agent, after the agent's
    /// rescinded offers come back (in the same step, so no round offers them again in
    /// between); the answer (the new total, or why not) goes to `done`.
    UpdateAvailable {
        /// The rescinded offers to recover first (unfiltered).
        recovered: Vec<Offer>,
        /// Agent id.
        agent: String,
        /// What the operation consumes (must be free).
        consumed: Resources,
        /// What it produces.
        produced: Resources,
        /// Where the answer goes.
        done: tokio::sync::oneshot::Sender<Result<Resources, meso_allocator::AllocatorError>>,
    },
    /// An agent's total changed online (UPDATE_AGENT). A total below what the agent's
    /// allocations hold is a target: the allocator keeps the agent's total at the target
    /// plus what is still held beyond it, and lowers it as resources come back, so nothing
    /// beyond the target is offered meanwhile.
    UpdateAgent {
        /// Agent id.
        agent: String,
        /// The requested total.
        total: Resources,
    },
    /// Run a round now (timer or batched trigger).
    Round {
        /// True for the periodic timer (which re-arms itself).
        periodic: bool,
    },
    /// Hand the allocator's `/metrics/snapshot` keys to the request.
    Metrics(MetricsRequest),
}

/// A request for the allocator's metrics: called once with its keys (Mesos's names).
pub struct MetricsRequest(pub Box<dyn FnOnce(BTreeMap<String, f64>) + Send>);

impl std::fmt::Debug for MetricsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsRequest")
    }
}

/// The timer of allocation rounds (Mesos's `allocator/mesos/allocation_run_ms`).
pub const ALLOCATION_RUN_TIMER: &str = "allocator/mesos/allocation_run_ms";

/// Where the offers of a round go.
pub type OfferSink = Box<dyn Fn(Vec<Offer>) + Send>;

/// The allocator process.
pub struct AllocatorProcess {
    core: Allocator,
    sink: OfferSink,
    interval: Duration,
    round_queued: bool,
    epoch: Option<Duration>,
    /// When the last round ended and what it cost, on the node's clock.
    last_round: Option<(Duration, Duration)>,
    /// Requested totals of agents that still hold more than them (forced shrinks).
    targets: HashMap<String, Resources>,
    /// What each round cost (set in `initialize`).
    round_timer: Option<libprocess::Timer>,
}

/// A triggered round starts no sooner than this many times the previous round's cost after
/// it ended.
pub const ROUND_SPACING: u32 = 4;

/// Spacing waits shorter than this are skipped: the round is queued at once.
pub const MIN_SPACING_WAIT: Duration = Duration::from_millis(2);

/// How long a triggered round waits at `now`, given when the last round ended and what it
/// cost: `None` to queue it at once. A timer cannot wait less than about a millisecond, so a
/// wait under [`MIN_SPACING_WAIT`] (cheap rounds, a small cluster) is not worth a timer.
fn spacing_wait(last_round: Option<(Duration, Duration)>, now: Duration) -> Option<Duration> {
    let (ended, cost) = last_round?;
    let wait = (ended + cost * ROUND_SPACING).saturating_sub(now);
    (wait >= MIN_SPACING_WAIT).then_some(wait)
}

impl AllocatorProcess {
    /// The pure allocator core, read-only (its books, for in-process checkers).
    pub fn core(&self) -> &Allocator {
        &self.core
    }

    /// An allocator running a round every `interval`, sending offers to `sink`.
    pub fn new(
        config: AllocatorConfig,
        interval: Duration,
        sink: OfferSink,
    ) -> Result<AllocatorProcess, meso_allocator::AllocatorError> {
        Ok(AllocatorProcess {
            core: Allocator::new(config)?,
            sink,
            interval,
            round_queued: false,
            epoch: None,
            last_round: None,
            targets: HashMap::new(),
            round_timer: None,
        })
    }

    /// Gives `agent` the total `target`, or more while its allocations hold more (see
    /// [`AllocatorCall::UpdateAgent`]); the target is kept until the two meet.
    fn resize_agent(&mut self, agent: &str, target: Resources) -> Result<(), AllocatorError> {
        let total = self.core.total_resources(agent)?;
        let free = self.core.free_resources(agent)?;
        let held = total - &free;
        let effective = effective_total(&target, &held);
        if effective == target {
            self.targets.remove(agent);
        } else {
            self.targets.insert(agent.to_string(), target);
        }
        self.core.update_agent(agent, &effective)
    }

    fn now(&mut self, ctx: &Context<Self>) -> Timestamp {
        let now = ctx.node().clock().now();
        let epoch = *self.epoch.get_or_insert(now);
        Timestamp(now.saturating_sub(epoch))
    }

    fn trigger(&mut self, ctx: &Context<Self>) {
        if self.round_queued {
            return;
        }
        self.round_queued = true;
        match spacing_wait(self.last_round, ctx.node().clock().now()) {
            None => {
                let _ = ctx.pid().send(AllocatorCall::Round { periodic: false });
            }
            Some(wait) => {
                ctx.delay(wait, AllocatorCall::Round { periodic: false });
            }
        }
    }

    fn round(&mut self, ctx: &Context<Self>) {
        let started = ctx.node().clock().now();
        let now = self.now(ctx);
        self.core.expire_filters(now);
        let offers = self.core.allocate(now);
        let ended = ctx.node().clock().now();
        let cost = ended.saturating_sub(started);
        self.last_round = Some((ended, cost));
        if let Some(timer) = &self.round_timer {
            timer.record(cost);
        }
        if !offers.is_empty() {
            debug!(ctx.node().logger(), "allocation round"; "offers" => offers.len());
            (self.sink)(offers);
        }
    }
}

impl Process for AllocatorProcess {
    type Message = AllocatorCall;

    fn base_name(&self) -> &str {
        "allocator"
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.now(ctx);
        self.round_timer = Some(ctx.node().metrics().timer(ALLOCATION_RUN_TIMER));
        ctx.delay(self.interval, AllocatorCall::Round { periodic: true });
    }

    fn handle(&mut self, ctx: &mut Context<Self>, call: AllocatorCall) {
        let log = ctx.node().logger().clone();
        let result = match call {
            AllocatorCall::AddAgent { agent, total, used } => {
                let r = self.core.add_agent(&agent, &total, &used);
                self.trigger(ctx);
                r
            }
            AllocatorCall::RemoveAgent(agent) => {
                self.targets.remove(&agent);
                self.core.remove_agent(&agent)
            }
            AllocatorCall::UpdateOversubscribed {
                agent,
                total,
                recover,
            } => {
                for offer in &recover {
                    let r = self.core.recover_resources(
                        &offer.framework,
                        &offer.agent,
                        &offer.role,
                        &offer.resources,
                    );
                    if let Err(e) = r {
                        debug!(log, "rescinded offer not recovered"; "error" => %e);
                    }
                }
                let r = self.core.update_agent(&agent, &total);
                self.trigger(ctx);
                r
            }
            AllocatorCall::AddFramework {
                framework,
                spec,
                active,
            } => {
                let r = self.core.add_framework(&framework, &spec).and_then(|()| {
                    if active {
                        Ok(())
                    } else {
                        self.core.deactivate_framework(&framework)
                    }
                });
                self.trigger(ctx);
                r
            }
            AllocatorCall::UpdateFramework(framework, spec) => {
                let r = self.core.update_framework(&framework, &spec);
                self.trigger(ctx);
                r
            }
            AllocatorCall::RemoveFramework(framework) => self.core.remove_framework(&framework),
            AllocatorCall::Activate(framework) => {
                let r = self.core.activate_framework(&framework);
                self.trigger(ctx);
                r
            }
            AllocatorCall::Deactivate(framework) => self.core.deactivate_framework(&framework),
            AllocatorCall::DeactivateAgent(agent) => self.core.deactivate_agent(&agent),
            AllocatorCall::ActivateAgent(agent) => {
                let r = self.core.activate_agent(&agent);
                self.trigger(ctx);
                r
            }
            AllocatorCall::Recover {
                offer,
                refuse_seconds,
            } => {
                let now = self.now(ctx);
                let mut r = match refuse_seconds {
                    Some(refuse) => self.core.decline(&offer, Some(refuse), now),
                    None => self.core.recover_resources(
                        &offer.framework,
                        &offer.agent,
                        &offer.role,
                        &offer.resources,
                    ),
                };
                if let Some(target) = self.targets.get(&*offer.agent).cloned() {
                    r = r.and_then(|()| self.resize_agent(&offer.agent, target));
                }
                self.trigger(ctx);
                r
            }
            AllocatorCall::Revive(framework, roles) => {
                let r = self.core.revive(&framework, &roles);
                self.trigger(ctx);
                r
            }
            AllocatorCall::Suppress(framework, roles) => self.core.suppress(&framework, &roles),
            AllocatorCall::UpdateWeights(weights) => self.core.update_weights(&weights),
            AllocatorCall::UpdateQuota(role, quota) => self.core.update_quota(&role, &quota),
            AllocatorCall::UpdateAllocation {
                framework,
                agent,
                role,
                consumed,
                produced,
            } => self
                .core
                .update_allocation(&framework, &agent, &role, &consumed, &produced)
                .map(|_| ()),
            AllocatorCall::UpdateAvailable {
                recovered,
                agent,
                consumed,
                produced,
                done,
            } => {
                for offer in &recovered {
                    if let Err(e) = self.core.recover_resources(
                        &offer.framework,
                        &offer.agent,
                        &offer.role,
                        &offer.resources,
                    ) {
                        debug!(log, "rescinded offer not recovered"; "error" => %e);
                    }
                }
                let r = self.core.update_available(&agent, &consumed, &produced);
                self.trigger(ctx);
                // The master may have stopped waiting (it failed over); nothing to do then.
                let _ = done.send(r);
                Ok(())
            }
            AllocatorCall::UpdateAgent { agent, total } => {
                let r = self.resize_agent(&agent, total);
                self.trigger(ctx);
                r
            }
            AllocatorCall::Round { periodic } => {
                if periodic {
                    ctx.delay(self.interval, AllocatorCall::Round { periodic: true });
                } else {
                    self.round_queued = false;
                }
                self.round(ctx);
                Ok(())
            }
            AllocatorCall::Metrics(request) => {
                let now = self.now(ctx);
                (request.0)(super::metrics::allocator_metrics(&self.core.metrics(now)));
                Ok(())
            }
        };
        match result {
            Ok(()) => {}
            // Calls about a framework or agent removed a moment earlier: the expected races
            // (a failover's re-subscribing framework leaves hundreds of these behind).
            Err(
                e @ (meso_allocator::AllocatorError::UnknownFramework { .. }
                | meso_allocator::AllocatorError::UnknownAgent { .. }),
            ) => debug!(log, "allocator call about a removed framework or agent"; "error" => %e),
            Err(e) => warn!(log, "allocator call refused"; "error" => %e),
        }
    }
}

/// Shorthand for the allocator's offer shape.
pub fn offer_shape(framework: &str, agent: &str, role: &str, resources: Resources) -> Offer {
    Offer {
        framework: Arc::from(framework),
        agent: Arc::from(agent),
        role: Arc::from(role),
        resources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libprocess::{Node, Pid, TestClock};
    use tokio::sync::mpsc;

    #[test]
    fn triggered_rounds_wait_four_times_an_expensive_rounds_cost_and_never_for_a_cheap_one() {
        let ms = Duration::from_millis;
        // No round yet, or a cheap one (a small cluster): at once.
        assert_eq!(spacing_wait(None, ms(5)), None);
        assert_eq!(
            spacing_wait(Some((ms(10), Duration::from_micros(50))), ms(10)),
            None
        );
        // A 1 ms round (10,000 agents) that ended at 10 ms: the next one at 14 ms.
        assert_eq!(spacing_wait(Some((ms(10), ms(1))), ms(10)), Some(ms(4)));
        assert_eq!(spacing_wait(Some((ms(10), ms(1))), ms(11)), Some(ms(3)));
        // Less than the minimum left, or past it: at once.
        assert_eq!(spacing_wait(Some((ms(10), ms(1))), ms(13)), None);
        assert_eq!(spacing_wait(Some((ms(10), ms(1))), ms(20)), None);
    }

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    async fn next(rx: &mut mpsc::UnboundedReceiver<Vec<Offer>>) -> Vec<Offer> {
        tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("hang guard: offers")
            .expect("allocator alive")
    }

    /// A paused-clock node running the allocator process (1 s rounds) with agent "a" of
    /// `total` and framework "f" in role "*"; offers arrive on the receiver.
    async fn one_agent_one_framework(
        total: &str,
    ) -> (
        TestClock,
        Node,
        Pid<AllocatorProcess>,
        mpsc::UnboundedReceiver<Vec<Offer>>,
    ) {
        let clock = TestClock::paused();
        let node = Node::builder()
            .test_clock(&clock)
            .build()
            .await
            .expect("node");
        let (tx, rx) = mpsc::unbounded_channel();
        let sink: OfferSink = Box::new(move |offers| {
            let _ = tx.send(offers);
        });
        let process =
            AllocatorProcess::new(AllocatorConfig::default(), Duration::from_secs(1), sink)
                .expect("default config is valid");
        let pid = node.spawn(process).expect("spawn");
        pid.send(AllocatorCall::AddAgent {
            agent: "a".into(),
            total: res(total),
            used: Vec::new(),
        })
        .expect("send");
        pid.send(AllocatorCall::AddFramework {
            framework: "f".into(),
            spec: FrameworkSpec {
                roles: vec!["*".into()],
                ..FrameworkSpec::default()
            },
            active: true,
        })
        .expect("send");
        (clock, node, pid, rx)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_forced_shrink_offers_nothing_beyond_the_new_total_until_usage_falls() {
        let (clock, node, pid, mut rx) = one_agent_one_framework("cpus:4;mem:1024").await;
        let first = next(&mut rx).await.remove(0);
        assert_eq!(first.resources, res("cpus:4;mem:1024").allocate("*"));
        // The whole agent is held (offered counts as allocated); the total drops to 1 cpu.
        pid.send(AllocatorCall::UpdateAgent {
            agent: "a".into(),
            total: res("cpus:1;mem:1024"),
        })
        .expect("send");
        let give_back = |text: &str| AllocatorCall::Recover {
            offer: offer_shape("f", "a", "*", res(text).allocate("*")),
            refuse_seconds: None,
        };
        // 3 cpus come back: 1 is still held, which is all the new total has.
        pid.send(give_back("cpus:3")).expect("send");
        for _ in 0..3 {
            clock.advance(Duration::from_secs(1));
            clock.settle().await;
        }
        assert!(
            rx.try_recv().is_err(),
            "nothing beyond the new total is offered while it is in use"
        );
        // The rest comes back: the agent offers its new total, no more.
        pid.send(give_back("cpus:1;mem:1024")).expect("send");
        let offers = next(&mut rx).await;
        assert_eq!(offers[0].resources, res("cpus:1;mem:1024").allocate("*"));
        node.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_trigger_rounds_and_filters_hold_until_a_periodic_round_after_expiry() {
        let (clock, node, pid, mut rx) = one_agent_one_framework("cpus:2;mem:1024").await;
        // No clock movement: the calls themselves trigger a round.
        let offers = next(&mut rx).await;
        assert_eq!(offers.len(), 1);
        let offer = offers[0].clone();
        assert_eq!(offer.resources, res("cpus:2;mem:1024").allocate("*"));

        // Declined for 10 s: periodic rounds within that offer nothing.
        pid.send(AllocatorCall::Recover {
            offer: offer.clone(),
            refuse_seconds: Some(10.0),
        })
        .expect("send");
        for _ in 0..5 {
            clock.advance(Duration::from_secs(1));
            clock.settle().await;
        }
        assert!(rx.try_recv().is_err(), "filtered resources are not offered");
        for _ in 0..7 {
            clock.advance(Duration::from_secs(1));
            clock.settle().await;
        }
        let again = next(&mut rx).await;
        assert_eq!(again[0].resources, offer.resources);
        node.shutdown().await;
    }
}
