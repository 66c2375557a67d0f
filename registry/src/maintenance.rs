//! [`Machines`]: the maintenance schedule and the mode of each machine in it, as Mesos's
//! maintenance primitives (docs/maintenance.md) define them, with Mesos's validation.
//!
//! A machine (a [`MachineId`]: hostname and/or IP) is UP unless the schedule names it: a
//! scheduled machine is DRAINING from the moment the schedule is posted until the operator
//! takes it DOWN (`START_MAINTENANCE`, `/machine/down`); bringing it UP again
//! (`STOP_MAINTENANCE`, `/machine/up`) also removes it from the schedule. Mesos never
//! changes a mode on its own, whatever the unavailability says.
//!
//! Two machine ids name the same machine when both have the same fields set, the hostnames
//! are equal ignoring case and the IPs are equal (Mesos's `MachineID` equality): an agent is
//! known by both its hostname and its IP, so only a machine named by both matches it.
//!
//! Invariants: a machine appears at most once in the schedule; every DOWN machine is in the
//! schedule; each `check_*` refuses without changing anything, and the matching change only
//! follows a successful check.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// A machine, by hostname and/or IP (Mesos's `MachineID`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MachineId {
    /// Hostname, if known.
    pub hostname: Option<String>,
    /// IP address, if known.
    pub ip: Option<String>,
}

impl MachineId {
    /// A machine known by both hostname and IP (how an agent's machine is named).
    pub fn of_agent(hostname: &str, ip: &str) -> MachineId {
        MachineId {
            hostname: Some(hostname.to_string()),
            ip: Some(ip.to_string()),
        }
    }

    /// The identity Mesos compares: which fields are set, the hostname in lower case, the
    /// IP as given.
    pub fn key(&self) -> MachineKey {
        MachineKey {
            hostname: self.hostname.as_ref().map(|h| h.to_lowercase()),
            ip: self.ip.clone(),
        }
    }

    /// Mesos's check of one machine: a hostname or an IP, and an IP that is IPv4.
    pub fn validate(&self) -> Result<(), String> {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
        if blank(&self.hostname) && blank(&self.ip) {
            return Err("Both 'hostname' and 'ip' for a machine are empty".to_string());
        }
        if let Some(ip) = self.ip.as_deref().filter(|ip| !ip.is_empty()) {
            if ip.parse::<Ipv4Addr>().is_err() {
                return Err(format!("Failed to parse IP '{ip}' of machine {self}"));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for MachineId {
    /// As the JSON Mesos prints in its messages: `{"hostname":"h","ip":"1.2.3.4"}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(h) = &self.hostname {
            parts.push(format!("\"hostname\":{h:?}"));
        }
        if let Some(ip) = &self.ip {
            parts.push(format!("\"ip\":{ip:?}"));
        }
        write!(f, "{{{}}}", parts.join(","))
    }
}

/// What makes two [`MachineId`]s the same machine.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MachineKey {
    hostname: Option<String>,
    ip: Option<String>,
}

/// Machines that are unavailable from `start_ns` for `duration_ns` (forever if `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    /// The machines.
    pub machines: Vec<MachineId>,
    /// Start, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// Length in nanoseconds; `None` means forever.
    pub duration_ns: Option<i64>,
}

/// A machine's maintenance mode (Mesos's `MachineInfo.Mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MachineMode {
    /// Not scheduled: offered as usual.
    Up,
    /// Scheduled: offered with its unavailability; its frameworks get inverse offers.
    Draining,
    /// In maintenance: its agents are shut down and may not register.
    Down,
}

impl MachineMode {
    /// Mesos's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineMode::Up => "UP",
            MachineMode::Draining => "DRAINING",
            MachineMode::Down => "DOWN",
        }
    }
}

/// The schedule and which of its machines are DOWN.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machines {
    windows: Vec<MaintenanceWindow>,
    down: BTreeSet<MachineKey>,
}

impl Machines {
    /// No schedule, every machine UP.
    pub fn new() -> Machines {
        Machines::default()
    }

    /// The schedule's windows.
    pub fn windows(&self) -> &[MaintenanceWindow] {
        &self.windows
    }

    /// The scheduled machine that is `machine`, with its window.
    fn find(&self, machine: &MachineId) -> Option<(&MachineId, &MaintenanceWindow)> {
        let key = machine.key();
        self.windows
            .iter()
            .find_map(|w| w.machines.iter().find(|m| m.key() == key).map(|m| (m, w)))
    }

    /// The machine's mode.
    pub fn mode(&self, machine: &MachineId) -> MachineMode {
        if self.down.contains(&machine.key()) {
            MachineMode::Down
        } else if self.find(machine).is_some() {
            MachineMode::Draining
        } else {
            MachineMode::Up
        }
    }

    /// The window of a scheduled machine (`None` when it is UP).
    pub fn window_of(&self, machine: &MachineId) -> Option<&MaintenanceWindow> {
        self.find(machine).map(|(_, w)| w)
    }

    /// Scheduled machines in DRAINING mode, as the schedule names them.
    pub fn draining(&self) -> Vec<&MachineId> {
        self.windows
            .iter()
            .flat_map(|w| &w.machines)
            .filter(|m| !self.down.contains(&m.key()))
            .collect()
    }

    /// DOWN machines, as the schedule names them.
    pub fn down(&self) -> Vec<&MachineId> {
        self.windows
            .iter()
            .flat_map(|w| &w.machines)
            .filter(|m| self.down.contains(&m.key()))
            .collect()
    }

    /// Mesos's check of a new schedule: every window lists machines, no negative duration,
    /// each machine valid and listed once, and no DOWN machine left out.
    pub fn check_schedule(&self, windows: &[MaintenanceWindow]) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for window in windows {
            if window.machines.is_empty() {
                return Err("List of machines in the maintenance window is empty".to_string());
            }
            if window.duration_ns.is_some_and(|d| d < 0) {
                return Err("Unavailability 'duration' is negative".to_string());
            }
            for machine in &window.machines {
                machine.validate()?;
                if !seen.insert(machine.key()) {
                    return Err(format!(
                        "Machine '{machine}' appears more than once in the schedule"
                    ));
                }
            }
        }
        for machine in self.down() {
            if !seen.contains(&machine.key()) {
                return Err(format!(
                    "Machine '{machine}' is deactivated and cannot be removed from the schedule"
                ));
            }
        }
        Ok(())
    }

    /// Replaces the schedule after [`check_schedule`](Self::check_schedule).
    pub fn update_schedule(&mut self, windows: Vec<MaintenanceWindow>) -> Result<(), String> {
        self.check_schedule(&windows)?;
        self.windows = windows;
        Ok(())
    }

    /// Mesos's check of a machine list for `/machine/down` and `/machine/up`: not empty,
    /// each machine valid and listed once.
    fn check_list(machines: &[MachineId]) -> Result<(), String> {
        if machines.is_empty() {
            return Err("List of machines is empty".to_string());
        }
        let mut seen = BTreeSet::new();
        for machine in machines {
            machine.validate()?;
            if !seen.insert(machine.key()) {
                return Err(format!(
                    "Machine '{machine}' appears more than once in the schedule"
                ));
            }
        }
        Ok(())
    }

    /// Checks taking `machines` DOWN: each must be scheduled and DRAINING.
    pub fn check_start(&self, machines: &[MachineId]) -> Result<(), String> {
        Self::check_list(machines)?;
        for machine in machines {
            match self.mode(machine) {
                MachineMode::Up => {
                    return Err(format!(
                        "Machine '{machine}' is not part of a maintenance schedule"
                    ))
                }
                MachineMode::Down => {
                    return Err(format!(
                        "Machine '{machine}' is not in DRAINING mode and cannot be brought down"
                    ))
                }
                MachineMode::Draining => {}
            }
        }
        Ok(())
    }

    /// Takes `machines` DOWN after [`check_start`](Self::check_start).
    pub fn start(&mut self, machines: &[MachineId]) -> Result<(), String> {
        self.check_start(machines)?;
        self.down.extend(machines.iter().map(MachineId::key));
        Ok(())
    }

    /// Checks bringing `machines` UP: each must be scheduled and DOWN.
    pub fn check_stop(&self, machines: &[MachineId]) -> Result<(), String> {
        Self::check_list(machines)?;
        for machine in machines {
            match self.mode(machine) {
                MachineMode::Up => {
                    return Err(format!(
                        "Machine '{machine}' is not part of a maintenance schedule"
                    ))
                }
                MachineMode::Draining => {
                    return Err(format!(
                        "Machine '{machine}' is not in DOWN mode and cannot be brought up"
                    ))
                }
                MachineMode::Down => {}
            }
        }
        Ok(())
    }

    /// Brings `machines` UP after [`check_stop`](Self::check_stop): they leave the
    /// schedule, and windows left empty go.
    pub fn stop(&mut self, machines: &[MachineId]) -> Result<(), String> {
        self.check_stop(machines)?;
        let keys: BTreeSet<MachineKey> = machines.iter().map(MachineId::key).collect();
        for window in &mut self.windows {
            window.machines.retain(|m| !keys.contains(&m.key()));
        }
        self.windows.retain(|w| !w.machines.is_empty());
        self.down.retain(|k| !keys.contains(k));
        Ok(())
    }

    /// Checks the invariants of a value read from elsewhere (a snapshot).
    pub fn check(&self) -> Result<(), String> {
        let fresh = Machines::new();
        fresh.check_schedule(&self.windows)?;
        let scheduled: BTreeSet<MachineKey> = self
            .windows
            .iter()
            .flat_map(|w| &w.machines)
            .map(MachineId::key)
            .collect();
        if !self.down.is_subset(&scheduled) {
            return Err("a DOWN machine is not in the schedule".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(host: &str, ip: &str) -> MachineId {
        MachineId::of_agent(host, ip)
    }

    fn window(machines: &[MachineId]) -> MaintenanceWindow {
        MaintenanceWindow {
            machines: machines.to_vec(),
            start_ns: 1_000,
            duration_ns: Some(3_600_000_000_000),
        }
    }

    #[test]
    fn a_scheduled_machine_drains_goes_down_and_comes_back_up_unscheduled() {
        let mut ms = Machines::new();
        let a = m("a", "10.0.0.1");
        assert_eq!(ms.mode(&a), MachineMode::Up);
        ms.update_schedule(vec![window(std::slice::from_ref(&a))])
            .unwrap();
        assert_eq!(ms.mode(&a), MachineMode::Draining);
        assert_eq!(
            ms.mode(&m("A", "10.0.0.1")),
            MachineMode::Draining,
            "hostnames ignore case"
        );
        assert_eq!(ms.mode(&m("a", "10.0.0.2")), MachineMode::Up);
        ms.start(std::slice::from_ref(&a)).unwrap();
        assert_eq!(ms.mode(&a), MachineMode::Down);
        assert_eq!(ms.down(), vec![&a]);
        ms.stop(std::slice::from_ref(&a)).unwrap();
        assert_eq!(ms.mode(&a), MachineMode::Up);
        assert!(ms.windows().is_empty(), "an emptied window goes");
    }

    #[test]
    fn schedules_are_refused_with_mesos_reasons() {
        let mut ms = Machines::new();
        let a = m("a", "10.0.0.1");
        let e = ms.check_schedule(&[window(&[])]).unwrap_err();
        assert!(e.contains("is empty"), "{e}");
        let e = ms
            .check_schedule(&[
                window(std::slice::from_ref(&a)),
                window(&[m("A", "10.0.0.1")]),
            ])
            .unwrap_err();
        assert!(e.contains("appears more than once"), "{e}");
        let mut negative = window(std::slice::from_ref(&a));
        negative.duration_ns = Some(-1);
        assert!(ms
            .check_schedule(&[negative])
            .unwrap_err()
            .contains("negative"));
        let blank = MachineId {
            hostname: Some(String::new()),
            ip: None,
        };
        assert!(ms
            .check_schedule(&[window(&[blank])])
            .unwrap_err()
            .contains("empty"));
        let bad_ip = MachineId {
            hostname: None,
            ip: Some("300.1.1.1".into()),
        };
        assert!(ms
            .check_schedule(&[window(&[bad_ip])])
            .unwrap_err()
            .contains("300.1.1.1"));
        ms.update_schedule(vec![window(std::slice::from_ref(&a))])
            .unwrap();
        ms.start(std::slice::from_ref(&a)).unwrap();
        let e = ms.check_schedule(&[]).unwrap_err();
        assert!(e.contains("cannot be removed from the schedule"), "{e}");
    }

    #[test]
    fn down_and_up_need_the_right_mode() {
        let mut ms = Machines::new();
        let a = m("a", "10.0.0.1");
        let b = m("b", "10.0.0.2");
        assert!(ms.check_start(&[]).unwrap_err().contains("is empty"));
        let e = ms.check_start(std::slice::from_ref(&a)).unwrap_err();
        assert!(e.contains("not part of a maintenance schedule"), "{e}");
        ms.update_schedule(vec![window(&[a.clone(), b.clone()])])
            .unwrap();
        let e = ms.check_stop(std::slice::from_ref(&a)).unwrap_err();
        assert!(e.contains("not in DOWN mode"), "{e}");
        let e = ms.check_start(&[a.clone(), a.clone()]).unwrap_err();
        assert!(e.contains("more than once"), "{e}");
        ms.start(std::slice::from_ref(&a)).unwrap();
        let e = ms.check_start(std::slice::from_ref(&a)).unwrap_err();
        assert!(e.contains("not in DRAINING mode"), "{e}");
        ms.stop(std::slice::from_ref(&a)).unwrap();
        assert_eq!(ms.mode(&b), MachineMode::Draining, "b stays scheduled");
        assert_eq!(ms.windows().len(), 1);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Schedule(Vec<Vec<u8>>),
        Start(Vec<u8>),
        Stop(Vec<u8>),
    }

    fn machine_n(n: u8) -> MachineId {
        m(&format!("h{n}"), &format!("10.0.0.{n}"))
    }

    fn step() -> impl Strategy<Value = Step> {
        let ids = || proptest::collection::vec(0u8..5, 0..4);
        prop_oneof![
            proptest::collection::vec(ids(), 0..3).prop_map(Step::Schedule),
            ids().prop_map(Step::Start),
            ids().prop_map(Step::Stop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the operator does, a refused step changes nothing, every DOWN machine
        /// stays scheduled, no machine is scheduled twice, and a machine's mode moves only
        /// along UP -> DRAINING -> DOWN -> UP (or DRAINING -> UP by a new schedule).
        #[test]
        fn modes_move_only_along_mesos_transitions(steps in proptest::collection::vec(step(), 0..40)) {
            let mut ms = Machines::new();
            for s in steps {
                let before = ms.clone();
                let result = match &s {
                    Step::Schedule(ws) => ms.update_schedule(
                        ws.iter().map(|w| window(&w.iter().map(|n| machine_n(*n)).collect::<Vec<_>>())).collect()),
                    Step::Start(ids) => ms.start(&ids.iter().map(|n| machine_n(*n)).collect::<Vec<_>>()),
                    Step::Stop(ids) => ms.stop(&ids.iter().map(|n| machine_n(*n)).collect::<Vec<_>>()),
                };
                if result.is_err() {
                    prop_assert_eq!(&ms, &before);
                }
                prop_assert!(ms.check().is_ok(), "{:?}", ms.check());
                for n in 0u8..5 {
                    let (was, now) = (before.mode(&machine_n(n)), ms.mode(&machine_n(n)));
                    let allowed = matches!((was, now),
                        (a, b) if a == b)
                        || matches!((was, now, &s),
                            (MachineMode::Up, MachineMode::Draining, Step::Schedule(_))
                            | (MachineMode::Draining, MachineMode::Up, Step::Schedule(_))
                            | (MachineMode::Draining, MachineMode::Down, Step::Start(_))
                            | (MachineMode::Down, MachineMode::Up, Step::Stop(_)));
                    prop_assert!(allowed, "{:?} -> {:?} by {:?}", was, now, s);
                }
            }
        }
    }
}
