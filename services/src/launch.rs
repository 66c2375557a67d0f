//! The Mesos `TaskInfo` of one instance: the command (`cmd` through the shell, or `args`
//! as exec), Marathon's environment (`PORT0...`, `PORTS`, `HOST`, `MARATHON_APP_ID`, ...)
//! over the app's `env`, labels, fetch URIs, the kill grace period, and the app's one
//! Mesos-level health check (Marathon-level HTTP/TCP checks are run by the executor as
//! Mesos checks on the same port: meso's framework does not probe tasks itself), and
//! `container.docker.image` as the Mesos containerizer's root filesystem image.

use meso_api::v1::{Offer, TaskInfo};
use meso_api::Resources;
use serde_json::{json, Map, Value};

use crate::app::AppDefinition;
use crate::timestamps::iso;

/// The task for an instance of `app` with id `task_id` on `offer`.
pub fn task_info(
    app: &AppDefinition,
    task_id: &str,
    offer: &Offer,
    resources: Resources,
    ports: &[u64],
    version_ms: u64,
) -> TaskInfo {
    let mut env: Vec<Value> = Vec::new();
    let mut put = |name: &str, value: String| {
        env.push(json!({"name": name, "type": "VALUE", "value": value}));
    };
    for (k, v) in &app.env {
        if let Some(s) = v.as_str() {
            put(k, s.to_string());
        }
    }
    put("MARATHON_APP_ID", app.id.to_string());
    put("MARATHON_APP_VERSION", iso(version_ms));
    put("MESOS_TASK_ID", task_id.to_string());
    put("HOST", offer.hostname.clone());
    put(
        "PORTS",
        ports
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    if let Some(first) = ports.first() {
        put("PORT", first.to_string());
    }
    for (i, p) in ports.iter().enumerate() {
        put(&format!("PORT{i}"), p.to_string());
        if let Some(name) = app.port_definitions.get(i).and_then(|d| d.name.as_deref()) {
            put(
                &format!("PORT_{}", name.to_uppercase().replace('-', "_")),
                p.to_string(),
            );
        }
    }
    for (k, v) in &app.labels {
        put(
            &format!(
                "MARATHON_APP_LABEL_{}",
                k.to_uppercase().replace(['-', '.'], "_")
            ),
            v.clone(),
        );
    }
    let uris: Vec<Value> = app
        .fetch
        .iter()
        .filter_map(|f| {
            let uri = f.get("uri")?.as_str()?;
            Some(json!({
                "value": uri,
                "extract": f.get("extract").and_then(Value::as_bool).unwrap_or(true),
                "executable": f.get("executable").and_then(Value::as_bool).unwrap_or(false),
                "cache": f.get("cache").and_then(Value::as_bool).unwrap_or(false),
            }))
        })
        .collect();
    let mut command = Map::new();
    match (&app.cmd, &app.args) {
        (Some(cmd), _) => {
            command.insert("shell".into(), json!(true));
            command.insert("value".into(), json!(cmd));
        }
        (None, Some(args)) if !args.is_empty() => {
            command.insert("shell".into(), json!(false));
            command.insert("value".into(), json!(args[0]));
            command.insert("arguments".into(), json!(args));
        }
        _ => {
            command.insert("shell".into(), json!(false));
        }
    }
    command.insert("environment".into(), json!({"variables": env}));
    command.insert("uris".into(), Value::Array(uris));
    if let Some(user) = &app.user {
        command.insert("user".into(), json!(user));
    }
    let mut task = json!({
        "name": app.id.as_str()[1..].replace('/', "."),
        "task_id": {"value": task_id},
        "agent_id": {"value": offer.agent_id.to_string()},
        "command": command,
    });
    if !app.labels.is_empty() {
        task["labels"] = json!({"labels": app.labels.iter()
            .map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()});
    }
    if let Some(grace) = app.task_kill_grace_period_seconds {
        task["kill_policy"] = json!({"grace_period": {"nanoseconds": (grace * 1e9) as i64}});
    }
    if let Some(image) = app
        .container
        .as_ref()
        .and_then(|c| c.get("docker")?.get("image")?.as_str())
    {
        // meso's agent runs a root filesystem image given by path (a directory or a
        // tarball on the agent), through the Mesos containerizer.
        task["container"] = json!({"type": "MESOS", "mesos": {"image": {"type": "DOCKER", "docker": {"name": image}}}});
    }
    if let Some(hc) = app
        .health_checks
        .first()
        .and_then(|hc| health_check(hc, ports))
    {
        task["health_check"] = hc;
    }
    let mut info: TaskInfo = serde_json::from_value(task)
        .expect("invariant: the task JSON built here is a valid v1 TaskInfo");
    info.resources = resources;
    info
}

/// The Mesos health check for a Marathon one (its defaults filled in), on the task's
/// `ports`.
fn health_check(hc: &Value, ports: &[u64]) -> Option<Value> {
    let num = |k: &str, d: f64| hc.get(k).and_then(Value::as_f64).unwrap_or(d);
    let protocol = hc.get("protocol").and_then(Value::as_str).unwrap_or("HTTP");
    let port = hc.get("port").and_then(Value::as_u64).or_else(|| {
        let idx = hc.get("portIndex").and_then(Value::as_u64).unwrap_or(0) as usize;
        ports.get(idx).copied()
    });
    let mut out = json!({
        "delay_seconds": num("delaySeconds", 15.0),
        "interval_seconds": num("intervalSeconds", 60.0),
        "timeout_seconds": num("timeoutSeconds", 20.0),
        "consecutive_failures": num("maxConsecutiveFailures", 3.0) as u64,
        "grace_period_seconds": num("gracePeriodSeconds", 300.0),
    });
    match protocol {
        "COMMAND" => {
            let cmd = hc.get("command")?;
            let value = cmd.as_str().or_else(|| cmd.get("value")?.as_str())?;
            out["type"] = json!("COMMAND");
            out["command"] = json!({"shell": true, "value": value});
        }
        "HTTP" | "HTTPS" | "MESOS_HTTP" | "MESOS_HTTPS" => {
            out["type"] = json!("HTTP");
            let scheme = if protocol.ends_with('S') {
                "https"
            } else {
                "http"
            };
            out["http"] = json!({
                "scheme": scheme,
                "port": port?,
                "path": hc.get("path").and_then(Value::as_str).unwrap_or("/"),
            });
        }
        "TCP" | "MESOS_TCP" => {
            out["type"] = json!("TCP");
            out["tcp"] = json!({"port": port?});
        }
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{definition_from, parse_object};
    use meso_api::attributes::Attributes;
    use meso_api::v1::{AgentId, FrameworkId, OfferId};

    #[test]
    fn the_task_carries_command_environment_image_check_and_grace() {
        let body = r#"{"id":"/prod/web","cmd":"./serve","env":{"MODE":"fast"},
            "labels":{"tier":"web"},"taskKillGracePeriodSeconds":3,
            "container":{"type":"MESOS","docker":{"image":"/images/web.tar.gz"}},
            "healthChecks":[{"protocol":"MESOS_HTTP","path":"/health","portIndex":0}]}"#;
        let app = definition_from(parse_object(body.as_bytes()).unwrap()).unwrap();
        let offer = Offer {
            id: OfferId::new("o"),
            framework_id: FrameworkId::new("f"),
            agent_id: AgentId::new("a1"),
            hostname: "h1".into(),
            url: None,
            resources: Resources::new(),
            attributes: Attributes::default(),
            executor_ids: vec![],
            unavailability: None,
            allocation_info: None,
        };
        let t = task_info(
            &app,
            "prod_web.instance-x._app.1",
            &offer,
            Resources::new(),
            &[31005],
            0,
        );
        assert_eq!(t.name, "prod.web");
        let cmd = t.command.as_ref().unwrap();
        assert_eq!(cmd.value.as_deref(), Some("./serve"));
        let env = &cmd.environment.as_ref().unwrap().variables;
        let get = |n: &str| {
            env.iter()
                .find(|v| v.name == n)
                .and_then(|v| v.value.clone())
        };
        assert_eq!(get("PORT0").as_deref(), Some("31005"));
        assert_eq!(get("MODE").as_deref(), Some("fast"));
        assert_eq!(get("MARATHON_APP_ID").as_deref(), Some("/prod/web"));
        let hc = t.health_check.as_ref().unwrap();
        assert_eq!(hc.http.as_ref().unwrap().port, 31005);
        assert!(t.container.as_ref().unwrap().mesos.is_some());
        assert_eq!(
            t.kill_policy
                .as_ref()
                .unwrap()
                .grace_period
                .as_ref()
                .unwrap()
                .nanoseconds,
            3_000_000_000
        );
    }
}
