//! [`DriverActions`]: what a scheduler's callbacks may ask of the driver (the calls of the
//! scheduler API). Each call goes to the master in use as a libprocess message, or into the
//! HTTP transport's outbox when the driver speaks HTTP; before registration every call is
//! refused with [`DriverError::NotRegistered`].

use libprocess::{Context, Upid};
use meso_api::v1::scheduler::{Call, CallType};
use meso_api::v1::{
    AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, OfferId, Operation, TaskId, TaskInfo,
};
use meso_api::wire;

use super::http::HttpLink;
use super::{DriverError, SchedulerDriver};
use crate::launches::PendingLaunches;

/// What the scheduler can ask of the driver from inside a callback.
pub struct DriverActions<'a> {
    pub(super) ctx: &'a Context<SchedulerDriver>,
    pub(super) master: &'a Upid,
    pub(super) framework_id: Option<FrameworkId>,
    pub(super) framework: &'a mut FrameworkInfo,
    pub(super) launches: &'a mut PendingLaunches,
    pub(super) stop: &'a mut bool,
    pub(super) http: Option<&'a HttpLink>,
}

impl DriverActions<'_> {
    fn send_call(
        &self,
        call_type: CallType,
        fill: impl FnOnce(&mut Call),
    ) -> Result<(), DriverError> {
        let framework = self
            .framework_id
            .clone()
            .ok_or(DriverError::NotRegistered("a call"))?;
        let mut call = Call::new(call_type, Some(framework));
        fill(&mut call);
        match self.http {
            Some(link) => link.outbox.borrow_mut().push_back(call),
            None => {
                let _ = self.ctx.send(self.master, wire::SchedulerCall { call });
            }
        }
        Ok(())
    }

    /// The framework id, once registered.
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.framework_id.as_ref()
    }

    /// Wall-clock time by the node's clock (the seam tests control).
    pub fn wall_time(&self) -> std::time::SystemTime {
        self.ctx.wall_time()
    }

    /// The framework as registered (or as last changed by [`Self::update_framework`]).
    pub fn framework(&self) -> &FrameworkInfo {
        self.framework
    }

    /// Accepts `offers` with LAUNCH of `tasks` (an empty list declines them).
    pub fn launch_tasks(
        &mut self,
        offers: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Filters,
    ) -> Result<(), DriverError> {
        self.accept(offers, vec![Operation::launch(tasks)], filters)
    }

    /// Accepts `offers` with `operations`, applied in order: any of LAUNCH, LAUNCH_GROUP,
    /// RESERVE, UNRESERVE, CREATE, DESTROY (build them with `Operation::launch`,
    /// `Operation::launch_group`, `Operation::reserve`, ...). The tasks launched are watched
    /// until their first status update (see [`SchedulerDriver::with_launch_check`]).
    pub fn accept(
        &mut self,
        offers: Vec<OfferId>,
        operations: Vec<Operation>,
        filters: Filters,
    ) -> Result<(), DriverError> {
        if self.framework_id.is_some() {
            self.launches.launched(&operations);
        }
        self.send_call(CallType::Accept, |c| {
            c.accept = Some(meso_api::v1::scheduler::Accept {
                offer_ids: offers,
                operations,
                filters: Some(filters),
            })
        })
    }

    /// Declines an offer.
    pub fn decline_offer(&self, offer: OfferId, filters: Filters) -> Result<(), DriverError> {
        self.send_call(CallType::Decline, |c| {
            c.decline = Some(meso_api::v1::scheduler::Decline {
                offer_ids: vec![offer],
                filters: Some(filters),
            })
        })
    }

    /// Answers inverse offers (maintenance): `accept` says the framework expects to free
    /// their agents in time, otherwise it declines; `filters` sets when it is asked again.
    pub fn answer_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        accept: bool,
        filters: Option<Filters>,
    ) -> Result<(), DriverError> {
        let answer = meso_api::v1::scheduler::InverseOffers {
            inverse_offer_ids: ids,
            filters,
        };
        if accept {
            self.send_call(CallType::AcceptInverseOffers, |c| {
                c.accept_inverse_offers = Some(answer)
            })
        } else {
            self.send_call(CallType::DeclineInverseOffers, |c| {
                c.decline_inverse_offers = Some(answer)
            })
        }
    }

    /// Accepts inverse offers: the framework will free their agents in time.
    pub fn accept_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), DriverError> {
        self.answer_inverse_offers(ids, true, filters)
    }

    /// Declines inverse offers: the framework cannot free their agents in time.
    pub fn decline_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), DriverError> {
        self.answer_inverse_offers(ids, false, filters)
    }

    /// Changes the framework's info (roles, capabilities, name, failover timeout, ...)
    /// without re-registering (UPDATE_FRAMEWORK), with offers suppressed for
    /// `suppressed_roles`. The id must stay; the driver re-registers with the new info
    /// after a disconnection. The master refuses an invalid change with an error, which
    /// the scheduler gets in `error`.
    pub fn update_framework(
        &mut self,
        mut info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Result<(), DriverError> {
        info.id = self.framework_id.clone();
        self.send_call(CallType::UpdateFramework, |c| {
            c.update_framework = Some(meso_api::v1::scheduler::Subscribe {
                framework_info: info.clone(),
                suppressed_roles,
            })
        })?;
        *self.framework = info;
        Ok(())
    }

    /// Kills a task.
    pub fn kill_task(&self, task: TaskId) -> Result<(), DriverError> {
        self.send_call(CallType::Kill, |c| {
            c.kill = Some(meso_api::v1::scheduler::Kill {
                task_id: task,
                agent_id: None,
                kill_policy: None,
            })
        })
    }

    /// Clears filters and resumes offers.
    pub fn revive_offers(&self) -> Result<(), DriverError> {
        self.send_call(CallType::Revive, |c| c.revive = Some(Default::default()))
    }

    /// Stops offers until revived.
    pub fn suppress_offers(&self) -> Result<(), DriverError> {
        self.send_call(CallType::Suppress, |c| {
            c.suppress = Some(Default::default())
        })
    }

    /// Asks for task states: explicit for the given (task, agent) pairs, implicit (all
    /// non-terminal tasks) when empty.
    pub fn reconcile_tasks(
        &self,
        tasks: Vec<(TaskId, Option<AgentId>)>,
    ) -> Result<(), DriverError> {
        self.send_call(CallType::Reconcile, |c| {
            c.reconcile = Some(meso_api::v1::scheduler::Reconcile {
                tasks: tasks
                    .into_iter()
                    .map(
                        |(task_id, agent_id)| meso_api::v1::scheduler::ReconcileTask {
                            task_id,
                            agent_id,
                        },
                    )
                    .collect(),
            })
        })
    }

    /// Sends `data` to an executor.
    pub fn send_framework_message(
        &self,
        agent: AgentId,
        executor: ExecutorId,
        data: Vec<u8>,
    ) -> Result<(), DriverError> {
        self.send_call(CallType::Message, |c| {
            c.message = Some(meso_api::v1::scheduler::Message {
                agent_id: agent,
                executor_id: executor,
                data,
            })
        })
    }

    /// Tears the framework down (its tasks are killed) and stops the driver.
    pub fn teardown(&mut self) -> Result<(), DriverError> {
        let r = self.send_call(CallType::Teardown, |_| {});
        *self.stop = true;
        r
    }

    /// Stops the driver without tearing the framework down (it may fail over).
    pub fn stop(&mut self) {
        *self.stop = true;
    }
}
