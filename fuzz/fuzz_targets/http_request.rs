//! The HTTP request parser and router: the input is one connection's bytes to the
//! in-memory node (the sniffer, hyper with the node's limits, the router, body reading).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let answer = meso_fuzz::fuzz_node().exchange(data);
    // Whatever was answered is an HTTP response (or nothing: a dropped connection).
    assert!(answer.is_empty() || answer.starts_with(b"HTTP/1.1 "));
});
