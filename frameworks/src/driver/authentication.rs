//! The driver's authentication with the master (Mesos's scheduler driver with a
//! `Credential`): before each (re)registration with a master it has not authenticated
//! with, the driver runs the CRAM-MD5 exchange of `meso_api::authentication` and registers
//! once the master accepted it.
//!
//! As in Mesos: a refusal is final (the scheduler's `error` is called with "Master refused
//! authentication" and the driver stops); an error or a timeout (`with_credential`'s
//! timeout) drops the attempt and the registration retry starts the next one.

use std::time::Duration;

use libprocess::slog::{info, warn};
use libprocess::Context;
use meso_api::authentication::{Begin, ClientMessage, ClientNext};

use super::{DriverMessage, SchedulerDriver};

/// Time one attempt may take unless the driver is told otherwise (Mesos's
/// `--authentication_timeout_min`).
pub const DEFAULT_AUTHENTICATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The authentication messages the driver handles (shared with the agent).
pub use meso_api::authentication::AuthenticateeMessage as AuthenticationMessage;

meso_api::authenticatee_messages!(
    SchedulerDriver,
    DriverMessage,
    DriverMessage::Authentication
);

impl SchedulerDriver {
    /// Before a (re)registration: whether the driver must authenticate first (an attempt
    /// is then under way and the registration waits for it).
    pub(super) fn authenticate_first(&mut self, ctx: &Context<Self>) -> bool {
        let me = ctx.self_upid().to_string();
        match self.authn.begin(&self.master, &me) {
            Begin::Register => false,
            Begin::Waiting => true,
            Begin::Send {
                message,
                generation,
            } => {
                info!(ctx.node().logger(), "authenticating with the master";
                    "master" => %self.master, "principal" => self.authn.principal());
                let _ = ctx.send(&self.master, message);
                ctx.delay(
                    self.authentication_timeout,
                    DriverMessage::Authentication(AuthenticationMessage::Timeout(generation)),
                );
                true
            }
        }
    }

    pub(super) fn authentication_message(
        &mut self,
        ctx: &mut Context<Self>,
        msg: AuthenticationMessage,
    ) {
        let logger = ctx.node().logger().clone();
        if let AuthenticationMessage::Timeout(generation) = msg {
            if self.authn.timed_out(generation) {
                warn!(logger, "authentication timed out; retrying"; "master" => %self.master);
            }
            return;
        }
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        let next = self.authn.on_message(&from, &msg);
        match next {
            None => {}
            Some(ClientNext::Send(ClientMessage::Start(m))) => {
                let _ = ctx.send(&from, m);
            }
            Some(ClientNext::Send(ClientMessage::Step(m))) => {
                let _ = ctx.send(&from, m);
            }
            Some(ClientNext::Authenticated) => {
                info!(logger, "authenticated with the master"; "master" => %from,
                    "principal" => self.authn.principal());
                if !self.registered {
                    self.send_registration(ctx);
                }
            }
            Some(ClientNext::Refused) => {
                warn!(logger, "the master refused authentication"; "master" => %from,
                    "principal" => self.authn.principal());
                self.with_actions(ctx, |s, a| {
                    s.error(a, "Master refused authentication");
                    a.stop();
                });
            }
            Some(ClientNext::Errored(why)) => {
                warn!(logger, "authentication failed; retrying"; "master" => %from, "error" => why);
            }
        }
    }
}
