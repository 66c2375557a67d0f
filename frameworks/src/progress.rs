//! Progress of a framework's tasks for the person who started it. On a terminal: a bar
//! redrawn in place on stderr (tasks done, running, failed, and an ETA from the pace so
//! far), with the lines worth keeping (failures) printed above it. Not on a terminal: one
//! plain line per event on stdout, prefixed by the counts, and no control sequences.
//!
//! The caller says how long the work has been running, so nothing here reads a clock;
//! [`Progress::render`] is pure and [`Progress::show`] writes what it renders.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::tasks::Summary;

/// Width of the bar in characters.
pub const BAR_WIDTH: usize = 30;

/// Erases the current terminal line.
const CLEAR: &str = "\r\x1b[K";

/// The progress display (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    bar: bool,
}

impl Progress {
    /// A bar when `bar`, plain lines otherwise.
    pub fn new(bar: bool) -> Progress {
        Progress { bar }
    }

    /// A bar when stderr is a terminal.
    pub fn for_stderr() -> Progress {
        Progress::new(std::io::stderr().is_terminal())
    }

    /// What to write for the event `line` (if any; on a terminal only a `keep` line is
    /// printed) with the counts `s`, `elapsed` into the work: (stdout, stderr).
    ///
    /// ```
    /// use std::time::Duration;
    /// use meso_frameworks::progress::Progress;
    /// use meso_frameworks::tasks::Summary;
    ///
    /// let s = Summary { total: 4, finished: 1, running: 2, ..Summary::default() };
    /// let (out, err) = Progress::new(false).render(Some("a-0 finished"), false, &s, Duration::ZERO);
    /// assert_eq!(out, "[1/4 done, 2 running, 0 failed] a-0 finished\n");
    /// assert!(err.is_empty());
    /// let (out, err) = Progress::new(true).render(None, false, &s, Duration::from_secs(10));
    /// assert!(out.is_empty());
    /// assert!(err.ends_with("] 1/4 done, 2 running, 0 failed, ETA 30s"), "{err}");
    /// ```
    pub fn render(
        &self,
        line: Option<&str>,
        keep: bool,
        s: &Summary,
        elapsed: Duration,
    ) -> (String, String) {
        let counts = format!(
            "{}/{} done, {} running, {} failed",
            s.finished, s.total, s.running, s.failed
        );
        if !self.bar {
            let out = line.map(|l| format!("[{counts}] {l}\n"));
            return (out.unwrap_or_default(), String::new());
        }
        let ended = s.ended().min(s.total);
        let eta = match ended {
            0 => "?".to_string(),
            n => {
                let left = elapsed.as_secs_f64() / n as f64 * (s.total - n) as f64;
                format!("{left:.0}s")
            }
        };
        let fill = ended * BAR_WIDTH / s.total.max(1);
        let bar = format!("{}{}", "#".repeat(fill), "-".repeat(BAR_WIDTH - fill));
        let kept = line.filter(|_| keep).map(|l| format!("{CLEAR}{l}\n"));
        let err = format!(
            "{}{CLEAR}[{bar}] {counts}, ETA {eta}",
            kept.unwrap_or_default()
        );
        (String::new(), err)
    }

    /// Writes what [`Self::render`] renders.
    pub fn show(&self, line: Option<&str>, keep: bool, s: &Summary, elapsed: Duration) {
        let (out, err) = self.render(line, keep, s, elapsed);
        for (text, mut w) in [
            (out, Box::new(std::io::stdout().lock()) as Box<dyn Write>),
            (err, Box::new(std::io::stderr().lock())),
        ] {
            if !text.is_empty() {
                let _ = w.write_all(text.as_bytes());
                let _ = w.flush();
            }
        }
    }

    /// Ends the bar's line (nothing without a bar).
    pub fn finish(&self) {
        if self.bar {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_ended_tasks_and_keeps_only_kept_lines() {
        let p = Progress::new(true);
        let s = Summary {
            total: 10,
            finished: 4,
            failed: 1,
            skipped: 5,
            ..Summary::default()
        };
        let (out, err) = p.render(Some("x-1 failed for good"), true, &s, Duration::ZERO);
        assert!(out.is_empty());
        assert!(err.starts_with("\r\x1b[Kx-1 failed for good\n"), "{err:?}");
        assert!(
            err.contains(&format!("[{}]", "#".repeat(BAR_WIDTH))),
            "{err:?}"
        );
        assert!(err.ends_with("ETA 0s"), "{err:?}");
        let (_, err) = p.render(
            Some("x-2 finished"),
            false,
            &Summary::default(),
            Duration::ZERO,
        );
        assert!(!err.contains("x-2") && err.ends_with("ETA ?"), "{err:?}");
        let (out, _) = Progress::new(false).render(None, true, &s, Duration::ZERO);
        assert!(out.is_empty(), "no line, nothing to print");
    }
}
