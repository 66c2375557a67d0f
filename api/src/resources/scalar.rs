//! Fixed-point scalars with three decimal places, as Mesos compares them.
//!
//! A [`Scalar`] holds an integer count of thousandths ("milli-units"), so arithmetic is exact:
//! `0.1 + 0.2 - 0.3 == 0`. Conversion from a double rounds to the nearest thousandth, like
//! Mesos's `convertToFixed`. Invariant: none beyond the `i64` range; resources refuse negative
//! scalars at their boundaries (parsing, decoding) rather than here, because intermediate
//! differences (e.g. in an allocator) may legitimately be negative.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use crate::error::{Error, Result};

/// Thousandths per unit.
pub const MILLI_PER_UNIT: i64 = 1000;

/// A fixed-point number with three decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Scalar(i64);

impl Scalar {
    /// Zero.
    pub const ZERO: Scalar = Scalar(0);

    /// From a count of thousandths.
    pub const fn from_milli(milli: i64) -> Self {
        Scalar(milli)
    }

    /// From a whole number of units.
    pub const fn from_units(units: i64) -> Self {
        Scalar(units.saturating_mul(MILLI_PER_UNIT))
    }

    /// From a double, rounded to the nearest thousandth. Refuses NaN, infinities, negatives,
    /// subnormals and magnitudes past the representable range; the error names the value.
    pub fn from_f64(value: f64) -> Result<Self> {
        let fail = |reason: &str| Error::BadScalar {
            token: value.to_string(),
            reason: reason.to_string(),
        };
        if value.is_nan() {
            return Err(fail("not a number"));
        }
        if value.is_infinite() {
            return Err(fail("infinite"));
        }
        if value < 0.0 {
            return Err(fail("negative"));
        }
        if value != 0.0 && !value.is_normal() {
            return Err(fail("subnormal"));
        }
        let milli = (value * MILLI_PER_UNIT as f64).round();
        // i64::MAX as f64 rounds up to 2^63, so `>=` keeps the cast below in range.
        if milli >= i64::MAX as f64 {
            return Err(fail("too large"));
        }
        Ok(Scalar(milli as i64))
    }

    /// Parses the text form used by `--resources` (`24`, `0.5`, `1e3`).
    pub fn parse(text: &str) -> Result<Self> {
        let value: f64 = text.trim().parse().map_err(|_| Error::BadScalar {
            token: text.to_string(),
            reason: "not a number".into(),
        })?;
        // Rust accepts "inf" and "NaN" as floats; Mesos's resources do not.
        Scalar::from_f64(value).map_err(|e| match e {
            Error::BadScalar { reason, .. } => Error::BadScalar {
                token: text.to_string(),
                reason,
            },
            other => other,
        })
    }

    /// The count of thousandths.
    pub const fn milli(self) -> i64 {
        self.0
    }

    /// As a double (exact for every value a user would write).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / MILLI_PER_UNIT as f64
    }

    /// True when zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True when strictly positive.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Scalar) -> Option<Scalar> {
        self.0.checked_add(other.0).map(Scalar)
    }

    /// Difference, or `None` on overflow.
    pub fn checked_sub(self, other: Scalar) -> Option<Scalar> {
        self.0.checked_sub(other.0).map(Scalar)
    }

    /// Difference clamped at zero from below (the Mesos `Resources` subtraction policy).
    pub fn saturating_sub_to_zero(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(other.0).max(0))
    }
}

impl Add for Scalar {
    type Output = Scalar;
    /// Saturates at the `i64` bounds instead of wrapping.
    fn add(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_add(other.0))
    }
}

impl AddAssign for Scalar {
    fn add_assign(&mut self, other: Scalar) {
        *self = *self + other;
    }
}

impl Sub for Scalar {
    type Output = Scalar;
    /// Saturates at the `i64` bounds instead of wrapping; may be negative.
    fn sub(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(other.0))
    }
}

impl SubAssign for Scalar {
    fn sub_assign(&mut self, other: Scalar) {
        *self = *self - other;
    }
}

impl Neg for Scalar {
    type Output = Scalar;
    fn neg(self) -> Scalar {
        Scalar(self.0.saturating_neg())
    }
}

impl fmt::Display for Scalar {
    /// Whole units, then at most three decimals with trailing zeros dropped: `24`, `0.5`,
    /// `1.125`. Parsing the output gives back the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / MILLI_PER_UNIT as u64;
        let frac = abs % MILLI_PER_UNIT as u64;
        if frac == 0 {
            write!(f, "{sign}{units}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn point_one_plus_point_two_minus_point_three_is_exactly_zero() {
        let s = |v| Scalar::from_f64(v).expect("valid literal");
        assert_eq!(s(0.1) + s(0.2) - s(0.3), Scalar::ZERO);
    }

    #[test]
    fn rounds_to_three_decimals() {
        assert_eq!(Scalar::from_f64(0.0004).unwrap(), Scalar::ZERO);
        assert_eq!(Scalar::from_f64(0.0005).unwrap(), Scalar::from_milli(1));
        assert_eq!(Scalar::from_f64(1.2345).unwrap().to_string(), "1.235");
    }

    #[test]
    fn displays_without_trailing_zeros() {
        assert_eq!(Scalar::from_units(24).to_string(), "24");
        assert_eq!(Scalar::from_milli(500).to_string(), "0.5");
        assert_eq!(Scalar::from_milli(1125).to_string(), "1.125");
        assert_eq!(Scalar::from_milli(-1500).to_string(), "-1.5");
    }

    #[test]
    fn refuses_bad_text_naming_it() {
        for text in ["-1", "abc", "NaN", "inf", "-inf", "1e400", "1e-320", ""] {
            let err = Scalar::parse(text).expect_err(text);
            assert!(
                matches!(&err, Error::BadScalar { token, .. } if token == text),
                "{text}: {err}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn display_parse_round_trips(milli in 0i64..1_000_000_000_000) {
            let s = Scalar::from_milli(milli);
            prop_assert_eq!(Scalar::parse(&s.to_string()).unwrap(), s);
        }
    }
}
