//! The process-wide logger: slog to stderr, asynchronous.

use libprocess::slog::{o, Drain, Logger};

/// A logger writing compact lines to stderr.
pub fn stderr_logger() -> Logger {
    let decorator = slog_term::TermDecorator::new().stderr().build();
    let drain = slog_term::CompactFormat::new(decorator).build().fuse();
    let drain = slog_async::Async::new(drain).build().fuse();
    Logger::root(drain, o!())
}
