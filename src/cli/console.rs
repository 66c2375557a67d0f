//! What `meso execute` writes while it runs: its own lines, the attached task's output, and
//! on a terminal a spinner line with the task's latest state, redrawn in place. Every
//! write goes through one [`Console`], which clears the spinner before writing, so the
//! spinner never lands in the middle of a line. Not on a terminal there is no spinner and
//! no control sequence: plain lines only.
//!
//! The spinner stops for good once the attached task's output starts (a task's partial
//! line must not be overwritten) and at the end.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// The spinner's frames.
const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// How often the spinner is redrawn.
pub const TICK: Duration = Duration::from_millis(100);

/// The spinner line for frame `n`, `status` and the time waited so far.
pub fn spinner_line(n: usize, status: &str, waited: Duration) -> String {
    format!(
        "\r\x1b[2K{} {status} ({}s)",
        FRAMES[n % FRAMES.len()],
        waited.as_secs()
    )
}

/// Erases the spinner line.
const CLEAR: &str = "\r\x1b[2K";

#[derive(Debug)]
struct State {
    status: String,
    spinning: bool,
    drawn: bool,
    frame: usize,
}

/// The one writer of `meso execute`'s output.
#[derive(Debug)]
pub struct Console {
    tty: bool,
    state: Mutex<State>,
}

impl Console {
    /// A console; `tty` turns the spinner on (stdout is a terminal).
    pub fn new(tty: bool, status: impl Into<String>) -> Self {
        Console {
            tty,
            state: Mutex::new(State {
                status: status.into(),
                spinning: tty,
                drawn: false,
                frame: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clear(&self, state: &mut State, out: &mut impl Write) {
        if state.drawn {
            let _ = out.write_all(CLEAR.as_bytes());
            state.drawn = false;
        }
    }

    /// One line of `meso execute` itself; it also becomes the spinner's status.
    pub fn line(&self, text: &str) {
        let mut state = self.lock();
        let mut out = std::io::stdout().lock();
        self.clear(&mut state, &mut out);
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
        state.status = text.to_string();
    }

    /// Task output for stdout (`to_stderr` false) or stderr; stops the spinner.
    pub fn output(&self, data: &str, to_stderr: bool) {
        if data.is_empty() {
            return;
        }
        let mut state = self.lock();
        {
            let mut out = std::io::stdout().lock();
            self.clear(&mut state, &mut out);
            let _ = out.flush();
        }
        state.spinning = false;
        if to_stderr {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(data.as_bytes());
            let _ = err.flush();
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(data.as_bytes());
            let _ = out.flush();
        }
    }

    /// Redraws the spinner (a no-op off a terminal or once stopped).
    pub fn tick(&self, waited: Duration) {
        if !self.tty {
            return;
        }
        let mut state = self.lock();
        if !state.spinning {
            return;
        }
        state.frame += 1;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(spinner_line(state.frame, &state.status, waited).as_bytes());
        let _ = out.flush();
        state.drawn = true;
    }

    /// Stops and erases the spinner.
    pub fn stop(&self) {
        let mut state = self.lock();
        let mut out = std::io::stdout().lock();
        self.clear(&mut state, &mut out);
        let _ = out.flush();
        state.spinning = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spinner_line_redraws_in_place_with_the_status_and_time() {
        let line = spinner_line(1, "task 't' is TASK_STAGING", Duration::from_secs(3));
        assert_eq!(line, "\r\x1b[2K⠙ task 't' is TASK_STAGING (3s)");
        assert!(spinner_line(10, "s", Duration::ZERO).contains('⠋'));
    }

    #[test]
    fn off_a_terminal_nothing_spins() {
        let console = Console::new(false, "waiting");
        console.tick(Duration::from_secs(1));
        assert!(!console.lock().drawn);
        let console = Console::new(true, "waiting");
        console.stop();
        console.tick(Duration::from_secs(1));
        assert!(!console.lock().drawn);
    }
}
