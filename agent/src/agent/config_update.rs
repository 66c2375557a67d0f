//! Online changes of the agent's total resources and attributes (UPDATE_AGENT, a meso
//! extension; `meso_api::http::update_agent`), from three sources applied the same way:
//! the master forwarding an operator's call (`UpdateAgentConfig`), the agent's own
//! `POST /api/v1`, and a SIGHUP that re-read `--resources`/`--attributes` (`crate::run`).
//!
//! A change is checked against what the agent's executors and unfinished tasks use (a new
//! total short of it is refused, 409 naming the shortfall, unless forced: nothing is ever
//! killed), then checkpointed (`slave.info` and `flags.info`, so it survives a restart with
//! the same flags and the restart check compares against it), then reported to the master
//! (`AgentConfigUpdated`), which records it. An agent not registered at the time reports
//! it by re-registering with its new info.

use libprocess::{Context, HttpReply, HttpResponse};
use meso_api::attributes::Attributes;
use meso_api::http::update_agent::{shortfall, shortfall_error, UpdateAgent};
use meso_api::http::HttpError;
use meso_api::wire::{AgentConfigUpdated, UpdateAgentConfig};
use meso_api::Resources;
use slog::{info, warn};

use super::http_routes::error_response;
use super::{Agent, Registration};

/// Who asked for a change (for the log).
#[derive(Debug, Clone, Copy)]
pub enum ChangeSource {
    /// The master, on an operator's UPDATE_AGENT.
    Master,
    /// The agent's own operator API.
    OperatorApi,
    /// SIGHUP, from the flags.
    Sighup,
}

impl ChangeSource {
    fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Master => "the master's UPDATE_AGENT",
            ChangeSource::OperatorApi => "the agent's UPDATE_AGENT",
            ChangeSource::Sighup => "SIGHUP (the flags re-read)",
        }
    }
}

impl Agent {
    /// Applies a change; `Ok(true)` if anything changed. Refusals change nothing.
    pub(super) fn apply_config_change(
        &mut self,
        resources: Option<Resources>,
        attributes: Option<Attributes>,
        force: bool,
        source: ChangeSource,
    ) -> Result<bool, HttpError> {
        let total = resources.unwrap_or_else(|| self.info.resources.clone());
        let attributes = attributes.unwrap_or_else(|| self.info.attributes.clone());
        if let Err(e) = total.validate() {
            return Err(HttpError::bad_request(format!(
                "Failed to validate UPDATE_AGENT: 'resources': {e}"
            )));
        }
        // Reservations and volumes stay: the new static resources must still hold them.
        let with_conversions = match total.apply_checkpointed(&self.checkpointed_resources) {
            Ok(t) => t,
            Err(e) => {
                let e = HttpError::new(
                    409,
                    format!(
                        "the new resources must still hold the agent's reservations and \
                         volumes (unreserve or destroy them first): {e}"
                    ),
                );
                warn!(self.log, "online change of resources refused"; "source" => source.as_str(),
                    "reason" => &e.body);
                return Err(e);
            }
        };
        let short = shortfall(&with_conversions, &self.used_resources());
        let id = self
            .id
            .as_ref()
            .map_or_else(|| "(not registered yet)".to_string(), |i| i.value.clone());
        if !short.is_empty() && !force {
            let e = shortfall_error(&id, &with_conversions, &short);
            warn!(self.log, "online change of resources refused"; "source" => source.as_str(),
                "reason" => &e.body);
            return Err(e);
        }
        if total == self.info.resources && attributes == self.info.attributes {
            info!(self.log, "online change asked for nothing new"; "source" => source.as_str());
            return Ok(false);
        }
        info!(self.log, "resources and attributes changed online"; "source" => source.as_str(),
            "resources" => %total, "was_resources" => %self.info.resources,
            "attributes" => %attributes, "was_attributes" => %self.info.attributes);
        if !short.is_empty() {
            warn!(self.log, "forced: tasks use more than the new total; nothing is killed";
                "beyond_total" => %short);
        }
        self.info.resources = total;
        self.info.attributes = attributes;
        if self.id.is_some() {
            self.checkpoint_agent();
        }
        Ok(true)
    }

    /// Tells the master the agent's configuration (after a change made here), if it is
    /// registered; otherwise its next (re-)registration carries it.
    fn report_config(
        &self,
        ctx: &Context<Self>,
        request_id: Option<String>,
        refusal: Option<(u16, String)>,
    ) {
        let Some(id) = self.id.clone() else {
            return;
        };
        if self.registration != Registration::Registered && request_id.is_none() {
            return;
        }
        let report = AgentConfigUpdated {
            agent_id: id,
            request_id,
            resources: self.info.resources.clone(),
            attributes: self.info.attributes.clone(),
            refusal,
        };
        if let Err(e) = ctx.send(&self.config.master, report) {
            warn!(self.log, "configuration report not sent to the master"; "error" => %e);
        }
    }

    /// The master forwards an operator's UPDATE_AGENT.
    pub(super) fn update_config_from_master(
        &mut self,
        ctx: &mut Context<Self>,
        msg: UpdateAgentConfig,
    ) {
        if ctx.from() != Some(&self.config.master) {
            warn!(self.log, "UpdateAgentConfig not from our master ignored";
                "from" => ctx.from().map(|u| u.to_string()));
            return;
        }
        let refusal = self
            .apply_config_change(
                msg.resources,
                msg.attributes,
                msg.force,
                ChangeSource::Master,
            )
            .err()
            .map(|e| (e.status, e.body));
        self.report_config(ctx, Some(msg.request_id), refusal);
    }

    /// UPDATE_AGENT on the agent's own `POST /api/v1`.
    pub(super) fn update_agent_call(
        &mut self,
        ctx: &mut Context<Self>,
        update: UpdateAgent,
        reply: HttpReply,
    ) {
        if let (Some(asked), Some(me)) = (&update.agent_id, &self.id) {
            if asked != me {
                return reply.respond(error_response(HttpError::bad_request(format!(
                    "Failed to validate UPDATE_AGENT: 'agent_id' {asked} is not this agent ({me})"
                ))));
            }
        }
        let force = update.force();
        match self.apply_config_change(
            update.resources,
            update.attributes,
            force,
            ChangeSource::OperatorApi,
        ) {
            Ok(changed) => {
                if changed {
                    self.report_config(ctx, None, None);
                }
                reply.respond(HttpResponse::text(
                    libprocess::http_types::StatusCode::OK,
                    "",
                ));
            }
            Err(e) => reply.respond(error_response(e)),
        }
    }

    /// SIGHUP: the flags' `--resources` and `--attributes` were read again. They become the
    /// agent's flags (what a restart compares against) and are applied like UPDATE_AGENT,
    /// without force: a total below what tasks use is refused and logged, nothing changes.
    pub(super) fn reload_flags(
        &mut self,
        ctx: &mut Context<Self>,
        resources: Resources,
        attributes: Attributes,
    ) {
        match self.apply_config_change(
            Some(resources.clone()),
            Some(attributes.clone()),
            false,
            ChangeSource::Sighup,
        ) {
            Ok(changed) => {
                self.config.resources = resources;
                self.config.attributes = attributes;
                if self.id.is_some() {
                    // The flags record must follow the flags even when nothing changed.
                    self.checkpoint_agent();
                }
                if changed {
                    self.report_config(ctx, None, None);
                }
            }
            Err(_) => {
                // Logged by apply_config_change; the agent keeps its configuration and
                // its old flags.
            }
        }
    }
}
