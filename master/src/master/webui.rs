//! The web UI's side of the master: the page and its scripts at `/` and `/ui/*`, compiled
//! into the binary from `master/webui/` (no CDN, no file read at run time, so an
//! air-gapped master serves it whole), and the three read endpoints made for it:
//! `/master/overview` (`overview_json.rs`), `/master/list/<kind>` (`list_json.rs`) and
//! `/master/leader`, who leads, which the page of a master that lost its leadership (or a
//! peer's, after its own master died) reads to move to the new leader; it is open (no
//! credentials, as `/redirect`) and answers any origin (`Access-Control-Allow-Origin: *`).
//!
//! The page reads everything else through the endpoints any client uses (`POST /api/v1`
//! SUBSCRIBE for live events, `/master/roles`, the agents' files through the master).
//! Invariants: every asset answer carries a Content-Security-Policy that allows scripts,
//! styles and images from this origin only and no inline script, so text that slipped
//! into the page as HTML still could not run; a path under `/ui/` that names no asset is
//! a 404.

use libprocess::http_types::{header, HeaderMap, HeaderValue, StatusCode};
use libprocess::{Context, HttpRequest, HttpResponse};
use meso_api::http::HttpError;
use serde_json::Value;

use super::legacy::{error_response, json_response};
use super::list_json::{list, ListKind, ListQuery};
use super::Master;

macro_rules! assets {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/webui/", $name)) as &[u8])),*]
    };
}

/// Every file of the UI by its path under `master/webui/`.
pub const ASSETS: &[(&str, &[u8])] = assets![
    "index.html",
    "ui/style.css",
    "ui/app.js",
    "ui/api.js",
    "ui/dom.js",
    "ui/live.js",
    "ui/table.js",
    "ui/format.js",
    "ui/pages.js",
    "ui/pages_tasks.js",
    "ui/pages_sandbox.js",
    "ui/pages_cluster.js",
    "ui/router.js",
    "ui/dialogs.js",
];

/// The policy every asset is served with.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self' http: https:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The asset a route names (`/` is `index.html`), with its content type.
pub fn asset(route: &str) -> Option<(&'static str, &'static [u8])> {
    let name = match route {
        "" | "/" | "/index.html" => "index.html",
        r => r.strip_prefix('/').filter(|n| n.starts_with("ui/"))?,
    };
    let (_, body) = ASSETS.iter().find(|(n, _)| *n == name)?;
    let kind = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    Some((kind, body))
}

/// The answer for an asset route, or `None` if the route is not the UI's.
pub fn asset_response(route: &str) -> Option<HttpResponse> {
    if !(route == "/" || route == "/index.html" || route.starts_with("/ui/")) {
        return None;
    }
    let Some((kind, body)) = asset(route) else {
        return Some(HttpResponse::not_found(format!(
            "No web UI file at '{route}'"
        )));
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    Some(HttpResponse {
        status: StatusCode::OK,
        headers,
        body: body.into(),
    })
}

/// The `/master/leader` answer for leadership fields `leadership` (the object of
/// `LeaderInfo::to_json`): the same fields plus `leader_address` (`ip:port` of the
/// leader's HTTP, or null), readable from any origin.
pub fn leader_response(mut leadership: Value) -> HttpResponse {
    let address = leadership
        .get("leader")
        .and_then(Value::as_str)
        .and_then(|pid| pid.split_once('@'))
        .map(|(_, addr)| addr.to_string());
    leadership["leader_address"] = address.map_or(Value::Null, Value::String);
    let mut r = HttpResponse::json(&leadership);
    r.headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r.headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl Master {
    /// Answers the UI's routes (`route` without the `/master` prefix); hands every other
    /// request back.
    pub(super) fn serve_ui(
        &mut self,
        _ctx: &mut Context<Self>,
        route: &str,
        request: &HttpRequest,
    ) -> Option<HttpResponse> {
        if let Some(r) = asset_response(route) {
            return Some(r);
        }
        let query = request.query.as_deref();
        let leadership = self.leader_json();
        let view = super::state_json::StateView {
            leadership: Some(&leadership),
            ..self.state_view()
        };
        let response = match route {
            "/leader" => leader_response(leadership.clone()),
            "/overview" => {
                let doc = super::overview_json::overview(&view);
                json_response(query, doc.to_string().into_bytes())
            }
            r => {
                let kind = ListKind::of_route(r)?;
                match ListQuery::parse(kind, query) {
                    Ok(q) => {
                        let doc = list(&view, &self.operator.status_history, kind, &q);
                        json_response(query, doc.to_string().into_bytes())
                    }
                    Err(e) => error_response(e),
                }
            }
        };
        Some(response)
    }
}

/// Whether `route` is one of the UI's (assets and the three endpoints).
pub fn is_ui_route(route: &str) -> bool {
    matches!(route, "/" | "/index.html" | "/leader" | "/overview")
        || route.starts_with("/ui/")
        || ListKind::of_route(route).is_some()
}

/// A 405 for a method other than GET on a UI route.
pub fn only_get(method: &str, route: &str) -> Option<HttpResponse> {
    (method != "GET" && method != "HEAD").then(|| {
        error_response(HttpError::new(
            405,
            format!("Expecting 'GET' for '{route}', got '{method}'"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_served_with_its_type_and_the_policy() {
        for (name, _) in ASSETS {
            let r = asset_response(&format!("/{name}")).expect("an asset route");
            assert_eq!(r.status, StatusCode::OK, "{name}");
            assert!(r.headers.contains_key(header::CONTENT_SECURITY_POLICY));
        }
        let index = asset_response("/").unwrap();
        assert_eq!(
            index.headers.get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            asset_response("/ui/nothing.js").unwrap().status,
            StatusCode::NOT_FOUND
        );
        assert!(asset_response("/state").is_none());
        assert!(asset("/ui/../Cargo.toml").is_none());
    }

    #[test]
    fn no_asset_loads_anything_from_another_origin() {
        for (name, body) in ASSETS {
            let text = String::from_utf8_lossy(body);
            for bad in [
                "http://",
                "https://",
                "//cdn",
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
            ] {
                // The one exception: the failover code builds `http(s)://<peer>` URLs.
                if bad.starts_with("http") && text.contains("location.protocol") {
                    continue;
                }
                assert!(!text.contains(bad), "{name} contains {bad}");
            }
        }
    }

    #[test]
    fn the_leader_answer_names_the_address_and_any_origin_may_read_it() {
        let r =
            leader_response(serde_json::json!({"leader": "master@10.0.0.2:5050", "raft_term": 3}));
        let doc: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(doc["leader_address"], "10.0.0.2:5050");
        assert_eq!(doc["raft_term"], 3);
        assert_eq!(
            r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "*"
        );
        let none = leader_response(serde_json::json!({"leader": null}));
        let doc: Value = serde_json::from_slice(&none.body).unwrap();
        assert!(doc["leader_address"].is_null());
    }
}
