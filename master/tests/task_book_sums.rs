//! The task book keeps per-agent and per-framework sums of its active tasks' resources and
//! the revocable tally (issue 22: `/master/state` and GET_STATE read them instead of adding
//! up every task per call). Over random sequences of the book's mutations (tasks added one
//! by one or per agent, replaced, moved to another agent, changed through `get_mut` in
//! state, status and resources, completed, taken, parked as completed, forgotten), with
//! the sums read or not between steps, every kept sum equals a recomputation from the
//! tasks the book holds, item by item and in the same order, and so do the revocable
//! tally and the count of tasks with an executor.

use meso_api::resources::Resource;
use meso_api::v1::{AgentId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_api::v1::{CommandInfo, ExecutorInfo, TaskStatusReason};
use meso_api::Resources;
use meso_master::master::revocable_summary::{active_tally, RevocableSummary, RevocableTally};
use meso_master::master::tasks::{Task, TaskBook};
use proptest::prelude::*;

const AGENTS: u8 = 3;
const FRAMEWORKS: u8 = 2;

/// One mutation of the book, with small ids so that steps hit the same tasks.
#[derive(Debug, Clone)]
enum Step {
    Add {
        framework: u8,
        task: u8,
        agent: u8,
        shape: u8,
    },
    AddOnAgent {
        agent: u8,
        tasks: Vec<(u8, u8, u8)>,
    },
    /// Through `get_mut`: a new state (evicted or not) and maybe new resources.
    Update {
        framework: u8,
        task: u8,
        state: u8,
        preempted: bool,
        shape: Option<u8>,
    },
    Complete {
        framework: u8,
        task: u8,
        killed: bool,
    },
    Take {
        framework: u8,
        task: u8,
    },
    AddCompleted {
        framework: u8,
        task: u8,
        preempted: bool,
    },
    ForgetFramework {
        framework: u8,
    },
    ForgetCompleted {
        framework: u8,
        task: u8,
    },
    /// Reads every sum and checks it (so the next steps start from kept sums).
    Read,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..FRAMEWORKS, 0u8..6, 0..AGENTS, any::<u8>()).prop_map(
            |(framework, task, agent, shape)| Step::Add {
                framework,
                task,
                agent,
                shape
            }
        ),
        (
            0..AGENTS,
            proptest::collection::vec((0..FRAMEWORKS, 0u8..6, any::<u8>()), 0..4)
        )
            .prop_map(|(agent, tasks)| Step::AddOnAgent { agent, tasks }),
        (
            0..FRAMEWORKS,
            0u8..6,
            0u8..4,
            any::<bool>(),
            proptest::option::of(any::<u8>())
        )
            .prop_map(|(framework, task, state, preempted, shape)| Step::Update {
                framework,
                task,
                state,
                preempted,
                shape
            }),
        (0..FRAMEWORKS, 0u8..6, any::<bool>()).prop_map(|(framework, task, killed)| {
            Step::Complete {
                framework,
                task,
                killed,
            }
        }),
        (0..FRAMEWORKS, 0u8..6).prop_map(|(framework, task)| Step::Take { framework, task }),
        (0..FRAMEWORKS, 0u8..6, any::<bool>()).prop_map(|(framework, task, preempted)| {
            Step::AddCompleted {
                framework,
                task,
                preempted,
            }
        }),
        (0..FRAMEWORKS).prop_map(|framework| Step::ForgetFramework { framework }),
        (0..FRAMEWORKS, 0u8..6)
            .prop_map(|(framework, task)| Step::ForgetCompleted { framework, task }),
        Just(Step::Read),
        Just(Step::Read),
    ]
}

/// Resources of a few shapes: plain, revocable, with ports (overlapping between tasks).
fn resources(shape: u8) -> Resources {
    let text = format!(
        "cpus:0.{};mem:{};ports:[{}-{}]",
        shape % 9 + 1,
        32 + u32::from(shape % 5),
        31000 + u32::from(shape % 4),
        31004 + u32::from(shape % 3)
    );
    let plain = Resources::parse(&text, "*").expect("test resources parse");
    if shape % 3 == 0 {
        plain.into_iter().map(Resource::into_revocable).collect()
    } else {
        plain
    }
}

fn ids(framework: u8, task: u8) -> (FrameworkId, TaskId) {
    (
        FrameworkId::new(format!("f{framework}")),
        TaskId::new(format!("t{task}")),
    )
}

fn task(framework: u8, id: u8, agent: u8, shape: u8) -> Task {
    let agent_id = AgentId::new(format!("a{agent}"));
    let r = resources(shape);
    let mut info =
        TaskInfo::command(&format!("t{id}"), agent_id.clone(), "sleep 1").with_resources(r.clone());
    if shape % 4 == 0 {
        info = info.with_executor(ExecutorInfo::custom("e", CommandInfo::shell("./e")));
    }
    Task {
        info,
        framework_id: FrameworkId::new(format!("f{framework}")),
        agent_id,
        state: TaskState::Staging,
        status: None,
        consumed: r,
        role: "*".into(),
        recovered: false,
    }
}

fn status(task: &TaskId, state: TaskState, preempted: bool) -> TaskStatus {
    let mut status = TaskStatus::new(task.clone(), state);
    if preempted {
        status.reason = Some(TaskStatusReason::ContainerPreempted);
    }
    status
}

fn apply(book: &mut TaskBook, step: &Step) {
    match step {
        Step::Add {
            framework,
            task: id,
            agent,
            shape,
        } => book.add(task(*framework, *id, *agent, *shape)),
        Step::AddOnAgent { agent, tasks } => {
            let tasks = tasks
                .iter()
                .map(|(f, t, s)| task(*f, *t, *agent, *s))
                .collect();
            book.add_on_agent(&AgentId::new(format!("a{agent}")), tasks);
        }
        Step::Update {
            framework,
            task,
            state,
            preempted,
            shape,
        } => {
            let (f, t) = ids(*framework, *task);
            if let Some(mut task) = book.get_mut(&f, &t) {
                let state = [
                    TaskState::Running,
                    TaskState::Killed,
                    TaskState::Failed,
                    TaskState::Starting,
                ][usize::from(*state)];
                task.state = state;
                task.status = Some(status(&t, state, *preempted));
                if let Some(shape) = shape {
                    task.info.resources = resources(*shape);
                    if shape % 2 == 0 {
                        task.info.executor = None;
                    }
                }
            }
        }
        Step::Complete {
            framework,
            task,
            killed,
        } => {
            let (f, t) = ids(*framework, *task);
            let state = if *killed {
                TaskState::Killed
            } else {
                TaskState::Finished
            };
            book.complete(&f, &t, state);
        }
        Step::Take { framework, task } => {
            let (f, t) = ids(*framework, *task);
            book.take(&f, &t);
        }
        Step::AddCompleted {
            framework,
            task: id,
            preempted,
        } => {
            let mut parked = task(*framework, *id, 0, 1);
            parked.state = TaskState::Killed;
            parked.status = Some(status(&parked.info.task_id, TaskState::Killed, *preempted));
            book.add_completed(parked);
        }
        Step::ForgetFramework { framework } => {
            book.forget_framework(&FrameworkId::new(format!("f{framework}")))
        }
        Step::ForgetCompleted { framework, task } => {
            let (f, t) = ids(*framework, *task);
            book.forget_completed(&f, &t);
        }
        Step::Read => {}
    }
}

/// Every kept sum, as the documents read them.
fn read(book: &TaskBook) -> (Vec<Option<Resources>>, Vec<Option<Resources>>) {
    let agents = (0..AGENTS)
        .map(|a| book.used_on_agent(&AgentId::new(format!("a{a}"))).cloned())
        .collect();
    let frameworks = (0..FRAMEWORKS)
        .map(|f| {
            book.used_by_framework(&FrameworkId::new(format!("f{f}")))
                .cloned()
        })
        .collect();
    (agents, frameworks)
}

/// The sums recomputed from the tasks, in the book's (framework, task) order.
fn recomputed(book: &TaskBook) -> (Vec<Option<Resources>>, Vec<Option<Resources>>) {
    let sum = |keep: &dyn Fn(&Task) -> bool| {
        let mut out: Option<Resources> = None;
        for t in book.active().filter(|t| keep(t)) {
            *out.get_or_insert_with(Resources::new) += &t.info.resources;
        }
        out
    };
    let agents = (0..AGENTS)
        .map(|a| sum(&|t: &Task| t.agent_id.value == format!("a{a}")))
        .collect();
    let frameworks = (0..FRAMEWORKS)
        .map(|f| sum(&|t: &Task| t.framework_id.value == format!("f{f}")))
        .collect();
    (agents, frameworks)
}

/// Resources item by item (order included), as a document writes them.
fn items(r: &[Option<Resources>]) -> Vec<Option<Vec<String>>> {
    r.iter()
        .map(|r| {
            r.as_ref()
                .map(|r| r.iter().map(|x| format!("{x:?}")).collect())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn kept_sums_equal_a_recomputation(steps in proptest::collection::vec(step(), 1..32)) {
        let mut book = TaskBook::new(3);
        for (n, step) in steps.iter().enumerate() {
            apply(&mut book, step);
            // Reading computes the sums that are not kept: only at a Read step and at the
            // end, so that mutations meet both kept and not yet computed sums.
            if matches!(step, Step::Read) || n + 1 == steps.len() {
                let (kept, fresh) = (read(&book), recomputed(&book));
                prop_assert_eq!(items(&kept.0), items(&fresh.0), "agents after {:?}", step);
                prop_assert_eq!(items(&kept.1), items(&fresh.1), "frameworks after {:?}", step);
            }
            let mut used = RevocableTally::default();
            for t in book.active() {
                used += active_tally(t);
            }
            let evicted = book
                .completed()
                .filter(|t| meso_master::master::revocable_summary::evicted(t))
                .count() as u64;
            prop_assert_eq!(book.revocable(), (used, evicted), "revocable after {:?}", step);
            let executors = book.active().filter(|t| t.info.executor.is_some()).count();
            prop_assert_eq!(book.with_executor_count(), executors, "executors after {:?}", step);
            let agents = [resources(0), resources(1)];
            prop_assert_eq!(
                RevocableSummary::of_books(agents.iter(), &book),
                RevocableSummary::of(agents.iter(), book.active(), book.completed())
            );
        }
    }
}
