//! Durations in Mesos's notation (stout units), shared by every flag and by the executor
//! environment: a number, optionally with a fraction, then a unit: `ns`, `us`, `ms`,
//! `secs`/`sec`/`s`, `mins`/`min`/`m`, `hrs`/`hr`/`h`, `days`/`day`/`d`, `weeks`/`week`/`w`
//! (`15secs`, `500ms`, `1.5mins`). As in Mesos, the unit is required: a bare `5` is refused
//! rather than guessed. Values over about 31,000 years are refused rather than saturated.

use std::time::Duration;

/// The longest duration accepted, in seconds (1e12 s): far beyond any timeout, well inside
/// `Duration`'s range.
const MAX_SECS: f64 = 1e12;

/// Parses a duration; the error names the value and what was wrong with it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        format!(
            "'{text}' is not a duration: '{number}' is not a number (e.g. 15secs, 500ms, 2mins)"
        )
    })?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "" => return Err(format!("'{text}' has no unit (e.g. 15secs, 500ms, 2mins)")),
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        "w" | "week" | "weeks" => 604800.0,
        other => {
            return Err(format!(
            "'{text}': unknown duration unit '{other}' (ns, us, ms, secs, mins, hrs, days, weeks)"
        ))
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > MAX_SECS {
        return Err(format!("'{text}' is too long (at most {MAX_SECS} seconds)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Writes a duration as Mesos does in environment variables (`5secs`, `250ms`, `7ns`);
/// [`parse_duration`] reads it back exactly.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}secs", d.as_secs())
    } else if d.as_nanos() % 1_000_000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}ns", d.as_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_units_parse() {
        assert_eq!(parse_duration("15secs"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2mins"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2hrs"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1weeks"), Ok(Duration::from_secs(604800)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("fast").unwrap_err().contains("not a number"));
        assert!(parse_duration("..s").unwrap_err().contains("not a number"));
        assert!(parse_duration("5parsecs")
            .unwrap_err()
            .contains("unknown duration unit 'parsecs'"));
        assert!(parse_duration("99999999999999weeks")
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn format_round_trips() {
        for d in [
            Duration::from_secs(5),
            Duration::from_millis(250),
            Duration::from_nanos(7),
        ] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
