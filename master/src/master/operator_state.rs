//! What the master keeps for its operator endpoints and nowhere else: the [`Timeline`]
//! (start, election and registration times), the offset from the node clock to Unix
//! time, its flags as `(name, value)` text for
//! `/flags`, `GET_FLAGS` and `/master/state`, and the [`OperatorEvents`] hub of
//! `SUBSCRIBE` streams, and the role weights and quotas. One field of the `Master`.

use std::collections::VecDeque;
use std::time::Duration;

use meso_api::v1::FrameworkId;

use super::frameworks::FrameworkRecord;

use super::operator_events::OperatorEvents;
use super::timeline::Timeline;
use super::MasterConfig;

/// Removed frameworks remembered for `completed_frameworks`.
pub const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// The master's operator-facing state.
#[derive(Default)]
pub struct OperatorState {
    /// Start, election and registration times.
    pub timeline: Timeline,
    /// Flags as Mesos names them, with their values as text.
    pub flags: Vec<(String, String)>,
    /// Operator event stream subscribers.
    pub events: OperatorEvents,
    /// Frameworks removed since the start, oldest first, at most
    /// [`MAX_COMPLETED_FRAMEWORKS`] (Mesos's `--max_completed_frameworks` default).
    pub completed_frameworks: VecDeque<FrameworkRecord>,
    /// Seconds to add to the node clock's time to get seconds since the Unix epoch.
    pub epoch_offset: f64,
    /// Role weights and quotas, as last written to the registry.
    pub roles: super::role_controls::RoleControls,
    /// Recent tasks' status updates, for the web UI's task page.
    pub status_history: super::status_history::StatusHistory,
    /// The spare buffer of the largest answers (`/master/state`, GET_STATE, SUBSCRIBED).
    pub answers: super::answer_buffer::AnswerBuffer,
}

impl OperatorState {
    /// The state of a master with `config` listening on `port`, started at `now`
    /// (seconds since the Unix epoch); `epoch_offset` turns node clock time into that.
    pub fn new(config: &MasterConfig, now: f64, epoch_offset: f64, port: u16) -> OperatorState {
        OperatorState {
            timeline: Timeline::new(now),
            flags: flags_of(config, port),
            events: OperatorEvents::default(),
            completed_frameworks: VecDeque::new(),
            epoch_offset,
            roles: Default::default(),
            status_history: Default::default(),
            answers: Default::default(),
        }
    }
}

impl OperatorState {
    /// Remembers a removed framework (inactive, disconnected), dropping the oldest beyond
    /// [`MAX_COMPLETED_FRAMEWORKS`]; returns the ids of the frameworks dropped, whose
    /// times are forgotten here and whose completed tasks the caller forgets.
    pub fn framework_completed(&mut self, mut record: FrameworkRecord) -> Vec<FrameworkId> {
        record.active = false;
        record.connected = false;
        self.completed_frameworks.push_back(record);
        let mut dropped = Vec::new();
        while self.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
            if let Some(old) = self.completed_frameworks.pop_front() {
                if let Some(id) = old.info.id {
                    self.timeline.framework_forgotten(&id);
                    dropped.push(id);
                }
            }
        }
        dropped
    }
}

/// The master's settings under Mesos's flag names, sorted by name.
pub fn flags_of(config: &MasterConfig, port: u16) -> Vec<(String, String)> {
    let secs = |d: Duration| meso_api::duration::format_duration(d);
    let mut flags = vec![
        (
            "agent_ping_timeout".to_string(),
            secs(config.agent_ping_timeout),
        ),
        (
            "allocation_interval".to_string(),
            secs(config.allocation_interval),
        ),
        ("hostname".to_string(), config.hostname.clone()),
        (
            "max_agent_ping_timeouts".to_string(),
            config.max_agent_ping_timeouts.to_string(),
        ),
        (
            "max_completed_tasks_per_framework".to_string(),
            config.max_completed_tasks_per_framework.to_string(),
        ),
        ("port".to_string(), port.to_string()),
        ("registry".to_string(), "in_memory".to_string()),
    ];
    if !config.weights.is_empty() {
        let pairs: Vec<String> = config
            .weights
            .iter()
            .map(|(r, w)| format!("{r}={w}"))
            .collect();
        flags.push(("weights".to_string(), pairs.join(",")));
    }
    if let Some(t) = config.offer_timeout {
        flags.push(("offer_timeout".to_string(), secs(t)));
    }
    // Whether each realm is guarded (never the credentials or the key).
    use meso_api::http::auth::Realm;
    for (name, realm) in [
        ("authenticate_http_readonly", Realm::Readonly),
        ("authenticate_http_readwrite", Realm::Readwrite),
        ("authenticate_http_frameworks", Realm::Framework),
    ] {
        flags.push((name.to_string(), config.http_auth.guards(realm).to_string()));
    }
    // Agents' and drivers' authentication (never the credentials).
    let authn = &config.authentication;
    flags.push(("authenticate_agents".to_string(), authn.agents.to_string()));
    flags.push((
        "authenticate_frameworks".to_string(),
        authn.frameworks.to_string(),
    ));
    flags.push(("authentication_v0_timeout".to_string(), secs(authn.timeout)));
    flags.sort();
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_carry_mesos_names_and_duration_text() {
        let config = MasterConfig::new("m", "host");
        let flags = flags_of(&config, 5050);
        let get = |n: &str| flags.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("hostname"), Some("host"));
        assert_eq!(get("port"), Some("5050"));
        assert_eq!(get("max_agent_ping_timeouts"), Some("5"));
        assert_eq!(get("agent_ping_timeout"), Some("15secs"));
        assert_eq!(get("offer_timeout"), None);
    }

    #[test]
    fn completed_frameworks_are_bounded_and_the_dropped_ones_forgotten() {
        let config = MasterConfig::new("m", "host");
        let mut state = OperatorState::new(&config, 1.0, 0.0, 5050);
        let record = |i: usize| {
            let mut info = meso_api::v1::FrameworkInfo::new("u", "f");
            info.id = Some(FrameworkId::new(format!("f{i}")));
            FrameworkRecord {
                info,
                pid: None,
                connected: true,
                active: true,
                failover_generation: 0,
            }
        };
        for i in 0..MAX_COMPLETED_FRAMEWORKS {
            state
                .timeline
                .framework_seen(&FrameworkId::new(format!("f{i}")), 2.0);
            assert!(state.framework_completed(record(i)).is_empty());
        }
        let dropped = state.framework_completed(record(MAX_COMPLETED_FRAMEWORKS));
        assert_eq!(dropped, vec![FrameworkId::new("f0")]);
        assert_eq!(state.completed_frameworks.len(), MAX_COMPLETED_FRAMEWORKS);
        assert_eq!(
            state.timeline.framework(&FrameworkId::new("f0")).registered,
            0.0
        );
        assert_eq!(
            state.timeline.framework(&FrameworkId::new("f1")).registered,
            2.0
        );
    }
}
