//! Payloads of the master's maintenance and draining calls (v1 operator API,
//! `maintenance/maintenance.proto` and `master.proto`): UPDATE_MAINTENANCE_SCHEDULE's
//! `Schedule` (also the body of the legacy `/maintenance/schedule`), START_MAINTENANCE and
//! STOP_MAINTENANCE's machine lists (the legacy `/machine/down` and `/machine/up` take the
//! bare array), the `ClusterStatus` answer, and DRAIN_AGENT, DEACTIVATE_AGENT and
//! REACTIVATE_AGENT. Only the JSON shapes live here; the master checks the values (machines
//! listed once, DOWN machines kept, known agents) and answers with Mesos's reasons.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::json::opt_lenient;
use crate::v1::{AgentId, FrameworkId, TimeInfo, Unavailability};

/// A machine (`MachineID`): hostname and/or IP.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MachineId {
    /// Hostname (compared ignoring case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// A maintenance window (`maintenance.Window`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The machines (required non-empty by validation).
    #[serde(default)]
    pub machine_ids: Vec<MachineId>,
    /// When they are unavailable (required).
    pub unavailability: Unavailability,
}

/// The maintenance schedule (`maintenance.Schedule`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schedule {
    /// Windows; empty cancels all maintenance that is not DOWN.
    #[serde(default)]
    pub windows: Vec<Window>,
}

/// UPDATE_MAINTENANCE_SCHEDULE payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateMaintenanceSchedule {
    /// The new schedule (required).
    pub schedule: Schedule,
}

/// START_MAINTENANCE and STOP_MAINTENANCE payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Machines {
    /// The machines.
    #[serde(default)]
    pub machines: Vec<MachineId>,
}

/// A framework's answer to the inverse offers of a machine (`InverseOfferStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InverseOfferStatus {
    /// `UNKNOWN` (no answer yet), `ACCEPT` or `DECLINE`.
    pub status: String,
    /// The framework.
    pub framework_id: FrameworkId,
    /// When it answered (or was asked).
    pub timestamp: TimeInfo,
}

/// A DRAINING machine and its frameworks' answers (`ClusterStatus.DrainingMachine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainingMachine {
    /// The machine.
    pub id: MachineId,
    /// One per framework asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<InverseOfferStatus>,
}

/// The machines in maintenance (`maintenance.ClusterStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// Scheduled machines not yet DOWN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draining_machines: Vec<DrainingMachine>,
    /// DOWN machines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub down_machines: Vec<MachineId>,
}

/// A `google.protobuf.Duration`: read as `{"seconds": s, "nanos": n}`, as a proto3 JSON
/// string (`"1.5s"`) or in Mesos's notation (`"10mins"`); written as the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoDuration {
    /// The length in nanoseconds (negative when the input was).
    pub nanoseconds: i64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProtoDurationRepr {
    Text(String),
    Object {
        #[serde(default, deserialize_with = "opt_lenient")]
        seconds: Option<i64>,
        #[serde(default, deserialize_with = "opt_lenient")]
        nanos: Option<i64>,
    },
}

impl<'de> Deserialize<'de> for ProtoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let nanoseconds = match ProtoDurationRepr::deserialize(d)? {
            ProtoDurationRepr::Object { seconds, nanos } => seconds
                .unwrap_or(0)
                .checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(nanos.unwrap_or(0)))
                .ok_or_else(|| serde::de::Error::custom("duration out of range"))?,
            ProtoDurationRepr::Text(text) => {
                let (negative, body) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text.as_str()),
                };
                let d = crate::duration::parse_duration(body).map_err(serde::de::Error::custom)?;
                let ns = i64::try_from(d.as_nanos())
                    .map_err(|_| serde::de::Error::custom("duration out of range"))?;
                if negative {
                    -ns
                } else {
                    ns
                }
            }
        };
        Ok(ProtoDuration { nanoseconds })
    }
}

impl Serialize for ProtoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let seconds = self.nanoseconds / 1_000_000_000;
        let nanos = self.nanoseconds % 1_000_000_000;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("seconds", &seconds)?;
        if nanos != 0 {
            map.serialize_entry("nanos", &nanos)?;
        }
        map.end()
    }
}

/// DRAIN_AGENT payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainAgent {
    /// The agent (required).
    pub agent_id: AgentId,
    /// The longest kill grace period its tasks get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grace_period: Option<ProtoDuration>,
    /// Mark the agent gone once drained.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub mark_gone: Option<bool>,
}

/// DEACTIVATE_AGENT and REACTIVATE_AGENT payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    /// The agent (required).
    pub agent_id: AgentId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_schedule_parses() {
        let body = r#"{"windows":[{"machine_ids":[{"hostname":"machine1","ip":"10.0.0.1"}],
            "unavailability":{"start":{"nanoseconds":1443830400000000000},
            "duration":{"nanoseconds":3600000000000}}}]}"#;
        let s: Schedule = serde_json::from_str(body).unwrap();
        assert_eq!(s.windows[0].machine_ids[0].ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(
            s.windows[0].unavailability.duration.map(|d| d.nanoseconds),
            Some(3_600_000_000_000)
        );
    }

    #[test]
    fn grace_periods_read_in_each_notation() {
        for (text, ns) in [
            (r#"{"seconds":10}"#, 10_000_000_000),
            (r#"{"seconds":"1","nanos":5}"#, 1_000_000_005),
            (r#""1.5s""#, 1_500_000_000),
            (r#""10mins""#, 600_000_000_000),
            (r#""-2s""#, -2_000_000_000),
        ] {
            let d: ProtoDuration = serde_json::from_str(text).unwrap();
            assert_eq!(d.nanoseconds, ns, "{text}");
        }
        assert!(serde_json::from_str::<ProtoDuration>(r#""soon""#).is_err());
        let d = ProtoDuration {
            nanoseconds: 1_500_000_000,
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"seconds":1,"nanos":500000000}"#
        );
    }
}
