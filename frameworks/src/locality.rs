//! Delay scheduling for data locality (Zaharia et al., EuroSys 2010, which the Mesos
//! paper's Hadoop port used), for any framework whose tasks prefer places: a task waits for
//! an offer from a preferred host; once it has waited `wait` it also takes an agent with a
//! preferred attribute (rack level), after one more `wait` any agent. Levels it names no
//! preference for are skipped. Pure: the caller says how long the task has waited.

use std::time::Duration;

use meso_api::v1::Offer;

/// Where a task would rather run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// An agent with this hostname.
    Host(String),
    /// An agent with this attribute (`name`, `value` as text).
    Attribute(String, String),
}

/// Locality levels: on a preferred host, on a preferred attribute, anywhere.
pub const HOST: u8 = 0;
/// See [`HOST`].
pub const ATTRIBUTE: u8 = 1;
/// See [`HOST`].
pub const ANY: u8 = 2;

/// The level `offer` gives a task preferring `places`.
pub fn level_of(places: &[&Place], offer: &Offer) -> u8 {
    let attribute = |k: &str, v: &str| {
        let attrs = &offer.attributes.0;
        attrs
            .iter()
            .any(|a| a.name == k && a.value.to_string() == v)
    };
    let mut level = ANY;
    for p in places {
        level = level.min(match p {
            Place::Host(h) if *h == offer.hostname => HOST,
            Place::Attribute(k, v) if attribute(k, v) => ATTRIBUTE,
            _ => ANY,
        });
    }
    level
}

/// The worst level a task preferring `places` accepts after waiting `waited`.
///
/// ```
/// use std::time::Duration;
/// use meso_frameworks::locality::{max_level, Place, ANY, ATTRIBUTE, HOST};
/// let prefers = [Place::Host("node-1".into()), Place::Attribute("rack".into(), "r1".into())];
/// let places: Vec<&Place> = prefers.iter().collect();
/// let (wait, s) = (Duration::from_secs(3), Duration::from_secs(1));
/// assert_eq!(max_level(&places, s, wait), HOST);
/// assert_eq!(max_level(&places, 4 * s, wait), ATTRIBUTE);
/// assert_eq!(max_level(&places, 7 * s, wait), ANY);
/// assert_eq!(max_level(&places[1..], 4 * s, wait), ANY, "no host level to wait for");
/// ```
pub fn max_level(places: &[&Place], waited: Duration, wait: Duration) -> u8 {
    let host = places.iter().any(|p| matches!(p, Place::Host(_)));
    let attribute = places.iter().any(|p| matches!(p, Place::Attribute(..)));
    let levels = [(HOST, host), (ATTRIBUTE, attribute), (ANY, true)];
    let levels: Vec<u8> = levels.iter().filter(|l| l.1).map(|l| l.0).collect();
    let steps = match wait.as_nanos() {
        0 => levels.len(),
        w => (waited.as_nanos() / w) as usize,
    };
    levels[steps.min(levels.len() - 1)]
}
