//! The executor API's own-container rule: an authenticated caller of `/api/v1/executor`
//! must carry the claims of the token the agent gave that executor (`fid`, `eid`, `cid`:
//! its framework, executor and container ids, as Mesos's `verifyExecutorClaims`), so one
//! executor's token cannot speak for another executor, and a Basic principal (no claims)
//! cannot speak for any.

use super::Principal;
use crate::http::HttpError;

/// The claims an executor's token carries, for signing it.
pub fn executor_claims(
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    claims.insert("fid".into(), framework_id.into());
    claims.insert("eid".into(), executor_id.into());
    claims.insert("cid".into(), container_id.into());
    claims
}

/// `Ok` when `principal` holds exactly this executor's claims; a 403 naming the first claim
/// that is missing or different otherwise.
pub fn verify_executor_claims(
    principal: &Principal,
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> Result<(), HttpError> {
    for (claim, expected, what) in [
        ("fid", framework_id, "the framework ID set in the call"),
        ("eid", executor_id, "the executor ID set in the call"),
        ("cid", container_id, "the executor's active container ID"),
    ] {
        if principal.claims.get(claim).map(String::as_str) != Some(expected) {
            let who = principal.value.as_deref().unwrap_or("(a token)");
            return Err(HttpError::forbidden(format!(
                "The authenticated principal {who} has no '{claim}' claim with {what} ('{expected}')"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn token_principal(fid: &str, eid: &str, cid: &str) -> Principal {
        let claims: BTreeMap<String, String> = executor_claims(fid, eid, cid)
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
            .collect();
        Principal {
            value: None,
            claims,
        }
    }

    #[test]
    fn only_the_executors_own_claims_pass() {
        let p = token_principal("f1", "e1", "c1");
        assert!(verify_executor_claims(&p, "f1", "e1", "c1").is_ok());
        let e = verify_executor_claims(&p, "f2", "e1", "c1").unwrap_err();
        assert_eq!(e.status, 403);
        assert!(
            e.body.contains("'fid'") && e.body.contains("'f2'"),
            "{}",
            e.body
        );
        let e = verify_executor_claims(&p, "f1", "e2", "c1").unwrap_err();
        assert!(e.body.contains("'eid'"), "{}", e.body);
        let e = verify_executor_claims(&p, "f1", "e1", "c2").unwrap_err();
        assert!(e.body.contains("'cid'"), "{}", e.body);
        let basic = Principal {
            value: Some("ops".into()),
            claims: BTreeMap::new(),
        };
        let e = verify_executor_claims(&basic, "f1", "e1", "c1").unwrap_err();
        assert!(e.body.contains("principal ops has no 'fid'"), "{}", e.body);
    }
}
