//! Named scalar quantities, as used by quota (guarantees and limits) and by the minimum
//! allocatable resources: `cpus:0.01;mem:32` means "0.01 cpus and 32 MB of mem".

use std::collections::BTreeMap;

use meso_api::resources::{parse_resource_list, Scalar, Value};

use super::error::AllocatorError;

/// Scalar amounts by resource name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quantities(pub BTreeMap<String, Scalar>);

impl Quantities {
    /// Parses `cpus:0.01;mem:32` (the `--resources` grammar, unreserved scalars only;
    /// repeated names add up; zero amounts are kept).
    pub fn parse(text: &str) -> Result<Quantities, AllocatorError> {
        let mut out: BTreeMap<String, Scalar> = BTreeMap::new();
        // The list form keeps zero amounts: a limit of `cpus:0` is a real limit.
        for r in parse_resource_list(text, "*")? {
            match &r.value {
                Value::Scalar(v) if !r.is_reserved() => {
                    let sum = out.entry(r.name.to_string()).or_insert(Scalar::ZERO);
                    *sum += *v;
                }
                _ => {
                    return Err(AllocatorError::NotAQuantity {
                        input: text.to_string(),
                        resource: r.to_string(),
                    })
                }
            }
        }
        Ok(Quantities(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_sum_and_reject_ranges_and_reservations() {
        let q = Quantities::parse("cpus:1;mem:32").unwrap();
        assert_eq!(q.0["cpus"], Scalar::from_milli(1000));
        assert_eq!(q.0["mem"], Scalar::from_units(32));
        assert_eq!(Quantities::parse("cpus:0").unwrap().0["cpus"], Scalar::ZERO);
        assert!(matches!(
            Quantities::parse("ports:[1-2]"),
            Err(AllocatorError::NotAQuantity { .. })
        ));
        assert!(Quantities::parse("cpus(eng):1").is_err());
        assert!(matches!(
            Quantities::parse("cpus:x"),
            Err(AllocatorError::InvalidResources(_))
        ));
    }
}
