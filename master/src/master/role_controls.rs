//! [`RoleControls`]: the role weights and quotas the operator sets (UPDATE_WEIGHTS,
//! UPDATE_QUOTA and the legacy `/weights` and `/quota`), as the master holds them between
//! registry writes, with Mesos's validation of each request and the JSON it answers with.
//! Pure: the shell (`role_calls.rs`) gathers the cluster's capacity and each role's
//! consumption, writes the checked change to the registry, and only then applies it here and
//! to the allocator.
//!
//! Invariants: every weight is finite and positive, and 1.0 is the default, stored as absent
//! (as the registry stores it); every quota has a valid, non-nested role other than `*`,
//! non-negative amounts in thousandths, guarantees within limits, and at least one amount.
//!
//! Amounts are in thousandths of a unit by resource name (`cpus: 1500` is 1.5 CPUs).

use std::collections::{BTreeMap, BTreeSet};

use meso_api::http::role_controls::{QuotaConfig, QuotaRequest, UpdateQuota, WeightInfo};
use meso_api::http::HttpError;
use meso_api::resources::{Scalar, Value as ResourceValue};
use meso_api::Resources;
use meso_registry::QuotaRecord;
use serde_json::{json, Value};

/// Scalar amounts (thousandths) by resource name.
pub type Amounts = BTreeMap<String, i64>;

/// Largest `mem` or `disk` amount in a quota (1 exabyte in MB, Mesos's bound).
const MAX_MEM_UNITS: f64 = 1024.0 * 1024.0 * 1024.0 * 1024.0;
/// Largest amount of any other resource in a quota (one trillion, Mesos's bound).
const MAX_OTHER_UNITS: f64 = 1e12;

/// The non-revocable scalar amounts of `r`, by name.
pub fn amounts_of(r: &Resources) -> Amounts {
    let mut out = Amounts::new();
    for item in r.non_revocable().iter() {
        if let ResourceValue::Scalar(s) = &item.value {
            *out.entry(item.name.to_string()).or_default() += s.milli();
        }
    }
    out
}

/// Adds `b` into `a`.
pub fn add_into(a: &mut Amounts, b: &Amounts) {
    for (name, v) in b {
        *a.entry(name.clone()).or_default() += v;
    }
}

/// True if `a` holds at least `b` of every name (names absent from `a` hold 0).
pub fn covers(a: &Amounts, b: &Amounts) -> bool {
    b.iter().all(|(n, v)| *v <= a.get(n).copied().unwrap_or(0))
}

/// True if `limits` allow `consumed` (names absent from `limits` are unlimited).
pub fn within_limits(limits: &Amounts, consumed: &Amounts) -> bool {
    consumed
        .iter()
        .all(|(n, v)| limits.get(n).is_none_or(|l| v <= l))
}

/// Amounts as Mesos prints `ResourceQuantities`: `cpus:1.5; mem:512`.
pub fn show(a: &Amounts) -> String {
    if a.is_empty() {
        return "{}".to_string();
    }
    a.iter()
        .map(|(n, v)| format!("{n}:{}", Scalar::from_milli(*v)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn as_units(milli: i64) -> f64 {
    Scalar::from_milli(milli).as_f64()
}

/// The allocator's form of a quota.
pub fn allocator_quota(q: &QuotaRecord) -> meso_allocator::Quota {
    let scalars = |a: &Amounts| {
        meso_allocator::Quantities(
            a.iter()
                .map(|(n, v)| (n.clone(), Scalar::from_milli(*v)))
                .collect(),
        )
    };
    meso_allocator::Quota {
        guarantees: scalars(&q.guarantees),
        limits: scalars(&q.limits),
    }
}

/// A valid role name that may hold quota: not nested (Mesos 1.11 refuses quota on nested
/// roles) and not `*` (meso's allocator keeps no quota for the default role).
fn check_quota_role(role: &str, what: &str) -> Result<(), HttpError> {
    meso_api::roles::validate_role(role)
        .map_err(|e| HttpError::bad_request(format!("{what}: Invalid role '{role}': {e}")))?;
    if role.contains('/') {
        return Err(HttpError::bad_request(format!(
            "{what}: Updating quota on nested role '{role}' is not supported yet"
        )));
    }
    if role == "*" {
        return Err(HttpError::bad_request(format!(
            "{what}: the default role '*' cannot have quota"
        )));
    }
    Ok(())
}

/// One amount of a quota, checked (finite, non-negative, within Mesos's bounds, a scalar
/// resource) and turned into thousandths.
fn check_amount(
    name: &str,
    value: f64,
    field: &str,
    non_scalar: &BTreeSet<String>,
) -> Result<i64, HttpError> {
    let bad = |why: String| {
        Err(HttpError::bad_request(format!(
            "Invalid QuotaConfig: Invalid '{field}' {{'{name}': {value}}}: {why}"
        )))
    };
    if name.is_empty() {
        return bad("the resource name is empty".to_string());
    }
    if name == "ports" || non_scalar.contains(name) {
        return bad("quota applies to scalar resources only".to_string());
    }
    let max = if name == "mem" || name == "disk" {
        MAX_MEM_UNITS
    } else {
        MAX_OTHER_UNITS
    };
    if value > max {
        return bad(format!("values greater than {max} are not supported"));
    }
    match Scalar::from_f64(value) {
        Ok(s) => Ok(s.milli()),
        Err(e) => bad(e.to_string()),
    }
}

/// What a role's quota looks like to the operator, and its amounts checked.
fn check_config(
    config: &QuotaConfig,
    non_scalar: &BTreeSet<String>,
) -> Result<QuotaRecord, HttpError> {
    if config.role.is_empty() {
        return Err(HttpError::bad_request(
            "Invalid QuotaConfig: 'QuotaConfig.role' must be set",
        ));
    }
    check_quota_role(&config.role, "Invalid QuotaConfig")?;
    let mut record = QuotaRecord::default();
    for (name, v) in &config.guarantees {
        let milli = check_amount(name, v.value, "QuotaConfig.guarantees", non_scalar)?;
        record.guarantees.insert(name.clone(), milli);
    }
    for (name, v) in &config.limits {
        let milli = check_amount(name, v.value, "QuotaConfig.limits", non_scalar)?;
        record.limits.insert(name.clone(), milli);
    }
    if !within_limits(&record.limits, &record.guarantees) {
        return Err(HttpError::bad_request(format!(
            "Invalid QuotaConfig: role '{}': 'QuotaConfig.guarantees' {} is not contained \
             within the 'QuotaConfig.limits' {}",
            config.role,
            show(&record.guarantees),
            show(&record.limits)
        )));
    }
    Ok(record)
}

/// True if `offer_role` is `role` or below it (`eng/web` is below `eng`).
fn in_subtree(offer_role: &str, role: &str) -> bool {
    offer_role == role
        || offer_role
            .strip_prefix(role)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Which outstanding offers to rescind after `role`'s quota became `quota`, as Mesos does
/// it: first the role's own offers while what it consumes plus what it is offered exceeds
/// its limits, then other roles' offers until what was rescinded plus what the role
/// consumes and is offered covers its guarantees. `offers` are (key, role, amounts) in the
/// order to consider them; keys in `taken` are skipped and the chosen ones added to it.
pub fn offers_to_rescind<K: Clone + Ord>(
    role: &str,
    quota: &QuotaRecord,
    consumed: &Amounts,
    offers: &[(K, String, Amounts)],
    taken: &mut BTreeSet<K>,
) -> Vec<K> {
    let mut out = Vec::new();
    let mut held = consumed.clone();
    for (_, r, a) in offers {
        if in_subtree(r, role) {
            add_into(&mut held, a);
        }
    }
    for (key, r, a) in offers {
        if within_limits(&quota.limits, &held) {
            break;
        }
        if !in_subtree(r, role) || taken.contains(key) {
            continue;
        }
        for (n, v) in a {
            *held.entry(n.clone()).or_default() -= v;
        }
        taken.insert(key.clone());
        out.push(key.clone());
    }
    let mut rescinded = held;
    for (key, r, a) in offers {
        if covers(&rescinded, &quota.guarantees) {
            break;
        }
        if in_subtree(r, role) || taken.contains(key) {
            continue;
        }
        add_into(&mut rescinded, a);
        taken.insert(key.clone());
        out.push(key.clone());
    }
    out
}

/// Parses the deprecated `--weights` master flag, `role=weight,role=weight` (Mesos's form):
/// every role valid, every weight finite and positive; the error names the bad pair.
pub fn parse_weights_flag(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((role, weight)) = pair.split_once('=') else {
            return Err(format!("'{pair}' is not of the form role=weight"));
        };
        let role = role.trim();
        meso_api::roles::validate_role(role)
            .map_err(|e| format!("'{pair}': invalid role '{role}': {e}"))?;
        let weight: f64 = weight
            .trim()
            .parse()
            .map_err(|_| format!("'{pair}': weight '{}' is not a number", weight.trim()))?;
        if !weight.is_finite() || weight <= 0.0 {
            return Err(format!("'{pair}': weights must be positive"));
        }
        out.insert(role.to_string(), weight);
    }
    Ok(out)
}

/// The operator's weights and quotas. See the module docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleControls {
    /// Weights other than 1.0, by role.
    pub weights: BTreeMap<String, f64>,
    /// Quotas, by role.
    pub quotas: BTreeMap<String, QuotaRecord>,
}

impl RoleControls {
    /// A role's weight (1.0 unless set).
    pub fn weight(&self, role: &str) -> f64 {
        self.weights.get(role).copied().unwrap_or(1.0)
    }

    /// Checks UPDATE_WEIGHTS's (or `PUT /weights`'s) weight infos as Mesos does (each role
    /// a valid name once trimmed, each weight positive and finite) and returns the weights
    /// to write; the whole request is refused on the first bad entry.
    pub fn check_weights(infos: &[WeightInfo]) -> Result<BTreeMap<String, f64>, HttpError> {
        let mut out = BTreeMap::new();
        for info in infos {
            let role = info.role.trim();
            meso_api::roles::validate_role(role).map_err(|e| {
                HttpError::bad_request(format!(
                    "Failed to validate update weights request JSON: Invalid role '{role}': {e}"
                ))
            })?;
            if !info.weight.is_finite() || info.weight <= 0.0 {
                return Err(HttpError::bad_request(format!(
                    "Failed to validate update weights request JSON for role '{role}': \
                     Invalid weight '{}': Weights must be positive",
                    info.weight
                )));
            }
            out.insert(role.to_string(), info.weight);
        }
        Ok(out)
    }

    /// Applies written weights (1.0 goes back to the default).
    pub fn apply_weights(&mut self, weights: &BTreeMap<String, f64>) {
        for (role, w) in weights {
            if *w == 1.0 {
                self.weights.remove(role);
            } else {
                self.weights.insert(role.clone(), *w);
            }
        }
    }

    /// Applies written quotas (an empty one removes the role's).
    pub fn apply_quotas(&mut self, quotas: &BTreeMap<String, QuotaRecord>) {
        for (role, q) in quotas {
            if q.guarantees.is_empty() && q.limits.is_empty() {
                self.quotas.remove(role);
            } else {
                self.quotas.insert(role.clone(), q.clone());
            }
        }
    }

    /// The sum of the guarantees with `changes` applied.
    fn total_guarantees(&self, changes: &BTreeMap<String, QuotaRecord>) -> Amounts {
        let mut total = Amounts::new();
        for (role, q) in &self.quotas {
            if !changes.contains_key(role) {
                add_into(&mut total, &q.guarantees);
            }
        }
        for q in changes.values() {
            add_into(&mut total, &q.guarantees);
        }
        total
    }

    /// Checks UPDATE_QUOTA as Mesos 1.9+ does: every config valid (else 400); unless
    /// `force`, no role's new limits below what it already consumes, and the sum of all
    /// guarantees within the cluster's `capacity` (each refusal a 400 naming the role or
    /// the totals). `consumed` gives a role's quota consumption (reservations plus
    /// unreserved allocations); `non_scalar` names resources that are not scalars on any
    /// agent. Returns the quotas to write, all or nothing.
    pub fn check_update_quota(
        &self,
        update: &UpdateQuota,
        consumed: impl Fn(&str) -> Amounts,
        capacity: &Amounts,
        non_scalar: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, QuotaRecord>, HttpError> {
        let force = update.force.unwrap_or(false);
        let mut changes = BTreeMap::new();
        for config in &update.quota_configs {
            let record = check_config(config, non_scalar)?;
            if changes.insert(config.role.clone(), record).is_some() {
                return Err(HttpError::bad_request(format!(
                    "Invalid QuotaConfig: role '{}' appears more than once",
                    config.role
                )));
            }
        }
        if force {
            return Ok(changes);
        }
        for (role, q) in &changes {
            let used = consumed(role);
            if !within_limits(&q.limits, &used) {
                return Err(HttpError::bad_request(format!(
                    "Invalid QuotaConfig: Role '{role}' is already consuming '{}'; this is \
                     more than the requested limits '{}' (use 'force' flag to bypass this check)",
                    show(&used),
                    show(&q.limits)
                )));
            }
        }
        let total = self.total_guarantees(&changes);
        if !covers(capacity, &total) {
            return Err(HttpError::bad_request(format!(
                "Invalid QuotaConfig: total quota guarantees '{}' exceed cluster capacity '{}' \
                 (use 'force' flag to bypass this check)",
                show(&total),
                show(capacity)
            )));
        }
        Ok(changes)
    }

    /// Checks the deprecated SET_QUOTA / `POST /quota`: a valid role without quota (400),
    /// a non-empty guarantee of unreserved, non-revocable scalars given once each (400);
    /// unless `force`, the guarantees fit `capacity` (409, Mesos's capacity heuristic).
    /// The guarantee also becomes the limit, as Mesos 1.9+ does. Returns the role and quota.
    pub fn check_set_quota(
        &self,
        request: &QuotaRequest,
        capacity: &Amounts,
    ) -> Result<(String, QuotaRecord), HttpError> {
        let bad = |why: String| {
            Err(HttpError::bad_request(format!(
                "Failed to validate set quota request: {why}"
            )))
        };
        let role = request.role.as_str();
        if role.is_empty() {
            return bad("QuotaInfo must specify a role".to_string());
        }
        check_quota_role(role, "Failed to validate set quota request")?;
        if request.guarantee.is_empty() {
            return bad("QuotaInfo with empty 'guarantee'".to_string());
        }
        let mut amounts = Amounts::new();
        for r in request.guarantee.iter() {
            if !r.reservations.is_empty() {
                return bad("QuotaInfo must not contain any ReservationInfo".to_string());
            }
            if r.disk.is_some() {
                return bad("QuotaInfo must not contain DiskInfo".to_string());
            }
            if r.revocable {
                return bad("QuotaInfo must not contain RevocableInfo".to_string());
            }
            let ResourceValue::Scalar(s) = &r.value else {
                return bad("QuotaInfo must not include non-scalar resources".to_string());
            };
            if amounts.insert(r.name.to_string(), s.milli()).is_some() {
                return bad(format!(
                    "QuotaInfo contains duplicate resource name '{}'",
                    r.name
                ));
            }
        }
        if self.quotas.contains_key(role) {
            return bad(format!(
                "Cannot set quota for role '{role}' which already has quota"
            ));
        }
        let record = QuotaRecord {
            guarantees: amounts.clone(),
            limits: amounts,
        };
        if !request.force.unwrap_or(false) {
            let total =
                self.total_guarantees(&BTreeMap::from([(role.to_string(), record.clone())]));
            if !covers(capacity, &total) {
                return Err(HttpError::new(
                    409,
                    format!(
                        "Quota guarantees overcommit the cluster (use 'force' to bypass this \
                         check): Total quota guarantees '{}' exceed cluster capacity '{}'",
                        show(&total),
                        show(capacity)
                    ),
                ));
            }
        }
        Ok((role.to_string(), record))
    }

    /// Checks the deprecated REMOVE_QUOTA / `DELETE /quota/<role>`: the role must be valid
    /// and have quota (400).
    pub fn check_remove_quota(&self, role: &str) -> Result<(), HttpError> {
        meso_api::roles::validate_role(role).map_err(|e| {
            HttpError::bad_request(format!(
                "Failed to validate remove quota request: Unknown role '{role}': {e}"
            ))
        })?;
        if !self.quotas.contains_key(role) {
            return Err(HttpError::bad_request(format!(
                "Failed to remove quota: Role '{role}' has no quota set"
            )));
        }
        Ok(())
    }

    /// The weights as `[{"role": .., "weight": ..}]` (GET_WEIGHTS's `weight_infos` and the
    /// legacy `GET /weights` body).
    pub fn weight_infos(&self) -> Value {
        self.weights
            .iter()
            .map(|(role, weight)| json!({"role": role, "weight": weight}))
            .collect()
    }

    /// `quota.QuotaStatus` (GET_QUOTA's `status` and the legacy `GET /quota` body): the
    /// deprecated `infos` (role and guarantees as resources) and the `configs`.
    pub fn quota_status(&self) -> Value {
        let scalars = |a: &Amounts| -> Value {
            a.iter()
                .map(|(n, v)| (n.clone(), json!({"value": as_units(*v)})))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let infos: Vec<Value> = self
            .quotas
            .iter()
            .map(|(role, q)| {
                json!({
                    "role": role,
                    "guarantee": q.guarantees.iter().map(|(n, v)| json!({
                        "name": n, "type": "SCALAR", "scalar": {"value": as_units(*v)},
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let configs: Vec<Value> = self
            .quotas
            .iter()
            .map(|(role, q)| {
                let mut c = json!({"role": role});
                if !q.guarantees.is_empty() {
                    c["guarantees"] = scalars(&q.guarantees);
                }
                if !q.limits.is_empty() {
                    c["limits"] = scalars(&q.limits);
                }
                c
            })
            .collect();
        let mut status = json!({});
        if !infos.is_empty() {
            status["infos"] = infos.into();
            status["configs"] = configs.into();
        }
        status
    }

    /// A role's quota as `/master/roles` shows it: `{"role", "guarantee", "limit",
    /// "consumed"}` with amounts in units by name.
    pub fn roles_quota(&self, role: &str, consumed: &Amounts) -> Value {
        let units = |a: &Amounts| -> Value {
            a.iter()
                .map(|(n, v)| (n.clone(), json!(as_units(*v))))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let empty = QuotaRecord::default();
        let q = self.quotas.get(role).unwrap_or(&empty);
        json!({
            "role": role,
            "guarantee": units(&q.guarantees),
            "limit": units(&q.limits),
            "consumed": units(consumed),
        })
    }

    /// The quota gauges by Mesos name:
    /// `allocator/mesos/quota/roles/<role>/resources/<name>/guarantee` and `/limit`.
    pub fn quota_metrics(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (role, q) in &self.quotas {
            let prefix = format!("allocator/mesos/quota/roles/{role}/resources");
            for (name, v) in &q.guarantees {
                out.insert(format!("{prefix}/{name}/guarantee"), as_units(*v));
            }
            for (name, v) in &q.limits {
                out.insert(format!("{prefix}/{name}/limit"), as_units(*v));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meso_api::http::role_controls::ScalarValue;

    fn amounts(pairs: &[(&str, i64)]) -> Amounts {
        pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    fn config(role: &str, g: &[(&str, f64)], l: &[(&str, f64)]) -> QuotaConfig {
        let map = |p: &[(&str, f64)]| {
            p.iter()
                .map(|(n, v)| (n.to_string(), ScalarValue { value: *v }))
                .collect()
        };
        QuotaConfig {
            role: role.to_string(),
            guarantees: map(g),
            limits: map(l),
        }
    }

    fn update(force: bool, configs: Vec<QuotaConfig>) -> UpdateQuota {
        UpdateQuota {
            force: Some(force),
            quota_configs: configs,
        }
    }

    fn none(_: &str) -> Amounts {
        Amounts::new()
    }

    #[test]
    fn weights_must_name_valid_roles_and_be_positive() {
        let info = |role: &str, weight: f64| WeightInfo {
            role: role.to_string(),
            weight,
        };
        let ok = RoleControls::check_weights(&[info(" a ", 2.0), info("b", 0.5)]).unwrap();
        assert_eq!(ok, BTreeMap::from([("a".into(), 2.0), ("b".into(), 0.5)]));
        for (bad, says) in [
            (info("a", 0.0), "Weights must be positive"),
            (info("a", -1.0), "Weights must be positive"),
            (info("a", f64::NAN), "Weights must be positive"),
            (info("", 1.0), "Invalid role ''"),
            (info("..", 1.0), "Invalid role '..'"),
        ] {
            let e = RoleControls::check_weights(&[info("fine", 2.0), bad]).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.body.contains(says), "{}", e.body);
        }
        let mut c = RoleControls::default();
        c.apply_weights(&ok);
        assert_eq!(c.weight("a"), 2.0);
        assert_eq!(c.weight("z"), 1.0);
        c.apply_weights(&BTreeMap::from([("a".into(), 1.0)]));
        assert_eq!(c.weight_infos(), json!([{"role": "b", "weight": 0.5}]));
    }

    #[test]
    fn rescinds_enforce_limits_then_make_room_for_guarantees() {
        let offer =
            |k: u32, role: &str, cpus: i64| (k, role.to_string(), amounts(&[("cpus", cpus)]));
        let offers = vec![
            offer(1, "a", 2000),
            offer(2, "b", 1000),
            offer(3, "a/x", 2000),
            offer(4, "ab", 3000),
            offer(5, "b", 1000),
        ];
        // a consumes 1 and is offered 4 (a/x is below a, ab is not): limit 3 takes 2 of a's.
        let limit = QuotaRecord {
            guarantees: Amounts::new(),
            limits: amounts(&[("cpus", 3000)]),
        };
        let mut taken = BTreeSet::new();
        let chosen = offers_to_rescind(
            "a",
            &limit,
            &amounts(&[("cpus", 1000)]),
            &offers,
            &mut taken,
        );
        assert_eq!(chosen, vec![1]);
        // b holds 2 in offers; a guarantee of 4 takes others' offers until 4 is covered,
        // never an offer already taken.
        let guarantee = QuotaRecord {
            guarantees: amounts(&[("cpus", 4000)]),
            limits: Amounts::new(),
        };
        let chosen = offers_to_rescind("b", &guarantee, &Amounts::new(), &offers, &mut taken);
        assert_eq!(chosen, vec![3]);
        let none = offers_to_rescind(
            "b",
            &QuotaRecord::default(),
            &Amounts::new(),
            &offers,
            &mut taken,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn the_weights_flag_is_role_equals_weight_pairs() {
        assert_eq!(
            parse_weights_flag("a=2, b=0.5").unwrap(),
            BTreeMap::from([("a".into(), 2.0), ("b".into(), 0.5)])
        );
        assert_eq!(parse_weights_flag("").unwrap(), BTreeMap::new());
        for (bad, says) in [
            ("a", "role=weight"),
            ("a=x", "not a number"),
            ("a=0", "positive"),
            ("..=1", "invalid role"),
        ] {
            let e = parse_weights_flag(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn update_quota_checks_configs_consumption_and_capacity_unless_forced() {
        let c = RoleControls::default();
        let capacity = amounts(&[("cpus", 8000), ("mem", 4_096_000)]);
        let ns = BTreeSet::new();
        let ok = c
            .check_update_quota(
                &update(false, vec![config("a", &[("cpus", 2.0)], &[("cpus", 4.0)])]),
                none,
                &capacity,
                &ns,
            )
            .unwrap();
        assert_eq!(ok["a"].guarantees, amounts(&[("cpus", 2000)]));
        assert_eq!(ok["a"].limits, amounts(&[("cpus", 4000)]));
        let refused = |u: UpdateQuota, consumed: &dyn Fn(&str) -> Amounts| {
            c.check_update_quota(&u, consumed, &capacity, &ns)
                .unwrap_err()
        };
        for (u, says) in [
            (
                update(false, vec![config("a", &[("cpus", 5.0)], &[("cpus", 4.0)])]),
                "is not contained within",
            ),
            (update(false, vec![config("", &[], &[])]), "must be set"),
            (update(false, vec![config("a/b", &[], &[])]), "nested role"),
            (update(false, vec![config("*", &[], &[])]), "'*'"),
            (
                update(false, vec![config("a", &[("cpus", -1.0)], &[])]),
                "negative",
            ),
            (
                update(false, vec![config("a", &[("ports", 1.0)], &[])]),
                "scalar",
            ),
            (
                update(false, vec![config("a", &[("mem", 1e15)], &[])]),
                "not supported",
            ),
            (
                update(
                    false,
                    vec![config("a", &[], &[]), config("a", &[], &[("cpus", 1.0)])],
                ),
                "more than once",
            ),
            (
                update(
                    false,
                    vec![
                        config("a", &[("cpus", 5.0)], &[]),
                        config("b", &[("cpus", 4.0)], &[]),
                    ],
                ),
                "exceed cluster capacity",
            ),
        ] {
            let e = refused(u, &none);
            assert_eq!(e.status, 400, "{}", e.body);
            assert!(e.body.contains(says), "{} should say {says}", e.body);
        }
        let busy = |_: &str| amounts(&[("cpus", 3000)]);
        let e = refused(
            update(false, vec![config("a", &[], &[("cpus", 2.0)])]),
            &busy,
        );
        assert!(e.body.contains("already consuming 'cpus:3'"), "{}", e.body);
        // `force` skips consumption and capacity, never the config checks.
        let forced = update(
            true,
            vec![
                config("a", &[("cpus", 100.0)], &[]),
                config("b", &[], &[("cpus", 1.0)]),
            ],
        );
        assert!(c.check_update_quota(&forced, busy, &capacity, &ns).is_ok());
        let bad_forced = update(true, vec![config("a", &[("cpus", 5.0)], &[("cpus", 1.0)])]);
        assert!(c
            .check_update_quota(&bad_forced, none, &capacity, &ns)
            .is_err());
    }

    #[test]
    fn capacity_counts_the_other_roles_guarantees_but_not_the_replaced_one() {
        let mut c = RoleControls::default();
        let capacity = amounts(&[("cpus", 8000)]);
        c.apply_quotas(&BTreeMap::from([(
            "a".to_string(),
            QuotaRecord {
                guarantees: amounts(&[("cpus", 6000)]),
                limits: Amounts::new(),
            },
        )]));
        let ns = BTreeSet::new();
        let b3 = update(false, vec![config("b", &[("cpus", 3.0)], &[])]);
        assert!(c.check_update_quota(&b3, none, &capacity, &ns).is_err());
        let a7 = update(false, vec![config("a", &[("cpus", 7.0)], &[])]);
        assert!(c.check_update_quota(&a7, none, &capacity, &ns).is_ok());
        // An empty config removes a's quota, freeing its guarantee.
        let both = update(
            false,
            vec![config("a", &[], &[]), config("b", &[("cpus", 8.0)], &[])],
        );
        let changes = c.check_update_quota(&both, none, &capacity, &ns).unwrap();
        c.apply_quotas(&changes);
        assert_eq!(c.quotas.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn set_and_remove_quota_are_the_deprecated_guarantee_calls() {
        let mut c = RoleControls::default();
        let capacity = amounts(&[("cpus", 4000)]);
        let request = |role: &str, text: &str, force: bool| QuotaRequest {
            force: Some(force),
            role: role.to_string(),
            guarantee: Resources::parse(text, "*").unwrap(),
        };
        let (role, q) = c
            .check_set_quota(&request("eng", "cpus:2", false), &capacity)
            .unwrap();
        assert_eq!(role, "eng");
        assert_eq!(q.guarantees, q.limits);
        c.apply_quotas(&BTreeMap::from([(role, q)]));
        let e = c
            .check_set_quota(&request("eng", "cpus:1", false), &capacity)
            .unwrap_err();
        assert!(e.body.contains("already has quota"), "{}", e.body);
        let e = c
            .check_set_quota(&request("ops", "cpus:3", false), &capacity)
            .unwrap_err();
        assert_eq!(e.status, 409, "{}", e.body);
        assert!(c
            .check_set_quota(&request("ops", "cpus:3", true), &capacity)
            .is_ok());
        for (r, says) in [
            (request("ops", "cpus(ops):1", false), "ReservationInfo"),
            (request("ops", "ports:[1-2]", false), "non-scalar"),
            (request("", "cpus:1", false), "must specify a role"),
            (request("ops", "", false), "empty 'guarantee'"),
        ] {
            let e = c.check_set_quota(&r, &capacity).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.body.contains(says), "{}", e.body);
        }
        assert!(c.check_remove_quota("eng").is_ok());
        let e = c.check_remove_quota("ops").unwrap_err();
        assert!(e.body.contains("has no quota set"), "{}", e.body);
        let status = c.quota_status();
        assert_eq!(status["configs"][0]["limits"]["cpus"]["value"], 2.0);
        assert_eq!(status["infos"][0]["guarantee"][0]["scalar"]["value"], 2.0);
        assert_eq!(
            c.quota_metrics()["allocator/mesos/quota/roles/eng/resources/cpus/guarantee"],
            2.0
        );
    }

    proptest::proptest! {
        /// Whatever UPDATE_QUOTA a caller sends, an accepted (unforced) one leaves every
        /// guarantee within its limit and the sum of guarantees within the capacity, and a
        /// refused one is refused for one of those reasons or a bad role.
        #[test]
        fn accepted_updates_keep_guarantees_within_limits_and_capacity(
            existing in proptest::collection::btree_map("[a-c]", 0u32..6, 0..3),
            configs in proptest::collection::vec(
                ("[a-d]", proptest::option::of(0u32..8), proptest::option::of(0u32..8)), 0..4),
            capacity in 0i64..16,
        ) {
            let mut c = RoleControls::default();
            c.apply_quotas(&existing.iter().map(|(r, g)| (r.clone(), QuotaRecord {
                guarantees: amounts(&[("cpus", i64::from(*g) * 1000)]),
                limits: Amounts::new(),
            })).collect());
            let update = update(false, configs.iter().map(|(role, g, l)| {
                let g: Vec<(&str, f64)> = g.map(|g| ("cpus", f64::from(g))).into_iter().collect();
                let l: Vec<(&str, f64)> = l.map(|l| ("cpus", f64::from(l))).into_iter().collect();
                config(role, &g, &l)
            }).collect());
            let capacity = amounts(&[("cpus", capacity * 1000)]);
            match c.check_update_quota(&update, none, &capacity, &BTreeSet::new()) {
                Ok(changes) => {
                    c.apply_quotas(&changes);
                    let mut total = Amounts::new();
                    for q in c.quotas.values() {
                        proptest::prop_assert!(within_limits(&q.limits, &q.guarantees));
                        add_into(&mut total, &q.guarantees);
                    }
                    proptest::prop_assert!(covers(&capacity, &total));
                }
                Err(e) => {
                    proptest::prop_assert_eq!(e.status, 400);
                    proptest::prop_assert!(
                        e.body.contains("exceed cluster capacity")
                            || e.body.contains("is not contained within")
                            || e.body.contains("more than once"),
                        "{}", e.body
                    );
                }
            }
        }
    }
}
