//! Sends whose failure an operator should be able to see: [`Master::send_to_agent`] for every
//! master-to-agent message, and [`send_to_driver`] for answers to a scheduler driver's PID
//! that is not (or no longer) a connected framework's (registration answers, errors, an old
//! PID failed over). Connected frameworks are reached through `send_to_framework`
//! (`framework_link.rs`), which logs the same way.
//!
//! A send fails without blocking (a full mailbox or outbound queue, a message too large to
//! encode, the node shutting down); the master never retries one itself, as in Mesos the
//! peer's retries and reconciliation recover a lost message. What this module owns is that
//! no failure is silent: each is logged once, with whom it was for and the message name, at
//! warn when it means a peer or a queue is in trouble and at debug when it is expected.

use libprocess::slog::{debug, warn};
use libprocess::{Context, RemoteMessage, SendError, Upid};

use super::Master;

/// Whether a failed send is part of normal operation rather than a sign of trouble: the
/// node is shutting down, or a test filter dropped the message on purpose.
pub(super) fn failure_is_expected(e: &SendError) -> bool {
    matches!(e, SendError::NodeShutDown | SendError::Filtered { .. })
}

impl Master {
    /// Sends `msg` to the agent at `pid`. A failed send is logged with the agent's id (when
    /// `pid` is a registered agent's) and the message name.
    pub(super) fn send_to_agent<M: RemoteMessage>(&self, ctx: &Context<Self>, pid: &Upid, msg: M) {
        if let Err(e) = ctx.send(pid, msg) {
            let agent = self
                .agents
                .by_pid(pid)
                .map_or_else(|| "-".to_string(), |id| id.value.clone());
            let logger = ctx.node().logger();
            if failure_is_expected(&e) {
                debug!(logger, "message to agent not sent"; "agent" => agent, "pid" => %pid,
                    "message" => M::NAME, "error" => %e);
            } else {
                warn!(logger, "message to agent not sent"; "agent" => agent, "pid" => %pid,
                    "message" => M::NAME, "error" => %e);
            }
        }
    }
}

/// Sends `msg` to the scheduler driver at `pid`, logging a failed send with the PID and the
/// message name.
pub(super) fn send_to_driver<M: RemoteMessage>(ctx: &Context<Master>, pid: &Upid, msg: M) {
    if let Err(e) = ctx.send(pid, msg) {
        log_failed_framework_send(ctx, pid, M::NAME, &e);
    }
}

/// Logs a send to a framework's driver that failed.
pub(super) fn log_failed_framework_send(
    ctx: &Context<Master>,
    pid: &Upid,
    name: &str,
    e: &SendError,
) {
    let logger = ctx.node().logger();
    if failure_is_expected(e) {
        debug!(logger, "message to framework not sent"; "pid" => %pid, "message" => name,
            "error" => %e);
    } else {
        warn!(logger, "message to framework not sent"; "pid" => %pid, "message" => name,
            "error" => %e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_shutdown_and_test_filters_are_expected_failures() {
        let to: Upid = "slave(1)@127.0.0.1:5051".parse().expect("a valid upid");
        let addr = to.addr();
        assert!(failure_is_expected(&SendError::NodeShutDown));
        assert!(failure_is_expected(&SendError::Filtered {
            to: to.clone(),
            name: "RunTask".into()
        }));
        for trouble in [
            SendError::OutboundFull {
                addr,
                capacity_bytes: 1,
            },
            SendError::MailboxFull {
                to: to.clone(),
                capacity: 1,
            },
            SendError::UnknownProcess { to: to.clone() },
            SendError::Encode {
                to,
                name: "RunTask".into(),
                reason: "too large".into(),
            },
        ] {
            assert!(!failure_is_expected(&trouble), "{trouble}");
        }
    }
}
