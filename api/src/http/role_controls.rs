//! Payloads of the master's weight and quota calls (v1 operator API, `master.proto` and
//! `quota/quota.proto`): UPDATE_WEIGHTS's `WeightInfo`s, UPDATE_QUOTA's `QuotaConfig`s, and
//! the deprecated SET_QUOTA / REMOVE_QUOTA (whose `QuotaRequest` is also the body of the
//! legacy `POST /quota`). Only the JSON shapes live here; the master validates the values
//! (role names, positive weights, guarantees within limits) and answers with its reasons.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::json::opt_lenient;
use crate::Resources;

/// A role's weight (`WeightInfo`; also one element of the legacy `PUT /weights` array).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightInfo {
    /// The weight (required).
    pub weight: f64,
    /// The role (an absent role is refused by validation as an empty name).
    #[serde(default)]
    pub role: String,
}

/// UPDATE_WEIGHTS payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateWeights {
    /// The weights to set; roles not named keep theirs.
    #[serde(default)]
    pub weight_infos: Vec<WeightInfo>,
}

/// A scalar amount as `Value.Scalar`: `{"value": 10}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalarValue {
    /// The amount.
    pub value: f64,
}

/// One role's quota (`quota.QuotaConfig`): guaranteed and maximum amounts by resource name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// The role (required; an absent one is refused by validation).
    #[serde(default)]
    pub role: String,
    /// Amounts set aside for the role.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub guarantees: BTreeMap<String, ScalarValue>,
    /// Most the role may consume; names left out are unlimited.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, ScalarValue>,
}

/// UPDATE_QUOTA payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateQuota {
    /// Skip the checks against consumption and cluster capacity.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub force: Option<bool>,
    /// The new quotas, applied all or nothing.
    #[serde(default)]
    pub quota_configs: Vec<QuotaConfig>,
}

/// `quota.QuotaRequest`: the deprecated way to set a role's guarantee (which also becomes its
/// limit): SET_QUOTA's `quota_request` and the body of the legacy `POST /quota`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QuotaRequest {
    /// Skip the capacity check.
    #[serde(
        default,
        deserialize_with = "opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub force: Option<bool>,
    /// The role.
    #[serde(default)]
    pub role: String,
    /// The guaranteed resources (unreserved scalars).
    #[serde(default)]
    pub guarantee: Resources,
}

/// SET_QUOTA payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetQuota {
    /// The request (required).
    pub quota_request: QuotaRequest,
}

/// REMOVE_QUOTA payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveQuota {
    /// The role whose quota goes (required).
    pub role: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_documented_shapes_decode() {
        let u: UpdateQuota = serde_json::from_str(
            r#"{"force": false, "quota_configs": [{"role": "dev",
                "limits": {"cpus": {"value": 10}, "mem": {"value": 2048}}}]}"#,
        )
        .unwrap();
        assert_eq!(u.force, Some(false));
        assert_eq!(u.quota_configs[0].role, "dev");
        assert_eq!(u.quota_configs[0].limits["mem"].value, 2048.0);
        assert!(u.quota_configs[0].guarantees.is_empty());
        let w: Vec<WeightInfo> =
            serde_json::from_str(r#"[{"role": "role1", "weight": 2.0}]"#).unwrap();
        assert_eq!(w[0].weight, 2.0);
        assert!(serde_json::from_str::<Vec<WeightInfo>>(r#"[{"role": "a"}]"#).is_err());
        let q: QuotaRequest = serde_json::from_str(
            r#"{"role": "eng", "guarantee": [{"name": "cpus", "type": "SCALAR",
                "scalar": {"value": 1.5}}]}"#,
        )
        .unwrap();
        assert_eq!(q.role, "eng");
        assert_eq!(q.guarantee.to_string(), "cpus:1.5");
    }
}
