//! Duration strings as Mesos writes them (stout units): `5secs`, `1mins`, `250ms`, `2hrs`;
//! also the short forms `s`, `m`, `h`, `d`. Used by the agent's flags and by the executor
//! for `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.

use std::time::Duration;

/// Parses `<number><unit>`; the number may have a fraction. The error says what was wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("'{text}' has no unit (e.g. 5secs, 250ms, 1mins)"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{number}' in '{text}' is not a number"))?;
    let unit_secs = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" | "secs" | "sec" => 1.0,
        "m" | "mins" | "min" => 60.0,
        "h" | "hrs" | "hr" => 3600.0,
        "d" | "days" | "day" => 86400.0,
        "weeks" | "week" => 604800.0,
        other => return Err(format!("unknown unit '{other}' in '{text}'")),
    };
    let secs = value * unit_secs;
    if !secs.is_finite() || secs > 1e12 {
        return Err(format!("'{text}' is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Writes a duration the way Mesos does in environment variables (`5secs`, `250ms`).
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
    fn stout_units_parse() {
        assert_eq!(parse_duration("5secs"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1mins"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2hrs"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(
            parse_duration("x5s").unwrap_err().contains("no unit")
                || parse_duration("x5s").is_err()
        );
        assert!(parse_duration("..s").unwrap_err().contains("not a number"));
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
