//! RecordIO (the event streams' framing): any bytes fed in any split decode to records or
//! an error; records re-encoded decode to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meso_api::http::recordio::{encode, Decoder};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = (cut as usize).min(rest.len());
    let mut decoder = Decoder::new(1 << 16);
    let mut records = Vec::new();
    for part in [&rest[..at], &rest[at..]] {
        match decoder.feed(part) {
            Ok(r) => records.extend(r),
            Err(_) => return,
        }
    }
    let mut again = Decoder::new(1 << 16);
    let bytes: Vec<u8> = records.iter().flat_map(|r| encode(r)).collect();
    assert_eq!(
        again.feed(&bytes).expect("re-encoded records decode"),
        records
    );
});
