//! The JSON the API answers with, in the client-safe form of Marathon 1.10 (the keys
//! marathon-python 0.13 accepts, `taskStats` not `tasksStats`, no `role` in queue items,
//! timestamps with milliseconds and `Z`).

use serde_json::{json, Map, Value};

use crate::deployment::Deployment;
use crate::ids::AppId;
use crate::state::{AppRecord, Goal, Instance, Services};
use crate::timestamps::iso;
use meso_api::v1::TaskState;

/// A task as `/v2/tasks` shows it (an instance waiting to launch shows no task).
pub fn task_json(s: &Services, i: &Instance) -> Value {
    let Some(t) = &i.task else {
        return Value::Null;
    };
    let service_ports: Vec<u64> = s
        .apps
        .get(&i.app)
        .map(|a| a.def.port_definitions.iter().map(|p| p.port).collect())
        .unwrap_or_default();
    let checks = s
        .apps
        .get(&i.app)
        .is_some_and(|a| a.def.has_health_checks());
    let mut health = Vec::new();
    if checks {
        if let Some(h) = t.healthy {
            health.push(json!({
                "alive": h,
                "consecutiveFailures": if h { 0 } else { 1 },
                "firstSuccess": Value::Null,
                "lastSuccess": Value::Null,
                "lastFailure": Value::Null,
                "lastFailureCause": Value::Null,
                "instanceId": format!("{}.instance-{}", i.app.task_prefix(), i.id),
            }));
        }
    }
    json!({
        "id": t.task_id,
        "appId": i.app.as_str(),
        "host": t.facts.hostname,
        "slaveId": t.agent_id,
        "state": t.state.as_str(),
        "stagedAt": iso(t.staged_ms),
        "startedAt": t.started_ms.map(iso),
        "version": iso(i.version_ms),
        "ports": t.ports,
        "servicePorts": service_ports,
        "ipAddresses": [],
        "healthCheckResults": health,
        "localVolumes": [],
    })
}

/// A deployment as `GET /v2/deployments` lists it: the current step is the first whose
/// apps have not arrived.
pub fn deployment_json(s: &Services, d: &Deployment) -> Value {
    let current = d
        .steps
        .iter()
        .position(|step| step.iter().any(|(_, a)| !s.converged(a)))
        .unwrap_or(d.steps.len().saturating_sub(1));
    json!({
        "id": d.id,
        "version": iso(d.version_ms),
        "affectedApps": d.apps().iter().map(AppId::as_str).collect::<Vec<_>>(),
        "affectedPods": [],
        "steps": d.steps.iter().map(|s| json!({"actions": d_actions(s)})).collect::<Vec<_>>(),
        "currentActions": d.steps[current]
            .iter()
            .map(|(action, app)| json!({
                "action": action,
                "app": app.as_str(),
                "readinessCheckResults": s.readiness_results(app),
            }))
            .collect::<Vec<_>>(),
        "currentStep": current + 1,
        "totalSteps": d.steps.len(),
    })
}

fn d_actions(step: &[(String, AppId)]) -> Vec<Value> {
    step.iter()
        .map(|(action, app)| json!({"action": action, "app": app.as_str()}))
        .collect()
}

/// What `embed` asks for beyond the counts and deployments.
#[derive(Debug, Clone, Copy, Default)]
pub struct Embed {
    /// `tasks`.
    pub tasks: bool,
    /// `lastTaskFailure`.
    pub last_task_failure: bool,
    /// `readiness` (`readinessCheckResults`).
    pub readiness: bool,
}

/// An app as GET returns it.
pub fn app_info(s: &Services, r: &AppRecord, embed: Embed) -> Value {
    let mut m: Map<String, Value> = r.def.to_json();
    let checks = r.def.has_health_checks();
    let (mut staged, mut running, mut healthy, mut unhealthy) = (0, 0, 0, 0);
    let mut tasks = Vec::new();
    for i in s.instances_of(&r.def.id) {
        let Some(t) = &i.task else { continue };
        match t.state {
            TaskState::Running => running += 1,
            TaskState::Staging | TaskState::Starting => staged += 1,
            _ => {}
        }
        if checks {
            match t.healthy {
                Some(true) => healthy += 1,
                Some(false) => unhealthy += 1,
                None => {}
            }
        }
        if embed.tasks {
            tasks.push(task_json(s, i));
        }
    }
    m.insert("version".into(), json!(iso(r.version_ms)));
    m.insert(
        "versionInfo".into(),
        json!({"lastScalingAt": iso(r.scaling_ms), "lastConfigChangeAt": iso(r.config_ms)}),
    );
    m.insert("tasksStaged".into(), json!(staged));
    m.insert("tasksRunning".into(), json!(running));
    m.insert("tasksHealthy".into(), json!(healthy));
    m.insert("tasksUnhealthy".into(), json!(unhealthy));
    let deployments: Vec<Value> = s
        .deployments
        .values()
        .filter(|d| d.apps().contains(&r.def.id))
        .map(|d| json!({"id": d.id}))
        .collect();
    m.insert("deployments".into(), Value::Array(deployments));
    if embed.tasks {
        m.insert("tasks".into(), Value::Array(tasks));
    }
    if embed.last_task_failure {
        if let Some(f) = &r.last_failure {
            m.insert("lastTaskFailure".into(), f.clone());
        }
    }
    if embed.readiness {
        m.insert(
            "readinessCheckResults".into(),
            Value::Array(s.readiness_results(&r.def.id)),
        );
    }
    Value::Object(m)
}

/// The group `group` (a path) with its apps and subgroups, recursively.
pub fn group_json(s: &Services, group: &str, embed: Embed) -> Value {
    let group = if group == "/" {
        String::new()
    } else {
        group.trim_end_matches('/').to_string()
    };
    let mut apps = Vec::new();
    let mut children = std::collections::BTreeSet::new();
    for (id, r) in &s.apps {
        if !id.is_under(&group) || id.as_str() == group {
            continue;
        }
        let rest = &id.as_str()[group.len() + 1..];
        match rest.split_once('/') {
            None => apps.push(app_info(s, r, embed)),
            Some((child, _)) => {
                children.insert(format!("{group}/{child}"));
            }
        }
    }
    let version = s.apps.values().map(|r| r.version_ms).max().unwrap_or(0);
    json!({
        "id": if group.is_empty() { "/".to_string() } else { group.clone() },
        "apps": apps,
        "groups": children.iter().map(|c| group_json(s, c, embed)).collect::<Vec<_>>(),
        "pods": [],
        "dependencies": [],
        "version": iso(version),
    })
}

/// `GET /v2/queue`: one item per app with instances waiting to launch.
pub fn queue_json(s: &Services, now_ms: u64) -> Value {
    let mut items = Vec::new();
    for (id, r) in &s.apps {
        let waiting: Vec<&Instance> = s
            .instances_of(id)
            .filter(|i| i.goal == Goal::Run && i.task.is_none())
            .collect();
        if waiting.is_empty() {
            continue;
        }
        items.push(json!({
            "app": app_info(s, r, Embed::default()),
            "count": waiting.len(),
            "delay": {"timeLeftSeconds": r.backoff.time_left_seconds(now_ms), "overdue": r.backoff.ready(now_ms)},
            "since": iso(r.version_ms),
            "processedOffersSummary": {
                "processedOffersCount": 0,
                "unusedOffersCount": 0,
                "rejectSummaryLastOffers": [],
                "rejectSummaryLaunchAttempt": [],
            },
        }));
    }
    json!({"queue": items})
}

/// `{"apps": [...]}` written straight as text: each definition serialized once, without a
/// JSON tree, the status fields appended (GET /v2/apps with a thousand apps).
pub fn apps_text<'a>(
    s: &Services,
    apps: impl Iterator<Item = &'a AppRecord>,
    embed: Embed,
) -> String {
    use std::fmt::Write;
    let mut out = String::from("{\"apps\":[");
    for (n, r) in apps.enumerate() {
        if n > 0 {
            out.push(',');
        }
        if embed.tasks || embed.last_task_failure || embed.readiness {
            out.push_str(&app_info(s, r, embed).to_string());
            continue;
        }
        // The definition's object without its closing brace; the status fields follow.
        s.with_def_text(r, |def| out.push_str(&def[..def.len() - 1]));
        let checks = r.def.has_health_checks();
        let (mut staged, mut running, mut healthy, mut unhealthy) = (0, 0, 0, 0);
        for t in s.instances_of(&r.def.id).filter_map(|i| i.task.as_ref()) {
            match t.state {
                TaskState::Running => running += 1,
                TaskState::Staging | TaskState::Starting => staged += 1,
                _ => {}
            }
            if checks {
                match t.healthy {
                    Some(true) => healthy += 1,
                    Some(false) => unhealthy += 1,
                    None => {}
                }
            }
        }
        let deployments: Vec<&str> = s
            .deployments
            .values()
            .filter(|d| d.steps.iter().flatten().any(|(_, a)| *a == r.def.id))
            .map(|d| d.id.as_str())
            .collect();
        let _ = write!(
            out,
            ",\"version\":\"{}\",\"versionInfo\":{{\"lastScalingAt\":\"{}\",\"lastConfigChangeAt\":\"{}\"}},\"tasksStaged\":{staged},\"tasksRunning\":{running},\"tasksHealthy\":{healthy},\"tasksUnhealthy\":{unhealthy},\"deployments\":[",
            iso(r.version_ms),
            iso(r.scaling_ms),
            iso(r.config_ms)
        );
        for (k, d) in deployments.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(out, "{{\"id\":\"{d}\"}}");
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    out
}
