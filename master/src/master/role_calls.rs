//! The master's weight and quota calls: the v1 operator calls GET_WEIGHTS, UPDATE_WEIGHTS,
//! GET_QUOTA, UPDATE_QUOTA, SET_QUOTA and REMOVE_QUOTA, and the legacy endpoints
//! `GET|PUT /weights` and `GET|POST /quota`, `DELETE /quota/<role>` (also under
//! `/master`). The shell around [`RoleControls`]: it gathers the cluster's capacity and the
//! roles' consumption from the books, has the pure core check the request, writes the
//! change to the registry, and only once the registry has it (durable on a quorum when
//! replicated) applies it to the master's copy and the allocator and answers 200. A refused
//! request changes nothing.
//!
//! Also the role gauges of `/metrics/snapshot`: quota guarantees and limits, each quota
//! role's offered-or-allocated amounts, and every role's dominant share.

use std::collections::{BTreeMap, BTreeSet};

use libprocess::http_types::{header, HeaderValue, Method, StatusCode};
use libprocess::{Context, HttpReply, HttpRequest, HttpResponse};
use meso_api::http::operator::{operator_response, MasterCall, MasterCallType};
use meso_api::http::role_controls::{QuotaRequest, WeightInfo};
use meso_api::http::HttpError;
use meso_api::resources::Value as ResourceValue;
use meso_api::Resources;
use serde_json::{json, Value};

use super::allocation::AllocatorCall;
use super::legacy::error_response;
use super::registrar::RegistryChange;
use super::role_controls::{
    add_into, allocator_quota, amounts_of, offers_to_rescind, Amounts, RoleControls,
};
use super::roles_json::role_books;
use super::{Master, PendingAdmission};

fn json_ok(body: &Value) -> HttpResponse {
    let mut r = HttpResponse::text(StatusCode::OK, body.to_string());
    r.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn typed(kind: MasterCallType, payload: Value) -> HttpResponse {
    let mut r = HttpResponse::text(
        StatusCode::OK,
        operator_response(kind.as_str(), Some(&payload.to_string())),
    );
    r.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
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
    /// The cluster's capacity as the quota checks count it: the non-revocable scalars of
    /// every registered agent, connected or not (Mesos's choice: a disconnection is
    /// usually transient).
    fn quota_capacity(&self) -> Amounts {
        let mut total = Amounts::new();
        for a in self.agents.iter() {
            add_into(&mut total, &amounts_of(&a.info.resources));
        }
        total
    }

    /// Resource names that are not scalars on some agent (quota cannot name them).
    fn non_scalar_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for a in self.agents.iter() {
            for r in a.info.resources.iter() {
                if !matches!(r.value, ResourceValue::Scalar(_)) {
                    out.insert(r.name.to_string());
                }
            }
        }
        out
    }

    /// Each role's quota consumption: its reservations plus the unreserved resources its
    /// tasks use.
    fn quota_consumption(&self) -> BTreeMap<String, Amounts> {
        role_books(&self.state_view())
            .into_iter()
            .map(|(role, b)| {
                let mut used = amounts_of(&b.reserved);
                add_into(&mut used, &amounts_of(&b.allocated.unreserved()));
                (role, used)
            })
            .collect()
    }

    /// Answers a weight or quota call of the v1 operator API (and GET_ROLES, which shows
    /// them); `None` hands other calls back.
    pub(super) fn serve_role_call(
        &mut self,
        ctx: &mut Context<Self>,
        call: MasterCall,
        reply: HttpReply,
    ) -> Option<(MasterCall, HttpReply)> {
        let kind = call.kind;
        let controls = &self.operator.roles;
        let refused = match kind {
            MasterCallType::GetRoles => {
                let payload = super::operator_api::get_roles(&self.state_view(), controls);
                reply.respond(typed(kind, payload));
                return None;
            }
            MasterCallType::GetWeights => {
                let payload = json!({ "weight_infos": controls.weight_infos() });
                reply.respond(typed(kind, payload));
                return None;
            }
            MasterCallType::GetQuota => {
                let payload = json!({ "status": controls.quota_status() });
                reply.respond(typed(kind, payload));
                return None;
            }
            MasterCallType::UpdateWeights => {
                let infos = call.update_weights.unwrap_or_default().weight_infos;
                match RoleControls::check_weights(&infos) {
                    Ok(w) => {
                        return self.write_role_change(ctx, RegistryChange::UpdateWeights(w), reply)
                    }
                    Err(e) => e,
                }
            }
            MasterCallType::UpdateQuota => {
                let update = call.update_quota.unwrap_or_default();
                let consumption = self.quota_consumption();
                let checked = controls.check_update_quota(
                    &update,
                    |role| consumption.get(role).cloned().unwrap_or_default(),
                    &self.quota_capacity(),
                    &self.non_scalar_names(),
                );
                match checked {
                    Ok(q) => {
                        return self.write_role_change(ctx, RegistryChange::UpdateQuotas(q), reply)
                    }
                    Err(e) => e,
                }
            }
            MasterCallType::SetQuota => match call.set_quota {
                Some(s) => return self.set_quota(ctx, &s.quota_request, reply),
                None => HttpError::bad_request("Expecting 'set_quota' to be present"),
            },
            MasterCallType::RemoveQuota => match call.remove_quota {
                Some(r) => return self.remove_quota(ctx, &r.role, reply),
                None => HttpError::bad_request("Expecting 'remove_quota' to be present"),
            },
            _ => return Some((call, reply)),
        };
        reply.respond(error_response(refused));
        None
    }

    fn set_quota(
        &mut self,
        ctx: &mut Context<Self>,
        request: &QuotaRequest,
        reply: HttpReply,
    ) -> Option<(MasterCall, HttpReply)> {
        match self
            .operator
            .roles
            .check_set_quota(request, &self.quota_capacity())
        {
            Ok((role, q)) => self.write_role_change(
                ctx,
                RegistryChange::UpdateQuotas(BTreeMap::from([(role, q)])),
                reply,
            ),
            Err(e) => {
                reply.respond(error_response(e));
                None
            }
        }
    }

    fn remove_quota(
        &mut self,
        ctx: &mut Context<Self>,
        role: &str,
        reply: HttpReply,
    ) -> Option<(MasterCall, HttpReply)> {
        match self.operator.roles.check_remove_quota(role) {
            Ok(()) => self.write_role_change(
                ctx,
                RegistryChange::UpdateQuotas(BTreeMap::from([(
                    role.to_string(),
                    Default::default(),
                )])),
                reply,
            ),
            Err(e) => {
                reply.respond(error_response(e));
                None
            }
        }
    }

    fn write_role_change(
        &mut self,
        ctx: &mut Context<Self>,
        change: RegistryChange,
        reply: HttpReply,
    ) -> Option<(MasterCall, HttpReply)> {
        self.registry(ctx, change, Some(PendingAdmission::Operator(reply)));
        None
    }

    /// The registry answered a weight or quota change: apply it and answer the operator.
    pub(super) fn role_change_done(
        &mut self,
        ctx: &mut Context<Self>,
        change: &RegistryChange,
        applied: bool,
        reply: HttpReply,
    ) {
        if !applied {
            reply.respond(error_response(HttpError::new(
                409,
                "the registry refused the change; nothing was applied",
            )));
            return;
        }
        self.apply_role_change(change);
        if let RegistryChange::UpdateQuotas(quotas) = change {
            self.rescind_for_quota(ctx, quotas);
        }
        reply.respond(HttpResponse::text(StatusCode::OK, ""));
    }

    /// After a quota change, rescinds the outstanding offers that would let a role exceed
    /// its new limits, and others' offers to make room for its new guarantees (Mesos's
    /// heuristic; see [`offers_to_rescind`]). The allocator has the new quota before the
    /// rescinded resources come back to it.
    fn rescind_for_quota(
        &mut self,
        ctx: &mut Context<Self>,
        quotas: &BTreeMap<String, meso_registry::QuotaRecord>,
    ) {
        let offers: Vec<(meso_api::v1::OfferId, String, Amounts)> = self
            .offers
            .iter()
            .map(|o| {
                (
                    o.offer.id.clone(),
                    o.role.clone(),
                    amounts_of(&o.offer.resources),
                )
            })
            .collect();
        if offers.is_empty() {
            return;
        }
        let consumption = self.quota_consumption();
        let mut taken = BTreeSet::new();
        let mut chosen = Vec::new();
        for (role, quota) in quotas {
            let consumed = consumption.get(role).cloned().unwrap_or_default();
            chosen.extend(offers_to_rescind(
                role, quota, &consumed, &offers, &mut taken,
            ));
        }
        for id in chosen {
            self.rescind_offer(ctx, &id, None);
        }
    }

    /// Applies a weight or quota change (written or recovered) to the master's copy and
    /// the allocator.
    pub(super) fn apply_role_change(&mut self, change: &RegistryChange) {
        match change {
            RegistryChange::UpdateWeights(w) => {
                self.operator.roles.apply_weights(w);
                self.allocator(AllocatorCall::UpdateWeights(
                    w.iter().map(|(r, w)| (r.clone(), *w)).collect(),
                ));
            }
            RegistryChange::UpdateQuotas(q) => {
                self.operator.roles.apply_quotas(q);
                for (role, quota) in q {
                    self.allocator(AllocatorCall::UpdateQuota(
                        role.clone(),
                        allocator_quota(quota),
                    ));
                }
            }
            _ => {}
        }
    }

    /// Called at start, after recovery: the `--weights` flag's weights become the registry's
    /// when it has none (Mesos's bootstrap); otherwise the registry's are kept and the flag
    /// is ignored with a warning.
    pub(super) fn seed_flag_weights(&mut self, ctx: &mut Context<Self>) {
        if self.config.weights.is_empty() {
            return;
        }
        if !self.operator.roles.weights.is_empty() {
            libprocess::slog::warn!(
                ctx.node().logger(),
                "--weights is ignored: the registry already holds weights"
            );
            return;
        }
        let change = RegistryChange::UpdateWeights(self.config.weights.clone());
        self.apply_role_change(&change);
        self.registry(ctx, change, None);
    }

    /// Answers `/weights`, `/quota` and `/quota/<role>` (the `/master` prefix already
    /// removed); `None` hands other routes back.
    pub(super) fn serve_role_endpoint(
        &mut self,
        ctx: &mut Context<Self>,
        route: &str,
        request: HttpRequest,
        reply: HttpReply,
    ) -> Option<(HttpRequest, HttpReply)> {
        let method = request.method.clone();
        let refused = match route {
            "/weights" => match method {
                Method::GET => {
                    reply.respond(json_ok(&self.operator.roles.weight_infos()));
                    return None;
                }
                Method::PUT => {
                    match serde_json::from_slice::<Vec<WeightInfo>>(&request.body)
                        .map_err(|e| {
                            HttpError::bad_request(format!(
                                "Failed to parse update weights request JSON '{}': {e}",
                                String::from_utf8_lossy(&request.body)
                            ))
                        })
                        .and_then(|infos| RoleControls::check_weights(&infos))
                    {
                        Ok(w) => {
                            self.registry(
                                ctx,
                                RegistryChange::UpdateWeights(w),
                                Some(PendingAdmission::Operator(reply)),
                            );
                            return None;
                        }
                        Err(e) => e,
                    }
                }
                _ => method_not_allowed("GET, PUT"),
            },
            "/quota" => match method {
                Method::GET => {
                    reply.respond(json_ok(&self.operator.roles.quota_status()));
                    return None;
                }
                Method::POST => match serde_json::from_slice::<QuotaRequest>(&request.body) {
                    Ok(q) => {
                        self.set_quota(ctx, &q, reply);
                        return None;
                    }
                    Err(e) => HttpError::bad_request(format!(
                        "Failed to parse set quota request JSON '{}': {e}",
                        String::from_utf8_lossy(&request.body)
                    )),
                },
                Method::DELETE => HttpError::bad_request(
                    "Failed to parse remove quota request for path '/quota': \
                     expected '/quota/<role>'",
                ),
                _ => method_not_allowed("GET, POST, DELETE"),
            },
            r if r.starts_with("/quota/") => match method {
                Method::DELETE => {
                    let role = r.trim_start_matches("/quota/").to_string();
                    self.remove_quota(ctx, &role, reply);
                    return None;
                }
                _ => method_not_allowed("GET, POST, DELETE"),
            },
            _ => return Some((request, reply)),
        };
        reply.respond(error_response(refused));
        None
    }

    /// The role gauges by Mesos name: `allocator/mesos/roles/<role>/shares/dominant` (the
    /// unweighted share, as Mesos's sorter reports it), the quota guarantees and limits, and
    /// `allocator/mesos/quota/roles/<role>/resources/<name>/offered_or_allocated`.
    pub(super) fn role_metrics(&self) -> BTreeMap<String, f64> {
        let controls = &self.operator.roles;
        let mut out = controls.quota_metrics();
        let total = self.quota_capacity();
        for (role, b) in role_books(&self.state_view()) {
            let mut held: Resources = b.allocated.clone();
            held += &b.offered;
            let held = amounts_of(&held);
            let share = held
                .iter()
                .filter_map(|(n, v)| {
                    let t = *total.get(n)?;
                    (t > 0).then(|| *v as f64 / t as f64)
                })
                .fold(0.0f64, f64::max);
            out.insert(
                format!("allocator/mesos/roles/{role}/shares/dominant"),
                share,
            );
            if let Some(q) = controls.quotas.get(&role) {
                for name in q.guarantees.keys().chain(q.limits.keys()) {
                    let v = held.get(name).copied().unwrap_or(0);
                    out.insert(
                        format!(
                            "allocator/mesos/quota/roles/{role}/resources/{name}/offered_or_allocated"
                        ),
                        meso_api::resources::Scalar::from_milli(v).as_f64(),
                    );
                }
            }
        }
        out
    }
}
