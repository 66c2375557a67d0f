//! Validation of a framework's ACCEPT (LAUNCH): the offers as a group, then each task
//! against what the offers hold. Pure functions over plain data; the master turns the
//! verdicts into status updates (invalid offers: TASK_DROPPED or TASK_LOST with
//! REASON_INVALID_OFFERS; invalid task: TASK_ERROR with REASON_TASK_INVALID). A framework is
//! never torn down for a bad accept.
//!
//! Invariant: a task that passes [`validate_task`] fits in the `available` resources it was
//! checked against, and its id is not among `known_task_ids`.

use std::collections::BTreeSet;

use meso_api::v1::{AgentId, ExecutorId, FrameworkId, OfferId, TaskId, TaskInfo};
use meso_api::Resources;

use super::offers::OfferRecord;

/// Why the offers of an ACCEPT cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// The accept names no offer.
    #[error("no offers given")]
    NoOffers,
    /// The same offer twice.
    #[error("offer '{0}' appears more than once")]
    Duplicate(OfferId),
    /// Not an outstanding offer (never made, used, declined, rescinded or timed out).
    #[error("offer '{0}' is no longer valid")]
    Unknown(OfferId),
    /// Made to another framework.
    #[error("offer '{offer}' belongs to framework '{owner}', not '{framework}'")]
    NotFramework {
        /// The offer.
        offer: OfferId,
        /// Its framework.
        owner: FrameworkId,
        /// The framework that used it.
        framework: FrameworkId,
    },
    /// Offers on different agents.
    #[error("offers '{first}' and '{other}' are on different agents ('{first_agent}' and '{other_agent}')")]
    DifferentAgents {
        /// The first offer.
        first: OfferId,
        /// Its agent.
        first_agent: AgentId,
        /// An offer on another agent.
        other: OfferId,
        /// That agent.
        other_agent: AgentId,
    },
    /// Offers allocated to different roles.
    #[error("offers '{first}' and '{other}' are allocated to different roles ('{first_role}' and '{other_role}')")]
    DifferentRoles {
        /// The first offer.
        first: OfferId,
        /// Its role.
        first_role: String,
        /// An offer of another role.
        other: OfferId,
        /// That role.
        other_role: String,
    },
}

/// Why one task of a LAUNCH is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// Structural problem (id, command/executor, grace period, resources grammar).
    #[error("task '{task}' is invalid: {reason}")]
    Malformed {
        /// The task.
        task: TaskId,
        /// What is wrong.
        reason: String,
    },
    /// The task id is in use by a live task of the framework (or earlier in this accept).
    #[error("task '{0}' duplicates the id of an active task")]
    DuplicateId(TaskId),
    /// `agent_id` is not the offers' agent.
    #[error("task '{task}' names agent '{named}' but the offers are on agent '{offered}'")]
    WrongAgent {
        /// The task.
        task: TaskId,
        /// The agent the task names.
        named: AgentId,
        /// The agent of the offers.
        offered: AgentId,
    },
    /// No resources at all, or none of cpus/mem.
    #[error("task '{task}' uses no cpus and no mem (resources: '{resources}')")]
    BelowMinimum {
        /// The task.
        task: TaskId,
        /// Its resources.
        resources: String,
    },
    /// Revocable and non-revocable resources of one name together (Mesos's
    /// `validateRevocableAndNonRevocableResources`).
    #[error(
        "task '{task}' mixes revocable and non-revocable resources: {scope} cannot use both \
         revocable and non-revocable '{name}' at the same time"
    )]
    MixedRevocable {
        /// The task.
        task: TaskId,
        /// The resource name.
        name: String,
        /// "the task" or "the task and its executor".
        scope: &'static str,
    },
    /// More than what is left of the offers.
    #[error(
        "task '{task}' uses more resources ('{wanted}') than offered and unused ('{available}')"
    )]
    TooMuch {
        /// The task.
        task: TaskId,
        /// What it wants.
        wanted: String,
        /// What is left.
        available: String,
    },
}

/// The offers of an accept, checked as a group.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOffers {
    /// The agent they are on.
    pub agent: AgentId,
    /// Their allocation role.
    pub role: String,
    /// Their resources, summed.
    pub resources: Resources,
}

/// Checks that `offer_ids` are distinct outstanding offers of `framework`, all on one agent
/// and of one role. `lookup` finds an outstanding offer.
pub fn validate_offers<'a>(
    framework: &FrameworkId,
    offer_ids: &[OfferId],
    lookup: impl Fn(&OfferId) -> Option<&'a OfferRecord>,
) -> Result<ValidOffers, OfferError> {
    let mut seen = BTreeSet::new();
    let mut first: Option<&OfferRecord> = None;
    let mut resources = Resources::new();
    if offer_ids.is_empty() {
        return Err(OfferError::NoOffers);
    }
    for id in offer_ids {
        if !seen.insert(id.clone()) {
            return Err(OfferError::Duplicate(id.clone()));
        }
        let record = lookup(id).ok_or_else(|| OfferError::Unknown(id.clone()))?;
        if &record.offer.framework_id != framework {
            return Err(OfferError::NotFramework {
                offer: id.clone(),
                owner: record.offer.framework_id.clone(),
                framework: framework.clone(),
            });
        }
        if let Some(first) = first {
            if first.offer.agent_id != record.offer.agent_id {
                return Err(OfferError::DifferentAgents {
                    first: first.offer.id.clone(),
                    first_agent: first.offer.agent_id.clone(),
                    other: id.clone(),
                    other_agent: record.offer.agent_id.clone(),
                });
            }
            if first.role != record.role {
                return Err(OfferError::DifferentRoles {
                    first: first.offer.id.clone(),
                    first_role: first.role.clone(),
                    other: id.clone(),
                    other_role: record.role.clone(),
                });
            }
        } else {
            first = Some(record);
        }
        resources += record.offer.resources.clone();
    }
    let first = first.expect("a non-empty id list yields a first offer");
    Ok(ValidOffers {
        agent: first.offer.agent_id.clone(),
        role: first.role.clone(),
        resources,
    })
}

/// `resources` with every resource that has no allocation role allocated to `role`
/// (Mesos injects the offer's role into what a framework launches).
pub fn allocate_unset(resources: &Resources, role: &str) -> Resources {
    // The common shapes first, one copy each: none allocated yet, or all of them.
    if resources.iter().all(|r| r.allocation_role.is_none()) {
        return resources.allocate(role);
    }
    if resources.iter().all(|r| r.allocation_role.is_some()) {
        return resources.clone();
    }
    let mut set = Resources::new();
    let mut unset = Resources::new();
    for r in resources.iter() {
        if r.allocation_role.is_none() {
            unset.push(r.clone());
        } else {
            set.push(r.clone());
        }
    }
    set + unset.allocate(role)
}

/// The resources a task consumes from offers of `role`: its own plus its executor's,
/// allocated to `role` where the framework left the allocation unset.
pub fn task_consumption(task: &TaskInfo, role: &str) -> Resources {
    match &task.executor {
        None => allocate_unset(&task.resources, role),
        Some(executor) => {
            let mut total = task.resources.clone();
            total += executor.resources.clone();
            allocate_unset(&total, role)
        }
    }
}

/// Checks one task of a LAUNCH against the offers' agent, what is left of them
/// (`available`) and the ids already in use. Returns what the task consumes. Its executor,
/// if any, is counted as new (see [`validate_task_with`]).
pub fn validate_task(
    task: &TaskInfo,
    offers: &ValidOffers,
    available: &Resources,
    id_in_use: impl Fn(&TaskId) -> bool,
) -> Result<Resources, TaskError> {
    validate_task_with(task, offers, available, id_in_use, |_| false)
}

/// [`validate_task`], where `executor_running` says whether an executor of this framework
/// with that id already runs on the offers' agent (or was launched earlier in the same
/// accept). As Mesos, the executor's resources count only when it is new: a task for a
/// running executor needs just its own resources.
pub fn validate_task_with(
    task: &TaskInfo,
    offers: &ValidOffers,
    available: &Resources,
    id_in_use: impl Fn(&TaskId) -> bool,
    executor_running: impl Fn(&ExecutorId) -> bool,
) -> Result<Resources, TaskError> {
    task.validate().map_err(|e| TaskError::Malformed {
        task: task.task_id.clone(),
        reason: e.to_string(),
    })?;
    if id_in_use(&task.task_id) {
        return Err(TaskError::DuplicateId(task.task_id.clone()));
    }
    if task.agent_id != offers.agent {
        return Err(TaskError::WrongAgent {
            task: task.task_id.clone(),
            named: task.agent_id.clone(),
            offered: offers.agent.clone(),
        });
    }
    let positive = |s: Option<meso_api::Scalar>| s.is_some_and(|v| v > meso_api::Scalar::default());
    if !positive(task.resources.cpus()) && !positive(task.resources.mem()) {
        return Err(TaskError::BelowMinimum {
            task: task.task_id.clone(),
            resources: task.resources.to_string(),
        });
    }
    let mixed = |resources: &Resources, scope| {
        mixed_revocable(resources).map_or(Ok(()), |name| {
            Err(TaskError::MixedRevocable {
                task: task.task_id.clone(),
                name,
                scope,
            })
        })
    };
    mixed(&task.resources, "the task")?;
    if let Some(executor) = &task.executor {
        mixed(
            &(task.resources.clone() + &executor.resources),
            "the task and its executor",
        )?;
    }
    let wanted = match &task.executor {
        Some(executor) if executor_running(&executor.executor_id) => {
            allocate_unset(&task.resources, &offers.role)
        }
        _ => task_consumption(task, &offers.role),
    };
    if !available.contains(&wanted) {
        return Err(TaskError::TooMuch {
            task: task.task_id.clone(),
            wanted: wanted.to_string(),
            available: available.to_string(),
        });
    }
    Ok(wanted)
}

/// The first resource name that `resources` has both revocable and non-revocable.
pub fn mixed_revocable(resources: &Resources) -> Option<String> {
    let revocable = resources.revocable();
    resources
        .non_revocable()
        .names()
        .into_iter()
        .find(|name| !revocable.named(name).is_empty())
        .map(|name| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::attributes::Attributes;
    use meso_api::v1::{CommandInfo, ExecutorInfo, ExecutorType};
    use proptest::prelude::*;

    use crate::master::offers::OfferBook;

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    fn task(id: &str, agent: &str, resources: &str) -> TaskInfo {
        TaskInfo::command(id, AgentId::new(agent), "true").with_resources(res(resources))
    }

    fn book() -> (OfferBook, Vec<OfferId>) {
        let mut book = OfferBook::new("m");
        let f = FrameworkId::new("f");
        let g = FrameworkId::new("g");
        let a = AgentId::new("a");
        let b = AgentId::new("b");
        let none = Attributes::default();
        let ids = vec![
            book.create(&f, &a, "h", &none, "*", res("cpus:2;mem:100").allocate("*"))
                .id,
            book.create(&f, &a, "h", &none, "*", res("cpus:1").allocate("*"))
                .id,
            book.create(&f, &b, "h", &none, "*", res("cpus:1").allocate("*"))
                .id,
            book.create(&g, &a, "h", &none, "*", res("cpus:1").allocate("*"))
                .id,
            book.create(&f, &a, "h", &none, "web", res("cpus:1").allocate("web"))
                .id,
        ];
        (book, ids)
    }

    #[test]
    fn revocable_and_non_revocable_of_one_name_do_not_mix() {
        let rev = |text: &str| -> Resources {
            res(text)
                .into_iter()
                .map(meso_api::resources::Resource::into_revocable)
                .collect()
        };
        assert_eq!(mixed_revocable(&(res("mem:64") + &rev("cpus:1"))), None);
        assert_eq!(
            mixed_revocable(&(res("cpus:1;mem:64") + &rev("cpus:1"))),
            Some("cpus".to_string())
        );
        let (book, ids) = book();
        let f = FrameworkId::new("f");
        let offers = validate_offers(&f, &ids[0..1], |id| book.get(id)).unwrap();
        let mixed = TaskInfo::command("t", AgentId::new("a"), "true")
            .with_resources(res("cpus:0.5") + &rev("cpus:0.5"));
        let e = validate_task(&mixed, &offers, &offers.resources, |_| false).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot use both revocable and non-revocable 'cpus' at the same time"),
            "{e}"
        );
    }

    #[test]
    fn offers_must_be_distinct_outstanding_own_one_agent_one_role() {
        let (book, ids) = book();
        let f = FrameworkId::new("f");
        let check = |list: &[OfferId]| validate_offers(&f, list, |id| book.get(id));
        let ok = check(&ids[0..2]).expect("two offers of f on agent a");
        assert_eq!(ok.agent, AgentId::new("a"));
        assert_eq!(ok.resources, res("cpus:3;mem:100").allocate("*"));
        assert_eq!(check(&[]), Err(OfferError::NoOffers));
        assert!(matches!(
            check(&[ids[0].clone(), ids[0].clone()]),
            Err(OfferError::Duplicate(_))
        ));
        assert!(matches!(
            check(&[OfferId::new("gone")]),
            Err(OfferError::Unknown(_))
        ));
        assert!(matches!(
            check(&[ids[0].clone(), ids[2].clone()]),
            Err(OfferError::DifferentAgents { .. })
        ));
        assert!(matches!(
            check(&[ids[3].clone()]),
            Err(OfferError::NotFramework { .. })
        ));
        assert!(matches!(
            check(&[ids[0].clone(), ids[4].clone()]),
            Err(OfferError::DifferentRoles { .. })
        ));
    }

    #[test]
    fn tasks_are_checked_against_agent_ids_and_what_is_left() {
        let offers = ValidOffers {
            agent: AgentId::new("a"),
            role: "*".to_string(),
            resources: res("cpus:2;mem:100").allocate("*"),
        };
        let avail = offers.resources.clone();
        let none = |_: &TaskId| false;
        let used =
            validate_task(&task("t", "a", "cpus:1;mem:50"), &offers, &avail, none).expect("fits");
        assert_eq!(used, res("cpus:1;mem:50").allocate("*"));
        assert!(matches!(
            validate_task(&task("t", "a", "cpus:3"), &offers, &avail, none),
            Err(TaskError::TooMuch { .. })
        ));
        assert!(matches!(
            validate_task(&task("t", "b", "cpus:1"), &offers, &avail, none),
            Err(TaskError::WrongAgent { .. })
        ));
        assert!(matches!(
            validate_task(&task("t", "a", "disk:1"), &offers, &avail, none),
            Err(TaskError::BelowMinimum { .. })
        ));
        assert!(matches!(
            validate_task(&task("t", "a", "cpus:1"), &offers, &avail, |_| true),
            Err(TaskError::DuplicateId(_))
        ));
        let mut both = task("t", "a", "cpus:1");
        both.command = None;
        assert!(matches!(
            validate_task(&both, &offers, &avail, none),
            Err(TaskError::Malformed { .. })
        ));
    }

    fn with_executor(id: &str, task_resources: &str, executor_resources: &str) -> TaskInfo {
        task(id, "a", task_resources).with_executor(ExecutorInfo {
            kind: Some(ExecutorType::Custom),
            executor_id: ExecutorId::new("ex"),
            framework_id: None,
            command: Some(CommandInfo::shell("run-executor")),
            container: None,
            resources: res(executor_resources),
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        })
    }

    #[test]
    fn a_running_executor_is_not_charged_again() {
        let offers = ValidOffers {
            agent: AgentId::new("a"),
            role: "*".to_string(),
            resources: res("cpus:1;mem:64").allocate("*"),
        };
        let avail = offers.resources.clone();
        let none = |_: &TaskId| false;
        let t = with_executor("t", "cpus:0.5;mem:32", "cpus:0.5;mem:64");
        // A new executor: task plus executor (cpus:1;mem:96) does not fit in mem:64.
        assert!(matches!(
            validate_task_with(&t, &offers, &avail, none, |_| false),
            Err(TaskError::TooMuch { .. })
        ));
        // The executor already runs there: only the task's own resources count.
        let used = validate_task_with(&t, &offers, &avail, none, |id| id.as_str() == "ex")
            .expect("the task alone fits");
        assert_eq!(used, res("cpus:0.5;mem:32").allocate("*"));
        // Another executor id running does not help.
        assert!(
            validate_task_with(&t, &offers, &avail, none, |id| id.as_str() == "other").is_err()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Launching tasks one by one against what is left never uses more than offered:
        /// accepted consumption sums to at most the offer, and a refused task would not fit.
        #[test]
        fn accepted_tasks_never_exceed_the_offer(
            offered_cpus in 1u32..16,
            offered_mem in 32u32..4096,
            tasks in proptest::collection::vec((1u32..8, 1u32..1024), 0..20),
        ) {
            let offered = res(&format!("cpus:{offered_cpus};mem:{offered_mem}")).allocate("*");
            let offers = ValidOffers { agent: AgentId::new("a"), role: "*".into(), resources: offered.clone() };
            let mut left = offered.clone();
            let mut used = Resources::new();
            for (i, (c, m)) in tasks.iter().enumerate() {
                let t = task(&format!("t{i}"), "a", &format!("cpus:{c};mem:{m}"));
                match validate_task(&t, &offers, &left, |_| false) {
                    Ok(consumed) => {
                        left = left.checked_sub(&consumed).expect("accepted tasks fit");
                        used += consumed;
                    }
                    Err(TaskError::TooMuch { .. }) => {
                        prop_assert!(!left.contains(&t.resources.allocate("*")));
                    }
                    Err(e) => prop_assert!(false, "unexpected refusal {e}"),
                }
            }
            prop_assert!(offered.contains(&used));
            prop_assert_eq!(used + &left, offered);
        }
    }
}
