//! The v1 JSON front doors: scheduler, executor and operator (master and agent) calls.
//! The first byte picks the door; the rest is the body. A refusal is an `HttpError` with a
//! 4xx status and a body, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meso_api::http::headers::RequestHeaders;
use meso_api::json::Limits;

fuzz_target!(|data: &[u8]| {
    let Some((&door, body)) = data.split_first() else {
        return;
    };
    let headers = RequestHeaders::from_pairs([("content-type", "application/json")]);
    let limits = Limits::default();
    let status = match door % 4 {
        0 => meso_api::http::scheduler::scheduler_request("POST", &headers, body, &limits)
            .err()
            .map(|e| e.status),
        1 => meso_api::http::executor::executor_request("POST", &headers, body, &limits)
            .err()
            .map(|e| e.status),
        2 => meso_api::http::operator::master_operator_request("POST", &headers, body, &limits)
            .err()
            .map(|e| e.status),
        _ => meso_api::http::operator::agent_operator_request("POST", &headers, body, &limits)
            .err()
            .map(|e| e.status),
    };
    if let Some(status) = status {
        assert!((400..600).contains(&status), "status {status}");
    }
});
