//! Offers in and out of the master: offers from the allocator sent to frameworks, offer
//! rescinds (agent removal, framework disconnection, `--offer-timeout`), ACCEPT with LAUNCH
//! (validated by `validation.rs`), LAUNCH_GROUP (`accept_group.rs`) and the reservation and
//! volume operations (`reservations.rs`), applied in the order given, and DECLINE.

use std::collections::{BTreeMap, BTreeSet};

use libprocess::slog::warn;
use libprocess::{Context, Upid};
use meso_api::v1::{
    AgentId, ExecutorId, Filters, FrameworkId, OfferId, Operation, OperationType, TaskInfo,
    TaskState, TaskStatus, TaskStatusReason, TaskStatusSource,
};
use meso_api::wire;

use super::accept_group::{GroupLaunch, LaunchItem};
use super::framework_link::ToFramework;
use super::tasks::Task;
use super::validation::{allocate_unset, validate_offers, validate_task_with};
use super::{Master, MasterMessage};
use meso_allocator::Offer;

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
            if self.offer_outdated(&agent_id, &offer.resources) {
                // Made before a shrink of the agent reached the allocator (`agent_update.rs`):
                // given back, filtered briefly so that a disagreement cannot loop.
                self.recover(
                    &offer.framework,
                    &offer.agent,
                    &offer.role,
                    offer.resources,
                    Some(super::agent_update::OUTDATED_OFFER_REFUSE_SECONDS),
                );
                continue;
            }
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
            let mut made = self.offers.create(
                &framework,
                &agent_id,
                &agent.info.hostname,
                &agent.info.attributes,
                &offer.role,
                offer.resources,
            );
            // As Mesos: the agent's HTTP address, which a framework may use to reach its
            // tasks' ports (the services framework's readiness checks do).
            made.url = Some(meso_api::v1::Url {
                scheme: "http".to_string(),
                address: meso_api::v1::Address {
                    hostname: Some(agent.info.hostname.clone()),
                    ip: Some(agent.pid.addr().ip().to_string()),
                    port: u32::from(agent.pid.addr().port()),
                },
                path: Some(format!("/{}", agent.pid.id())),
                fragment: None,
            });
            if !self.maintenance.machines.windows().is_empty() {
                made.unavailability =
                    self.maintenance
                        .unavailability(&super::maintenance::agent_machine(
                            &agent.info.hostname,
                            agent.pid.addr().ip(),
                        ));
            }
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
        let (steps, unsupported) = accept_steps(operations);
        for kind in unsupported {
            warn!(ctx.node().logger(), "offer operation not supported yet; dropped"; "operation" => %kind);
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
                self.fail_launches(ctx, framework, &steps, state, &e.to_string());
                return;
            }
        };
        for id in &offer_ids {
            self.offers.remove(id);
        }
        let Some(agent_pid) = self.agents.get(&offers.agent).map(|a| a.pid.clone()) else {
            // Offers are rescinded when their agent goes, so this cannot happen; be safe.
            self.fail_launches(ctx, framework, &steps, TaskState::Lost, "agent gone");
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
        let mut executors = self.running_executors(framework, &offers.agent);
        let mut round = GroupLaunch {
            offers: &offers,
            available: &mut available,
            launched: &mut launched,
            executors: &mut executors,
            agent_pid: &agent_pid,
            framework_info: &framework_info,
        };
        for step in steps {
            match step {
                AcceptStep::Launch(LaunchItem::Task(task)) => {
                    self.launch_task(ctx, framework, &mut round, &framework_pid, *task)
                }
                AcceptStep::Launch(LaunchItem::Group(group)) => {
                    let (executor, group) = *group;
                    self.launch_group(ctx, framework, &mut round, executor, group);
                }
                AcceptStep::Convert(operation) => self.apply_offered_operation(
                    ctx,
                    framework,
                    &offers,
                    round.available,
                    *operation,
                ),
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

    /// Answers every task launched by `steps` with `state` and REASON_INVALID_OFFERS: the accept
    /// launched none of them.
    fn fail_launches(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        steps: &[AcceptStep],
        state: TaskState,
        message: &str,
    ) {
        let launches = steps.iter().filter_map(|s| match s {
            AcceptStep::Launch(item) => Some(item),
            AcceptStep::Convert(_) => None,
        });
        for task in launches.flat_map(LaunchItem::tasks) {
            self.launch_failure(
                ctx,
                framework,
                task,
                state,
                TaskStatusReason::InvalidOffers,
                message.to_string(),
            );
        }
    }

    /// Executors of `framework` already on `agent`: their resources were charged when they
    /// were launched (Mesos counts an executor only when it is new).
    fn running_executors(&self, framework: &FrameworkId, agent: &AgentId) -> BTreeSet<ExecutorId> {
        self.tasks
            .on_agent(agent)
            .iter()
            .filter(|(f, _)| f == framework)
            .filter_map(|(f, t)| self.tasks.get(f, t)?.info.executor.as_ref())
            .map(|e| e.executor_id.clone())
            .collect()
    }

    /// Validates one task of a LAUNCH against what is left of the accept's offers: an
    /// invalid one gets TASK_ERROR, a valid one takes its resources out of `round`, joins
    /// the task book as staging and is sent to the agent.
    fn launch_task(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &FrameworkId,
        round: &mut GroupLaunch<'_>,
        framework_pid: &Option<String>,
        task: TaskInfo,
    ) {
        if let Some(why) = self.refuse_task(round.framework_info, &task) {
            return self.launch_failure(
                ctx,
                framework,
                &task,
                TaskState::Error,
                TaskStatusReason::TaskUnauthorized,
                why,
            );
        }
        let checked = validate_task_with(
            &task,
            round.offers,
            round.available,
            |id| round.launched.contains(id) || self.tasks.contains(framework, id),
            |id| round.executors.contains(id),
        );
        let consumed = match checked {
            Ok(consumed) => consumed,
            Err(e) => {
                return self.launch_failure(
                    ctx,
                    framework,
                    &task,
                    TaskState::Error,
                    TaskStatusReason::TaskInvalid,
                    e.to_string(),
                )
            }
        };
        let task = allocated_to(task, &round.offers.role);
        *round.available = round
            .available
            .checked_sub(&consumed)
            .expect("validate_task checked the task fits in what is available");
        round.launched.insert(task.task_id.clone());
        if let Some(executor) = &task.executor {
            round.executors.insert(executor.executor_id.clone());
        }
        self.tasks.add(Task {
            info: task.clone(),
            framework_id: framework.clone(),
            agent_id: round.offers.agent.clone(),
            state: TaskState::Staging,
            status: None,
            consumed,
            role: round.offers.role.clone(),
            recovered: false,
        });
        self.on_task_added(framework, &task.task_id);
        self.send_to_agent(
            ctx,
            round.agent_pid,
            wire::RunTask {
                framework: round.framework_info.clone(),
                pid: framework_pid.clone(),
                task,
            },
        );
    }
}

/// One step of an ACCEPT, in the order of its operations.
enum AcceptStep {
    /// A task or task group to launch.
    Launch(LaunchItem),
    /// A reservation or volume operation (`reservations.rs`).
    Convert(Box<Operation>),
}

/// The steps of an ACCEPT's operations, in order, and the kinds of the operations it
/// cannot carry out (a LAUNCH without its payload, CREATE_DISK ...).
fn accept_steps(operations: Vec<Operation>) -> (Vec<AcceptStep>, Vec<OperationType>) {
    let mut steps = Vec::new();
    let mut unsupported = Vec::new();
    for op in operations {
        match op.kind {
            OperationType::Reserve
            | OperationType::Unreserve
            | OperationType::Create
            | OperationType::Destroy
            | OperationType::GrowVolume
            | OperationType::ShrinkVolume => steps.push(AcceptStep::Convert(Box::new(op))),
            _ => match (op.kind, op.launch, op.launch_group) {
                (OperationType::Launch, Some(launch), _) => steps.extend(
                    launch
                        .task_infos
                        .into_iter()
                        .map(|t| AcceptStep::Launch(LaunchItem::Task(Box::new(t)))),
                ),
                (OperationType::LaunchGroup, _, Some(group)) => steps.push(AcceptStep::Launch(
                    LaunchItem::Group(Box::new((group.executor, group.task_group))),
                )),
                (kind, ..) => unsupported.push(kind),
            },
        }
    }
    (steps, unsupported)
}

/// `task` as sent to the agent: its resources and its executor's allocated to `role`
/// wherever no allocation is set yet.
fn allocated_to(mut task: TaskInfo, role: &str) -> TaskInfo {
    task.resources = allocate_unset(&task.resources, role);
    if let Some(executor) = task.executor.as_mut() {
        executor.resources = allocate_unset(&executor.resources, role);
    }
    task
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, CommandInfo, ExecutorInfo, ExecutorType, TaskGroupInfo};
    use meso_api::Resources;

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    fn task(id: &str) -> TaskInfo {
        TaskInfo::command(id, AgentId::new("a"), "true").with_resources(res("cpus:1"))
    }

    fn executor(resources: Resources) -> ExecutorInfo {
        ExecutorInfo {
            kind: Some(ExecutorType::Custom),
            executor_id: ExecutorId::new("ex"),
            framework_id: None,
            command: Some(CommandInfo::shell("run-executor")),
            container: None,
            resources,
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        }
    }

    fn names(steps: &[AcceptStep]) -> Vec<String> {
        steps
            .iter()
            .flat_map(|s| match s {
                AcceptStep::Launch(item) => item
                    .tasks()
                    .into_iter()
                    .map(|t| t.task_id.value.clone())
                    .collect::<Vec<_>>(),
                AcceptStep::Convert(op) => vec![op.kind.to_string()],
            })
            .collect()
    }

    #[test]
    fn steps_keep_the_order_of_operations_and_unsupported_ones_are_named() {
        let group = TaskGroupInfo {
            tasks: vec![task("g1"), task("g2")],
        };
        let mut no_payload = Operation::launch(vec![]);
        no_payload.launch = None;
        let (steps, unsupported) = accept_steps(vec![
            Operation::launch(vec![task("t1"), task("t2")]),
            Operation::reserve(res("cpus:1")),
            Operation::launch_group(executor(res("cpus:0.1")), group),
            Operation::launch(vec![task("t3")]),
            no_payload,
        ]);
        assert_eq!(names(&steps), ["t1", "t2", "RESERVE", "g1", "g2", "t3"]);
        assert!(matches!(steps[3], AcceptStep::Launch(LaunchItem::Group(_))));
        assert_eq!(unsupported, [OperationType::Launch]);
    }

    #[test]
    fn a_launched_task_and_its_executor_are_allocated_to_the_offer_role() {
        let mut t = task("t").with_executor(executor(res("cpus:0.1")));
        t.resources = t.resources.clone() + res("mem:32").allocate("other");
        let sent = allocated_to(t, "eng");
        let mut roles: Vec<_> = sent
            .resources
            .iter()
            .map(|r| {
                (
                    r.name.to_string(),
                    r.allocation_role.as_deref().map(str::to_string),
                )
            })
            .collect();
        roles.sort();
        assert_eq!(
            roles,
            [
                ("cpus".to_string(), Some("eng".into())),
                ("mem".to_string(), Some("other".into()))
            ]
        );
        let executor = sent.executor.expect("the executor stays");
        assert!(executor
            .resources
            .iter()
            .all(|r| r.allocation_role.as_deref() == Some("eng")));
    }
}
