//! A general check's decisions, as Mesos's checker makes them: the first check runs
//! `delay_seconds` after the checker starts, each next one `interval_seconds` after the
//! previous one ended, and a result is reported only when it differs from the last one
//! reported (a check that could not run or timed out gives the empty result of its kind).
//! Time is a `Duration` since an origin the caller picks; nothing here reads a clock.

use std::time::Duration;

use meso_api::v1::{CheckInfo, CheckStatusInfo, CheckType};

use crate::health::seconds;

/// One task's general check state.
#[derive(Debug, Clone)]
pub struct CheckCore {
    kind: CheckType,
    interval: Duration,
    timeout: Duration,
    last: CheckStatusInfo,
    next_at: Duration,
}

impl CheckCore {
    /// A checker for `check` started at `now`. `None` for a check of no known kind (the
    /// master refuses those).
    pub fn new(check: &CheckInfo, now: Duration) -> Option<Self> {
        let kind = check.kind.filter(|k| *k != CheckType::Unknown)?;
        Some(CheckCore {
            kind,
            interval: seconds(check.interval_seconds),
            timeout: seconds(check.timeout_seconds),
            last: CheckStatusInfo::empty(kind),
            next_at: now.saturating_add(seconds(check.delay_seconds)),
        })
    }

    /// The check's kind.
    pub fn kind(&self) -> CheckType {
        self.kind
    }

    /// How long one check may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// When the next check is due.
    pub fn next_check_at(&self) -> Duration {
        self.next_at
    }

    /// The last result reported (empty before the first).
    pub fn last(&self) -> &CheckStatusInfo {
        &self.last
    }

    /// Records a result that arrived at `now`; schedules the next check and returns the
    /// result when it changed (what to send in an update).
    pub fn record(&mut self, now: Duration, result: CheckStatusInfo) -> Option<CheckStatusInfo> {
        self.next_at = now.saturating_add(self.interval);
        if result == self.last {
            return None;
        }
        self.last = result.clone();
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::v1::{CheckStatusCommand, CheckTcp};

    fn tcp_check() -> CheckInfo {
        CheckInfo {
            kind: Some(CheckType::Tcp),
            command: None,
            http: None,
            tcp: Some(CheckTcp { port: 1 }),
            delay_seconds: 2.0,
            interval_seconds: 3.0,
            timeout_seconds: 1.0,
        }
    }

    fn exit(code: i32) -> CheckStatusInfo {
        CheckStatusInfo {
            command: Some(CheckStatusCommand {
                exit_code: Some(code),
            }),
            ..CheckStatusInfo::empty(CheckType::Command)
        }
    }

    #[test]
    fn only_changes_are_reported() {
        let mut check = tcp_check();
        check.kind = Some(CheckType::Command);
        let mut core = CheckCore::new(&check, Duration::ZERO).unwrap();
        assert_eq!(core.next_check_at(), Duration::from_secs(2));
        assert_eq!(core.record(Duration::from_secs(2), exit(1)), Some(exit(1)));
        assert_eq!(core.next_check_at(), Duration::from_secs(5));
        assert_eq!(core.record(Duration::from_secs(5), exit(1)), None);
        assert_eq!(core.record(Duration::from_secs(8), exit(0)), Some(exit(0)));
        let empty = CheckStatusInfo::empty(CheckType::Command);
        assert_eq!(
            core.record(Duration::from_secs(9), empty.clone()),
            Some(empty)
        );
    }

    #[test]
    fn an_empty_first_result_is_no_change() {
        let mut core = CheckCore::new(&tcp_check(), Duration::ZERO).unwrap();
        assert_eq!(
            core.record(
                Duration::from_secs(2),
                CheckStatusInfo::empty(CheckType::Tcp)
            ),
            None
        );
        let mut unknown = tcp_check();
        unknown.kind = Some(CheckType::Unknown);
        assert!(CheckCore::new(&unknown, Duration::ZERO).is_none());
    }
}
