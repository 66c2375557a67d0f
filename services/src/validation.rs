//! The rules an app definition must keep (Marathon's `AppValidation`), each broken rule a
//! [`Violation`] at the field's path; no rule looks at anything but the definition.

use crate::app::{AppDefinition, Violation};
use crate::constraints::Constraint;

/// Every broken rule of `app` (empty: valid).
pub fn validate(app: &AppDefinition) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut bad = |path: &str, error: String| v.push(Violation::new(path, error));
    let has_cmd = app.cmd.is_some();
    let has_args = app.args.as_ref().is_some_and(|a| !a.is_empty());
    if has_cmd && has_args || (!has_cmd && !has_args && app.container.is_none()) {
        bad(
            "/",
            "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
                .into(),
        );
    }
    if app.cmd.as_deref() == Some("") {
        bad("/cmd", "must not be empty".into());
    }
    if app.cpus < 0.001 {
        bad(
            "/cpus",
            "got {}, expected 0.001 or more".replace("{}", &app.cpus.to_string()),
        );
    }
    for (name, value) in [("mem", app.mem), ("disk", app.disk)] {
        if value < 0.0 {
            bad(
                &format!("/{name}"),
                format!("got {value}, expected 0.0 or more"),
            );
        }
    }
    let us = app.upgrade_strategy;
    for (name, value) in [
        ("minimumHealthCapacity", us.minimum_health_capacity),
        ("maximumOverCapacity", us.maximum_over_capacity),
    ] {
        if !(0.0..=1.0).contains(&value) {
            bad(
                &format!("/upgradeStrategy/{name}"),
                format!("got {value}, expected between 0.0 and 1.0"),
            );
        }
    }
    if app.backoff_seconds < 0.0 {
        bad(
            "/backoffSeconds",
            "got a negative value, expected 0 or more".into(),
        );
    }
    if app.backoff_factor < 1.0 {
        bad(
            "/backoffFactor",
            format!("got {}, expected 1.0 or more", app.backoff_factor),
        );
    }
    if app.max_launch_delay_seconds < 0.0 {
        bad(
            "/maxLaunchDelaySeconds",
            "got a negative value, expected 0 or more".into(),
        );
    }
    for (i, c) in app.constraints.iter().enumerate() {
        if let Err(e) = Constraint::parse(c) {
            bad(&format!("/constraints({i})"), e);
        }
    }
    let role = app.role.as_deref().unwrap_or("*");
    for (i, r) in app.accepted_resource_roles.iter().enumerate() {
        if r != "*" && r != role {
            bad(
                &format!("/acceptedResourceRoles({i})"),
                format!(
                    "acceptedResourceRoles can only contain * and {role} (the app's role), not {r}"
                ),
            );
        }
    }
    if let Some(r) = &app.role {
        if let Err(e) = meso_api::roles::validate_role(r) {
            bad("/role", e.to_string());
        }
    }
    for (i, p) in app.port_definitions.iter().enumerate() {
        if !matches!(p.protocol.as_str(), "tcp" | "udp" | "udp,tcp") {
            bad(
                &format!("/portDefinitions({i})/protocol"),
                "must be one of tcp, udp, udp,tcp".into(),
            );
        }
        if p.port > 65535 {
            bad(
                &format!("/portDefinitions({i})/port"),
                "must be at most 65535".into(),
            );
        }
    }
    let mut mesos_checks = 0;
    for (i, hc) in app.health_checks.iter().enumerate() {
        let path = format!("/healthChecks({i})");
        let Some(obj) = hc.as_object() else {
            bad(&path, "error.expected.jsobject".into());
            continue;
        };
        let protocol = obj
            .get("protocol")
            .and_then(|p| p.as_str())
            .unwrap_or("HTTP");
        match protocol {
            "COMMAND" => {
                mesos_checks += 1;
                let ok = obj.get("command").is_some_and(|c| {
                    c.is_string() || c.get("value").is_some_and(|v| v.is_string())
                });
                if !ok {
                    bad(&format!("{path}/command"), "a COMMAND check needs a command".into());
                }
            }
            "MESOS_HTTP" | "MESOS_HTTPS" | "MESOS_TCP" => mesos_checks += 1,
            "HTTP" | "HTTPS" | "TCP" => {}
            other => bad(
                &format!("{path}/protocol"),
                format!("unknown protocol {other}: expected COMMAND, HTTP, HTTPS, TCP, MESOS_HTTP, MESOS_HTTPS or MESOS_TCP"),
            ),
        }
        if protocol != "COMMAND" {
            let index = obj.get("portIndex").and_then(|p| p.as_u64()).unwrap_or(0);
            if obj.get("port").is_none() && index as usize >= app.port_definitions.len() {
                bad(
                    &format!("{path}/portIndex"),
                    "Health check port indices must address an element of the ports array or container port mappings.".into(),
                );
            }
        }
    }
    if mesos_checks > 1 {
        bad(
            "/healthChecks",
            "An app may have at most one Mesos health check".into(),
        );
    }
    v.extend(crate::readiness::violations(app));
    v
}

#[cfg(test)]
mod tests {
    use crate::app::AppError;
    use crate::parse::{definition_from, parse_object};

    fn violations(body: &str) -> Vec<String> {
        match definition_from(parse_object(body.as_bytes()).unwrap()) {
            Err(AppError::Invalid(v)) => v.into_iter().map(|v| v.path).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(violations(r#"{"id":"/a"}"#), ["/"]);
        assert_eq!(violations(r#"{"id":"/a","cmd":"x","cpus":0}"#), ["/cpus"]);
        assert_eq!(
            violations(r#"{"id":"/a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":2}}"#),
            ["/upgradeStrategy/minimumHealthCapacity"]
        );
        assert_eq!(
            violations(r#"{"id":"/a","cmd":"x","constraints":[["h","UNIQUE"],["h","NEAR"]]}"#),
            ["/constraints(1)"]
        );
        assert_eq!(
            violations(r#"{"id":"/a","cmd":"x","acceptedResourceRoles":["*","other"]}"#),
            ["/acceptedResourceRoles(1)"]
        );
        assert_eq!(
            violations(r#"{"id":"/a","cmd":"x","backoffFactor":0.5}"#),
            ["/backoffFactor"]
        );
        assert_eq!(
            violations(r#"{"id":"/a","cmd":"x","healthChecks":[{"protocol":"COMMAND"}]}"#),
            ["/healthChecks(0)/command"]
        );
    }
}
