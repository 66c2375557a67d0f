//! Validation of a LAUNCH_GROUP operation of an ACCEPT, after Mesos's task group rules: the
//! group is not empty; the executor has a valid id, a type (DEFAULT, which must not carry a
//! command, or CUSTOM, which must), the framework's id if any, and valid resources; no task
//! of the group names an executor of its own, and each has a command (meso's agent runs a
//! group's tasks from their commands); task ids are unique in the group and not in use;
//! every task passes the single-task checks (agent, cpus or mem, resources); and the tasks'
//! resources plus the executor's (only when it is new on the agent) fit in what is left of
//! the offers. A group is all or nothing: the master answers an invalid one with TASK_ERROR
//! (REASON_TASK_GROUP_INVALID) for every task in it.
//!
//! Pure: plain data in, a verdict out. Invariant: the consumptions returned sum to at most
//! `available`, and the executor's resources are in the first task's consumption exactly
//! when the executor is new.

use std::collections::BTreeSet;

use meso_api::v1::{ExecutorInfo, ExecutorType, FrameworkId, TaskGroupInfo, TaskId};
use meso_api::Resources;

use super::validation::{allocate_unset, validate_task_with, TaskError, ValidOffers};

/// Why a LAUNCH_GROUP is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskGroupError {
    /// No task in the group.
    #[error("task group is empty")]
    Empty,
    /// The executor's id, type, command, framework or resources are not acceptable.
    #[error("task group executor '{executor}' is invalid: {reason}")]
    Executor {
        /// The executor id (as given).
        executor: String,
        /// What is wrong.
        reason: String,
    },
    /// A task of the group names its own executor.
    #[error("task '{0}' of a task group must not set 'executor' (the group's executor runs it)")]
    TaskHasExecutor(TaskId),
    /// A task of the group has no command to run.
    #[error("task '{0}' of a task group has no 'command'")]
    TaskWithoutCommand(TaskId),
    /// Two tasks of the group share an id.
    #[error("task id '{0}' appears more than once in the task group")]
    DuplicateInGroup(TaskId),
    /// A task fails the single-task checks.
    #[error("{0}")]
    Task(TaskError),
    /// The executor's resources do not fit in what is left of the offers.
    #[error(
        "task group executor '{executor}' needs '{wanted}' but only '{available}' is offered and unused"
    )]
    ExecutorTooMuch {
        /// The executor id.
        executor: String,
        /// Its resources.
        wanted: String,
        /// What is left.
        available: String,
    },
}

/// Checks a LAUNCH_GROUP of `framework` against the offers and what is left of them.
/// `id_in_use` says whether a task id is taken (live task or earlier in the accept);
/// `executor_running` whether this executor already runs for the framework on the agent
/// (its resources were charged then). Returns each task's consumption, in group order.
pub fn validate_task_group(
    framework: &FrameworkId,
    executor: &ExecutorInfo,
    group: &TaskGroupInfo,
    offers: &ValidOffers,
    available: &Resources,
    id_in_use: impl Fn(&TaskId) -> bool,
    executor_running: bool,
) -> Result<Vec<Resources>, TaskGroupError> {
    if group.tasks.is_empty() {
        return Err(TaskGroupError::Empty);
    }
    validate_group_executor(framework, executor)?;
    let mut left = available.clone();
    let mut executor_share = Resources::new();
    if !executor_running {
        let wanted = allocate_unset(&executor.resources, &offers.role);
        if !left.contains(&wanted) {
            return Err(TaskGroupError::ExecutorTooMuch {
                executor: executor.executor_id.to_string(),
                wanted: wanted.to_string(),
                available: left.to_string(),
            });
        }
        left = left
            .checked_sub(&wanted)
            .expect("checked above that the executor fits");
        executor_share = wanted;
    }
    let mut seen = BTreeSet::new();
    let mut consumed = Vec::with_capacity(group.tasks.len());
    for task in &group.tasks {
        if task.executor.is_some() {
            return Err(TaskGroupError::TaskHasExecutor(task.task_id.clone()));
        }
        if task.command.is_none() {
            return Err(TaskGroupError::TaskWithoutCommand(task.task_id.clone()));
        }
        if !seen.insert(task.task_id.clone()) {
            return Err(TaskGroupError::DuplicateInGroup(task.task_id.clone()));
        }
        let own = validate_task_with(task, offers, &left, &id_in_use, |_| false)
            .map_err(TaskGroupError::Task)?;
        left = left
            .checked_sub(&own)
            .expect("validate_task_with checked the task fits in what is left");
        consumed.push(own);
    }
    if let Some(first) = consumed.first_mut() {
        *first += executor_share;
    }
    Ok(consumed)
}

/// The executor rules of a task group (see the module docs).
fn validate_group_executor(
    framework: &FrameworkId,
    executor: &ExecutorInfo,
) -> Result<(), TaskGroupError> {
    let fail = |reason: String| TaskGroupError::Executor {
        executor: executor.executor_id.to_string(),
        reason,
    };
    executor
        .executor_id
        .validate()
        .map_err(|e| fail(e.to_string()))?;
    match executor.kind {
        Some(ExecutorType::Default) if executor.command.is_some() => {
            return Err(fail("a DEFAULT executor must not set 'command'".into()))
        }
        Some(ExecutorType::Custom) if executor.command.is_none() => {
            return Err(fail("a CUSTOM executor needs a 'command'".into()))
        }
        Some(ExecutorType::Default) | Some(ExecutorType::Custom) => {}
        Some(other) => {
            return Err(fail(format!(
                "'type' must be DEFAULT or CUSTOM, not {other}"
            )))
        }
        None => return Err(fail("'type' must be set (DEFAULT or CUSTOM)".into())),
    }
    if let Some(id) = &executor.framework_id {
        if id != framework {
            return Err(fail(format!(
                "'framework_id' is '{id}' but the framework is '{framework}'"
            )));
        }
    }
    executor
        .resources
        .validate()
        .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{AgentId, CommandInfo, ExecutorId, TaskInfo};
    use proptest::prelude::*;

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").expect("test resources parse")
    }

    fn offers(resources: &str) -> ValidOffers {
        ValidOffers {
            agent: AgentId::new("a1"),
            role: "*".to_string(),
            resources: res(resources).allocate("*"),
        }
    }

    fn task(id: &str, resources: &str) -> TaskInfo {
        TaskInfo::command(id, AgentId::new("a1"), "true").with_resources(res(resources))
    }

    fn executor(kind: Option<ExecutorType>, resources: &str) -> ExecutorInfo {
        ExecutorInfo {
            kind,
            executor_id: ExecutorId::new("ex"),
            framework_id: None,
            command: Some(CommandInfo::shell("./executor")),
            container: None,
            resources: res(resources),
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        }
    }

    fn group(tasks: Vec<TaskInfo>) -> TaskGroupInfo {
        TaskGroupInfo { tasks }
    }

    fn check(
        ex: &ExecutorInfo,
        g: &TaskGroupInfo,
        available: &str,
        running: bool,
    ) -> Result<Vec<Resources>, TaskGroupError> {
        let o = offers(available);
        validate_task_group(
            &FrameworkId::new("f"),
            ex,
            g,
            &o,
            &o.resources,
            |id| id.as_str() == "taken",
            running,
        )
    }

    #[test]
    fn a_valid_group_charges_the_new_executor_once_to_the_first_task() {
        let ex = executor(Some(ExecutorType::Custom), "cpus:0.5;mem:32");
        let g = group(vec![
            task("t1", "cpus:1;mem:64"),
            task("t2", "cpus:1;mem:64"),
        ]);
        let consumed = check(&ex, &g, "cpus:4;mem:1024", false).expect("valid");
        assert_eq!(consumed.len(), 2);
        assert_eq!(consumed[0].unallocate(), res("cpus:1.5;mem:96"));
        assert_eq!(consumed[1].unallocate(), res("cpus:1;mem:64"));
        let again = check(&ex, &g, "cpus:4;mem:1024", true).expect("valid");
        assert_eq!(
            again[0].unallocate(),
            res("cpus:1;mem:64"),
            "running: not charged"
        );
    }

    #[test]
    fn each_rule_refuses_with_its_error() {
        let custom = executor(Some(ExecutorType::Custom), "cpus:0.5;mem:32");
        let ok = group(vec![task("t1", "cpus:1;mem:64")]);
        let big = "cpus:4;mem:1024";
        assert_eq!(
            check(&custom, &group(vec![]), big, false),
            Err(TaskGroupError::Empty)
        );

        let untyped = executor(None, "cpus:0.5");
        assert!(matches!(
            check(&untyped, &ok, big, false),
            Err(TaskGroupError::Executor { .. })
        ));
        let unknown = executor(Some(ExecutorType::Unknown), "cpus:0.5");
        assert!(matches!(
            check(&unknown, &ok, big, false),
            Err(TaskGroupError::Executor { .. })
        ));
        let default_with_command = executor(Some(ExecutorType::Default), "cpus:0.5");
        assert!(matches!(
            check(&default_with_command, &ok, big, false),
            Err(TaskGroupError::Executor { .. })
        ));
        let mut default = default_with_command.clone();
        default.command = None;
        assert!(check(&default, &ok, big, false).is_ok());
        let mut custom_without_command = custom.clone();
        custom_without_command.command = None;
        assert!(matches!(
            check(&custom_without_command, &ok, big, false),
            Err(TaskGroupError::Executor { .. })
        ));
        let mut other_framework = custom.clone();
        other_framework.framework_id = Some(FrameworkId::new("g"));
        let err = check(&other_framework, &ok, big, false).unwrap_err();
        assert!(err.to_string().contains("'g'"), "{err}");

        let mut own_executor = task("t1", "cpus:1");
        own_executor.executor = Some(custom.clone());
        own_executor.command = None;
        assert_eq!(
            check(&custom, &group(vec![own_executor]), big, false),
            Err(TaskGroupError::TaskHasExecutor(TaskId::new("t1")))
        );
        let mut no_command = task("t1", "cpus:1");
        no_command.command = None;
        assert_eq!(
            check(&custom, &group(vec![no_command]), big, false),
            Err(TaskGroupError::TaskWithoutCommand(TaskId::new("t1")))
        );
        assert_eq!(
            check(
                &custom,
                &group(vec![task("t1", "cpus:1"), task("t1", "cpus:1")]),
                big,
                false
            ),
            Err(TaskGroupError::DuplicateInGroup(TaskId::new("t1")))
        );
        assert!(matches!(
            check(&custom, &group(vec![task("taken", "cpus:1")]), big, false),
            Err(TaskGroupError::Task(TaskError::DuplicateId(_)))
        ));
        let mut elsewhere = task("t1", "cpus:1");
        elsewhere.agent_id = AgentId::new("a2");
        assert!(matches!(
            check(&custom, &group(vec![elsewhere]), big, false),
            Err(TaskGroupError::Task(TaskError::WrongAgent { .. }))
        ));
        assert!(matches!(
            check(
                &custom,
                &group(vec![task("t1", "cpus:3"), task("t2", "cpus:1")]),
                big,
                false
            ),
            Err(TaskGroupError::Task(TaskError::TooMuch { .. }))
        ));
        assert!(matches!(
            check(
                &executor(Some(ExecutorType::Custom), "cpus:8"),
                &ok,
                big,
                false
            ),
            Err(TaskGroupError::ExecutorTooMuch { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn an_accepted_group_fits_in_the_offer(
            cpus in proptest::collection::vec(1u32..4, 1..6),
            executor_cpus in 0u32..3,
            offered in 1u32..16,
            running in any::<bool>(),
        ) {
            let tasks = cpus
                .iter()
                .enumerate()
                .map(|(i, c)| task(&format!("t{i}"), &format!("cpus:{c}")))
                .collect();
            let ex = executor(Some(ExecutorType::Custom), &format!("cpus:{executor_cpus}"));
            let wanted: u32 = cpus.iter().sum::<u32>() + if running { 0 } else { executor_cpus };
            let verdict = check(&ex, &group(tasks), &format!("cpus:{offered}"), running);
            match verdict {
                Ok(consumed) => {
                    let mut sum = Resources::new();
                    for c in consumed {
                        sum += c;
                    }
                    let offer = res(&format!("cpus:{offered}"));
                    prop_assert!(offer.contains(&sum.unallocate()));
                    prop_assert!(wanted <= offered);
                }
                Err(_) => prop_assert!(wanted > offered),
            }
        }
    }
}
