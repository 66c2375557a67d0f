//! Whether a restarted agent may keep its agent id with the `--resources` and
//! `--attributes` it was given now (Mesos's `--reconfiguration_policy`). Pure.
//!
//! - `equal`: both must be what the agent ran with before.
//! - `additive`: the new resources must contain the old ones (they may grow, never
//!   shrink), and every old attribute must still be there unchanged (new ones may be
//!   added).
//!
//! A refusal names what differs, so the operator knows which flag to put back.

use meso_api::attributes::Attributes;
use meso_api::Resources;

use crate::flags::recovery::ReconfigurationPolicy;

/// Checks the new resources and attributes against the checkpointed ones.
pub fn check(
    policy: ReconfigurationPolicy,
    old_resources: &Resources,
    new_resources: &Resources,
    old_attributes: &Attributes,
    new_attributes: &Attributes,
) -> Result<(), String> {
    let mut problems = Vec::new();
    match policy {
        ReconfigurationPolicy::Equal => {
            if old_resources != new_resources {
                problems.push(format!(
                    "--resources changed from '{old_resources}' to '{new_resources}'"
                ));
            }
            if old_attributes != new_attributes {
                problems.push(format!(
                    "--attributes changed from '{old_attributes}' to '{new_attributes}'"
                ));
            }
        }
        ReconfigurationPolicy::Additive => {
            if !new_resources.contains(old_resources) {
                let missing = old_resources.clone() - new_resources;
                problems.push(format!(
                    "--resources '{new_resources}' no longer hold '{missing}' of the previous \
                     '{old_resources}' (only growth is allowed)"
                ));
            }
            let lost: Vec<String> = old_attributes
                .0
                .iter()
                .filter(|a| !new_attributes.0.contains(a))
                .map(|a| Attributes(vec![a.clone()]).to_string())
                .collect();
            if !lost.is_empty() {
                problems.push(format!(
                    "--attributes removed or changed '{}' (only additions are allowed)",
                    lost.join(";")
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let policy = match policy {
        ReconfigurationPolicy::Equal => "equal",
        ReconfigurationPolicy::Additive => "additive",
    };
    Err(format!(
        "the agent's checkpointed configuration does not allow this restart under \
         --reconfiguration-policy={policy}: {}; restore the flags, or move the work dir's \
         meta/ aside to start as a new agent",
        problems.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Resources {
        Resources::parse(text, "*").unwrap()
    }

    fn a(text: &str) -> Attributes {
        Attributes::parse(text).unwrap()
    }

    #[test]
    fn equal_refuses_any_change_and_names_it() {
        let same = check(
            ReconfigurationPolicy::Equal,
            &r("cpus:2;mem:512"),
            &r("cpus:2;mem:512"),
            &a("rack:r1"),
            &a("rack:r1"),
        );
        assert_eq!(same, Ok(()));
        let err = check(
            ReconfigurationPolicy::Equal,
            &r("cpus:2;mem:512"),
            &r("cpus:4;mem:512"),
            &a("rack:r1"),
            &a("rack:r1"),
        )
        .unwrap_err();
        assert!(
            err.contains("--resources") && err.contains("cpus:4"),
            "{err}"
        );
        assert!(!err.contains("--attributes"), "{err}");
        let err = check(
            ReconfigurationPolicy::Equal,
            &r("cpus:2"),
            &r("cpus:2"),
            &a("rack:r1"),
            &a("rack:r2"),
        )
        .unwrap_err();
        assert!(
            err.contains("--attributes") && err.contains("rack:r2"),
            "{err}"
        );
    }

    #[test]
    fn additive_accepts_growth_and_refuses_shrinking() {
        assert_eq!(
            check(
                ReconfigurationPolicy::Additive,
                &r("cpus:2;mem:512"),
                &r("cpus:4;mem:1024;disk:10"),
                &a("rack:r1"),
                &a("rack:r1;zone:z"),
            ),
            Ok(())
        );
        let err = check(
            ReconfigurationPolicy::Additive,
            &r("cpus:2;mem:512"),
            &r("cpus:1;mem:512"),
            &a("rack:r1"),
            &a("zone:z"),
        )
        .unwrap_err();
        assert!(err.contains("cpus") && err.contains("only growth"), "{err}");
        assert!(err.contains("rack:r1"), "{err}");
    }
}
