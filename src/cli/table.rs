//! Plain-text tables for the operator commands, and the cell formats they share (sizes in
//! binary units, times, states without `TASK_`). Pure (strings in, a string out), except
//! [`emit`], which writes to stdout.

use serde_json::Value;

/// Renders `rows` under `headers`, columns padded to their widest cell and separated by
/// two spaces; no trailing spaces. A table with no rows is its header line.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A number of megabytes in binary units (`512 MB`, `1.5 GB`).
pub fn megabytes(mb: f64) -> String {
    if mb >= 1024.0 * 1024.0 {
        format!("{:.1} TB", mb / (1024.0 * 1024.0))
    } else if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else {
        format!("{} MB", trim(mb))
    }
}

/// A number without a useless fraction (`2`, `0.5`).
pub fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `resources[name]` as a number (0 when absent).
pub fn scalar(resources: &Value, name: &str) -> f64 {
    resources[name].as_f64().unwrap_or(0.0)
}

/// `used/total` of cpus, mem or disk.
pub fn used_of(used: &Value, total: &Value, name: &str) -> String {
    let (u, t) = (scalar(used, name), scalar(total, name));
    if name == "cpus" {
        format!("{}/{}", trim(u), trim(t))
    } else {
        format!("{}/{}", megabytes(u), megabytes(t))
    }
}

/// A task state as shown: without `TASK_`.
pub fn short_state(state: &str) -> String {
    state.strip_prefix("TASK_").unwrap_or(state).to_string()
}

/// `value` as text: a string as is, anything else as JSON, missing as `-`.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Seconds since the epoch as UTC `YYYY-MM-DD HH:MM:SS` (`-` for 0 or none).
pub fn utc(secs: f64) -> String {
    if secs <= 0.0 || !secs.is_finite() {
        return "-".into();
    }
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Writes `text` to stdout and flushes; a closed pipe (`meso tasks | head`) ends the
/// process quietly with exit code 0, as a Unix filter does on SIGPIPE.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// `value` as indented JSON and a newline.
pub fn pretty(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("JSON values print");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_align_to_the_widest_cell_without_trailing_spaces() {
        let t = render(
            &["ID", "STATE"],
            &[
                vec!["a".into(), "RUNNING".into()],
                vec!["longer-id".into(), "-".into()],
            ],
        );
        assert_eq!(t, "ID         STATE\na          RUNNING\nlonger-id  -\n");
        assert_eq!(render(&["ID", "X"], &[]), "ID  X\n");
    }

    #[test]
    fn cells_use_binary_units_and_short_states() {
        assert_eq!(megabytes(512.0), "512 MB");
        assert_eq!(megabytes(1536.0), "1.5 GB");
        assert_eq!(trim(0.1), "0.1");
        assert_eq!(trim(2.0), "2");
        assert_eq!(
            used_of(&json!({"cpus": 0.5}), &json!({"cpus": 2}), "cpus"),
            "0.5/2"
        );
        assert_eq!(short_state("TASK_RUNNING"), "RUNNING");
        assert_eq!(text(&json!("")), "-");
        assert_eq!(text(&json!(3)), "3");
    }

    #[test]
    fn times_print_in_utc() {
        assert_eq!(utc(0.0), "-");
        assert_eq!(utc(1_700_000_000.5), "2023-11-14 22:13:20");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00");
    }
}
