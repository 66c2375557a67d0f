//! A task's sandbox through the leading master's agent proxy (`/agents/<id>/...`): where it
//! is, its listing, a file's content, and following a file as it grows (`meso task logs
//! -f`, `meso execute --attach`). No request goes to an agent directly.
//!
//! Finding a task: `/master/tasks?task_id=` (with `framework_id=` when given); an id that
//! several frameworks use needs `--framework`. Finding its sandbox: the agent's `/state`
//! names each executor's `directory` (a command task's executor id is its task id, as in
//! Mesos; a task of a task group has `<executor directory>/tasks/<task id>`); a
//! finished framework's executors may be gone from there, so the agent's layout
//! (`<work dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/latest`)
//! is the fallback.

use serde_json::Value;

use super::client::{encode_query, CliError, MasterClient, EXIT_NOT_FOUND, EXIT_REFUSED};

/// Most bytes asked for in one `/files/read`.
pub const READ_LENGTH: u64 = 64 * 1024;

/// A task the master knows, with what locating its sandbox needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRef {
    /// The task's JSON from `/master/tasks`.
    pub json: Value,
    /// Its id.
    pub id: String,
    /// Its framework.
    pub framework: String,
    /// Its agent (empty while not launched).
    pub agent: String,
    /// Its executor (the task id for a command task).
    pub executor: String,
}

/// The one task with `id` in a `/master/tasks` answer, or why there is none.
pub fn pick_task(doc: &Value, id: &str, master: &str) -> Result<TaskRef, CliError> {
    let found: Vec<&Value> = doc["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["id"] == id)
        .collect();
    match found.as_slice() {
        [] => Err(CliError::new(
            EXIT_NOT_FOUND,
            format!("no task '{id}' is known to the master at {master}"),
        )),
        [t] => {
            let text = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            let executor = match text("executor_id") {
                e if e.is_empty() => id.to_string(),
                e => e,
            };
            Ok(TaskRef {
                json: (*t).clone(),
                id: id.to_string(),
                framework: text("framework_id"),
                agent: text("slave_id"),
                executor,
            })
        }
        many => Err(CliError::new(
            EXIT_REFUSED,
            format!(
                "task id '{id}' is used by {} frameworks ({}); pass --framework ID",
                many.len(),
                many.iter()
                    .map(|t| t["framework_id"].as_str().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Looks task `id` up at the master.
pub async fn find_task(
    client: &MasterClient,
    id: &str,
    framework: Option<&str>,
) -> Result<TaskRef, CliError> {
    let mut path = format!("/master/tasks?limit=-1&task_id={}", encode_query(id));
    if let Some(f) = framework {
        path.push_str(&format!("&framework_id={}", encode_query(f)));
    }
    let doc = client.get_json(&path).await?;
    pick_task(&doc, id, &client.masters())
}

/// The sandbox directory of `task` from its agent's `/state`.
pub fn sandbox_in(agent_state: &Value, task: &TaskRef) -> Option<String> {
    let frameworks = ["frameworks", "completed_frameworks"]
        .iter()
        .flat_map(|k| agent_state[*k].as_array().into_iter().flatten())
        .filter(|f| f["id"] == task.framework.as_str());
    for f in frameworks {
        let executors = ["executors", "completed_executors"]
            .iter()
            .flat_map(|k| f[*k].as_array().into_iter().flatten());
        for e in executors.filter(|e| e["id"] == task.executor.as_str()) {
            if let Some(dir) = e["directory"].as_str() {
                return Some(if task.executor == task.id {
                    dir.to_string()
                } else {
                    format!("{dir}/tasks/{}", task.id)
                });
            }
        }
    }
    let work_dir = agent_state["flags"]["work_dir"].as_str()?;
    let mut dir = format!(
        "{work_dir}/slaves/{}/frameworks/{}/executors/{}/runs/latest",
        task.agent, task.framework, task.executor
    );
    if task.executor != task.id {
        dir.push_str(&format!("/tasks/{}", task.id));
    }
    Some(dir)
}

/// The sandbox directory of `task`, asked of its agent through the master.
pub async fn sandbox_dir(client: &MasterClient, task: &TaskRef) -> Result<String, CliError> {
    if task.agent.is_empty() {
        return Err(CliError::new(
            EXIT_NOT_FOUND,
            format!(
                "task '{}' has no agent yet: it has not been launched",
                task.id
            ),
        ));
    }
    let state = client
        .get_json(&format!("/agents/{}/state", encode_query(&task.agent)))
        .await?;
    sandbox_in(&state, task).ok_or_else(|| {
        CliError::new(
            EXIT_REFUSED,
            format!(
                "agent '{}' names neither the sandbox of task '{}' nor its work dir",
                task.agent, task.id
            ),
        )
    })
}

/// One `/files/read` through the proxy: the data from `offset` on (at most
/// [`READ_LENGTH`] bytes).
pub async fn read_at(
    client: &MasterClient,
    agent: &str,
    path: &str,
    offset: u64,
) -> Result<String, CliError> {
    let doc = client
        .get_json(&format!(
            "/agents/{}/files/read?path={}&offset={offset}&length={READ_LENGTH}",
            encode_query(agent),
            encode_query(path)
        ))
        .await?;
    Ok(doc["data"].as_str().unwrap_or_default().to_string())
}

/// A file read as it grows: each [`Follower::poll`] returns what was added since.
#[derive(Debug, Clone)]
pub struct Follower {
    /// The agent.
    pub agent: String,
    /// The file's path on the agent.
    pub path: String,
    /// Bytes already returned.
    pub offset: u64,
}

impl Follower {
    /// A follower of `path` on `agent` from its start.
    pub fn new(agent: &str, path: String) -> Self {
        Follower {
            agent: agent.to_string(),
            path,
            offset: 0,
        }
    }

    /// Everything added since the last poll (empty when nothing was).
    pub async fn poll(&mut self, client: &MasterClient) -> Result<String, CliError> {
        let mut out = String::new();
        loop {
            let data = read_at(client, &self.agent, &self.path, self.offset).await?;
            if data.is_empty() {
                return Ok(out);
            }
            self.offset += data.len() as u64;
            out.push_str(&data);
        }
    }
}

/// Whether a task state is terminal.
pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED"
            | "TASK_FAILED"
            | "TASK_KILLED"
            | "TASK_LOST"
            | "TASK_ERROR"
            | "TASK_DROPPED"
            | "TASK_GONE"
            | "TASK_GONE_BY_OPERATOR"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(executor: &str) -> TaskRef {
        TaskRef {
            json: json!({}),
            id: "t".into(),
            framework: "F".into(),
            agent: "S0".into(),
            executor: executor.into(),
        }
    }

    #[test]
    fn a_task_is_found_once_or_the_error_says_why() {
        let doc = json!({"tasks": [
            {"id": "a", "framework_id": "F1", "slave_id": "S0", "executor_id": ""},
            {"id": "b", "framework_id": "F1", "slave_id": "S0", "executor_id": "E"},
            {"id": "b", "framework_id": "F2", "slave_id": "S0", "executor_id": ""}]});
        let a = pick_task(&doc, "a", "m:5050").unwrap();
        assert_eq!((a.executor.as_str(), a.agent.as_str()), ("a", "S0"));
        let e = pick_task(&doc, "b", "m:5050").unwrap_err();
        assert!(
            e.message.contains("F1, F2") && e.message.contains("--framework"),
            "{e}"
        );
        let e = pick_task(&doc, "zz", "m:5050").unwrap_err();
        assert_eq!(e.code, EXIT_NOT_FOUND);
        assert!(
            e.message.contains("'zz'") && e.message.contains("m:5050"),
            "{e}"
        );
    }

    #[test]
    fn the_sandbox_is_the_executors_directory_or_the_agents_layout() {
        let state = json!({"flags": {"work_dir": "/w"}, "frameworks": [{"id": "F",
            "executors": [{"id": "t", "directory": "/w/run1"}, {"id": "E", "directory": "/w/run2"}]}]});
        assert_eq!(sandbox_in(&state, &task("t")).as_deref(), Some("/w/run1"));
        assert_eq!(
            sandbox_in(&state, &task("E")).as_deref(),
            Some("/w/run2/tasks/t")
        );
        let gone = json!({"flags": {"work_dir": "/w"}, "frameworks": []});
        assert_eq!(
            sandbox_in(&gone, &task("t")).as_deref(),
            Some("/w/slaves/S0/frameworks/F/executors/t/runs/latest")
        );
        assert_eq!(sandbox_in(&json!({}), &task("t")), None);
    }

    #[test]
    fn terminal_states_are_mesos_terminal_states() {
        assert!(is_terminal("TASK_FINISHED") && is_terminal("TASK_KILLED"));
        assert!(!is_terminal("TASK_RUNNING") && !is_terminal("TASK_KILLING"));
    }
}
