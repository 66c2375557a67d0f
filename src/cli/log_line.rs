//! One log record as one line: the slog drain behind every `meso` role that logs.
//!
//! A record becomes `<time> <LEVEL> <message> key=value ...` (`--log-format text`) or one
//! JSON object `{"time":..,"level":..,"msg":..,"module":..,"key":value,..}` (`json`),
//! carrying the record's own key-values first and then its logger's context (`node`,
//! `raft_id`, ...), each key once. Nothing in a record can break the line: newlines and
//! other control characters in the message or a value are escaped. raft-rs logs through the
//! node's logger, so its records come out the same way.
//!
//! Invariant: every call to [`LineDrain::log`] writes exactly one `\n`-terminated line to
//! each sink, in one `write_all`, so lines of concurrent writers never interleave.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::{Arc, Mutex};

use libprocess::slog::{self, Drain, Key, OwnedKVList, Record, Serializer, KV};

/// How a record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `<time> <LEVEL> <message> key=value ...`.
    Text,
    /// One JSON object per line.
    Json,
}

/// A value as the record gave it: numbers and booleans stay typed in JSON.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Raw(String),
}

/// Collects key-values in order, each key once (the first one wins).
#[derive(Default)]
struct Fields(Vec<(String, Val)>);

impl Fields {
    fn push(&mut self, key: &str, val: Val) {
        if !self.0.iter().any(|(k, _)| k == key) {
            self.0.push((key.to_string(), val));
        }
    }
}

macro_rules! emit_raw {
    ($($name:ident: $t:ty),* $(,)?) => {
        $(fn $name(&mut self, key: Key, val: $t) -> slog::Result {
            self.push(key, Val::Raw(val.to_string()));
            Ok(())
        })*
    };
}

impl Serializer for Fields {
    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        self.push(key, Val::Str(val.to_string()));
        Ok(())
    }

    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        self.push(key, Val::Str(val.to_string()));
        Ok(())
    }

    fn emit_f64(&mut self, key: Key, val: f64) -> slog::Result {
        // JSON has no NaN or infinity: those stay strings.
        let v = if val.is_finite() {
            Val::Raw(val.to_string())
        } else {
            Val::Str(val.to_string())
        };
        self.push(key, v);
        Ok(())
    }

    fn emit_f32(&mut self, key: Key, val: f32) -> slog::Result {
        self.emit_f64(key, f64::from(val))
    }

    emit_raw!(
        emit_usize: usize, emit_isize: isize, emit_bool: bool,
        emit_u8: u8, emit_i8: i8, emit_u16: u16, emit_i16: i16,
        emit_u32: u32, emit_i32: i32, emit_u64: u64, emit_i64: i64,
        emit_u128: u128, emit_i128: i128,
    );

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.push(key, Val::Raw("null".into()));
        Ok(())
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.push(key, Val::Raw("null".into()));
        Ok(())
    }
}

/// The record's key-values, then its logger's (the root's first), each key once. slog
/// hands pairs last-first, so each list is reversed into the order they were written in.
fn fields(record: &Record<'_>, values: &OwnedKVList) -> Fields {
    let mut own = Fields::default();
    let _ = record.kv().serialize(record, &mut own);
    let mut context = Fields::default();
    let _ = values.serialize(record, &mut context);
    let mut all = Fields::default();
    for (k, v) in own.0.into_iter().rev().chain(context.0.into_iter().rev()) {
        all.push(&k, v);
    }
    all
}

/// Appends `s` with control characters escaped (`\n`, `\t`, `\u{..}`), so it stays on one
/// line; with `quote`, `"` and `\` are escaped too.
fn push_escaped(out: &mut String, s: &str, quote: bool) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' | '\\' if quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// A text value: bare when it is one plain word, else quoted.
fn push_text_value(out: &mut String, v: &str) {
    let plain = !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=' || c == '\\');
    if plain {
        out.push_str(v);
    } else {
        out.push('"');
        push_escaped(out, v, true);
        out.push('"');
    }
}

/// `2026-12-07T09:44:31.340Z` for milliseconds since the Unix epoch (proleptic Gregorian).
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let ms_of_day = unix_ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

fn level_name(level: slog::Level) -> &'static str {
    match level {
        slog::Level::Critical => "CRIT",
        slog::Level::Error => "ERROR",
        slog::Level::Warning => "WARN",
        slog::Level::Info => "INFO",
        slog::Level::Debug => "DEBUG",
        slog::Level::Trace => "TRACE",
    }
}

/// One record as one line (with its `\n`), at `unix_ms`.
pub fn format_line(
    format: LogFormat,
    unix_ms: i64,
    record: &Record<'_>,
    values: &OwnedKVList,
) -> String {
    let fields = fields(record, values);
    let message = record.msg().to_string();
    let mut out = String::with_capacity(128);
    match format {
        LogFormat::Text => {
            out.push_str(&rfc3339_ms(unix_ms));
            let _ = write!(out, " {:<5} ", level_name(record.level()));
            push_escaped(&mut out, &message, false);
            for (k, v) in &fields.0 {
                out.push(' ');
                push_escaped(&mut out, k, false);
                out.push('=');
                match v {
                    Val::Str(s) | Val::Raw(s) => push_text_value(&mut out, s),
                }
            }
        }
        LogFormat::Json => {
            // Written by hand, not through a `serde_json::Map`, so that the fixed fields
            // come first in every line (the map sorts its keys).
            let string = |s: &str| serde_json::Value::from(s).to_string();
            let _ = write!(
                out,
                "{{\"time\":\"{}\",\"level\":\"{}\",\"msg\":{},\"module\":{}",
                rfc3339_ms(unix_ms),
                level_name(record.level()),
                string(&message),
                string(record.module())
            );
            let mut taken: Vec<String> =
                ["time", "level", "msg", "module"].map(String::from).into();
            for (k, v) in fields.0 {
                // A key-value named like a fixed field keeps its value under `<key>_`.
                let mut key = k;
                while taken.contains(&key) {
                    key.push('_');
                }
                let value = match v {
                    Val::Str(s) => string(&s),
                    Val::Raw(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                        Ok(_) => s,
                        Err(_) => string(&s),
                    },
                };
                let _ = write!(out, ",{}:{value}", string(&key));
                taken.push(key);
            }
            out.push('}');
        }
    }
    out.push('\n');
    out
}

/// Where lines go: each sink gets every line (a std mutex: slog wants its drains unwind
/// safe, and a poisoned sink is still written to).
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// The drain: formats each record as one line and writes it to every sink. Errors of a sink
/// are ignored (a full disk must not stop the master); the line still reaches the others.
pub struct LineDrain {
    format: LogFormat,
    sinks: Vec<Sink>,
    now_ms: fn() -> i64,
}

fn system_now_ms() -> i64 {
    i64::try_from(libprocess::unix_ms(std::time::SystemTime::now())).unwrap_or(i64::MAX)
}

impl LineDrain {
    /// A drain writing `format` lines to `sinks`, stamped with the system's wall clock.
    pub fn new(format: LogFormat, sinks: Vec<Sink>) -> Self {
        LineDrain {
            format,
            sinks,
            now_ms: system_now_ms,
        }
    }
}

impl Drain for LineDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        let line = format_line(self.format, (self.now_ms)(), record, values);
        for sink in &self.sinks {
            let _ = sink
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(line.as_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libprocess::slog::{info, o, Logger};

    /// A logger writing `format` lines into a buffer, with a fixed time.
    fn capture(format: LogFormat) -> (Logger, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink: Sink = buf.clone();
        let drain = LineDrain {
            format,
            sinks: vec![sink],
            now_ms: || 1_796_636_671_340,
        };
        (Logger::root(drain, o!("node" => "127.0.0.1:5050")), buf)
    }

    fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8(buf.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_record_with_key_values_and_context_is_one_text_line() {
        let (log, buf) = capture(LogFormat::Text);
        let child = log.new(o!("raft_id" => 2u64));
        info!(child, "agent registered"; "agent" => "S0", "tasks" => 3, "why" => "two words\nand a line");
        assert_eq!(
            text(&buf),
            "2026-12-07T09:44:31.340Z INFO  agent registered agent=S0 tasks=3 \
             why=\"two words\\nand a line\" node=127.0.0.1:5050 raft_id=2\n"
        );
    }

    #[test]
    fn a_record_is_one_json_object_with_typed_values() {
        let (log, buf) = capture(LogFormat::Json);
        info!(log.new(o!("raft_id" => 2u64)), "became leader\nat term 5";
            "term" => 5u64, "ok" => true, "share" => 0.5, "name" => %"a \"b\"", "msg" => "kv");
        let out = text(&buf);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["time"], "2026-12-07T09:44:31.340Z");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["msg"], "became leader\nat term 5");
        assert_eq!(v["msg_"], "kv");
        assert_eq!(v["term"], 5);
        assert_eq!(v["ok"], true);
        assert_eq!(v["share"], 0.5);
        assert_eq!(v["name"], "a \"b\"");
        assert_eq!(v["raft_id"], 2);
        assert_eq!(v["node"], "127.0.0.1:5050");
        assert!(
            out.starts_with("{\"time\":\"2026-12-07T09:44:31.340Z\",\"level\":\"INFO\",\"msg\":"),
            "{out}"
        );
        assert!(v["module"].as_str().unwrap().contains("log_line"), "{v}");
    }

    #[test]
    fn a_key_in_both_the_record_and_its_context_appears_once() {
        let (log, buf) = capture(LogFormat::Text);
        info!(log.new(o!("raft_id" => 1u64)), "m"; "raft_id" => 1u64);
        assert_eq!(
            text(&buf),
            "2026-12-07T09:44:31.340Z INFO  m raft_id=1 node=127.0.0.1:5050\n"
        );
    }

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(1_796_636_671_340), "2026-12-07T09:44:31.340Z");
    }

    proptest::proptest! {
        /// Whatever the message and values, a text record is one line and a JSON record
        /// one object that gives them back.
        #[test]
        fn any_record_is_one_line(msg in "\\PC*|.*\n.*", value in ".*", ctl in "[\\x00-\\x1f]*") {
            for format in [LogFormat::Text, LogFormat::Json] {
                let (log, buf) = capture(format);
                let v = format!("{value}{ctl}");
                info!(log, "{}", msg; "k" => &v);
                let out = text(&buf);
                proptest::prop_assert_eq!(out.matches('\n').count(), 1);
                proptest::prop_assert!(out.ends_with('\n'));
                if format == LogFormat::Json {
                    let j: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
                    proptest::prop_assert_eq!(j["msg"].as_str().unwrap(), msg.as_str());
                    proptest::prop_assert_eq!(j["k"].as_str().unwrap(), v.as_str());
                }
            }
        }
    }
}
