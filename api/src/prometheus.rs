//! `/metrics` in Prometheus's text format: every `/metrics/snapshot` key (Mesos's names,
//! `master/tasks_running`, `allocator/mesos/roles/<role>/shares/dominant`, ...) mapped to a
//! metric family with a type, a HELP line and labels in place of the name's variable parts
//! (`meso_master_tasks{state="running"}`, `meso_allocator_role_shares_dominant{role="a"}`).
//!
//! [`RULES`] is the one table of families: each rule matches keys by a pattern whose
//! `{name}` parts become labels (`{role}` may span `/`, as hierarchical roles do; any other
//! part is one segment, or one of the listed `{name:a|b}` words). A family name may use a
//! part too (`meso_allocator_quota_{what}`), so keys that share a shape get families without
//! a rule each: a new per-role quota figure has its family as soon as it is in the snapshot.
//! Timers (`<t>/count`, `<t>/p50_ms`, ...) become summaries in seconds. A key no rule
//! matches still appears, as `meso_unmapped{key="..."}` (the end-to-end test fails on any).
//!
//! Pure: a snapshot in, text out.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A family's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Quantiles and a count (a timer).
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
        }
    }
}

/// One family: the keys it takes, its name, type, HELP and fixed labels.
#[derive(Debug)]
pub struct Rule {
    /// The key pattern (see the module docs).
    pub key: &'static str,
    /// The family name; `{part}` is replaced by that part of the key.
    pub family: &'static str,
    /// The type.
    pub kind: Kind,
    /// The HELP text; `{part}` is replaced as in `family`.
    pub help: &'static str,
    /// Labels every sample of the rule carries.
    pub fixed: &'static [(&'static str, &'static str)],
}

const fn rule(key: &'static str, family: &'static str, kind: Kind, help: &'static str) -> Rule {
    Rule {
        key,
        family,
        kind,
        help,
        fixed: &[],
    }
}

const fn fixed(
    key: &'static str,
    family: &'static str,
    kind: Kind,
    help: &'static str,
    fixed: &'static [(&'static str, &'static str)],
) -> Rule {
    Rule {
        key,
        family,
        kind,
        help,
        fixed,
    }
}

use Kind::{Counter, Gauge, Summary};

/// The statistics a timer's snapshot keys end in (`<t>/<stat>`): the summary's `_count`
/// and its quantiles (milliseconds in the snapshot, seconds here).
const TIMER_STATS: [(&str, Option<&str>); 5] = [
    ("count", None),
    ("p50_ms", Some("0.5")),
    ("p90_ms", Some("0.9")),
    ("p99_ms", Some("0.99")),
    ("max_ms", Some("1")),
];

/// Every family, first match wins (so specific shapes come before general ones).
pub const RULES: &[Rule] = &[
    // libprocess, the actor runtime under every node.
    rule("libprocess/dropped/{reason}", "libprocess_dropped_total", Counter,
        "Messages, frames and connections the actor runtime dropped, by reason"),
    rule("libprocess/http/{reason}", "libprocess_http_refused_total", Counter,
        "HTTP requests the actor runtime refused before any process saw them, by reason"),
    rule("libprocess/frames_received", "libprocess_frames_received_total", Counter,
        "Message frames received from peers"),
    rule("libprocess/bytes_written", "libprocess_bytes_written_total", Counter,
        "Bytes of message frames written to peers"),
    rule("libprocess/processes", "libprocess_processes", Gauge, "Live processes on the node"),
    rule("libprocess/peers", "libprocess_peers", Gauge, "Peers with an open connection"),
    rule("libprocess/connections", "libprocess_connections", Gauge,
        "Inbound connections open now (bounded by the node's connection limit)"),
    rule("libprocess/tls/{outcome}", "libprocess_tls_connections_total", Counter,
        "Inbound connections on a TLS port, by outcome (accepted, handshake failed, plain refused)"),
    // The machine (Mesos's system/*).
    rule("system/cpus_total", "meso_system_cpus", Gauge, "CPUs of the machine"),
    rule("system/mem_total_bytes", "meso_system_memory_bytes", Gauge, "Memory of the machine"),
    rule("system/mem_free_bytes", "meso_system_memory_available_bytes", Gauge,
        "Memory available for new work (MemAvailable)"),
    rule("system/load_{period:1min|5min|15min}", "meso_system_load", Gauge,
        "Load average of the machine over the period"),
    // The master.
    rule("master/elected", "meso_master_elected", Gauge, "1 while this master leads"),
    rule("master/uptime_secs", "meso_master_uptime_seconds", Gauge,
        "Seconds since the master started"),
    fixed("master/{resource}_revocable_total", "meso_master_resources_capacity", Gauge,
        "Resources of all agents, by resource (Mesos's master/<resource>_total)",
        &[("revocable", "true")]),
    fixed("master/{resource}_revocable_used", "meso_master_resources_used", Gauge,
        "Resources offered or used by tasks, by resource (Mesos's master/<resource>_used)",
        &[("revocable", "true")]),
    fixed("master/{resource}_revocable_percent", "meso_master_resources_used_ratio", Gauge,
        "Used over total, by resource, 0 when the total is 0 (Mesos's master/<resource>_percent)",
        &[("revocable", "true")]),
    fixed("master/{resource:cpus|gpus|mem|disk}_total", "meso_master_resources_capacity", Gauge,
        "", &[("revocable", "false")]),
    fixed("master/{resource:cpus|gpus|mem|disk}_used", "meso_master_resources_used", Gauge,
        "", &[("revocable", "false")]),
    fixed("master/{resource:cpus|gpus|mem|disk}_percent", "meso_master_resources_used_ratio",
        Gauge, "", &[("revocable", "false")]),
    rule("master/slaves_{state}", "meso_master_agents", Gauge,
        "Agents by state: active, inactive, connected, disconnected, unreachable (Mesos's master/slaves_<state>)"),
    rule("master/frameworks_{state}", "meso_master_frameworks", Gauge,
        "Frameworks by state: active, inactive, connected, disconnected"),
    rule("master/outstanding_offers", "meso_master_outstanding_offers", Gauge,
        "Offers sent and not yet answered"),
    rule("master/tasks_{state}", "meso_master_tasks", Gauge,
        "Tasks by state: active tasks in their state now, terminal ones ever ended in it"),
    rule("master/task_{state}/source_{source}/reason_{reason}", "meso_master_task_reasons_total",
        Counter, "Tasks that ended in a state, by the source and reason of their last update \
        (Mesos's master/task_<state>/source_<source>/reason_<reason>)"),
    rule("master/operator_event_stream_subscribers", "meso_master_operator_event_stream_subscribers",
        Gauge, "Live SUBSCRIBE streams of the operator API"),
    rule("master/http_authentication_failures", "meso_master_http_authentication_failures_total",
        Counter, "HTTP requests refused for wrong, malformed or expired credentials"),
    rule("master/authentication_failures", "meso_master_authentication_failures_total",
        Counter, "Agent or driver authentications refused (unknown principal, wrong secret)"),
    rule("master/agent_authentication_failures",
        "meso_master_agent_authentication_failures_total", Counter,
        "Agent registrations refused because the agent did not authenticate"),
    rule("master/framework_authentication_failures",
        "meso_master_framework_authentication_failures_total", Counter,
        "Framework registrations refused: not authenticated, or another principal"),
    rule("master/slave_registrations", "meso_master_agent_registrations_total", Counter,
        "Agents registered for the first time"),
    rule("master/slave_reregistrations", "meso_master_agent_reregistrations_total", Counter,
        "Agents re-registered (after a restart, a broken link or a master failover)"),
    rule("master/raft_term", "meso_master_raft_term", Gauge, "The Raft term this master knows"),
    rule("master/raft_peers", "meso_master_raft_peers", Gauge, "Masters in the Raft group"),
    rule("master/leader_raft_id", "meso_master_leader_raft_id", Gauge,
        "Raft id of the leading master, 0 when none is known"),
    // The replicated registry (Raft log) under every master.
    rule("registrar/raft/ready/{stat}", "meso_registrar_raft_ready_seconds", Summary,
        "Time to handle one Raft ready state (append, fsync, apply)"),
    rule("registrar/raft/proposals", "meso_registrar_raft_proposals_total", Counter,
        "Registry changes proposed to this master's Raft node"),
    rule("registrar/raft/dead_leader_campaigns", "meso_registrar_raft_dead_leader_campaigns_total",
        Counter, "Elections started at once because the leader's port refused connections"),
    rule("registrar/raft/term", "meso_registrar_raft_term", Gauge, "Current Raft term"),
    rule("registrar/raft/leader_id", "meso_registrar_raft_leader_id", Gauge,
        "Raft id of the known leader, 0 when none"),
    rule("registrar/raft/is_leader", "meso_registrar_raft_is_leader", Gauge,
        "1 while this master's Raft node leads"),
    rule("registrar/raft/commit_index", "meso_registrar_raft_commit_index", Gauge,
        "Highest log index known committed"),
    rule("registrar/raft/applied_index", "meso_registrar_raft_applied_index", Gauge,
        "Highest log index applied to the registry"),
    rule("registrar/raft/apply_lag", "meso_registrar_raft_apply_lag", Gauge,
        "Committed entries not yet applied (commit index minus applied index)"),
    rule("registrar/raft/log_entries", "meso_registrar_raft_log_entries", Gauge,
        "Entries held after the latest snapshot"),
    rule("registrar/raft/log_bytes", "meso_registrar_raft_log_bytes", Gauge,
        "Bytes of the entries held after the latest snapshot"),
    rule("registrar/raft/snapshot_index", "meso_registrar_raft_snapshot_index", Gauge,
        "Index of the latest snapshot"),
    // The allocator (Mesos's allocator/mesos/*).
    rule("allocator/mesos/allocation_runs", "meso_allocator_allocation_runs_total", Counter,
        "Allocation rounds run"),
    rule("allocator/mesos/allocation_run_ms/{stat}", "meso_allocator_allocation_run_seconds",
        Summary, "Time one allocation round takes"),
    rule("allocator/mesos/resources/{resource}/total", "meso_allocator_resources_capacity", Gauge,
        "Resources of all agents the allocator knows, by resource"),
    rule("allocator/mesos/resources/{resource}/offered_or_allocated",
        "meso_allocator_resources_offered_or_allocated", Gauge,
        "Resources offered or allocated, by resource"),
    rule("allocator/mesos/offer_filters/roles/{role}/active",
        "meso_allocator_offer_filters_active", Gauge,
        "Live offer filters (declines with refuse_seconds) of frameworks in the role"),
    rule("allocator/mesos/roles/{role}/shares/dominant", "meso_allocator_role_shares_dominant",
        Gauge, "The role's dominant share, what DRF orders roles by"),
    rule("allocator/mesos/roles/{role}/resources/{resource}/{what}", "meso_allocator_role_{what}",
        Gauge, "Per role and resource: {what}"),
    rule("allocator/mesos/roles/{role}/{what}", "meso_allocator_role_{what}", Gauge,
        "Per role: {what}"),
    rule("allocator/mesos/quota/roles/{role}/resources/{resource}/{what}",
        "meso_allocator_quota_{what}", Gauge, "Quota per role and resource: {what}"),
    rule("allocator/mesos/quota/roles/{role}/{what}", "meso_allocator_quota_{what}", Gauge,
        "Quota per role: {what}"),
    // The agent.
    rule("slave/registered", "meso_agent_registered", Gauge,
        "1 while the agent is registered with a master"),
    rule("slave/uptime_secs", "meso_agent_uptime_seconds", Gauge,
        "Seconds since the agent started"),
    rule("slave/{resource}_total", "meso_agent_resources_capacity", Gauge,
        "The agent's resources, by resource (Mesos's slave/<resource>_total)"),
    rule("slave/{resource}_used", "meso_agent_resources_used", Gauge,
        "Resources used by executors and unfinished tasks, by resource"),
    rule("slave/{resource}_percent", "meso_agent_resources_used_ratio", Gauge,
        "Used over total, by resource, 0 when the total is 0"),
    rule("slave/tasks_{state}", "meso_agent_tasks", Gauge, "The agent's tasks by state"),
    rule("slave/executors_{state}", "meso_agent_executors", Gauge,
        "The agent's executors by state: registering, running, terminating, terminated"),
    rule("slave/frameworks_active", "meso_agent_frameworks_active", Gauge,
        "Frameworks with executors on the agent"),
    rule("slave/recovery_errors", "meso_agent_recovery_errors", Gauge,
        "Errors met recovering the previous run's checkpoint"),
    fixed("slave/valid_status_updates", "meso_agent_status_updates_total", Counter,
        "Executor status updates taken (valid=true) or refused (valid=false)",
        &[("valid", "true")]),
    fixed("slave/invalid_status_updates", "meso_agent_status_updates_total", Counter, "",
        &[("valid", "false")]),
    fixed("slave/valid_framework_messages", "meso_agent_framework_messages_total", Counter,
        "Framework messages delivered to an executor (valid=true) or not (valid=false)",
        &[("valid", "true")]),
    fixed("slave/invalid_framework_messages", "meso_agent_framework_messages_total", Counter, "",
        &[("valid", "false")]),
    rule("slave/http_authentication_failures", "meso_agent_http_authentication_failures_total",
        Counter, "HTTP requests refused for wrong, malformed or expired credentials"),
];

/// The family of keys no rule matches.
pub const UNMAPPED_FAMILY: &str = "meso_unmapped";

/// One key's place in the text: family, type, HELP, labels, the suffix after the family
/// name (`_count` of a summary) and the value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The family.
    pub family: String,
    /// Its type.
    pub kind: Kind,
    /// Its HELP (empty: another key of the family gives it).
    pub help: Cow<'static, str>,
    /// Labels, in order.
    pub labels: Vec<(String, String)>,
    /// `""`, or `_count` for a summary's count.
    pub suffix: &'static str,
    /// The value (a timer's milliseconds become seconds).
    pub value: f64,
    /// Whether a rule matched (`false`: [`UNMAPPED_FAMILY`]).
    pub mapped: bool,
}

/// The parts of `key` the pattern captures, by name, or `None` when it does not match.
fn captures(pattern: &str, key: &str) -> Option<Vec<(String, String)>> {
    fn go(pattern: &str, key: &str, out: &mut Vec<(String, String)>) -> bool {
        let Some(open) = pattern.find('{') else {
            return pattern == key;
        };
        let (literal, rest) = pattern.split_at(open);
        let Some(key) = key.strip_prefix(literal) else {
            return false;
        };
        let close = rest.find('}').expect("a rule's `{` is closed");
        let spec = &rest[1..close];
        let rest = &rest[close + 1..];
        let (name, words) = match spec.split_once(':') {
            Some((name, words)) => (name, Some(words)),
            None => (spec, None),
        };
        // Shortest first, so a part stops at the first place the rest of the pattern fits.
        for end in 1..=key.len() {
            if !key.is_char_boundary(end) {
                continue;
            }
            let part = &key[..end];
            if name != "role" && part.contains('/') {
                break;
            }
            if words.is_some_and(|w| !w.split('|').any(|w| w == part)) {
                continue;
            }
            out.push((name.to_string(), part.to_string()));
            if go(rest, &key[end..], out) {
                return true;
            }
            out.pop();
        }
        false
    }
    let mut out = Vec::new();
    go(pattern, key, &mut out).then_some(out)
}

/// `s` with every character outside `[a-zA-Z0-9_]` as `_`.
fn metric_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `template` with each `{part}` filled from `parts` (made a valid name part when
/// `name_safe`), and the names of the parts it used.
fn fill(template: &str, parts: &[(String, String)], name_safe: bool) -> (String, Vec<String>) {
    let mut out = template.to_string();
    let mut used = Vec::new();
    for (name, value) in parts {
        let hole = format!("{{{name}}}");
        if out.contains(&hole) {
            let v = if name_safe {
                metric_name(value)
            } else {
                value.clone()
            };
            out = out.replace(&hole, &v);
            used.push(name.clone());
        }
    }
    (out, used)
}

/// Where `key` with `value` goes in the text (never fails: see [`UNMAPPED_FAMILY`]).
pub fn sample(key: &str, value: f64) -> Sample {
    for rule in RULES {
        let Some(parts) = captures(rule.key, key) else {
            continue;
        };
        let (family, used) = fill(rule.family, &parts, true);
        let (help, _) = fill(rule.help, &parts, false);
        let mut labels: Vec<(String, String)> = Vec::new();
        let (mut suffix, mut value) = ("", value);
        for (name, v) in parts {
            if used.contains(&name) {
                continue;
            }
            if rule.kind == Summary && name == "stat" {
                match TIMER_STATS.iter().find(|(s, _)| *s == v) {
                    Some((_, Some(q))) => {
                        labels.push(("quantile".into(), (*q).into()));
                        value /= 1000.0;
                    }
                    Some((_, None)) => suffix = "_count",
                    None => labels.push(("stat".into(), v)),
                }
                continue;
            }
            labels.push((name, v));
        }
        labels.extend(
            rule.fixed
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        return Sample {
            family,
            kind: rule.kind,
            help: Cow::Owned(help),
            labels,
            suffix,
            value,
            mapped: true,
        };
    }
    Sample {
        family: UNMAPPED_FAMILY.to_string(),
        kind: Gauge,
        help: Cow::Borrowed("A /metrics/snapshot key that has no family of its own"),
        labels: vec![("key".into(), key.to_string())],
        suffix: "",
        value,
        mapped: false,
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A value as Prometheus writes it (`NaN`, `+Inf`, `-Inf`, else Rust's shortest form).
fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// The whole snapshot as Prometheus text: each family once, with its `# HELP` and
/// `# TYPE`, then its samples.
pub fn render(snapshot: &BTreeMap<String, f64>) -> String {
    struct Family {
        kind: Kind,
        help: String,
        lines: Vec<String>,
    }
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for (key, value) in snapshot {
        let s = sample(key, *value);
        let family = families.entry(s.family.clone()).or_insert_with(|| Family {
            kind: s.kind,
            help: String::new(),
            lines: Vec::new(),
        });
        if family.help.is_empty() {
            family.help = s.help.replace('\\', "\\\\").replace('\n', "\\n");
        }
        let mut line = format!("{}{}", s.family, s.suffix);
        if !s.labels.is_empty() {
            line.push('{');
            for (i, (k, v)) in s.labels.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                line.push_str(k);
                line.push_str("=\"");
                escape_label(&mut line, v);
                line.push('"');
            }
            line.push('}');
        }
        line.push(' ');
        write_value(&mut line, s.value);
        family.lines.push(line);
    }
    let mut out = String::new();
    for (name, f) in families {
        let _ = writeln!(out, "# HELP {name} {}", f.help);
        let _ = writeln!(out, "# TYPE {name} {}", f.kind.as_str());
        for line in f.lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests;
