//! Who watches whom: the link table of one node, a pure structure with no I/O.
//!
//! Two directions are kept. `watchers` maps a local process to every process (local or on
//! another node) linked to it, to be told when it exits. `remote` maps a peer node to the
//! remote processes local processes watch there, so a broken connection to that node can
//! be reported as the exit of each. Ordered maps, so exits are reported in the same order
//! on every run (a seeded simulation replays them). Invariant: an entry is removed when its notification is
//! produced, so each link yields at most one exit notification.

use crate::upid::Upid;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// The link table.
#[derive(Debug, Default)]
pub(crate) struct Links {
    watchers: BTreeMap<Upid, BTreeSet<Upid>>,
    remote: BTreeMap<SocketAddr, BTreeMap<Upid, BTreeSet<Upid>>>,
}

impl Links {
    /// `linker` (anywhere) watches local `linkee`.
    pub fn watch_local(&mut self, linkee: &Upid, linker: &Upid) {
        self.watchers
            .entry(linkee.clone())
            .or_default()
            .insert(linker.clone());
    }

    /// Local `linker` watches `linkee` on another node.
    pub fn watch_remote(&mut self, linkee: &Upid, linker: &Upid) {
        self.remote
            .entry(linkee.addr())
            .or_default()
            .entry(linkee.clone())
            .or_default()
            .insert(linker.clone());
    }

    /// `linker` stops watching `linkee` (wherever either lives).
    pub fn unlink(&mut self, linker: &Upid, linkee: &Upid) {
        if let Some(set) = self.watchers.get_mut(linkee) {
            set.remove(linker);
            if set.is_empty() {
                self.watchers.remove(linkee);
            }
        }
        if let Some(node) = self.remote.get_mut(&linkee.addr()) {
            if let Some(set) = node.get_mut(linkee) {
                set.remove(linker);
                if set.is_empty() {
                    node.remove(linkee);
                }
            }
            if node.is_empty() {
                self.remote.remove(&linkee.addr());
            }
        }
    }

    /// Local `upid` exited: the processes to tell.
    pub fn local_exited(&mut self, upid: &Upid) -> Vec<Upid> {
        self.watchers
            .remove(upid)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default()
    }

    /// A remote node reported that `linkee` exited: the local processes to tell.
    pub fn remote_exited(&mut self, linkee: &Upid) -> Vec<Upid> {
        let Some(node) = self.remote.get_mut(&linkee.addr()) else {
            return Vec::new();
        };
        let linkers = node
            .remove(linkee)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        if node.is_empty() {
            self.remote.remove(&linkee.addr());
        }
        linkers
    }

    /// The connection to node `addr` broke: every (remote linkee, local linker) pair there.
    pub fn peer_broken(&mut self, addr: SocketAddr) -> Vec<(Upid, Upid)> {
        self.remote
            .remove(&addr)
            .into_iter()
            .flat_map(|node| node.into_iter())
            .flat_map(|(linkee, linkers)| linkers.into_iter().map(move |l| (linkee.clone(), l)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Upid {
        s.parse().unwrap()
    }

    #[test]
    fn each_link_notifies_once() {
        let mut links = Links::default();
        let (a, b, c) = (u("a@127.0.0.1:1"), u("b@127.0.0.1:1"), u("c@127.0.0.1:2"));
        links.watch_local(&a, &b);
        links.watch_local(&a, &c);
        let mut told = links.local_exited(&a);
        told.sort();
        assert_eq!(told, vec![b.clone(), c.clone()]);
        assert!(links.local_exited(&a).is_empty());
    }

    #[test]
    fn remote_links_end_by_report_or_by_broken_connection() {
        let mut links = Links::default();
        let (a, r1, r2) = (u("a@127.0.0.1:1"), u("r1@127.0.0.1:2"), u("r2@127.0.0.1:2"));
        links.watch_remote(&r1, &a);
        links.watch_remote(&r2, &a);
        assert_eq!(links.remote_exited(&r1), vec![a.clone()]);
        assert!(links.remote_exited(&r1).is_empty());
        assert_eq!(links.peer_broken(r2.addr()), vec![(r2.clone(), a.clone())]);
        assert!(links.peer_broken(r2.addr()).is_empty());
    }

    #[test]
    fn unlink_removes_both_directions() {
        let mut links = Links::default();
        let (a, b, r) = (u("a@127.0.0.1:1"), u("b@127.0.0.1:1"), u("r@127.0.0.1:2"));
        links.watch_local(&a, &b);
        links.watch_remote(&r, &b);
        links.unlink(&b, &a);
        links.unlink(&b, &r);
        assert!(links.local_exited(&a).is_empty());
        assert!(links.peer_broken(r.addr()).is_empty());
    }
}
