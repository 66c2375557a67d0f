//! The agent's authentication with the master (Mesos's `--credential` and CRAM-MD5
//! authenticatee): before each (re)registration with a master it has not authenticated
//! with, the agent runs the exchange of `meso_api::authentication` and registers only once
//! the master accepted it.
//!
//! An attempt that gets no answer within `--authentication-timeout` is dropped; a refusal or
//! an error is logged; in every case the registration retry (with its backoff and jitter)
//! starts the next attempt. A lost master (broken link, missed pings) means authenticating
//! again, since the master forgets a PID whose link broke.

use std::time::Duration;

use libprocess::Context;
use meso_api::authentication::{Begin, ClientMessage, ClientNext, Credential};
use slog::{error, info, warn};

use super::{Agent, AgentMessage, Registration};

/// The agent's credential and how long an attempt may take.
#[derive(Debug, Clone)]
pub struct AgentAuthentication {
    /// `--credential`: authenticate with this (`None`: register without authenticating).
    pub credential: Option<Credential>,
    /// `--authentication-timeout`: time one attempt may take.
    pub timeout: Duration,
}

impl Default for AgentAuthentication {
    fn default() -> Self {
        AgentAuthentication {
            credential: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The authentication messages the agent handles (shared with the scheduler driver).
pub use meso_api::authentication::AuthenticateeMessage as AuthenticationMessage;

meso_api::authenticatee_messages!(Agent, AgentMessage, AgentMessage::Authentication);

impl Agent {
    /// Before a (re)registration: whether the agent must authenticate first (an attempt
    /// is then under way and the registration waits for it).
    pub(super) fn authenticate_first(&mut self, ctx: &mut Context<Self>) -> bool {
        let me = ctx.self_upid().to_string();
        match self.authn.begin(&self.config.master, &me) {
            Begin::Register => false,
            Begin::Waiting => true,
            Begin::Send {
                message,
                generation,
            } => {
                info!(self.log, "authenticating with the master"; "master" => %self.config.master,
                    "principal" => self.authn.principal());
                if let Err(e) = ctx.send(&self.config.master, message) {
                    warn!(self.log, "authentication message not sent"; "error" => %e);
                }
                ctx.delay(
                    self.config.authentication.timeout,
                    AgentMessage::Authentication(AuthenticationMessage::Timeout(generation)),
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
        if let AuthenticationMessage::Timeout(generation) = msg {
            if self.authn.timed_out(generation) {
                warn!(self.log, "authentication timed out; retrying";
                    "master" => %self.config.master, "timeout" => ?self.config.authentication.timeout);
            }
            return;
        }
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        let next = self.authn.on_message(&from, &msg);
        let sent = match next {
            None => return,
            Some(ClientNext::Send(ClientMessage::Start(m))) => ctx.send(&from, m),
            Some(ClientNext::Send(ClientMessage::Step(m))) => ctx.send(&from, m),
            Some(ClientNext::Authenticated) => {
                info!(self.log, "authenticated with the master"; "master" => %from,
                    "principal" => self.authn.principal());
                if self.registration == Registration::Registering {
                    self.send_registration(ctx);
                }
                return;
            }
            Some(ClientNext::Refused) => {
                error!(self.log, "the master refused authentication; check --credential"; "master" => %from,
                    "principal" => self.authn.principal());
                return;
            }
            Some(ClientNext::Errored(why)) => {
                warn!(self.log, "authentication failed; retrying"; "master" => %from, "error" => why);
                return;
            }
        };
        if let Err(e) = sent {
            warn!(self.log, "authentication message not sent"; "error" => %e);
        }
    }
}
