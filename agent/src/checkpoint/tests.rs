//! The store and the reader together: what is written reads back exactly, and damage to
//! any byte of any file reads back as the exact state, a valid prefix of a task's updates,
//! or an error naming that file, never a panic.

use std::path::{Path, PathBuf};

use meso_api::v1::{
    AgentId, AgentInfo, ContainerId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId, TaskInfo,
    TaskState, TaskStatus,
};
use meso_api::wire::StatusUpdate;
use proptest::prelude::*;

use super::*;

fn agent_info() -> AgentInfo {
    let mut info = AgentInfo::new("host-1");
    info.id = Some(AgentId::new("M-S1"));
    info
}

fn framework_info(n: usize) -> FrameworkInfo {
    let mut info: FrameworkInfo =
        serde_json::from_value(serde_json::json!({"user": "u", "name": format!("fw{n}")})).unwrap();
    info.id = Some(FrameworkId::new(format!("M-000{n}")));
    info.checkpoint = true;
    info
}

fn executor_info(n: usize) -> ExecutorInfo {
    serde_json::from_value(serde_json::json!({
        "executor_id": {"value": format!("ex{n}")},
        "command": {"value": "sleep 100"}
    }))
    .unwrap()
}

fn task_info(n: usize) -> TaskInfo {
    serde_json::from_value(serde_json::json!({
        "name": "t",
        "task_id": {"value": format!("t{n}")},
        "agent_id": {"value": "M-S1"},
        "command": {"value": "sleep 100"}
    }))
    .unwrap()
}

fn update_record(fw: &FrameworkId, task: &TaskId, n: u8, ack: bool) -> UpdateRecord {
    if ack {
        return UpdateRecord::Ack { uuid: vec![n; 16] };
    }
    let mut status = TaskStatus::new(task.clone(), TaskState::Running);
    status.uuid = Some(vec![n; 16]);
    UpdateRecord::Update(StatusUpdate {
        framework_id: fw.clone(),
        executor_id: None,
        agent_id: None,
        status,
        timestamp: 1.0,
        uuid: Some(vec![n; 16]),
        latest_state: None,
    })
}

/// What a test writes: per framework, per executor, tasks with their update records.
type Plan = Vec<Vec<Vec<Vec<(u8, bool)>>>>;

fn write_plan(work: &Path, plan: &Plan) -> RecoveredState {
    let mut store = CheckpointStore::new(work);
    store.write_boot_id("boot-1").unwrap();
    store.write_agent(&agent_info()).unwrap();
    let mut frameworks = std::collections::BTreeMap::new();
    for (f, executors) in plan.iter().enumerate() {
        let finfo = framework_info(f);
        let fid = finfo.id.clone().unwrap();
        store.write_framework(&finfo).unwrap();
        let mut exs = std::collections::BTreeMap::new();
        for (e, tasks) in executors.iter().enumerate() {
            let einfo = executor_info(e);
            let container = ContainerId::new(format!("c{f}{e}"));
            store.write_executor_run(&fid, &einfo, &container).unwrap();
            let run = RunRef {
                framework: &fid,
                executor: &einfo.executor_id,
                container: &container,
            };
            store.write_forked_pid(run, 4000 + e as i32).unwrap();
            store.mark_http_subscribed(run).unwrap();
            let mut task_map = std::collections::BTreeMap::new();
            for (t, updates) in tasks.iter().enumerate() {
                let tinfo = task_info(t);
                store.write_task(run, &tinfo).unwrap();
                let mut recs = Vec::new();
                let mut len = 0;
                for (n, ack) in updates {
                    let rec = update_record(&fid, &tinfo.task_id, *n, *ack);
                    store.append_update(run, &tinfo.task_id, &rec).unwrap();
                    len += records::encode(&rec).len() as u64;
                    recs.push(rec);
                }
                task_map.insert(
                    tinfo.task_id.clone(),
                    state::TaskCheckpoint {
                        info: tinfo,
                        updates: recs,
                        updates_valid_len: len,
                        updates_file_len: len,
                    },
                );
            }
            exs.insert(
                einfo.executor_id.clone(),
                state::ExecutorCheckpoint {
                    info: einfo,
                    latest_run: Some(container.clone()),
                    runs: [(
                        container.value.clone(),
                        state::RunCheckpoint {
                            container_id: container,
                            forked_pid: Some(4000 + e as i32),
                            http_subscribed: true,
                            completed: false,
                            tasks: task_map,
                        },
                    )]
                    .into(),
                },
            );
        }
        frameworks.insert(
            fid,
            state::FrameworkCheckpoint {
                info: finfo,
                executors: exs,
            },
        );
    }
    RecoveredState {
        boot_id: Some("boot-1".into()),
        agent: Some(state::AgentCheckpoint {
            info: agent_info(),
            frameworks,
        }),
        problems: Vec::new(),
        skipped: Vec::new(),
    }
}

fn regular_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            regular_files(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
}

#[test]
fn what_is_written_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let plan: Plan = vec![vec![vec![vec![(1, false), (1, true)], vec![]]], vec![]];
    let expected = write_plan(dir.path(), &plan);
    assert_eq!(read(&layout::meta_dir(dir.path()), true).unwrap(), expected);
}

#[test]
fn a_missing_meta_dir_is_an_empty_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = read(&dir.path().join("meta"), true).unwrap();
    assert_eq!(state, RecoveredState::default());
}

#[test]
fn a_framework_directory_without_its_info_is_skipped_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = write_plan(dir.path(), &vec![vec![vec![vec![(1, false)]]]]);
    let meta = layout::meta_dir(dir.path());
    let half = layout::framework_dir(
        &layout::agent_dir(&meta, &AgentId::new("M-S1")),
        &FrameworkId::new("M-0009"),
    );
    std::fs::create_dir_all(&half).unwrap();
    let got = read(&meta, true).unwrap();
    expected.skipped = vec![layout::framework_info(&half)];
    assert_eq!(got, expected);
}

#[test]
fn a_garbled_task_info_is_named_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    write_plan(dir.path(), &vec![vec![vec![vec![]]]]);
    let meta = layout::meta_dir(dir.path());
    let mut files = Vec::new();
    regular_files(&meta, &mut files);
    let task_info = files
        .iter()
        .find(|p| p.ends_with("task.info"))
        .unwrap()
        .clone();
    let mut bytes = std::fs::read(&task_info).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 1;
    std::fs::write(&task_info, bytes).unwrap();
    let err = read(&meta, true).unwrap_err();
    assert_eq!(err.path, task_info);
    assert!(err.to_string().contains("checksum"), "{err}");
    let lenient = read(&meta, false).unwrap();
    assert_eq!(lenient.problems, vec![err]);
    let agent = lenient.agent.unwrap();
    let run = agent
        .frameworks
        .values()
        .next()
        .unwrap()
        .executors
        .values()
        .next()
        .unwrap();
    assert!(run.runs.values().next().unwrap().tasks.is_empty());
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    let updates = prop::collection::vec((any::<u8>(), any::<bool>()), 0..4);
    let tasks = prop::collection::vec(updates, 0..3);
    let executors = prop::collection::vec(tasks, 0..3);
    prop::collection::vec(executors, 1..3)
}

/// The records of every task, by the path of its `task.updates`.
fn updates_by_path(meta: &Path, state: &RecoveredState) -> Vec<(PathBuf, Vec<UpdateRecord>)> {
    let mut out = Vec::new();
    let Some(agent) = &state.agent else {
        return out;
    };
    let adir = layout::agent_dir(meta, agent.info.id.as_ref().unwrap());
    for (fid, fw) in &agent.frameworks {
        for (eid, ex) in &fw.executors {
            for run in ex.runs.values() {
                for (tid, task) in &run.tasks {
                    let p = layout::task_updates(&layout::task_dir(
                        &layout::run_dir(
                            &layout::executor_dir(&layout::framework_dir(&adir, fid), eid),
                            &run.container_id,
                        ),
                        tid,
                    ));
                    out.push((p, task.updates.clone()));
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Any writes, then one file truncated at any byte or one byte of it changed: a strict
    /// read gives the exact state (an update file may lose a torn tail, keeping a prefix)
    /// or an error naming that file; a non-strict read always succeeds and reports only
    /// that file.
    #[test]
    fn damage_anywhere_reads_back_exact_a_prefix_or_a_named_error(
        plan in plan_strategy(),
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        xor in 1u8..=255,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let expected = write_plan(dir.path(), &plan);
        let meta = layout::meta_dir(dir.path());
        let mut files = Vec::new();
        regular_files(&meta, &mut files);
        let victim = files[pick.index(files.len())].clone();
        let mut bytes = std::fs::read(&victim).unwrap();
        if bytes.is_empty() {
            return Ok(()); // a marker: no byte to damage
        }
        let i = at.index(bytes.len());
        if truncate {
            bytes.truncate(i);
        } else {
            bytes[i] ^= xor;
        }
        std::fs::write(&victim, &bytes).unwrap();

        match read(&meta, true) {
            Ok(got) => {
                // Only a torn tail of an update stream is tolerated under strict.
                let want = updates_by_path(&meta, &expected);
                let have = updates_by_path(&meta, &got);
                prop_assert_eq!(want.len(), have.len());
                for ((wp, w), (hp, h)) in want.iter().zip(&have) {
                    prop_assert_eq!(wp, hp);
                    if *wp == victim {
                        prop_assert!(truncate, "a changed byte went unnoticed in {:?}", wp);
                        prop_assert_eq!(&w[..h.len()], &h[..]);
                    } else {
                        prop_assert_eq!(w, h);
                    }
                }
            }
            Err(e) => prop_assert_eq!(&e.path, &victim, "{}", e),
        }
        let lenient = read(&meta, false).unwrap();
        for p in &lenient.problems {
            prop_assert_eq!(&p.path, &victim, "{}", p);
        }
    }
}
