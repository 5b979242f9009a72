//! Test fixture: never returns from `evaluate`. The host must stop it at its deadline.

use reveille_sdk::{Check, Descriptor, Input, Output, Trigger};

pub struct RunawayLoop;

impl Check for RunawayLoop {
    fn describe() -> Descriptor {
        Descriptor::new("runaway-loop", env!("CARGO_PKG_VERSION"), "Loops forever")
            .on(Trigger::Report)
    }

    fn evaluate(_input: &Input) -> Result<Output, String> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

reveille_sdk::export_check!(RunawayLoop);
