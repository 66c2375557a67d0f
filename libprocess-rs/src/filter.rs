//! Message filters for tests (Mesos's `FUTURE_PROTOBUF` / `DROP_PROTOBUFS`): await the next
//! named message matching (name, from, to), or drop matching messages.
//!
//! Filters sit at delivery on the receiving node, so they see local sends and frames from
//! other nodes alike. Only named messages (sent by `Upid`) are filtered; typed `Pid` sends are
//! not. When no filter is installed the check is one relaxed atomic load. A message seen by an
//! "expect" rule is still delivered; a "drop" rule discards it (counted in
//! `libprocess/dropped/filtered`).

use crate::message::RemoteMessage;
use crate::upid::Upid;
use bytes::Bytes;
use parking_lot::Mutex;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use tokio::sync::oneshot;

/// Which messages a filter applies to; unset fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMatch {
    name: Option<String>,
    from: Option<Upid>,
    from_node: Option<SocketAddr>,
    to: Option<Upid>,
}

impl MessageMatch {
    /// Matches every named message.
    pub fn any() -> Self {
        Self::default()
    }
    /// Matches messages of type `M`.
    pub fn of<M: RemoteMessage>() -> Self {
        Self::named(M::NAME)
    }
    /// Matches messages with this name.
    pub fn named(name: impl Into<String>) -> Self {
        MessageMatch {
            name: Some(name.into()),
            ..Self::default()
        }
    }
    /// Also require this sender.
    pub fn from(mut self, from: &Upid) -> Self {
        self.from = Some(from.clone());
        self
    }
    /// Also require a sender on the node listening at `addr` (any of its processes): how a
    /// test cuts one node off from another.
    pub fn from_node(mut self, addr: SocketAddr) -> Self {
        self.from_node = Some(addr);
        self
    }
    /// Also require this receiver.
    pub fn to(mut self, to: &Upid) -> Self {
        self.to = Some(to.clone());
        self
    }

    fn matches(&self, name: &str, from: Option<&Upid>, to: &Upid) -> bool {
        self.name.as_deref().is_none_or(|n| n == name)
            && self.from.as_ref().is_none_or(|f| Some(f) == from)
            && self
                .from_node
                .is_none_or(|addr| from.is_some_and(|f| f.addr() == addr))
            && self.to.as_ref().is_none_or(|t| t == to)
    }
}

/// A copy of a message a filter caught.
#[derive(Debug, Clone)]
pub struct Intercepted {
    /// Message name.
    pub name: String,
    /// Sender, if a process.
    pub from: Option<Upid>,
    /// Receiver.
    pub to: Upid,
    /// The postcard encoding of the message.
    pub payload: Bytes,
}

impl Intercepted {
    /// Decodes the message as `M`.
    pub fn decode<M: RemoteMessage>(&self) -> Result<M, postcard::Error> {
        postcard::from_bytes(&self.payload)
    }
}

/// The filter was removed (its node shut down) before a message matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the message filter was removed before any message matched")]
pub struct FilterGone;

enum Action {
    Expect(Option<oneshot::Sender<Intercepted>>),
    DropOnce(Option<oneshot::Sender<Intercepted>>),
    DropAll,
}

struct Rule {
    id: u64,
    matcher: MessageMatch,
    action: Action,
}

#[derive(Default)]
struct FiltersInner {
    active: AtomicUsize,
    next_id: AtomicU64,
    rules: Mutex<Vec<Rule>>,
}

/// The filters of one node.
#[derive(Clone, Default)]
pub struct Filters(Arc<FiltersInner>);

/// What delivery should do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Deliver,
    Drop,
}

/// Keeps a "drop all matching" rule installed; dropping it (or `remove`) uninstalls it.
#[must_use = "the rule is removed when this guard is dropped"]
pub struct DropRule {
    filters: Weak<FiltersInner>,
    id: u64,
}

impl DropRule {
    /// Uninstalls the rule.
    pub fn remove(self) {}
}

impl Drop for DropRule {
    fn drop(&mut self) {
        if let Some(inner) = self.filters.upgrade() {
            Filters(inner).remove(self.id);
        }
    }
}

impl Filters {
    fn install(&self, matcher: MessageMatch, action: Action) -> u64 {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rules = self.0.rules.lock();
        rules.push(Rule {
            id,
            matcher,
            action,
        });
        self.0.active.store(rules.len(), Ordering::Release);
        id
    }

    fn remove(&self, id: u64) {
        let mut rules = self.0.rules.lock();
        rules.retain(|r| r.id != id);
        self.0.active.store(rules.len(), Ordering::Release);
    }

    /// Completes with a copy of the next message matching `matcher`, which is still delivered.
    /// The rule is installed now, before the future is first polled.
    pub fn expect(
        &self,
        matcher: MessageMatch,
    ) -> impl Future<Output = Result<Intercepted, FilterGone>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        self.install(matcher, Action::Expect(Some(tx)));
        async move { rx.await.map_err(|_| FilterGone) }
    }

    /// Drops the next message matching `matcher` and completes with it.
    pub fn drop_next(
        &self,
        matcher: MessageMatch,
    ) -> impl Future<Output = Result<Intercepted, FilterGone>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        self.install(matcher, Action::DropOnce(Some(tx)));
        async move { rx.await.map_err(|_| FilterGone) }
    }

    /// Drops every message matching `matcher` while the returned guard lives.
    pub fn drop_matching(&self, matcher: MessageMatch) -> DropRule {
        let id = self.install(matcher, Action::DropAll);
        DropRule {
            filters: Arc::downgrade(&self.0),
            id,
        }
    }

    /// Removes every rule (pending expectations fail with [`FilterGone`]).
    pub fn clear(&self) {
        self.0.rules.lock().clear();
        self.0.active.store(0, Ordering::Release);
    }

    /// Whether any rule is installed (the fast check on every delivery).
    pub(crate) fn is_active(&self) -> bool {
        self.0.active.load(Ordering::Relaxed) > 0
    }

    /// Applies the rules to one message; `payload` produces its encoding if a rule needs it.
    pub(crate) fn check(
        &self,
        name: &str,
        from: Option<&Upid>,
        to: &Upid,
        payload: impl FnOnce() -> Bytes,
    ) -> Verdict {
        let mut rules = self.0.rules.lock();
        let mut verdict = Verdict::Deliver;
        let mut payload = Some(payload);
        let mut encoded: Option<Bytes> = None;
        let mut copy = |encoded: &mut Option<Bytes>| Intercepted {
            name: name.to_string(),
            from: from.cloned(),
            to: to.clone(),
            payload: encoded
                .get_or_insert_with(|| payload.take().map(|p| p()).unwrap_or_default())
                .clone(),
        };
        rules.retain_mut(|rule| {
            if !rule.matcher.matches(name, from, to) {
                return true;
            }
            match &mut rule.action {
                Action::Expect(tx) => {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(copy(&mut encoded));
                    }
                    false
                }
                Action::DropOnce(tx) => {
                    if verdict == Verdict::Drop {
                        return true;
                    }
                    verdict = Verdict::Drop;
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(copy(&mut encoded));
                    }
                    false
                }
                Action::DropAll => {
                    verdict = Verdict::Drop;
                    true
                }
            }
        });
        self.0.active.store(rules.len(), Ordering::Release);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upid(s: &str) -> Upid {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn expect_fires_once_and_drop_rules_hold_until_removed() {
        let filters = Filters::default();
        let a = upid("a@127.0.0.1:1");
        let b = upid("b@127.0.0.1:1");
        assert!(!filters.is_active());
        let seen = filters.expect(MessageMatch::named("x").to(&b));
        let guard = filters.drop_matching(MessageMatch::named("y").from(&a));
        assert_eq!(
            filters.check("x", Some(&a), &a, Bytes::new),
            Verdict::Deliver
        );
        assert_eq!(
            filters.check("x", None, &b, || Bytes::from_static(b"p")),
            Verdict::Deliver
        );
        let got = seen.await.unwrap();
        assert_eq!(got.payload, Bytes::from_static(b"p"));
        assert_eq!(got.to, b);
        assert_eq!(filters.check("y", Some(&a), &b, Bytes::new), Verdict::Drop);
        assert_eq!(filters.check("y", Some(&a), &b, Bytes::new), Verdict::Drop);
        assert_eq!(filters.check("y", None, &b, Bytes::new), Verdict::Deliver);
        drop(guard);
        assert_eq!(
            filters.check("y", Some(&a), &b, Bytes::new),
            Verdict::Deliver
        );
        assert!(!filters.is_active());
    }

    #[tokio::test]
    async fn drop_next_drops_exactly_one() {
        let filters = Filters::default();
        let a = upid("a@127.0.0.1:1");
        let dropped = filters.drop_next(MessageMatch::named("z"));
        assert_eq!(filters.check("z", None, &a, Bytes::new), Verdict::Drop);
        assert_eq!(filters.check("z", None, &a, Bytes::new), Verdict::Deliver);
        assert_eq!(dropped.await.unwrap().name, "z");
        let gone = filters.expect(MessageMatch::any());
        filters.clear();
        assert_eq!(gone.await.unwrap_err(), FilterGone);
    }
}
