//! The table mapping the message names a process accepts into its `Message` enum.
//!
//! A process lists the names it accepts in [`Process::install`](crate::Process::install) with
//! [`Handlers::on`], each mapped into its `Message` enum through `From`; a connection reader
//! decodes a frame's payload with the receiver's table.

use super::Process;
use crate::fnv::FnvHashMap;
use crate::message::{AnyMessage, RemoteMessage};

struct Handler<P: Process> {
    decode: fn(&[u8]) -> Result<P::Message, postcard::Error>,
    from_any: fn(AnyMessage) -> Option<P::Message>,
}

/// The message names a process accepts and how each becomes its `Message`.
///
/// Each name gets a stable index (its position in `entries`), so a connection reader that
/// sees the same name frame after frame looks it up once and then indexes.
pub struct Handlers<P: Process> {
    by_name: FnvHashMap<&'static str, usize>,
    entries: Vec<Handler<P>>,
}

fn decode_as<P: Process, M: RemoteMessage>(bytes: &[u8]) -> Result<P::Message, postcard::Error>
where
    P::Message: From<M>,
{
    postcard::from_bytes::<M>(bytes).map(P::Message::from)
}

/// A message of type `M` that arrived and was not read (see [`Handlers::on_unread`]).
pub struct Unread<M>(std::marker::PhantomData<fn() -> M>);

impl<M> std::fmt::Debug for Unread<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unread<{}>", std::any::type_name::<M>())
    }
}

fn unread<P: Process, M: RemoteMessage>(_bytes: &[u8]) -> Result<P::Message, postcard::Error>
where
    P::Message: From<Unread<M>>,
{
    Ok(P::Message::from(Unread(std::marker::PhantomData)))
}

fn unread_any<P: Process, M: RemoteMessage>(any: AnyMessage) -> Option<P::Message>
where
    P::Message: From<Unread<M>>,
{
    any.is::<M>()
        .then(|| P::Message::from(Unread(std::marker::PhantomData)))
}

fn downcast_as<P: Process, M: RemoteMessage>(any: AnyMessage) -> Option<P::Message>
where
    P::Message: From<M>,
{
    any.downcast::<M>().ok().map(|m| P::Message::from(*m))
}

impl<P: Process> Handlers<P> {
    pub(crate) fn new() -> Self {
        Handlers {
            by_name: FnvHashMap::default(),
            entries: Vec::new(),
        }
    }

    /// Accepts messages named `M::NAME`, converted with `From<M>`.
    pub fn on<M: RemoteMessage>(&mut self) -> &mut Self
    where
        P::Message: From<M>,
    {
        self.install(
            M::NAME,
            Handler {
                decode: decode_as::<P, M>,
                from_any: downcast_as::<P, M>,
            },
        )
    }

    /// Puts `handler` under `name` (replacing an earlier one, which keeps its index).
    fn install(&mut self, name: &'static str, handler: Handler<P>) -> &mut Self {
        match self.by_name.get(name) {
            Some(&index) => self.entries[index] = handler,
            None => {
                self.by_name.insert(name, self.entries.len());
                self.entries.push(handler);
            }
        }
        self
    }

    /// Accepts messages named `M::NAME` without reading them: the payload is not decoded
    /// (and not checked), and the process gets `From<Unread<M>>`. For a process that only
    /// answers who sent a message, such as a standby that redirects clients: decoding a large
    /// message only to drop it would cost as much as handling it.
    pub fn on_unread<M: RemoteMessage>(&mut self) -> &mut Self
    where
        P::Message: From<Unread<M>>,
    {
        self.install(
            M::NAME,
            Handler {
                decode: unread::<P, M>,
                from_any: unread_any::<P, M>,
            },
        )
    }

    /// Whether `name` is accepted.
    pub fn accepts(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The stable index of `name`'s handler, if the name is accepted.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Decodes with the handler at `index` (from [`Handlers::index_of`]).
    pub(crate) fn decode_at(
        &self,
        index: usize,
        bytes: &[u8],
    ) -> Option<Result<P::Message, postcard::Error>> {
        self.entries.get(index).map(|h| (h.decode)(bytes))
    }

    pub(crate) fn convert_any(&self, name: &str, any: AnyMessage) -> Option<Option<P::Message>> {
        self.index_of(name)
            .and_then(|i| self.entries.get(i))
            .map(|h| (h.from_any)(any))
    }
}
