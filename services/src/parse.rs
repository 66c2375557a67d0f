//! Reading an app definition from a request body, in two passes: the JSON is read as a
//! value and every known field's type is checked (a wrong type is a violation at that
//! field's path, `error.expected.jsnumber` as Marathon's), then the typed definition is
//! read and its rules checked (`validation.rs`). Unknown fields are ignored, as Marathon
//! does; the deprecated `ports` and `uris` become `portDefinitions` and `fetch`.

use serde_json::{Map, Value};

use crate::app::{AppDefinition, AppError, Violation};
use crate::ids::AppId;

/// The JSON type each known field must have.
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Integer,
    Text,
    Bool,
    Object,
    TextList,
    List,
    TextMap,
}

const FIELDS: &[(&str, Kind)] = &[
    ("id", Kind::Text),
    ("cmd", Kind::Text),
    ("args", Kind::TextList),
    ("cpus", Kind::Number),
    ("mem", Kind::Number),
    ("disk", Kind::Number),
    ("gpus", Kind::Integer),
    ("instances", Kind::Integer),
    ("constraints", Kind::List),
    ("env", Kind::Object),
    ("labels", Kind::TextMap),
    ("healthChecks", Kind::List),
    ("readinessChecks", Kind::List),
    ("upgradeStrategy", Kind::Object),
    ("backoffSeconds", Kind::Integer),
    ("backoffFactor", Kind::Number),
    ("maxLaunchDelaySeconds", Kind::Integer),
    ("killSelection", Kind::Text),
    ("container", Kind::Object),
    ("portDefinitions", Kind::List),
    ("ports", Kind::List),
    ("requirePorts", Kind::Bool),
    ("fetch", Kind::List),
    ("uris", Kind::TextList),
    ("user", Kind::Text),
    ("executor", Kind::Text),
    ("dependencies", Kind::TextList),
    ("taskKillGracePeriodSeconds", Kind::Integer),
    ("role", Kind::Text),
    ("acceptedResourceRoles", Kind::TextList),
    ("networks", Kind::List),
    ("revocable", Kind::Bool),
];

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Number => "error.expected.jsnumber",
        Kind::Integer => "error.expected.jsnumber (an integer)",
        Kind::Text => "error.expected.jsstring",
        Kind::Bool => "error.expected.jsboolean",
        Kind::Object | Kind::TextMap => "error.expected.jsobject",
        Kind::TextList | Kind::List => "error.expected.jsarray",
    }
}

fn type_violations(body: &Map<String, Value>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (name, kind) in FIELDS {
        let Some(v) = body.get(*name) else { continue };
        if v.is_null() {
            continue;
        }
        let path = format!("/{name}");
        let ok = match kind {
            Kind::Number => v.is_number(),
            Kind::Integer => v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
            Kind::Text => v.is_string(),
            Kind::Bool => v.is_boolean(),
            Kind::Object => v.is_object(),
            Kind::List => v.is_array(),
            Kind::TextList => {
                if let Some(items) = v.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        if !item.is_string() {
                            out.push(Violation::new(
                                format!("{path}({i})"),
                                "error.expected.jsstring",
                            ));
                        }
                    }
                    true
                } else {
                    false
                }
            }
            Kind::TextMap => {
                if let Some(map) = v.as_object() {
                    for (k, item) in map {
                        if !item.is_string() {
                            out.push(Violation::new(
                                format!("{path}/{k}"),
                                "error.expected.jsstring",
                            ));
                        }
                    }
                    true
                } else {
                    false
                }
            }
        };
        if !ok {
            out.push(Violation::new(path, expected(*kind)));
        }
    }
    if let Some(cs) = body.get("constraints").and_then(Value::as_array) {
        for (i, c) in cs.iter().enumerate() {
            let strings = c
                .as_array()
                .is_some_and(|parts| parts.iter().all(Value::is_string));
            if !strings {
                out.push(Violation::new(
                    format!("/constraints({i})"),
                    "Each constraint must be an array of strings",
                ));
            }
        }
    }
    if let Some(n) = body.get("instances").and_then(Value::as_i64) {
        if n < 0 {
            out.push(Violation::new(
                "/instances",
                "must be greater than or equal to 0",
            ));
        }
    }
    out
}

/// Reads the request body as a JSON object.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, AppError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| AppError::Json(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(AppError::Types(vec![Violation::new(
            "/",
            "error.expected.jsobject",
        )])),
    }
}

/// The app a JSON object defines (`id` already set in it), with defaults filled in and
/// every rule checked. The deprecated `ports` and `uris` are turned into
/// `portDefinitions` and `fetch`.
pub fn definition_from(mut body: Map<String, Value>) -> Result<AppDefinition, AppError> {
    let types = type_violations(&body);
    if !types.is_empty() {
        return Err(AppError::Types(types));
    }
    body.retain(|_, v| !v.is_null());
    let mut violations = Vec::new();
    if let Some(ports) = body.remove("ports") {
        if body.contains_key("portDefinitions") {
            violations.push(Violation::new(
                "/",
                "You cannot specify both ports and port definitions",
            ));
        }
        let defs: Vec<Value> = ports
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| serde_json::json!({"port": p, "protocol": "tcp"}))
            .collect();
        body.insert("portDefinitions".into(), Value::Array(defs));
    }
    if let Some(uris) = body.remove("uris") {
        if body.contains_key("fetch") {
            violations.push(Violation::new(
                "/",
                "You cannot specify both uris and fetch fields",
            ));
        }
        let fetch: Vec<Value> = uris
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|u| {
                let extract = [".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"]
                    .iter()
                    .any(|s| u.ends_with(s));
                serde_json::json!({"uri": u, "extract": extract, "executable": false, "cache": false})
            })
            .collect();
        body.insert("fetch".into(), Value::Array(fetch));
    }
    match body.get("id").and_then(Value::as_str).map(AppId::parse) {
        None => violations.push(Violation::new("/id", "error.path.missing")),
        Some(Err(e)) => violations.push(Violation::new("/id", e)),
        Some(Ok(id)) => {
            body.insert("id".into(), Value::String(id.as_str().to_string()));
        }
    }
    if !violations.is_empty() {
        return Err(AppError::Invalid(violations));
    }
    let mut app: AppDefinition = serde_json::from_value(Value::Object(body))
        .map_err(|e| AppError::Types(vec![Violation::new("/", e.to_string())]))?;
    let violations = crate::validation::validate(&app);
    if violations.is_empty() {
        app.readiness_checks = crate::readiness::checks_of(&app)
            .iter()
            .map(crate::readiness::echo)
            .collect();
        Ok(app)
    } else {
        Err(AppError::Invalid(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<AppDefinition, AppError> {
        definition_from(parse_object(body.as_bytes())?)
    }

    #[test]
    fn defaults_are_filled_in_and_deprecated_fields_converted() {
        let app = parse(
            r#"{"id": "web", "cmd": "sleep 100", "ports": [0, 0], "uris": ["http://x/a.tgz"]}"#,
        )
        .unwrap();
        assert_eq!(app.id.as_str(), "/web");
        assert_eq!((app.cpus, app.mem, app.instances), (1.0, 128.0, 1));
        assert_eq!(app.port_definitions.len(), 2);
        assert_eq!(app.fetch[0]["extract"], true);
        let json = app.to_json();
        assert!(!json.contains_key("ports") && !json.contains_key("uris"));
        assert_eq!(
            parse(r#"{"id":"/a","cmd":"x"}"#)
                .unwrap()
                .port_definitions
                .len(),
            1
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let Err(AppError::Types(v)) = parse(r#"{"id": "/a", "cmd": "x", "cpus": "lots"}"#) else {
            panic!("wrong type accepted")
        };
        assert_eq!(v, [Violation::new("/cpus", "error.expected.jsnumber")]);
        assert!(matches!(parse("{nope"), Err(AppError::Json(_))));
        let Err(AppError::Invalid(v)) = parse(r#"{"cmd": "x"}"#) else {
            panic!("missing id accepted")
        };
        assert_eq!(v[0].path, "/id");
    }
}
