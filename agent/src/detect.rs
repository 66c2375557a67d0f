//! Resource detection: what the agent offers when `--resources` does not say.
//!
//! The pure part, [`agent_resources`], combines the machine's facts ([`MachineFacts`]) with
//! the operator's `--resources`: every resource the operator names (even as 0) replaces the
//! detected value; `cpus`, `mem`, `disk` and `ports` are filled in otherwise, with Mesos's
//! rules (mem = total - 1 GiB, half when under 2 GiB; disk = the work-dir filesystem's
//! size - 5 GiB, half when under 10 GiB; ports `[31000-32000]`; whole MB). The shell,
//! [`MachineFacts::probe`], reads procfs and `statvfs`; when a probe fails the documented
//! fallback is used (1 cpu, 1 GiB, 10 GiB).

use std::path::Path;

use meso_api::Resources;

use crate::error::AgentError;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// What the agent learned about its machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineFacts {
    /// Online CPUs, if known.
    pub cpus: Option<u64>,
    /// Total memory in bytes, if known.
    pub mem_total_bytes: Option<u64>,
    /// Size of the filesystem holding the work dir in bytes, if known.
    pub disk_total_bytes: Option<u64>,
}

impl MachineFacts {
    /// Reads the facts from this machine: online CPUs, `MemTotal` from `/proc/meminfo`,
    /// and `statvfs(work_dir)`.
    pub fn probe(work_dir: &Path) -> MachineFacts {
        let cpus = std::thread::available_parallelism()
            .ok()
            .map(|n| n.get() as u64);
        let mem_total_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| parse_meminfo_total(&text));
        let disk_total_bytes = nix::sys::statvfs::statvfs(work_dir)
            .ok()
            .map(|s| s.blocks() * s.fragment_size());
        MachineFacts {
            cpus,
            mem_total_bytes,
            disk_total_bytes,
        }
    }
}

/// `MemTotal` in bytes from the text of `/proc/meminfo`.
pub fn parse_meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: u64 = words.next()?.parse().ok()?;
    Some(kib * 1024)
}

/// Memory to offer, in whole MB, for `total` bytes of RAM.
pub fn offered_mem_mb(total: Option<u64>) -> u64 {
    let bytes = match total {
        Some(t) if t >= 2 * GIB => t - GIB,
        Some(t) => t / 2,
        None => GIB,
    };
    bytes / MIB
}

/// Disk to offer, in whole MB, for a work-dir filesystem of `total` bytes.
pub fn offered_disk_mb(total: Option<u64>) -> u64 {
    let bytes = match total {
        Some(t) if t >= 10 * GIB => t - 5 * GIB,
        Some(t) => t / 2,
        None => 10 * GIB,
    };
    bytes / MIB
}

/// The agent's total resources: `--resources` (text or JSON, roles defaulting to `*`), then
/// each of `cpus`, `mem`, `disk`, `ports` the flag does not name, detected from `facts`.
pub fn agent_resources(flag: Option<&str>, facts: &MachineFacts) -> Result<Resources, AgentError> {
    let mut resources = match flag {
        Some(text) if !text.trim().is_empty() => {
            Resources::parse(text, "*").map_err(|source| AgentError::Flag {
                flag: "--resources",
                value: text.to_string(),
                reason: source.to_string(),
            })?
        }
        _ => Resources::new(),
    };
    // Names as written (a resource given as 0 is named but absent from `Resources`).
    let named: Vec<String> = match flag {
        Some(text) => named_in_flag(text),
        None => Vec::new(),
    };
    let is_named = |name: &str| named.iter().any(|n| n == name);
    let mut detected = Vec::new();
    if !is_named("cpus") {
        detected.push(format!("cpus:{}", facts.cpus.unwrap_or(1).max(1)));
    }
    if !is_named("mem") {
        detected.push(format!("mem:{}", offered_mem_mb(facts.mem_total_bytes)));
    }
    if !is_named("disk") {
        detected.push(format!("disk:{}", offered_disk_mb(facts.disk_total_bytes)));
    }
    if !is_named("ports") {
        detected.push("ports:[31000-32000]".to_string());
    }
    if !detected.is_empty() {
        let text = detected.join(";");
        let extra = Resources::parse(&text, "*").map_err(|source| AgentError::Flag {
            flag: "--resources",
            value: text.clone(),
            reason: format!("detected resources do not parse: {source}"),
        })?;
        resources += extra;
    }
    Ok(resources)
}

/// The resource names a `--resources` value mentions, zero amounts included.
fn named_in_flag(text: &str) -> Vec<String> {
    let text = text.trim();
    if text.starts_with('[') {
        serde_json::from_str::<Vec<serde_json::Value>>(text)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        meso_api::resources::parse_resource_list(text, "*")
            .map(|list| list.iter().map(|r| r.name.to_string()).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(cpus: u64, mem_gib: u64, disk_gib: u64) -> MachineFacts {
        MachineFacts {
            cpus: Some(cpus),
            mem_total_bytes: Some(mem_gib * GIB),
            disk_total_bytes: Some(disk_gib * GIB),
        }
    }

    #[test]
    fn detected_values_follow_mesos_rules() {
        let r = agent_resources(None, &facts(8, 16, 100)).unwrap();
        assert_eq!(r.cpus().unwrap().to_string(), "8");
        assert_eq!(r.mem().unwrap().to_string(), (15 * 1024).to_string());
        assert_eq!(r.disk().unwrap().to_string(), (95 * 1024).to_string());
        assert_eq!(r.ports().unwrap().to_string(), "[31000-32000]");
    }

    #[test]
    fn small_machines_offer_half() {
        assert_eq!(offered_mem_mb(Some(GIB)), 512);
        assert_eq!(offered_mem_mb(Some(2 * GIB)), 1024);
        assert_eq!(offered_disk_mb(Some(8 * GIB)), 4096);
        assert_eq!(offered_disk_mb(Some(10 * GIB)), 5 * 1024);
    }

    #[test]
    fn unknown_facts_use_fallbacks() {
        let none = MachineFacts {
            cpus: None,
            mem_total_bytes: None,
            disk_total_bytes: None,
        };
        let r = agent_resources(None, &none).unwrap();
        assert_eq!(r.cpus().unwrap().to_string(), "1");
        assert_eq!(r.mem().unwrap().to_string(), "1024");
        assert_eq!(r.disk().unwrap().to_string(), "10240");
    }

    #[test]
    fn named_resources_replace_detected_ones_even_zero() {
        let r = agent_resources(Some("cpus:0;mem:512;gpus:2"), &facts(8, 16, 100)).unwrap();
        assert!(r.cpus().is_none_or(|c| c.to_string() == "0"), "{r}");
        assert_eq!(r.mem().unwrap().to_string(), "512");
        assert_eq!(r.gpus().unwrap().to_string(), "2");
        assert_eq!(r.disk().unwrap().to_string(), (95 * 1024).to_string());
    }

    #[test]
    fn bad_resources_flag_is_an_error_naming_it() {
        let err = agent_resources(Some("cpus:lots"), &facts(1, 4, 20)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("--resources") && text.contains("cpus:lots"),
            "{text}"
        );
    }

    #[test]
    fn meminfo_total_is_read_in_bytes() {
        let text = "MemTotal:       16318480 kB\nMemFree:  1 kB\n";
        assert_eq!(parse_meminfo_total(text), Some(16318480 * 1024));
        assert_eq!(parse_meminfo_total("nothing"), None);
    }

    #[test]
    fn probe_reads_this_machine() {
        let f = MachineFacts::probe(Path::new("/"));
        assert!(f.cpus.unwrap() >= 1);
        assert!(f.mem_total_bytes.unwrap() > 0);
        assert!(f.disk_total_bytes.unwrap() > 0);
    }
}
