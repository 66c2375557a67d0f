//! The commands on one object: `meso task inspect|logs|kill`, `meso sandbox ls|cat`,
//! `meso framework teardown`, `meso agent drain`. Sandboxes are read through the master's
//! agent proxy ([`super::sandbox`]); kills, teardowns and drains are the master's calls
//! (`POST /master/kill-task`, v1 TEARDOWN and DRAIN_AGENT).

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::client::{encode_query, CliError, MasterClient, EXIT_NOT_FOUND, EXIT_NOT_IMPLEMENTED};
use super::sandbox::{find_task, is_terminal, read_at, sandbox_dir, Follower};
use super::table::{emit, pretty, render, text, utc};

/// How often `task logs -f` reads the file again.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// `meso task ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum TaskCommand {
    /// Print the task as the master knows it (JSON), with its status history.
    Inspect(TaskArg),
    /// Print the task's stdout (or stderr), read through the master; `-f` follows it until
    /// the task ends.
    Logs(LogsArgs),
    /// Kill the task (it ends TASK_KILLED; its framework is told as usual).
    Kill(TaskArg),
}

/// A task id, and its framework when several use the id.
#[derive(Debug, Clone, Args)]
pub struct TaskArg {
    /// The task id.
    pub id: String,
    /// The task's framework id (needed only when several frameworks have a task `ID`).
    #[arg(long)]
    pub framework: Option<String>,
}

/// `meso task logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub task: TaskArg,
    /// Read stderr instead of stdout.
    #[arg(long)]
    pub stderr: bool,
    /// Keep printing what the task writes until it ends (or Ctrl-C).
    #[arg(short = 'f', long)]
    pub follow: bool,
}

/// `meso sandbox ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum SandboxCommand {
    /// List a directory of the task's sandbox (its top by default).
    Ls(SandboxArgs),
    /// Print a file of the task's sandbox.
    Cat(SandboxArgs),
}

/// A task and a path inside its sandbox.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    #[command(flatten)]
    pub task: TaskArg,
    /// A path relative to the sandbox.
    #[arg(default_value = "")]
    pub path: String,
    /// Print the agent's JSON listing instead of a table (ls only).
    #[arg(long)]
    pub json: bool,
}

/// `meso framework ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum FrameworkCommand {
    /// Tear the framework down: kill its tasks and forget it (v1 TEARDOWN).
    Teardown {
        /// The framework id.
        id: String,
    },
}

/// `meso agent drain`.
#[derive(Debug, Clone, Args)]
pub struct DrainArgs {
    /// The agent id.
    pub id: String,
    /// Grace period given to each task killed by the drain (e.g. `30secs`).
    #[arg(long, value_parser = meso_api::duration::parse_duration)]
    pub grace_period: Option<Duration>,
    /// Mark the agent gone once drained (its tasks will not come back).
    #[arg(long)]
    pub mark_gone: bool,
}

/// `meso task ...`.
pub async fn task(client: &MasterClient, command: &TaskCommand) -> Result<(), CliError> {
    match command {
        TaskCommand::Inspect(t) => {
            let task = find_task(client, &t.id, t.framework.as_deref()).await?;
            emit(&pretty(&task.json));
            Ok(())
        }
        TaskCommand::Logs(args) => logs(client, args).await,
        TaskCommand::Kill(t) => {
            let mut body = json!({"task_id": t.id});
            if let Some(f) = &t.framework {
                body["framework_id"] = json!(f);
            }
            client.post_json("/master/kill-task", &body).await?;
            emit(&format!("kill sent to task '{}'\n", t.id));
            Ok(())
        }
    }
}

async fn logs(client: &MasterClient, args: &LogsArgs) -> Result<(), CliError> {
    let mut task = find_task(client, &args.task.id, args.task.framework.as_deref()).await?;
    let file = if args.stderr { "stderr" } else { "stdout" };
    if !args.follow {
        let dir = sandbox_dir(client, &task).await?;
        emit(
            &Follower::new(&task.agent, format!("{dir}/{file}"))
                .poll(client)
                .await?,
        );
        return Ok(());
    }
    // Following: the task's state is read before each read of the file, so the read after
    // a terminal state has everything the task wrote. Until the task runs, its sandbox or
    // file may not exist yet: failures are retried while it is not terminal.
    let mut follower: Option<Follower> = None;
    loop {
        let terminal = is_terminal(task.json["state"].as_str().unwrap_or_default());
        let mut failure = None;
        if follower.is_none() && !task.agent.is_empty() {
            match sandbox_dir(client, &task).await {
                Ok(dir) => follower = Some(Follower::new(&task.agent, format!("{dir}/{file}"))),
                Err(e) => failure = Some(e),
            }
        }
        if let Some(f) = follower.as_mut() {
            match f.poll(client).await {
                Ok(data) => emit(&data),
                Err(e) => failure = Some(e),
            }
        }
        if terminal {
            return match failure {
                Some(e) => Err(e),
                None if follower.is_none() => Err(CliError::new(
                    EXIT_NOT_FOUND,
                    format!("task '{}' ended without running on an agent", task.id),
                )),
                None => Ok(()),
            };
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
        task = find_task(client, &task.id, Some(&task.framework)).await?;
    }
}

/// Rows of `meso sandbox ls` from a `/files/browse` answer.
pub fn listing_rows(listing: &Value) -> Vec<Vec<String>> {
    listing
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let path = e["path"].as_str().unwrap_or_default();
            let name = path.rsplit('/').next().unwrap_or(path);
            vec![
                text(&e["mode"]),
                text(&e["nlink"]),
                text(&e["uid"]),
                text(&e["gid"]),
                text(&e["size"]),
                utc(e["mtime"].as_f64().unwrap_or(0.0)),
                name.to_string(),
            ]
        })
        .collect()
}

/// `meso sandbox ...`.
pub async fn sandbox(client: &MasterClient, command: &SandboxCommand) -> Result<(), CliError> {
    let (SandboxCommand::Ls(args) | SandboxCommand::Cat(args)) = command;
    let task = find_task(client, &args.task.id, args.task.framework.as_deref()).await?;
    let dir = sandbox_dir(client, &task).await?;
    let relative = args.path.trim_start_matches('/');
    let path = if relative.is_empty() {
        dir
    } else {
        format!("{dir}/{relative}")
    };
    match command {
        SandboxCommand::Ls(_) => {
            let listing = client
                .get_json(&format!(
                    "/agents/{}/files/browse?path={}",
                    encode_query(&task.agent),
                    encode_query(&path)
                ))
                .await?;
            if args.json {
                emit(&pretty(&listing));
            } else {
                emit(&render(
                    &["MODE", "NLINK", "UID", "GID", "SIZE", "MTIME", "NAME"],
                    &listing_rows(&listing),
                ));
            }
        }
        SandboxCommand::Cat(_) => {
            let mut offset = 0;
            loop {
                let data = read_at(client, &task.agent, &path, offset).await?;
                if data.is_empty() {
                    break;
                }
                offset += data.len() as u64;
                emit(&data);
            }
        }
    }
    Ok(())
}

/// `meso framework teardown ID`.
pub async fn framework(client: &MasterClient, command: &FrameworkCommand) -> Result<(), CliError> {
    let FrameworkCommand::Teardown { id } = command;
    client
        .call(&json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": id}}}))
        .await?;
    emit(&format!("framework '{id}' torn down\n"));
    Ok(())
}

/// The DRAIN_AGENT call for `args`.
pub fn drain_call(args: &DrainArgs) -> Value {
    let mut drain = json!({"agent_id": {"value": args.id}});
    if let Some(g) = args.grace_period {
        drain["max_grace_period"] = json!({"nanoseconds": g.as_nanos() as i64});
    }
    if args.mark_gone {
        drain["mark_gone"] = json!(true);
    }
    json!({"type": "DRAIN_AGENT", "drain_agent": drain})
}

/// `meso agent drain ID`.
pub async fn drain(client: &MasterClient, args: &DrainArgs) -> Result<(), CliError> {
    match client.call(&drain_call(args)).await {
        Ok(_) => {
            emit(&format!("agent '{}' is draining\n", args.id));
            Ok(())
        }
        Err(e) if e.code == EXIT_NOT_IMPLEMENTED => Err(CliError::new(
            e.code,
            format!(
                "this master does not implement DRAIN_AGENT yet, so agent '{}' was not \
                 drained ({})",
                args.id, e.message
            ),
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_calls_carry_the_grace_period_and_mark_gone() {
        let call = drain_call(&DrainArgs {
            id: "S1".into(),
            grace_period: Some(Duration::from_secs(2)),
            mark_gone: true,
        });
        assert_eq!(
            call,
            json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "S1"},
                "max_grace_period": {"nanoseconds": 2_000_000_000i64}, "mark_gone": true}})
        );
    }

    #[test]
    fn listings_show_names_not_paths() {
        let rows = listing_rows(&json!([{"path": "/w/run/stdout", "mode": "-rw-r--r--",
            "nlink": 1, "uid": "root", "gid": "root", "size": 12, "mtime": 0}]));
        assert_eq!(
            rows[0],
            ["-rw-r--r--", "1", "root", "root", "12", "-", "stdout"]
        );
    }
}
