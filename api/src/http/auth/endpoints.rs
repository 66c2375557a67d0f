//! Which authentication realm guards each endpoint, as in Mesos's route tables
//! (`src/master/master.cpp`, `src/slave/slave.cpp`, docs/endpoints): read-only endpoints
//! (`/master/state`, `/metrics/snapshot`, `/files/*`, ...), read-write ones (the v1
//! operator API `/api/v1` as a whole, GET_* calls included, and `/master/teardown`-like
//! legacy mutators), the scheduler API, and the agent's executor API.
//!
//! Open, as in Mesos: `/health`, `/version` and the master's `/redirect`. Invariant: any
//! other path, including one with no handler, is guarded (read-only at least), so an
//! endpoint added later is never open by accident.

use super::Realm;

/// Legacy master endpoints that change the cluster (Mesos's read-write realm), with
/// everything below them (`/quota/ROLE` for a DELETE). Whole routes, whatever the method:
/// `GET /weights` and `GET /quota` are read-write in Mesos too.
const MASTER_READWRITE: &[&str] = &[
    "/teardown",
    "/reserve",
    "/unreserve",
    "/create-volumes",
    "/destroy-volumes",
    "/quota",
    "/weights",
    "/maintenance/schedule",
    "/machine/down",
    "/machine/up",
    "/kill-task",
];

/// The realm of a master route (trailing slash and `/master` prefix already removed), or
/// `None` for an endpoint that is always open.
pub fn master_realm(route: &str) -> Option<Realm> {
    match route {
        "/health" | "/version" => None,
        r if r == "/redirect" || r.starts_with("/redirect/") => None,
        // The web UI's page and scripts (it asks for credentials itself) and who leads.
        "/" | "/index.html" | "/leader" => None,
        r if r.starts_with("/ui/") => None,
        "/api/v1/scheduler" => Some(Realm::Framework),
        r if r == "/api/v1" || r.starts_with("/api/v1/") => Some(Realm::Readwrite),
        r if MASTER_READWRITE
            .iter()
            .any(|rw| r == *rw || r.strip_prefix(rw).is_some_and(|rest| rest.starts_with('/'))) =>
        {
            Some(Realm::Readwrite)
        }
        _ => Some(Realm::Readonly),
    }
}

/// The realm of an agent route (trailing slash and `/slave(1)` prefix already removed), or
/// `None` for an endpoint that is always open.
pub fn agent_realm(route: &str) -> Option<Realm> {
    match route {
        "/health" | "/version" => None,
        r if r == "/api/v1/executor" || r.starts_with("/api/v1/executor/") => Some(Realm::Executor),
        r if r == "/api/v1" || r.starts_with("/api/v1/") => Some(Realm::Readwrite),
        _ => Some(Realm::Readonly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_routes_fall_in_mesos_realms() {
        for open in ["/health", "/version", "/redirect", "/redirect/x"] {
            assert_eq!(master_realm(open), None, "{open}");
        }
        for ro in [
            "/state",
            "/state.json",
            "/state-summary",
            "/tasks",
            "/frameworks",
            "/slaves",
            "/roles",
            "/flags",
            "/metrics/snapshot",
            "/maintenance/status",
            "/files/read",
            "/agents/S1/files/read",
            "/no-such-endpoint",
        ] {
            assert_eq!(master_realm(ro), Some(Realm::Readonly), "{ro}");
        }
        for rw in [
            "/api/v1",
            "/api/v1/operator",
            "/teardown",
            "/quota",
            "/machine/down",
            "/kill-task",
        ] {
            assert_eq!(master_realm(rw), Some(Realm::Readwrite), "{rw}");
        }
        assert_eq!(master_realm("/api/v1/scheduler"), Some(Realm::Framework));
    }

    #[test]
    fn agent_routes_fall_in_mesos_realms() {
        assert_eq!(agent_realm("/health"), None);
        assert_eq!(agent_realm("/version"), None);
        for ro in [
            "/state",
            "/flags",
            "/metrics/snapshot",
            "/containers",
            "/monitor/statistics",
            "/files/browse",
        ] {
            assert_eq!(agent_realm(ro), Some(Realm::Readonly), "{ro}");
        }
        assert_eq!(agent_realm("/api/v1"), Some(Realm::Readwrite));
        assert_eq!(agent_realm("/api/v1/executor"), Some(Realm::Executor));
    }
}
