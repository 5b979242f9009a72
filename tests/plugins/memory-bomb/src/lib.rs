//! Test fixture: allocates until something stops it. The host's memory limit must.

use reveille_sdk::{Check, Descriptor, Input, Output, Trigger};

pub struct MemoryBomb;

impl Check for MemoryBomb {
    fn describe() -> Descriptor {
        Descriptor::new(
            "memory-bomb",
            env!("CARGO_PKG_VERSION"),
            "Allocates without end",
        )
        .on(Trigger::Report)
    }

    fn evaluate(_input: &Input) -> Result<Output, String> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xA5; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

reveille_sdk::export_check!(MemoryBomb);
