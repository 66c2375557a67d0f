//! Links glue: turns link requests, process exits and link frames into entries of the pure
//! [`Links`](crate::links::Links) table and into `exited` notifications, local or remote.
//! Invariant: a linker is told of a linkee's exit at most once per link, and at once if the
//! linkee does not exist.

use super::NodeInner;
use crate::frame::{FrameKind, Header};
use crate::upid::Upid;
use std::sync::Arc;

impl NodeInner {
    pub(crate) fn link(&self, linker: &Upid, linkee: &Upid) {
        if linkee.addr() == self.addr {
            let exists = self.lookup(linkee.id()).is_some();
            if exists {
                self.links.lock().watch_local(linkee, linker);
                // Re-check: the linkee may have exited between lookup and registration.
                if self.lookup(linkee.id()).is_some() {
                    return;
                }
                self.links.lock().local_exited(linkee);
            }
            self.notify_exited(linker, linkee);
            return;
        }
        self.links.lock().watch_remote(linkee, linker);
        let _ = self.send_frame(
            linkee,
            Header {
                kind: FrameKind::Link,
                correlation: 0,
                from: linker.as_str(),
                to: linkee.as_str(),
                name: "",
                tracked: false,
            },
            |_| Ok(()),
        );
    }

    pub(crate) fn unlink(&self, linker: &Upid, linkee: &Upid) {
        self.links.lock().unlink(linker, linkee);
        if linkee.addr() != self.addr {
            let _ = self.send_frame(
                linkee,
                Header {
                    kind: FrameKind::Unlink,
                    correlation: 0,
                    from: linker.as_str(),
                    to: linkee.as_str(),
                    name: "",
                    tracked: false,
                },
                |_| Ok(()),
            );
        }
    }

    /// A remote `linker` asked to watch local `linkee`.
    pub(crate) fn remote_link(&self, linker: &Upid, linkee: &Upid) {
        if self.lookup(linkee.id()).is_some() {
            self.links.lock().watch_local(linkee, linker);
            if self.lookup(linkee.id()).is_some() {
                return;
            }
            self.links.lock().local_exited(linkee);
        }
        self.notify_exited(linker, linkee);
    }

    pub(crate) fn remote_unlink(&self, linker: &Upid, linkee: &Upid) {
        self.links.lock().unlink(linker, linkee);
    }

    /// A remote node says `who` exited; tell local `linker` if it still watches it.
    pub(crate) fn remote_exited(&self, who: &Upid) {
        let linkers = self.links.lock().remote_exited(who);
        for linker in linkers {
            if let Some(sink) = self.lookup(linker.id()) {
                sink.deliver_exited(who.clone());
            }
        }
    }

    /// Tells `linker` (local or remote) that `who` exited.
    fn notify_exited(&self, linker: &Upid, who: &Upid) {
        if linker.addr() == self.addr {
            if let Some(sink) = self.lookup(linker.id()) {
                sink.deliver_exited(who.clone());
            }
        } else {
            let _ = self.send_frame(
                linker,
                Header {
                    kind: FrameKind::Exited,
                    correlation: 0,
                    from: who.as_str(),
                    to: linker.as_str(),
                    name: "",
                    tracked: false,
                },
                |_| Ok(()),
            );
        }
    }

    /// Called by a process's exit guard; `mailbox` is the address of its mailbox. A process
    /// replaced under its id (`Node::replace_named`) leaves the table entry and the links to
    /// its replacement.
    pub(crate) fn process_exited(&self, upid: &Upid, mailbox: usize) {
        let replaced = {
            let mut table = self.table.write();
            match table.get(upid.id()) {
                Some(e) if Arc::as_ptr(&e.sink) as *const () as usize == mailbox => {
                    table.remove(upid.id());
                    false
                }
                Some(e) => e.sink.upid() == upid,
                None => false,
            }
        };
        self.counters.processes.add(-1);
        if replaced {
            return;
        }
        let linkers = self.links.lock().local_exited(upid);
        for linker in linkers {
            self.notify_exited(&linker, upid);
        }
    }
}
