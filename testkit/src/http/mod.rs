//! One raw HTTP/1.1 + RecordIO client for every meso test, with no HTTP crate in between
//! (so a test sees the bytes a third-party client sees and can send malformed ones).
//!
//! [`wire`] is the pure core (heads, chunked decoding, RecordIO records, request bytes);
//! [`blocking`] drives it over `std` sockets for tests on plain threads and real
//! processes, [`nonblocking`] over tokio sockets for tests inside a runtime. Both return
//! the same [`Response`].

pub mod blocking;
pub mod nonblocking;
pub mod wire;

pub use wire::{json_call, post_bytes, request_bytes, Headers, Response};
