//! The agent's shell around the oversubscription cores (`crate::oversubscription`): every
//! `--qos-correction-interval-min` it lists its containers, and a task off the agent's
//! process reads their usage (`Containerizer::usage`: cgroup or session CPU time, RSS,
//! throttled periods) and the host's procfs counters, then hands the reading back as a
//! message. The agent derives the window, lets the QoS controller pick evictions and the
//! estimator its revocable totals, evicts, and reports to the master.
//!
//! Reporting: a revocable total is sent (`UpdateOversubscribedResources`) after every
//! (re)registration, at once when it shrinks, and when it grew once
//! `--oversubscribed-resources-interval` has passed since the last report. The estimate is
//! taken after the sample's evictions: it leaves out what evicted containers hold and, while
//! a QoS signal fires, offers nothing beyond what the remaining revocable containers hold.
//! Otherwise an evicted task's resources went back to the master inside the report, were
//! offered and launched again at once, and the controller (newest first) evicted the
//! newcomer while older containers waited: evictions matched launches one for one and an
//! old container's eviction took tens of seconds.
//!
//! Eviction: the container is destroyed at once (its executor is not asked: a revocable
//! task's owner was told it can be taken back at any time); its tasks end TASK_KILLED with
//! REASON_CONTAINER_PREEMPTED (Mesos's REASON_EXECUTOR_PREEMPTED, renamed) and the
//! controller's message naming the signal. Only revocable containers are ever chosen.
//!
//! Latency: every eviction's clock (`crate::oversubscription::eviction_clock`) starts at
//! the start of the window in which the controller began firing (or the container's launch,
//! if later) and stops when its executor is reaped; each finished one is logged ("evicted
//! container gone", with `latency_ms`) and recorded in the timers
//! `slave/qos_eviction_latency_ms` and `slave/qos_eviction_kill_ms` (decision to gone).
//! Window times are the wall-clock times at which the readings were asked for.
//!
//! Invariants: the sampling timer carries its generation; at most one reading is in
//! flight; a container is evicted at most once.

use std::collections::HashMap;
use std::time::Duration;

use libprocess::Context;
use meso_api::resources::{Resource, Scalar, Value};
use meso_api::v1::{ContainerId, TaskStatusReason};
use meso_api::wire::UpdateOversubscribedResources;
use meso_api::Resources;
use slog::{info, warn};

use super::books::{Executor, ExecutorState};
use super::{Agent, AgentMessage, Registration};
use crate::containerizer::UsageFuture;
use crate::oversubscription::estimator::Estimate;
use crate::oversubscription::{
    procfs, Correction, Estimator, EstimatorKind, EvictionClock, OversubscriptionConfig,
    QosController, QosKind, RawContainer, RawSample, Sample,
};

/// Mesos's counter of containers the QoS controller evicted.
pub const EXECUTORS_PREEMPTED_METRIC: &str = "slave/executors_preempted";
/// 1 while the QoS controller's latest sample has a signal past its threshold, else 0 (a
/// meso extension: operators and tests see when the machine's own work needs its capacity).
pub const QOS_INTERFERENCE_METRIC: &str = "slave/qos_interference";
/// Timer: from the QoS controller's signal crossing its threshold (the start of the window
/// in which it began firing, or the container's launch if later) to the evicted container's
/// executor reaped (a meso extension).
pub const QOS_EVICTION_LATENCY_METRIC: &str = "slave/qos_eviction_latency_ms";
/// Timer: from the controller naming a container to its executor reaped (a meso extension).
pub const QOS_EVICTION_KILL_METRIC: &str = "slave/qos_eviction_kill_ms";

/// The oversubscription state the agent keeps.
#[derive(Debug)]
pub(crate) struct Oversubscription {
    config: OversubscriptionConfig,
    estimator: Option<Estimator>,
    qos: Option<QosController>,
    previous: Option<RawSample>,
    /// The revocable total last sent, and when (node clock); `None` until sent since the
    /// latest (re)registration.
    sent: Option<(Resources, Duration)>,
    next_seq: u64,
    seqs: HashMap<String, u64>,
    evicting: Vec<String>,
    generation: u64,
    reading: bool,
    /// When the reading in flight was asked for, and the one before it (wall-clock seconds):
    /// the window of the next sample.
    reading_at: f64,
    previous_at: f64,
    clock: EvictionClock,
}

impl Oversubscription {
    /// The state for `config` (nothing runs when both parts are `none`).
    pub(crate) fn new(config: OversubscriptionConfig) -> Oversubscription {
        Oversubscription {
            estimator: (config.estimator == EstimatorKind::Load)
                .then(|| Estimator::new(config.estimator_config)),
            qos: (config.qos == QosKind::Load).then(|| QosController::new(config.thresholds)),
            config,
            previous: None,
            sent: None,
            next_seq: 0,
            seqs: HashMap::new(),
            evicting: Vec::new(),
            generation: 0,
            reading: false,
            reading_at: 0.0,
            previous_at: 0.0,
            clock: EvictionClock::new(),
        }
    }

    /// Numbers a container launched at `at` (wall-clock seconds; newer is higher), for
    /// newest-first evictions and their clocks.
    pub(crate) fn note_launch(&mut self, container_id: &ContainerId, at: f64) {
        self.next_seq += 1;
        self.seqs.insert(container_id.value.clone(), self.next_seq);
        if self.qos.is_some() {
            self.clock.launched(&container_id.value, at);
        }
    }

    /// The master forgot our revocable resources ((re)registration): report again.
    pub(crate) fn registered(&mut self) {
        self.sent = None;
    }
}

/// Whether any resource of the executor or its unfinished tasks is revocable, and what they
/// are allocated in all.
fn allocation(executor: &Executor) -> (bool, Resources) {
    let mut resources = executor.info.resources.clone();
    for task in &executor.queued {
        resources += &task.resources;
    }
    for task in executor.tasks.values() {
        if !task.state.is_terminal() {
            resources += &task.info.resources;
        }
    }
    (resources.iter().any(|r| r.revocable), resources)
}

/// The estimate as revocable resources (zero entries left out).
fn estimate_resources(e: Estimate) -> Resources {
    let mut out = Resources::new();
    for (name, value) in [("cpus", e.cpus), ("mem", e.mem_mb)] {
        let scalar = Scalar::from_milli((value * 1000.0).floor() as i64);
        if scalar > Scalar::default() {
            out.push(Resource::new(name, Value::Scalar(scalar)).into_revocable());
        }
    }
    out
}

impl Agent {
    /// Starts sampling when an estimator or a controller is configured.
    pub(super) fn start_oversubscription(&mut self, ctx: &mut Context<Self>) {
        if !self.oversub.config.enabled() {
            return;
        }
        // Shown (as 0) before the first eviction.
        ctx.node().metrics().counter(EXECUTORS_PREEMPTED_METRIC);
        if self.oversub.qos.is_some() {
            ctx.node().metrics().gauge(QOS_INTERFERENCE_METRIC);
            ctx.node().metrics().timer(QOS_EVICTION_LATENCY_METRIC);
            ctx.node().metrics().timer(QOS_EVICTION_KILL_METRIC);
        }
        info!(self.log, "oversubscription on";
            "estimator" => ?self.oversub.config.estimator, "qos_controller" => ?self.oversub.config.qos);
        self.arm_oversubscription_timer(ctx);
    }

    fn arm_oversubscription_timer(&mut self, ctx: &mut Context<Self>) {
        self.oversub.generation += 1;
        ctx.delay(
            self.oversub.config.sample_interval,
            AgentMessage::OversubscriptionTick {
                generation: self.oversub.generation,
            },
        );
    }

    /// Timer: read the machine and the containers (off this process).
    pub(super) fn oversubscription_tick(&mut self, ctx: &mut Context<Self>, generation: u64) {
        if generation != self.oversub.generation || self.registration == Registration::Terminating {
            return;
        }
        self.arm_oversubscription_timer(ctx);
        if self.oversub.reading {
            return;
        }
        self.oversub.reading = true;
        let timestamp = libprocess::unix_secs(ctx.wall_time());
        self.oversub.reading_at = timestamp;
        let mut work: Vec<(RawContainer, UsageFuture)> = Vec::new();
        for fw in self.frameworks.values() {
            for executor in fw.executors.values() {
                let (revocable, resources) = allocation(executor);
                let id = &executor.container_id;
                work.push((
                    RawContainer {
                        container_id: id.value.clone(),
                        revocable,
                        launch_seq: self.oversub.seqs.get(&id.value).copied().unwrap_or(0),
                        allocated_cpus: resources.cpus().map_or(0.0, |c| c.as_f64()),
                        allocated_mem_mb: resources.mem().map_or(0.0, |m| m.as_f64()),
                        cpu_secs: None,
                        rss_bytes: None,
                        throttled_periods: None,
                    },
                    self.containerizer.usage(id, timestamp),
                ));
            }
        }
        let read = async move {
            let host = procfs::read_host(std::path::Path::new("/proc"));
            let mut containers = Vec::with_capacity(work.len());
            for (mut c, usage) in work {
                if let Ok(stats) = usage.await {
                    c.cpu_secs = match (stats.cpus_user_time_secs, stats.cpus_system_time_secs) {
                        (None, None) => None,
                        (u, s) => Some(u.unwrap_or(0.0) + s.unwrap_or(0.0)),
                    };
                    c.rss_bytes = stats.mem_rss_bytes;
                    c.throttled_periods = stats.cpus_nr_throttled;
                }
                containers.push(c);
            }
            Box::new(RawSample { host, containers })
        };
        ctx.defer(read, AgentMessage::OversubscriptionSample);
    }

    /// A reading came back: corrections first, then the estimate.
    pub(super) fn oversubscription_sample(&mut self, ctx: &mut Context<Self>, raw: RawSample) {
        self.oversub.reading = false;
        let previous = self.oversub.previous.replace(raw);
        let window_start =
            std::mem::replace(&mut self.oversub.previous_at, self.oversub.reading_at);
        let (Some(previous), Some(latest)) = (previous, self.oversub.previous.as_ref()) else {
            return;
        };
        let Some(sample) = Sample::between(&previous, latest) else {
            return;
        };
        // Containers that are gone need no number and no eviction any more.
        let containers = &self.containers;
        self.oversub
            .evicting
            .retain(|id| containers.contains_key(id));
        self.oversub
            .seqs
            .retain(|id, _| containers.contains_key(id));
        let corrections = match self.oversub.qos.as_mut() {
            Some(qos) => {
                let before = qos.firing().to_vec();
                let corrections = qos.corrections(&sample, &self.oversub.evicting);
                let firing = !qos.firing().is_empty();
                self.oversub.clock.observed(window_start, firing);
                ctx.node()
                    .metrics()
                    .gauge(QOS_INTERFERENCE_METRIC)
                    .set(i64::from(firing));
                let crossed: Vec<&str> = qos
                    .firing()
                    .iter()
                    .filter(|s| !before.contains(s))
                    .map(|s| s.name())
                    .collect();
                if !crossed.is_empty() {
                    // The crossing happened within the window that ended now.
                    info!(self.log, "QoS signal crossed its threshold";
                        "signals" => crossed.join(","), "window_secs" => sample.window_secs,
                        "window_start" => format!("{window_start:.3}"));
                }
                corrections
            }
            None => Vec::new(),
        };
        for correction in corrections {
            self.evict(ctx, correction);
        }
        let oversub = &mut self.oversub;
        let interference = oversub.qos.as_ref().is_some_and(|q| !q.firing().is_empty());
        let estimate = oversub
            .estimator
            .as_mut()
            .map(|e| e.observe_while(&sample, &oversub.evicting, interference));
        if let Some(estimate) = estimate {
            self.report_estimate(ctx, estimate_resources(estimate));
        }
    }

    fn report_estimate(&mut self, ctx: &mut Context<Self>, total: Resources) {
        let Some(agent_id) = self.id.clone() else {
            return;
        };
        if self.registration != Registration::Registered {
            return;
        }
        let now = ctx.node().clock().now();
        let due = match &self.oversub.sent {
            None => true,
            Some((sent, _)) if *sent == total => false,
            // Shrunk (something is below what was sent): at once.
            Some((sent, _)) if !total.contains(sent) => true,
            Some((_, at)) => now.saturating_sub(*at) >= self.oversub.config.interval,
        };
        if !due {
            return;
        }
        info!(self.log, "reporting oversubscribed resources"; "resources" => %total);
        let sent = ctx.send(
            &self.config.master,
            UpdateOversubscribedResources {
                agent_id,
                oversubscribed_resources: total.clone(),
            },
        );
        match sent {
            Ok(()) => self.oversub.sent = Some((total, now)),
            Err(e) => warn!(self.log, "oversubscribed resources not sent"; "error" => %e),
        }
    }

    /// Destroys revocable container `correction.container_id`; its tasks end TASK_KILLED with
    /// REASON_CONTAINER_PREEMPTED and the correction's message.
    fn evict(&mut self, ctx: &mut Context<Self>, correction: Correction) {
        let Some((framework_id, executor_id)) =
            self.containers.get(&correction.container_id).cloned()
        else {
            return;
        };
        let Some(executor) = self
            .frameworks
            .get_mut(&framework_id)
            .and_then(|fw| fw.executors.get_mut(&executor_id))
        else {
            return;
        };
        if !allocation(executor).0 {
            // The controller only names revocable containers; never act on another.
            return;
        }
        executor.ended_by_agent = Some((
            TaskStatusReason::ContainerPreempted,
            correction.message.clone(),
        ));
        executor.state = ExecutorState::Terminating;
        executor.pending_kills.clear();
        for task in executor.tasks.values_mut() {
            task.kill_requested = true;
        }
        let container_id = executor.container_id.clone();
        let task_ids = executor
            .queued
            .iter()
            .map(|t| t.task_id.value.as_str())
            .chain(executor.tasks.keys().map(|t| t.value.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        let now = libprocess::unix_secs(ctx.wall_time());
        let clock = self.oversub.clock.evicted(&container_id.value, now);
        warn!(self.log, "evicting a revocable container"; "container_id" => &container_id.value,
            "executor_id" => %executor_id, "framework_id" => %framework_id,
            "task_ids" => task_ids, "signal_at" => format!("{:.3}", clock.signal_at),
            "decided_at" => format!("{:.3}", clock.decided_at), "why" => &correction.message);
        self.oversub.evicting.push(correction.container_id);
        ctx.node()
            .metrics()
            .counter(EXECUTORS_PREEMPTED_METRIC)
            .inc();
        if let Err(e) = self.containerizer.destroy(&container_id) {
            warn!(self.log, "evicted container not destroyed"; "container_id" => &container_id.value,
                "error" => %e);
        }
    }

    /// Container `container_id`'s executor was reaped: an eviction's clock stops.
    pub(super) fn oversubscription_container_gone(
        &mut self,
        ctx: &mut Context<Self>,
        container_id: &ContainerId,
    ) {
        let now = libprocess::unix_secs(ctx.wall_time());
        let Some(timing) = self.oversub.clock.gone(&container_id.value, now) else {
            return;
        };
        let metrics = ctx.node().metrics();
        let (latency, kill) = (timing.latency_ms(), timing.kill_ms());
        metrics
            .timer(QOS_EVICTION_LATENCY_METRIC)
            .record(Duration::from_secs_f64(latency / 1000.0));
        metrics
            .timer(QOS_EVICTION_KILL_METRIC)
            .record(Duration::from_secs_f64(kill / 1000.0));
        info!(self.log, "evicted container gone"; "container_id" => &container_id.value,
            "signal_at" => format!("{:.3}", timing.signal_at),
            "gone_at" => format!("{:.3}", timing.gone_at),
            "latency_ms" => format!("{latency:.0}"), "kill_ms" => format!("{kill:.0}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_becomes_revocable_cpus_and_mem_without_zero_entries() {
        let r = estimate_resources(Estimate {
            cpus: 1.25,
            mem_mb: 0.0,
        });
        assert_eq!(r.len(), 1);
        assert!(r.iter().all(|r| r.revocable));
        assert_eq!(r.cpus().unwrap().as_f64(), 1.25);
        assert!(estimate_resources(Estimate::default()).is_empty());
    }
}
