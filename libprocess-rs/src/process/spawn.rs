//! Spawning: `Node::spawn` and its variants, which start a process on a node. They live
//! with the process, not the node, so that the node (routing, connections) does not depend
//! on the `Process` trait; the process side depends on the node.

use super::handlers::Handlers;
use super::mailbox::Mailbox;
use super::{Pid, Process};
use crate::error::SpawnError;
use crate::node::{checked_id, Entry, Node};
use crate::upid::Upid;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

impl Node {
    /// Spawns `process` with a generated id `<base_name>(<n>)`, `n` unique on this node.
    pub fn spawn<P: Process>(&self, process: P) -> Result<Pid<P>, SpawnError> {
        let n = self.inner().next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}({n})", process.base_name());
        self.spawn_with_id(id, process)
    }

    /// Spawns `process` under a chosen id (e.g. `master`).
    pub fn spawn_named<P: Process>(
        &self,
        id: impl Into<String>,
        process: P,
    ) -> Result<Pid<P>, SpawnError> {
        self.spawn_with_id(checked_id(id.into())?, process)
    }

    /// Replaces the local process named `id` by `process` under the same id, with no moment
    /// in which the id is unknown: from this call on, messages to the id queue for `process`,
    /// which starts (`initialize`) once the old process has handled what it already had
    /// queued and exited (it is asked to terminate here). Connection readers that looked the
    /// old process up before the swap may still hand it messages: it handles those too, until
    /// it closes its queue; a message refused after that is delivered to `process` (one
    /// connection's messages keep their order across the swap). The id's links stay: linkers are not
    /// told that the old process exited (they hear of the replacement's exit), and links the
    /// old process made pass to the replacement. Without a process named `id` this is
    /// [`Node::spawn_named`].
    pub fn replace_named<P: Process>(
        &self,
        id: impl Into<String>,
        process: P,
    ) -> Result<Pid<P>, SpawnError> {
        self.start_process(checked_id(id.into())?, process, true)
    }

    fn spawn_with_id<P: Process>(&self, id: String, process: P) -> Result<Pid<P>, SpawnError> {
        self.start_process(id, process, false)
    }

    fn start_process<P: Process>(
        &self,
        id: String,
        process: P,
        replace: bool,
    ) -> Result<Pid<P>, SpawnError> {
        if self.inner().shut_down.load(Ordering::Acquire) {
            return Err(SpawnError::NodeShutDown);
        }
        let upid = Upid::new(id.as_str(), self.inner().addr);
        let mut handlers = Handlers::new();
        P::install(&mut handlers);
        let capacity = process
            .mailbox_capacity()
            .unwrap_or(self.inner().limits.mailbox_capacity)
            .max(1);
        let (mailbox, rx) = Mailbox::new(
            upid,
            capacity,
            handlers,
            self.inner().counters.mailbox.clone(),
        );
        let mailbox = Arc::new(mailbox);
        let (done_tx, done_rx) = watch::channel(false);
        let replaced = {
            let mut table = self.inner().table.write();
            if !replace && table.contains_key(id.as_str()) {
                return Err(SpawnError::DuplicateId(id));
            }
            table.insert(
                id.into_boxed_str(),
                Entry {
                    sink: mailbox.clone(),
                    done: done_rx,
                },
            )
        };
        self.inner().counters.processes.add(1);
        let pid = Pid { mailbox };
        let run = super::run(process, rx, pid.clone(), self.clone(), done_tx);
        match replaced {
            Some(old) => {
                old.sink.retire();
                let mut old_done = old.done;
                self.inner().spawner.spawn(Box::pin(async move {
                    let _ = old_done.wait_for(|d| *d).await;
                    run.await
                }));
            }
            None => self.inner().spawner.spawn(Box::pin(run)),
        }
        Ok(pid)
    }
}
