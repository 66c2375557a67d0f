//! Authentication of agents and scheduler drivers to the master (Mesos's
//! `--authenticate_agents`, `--authenticate_frameworks` and the v0 CRAM-MD5 authenticator):
//! the master's shell around `meso_api::authentication::Authenticator`, and the checks the
//! registration handlers call.
//!
//! Flow: `Authenticate` from a client opens an exchange keyed by the sender's PID (a new one
//! replaces an old one, and forgets what that PID had proved); the master offers CRAM-MD5,
//! sends a fresh challenge (a random nonce from the node's rng, the time, the hostname),
//! and on a right answer records the PID as authenticated with its principal. An exchange
//! not finished within `--authentication-timeout` is dropped with an `AuthenticationError`.
//! A broken link forgets the PID.
//!
//! Checks: with `--authenticate-agents` a (re)registration from a PID that is not
//! authenticated is dropped (the agent retries after authenticating, as in Mesos) and
//! counted in `master/agent_authentication_failures`; with `--authenticate-frameworks` a
//! framework's is refused with a `FrameworkError`, and counted in
//! `master/framework_authentication_failures`. Whenever a framework's PID is
//! authenticated, its `FrameworkInfo.principal` must be the authenticated principal (filled
//! in when absent); a mismatch is refused, flags or not. Failed exchanges (unknown
//! principal, wrong secret) count in `master/authentication_failures`.
//!
//! Invariants: at most [`MAX_EXCHANGES`] exchanges are open at once (more are refused with
//! an error, so a flood of `Authenticate` cannot grow the master without bound); a PID is
//! authenticated only by completing an exchange it opened itself; secrets never reach a
//! log line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use libprocess::slog::{info, warn};
use libprocess::{Context, Handlers, Upid};
use meso_api::authentication::{challenge_text, Authenticator, ServerReply};
use meso_api::http::auth::Credentials;
use meso_api::v1::FrameworkInfo;
use meso_api::wire;

use super::sends::send_to_driver;
use super::{Master, MasterMessage};

/// Failed exchanges (unknown principal, wrong secret, a garbled answer).
pub const AUTHENTICATION_FAILURES: &str = "master/authentication_failures";
/// Agent (re)registrations refused because the agent was not authenticated.
pub const AGENT_AUTHENTICATION_FAILURES: &str = "master/agent_authentication_failures";
/// Framework (re)registrations refused: not authenticated, or a principal that is not the
/// authenticated one.
pub const FRAMEWORK_AUTHENTICATION_FAILURES: &str = "master/framework_authentication_failures";

/// Most exchanges open at once.
pub const MAX_EXCHANGES: usize = 10_000;

/// The master's authentication settings (from `meso master` flags).
#[derive(Debug, Clone)]
pub struct AuthenticationConfig {
    /// `--authenticate-agents`: only authenticated agents may register.
    pub agents: bool,
    /// `--authenticate-frameworks`: only authenticated scheduler drivers may register.
    pub frameworks: bool,
    /// `--credentials`: who may authenticate (`None`: nobody).
    pub credentials: Option<Arc<Credentials>>,
    /// `--authentication-timeout`: time a client has to finish an exchange (Mesos's
    /// `--authentication_v0_timeout`, 15 s).
    pub timeout: Duration,
}

impl Default for AuthenticationConfig {
    fn default() -> Self {
        AuthenticationConfig {
            agents: false,
            frameworks: false,
            credentials: None,
            timeout: Duration::from_secs(15),
        }
    }
}

/// The authentication messages the master handles.
#[derive(Debug)]
pub enum AuthenticationMessage {
    /// A client opens an exchange.
    Authenticate(wire::Authenticate),
    /// A client chose its mechanism.
    Start(wire::AuthenticationStart),
    /// A client answered the challenge.
    Step(wire::AuthenticationStep),
    /// Timer: the exchange `generation` of a PID had its time.
    Timeout(Upid, u64),
}

macro_rules! into_master {
    ($($ty:ident => $variant:ident,)*) => {
        $(impl From<wire::$ty> for MasterMessage {
            fn from(m: wire::$ty) -> Self {
                MasterMessage::Authentication(AuthenticationMessage::$variant(m))
            }
        })*
        /// Registers the authentication messages with the master's handlers.
        pub(super) fn install(h: &mut Handlers<Master>) {
            $(h.on::<wire::$ty>();)*
        }
    };
}

into_master! {
    Authenticate => Authenticate,
    AuthenticationStart => Start,
    AuthenticationStep => Step,
}

/// Open exchanges and authenticated PIDs.
#[derive(Debug, Default)]
pub struct Authentications {
    exchanges: HashMap<Upid, (u64, Authenticator)>,
    authenticated: HashMap<Upid, String>,
    generation: u64,
}

impl Authentications {
    /// The principal `pid` authenticated as, if it did.
    pub fn principal(&self, pid: &Upid) -> Option<&str> {
        self.authenticated.get(pid).map(String::as_str)
    }

    /// Forgets `pid` (its link broke): it must authenticate again.
    pub fn forget(&mut self, pid: &Upid) {
        self.exchanges.remove(pid);
        self.authenticated.remove(pid);
    }
}

impl Master {
    pub(super) fn authentication_message(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<Upid>,
        msg: AuthenticationMessage,
    ) {
        if let AuthenticationMessage::Timeout(pid, generation) = msg {
            self.authentication_timeout(ctx, pid, generation);
            return;
        }
        let Some(from) = from else {
            return;
        };
        match msg {
            AuthenticationMessage::Authenticate(m) => self.open_exchange(ctx, from, m),
            AuthenticationMessage::Start(m) => {
                let Some((_, exchange)) = self.authn.exchanges.get_mut(&from) else {
                    return self.no_exchange(ctx, &from);
                };
                let reply = exchange.start(&m);
                self.exchange_reply(ctx, from, reply);
            }
            AuthenticationMessage::Step(m) => {
                let Some((_, exchange)) = self.authn.exchanges.get_mut(&from) else {
                    return self.no_exchange(ctx, &from);
                };
                let reply = exchange.step(&m, self.config.authentication.credentials.as_deref());
                self.exchange_reply(ctx, from, reply);
            }
            AuthenticationMessage::Timeout(..) => {}
        }
    }

    fn open_exchange(&mut self, ctx: &mut Context<Self>, from: Upid, m: wire::Authenticate) {
        if m.pid != from.to_string() {
            // Mesos's authenticatee is a process of its own; meso's clients authenticate
            // the process that registers, so the two must agree.
            warn!(ctx.node().logger(), "authentication refused: it is for another process";
                "from" => %from, "pid" => &m.pid);
            send_to_driver(
                ctx,
                &from,
                wire::AuthenticationError {
                    error: Some(format!(
                        "Authenticate names {:?}, not its sender {from}",
                        m.pid
                    )),
                },
            );
            return;
        }
        self.authn.forget(&from);
        if self.authn.exchanges.len() >= MAX_EXCHANGES {
            warn!(ctx.node().logger(), "authentication refused: too many exchanges open"; "from" => %from);
            send_to_driver(
                ctx,
                &from,
                wire::AuthenticationError {
                    error: Some("too many authentications under way; retry later".to_string()),
                },
            );
            return;
        }
        let nonce = format!("{}{}", ctx.uuid_v4().simple(), ctx.uuid_v4().simple());
        let secs = libprocess::unix_secs(ctx.wall_time()) as u64;
        let (exchange, offered) =
            Authenticator::new(challenge_text(&nonce, secs, &self.config.hostname));
        self.authn.generation += 1;
        let generation = self.authn.generation;
        self.authn
            .exchanges
            .insert(from.clone(), (generation, exchange));
        ctx.delay(
            self.config.authentication.timeout,
            MasterMessage::Authentication(AuthenticationMessage::Timeout(from.clone(), generation)),
        );
        send_to_driver(ctx, &from, offered);
    }

    fn no_exchange(&mut self, ctx: &mut Context<Self>, from: &Upid) {
        send_to_driver(
            ctx,
            from,
            wire::AuthenticationError {
                error: Some("no authentication under way; send Authenticate first".to_string()),
            },
        );
    }

    fn exchange_reply(&mut self, ctx: &mut Context<Self>, from: Upid, reply: ServerReply) {
        match reply {
            ServerReply::Step(challenge) => send_to_driver(ctx, &from, challenge),
            ServerReply::Completed { principal } => {
                self.authn.exchanges.remove(&from);
                info!(ctx.node().logger(), "authenticated"; "pid" => %from, "principal" => &principal);
                self.authn.authenticated.insert(from.clone(), principal);
                send_to_driver(ctx, &from, wire::AuthenticationCompleted {});
            }
            ServerReply::Failed { principal, reason } => {
                self.authn.exchanges.remove(&from);
                warn!(ctx.node().logger(), "authentication failed"; "pid" => %from,
                    "principal" => principal, "reason" => reason);
                ctx.node().metrics().counter(AUTHENTICATION_FAILURES).inc();
                send_to_driver(ctx, &from, wire::AuthenticationFailed {});
            }
            ServerReply::Error(error) => {
                self.authn.exchanges.remove(&from);
                warn!(ctx.node().logger(), "authentication broke off"; "pid" => %from, "error" => &error);
                send_to_driver(ctx, &from, wire::AuthenticationError { error: Some(error) });
            }
        }
    }

    fn authentication_timeout(&mut self, ctx: &mut Context<Self>, pid: Upid, generation: u64) {
        if !matches!(self.authn.exchanges.get(&pid), Some((g, _)) if *g == generation) {
            return;
        }
        self.authn.exchanges.remove(&pid);
        warn!(ctx.node().logger(), "authentication timed out"; "pid" => %pid,
            "timeout" => ?self.config.authentication.timeout);
        send_to_driver(
            ctx,
            &pid,
            wire::AuthenticationError {
                error: Some("authentication timed out".to_string()),
            },
        );
    }

    /// Whether an agent (re)registration from `pid` must be dropped because it did not
    /// authenticate (logged and counted).
    pub(super) fn refuse_unauthenticated_agent(&self, ctx: &Context<Self>, pid: &Upid) -> bool {
        if !self.config.authentication.agents || self.authn.principal(pid).is_some() {
            return false;
        }
        warn!(ctx.node().logger(), "refusing registration of agent: it is not authenticated";
            "agent" => %pid);
        ctx.node()
            .metrics()
            .counter(AGENT_AUTHENTICATION_FAILURES)
            .inc();
        true
    }

    /// Why a framework (re)registering from `pid` with `info` is refused for
    /// authentication, as Mesos words it; `None` when it may go on (with `info.principal`
    /// filled in from the authenticated principal when it had none).
    pub(super) fn refuse_framework_authentication(
        &self,
        ctx: &Context<Self>,
        pid: &Upid,
        info: &mut FrameworkInfo,
    ) -> Option<String> {
        let why = match (self.authn.principal(pid), info.principal.as_deref()) {
            (None, _) if self.config.authentication.frameworks => {
                format!("Framework at {pid} is not authenticated")
            }
            (None, _) => return None,
            (Some(proved), Some(claimed)) if proved != claimed => format!(
                "Framework principal '{claimed}' does not match authenticated principal '{proved}'"
            ),
            (Some(proved), _) => {
                info.principal = Some(proved.to_string());
                return None;
            }
        };
        warn!(ctx.node().logger(), "framework refused"; "pid" => %pid, "reason" => &why);
        ctx.node()
            .metrics()
            .counter(FRAMEWORK_AUTHENTICATION_FAILURES)
            .inc();
        Some(why)
    }

    /// Registers the authentication counters so that they show as 0 before any refusal.
    pub(super) fn register_authentication_metrics(&self, ctx: &Context<Self>) {
        for name in [
            AUTHENTICATION_FAILURES,
            AGENT_AUTHENTICATION_FAILURES,
            FRAMEWORK_AUTHENTICATION_FAILURES,
        ] {
            ctx.node().metrics().counter(name);
        }
    }
}
