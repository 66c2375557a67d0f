//! Actor frames: the input follows the frame preamble on one connection to the in-memory
//! node, whose reader splits, decodes and delivers (or counts and drops) each frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = libprocess::frame::PREAMBLE.to_vec();
    input.extend_from_slice(data);
    meso_fuzz::fuzz_node().exchange(&input);
});
