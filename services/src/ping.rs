//! `/ping` (Marathon's): the services API's liveness answer, on every master.

use libprocess::http_types::StatusCode;
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse, Process};
use serde_json::json;

/// `/ping`: `pong`, as text, or as a JSON string for a client that prefers JSON; 204 for
/// a client that accepts neither (Marathon's).
pub struct Ping;

/// What `/ping` answers a client whose `Accept` is `accept`: the JSON string when it
/// names JSON and not plain text, text when it accepts text (or anything), else nothing.
pub fn ping_answer(accept: &str) -> HttpResponse {
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    let json = types.contains(&"application/json");
    let text = types
        .iter()
        .any(|t| matches!(*t, "text/plain" | "text/*" | "*/*" | ""));
    if json && !types.contains(&"text/plain") {
        HttpResponse::json(&json!("pong"))
    } else if text {
        HttpResponse::text(StatusCode::OK, "pong")
    } else {
        HttpResponse::text(StatusCode::NO_CONTENT, "")
    }
}

impl Process for Ping {
    type Message = ();

    fn base_name(&self) -> &str {
        "ping"
    }

    fn handle(&mut self, _ctx: &mut Context<Self>, _msg: ()) {}

    fn http(&mut self, _ctx: &mut Context<Self>, request: HttpRequest, reply: HttpReply) {
        let accept = request
            .headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("*/*")
            .to_string();
        reply.respond(ping_answer(&accept));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_answers_in_the_form_the_client_accepts() {
        let body = |r: &HttpResponse| r.status.as_u16();
        assert_eq!(body(&ping_answer("*/*")), 200);
        assert_eq!(body(&ping_answer("text/plain")), 200);
        assert_eq!(body(&ping_answer("application/json")), 200);
        assert_eq!(body(&ping_answer("application/xml")), 204);
        let json = ping_answer("application/json");
        assert_eq!(
            json.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }
}
