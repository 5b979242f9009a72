//! Test fixture: panics in `evaluate`. The host must isolate it and report the message.

use reveille_sdk::{Check, Descriptor, Input, Output, Trigger};

pub struct Panics;

impl Check for Panics {
    fn describe() -> Descriptor {
        Descriptor::new(
            "panics",
            env!("CARGO_PKG_VERSION"),
            "Panics on every report",
        )
        .on(Trigger::Report)
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        panic!(
            "deliberate panic for installation {}",
            input.context().installation.id
        );
    }
}

reveille_sdk::export_check!(Panics);
