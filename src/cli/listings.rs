//! The read commands: `meso agents`, `frameworks`, `tasks`, `roles`, `offers`,
//! `maintenance`. Each reads the master's legacy JSON endpoint that Mesos's own CLI reads
//! (`/master/slaves`, `/master/frameworks`, `/master/tasks`, `/master/roles`; offers from
//! `/master/frameworks`), or the v1 operator calls for maintenance, and prints a table, or
//! with `--json` the master's own objects (filtered, never reshaped) for scripts.
//!
//! The row builders are pure functions of the JSON, tested directly.

use clap::Args;
use serde_json::{json, Value};

use super::client::{CliError, MasterClient};
use super::table::{emit, pretty, render, scalar, short_state, text, trim, used_of, utc};

/// `--json` for the read commands.
#[derive(Debug, Clone, Args)]
pub struct OutputFlags {
    /// Print the master's JSON objects (one array) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The filters of `meso tasks`.
#[derive(Debug, Clone, Default, Args)]
pub struct TaskFilters {
    /// Only tasks in this state (`running` or `TASK_RUNNING`, any case).
    #[arg(long)]
    pub state: Option<String>,
    /// Only tasks of this framework (its id, or its name).
    #[arg(long)]
    pub framework: Option<String>,
    /// Only tasks on this agent (its id, or its hostname).
    #[arg(long)]
    pub agent: Option<String>,
    /// Only tasks whose name contains this text.
    #[arg(long)]
    pub name: Option<String>,
}

fn array<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    doc[key].as_array().into_iter().flatten()
}

fn print(output: &OutputFlags, objects: Vec<Value>, table: String) {
    if output.json {
        emit(&pretty(&Value::Array(objects)));
    } else {
        emit(&table);
    }
}

/// Rows of `meso agents` from `/master/slaves`.
pub fn agent_rows(slaves: &Value) -> Vec<Vec<String>> {
    array(slaves, "slaves")
        .map(|a| {
            let state = if a["deactivated"] == true {
                "deactivated"
            } else if a["active"] == false {
                "disconnected"
            } else {
                "active"
            };
            vec![
                text(&a["id"]),
                text(&a["hostname"]),
                state.to_string(),
                used_of(&a["used_resources"], &a["resources"], "cpus"),
                used_of(&a["used_resources"], &a["resources"], "mem"),
                used_of(&a["used_resources"], &a["resources"], "disk"),
                utc(a["registered_time"].as_f64().unwrap_or(0.0)),
            ]
        })
        .collect()
}

/// `meso agents`.
pub async fn agents(client: &MasterClient, output: &OutputFlags) -> Result<(), CliError> {
    let doc = client.get_json("/master/slaves").await?;
    let table = render(
        &[
            "ID",
            "HOSTNAME",
            "STATE",
            "CPUS",
            "MEM",
            "DISK",
            "REGISTERED",
        ],
        &agent_rows(&doc),
    );
    print(output, array(&doc, "slaves").cloned().collect(), table);
    Ok(())
}

fn frameworks_of(doc: &Value) -> impl Iterator<Item = (&Value, &'static str)> {
    array(doc, "frameworks")
        .map(|f| {
            (
                f,
                if f["active"] == false {
                    "inactive"
                } else {
                    "active"
                },
            )
        })
        .chain(array(doc, "completed_frameworks").map(|f| (f, "completed")))
}

/// Rows of `meso frameworks` from `/master/frameworks`.
pub fn framework_rows(doc: &Value) -> Vec<Vec<String>> {
    frameworks_of(doc)
        .map(|(f, state)| {
            let roles = match f["roles"].as_array() {
                Some(r) if !r.is_empty() => r.iter().map(text).collect::<Vec<_>>().join(","),
                _ => text(&f["role"]),
            };
            vec![
                text(&f["id"]),
                text(&f["name"]),
                state.to_string(),
                text(&f["user"]),
                roles,
                array(f, "tasks").count().to_string(),
                trim(scalar(&f["used_resources"], "cpus")),
                super::table::megabytes(scalar(&f["used_resources"], "mem")),
                utc(f["registered_time"].as_f64().unwrap_or(0.0)),
            ]
        })
        .collect()
}

/// `meso frameworks`.
pub async fn frameworks(client: &MasterClient, output: &OutputFlags) -> Result<(), CliError> {
    let doc = client.get_json("/master/frameworks").await?;
    let table = render(
        &[
            "ID",
            "NAME",
            "STATE",
            "USER",
            "ROLES",
            "TASKS",
            "CPUS",
            "MEM",
            "REGISTERED",
        ],
        &framework_rows(&doc),
    );
    print(
        output,
        frameworks_of(&doc).map(|(f, _)| f.clone()).collect(),
        table,
    );
    Ok(())
}

/// The state a task's row shows: its `state` (Mesos's last status otherwise).
fn task_state(t: &Value) -> String {
    t["state"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            t["statuses"]
                .as_array()
                .and_then(|s| s.last())
                .and_then(|s| s["state"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "UNKNOWN".into())
}

impl TaskFilters {
    /// Whether task `t` passes; `frameworks` and `agents` (the masters' lists) let names
    /// and hostnames match as well as ids.
    pub fn matches(&self, t: &Value, frameworks: &Value, agents: &Value) -> bool {
        if let Some(state) = &self.state {
            let want = state.to_ascii_uppercase();
            let want = want.strip_prefix("TASK_").unwrap_or(&want);
            if short_state(&task_state(t)) != want {
                return false;
            }
        }
        if let Some(f) = &self.framework {
            let id = t["framework_id"].as_str().unwrap_or_default();
            let named = frameworks_of(frameworks)
                .any(|(fw, _)| fw["id"] == id && fw["name"].as_str() == Some(f.as_str()));
            if id != f && !named {
                return false;
            }
        }
        if let Some(a) = &self.agent {
            let id = t["slave_id"].as_str().unwrap_or_default();
            let named = array(agents, "slaves")
                .any(|ag| ag["id"] == id && ag["hostname"].as_str() == Some(a.as_str()));
            if id != a && !named {
                return false;
            }
        }
        if let Some(n) = &self.name {
            if !t["name"].as_str().unwrap_or_default().contains(n.as_str()) {
                return false;
            }
        }
        true
    }
}

/// Rows of `meso tasks`.
pub fn task_rows<'a>(tasks: impl Iterator<Item = &'a Value>, agents: &Value) -> Vec<Vec<String>> {
    tasks
        .map(|t| {
            let agent = t["slave_id"].as_str().unwrap_or_default();
            let host = array(agents, "slaves")
                .find(|a| a["id"] == agent)
                .map(|a| text(&a["hostname"]))
                .unwrap_or_else(|| "-".into());
            vec![
                text(&t["id"]),
                text(&t["name"]),
                short_state(&task_state(t)),
                text(&t["framework_id"]),
                host,
                trim(scalar(&t["resources"], "cpus")),
                super::table::megabytes(scalar(&t["resources"], "mem")),
            ]
        })
        .collect()
}

/// `meso tasks`.
pub async fn tasks(
    client: &MasterClient,
    filters: &TaskFilters,
    output: &OutputFlags,
) -> Result<(), CliError> {
    // Filters are applied here: `/master/tasks` filters by ids only, and a framework or
    // agent may be named by its name or hostname.
    let doc = client.get_json("/master/tasks?limit=-1&order=asc").await?;
    let agents = client.get_json("/master/slaves").await?;
    let frameworks = if filters.framework.is_some() {
        client.get_json("/master/frameworks").await?
    } else {
        json!({})
    };
    let kept: Vec<&Value> = array(&doc, "tasks")
        .filter(|t| filters.matches(t, &frameworks, &agents))
        .collect();
    let table = render(
        &["ID", "NAME", "STATE", "FRAMEWORK", "HOST", "CPUS", "MEM"],
        &task_rows(kept.iter().copied(), &agents),
    );
    print(output, kept.into_iter().cloned().collect(), table);
    Ok(())
}

fn resources_cell(r: &Value) -> String {
    format!(
        "cpus:{} mem:{}",
        trim(scalar(r, "cpus")),
        super::table::megabytes(scalar(r, "mem"))
    )
}

/// Rows of `meso roles` from `/master/roles`.
pub fn role_rows(doc: &Value) -> Vec<Vec<String>> {
    array(doc, "roles")
        .map(|r| {
            let guarantee = &r["quota"]["guarantee"];
            let limit = &r["quota"]["limit"];
            let quota = |q: &Value| {
                if q.as_object().is_none_or(|o| o.is_empty()) {
                    "-".to_string()
                } else {
                    resources_cell(q)
                }
            };
            vec![
                text(&r["name"]),
                trim(r["weight"].as_f64().unwrap_or(1.0)),
                array(r, "frameworks").count().to_string(),
                resources_cell(&r["allocated"]),
                resources_cell(&r["offered"]),
                resources_cell(&r["reserved"]),
                quota(guarantee),
                quota(limit),
            ]
        })
        .collect()
}

/// `meso roles`.
pub async fn roles(client: &MasterClient, output: &OutputFlags) -> Result<(), CliError> {
    let doc = client.get_json("/master/roles").await?;
    let table = render(
        &[
            "ROLE",
            "WEIGHT",
            "FRAMEWORKS",
            "ALLOCATED",
            "OFFERED",
            "RESERVED",
            "GUARANTEE",
            "LIMIT",
        ],
        &role_rows(&doc),
    );
    print(output, array(&doc, "roles").cloned().collect(), table);
    Ok(())
}

/// The outstanding offers in `/master/frameworks`, each with its framework's name.
pub fn offers_of(doc: &Value) -> Vec<Value> {
    frameworks_of(doc)
        .flat_map(|(f, _)| array(f, "offers").cloned())
        .collect()
}

/// Rows of `meso offers`.
pub fn offer_rows(offers: &[Value], agents: &Value) -> Vec<Vec<String>> {
    offers
        .iter()
        .map(|o| {
            let agent = o["slave_id"].as_str().unwrap_or_default();
            let host = array(agents, "slaves")
                .find(|a| a["id"] == agent)
                .map(|a| text(&a["hostname"]))
                .unwrap_or_else(|| "-".into());
            let role = o["allocation_info"]["role"].clone();
            vec![
                text(&o["id"]),
                text(&o["framework_id"]),
                text(&role),
                host,
                trim(scalar(&o["resources"], "cpus")),
                super::table::megabytes(scalar(&o["resources"], "mem")),
                super::table::megabytes(scalar(&o["resources"], "disk")),
            ]
        })
        .collect()
}

/// `meso offers`.
pub async fn offers(client: &MasterClient, output: &OutputFlags) -> Result<(), CliError> {
    let doc = client.get_json("/master/frameworks").await?;
    let agents = client.get_json("/master/slaves").await?;
    let offers = offers_of(&doc);
    let table = render(
        &["ID", "FRAMEWORK", "ROLE", "HOST", "CPUS", "MEM", "DISK"],
        &offer_rows(&offers, &agents),
    );
    print(output, offers, table);
    Ok(())
}

/// Rows of `meso maintenance`: one per machine of each window, with its mode from the
/// status answer.
pub fn maintenance_rows(schedule: &Value, status: &Value) -> Vec<Vec<String>> {
    let mode_of = |machine: &Value| -> String {
        let listed = |key: &str| {
            status[key]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["id"] == *machine || m == machine)
        };
        if listed("down_machines") {
            "DOWN".into()
        } else if listed("draining_machines") {
            "DRAINING".into()
        } else {
            "UP".into()
        }
    };
    let nanos = |v: &Value| v["nanoseconds"].as_f64().unwrap_or(0.0) / 1e9;
    array(schedule, "windows")
        .flat_map(|w| {
            let start = nanos(&w["unavailability"]["start"]);
            let end = w["unavailability"]["duration"]
                .get("nanoseconds")
                .map(|_| start + nanos(&w["unavailability"]["duration"]));
            array(w, "machine_ids").map(move |m| {
                vec![
                    text(&m["hostname"]),
                    text(&m["ip"]),
                    mode_of(m),
                    utc(start),
                    end.map(utc).unwrap_or_else(|| "-".into()),
                ]
            })
        })
        .collect()
}

/// `meso maintenance`: the schedule and each machine's mode.
pub async fn maintenance(client: &MasterClient, output: &OutputFlags) -> Result<(), CliError> {
    let schedule = client
        .call(&json!({"type": "GET_MAINTENANCE_SCHEDULE"}))
        .await?
        .unwrap_or_default();
    let status = client
        .call(&json!({"type": "GET_MAINTENANCE_STATUS"}))
        .await?
        .unwrap_or_default();
    let schedule = &schedule["get_maintenance_schedule"]["schedule"];
    let status = &status["get_maintenance_status"]["status"];
    if output.json {
        emit(&pretty(&json!({"schedule": schedule, "status": status})));
    } else {
        emit(&render(
            &["HOSTNAME", "IP", "MODE", "START", "END"],
            &maintenance_rows(schedule, status),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents() -> Value {
        json!({"slaves": [{"id": "S0", "hostname": "h0", "active": true,
            "resources": {"cpus": 2, "mem": 1024, "disk": 100},
            "used_resources": {"cpus": 0.5, "mem": 32, "disk": 0}, "registered_time": 0}]})
    }

    #[test]
    fn agent_rows_show_state_and_used_over_total() {
        let rows = agent_rows(&agents());
        assert_eq!(
            rows[0][..6],
            ["S0", "h0", "active", "0.5/2", "32 MB/1.0 GB", "0 MB/100 MB"]
        );
    }

    #[test]
    fn task_filters_match_ids_names_hostnames_and_states() {
        let t = json!({"id": "t1", "name": "web-1", "state": "TASK_RUNNING",
            "framework_id": "F-1", "slave_id": "S0"});
        let fws = json!({"frameworks": [{"id": "F-1", "name": "svc"}]});
        let pass = |f: TaskFilters| f.matches(&t, &fws, &agents());
        assert!(pass(TaskFilters::default()));
        assert!(pass(TaskFilters {
            state: Some("running".into()),
            ..Default::default()
        }));
        assert!(pass(TaskFilters {
            state: Some("TASK_RUNNING".into()),
            ..Default::default()
        }));
        assert!(!pass(TaskFilters {
            state: Some("finished".into()),
            ..Default::default()
        }));
        assert!(pass(TaskFilters {
            framework: Some("svc".into()),
            ..Default::default()
        }));
        assert!(pass(TaskFilters {
            framework: Some("F-1".into()),
            ..Default::default()
        }));
        assert!(!pass(TaskFilters {
            framework: Some("other".into()),
            ..Default::default()
        }));
        assert!(pass(TaskFilters {
            agent: Some("h0".into()),
            ..Default::default()
        }));
        assert!(!pass(TaskFilters {
            agent: Some("h1".into()),
            ..Default::default()
        }));
        assert!(pass(TaskFilters {
            name: Some("web".into()),
            ..Default::default()
        }));
        assert!(!pass(TaskFilters {
            name: Some("db".into()),
            ..Default::default()
        }));
    }

    #[test]
    fn a_task_without_state_shows_its_last_status_or_unknown() {
        let rows = task_rows(
            [json!({"id": "a", "statuses": [{"state": "TASK_STAGING"}, {"state": "TASK_FAILED"}]}),
             json!({"id": "b", "statuses": []})].iter(),
            &agents(),
        );
        assert_eq!(rows[0][2], "FAILED");
        assert_eq!(rows[1][2], "UNKNOWN");
    }

    #[test]
    fn offers_come_from_every_framework_and_maintenance_rows_from_windows() {
        let doc = json!({"frameworks": [{"id": "F", "offers": [{"id": "O1", "framework_id": "F",
            "slave_id": "S0", "resources": {"cpus": 1, "mem": 64}, "allocation_info": {"role": "*"}}]}]});
        let offers = offers_of(&doc);
        assert_eq!(
            offer_rows(&offers, &agents())[0][..4],
            ["O1", "F", "*", "h0"]
        );
        let schedule = json!({"windows": [{"machine_ids": [{"hostname": "h0", "ip": "10.0.0.1"}],
            "unavailability": {"start": {"nanoseconds": 1_700_000_000_000_000_000i64},
                               "duration": {"nanoseconds": 3_600_000_000_000i64}}}]});
        let status = json!({"draining_machines": [{"id": {"hostname": "h0", "ip": "10.0.0.1"}}]});
        let rows = maintenance_rows(&schedule, &status);
        assert_eq!(
            rows[0],
            [
                "h0",
                "10.0.0.1",
                "DRAINING",
                "2023-11-14 22:13:20",
                "2023-11-14 23:13:20"
            ]
        );
    }
}
