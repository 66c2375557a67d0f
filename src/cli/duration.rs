//! Duration flags in Mesos's notation: a number followed by a unit (`ns`, `us`, `ms`,
//! `secs`/`s`, `mins`/`m`, `hrs`/`h`, `days`/`d`, `weeks`/`w`), e.g. `15secs`, `500ms`,
//! `1.5mins`. A bare number is seconds.

use std::time::Duration;

/// Parses a duration flag; the error names the value and the accepted units.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 15secs, 500ms, 2mins)"))?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "" | "s" | "sec" | "secs" => 1.0,
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
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("'{text}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_units_parse() {
        assert_eq!(parse_duration("15secs"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2mins"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5parsecs").is_err());
    }
}
