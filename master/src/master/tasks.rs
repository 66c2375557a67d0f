//! The master's task book: every task it launched or learned from an agent, indexed by
//! (framework, task) and by agent, with each framework's bounded list of completed tasks.
//!
//! `active` is keyed by framework, then task: lookups borrow the ids (no key is built), and
//! the framework id, shared by most tasks, is compared once per lookup instead of at every
//! step of the search. Iteration is in (framework, task) order.
//!
//! Each active task keeps its JSON text, in the legacy (`/master/state`) and v1 (GET_STATE)
//! forms, once a document has written it ([`TaskText`], issue 22): the next document copies
//! the text instead of serializing the task again. The text depends on the task alone, and
//! the book hands out `&mut Task` only through [`TaskBook::get_mut`], which drops it; a task
//! replaced, completed or taken leaves with its slot. So a kept text is always the text of
//! the task as it is now.
//!
//! Each agent and each framework with active tasks also keeps the sum of its tasks'
//! resources (`used`, computed by the first reader, dropped whenever one of its tasks is
//! added, replaced, completed or taken, or changes its resources through
//! [`TaskBook::get_mut`]), and the book keeps the revocable resources its active tasks hold
//! and the evictions among its tasks ([`RevocableTally`], updated exactly at every change,
//! fixed-point), and how many active tasks have an executor. So `/master/state` and GET_STATE read the sums instead of adding up
//! 500,000 tasks per call (issue 22); `master/tests/task_book_sums.rs` checks them against a
//! recomputation after random sequences of mutations.
//!
//! Invariants: a task is in `by_agent` exactly while it is in `active`; `active_count` is the
//! number of tasks in `active`; no framework in `active` has an empty map; a task leaves
//! `active` only through [`TaskBook::complete`] (terminal and acknowledged, or its framework
//! or agent gone) or [`TaskBook::take`] (its agent unreachable), after which at most `max_completed` per framework are remembered.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::{Deref, DerefMut};

use serde_json::value::RawValue;

use meso_api::v1::{AgentId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus};
use meso_api::Resources;

use super::revocable_tally::{evicted_by, RevocableTally};

/// One task as the master knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The task as launched.
    pub info: TaskInfo,
    /// Its framework.
    pub framework_id: FrameworkId,
    /// Its agent.
    pub agent_id: AgentId,
    /// Latest state.
    pub state: TaskState,
    /// Latest status received, if any.
    pub status: Option<TaskStatus>,
    /// What it holds in the allocator (task plus new executor), allocated to `role`.
    pub consumed: Resources,
    /// Allocation role.
    pub role: String,
    /// Whether `consumed` was given back to the allocator (on the terminal update).
    pub recovered: bool,
}

type Key = (FrameworkId, TaskId);

/// What an active task adds to the book's revocable tally.
fn tally(task: &Task) -> RevocableTally {
    RevocableTally::of_active(task.state, task.status.as_ref(), &task.info.resources)
}

/// Whether a task ended by a QoS controller's eviction.
fn evicted(task: &Task) -> bool {
    evicted_by(task.state, task.status.as_ref())
}

/// The JSON forms of a task a document wrote, kept until the task changes.
#[derive(Debug, Default)]
pub struct TaskText {
    legacy: OnceCell<Box<RawValue>>,
    v1: OnceCell<Box<RawValue>>,
}

/// Which JSON form of a task: Mesos's legacy endpoints' or the v1 operator API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskForm {
    /// `/master/state`'s task object.
    Legacy,
    /// The v1 `Task` message.
    V1,
}

/// An active task and its kept text.
#[derive(Debug)]
struct Slot {
    task: Task,
    text: TaskText,
}

/// An active task with its kept text, as documents iterate it.
#[derive(Clone, Copy)]
pub struct CachedTask<'a> {
    slot: &'a Slot,
}

impl<'a> CachedTask<'a> {
    /// The task.
    pub fn task(&self) -> &'a Task {
        &self.slot.task
    }

    /// The task's text in `form`: the kept one, or `write`'s, which is then kept. `write`
    /// must depend on the task alone (the text is dropped only when the task changes).
    pub fn text(&self, form: TaskForm, write: impl FnOnce(&Task) -> Box<RawValue>) -> &'a RawValue {
        let cell = match form {
            TaskForm::Legacy => &self.slot.text.legacy,
            TaskForm::V1 => &self.slot.text.v1,
        };
        cell.get_or_init(|| write(&self.slot.task))
    }
}

/// A framework's active tasks and the kept sum of their resources.
#[derive(Debug, Default)]
struct FrameworkTasks {
    /// Boxed: a B-tree shifts its values on insert, and a `Task` is large.
    tasks: BTreeMap<TaskId, Box<Slot>>,
    used: OnceCell<Resources>,
}

/// The keys of an agent's active tasks and the kept sum of their resources.
#[derive(Debug, Default)]
struct AgentTasks {
    keys: BTreeSet<Key>,
    used: OnceCell<Resources>,
}

/// Active and completed tasks.
#[derive(Debug)]
pub struct TaskBook {
    active: BTreeMap<FrameworkId, FrameworkTasks>,
    active_count: usize,
    by_agent: BTreeMap<AgentId, AgentTasks>,
    completed: BTreeMap<FrameworkId, VecDeque<Task>>,
    max_completed: usize,
    /// Tasks that reached each terminal state since the master started (for metrics).
    terminal_counts: BTreeMap<TaskState, u64>,
    /// What the active tasks hold of revocable resources, and their evictions.
    revocable: RevocableTally,
    /// Evicted tasks among the remembered completed ones.
    completed_evicted: u64,
    /// Active tasks with an executor (GET_STATE's executors need a walk only if any).
    with_executor: usize,
}

/// An active task borrowed mutably ([`TaskBook::get_mut`]): when it is dropped, the book's
/// sums follow what the caller changed. Its framework and agent must not change.
pub struct TaskMut<'a> {
    slot: &'a mut Slot,
    framework_used: &'a mut OnceCell<Resources>,
    agent_used: Option<&'a mut OnceCell<Resources>>,
    revocable: &'a mut RevocableTally,
    with_executor: &'a mut usize,
    resources: Resources,
    tally: RevocableTally,
    had_executor: bool,
}

impl Deref for TaskMut<'_> {
    type Target = Task;
    fn deref(&self) -> &Task {
        &self.slot.task
    }
}

impl DerefMut for TaskMut<'_> {
    fn deref_mut(&mut self) -> &mut Task {
        &mut self.slot.task
    }
}

impl Drop for TaskMut<'_> {
    fn drop(&mut self) {
        let task = &self.slot.task;
        *self.revocable -= self.tally;
        *self.revocable += tally(task);
        *self.with_executor -= usize::from(self.had_executor);
        *self.with_executor += usize::from(task.info.executor.is_some());
        // Item by item, not as multisets: the sums are written in their items' order.
        if !task.info.resources.iter().eq(self.resources.iter()) {
            self.framework_used.take();
            if let Some(cell) = self.agent_used.as_mut() {
                cell.take();
            }
        }
    }
}

impl TaskBook {
    /// An empty book remembering `max_completed` finished tasks per framework.
    pub fn new(max_completed: usize) -> TaskBook {
        TaskBook {
            active: BTreeMap::new(),
            active_count: 0,
            by_agent: BTreeMap::new(),
            completed: BTreeMap::new(),
            max_completed,
            terminal_counts: BTreeMap::new(),
            revocable: RevocableTally::default(),
            completed_evicted: 0,
            with_executor: 0,
        }
    }

    /// Adds (or replaces) an active task.
    pub fn add(&mut self, task: Task) {
        let agent = task.agent_id.clone();
        let key = self.insert_active(task);
        let tasks = self.by_agent.entry(agent).or_default();
        tasks.keys.insert(key);
        tasks.used.take();
    }

    /// Adds (or replaces) tasks that all run on `agent` (an agent re-registering with its
    /// tasks): as [`TaskBook::add`] for each, with one lookup of the agent's index.
    pub fn add_on_agent(&mut self, agent: &AgentId, tasks: Vec<Task>) {
        let mut keys = Vec::with_capacity(tasks.len());
        for task in tasks {
            if &task.agent_id != agent {
                self.add(task);
                continue;
            }
            keys.push(self.insert_active(task));
        }
        if !keys.is_empty() {
            let tasks = self.by_agent.entry(agent.clone()).or_default();
            tasks.keys.extend(keys);
            tasks.used.take();
        }
    }

    /// Puts `task` in `active` and returns its key; the caller indexes it by its agent. A
    /// task it replaces on another agent leaves that agent's index.
    fn insert_active(&mut self, task: Task) -> Key {
        let key = (task.framework_id.clone(), task.info.task_id.clone());
        let agent = task.agent_id.clone();
        let tasks = match self.active.get_mut(&task.framework_id) {
            Some(tasks) => tasks,
            None => self.active.entry(task.framework_id.clone()).or_default(),
        };
        tasks.used.take();
        self.revocable += tally(&task);
        self.with_executor += usize::from(task.info.executor.is_some());
        let slot = Box::new(Slot {
            task,
            text: TaskText::default(),
        });
        let old = tasks.tasks.insert(key.1.clone(), slot);
        if let Some(old) = &old {
            self.revocable -= tally(&old.task);
            self.with_executor -= usize::from(old.task.info.executor.is_some());
        }
        match old {
            Some(old) if old.task.agent_id != agent => self.unindex(&old.task.agent_id, &key),
            Some(_) => {}
            None => self.active_count += 1,
        }
        key
    }

    fn unindex(&mut self, agent: &AgentId, key: &Key) {
        if let Some(tasks) = self.by_agent.get_mut(agent) {
            tasks.keys.remove(key);
            tasks.used.take();
            if tasks.keys.is_empty() {
                self.by_agent.remove(agent);
            }
        }
    }

    /// The active task `task` of `framework`.
    pub fn get(&self, framework: &FrameworkId, task: &TaskId) -> Option<&Task> {
        self.active.get(framework)?.tasks.get(task).map(|t| &t.task)
    }

    /// The active task, mutably. Its kept text is dropped (the caller may change it); the
    /// sums follow the change when the guard is dropped.
    pub fn get_mut(&mut self, framework: &FrameworkId, task: &TaskId) -> Option<TaskMut<'_>> {
        let FrameworkTasks { tasks, used } = self.active.get_mut(framework)?;
        let slot = tasks.get_mut(task)?;
        slot.text = TaskText::default();
        let agent_used = self
            .by_agent
            .get_mut(&slot.task.agent_id)
            .map(|a| &mut a.used);
        Some(TaskMut {
            resources: slot.task.info.resources.clone(),
            tally: tally(&slot.task),
            had_executor: slot.task.info.executor.is_some(),
            slot,
            framework_used: used,
            agent_used,
            revocable: &mut self.revocable,
            with_executor: &mut self.with_executor,
        })
    }

    /// The sum of the resources of the active tasks on `agent` (`None` without any), kept
    /// until one of them changes.
    pub fn used_on_agent(&self, agent: &AgentId) -> Option<&Resources> {
        let tasks = self.by_agent.get(agent)?;
        Some(tasks.used.get_or_init(|| {
            let mut sum = Resources::new();
            for (framework, task) in &tasks.keys {
                if let Some(task) = self.get(framework, task) {
                    sum += &task.info.resources;
                }
            }
            sum
        }))
    }

    /// The sum of the resources of the active tasks of `framework` (`None` without any),
    /// kept until one of them changes.
    pub fn used_by_framework(&self, framework: &FrameworkId) -> Option<&Resources> {
        let tasks = self.active.get(framework)?;
        Some(tasks.used.get_or_init(|| {
            let mut sum = Resources::new();
            for slot in tasks.tasks.values() {
                sum += &slot.task.info.resources;
            }
            sum
        }))
    }

    /// The revocable resources the active tasks hold and their evictions, and the
    /// evictions among the remembered completed tasks.
    pub fn revocable(&self) -> (RevocableTally, u64) {
        (self.revocable, self.completed_evicted)
    }

    /// Whether `framework` has an active task with this id.
    pub fn contains(&self, framework: &FrameworkId, task: &TaskId) -> bool {
        self.get(framework, task).is_some()
    }

    /// Moves an active task to its framework's completed list with `state`; returns it.
    pub fn complete(
        &mut self,
        framework: &FrameworkId,
        task: &TaskId,
        state: TaskState,
    ) -> Option<Task> {
        let mut record = self.remove_active(framework, task)?;
        record.state = state;
        *self.terminal_counts.entry(state).or_default() += 1;
        self.remember_completed(record.clone());
        Some(record)
    }

    /// Takes an active task out of the book without completing it (its agent was marked
    /// unreachable: the task is parked, not finished).
    pub fn take(&mut self, framework: &FrameworkId, task: &TaskId) -> Option<Task> {
        self.remove_active(framework, task)
    }

    /// Takes an active task out of `active`, its agent's index and the sums.
    fn remove_active(&mut self, framework: &FrameworkId, task: &TaskId) -> Option<Task> {
        let tasks = self.active.get_mut(framework)?;
        let record = tasks.tasks.remove(task)?.task;
        tasks.used.take();
        if tasks.tasks.is_empty() {
            self.active.remove(framework);
        }
        self.active_count -= 1;
        self.revocable -= tally(&record);
        self.with_executor -= usize::from(record.info.executor.is_some());
        let key = (framework.clone(), task.clone());
        self.unindex(&record.agent_id, &key);
        Some(record)
    }

    /// Appends `task` to its framework's completed list, forgetting the oldest past
    /// `max_completed`.
    fn remember_completed(&mut self, task: Task) {
        self.completed_evicted += u64::from(evicted(&task));
        let list = self.completed.entry(task.framework_id.clone()).or_default();
        list.push_back(task);
        while list.len() > self.max_completed {
            if let Some(old) = list.pop_front() {
                self.completed_evicted -= u64::from(evicted(&old));
            }
        }
    }

    /// Adds a task that is not active (a parked task of an agent marked gone) to its
    /// framework's completed list, in its state.
    pub fn add_completed(&mut self, task: Task) {
        *self.terminal_counts.entry(task.state).or_default() += 1;
        self.remember_completed(task);
    }

    /// Forgets the completed tasks of `framework` (it left the completed frameworks).
    pub fn forget_framework(&mut self, framework: &FrameworkId) {
        if let Some(list) = self.completed.remove(framework) {
            self.completed_evicted -= list.iter().filter(|t| evicted(t)).count() as u64;
        }
    }

    /// Whether any active task runs on `agent`.
    pub fn has_on_agent(&self, agent: &AgentId) -> bool {
        self.by_agent.contains_key(agent)
    }

    /// Forgets the remembered completed task `task` of `framework` (it turned out to be
    /// running: an agent reported it), so that no task is both completed and active
    /// (MESOS-9940).
    pub fn forget_completed(&mut self, framework: &FrameworkId, task: &TaskId) {
        if let Some(list) = self.completed.get_mut(framework) {
            let forgotten = &mut self.completed_evicted;
            list.retain(|t| {
                let keep = &t.info.task_id != task;
                if !keep {
                    *forgotten -= u64::from(evicted(t));
                }
                keep
            });
        }
    }

    /// Keys of the active tasks on `agent`.
    pub fn on_agent(&self, agent: &AgentId) -> Vec<(FrameworkId, TaskId)> {
        self.by_agent
            .get(agent)
            .map(|s| s.keys.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The active tasks of `framework`.
    pub fn of_framework<'a>(
        &'a self,
        framework: &'a FrameworkId,
    ) -> impl Iterator<Item = &'a Task> + 'a {
        self.active
            .get(framework)
            .into_iter()
            .flat_map(|t| t.tasks.values().map(|t| &t.task))
    }

    /// The active tasks of `framework` with their kept text.
    pub fn of_framework_cached<'a>(
        &'a self,
        framework: &'a FrameworkId,
    ) -> impl Iterator<Item = CachedTask<'a>> + 'a {
        self.active
            .get(framework)
            .into_iter()
            .flat_map(|t| t.tasks.values().map(|slot| CachedTask { slot }))
    }

    /// The completed tasks of `framework`, oldest first.
    pub fn completed_of(&self, framework: &FrameworkId) -> impl Iterator<Item = &Task> {
        self.completed.get(framework).into_iter().flatten()
    }

    /// The most recent completed task with this id, if remembered.
    pub fn find_completed(&self, framework: &FrameworkId, task: &TaskId) -> Option<&Task> {
        self.completed
            .get(framework)?
            .iter()
            .rev()
            .find(|t| &t.info.task_id == task)
    }

    /// Every active task, by (framework, task).
    pub fn active(&self) -> impl Iterator<Item = &Task> {
        self.active
            .values()
            .flat_map(|t| t.tasks.values().map(|t| &t.task))
    }

    /// Every active task with its kept text, by (framework, task).
    pub fn active_cached(&self) -> impl Iterator<Item = CachedTask<'_>> {
        self.active
            .values()
            .flat_map(|t| t.tasks.values().map(|slot| CachedTask { slot }))
    }

    /// Every remembered completed task, by framework, oldest first.
    pub fn completed(&self) -> impl Iterator<Item = &Task> {
        self.completed.values().flatten()
    }

    /// How many tasks reached `state` through [`TaskBook::complete`] so far.
    pub fn terminal_count(&self, state: TaskState) -> u64 {
        self.terminal_counts.get(&state).copied().unwrap_or(0)
    }

    /// Number of active tasks.
    pub fn active_count(&self) -> usize {
        self.active_count
    }

    /// Number of active tasks with an executor.
    pub fn with_executor_count(&self) -> usize {
        self.with_executor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(fw: &str, id: &str, agent: &str) -> Task {
        Task {
            info: TaskInfo::command(id, AgentId::new(agent), "true"),
            framework_id: FrameworkId::new(fw),
            agent_id: AgentId::new(agent),
            state: TaskState::Staging,
            status: None,
            consumed: Resources::new(),
            role: "*".to_string(),
            recovered: false,
        }
    }

    #[test]
    fn tasks_are_found_by_framework_and_agent_until_completed() {
        let mut book = TaskBook::new(2);
        book.add(task("f1", "t1", "a"));
        book.add(task("f1", "t2", "b"));
        book.add(task("f2", "t1", "a"));
        let f1 = FrameworkId::new("f1");
        assert_eq!(book.of_framework(&f1).count(), 2);
        assert_eq!(book.on_agent(&AgentId::new("a")).len(), 2);
        let done = book.complete(&f1, &TaskId::new("t1"), TaskState::Finished);
        assert_eq!(done.map(|t| t.state), Some(TaskState::Finished));
        assert!(!book.contains(&f1, &TaskId::new("t1")));
        assert_eq!(book.on_agent(&AgentId::new("a")).len(), 1);
        assert!(book.find_completed(&f1, &TaskId::new("t1")).is_some());
    }

    #[test]
    fn a_forgotten_framework_leaves_no_completed_tasks() {
        let mut book = TaskBook::new(2);
        let f = FrameworkId::new("f");
        book.add(task("f", "t1", "a"));
        book.complete(&f, &TaskId::new("t1"), TaskState::Finished);
        book.forget_framework(&f);
        assert_eq!(book.completed_of(&f).count(), 0);
        assert!(book.find_completed(&f, &TaskId::new("t1")).is_none());
    }

    #[test]
    fn completed_tasks_are_bounded_per_framework() {
        let mut book = TaskBook::new(2);
        let f = FrameworkId::new("f");
        for i in 0..5 {
            let id = format!("t{i}");
            book.add(task("f", &id, "a"));
            book.complete(&f, &TaskId::new(id), TaskState::Finished);
        }
        let names: Vec<_> = book.completed_of(&f).map(|t| t.info.name.clone()).collect();
        assert_eq!(names, vec!["t3", "t4"]);
    }
    /// What a book shows: every active task (framework, task, agent), each agent's keys,
    /// the count.
    type View = (
        Vec<(String, String, String)>,
        Vec<Vec<(FrameworkId, TaskId)>>,
        usize,
    );

    fn view(book: &TaskBook) -> View {
        let active = book
            .active()
            .map(|t| {
                (
                    t.framework_id.value.clone(),
                    t.info.task_id.value.clone(),
                    t.agent_id.value.clone(),
                )
            })
            .collect();
        let agents = ["a0", "a1", "a2"]
            .iter()
            .map(|a| book.on_agent(&AgentId::new(*a)))
            .collect();
        (active, agents, book.active_count())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// An agent's tasks added at once end as if added one by one, whatever was there
        /// before (tasks moving between agents, completed ones).
        #[test]
        fn adding_an_agents_tasks_at_once_equals_adding_them_one_by_one(
            batches in proptest::collection::vec(
                (0u8..3, proptest::collection::vec((0u8..2, 0u8..5), 0..6), 0u8..5),
                1..8,
            )
        ) {
            let (mut one, mut bulk) = (TaskBook::new(3), TaskBook::new(3));
            for (agent, tasks, done) in batches {
                let agent = format!("a{agent}");
                let built: Vec<Task> = tasks
                    .iter()
                    .map(|(f, t)| task(&format!("f{f}"), &format!("t{t}"), &agent))
                    .collect();
                for t in built.clone() {
                    one.add(t);
                }
                bulk.add_on_agent(&AgentId::new(agent.as_str()), built);
                let (fw, id) = (FrameworkId::new("f0"), TaskId::new(format!("t{done}")));
                one.complete(&fw, &id, TaskState::Finished);
                bulk.complete(&fw, &id, TaskState::Finished);
                proptest::prop_assert_eq!(view(&one), view(&bulk));
            }
        }
    }
}
