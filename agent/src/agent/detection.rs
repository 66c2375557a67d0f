//! Which master the agent talks to: the agent's side of the `MasterDetector`
//! (`meso_api::detector`). `config.master` always holds the detector's current master, so
//! the rest of the agent sends to `config.master` as before.
//!
//! - A (re)registration retry that got no answer moves to the next master, unless a
//!   leader hint already moved the agent since that attempt.
//! - A broken link to the registered master moves to the next master (see `exited`).
//! - `NotLeader` from the master in use: naming a leader, the agent (re)registers there at
//!   once; naming none, it tries the next master at its next retry. A registered agent
//!   told so is disconnected (updates pause) until it re-registers with the leader.

use libprocess::{Context, Upid};
use meso_api::detector::HintOutcome;
use meso_api::wire::NotLeader;
use slog::info;

use super::{Agent, Registration};

impl Agent {
    /// Talks to `master` from now on.
    fn use_master(&mut self, ctx: &mut Context<Self>, master: Upid) {
        if master != self.config.master {
            ctx.unlink(&self.config.master);
            info!(self.log, "trying another master"; "from" => %self.config.master, "to" => %master);
            self.config.master = master;
        }
        self.master_moved = true;
    }

    /// Moves to the next configured master.
    pub(super) fn next_master(&mut self, ctx: &mut Context<Self>) {
        let next = self.detector.advance().clone();
        self.use_master(ctx, next);
    }

    /// Before a retry: the master in use did not answer, so move on (unless a hint moved
    /// the agent since the last attempt).
    pub(super) fn next_master_unless_moved(&mut self, ctx: &mut Context<Self>) {
        if !self.master_moved {
            self.next_master(ctx);
        }
    }

    pub(super) fn not_leader(&mut self, ctx: &mut Context<Self>, hint: NotLeader) {
        let Some(from) = ctx.from().cloned() else {
            return;
        };
        match self.detector.not_leader(&from, &hint) {
            HintOutcome::Ignored => {}
            HintOutcome::Leader(leader) => {
                self.use_master(ctx, leader);
                match self.registration {
                    Registration::Registered => {
                        self.master_lost(ctx, "the master is not the leader")
                    }
                    Registration::Registering => self.attempt_registration(ctx),
                    _ => {}
                }
            }
            HintOutcome::NextMaster(next) => {
                self.use_master(ctx, next);
                if self.registration == Registration::Registered {
                    self.master_lost(ctx, "the master is not the leader and knows none");
                }
            }
        }
    }
}
