//! Read-only views of the master's books for in-process checkers (the simulator, `sim/`):
//! what the master holds for each framework on each agent (outstanding offers and the
//! resources of tasks not yet given back), each registered agent's total, and the
//! allocator process, whose core's books must equal these. Nothing here changes state.

use libprocess::Pid;
use meso_api::Resources;

use super::allocation::AllocatorProcess;
use super::Master;

/// What one framework holds on one agent, as the master books it.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// Framework id.
    pub framework: String,
    /// Agent id.
    pub agent: String,
    /// Offered plus used by unfinished tasks.
    pub resources: Resources,
}

impl Master {
    /// The allocator process (once the master is initialized).
    pub fn allocator_pid(&self) -> Option<Pid<AllocatorProcess>> {
        self.allocator.clone()
    }

    /// Per (framework, agent): outstanding offers plus what tasks hold that was not given
    /// back to the allocator, in framework then agent order.
    pub fn held_by_frameworks(&self) -> Vec<Held> {
        let mut held: std::collections::BTreeMap<(String, String), Resources> = Default::default();
        for record in self.offers.iter() {
            let offer = &record.offer;
            let entry = held
                .entry((
                    offer.framework_id.value.clone(),
                    offer.agent_id.value.clone(),
                ))
                .or_default();
            *entry = entry.clone() + &offer.resources;
        }
        for task in self.tasks.active() {
            if task.recovered {
                continue;
            }
            let entry = held
                .entry((task.framework_id.value.clone(), task.agent_id.value.clone()))
                .or_default();
            *entry = entry.clone() + &task.consumed;
        }
        held.into_iter()
            .map(|((framework, agent), resources)| Held {
                framework,
                agent,
                resources,
            })
            .collect()
    }

    /// Every registered agent's id and total (revocable resources included).
    pub fn agent_totals(&self) -> Vec<(String, Resources)> {
        self.agents
            .iter()
            .map(|a| {
                (
                    a.info
                        .id
                        .as_ref()
                        .map(|i| i.value.clone())
                        .unwrap_or_default(),
                    a.info.resources.clone(),
                )
            })
            .collect()
    }
}
