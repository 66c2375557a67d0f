//! The maintenance and draining calls of the v1 operator API (GET_MAINTENANCE_SCHEDULE,
//! GET_MAINTENANCE_STATUS, UPDATE_MAINTENANCE_SCHEDULE, START_MAINTENANCE,
//! STOP_MAINTENANCE, DRAIN_AGENT, DEACTIVATE_AGENT, REACTIVATE_AGENT) and the legacy
//! endpoints (`GET|POST /maintenance/schedule`, `GET /maintenance/status`,
//! `POST /machine/down`, `POST /machine/up`, also under `/master`).
//!
//! Each change is checked against the master's copy first (a refusal is a 400 naming the
//! reason, as Mesos), written to the registry, and applied to the master (and its agents,
//! frameworks and allocator) only once the registry has it; then the call answers 200.

use libprocess::http_types::{header, HeaderValue, Method, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::maintenance as api;
use meso_api::http::operator::{operator_response, MasterCall, MasterCallType};
use meso_api::http::HttpError;
use meso_api::v1::AgentId;
use meso_registry::{AgentControls, DrainConfig, MachineId};
use serde_json::json;

use super::super::legacy::error_response;
use super::super::registrar::RegistryChange;
use super::super::{Master, PendingAdmission};
use super::{machine_of, schedule_json, windows_of};

fn json_response(body: String) -> HttpResponse {
    let mut r = HttpResponse::text(StatusCode::OK, body);
    r.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn typed(kind: MasterCallType, payload: serde_json::Value) -> HttpResponse {
    json_response(operator_response(kind.as_str(), Some(&payload.to_string())))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| {
        HttpError::bad_request(format!(
            "Failed to parse {what} JSON '{}': {e}",
            String::from_utf8_lossy(body)
        ))
    })
}

fn method_not_allowed(allow: &str) -> HttpError {
    let mut e = HttpError::new(
        405,
        format!("Expecting one of {{ {allow} }}, received another method"),
    );
    e.headers
        .push(("Allow".to_string(), allow.replace(' ', "")));
    e
}

impl Master {
    /// Answers a maintenance or draining call of the v1 operator API; `None` hands other
    /// calls back.
    pub(in crate::master) fn serve_maintenance_call(
        &mut self,
        ctx: &mut Context<Self>,
        call: MasterCall,
        reply: HttpReply,
    ) -> Option<(MasterCall, HttpReply)> {
        let kind = call.kind;
        let checked = match kind {
            MasterCallType::GetMaintenanceSchedule => {
                let schedule = schedule_json(&self.maintenance.machines);
                reply.respond(typed(kind, json!({ "schedule": schedule })));
                return None;
            }
            MasterCallType::GetMaintenanceStatus => {
                let status = self.maintenance.cluster_status();
                reply.respond(typed(kind, json!({ "status": status })));
                return None;
            }
            MasterCallType::UpdateMaintenanceSchedule => match call.update_maintenance_schedule {
                Some(u) => self.check_schedule(&u.schedule),
                None => Err(HttpError::bad_request(
                    "Expecting 'update_maintenance_schedule' to be present",
                )),
            },
            MasterCallType::StartMaintenance => {
                self.check_machines_down(&call.start_maintenance.unwrap_or_default())
            }
            MasterCallType::StopMaintenance => {
                self.check_machines_up(&call.stop_maintenance.unwrap_or_default())
            }
            MasterCallType::DrainAgent => match call.drain_agent {
                Some(d) => self.check_drain(&d),
                None => Err(HttpError::bad_request(
                    "Expecting 'drain_agent' to be present",
                )),
            },
            MasterCallType::DeactivateAgent => match call.deactivate_agent {
                Some(d) => self
                    .check_known_agent(&d.agent_id)
                    .map(|()| RegistryChange::DeactivateAgent(d.agent_id)),
                None => Err(HttpError::bad_request(
                    "Expecting 'deactivate_agent' to be present",
                )),
            },
            MasterCallType::ReactivateAgent => match call.reactivate_agent {
                Some(d) => self
                    .agents
                    .controls()
                    .check_reactivate(&d.agent_id)
                    .map_err(HttpError::bad_request)
                    .map(|()| RegistryChange::ReactivateAgent(d.agent_id)),
                None => Err(HttpError::bad_request(
                    "Expecting 'reactivate_agent' to be present",
                )),
            },
            _ => return Some((call, reply)),
        };
        self.write_maintenance_change(ctx, checked, reply);
        None
    }

    fn write_maintenance_change(
        &mut self,
        ctx: &mut Context<Self>,
        checked: Result<RegistryChange, HttpError>,
        reply: HttpReply,
    ) {
        match checked {
            Ok(change) => {
                self.registry(ctx, change, Some(PendingAdmission::Maintenance(reply)));
            }
            Err(e) => reply.respond(error_response(e)),
        }
    }

    fn check_schedule(&self, schedule: &api::Schedule) -> Result<RegistryChange, HttpError> {
        let windows = windows_of(schedule);
        self.maintenance
            .machines
            .check_schedule(&windows)
            .map_err(HttpError::bad_request)?;
        Ok(RegistryChange::UpdateMaintenanceSchedule(windows))
    }

    fn check_machines_down(&self, machines: &api::Machines) -> Result<RegistryChange, HttpError> {
        let machines: Vec<MachineId> = machines.machines.iter().map(machine_of).collect();
        self.maintenance
            .machines
            .check_start(&machines)
            .map_err(HttpError::bad_request)?;
        Ok(RegistryChange::StartMaintenance(machines))
    }

    fn check_machines_up(&self, machines: &api::Machines) -> Result<RegistryChange, HttpError> {
        let machines: Vec<MachineId> = machines.machines.iter().map(machine_of).collect();
        self.maintenance
            .machines
            .check_stop(&machines)
            .map_err(HttpError::bad_request)?;
        Ok(RegistryChange::StopMaintenance(machines))
    }

    /// Mesos's check: the agent is registered, recovering or unreachable.
    fn check_known_agent(&self, id: &AgentId) -> Result<(), HttpError> {
        let known = self.agents.get(id).is_some()
            || self.agents.is_unreachable(id)
            || self.is_recovering(id);
        if known {
            Ok(())
        } else {
            Err(HttpError::bad_request(format!("Unknown agent {id}")))
        }
    }

    fn check_drain(&self, drain: &api::DrainAgent) -> Result<RegistryChange, HttpError> {
        let id = &drain.agent_id;
        let config = DrainConfig {
            max_grace_period_ns: drain.max_grace_period.map(|d| d.nanoseconds),
            mark_gone: drain.mark_gone.unwrap_or(false),
        };
        AgentControls::check_drain(&config).map_err(HttpError::bad_request)?;
        self.check_known_agent(id)?;
        if let Some(machine) = self.machine_of_agent(id) {
            if self.maintenance.machines.window_of(&machine).is_some() {
                return Err(HttpError::bad_request(format!(
                    "Agent {id} is part of a maintenance schedule under Machine {machine}"
                )));
            }
        }
        Ok(RegistryChange::DrainAgent(id.clone(), config))
    }

    /// The machine a registered agent runs on.
    pub(in crate::master) fn machine_of_agent(&self, id: &AgentId) -> Option<MachineId> {
        self.agents
            .get(id)
            .map(|a| super::agent_machine(&a.info.hostname, a.pid.addr().ip()))
    }

    /// The registry answered a maintenance or draining change: apply it and answer.
    pub(in crate::master) fn maintenance_change_done(
        &mut self,
        ctx: &mut Context<Self>,
        change: &RegistryChange,
        applied: bool,
        reply: HttpReply,
    ) {
        if !applied {
            reply.respond(error_response(HttpError::new(
                409,
                "the registry refused the change (the cluster changed meanwhile); nothing was applied",
            )));
            return;
        }
        self.apply_maintenance_change(ctx, change);
        reply.respond(HttpResponse::text(StatusCode::OK, ""));
    }

    /// Applies a maintenance or draining change the registry has to the master.
    fn apply_maintenance_change(&mut self, ctx: &mut Context<Self>, change: &RegistryChange) {
        match change {
            RegistryChange::UpdateMaintenanceSchedule(windows) => {
                let before = self.maintenance.machines.clone();
                if self
                    .maintenance
                    .machines
                    .update_schedule(windows.clone())
                    .is_ok()
                {
                    self.schedule_changed(ctx, &before);
                }
            }
            RegistryChange::StartMaintenance(machines) => {
                let applied = self.maintenance.machines.start(machines);
                if applied.is_ok() {
                    self.machines_went_down(ctx, machines);
                }
            }
            RegistryChange::StopMaintenance(machines) => {
                let applied = self.maintenance.machines.stop(machines);
                if applied.is_ok() {
                    self.maintenance.forget_answers_of_undrained();
                }
            }
            RegistryChange::DrainAgent(id, config) => {
                let applied = self.agents.controls_mut().drain_agent(id, *config);
                if applied.is_ok() {
                    self.start_drain(ctx, id);
                }
            }
            RegistryChange::DeactivateAgent(id) => {
                self.agents.controls_mut().deactivate(id);
                self.stop_offering_agent(ctx, id);
            }
            RegistryChange::ReactivateAgent(id) => {
                let applied = self.agents.controls_mut().reactivate(id);
                if applied.is_ok() {
                    self.resume_offering_agent(id);
                }
            }
            _ => {}
        }
    }

    /// After a failover: the registry's schedule, modes and agent controls become the
    /// master's.
    pub(in crate::master) fn recover_maintenance(
        &mut self,
        machines: meso_registry::Machines,
        controls: AgentControls,
    ) {
        self.maintenance.machines = machines;
        *self.agents.controls_mut() = controls;
    }

    /// Answers `/maintenance/schedule`, `/maintenance/status`, `/machine/down` and
    /// `/machine/up` (the `/master` prefix already removed); `None` hands other routes back.
    pub(in crate::master) fn serve_maintenance_endpoint(
        &mut self,
        ctx: &mut Context<Self>,
        route: &str,
        request: HttpRequest,
        reply: HttpReply,
    ) -> Option<(HttpRequest, HttpReply)> {
        let method = request.method.clone();
        let checked = match route {
            "/maintenance/schedule" => match method {
                Method::GET => {
                    let schedule = schedule_json(&self.maintenance.machines);
                    reply.respond(json_response(json!(schedule).to_string()));
                    return None;
                }
                Method::POST => parse::<api::Schedule>(&request.body, "maintenance schedule")
                    .and_then(|s| self.check_schedule(&s)),
                _ => Err(method_not_allowed("GET, POST")),
            },
            "/maintenance/status" => match method {
                Method::GET => {
                    let status = self.maintenance.cluster_status();
                    reply.respond(json_response(json!(status).to_string()));
                    return None;
                }
                _ => Err(method_not_allowed("GET")),
            },
            "/machine/down" | "/machine/up" => match method {
                Method::POST => parse::<Vec<api::MachineId>>(&request.body, "machine list")
                    .and_then(|machines| {
                        let machines = api::Machines { machines };
                        if route == "/machine/down" {
                            self.check_machines_down(&machines)
                        } else {
                            self.check_machines_up(&machines)
                        }
                    }),
                _ => Err(method_not_allowed("POST")),
            },
            _ => return Some((request, reply)),
        };
        self.write_maintenance_change(ctx, checked, reply);
        None
    }
}
