//! `--recovery-agent-removal-limit` (Mesos's `--recovery_agent_removal_limit`): the largest
//! share of the agents recovered from the registry after a failover that the master may mark
//! unreachable when `--agent-reregister-timeout` fires. Past it the master refuses to remove
//! them and stops (the process exits non-zero), so that a person looks at what took that
//! many agents away (a network partition, a rack failure) before a master acts on it.
//!
//! Pure: parsing and the check; the master calls [`RecoveryRemovalLimit::exceeded`] with its
//! counts. Invariant: the fraction is within [0, 1].

/// The limit as a fraction of the recovered agents (`100%` is 1.0, the default: no limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecoveryRemovalLimit {
    fraction: f64,
}

/// Why a `--recovery-agent-removal-limit` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid recovery agent removal limit {value:?}: {reason} (expected a percentage from 0% to 100%, e.g. 50%)")]
pub struct RemovalLimitError {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Default for RecoveryRemovalLimit {
    fn default() -> Self {
        RecoveryRemovalLimit { fraction: 1.0 }
    }
}

impl RecoveryRemovalLimit {
    /// Parses a percentage such as `100%`, `50%` or `12.5%` (the `%` may be left out), from
    /// 0 to 100.
    pub fn parse(value: &str) -> Result<RecoveryRemovalLimit, RemovalLimitError> {
        let err = |reason: &str| RemovalLimitError {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let number = value.trim();
        let number = number.strip_suffix('%').unwrap_or(number).trim();
        let percent: f64 = number.parse().map_err(|_| err("not a number"))?;
        if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
            return Err(err("not within 0% and 100%"));
        }
        Ok(RecoveryRemovalLimit {
            fraction: percent / 100.0,
        })
    }

    /// The limit as a fraction in [0, 1].
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    /// Whether marking `not_back` of `recovered` agents unreachable goes past the limit
    /// (strictly more than the allowed share, as Mesos: at 100% it never does).
    pub fn exceeded(&self, not_back: usize, recovered: usize) -> bool {
        if recovered == 0 || not_back == 0 {
            return false;
        }
        (not_back as f64) / (recovered as f64) > self.fraction
    }
}

impl std::fmt::Display for RecoveryRemovalLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.fraction * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_percentages() {
        assert_eq!(RecoveryRemovalLimit::parse("100%").unwrap().fraction(), 1.0);
        assert_eq!(RecoveryRemovalLimit::parse("50%").unwrap().fraction(), 0.5);
        assert_eq!(
            RecoveryRemovalLimit::parse("12.5").unwrap().fraction(),
            0.125
        );
        assert_eq!(RecoveryRemovalLimit::parse(" 0% ").unwrap().fraction(), 0.0);
        assert_eq!(RecoveryRemovalLimit::default().fraction(), 1.0);
        assert_eq!(
            RecoveryRemovalLimit::parse("50%").unwrap().to_string(),
            "50%"
        );
    }

    #[test]
    fn refuses_what_is_not_a_percentage() {
        for bad in ["", "%", "abc", "101%", "-1%", "NaN", "inf%", "50%%"] {
            let e = RecoveryRemovalLimit::parse(bad).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(e.to_string().contains("0% to 100%"), "{e}");
        }
    }

    #[test]
    fn the_limit_is_a_strict_share_of_the_recovered() {
        let half = RecoveryRemovalLimit::parse("50%").unwrap();
        assert!(!half.exceeded(5, 10));
        assert!(half.exceeded(6, 10));
        assert!(!half.exceeded(0, 0));
        let none = RecoveryRemovalLimit::parse("0%").unwrap();
        assert!(!none.exceeded(0, 10));
        assert!(none.exceeded(1, 10));
        assert!(!RecoveryRemovalLimit::default().exceeded(10, 10));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn exceeded_agrees_with_whole_number_arithmetic(
            percent in 0u32..=100,
            recovered in 1usize..5_000,
            not_back_seed in 0usize..5_000,
        ) {
            let not_back = not_back_seed % (recovered + 1);
            let limit = RecoveryRemovalLimit::parse(&format!("{percent}%")).unwrap();
            // not_back / recovered > percent / 100  <=>  100 * not_back > percent * recovered
            let expected = 100 * not_back > (percent as usize) * recovered;
            prop_assert_eq!(limit.exceeded(not_back, recovered), expected);
        }
    }
}
