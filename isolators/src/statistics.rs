//! Per-container usage statistics, with Mesos's `ResourceStatistics` field names so the
//! agent can serve them unchanged from `/monitor/statistics` and GET_CONTAINERS.
//!
//! Each isolator fills the fields it knows; [`ResourceStatistics::merge`] combines them
//! (a field already set is kept, so order the isolators from most to least precise).

use serde::Serialize;

/// Usage of one container. `None` fields are omitted from JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceStatistics {
    /// Seconds since the epoch when the figures were taken.
    pub timestamp: f64,
    /// CPU time spent in user mode, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_user_time_secs: Option<f64>,
    /// CPU time spent in kernel mode, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_system_time_secs: Option<f64>,
    /// The cpus the container is limited (or weighted) to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_limit: Option<f64>,
    /// CFS periods in which the container was throttled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_throttled: Option<u64>,
    /// Resident memory, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_rss_bytes: Option<u64>,
    /// The memory limit, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit_bytes: Option<u64>,
    /// Bytes used in the sandbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_used_bytes: Option<u64>,
    /// The disk limit, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_limit_bytes: Option<u64>,
    /// Processes in the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
}

impl ResourceStatistics {
    /// Statistics with only a timestamp.
    pub fn at(timestamp: f64) -> Self {
        ResourceStatistics {
            timestamp,
            ..Default::default()
        }
    }

    /// Fills every field of `self` that is `None` from `other`; the later timestamp wins.
    pub fn merge(&mut self, other: &ResourceStatistics) {
        fn fill<T: Copy>(mine: &mut Option<T>, theirs: Option<T>) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        self.timestamp = self.timestamp.max(other.timestamp);
        fill(&mut self.cpus_user_time_secs, other.cpus_user_time_secs);
        fill(&mut self.cpus_system_time_secs, other.cpus_system_time_secs);
        fill(&mut self.cpus_limit, other.cpus_limit);
        fill(&mut self.cpus_nr_throttled, other.cpus_nr_throttled);
        fill(&mut self.mem_rss_bytes, other.mem_rss_bytes);
        fill(&mut self.mem_limit_bytes, other.mem_limit_bytes);
        fill(&mut self.disk_used_bytes, other.disk_used_bytes);
        fill(&mut self.disk_limit_bytes, other.disk_limit_bytes);
        fill(&mut self.processes, other.processes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_first_and_fills_gaps() {
        let mut a = ResourceStatistics {
            timestamp: 1.0,
            mem_rss_bytes: Some(10),
            ..Default::default()
        };
        let b = ResourceStatistics {
            timestamp: 2.0,
            mem_rss_bytes: Some(20),
            processes: Some(3),
            ..Default::default()
        };
        a.merge(&b);
        assert_eq!(a.mem_rss_bytes, Some(10));
        assert_eq!(a.processes, Some(3));
        assert_eq!(a.timestamp, 2.0);
    }

    #[test]
    fn json_uses_mesos_names_and_omits_unknowns() {
        let s = ResourceStatistics {
            timestamp: 5.0,
            cpus_nr_throttled: Some(7),
            ..Default::default()
        };
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["cpus_nr_throttled"], 7);
        assert!(j.get("mem_rss_bytes").is_none());
    }
}
