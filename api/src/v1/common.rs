//! Small shared messages: time, duration, address, URL, unavailability.

use serde::{Deserialize, Serialize};

use crate::json::lenient;

/// A point in time, nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeInfo {
    /// Nanoseconds since the epoch.
    #[serde(deserialize_with = "lenient")]
    pub nanoseconds: i64,
}

/// A duration in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DurationInfo {
    /// Nanoseconds.
    #[serde(deserialize_with = "lenient")]
    pub nanoseconds: i64,
}

impl DurationInfo {
    /// From whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        DurationInfo {
            nanoseconds: secs.saturating_mul(1_000_000_000),
        }
    }
}

/// A network address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Address {
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IP address text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Port (required).
    #[serde(deserialize_with = "lenient")]
    pub port: u32,
}

/// A URL (as in Offer.url).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Url {
    /// Scheme, e.g. `http` (required).
    pub scheme: String,
    /// Address (required).
    pub address: Address,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
}

/// A window of planned unavailability (maintenance).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unavailability {
    /// Start (required).
    pub start: TimeInfo,
    /// Length; unset means forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationInfo>,
}
