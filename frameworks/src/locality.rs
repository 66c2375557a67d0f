//! Delay scheduling for data locality (Zaharia et al., EuroSys 2010, which the Mesos
//! paper's Hadoop port used), for any framework whose tasks prefer places: a task waits for
//! an offer from a preferred host; once it has waited `wait` it also takes an agent with a
//! preferred attribute (rack level), after one more `wait` any agent. Levels it names no
//! preference for are skipped. Pure: the caller says how long the task has waited.

use std::time::Duration;

use meso_api::v1::Offer;

use crate::spec::Spec;

/// Where a task would rather run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// An agent with this hostname.
    Host(String),
    /// An agent with this attribute (`name`, `value` as text).
    Attribute(String, String),
}

impl Place {
    /// A place as a framework's JSON file names it: `{"hostname": "node-1"}` or
    /// `{"attribute": "rack:r1"}` (exactly one of the two).
    ///
    /// ```
    /// use meso_frameworks::locality::Place;
    /// use meso_frameworks::spec::Spec;
    /// let v = serde_json::json!([{"attribute": "rack:r1"}, {"hostname": "h", "attribute": "a:b"}]);
    /// let (ok, both) = (Spec::new(&v[0], "p"), Spec::new(&v[1], "q"));
    /// assert_eq!(Place::from_spec(&ok), Ok(Place::Attribute("rack".into(), "r1".into())));
    /// assert_eq!(Place::from_spec(&both).unwrap_err(), "q must have exactly one of hostname, attribute");
    /// ```
    pub fn from_spec(p: &Spec<'_>) -> Result<Place, String> {
        match (p.field("hostname"), p.field("attribute")) {
            (Some(h), None) => Ok(Place::Host(h.as_text()?)),
            (None, Some(a)) => {
                let text = a.as_text()?;
                let (k, v) = text
                    .split_once(':')
                    .ok_or_else(|| a.error(&format!("must be name:value, not {text:?}")))?;
                Ok(Place::Attribute(k.to_string(), v.to_string()))
            }
            _ => Err(p.error("must have exactly one of hostname, attribute")),
        }
    }
}

/// A place that some or all of a group's tasks prefer (a stage's `prefer` entry).
///
/// ```
/// use meso_frameworks::locality::{Place, Preference};
/// use meso_frameworks::spec::Spec;
/// let v = serde_json::json!([{"hostname": "a"}, {"attribute": "rack:r1", "tasks": [1]}]);
/// let list = Spec::new(&v, "prefer").as_list().unwrap();
/// let prefer: Vec<Preference> = list.iter().map(|p| Preference::from_spec(p, 2).unwrap()).collect();
/// assert_eq!(Preference::places(&prefer, 0).count(), 1);
/// assert_eq!(Preference::places(&prefer, 1).nth(1), Some(&Place::Attribute("rack".into(), "r1".into())));
/// let e = Preference::from_spec(&Spec::new(&v[1], "p"), 1).unwrap_err();
/// assert_eq!(e, "p.tasks[0] must be an integer from 0 to 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    /// The place.
    pub place: Place,
    /// Task indices it applies to (`None`: all).
    pub tasks: Option<Vec<u32>>,
}

impl Preference {
    /// A preference as a framework's JSON file gives it: a [`Place`] (see
    /// [`Place::from_spec`]) and optionally `tasks`, the indices (below `tasks`) of the tasks
    /// it applies to.
    pub fn from_spec(p: &Spec<'_>, tasks: u32) -> Result<Preference, String> {
        let place = Place::from_spec(p)?;
        let index = |t: &Spec<'_>| t.as_count(0..=tasks.saturating_sub(1));
        let tasks = p.opt("tasks", |l| l.as_list()?.iter().map(index).collect())?;
        Ok(Preference { place, tasks })
    }

    /// The places task `index` prefers among `prefer`.
    pub fn places(prefer: &[Preference], index: u32) -> impl Iterator<Item = &Place> {
        let applies = move |p: &&Preference| p.tasks.as_ref().is_none_or(|t| t.contains(&index));
        prefer.iter().filter(applies).map(|p| &p.place)
    }
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
