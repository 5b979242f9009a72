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
        // Reserve without filling: the memory limit must stop the growth itself, however
        // slow the machine, before any deadline does.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block = Vec::with_capacity(1 << 20);
            block.push(0xA5u8);
            hoard.push(block);
            std::hint::black_box(&hoard);
        }
    }
}

reveille_sdk::export_check!(MemoryBomb);
