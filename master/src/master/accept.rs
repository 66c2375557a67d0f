//! Offers in and out of the master: offers from the allocator sent to frameworks, offer
//! rescinds (agent removal, framework disconnection, `--offer-timeout`), ACCEPT with LAUNCH
//! (validated by `validation.rs`) and LAUNCH_GROUP (`accept_group.rs`), and DECLINE.

use std::collections::BTreeMap;

use libprocess::slog::warn;
use libprocess::{Context, Upid};
use meso_api::v1::{
    ExecutorId, Filters, FrameworkId, OfferId, Operation, OperationType, TaskInfo, TaskState,
    TaskStatus, TaskStatusReason, TaskStatusSource,
};
use meso_api::wire;

use super::accept_group::{GroupLaunch, LaunchItem};
use super::framework_link::ToFramework;
use super::tasks::Task;
use super::validation::{allocate_unset, validate_offers, validate_task_with};
use super::{Master, MasterMessage};
use crate::allocator::Offer;

impl Master {
    pub(super) fn offers_from_allocator(&mut self, ctx: &mut Context<Self>, offers: Vec<Offer>) {
        let mut batches: BTreeMap<FrameworkId, wire::ResourceOffers> = BTreeMap::new();
        for offer in offers {
            let framework = FrameworkId::new(&*offer.framework);
            let agent_id = meso_api::v1::AgentId::new(&*offer.agent);
            let target = self
                .frameworks
                .get(&framework)
                .filter(|f| f.active)
                .and_then(|_| self.framework_connection(&framework));
            let agent = self.agents.get(&agent_id).cloned();
            let (Some(_), Some(agent)) = (target, agent) else {
                // The framework or agent left while the round ran.
                self.recover(
                    &offer.framework,
                    &offer.agent,
                    &offer.role,
                    offer.resources,
                    None,
                );
                continue;
            };
            let made = self.offers.create(
                &framework,
                &agent_id,
                &agent.info.hostname,
                &agent.info.attributes,
                &offer.role,
                offer.resources,
            );
            if let Some(timeout) = self.config.offer_timeout {
                ctx.delay(timeout, MasterMessage::OfferTimeout(made.id.clone()));
            }
            let batch = batches
                .entry(framework)
                .or_insert_with(|| wire::ResourceOffers {
                    offers: Vec::new(),
                    pids: Vec::new(),
                });
            batch.offers.push(made);
            batch.pids.push(agent.pid.to_string());
        }
        for (framework, message) in batches {
            self.send_to_framework(ctx, &framework, ToFramework::Offers(message));
        }
    }

    /// Withdraws an outstanding offer: tells its framework (when connected) and recovers its
    /// resources, filtered for `refuse_seconds` when given.
    pub(super) fn rescind_offer(
        &mut self,
        ctx: &mut Context<Self>,
        id: &OfferId,
        refuse_seconds: Option<f64>,
    ) {
        let Some(record) = self.offers.remove(id) else {
            return;
        };
        let rescind = wire::RescindResourceOffer {
            offer_id: id.clone(),
        };
        self.send_to_framework(
            ctx,
            &record.offer.framework_id,
            ToFramework::Rescind(rescind),
        );
        self.recover(
            &record.offer.framework_id.value,
            &record.offer.agent_id.value,
            &record.role,
            record.offer.resources,
            refuse_seconds,
        );
    }

    pub(super) fn launch_tasks(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: wire::LaunchTasks,
    ) {
        if !self.sender_is_framework(ctx, &from, &msg.framework_id) {
            return;
        }
        if msg.tasks.is_empty() {
            self.decline(&msg.framework_id, msg.offer_ids, Some(msg.filters));
        } else {
            self.accept(
                ctx,
                &msg.framework_id,
                msg.offer_ids,
                vec![Operation::launch(msg.tasks)],
                Some(msg.filters),
            );
        }
    }

    pub(super) fn decline(
        &mut self,
        framework: &FrameworkId,
        offer_ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) {
        let refuse = filters.unwrap_or_default().refuse_seconds;
        for id in offer_ids {
            let owned = self
                .offers
                .get(&id)
                .is_some_and(|o| &o.offer.framework_id == framework);
            if !owned {
                continue;
            }
            if let Some(record) = self.offers.remove(&id) {
                self.recover(
                    &framework.value,
                    &record.offer.agent_id.value,
                    &record.role,
                    record.offer.resources,
                    Some(refuse),
                );
            }
        }
    }

    pub(super) fn launch_failure(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        task: &TaskInfo,
        state: TaskState,
        reason: TaskStatusReason,
        message: String,
    ) {
        let mut status = TaskStatus::new(task.task_id.clone(), state);
        status.agent_id = Some(task.agent_id.clone());
        status.source = Some(TaskStatusSource::Master);
        status.reason = Some(reason);
        status.message = Some(message);
        self.send_master_update(ctx, framework, status);
    }

    /// ACCEPT: validates the offers, then each LAUNCH task in order against what is left;
    /// launches the valid ones and gives the rest back to the allocator under `filters`.
    pub(super) fn accept(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        offer_ids: Vec<OfferId>,
        operations: Vec<Operation>,
        filters: Option<Filters>,
    ) {
        let refuse = filters.unwrap_or_default().refuse_seconds;
        let mut launches = Vec::new();
        for op in operations {
            match (op.kind, op.launch, op.launch_group) {
                (OperationType::Launch, Some(launch), _) => launches.extend(
                    launch
                        .task_infos
                        .into_iter()
                        .map(|t| LaunchItem::Task(Box::new(t))),
                ),
                (OperationType::LaunchGroup, _, Some(group)) => launches.push(LaunchItem::Group(
                    Box::new((group.executor, group.task_group)),
                )),
                (kind, ..) => {
                    warn!(ctx.node().logger(), "offer operation not supported yet; dropped"; "operation" => %kind);
                }
            }
        }
        let partition_aware = self
            .frameworks
            .get(framework)
            .is_some_and(|f| f.partition_aware());
        let valid = validate_offers(framework, &offer_ids, |id| self.offers.get(id));
        let offers = match valid {
            Ok(offers) => offers,
            Err(e) => {
                // Give back whatever of this framework's offers were named.
                self.decline(
                    framework,
                    offer_ids,
                    Some(Filters {
                        refuse_seconds: 0.0,
                    }),
                );
                let state = if partition_aware {
                    TaskState::Dropped
                } else {
                    TaskState::Lost
                };
                for task in launches.iter().flat_map(LaunchItem::tasks) {
                    self.launch_failure(
                        ctx,
                        framework,
                        task,
                        state,
                        TaskStatusReason::InvalidOffers,
                        e.to_string(),
                    );
                }
                return;
            }
        };
        for id in &offer_ids {
            self.offers.remove(id);
        }
        let Some(agent_pid) = self.agents.get(&offers.agent).map(|a| a.pid.clone()) else {
            // Offers are rescinded when their agent goes, so this cannot happen; be safe.
            for task in launches.iter().flat_map(LaunchItem::tasks) {
                self.launch_failure(
                    ctx,
                    framework,
                    task,
                    TaskState::Lost,
                    TaskStatusReason::InvalidOffers,
                    "agent gone".to_string(),
                );
            }
            return;
        };
        let framework_info = self
            .frameworks
            .get(framework)
            .map(|f| f.info.clone())
            .expect("sender_is_framework checked the framework is registered");
        let framework_pid = self.framework_pid(framework).map(|p| p.to_string());
        let mut available = offers.resources.clone();
        let mut launched = std::collections::BTreeSet::new();
        // Executors of this framework already on the agent: their resources were charged
        // when they were launched (Mesos counts an executor only when it is new).
        let mut executors: std::collections::BTreeSet<ExecutorId> = self
            .tasks
            .on_agent(&offers.agent)
            .iter()
            .filter(|(f, _)| f == framework)
            .filter_map(|(f, t)| self.tasks.get(f, t)?.info.executor.as_ref())
            .map(|e| e.executor_id.clone())
            .collect();
        for item in launches {
            let task = match item {
                LaunchItem::Task(task) => *task,
                LaunchItem::Group(group) => {
                    let (executor, group) = *group;
                    let mut round = GroupLaunch {
                        offers: &offers,
                        available: &mut available,
                        launched: &mut launched,
                        executors: &mut executors,
                        agent_pid: &agent_pid,
                        framework_info: &framework_info,
                    };
                    self.launch_group(ctx, framework, &mut round, executor, group);
                    continue;
                }
            };
            let checked = validate_task_with(
                &task,
                &offers,
                &available,
                |id| launched.contains(id) || self.tasks.contains(framework, id),
                |id| executors.contains(id),
            );
            match checked {
                Err(e) => self.launch_failure(
                    ctx,
                    framework,
                    &task,
                    TaskState::Error,
                    TaskStatusReason::TaskInvalid,
                    e.to_string(),
                ),
                Ok(consumed) => {
                    let mut task = task;
                    task.resources = allocate_unset(&task.resources, &offers.role);
                    if let Some(executor) = task.executor.as_mut() {
                        executor.resources = allocate_unset(&executor.resources, &offers.role);
                    }
                    available = available
                        .checked_sub(&consumed)
                        .expect("validate_task checked the task fits in what is available");
                    launched.insert(task.task_id.clone());
                    if let Some(executor) = &task.executor {
                        executors.insert(executor.executor_id.clone());
                    }
                    self.tasks.add(Task {
                        info: task.clone(),
                        framework_id: framework.clone(),
                        agent_id: offers.agent.clone(),
                        state: TaskState::Staging,
                        status: None,
                        consumed,
                        role: offers.role.clone(),
                        recovered: false,
                    });
                    self.on_task_added(framework, &task.task_id);
                    self.send_to_agent(
                        ctx,
                        &agent_pid,
                        wire::RunTask {
                            framework: framework_info.clone(),
                            pid: framework_pid.clone(),
                            task,
                        },
                    );
                }
            }
        }
        self.recover(
            &framework.value,
            &offers.agent.value,
            &offers.role,
            available,
            Some(refuse),
        );
    }
}
