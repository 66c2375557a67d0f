//! Raft between masters: a `RaftFrame` as it arrives (postcard), each message in it
//! (protobuf), and a log entry's batch of registry operations applied to a registry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meso_master::raftlog::{Batch, RaftFrame};
use meso_registry::{Operation, Registry};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = postcard::from_bytes::<RaftFrame>(data) {
        for m in &frame.messages {
            let _ = meso_master::raftlog::decode_message(m);
        }
    }
    let _ = meso_master::raftlog::decode_message(data);
    if let Ok(batch) = postcard::from_bytes::<Batch>(data) {
        let mut registry = Registry::default();
        for command in &batch.commands {
            if let Ok(op) = postcard::from_bytes::<Operation>(command) {
                let _ = registry.apply(&op);
            }
        }
    }
});
