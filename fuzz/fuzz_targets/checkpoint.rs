//! The agent's checkpoint files: CRC-framed records (a task's update stream, a single
//! framed value) read back from any bytes, damage reported, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meso_agent::checkpoint::records;

fuzz_target!(|data: &[u8]| {
    let decoded = records::decode(data);
    std::hint::black_box(&decoded);
    let _ = records::single_frame(data);
    // A payload framed then read back is itself.
    let framed = records::frame(data);
    assert_eq!(records::single_frame(&framed).expect("a whole frame"), data);
});
