//! The `--resources` and `--attributes` grammars (text or JSON): parse, or an error.
//! Parsed resources print and parse back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meso_api::attributes::Attributes;
use meso_api::resources::Resources;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Resources::parse(text, "*") {
        let again = Resources::parse(&r.to_string(), "*");
        assert!(again.is_ok(), "{r} does not parse back: {again:?}");
    }
    let _ = Attributes::parse(text);
});
