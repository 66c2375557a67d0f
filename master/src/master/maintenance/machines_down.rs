//! What a change of machine modes does to agents: a new schedule rescinds the offers of
//! agents whose unavailability changed (they come back carrying the new one) and sends
//! inverse offers for newly DRAINING machines; taking machines DOWN tells their agents to
//! shut down and removes them (their tasks end TASK_LOST, or TASK_GONE_BY_OPERATOR for
//! PARTITION_AWARE frameworks, as Mesos's `removeSlave`); an agent on a DOWN machine may
//! not register or re-register (Mesos's "Machine is `DOWN`").

use libprocess::slog::{info, warn};
use libprocess::{Context, Upid};
use meso_api::v1::AgentId;
use meso_api::wire;
use meso_registry::{MachineId, MachineMode, Machines};

use super::super::Master;
use super::agent_machine;

/// Why an agent on a DOWN machine is shut down (Mesos's message).
const MACHINE_DOWN: &str = "Operator initiated 'Machine DOWN'";

impl Master {
    /// Registered agents with their machines.
    fn agent_machines(&self) -> Vec<(AgentId, MachineId)> {
        self.agents
            .iter()
            .filter_map(|a| {
                let id = a.info.id.clone()?;
                Some((id, agent_machine(&a.info.hostname, a.pid.addr().ip())))
            })
            .collect()
    }

    /// The schedule changed from `before`: offers and inverse offers follow.
    pub(in crate::master) fn schedule_changed(
        &mut self,
        ctx: &mut Context<Self>,
        before: &Machines,
    ) {
        for (id, machine) in self.agent_machines() {
            let now = self.maintenance.machines.window_of(&machine).cloned();
            let was = before.window_of(&machine).cloned();
            if now == was {
                continue;
            }
            for offer in self.offers.on_agent(&id) {
                self.rescind_offer(ctx, &offer, None);
            }
            if self.maintenance.mode(&machine) != MachineMode::Draining {
                self.rescind_inverse_offers(ctx, |r| r.agent == id);
            } else {
                self.offer_inverse_for_agent(ctx, &id);
            }
        }
        self.maintenance.forget_answers_of_undrained();
    }

    /// `machines` went DOWN: their agents are told to shut down and removed.
    pub(in crate::master) fn machines_went_down(
        &mut self,
        ctx: &mut Context<Self>,
        machines: &[MachineId],
    ) {
        let keys: Vec<_> = machines.iter().map(MachineId::key).collect();
        for (id, machine) in self.agent_machines() {
            if !keys.contains(&machine.key()) {
                continue;
            }
            self.rescind_inverse_offers(ctx, |r| r.agent == id);
            if let Some(pid) = self.agents.get(&id).map(|a| a.pid.clone()) {
                info!(ctx.node().logger(), "machine DOWN: shutting its agent down"; "agent" => %id, "machine" => %machine);
                self.send_to_agent(
                    ctx,
                    &pid,
                    wire::ShutdownAgent {
                        message: MACHINE_DOWN.to_string(),
                    },
                );
                self.remove_agent(ctx, &id, MACHINE_DOWN);
            }
        }
        self.maintenance.forget_answers_of_undrained();
    }

    /// Refuses the (re-)registration of an agent at `pid` named `hostname` whose machine is
    /// DOWN, telling it to shut down. Returns whether it was refused.
    pub(in crate::master) fn refuse_down_machine(
        &mut self,
        ctx: &mut Context<Self>,
        pid: &Upid,
        hostname: &str,
    ) -> bool {
        let machine = agent_machine(hostname, pid.addr().ip());
        if self.maintenance.mode(&machine) != MachineMode::Down {
            return false;
        }
        warn!(ctx.node().logger(), "registration refused: the agent's machine is DOWN"; "pid" => %pid, "machine" => %machine);
        self.send_to_agent(
            ctx,
            pid,
            wire::ShutdownAgent {
                message: "Machine is `DOWN`".to_string(),
            },
        );
        true
    }
}
