//! The tasks of agents marked unreachable, kept until the agent comes back or is marked
//! gone (Mesos's `slaves.unreachableTasks` and each framework's `unreachableTasks`). Pure
//! bookkeeping; the master sends the updates.
//!
//! When the master marks an agent unreachable, its active tasks leave the task book (their
//! resources leave the allocator with the agent) and are parked here, each with the state
//! its framework was told (TASK_UNREACHABLE, or TASK_LOST for frameworks that are not
//! PARTITION_AWARE) and the time the agent was found unreachable. `/master/state` lists
//! them as each framework's `unreachable_tasks`, GET_TASKS as `unreachable_tasks`.
//!
//! Invariants: an agent id is here only while the agent book has it unreachable; a task is
//! in at most one of this book and the task book's active tasks. The agent's tasks are
//! taken out whole, when it re-registers (the tasks it reports are active again) or is
//! marked gone (they complete).

use std::collections::BTreeMap;

use meso_api::v1::{AgentId, FrameworkId, TaskId};

use super::tasks::Task;

/// One unreachable agent's tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreachableAgent {
    /// When the agent was marked unreachable, seconds since the Unix epoch.
    pub since_secs: f64,
    /// Its tasks, in the state their frameworks were told.
    pub tasks: Vec<Task>,
}

/// Tasks of unreachable agents, by agent.
#[derive(Debug, Default)]
pub struct UnreachableTasks {
    by_agent: BTreeMap<AgentId, UnreachableAgent>,
}

impl UnreachableTasks {
    /// Parks `tasks` of `agent`, found unreachable at `since_secs` (replacing what was
    /// parked for it).
    pub fn park(&mut self, agent: AgentId, since_secs: f64, tasks: Vec<Task>) {
        self.by_agent
            .insert(agent, UnreachableAgent { since_secs, tasks });
    }

    /// Takes out everything parked for `agent`.
    pub fn take(&mut self, agent: &AgentId) -> Option<UnreachableAgent> {
        self.by_agent.remove(agent)
    }

    /// When `agent` was marked unreachable, if it has an entry.
    pub fn since(&self, agent: &AgentId) -> Option<f64> {
        self.by_agent.get(agent).map(|a| a.since_secs)
    }

    /// The parked task `task` of `framework` (on any unreachable agent).
    pub fn find(&self, framework: &FrameworkId, task: &TaskId) -> Option<&Task> {
        self.iter()
            .find(|t| &t.framework_id == framework && &t.info.task_id == task)
    }

    /// The parked tasks of `framework`.
    pub fn of_framework<'a>(
        &'a self,
        framework: &'a FrameworkId,
    ) -> impl Iterator<Item = &'a Task> + 'a {
        self.iter().filter(move |t| &t.framework_id == framework)
    }

    /// Every parked task, by agent.
    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        self.by_agent.values().flat_map(|a| a.tasks.iter())
    }

    /// Number of parked tasks.
    pub fn len(&self) -> usize {
        self.by_agent.values().map(|a| a.tasks.len()).sum()
    }

    /// Whether nothing is parked.
    pub fn is_empty(&self) -> bool {
        self.by_agent.values().all(|a| a.tasks.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{TaskInfo, TaskState};
    use meso_api::Resources;

    fn task(fw: &str, id: &str, agent: &str) -> Task {
        Task {
            info: TaskInfo::command(id, AgentId::new(agent), "true"),
            framework_id: FrameworkId::new(fw),
            agent_id: AgentId::new(agent),
            state: TaskState::Unreachable,
            status: None,
            consumed: Resources::new(),
            role: "*".to_string(),
            recovered: false,
        }
    }

    #[test]
    fn tasks_are_found_until_their_agent_is_taken_out() {
        let mut book = UnreachableTasks::default();
        let a = AgentId::new("a");
        book.park(
            a.clone(),
            7.0,
            vec![task("f1", "t1", "a"), task("f2", "t2", "a")],
        );
        book.park(AgentId::new("b"), 8.0, vec![task("f1", "t3", "b")]);
        let f1 = FrameworkId::new("f1");
        assert_eq!(book.len(), 3);
        assert_eq!(book.of_framework(&f1).count(), 2);
        assert!(book.find(&f1, &TaskId::new("t1")).is_some());
        assert!(book.find(&f1, &TaskId::new("t2")).is_none(), "t2 is f2's");
        assert_eq!(book.since(&a), Some(7.0));
        let back = book.take(&a).expect("a is parked");
        assert_eq!(back.tasks.len(), 2);
        assert!(book.find(&f1, &TaskId::new("t1")).is_none());
        assert_eq!(book.len(), 1);
        assert!(book.take(&a).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Against a model (a map from agent to its task ids): after any parks and takes,
        /// the book finds exactly the model's tasks and counts them.
        #[test]
        fn the_book_matches_a_model(
            steps in proptest::collection::vec(
                (0u8..3, proptest::option::of(proptest::collection::vec((0u8..2, 0u8..4), 0..4))),
                0..16,
            )
        ) {
            let mut book = UnreachableTasks::default();
            let mut model: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            for (agent, park) in steps {
                let agent = format!("a{agent}");
                match park {
                    Some(tasks) => {
                        // Task ids unique per framework on one agent, as the task book keeps them.
                        let mut seen = std::collections::BTreeSet::new();
                        let tasks: Vec<(String, String)> = tasks
                            .into_iter()
                            .map(|(f, t)| (format!("f{f}"), format!("{agent}-t{t}")))
                            .filter(|k| seen.insert(k.clone()))
                            .collect();
                        book.park(
                            AgentId::new(agent.as_str()),
                            1.0,
                            tasks.iter().map(|(f, t)| task(f, t, &agent)).collect(),
                        );
                        model.insert(agent, tasks);
                    }
                    None => {
                        let taken = book.take(&AgentId::new(agent.as_str())).map(|a| a.tasks.len());
                        proptest::prop_assert_eq!(taken, model.remove(&agent).map(|t| t.len()));
                    }
                }
                proptest::prop_assert_eq!(book.len(), model.values().map(Vec::len).sum::<usize>());
                for tasks in model.values() {
                    for (f, t) in tasks {
                        proptest::prop_assert!(book
                            .find(&FrameworkId::new(f.as_str()), &TaskId::new(t.as_str()))
                            .is_some());
                    }
                }
                let f0 = FrameworkId::new("f0");
                let in_model = model.values().flatten().filter(|(f, _)| f == "f0").count();
                proptest::prop_assert_eq!(book.of_framework(&f0).count(), in_model);
            }
        }
    }
}
