//! Write Reveille checks.
//!
//! A check is a WebAssembly component that the Reveille host loads at run time. With this
//! crate a check is one trait implementation and one macro call:
//!
//! ```no_run
//! use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger};
//!
//! struct DiskSpace;
//!
//! impl Check for DiskSpace {
//!     fn describe() -> Descriptor {
//!         Descriptor::new("disk-space", env!("CARGO_PKG_VERSION"), "Free disk space below a minimum")
//!             .on(Trigger::Report)
//!             .setting_integer("min-free-mb", 1024, 1.., "Fire below this many free megabytes")
//!     }
//!
//!     fn evaluate(input: &Input) -> Result<Output, String> {
//!         let min: u64 = input.config_parsed("min-free-mb")?;
//!         let free = input.report().and_then(|r| r.value("disk/@free-mb"));
//!         Ok(match free.and_then(|f| f.parse::<u64>().ok()) {
//!             Some(free) if free < min => Output::new().finding(
//!                 Finding::new("disk-low", Severity::Warning, format!("{free} MB free"))
//!                     .summary_in("ru", format!("Свободно {free} МБ")),
//!             ),
//!             _ => Output::new(),
//!         })
//!     }
//! }
//!
//! reveille_sdk::export_check!(DiskSpace);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (crate type `cdylib`).
//! With the `testing` feature, [`testing`] runs it natively in `cargo test` on reports
//! given as XML text.
//! The macro stamps [`API_VERSION`] into the component; the host reads the stamp before
//! compiling and refuses a plugin built for an API it does not speak.

// The generated bindings name their runtime by its public path; make that path work here too.
extern crate self as reveille_sdk;

mod check;
mod conclusion;
mod duration;
mod language;
pub mod limits;
pub mod log;
mod report;
mod setting;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod version;

pub use check::{
    Check, ConfigKey, Context, Descriptor, Finding, Input, Installation, Output, Severity,
    StateChange, Translation, Trigger,
};
pub use conclusion::{remembered, remembered_finding};
pub use duration::{DurationError, format_duration, format_duration_in, parse_duration};
pub use language::same_language;
pub use report::{
    Base, Element, Network, Protection, ProtectionState, Report, Service, ServiceState, Users,
};
pub use setting::{SettingType, SettingsError, check_settings};
pub use time::{Timestamp, TimestampError};
pub use version::{Version, VersionError};

/// This SDK's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the host API (`wit/v1`, its newest minor) this SDK builds plugins for.
pub const API_VERSION: &str = match std::str::from_utf8(&__private::API_VERSION_STAMP) {
    Ok(version) => version,
    Err(_) => panic!("the API version stamp is not UTF-8"),
};

/// Exports a [`Check`] implementation as the component's `reveille:check` world and stamps
/// the API version into the component.
#[macro_export]
macro_rules! export_check {
    ($check:ty) => {
        const _: () = {
            #[used]
            #[unsafe(link_section = "reveille:api-version")]
            static API_VERSION_STAMP: [u8; $crate::__private::API_VERSION_STAMP.len()] =
                $crate::__private::API_VERSION_STAMP;

            struct Exported;

            impl $crate::__private::bindings::Guest for Exported {
                fn describe() -> $crate::__private::bindings::reveille::check::types::Descriptor {
                    $crate::__private::describe::<$check>()
                }

                fn evaluate(
                    input: $crate::__private::bindings::reveille::check::types::Input,
                ) -> ::core::result::Result<
                    $crate::__private::bindings::reveille::check::types::Output,
                    ::std::string::String,
                > {
                    $crate::__private::evaluate::<$check>(input)
                }
            }

            $crate::__private::bindings::__export_check_world!(
                Exported with_types_in $crate::__private::bindings
            );
        };
    };
}

/// Glue between the generated bindings and the SDK's types, used by [`export_check!`].
/// Not part of the API: it changes whenever the bindings do.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
