//! Host side of `wit/v1.0`, frozen: plugins built for API 1.0.0 keep loading and running
//! unchanged. Only their exports are bound here: their imports (the `document` interface
//! at 1.0.0) are served by the newest 1.x's, which the linker matches by semver.
//! What 1.0 cannot say, it does not: every setting is text, every finding in one language.

use crate::plugins::contract::Translations;
use reveille_sdk::SettingType;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/v1.0",
        world: "check",
        with: { "reveille:check/document.report": crate::plugins::sandbox::ReportHandle },
        imports: { default: trappable },
        exports: { default: async },
    });
}

pub use bindings::CheckPre as BindingsPre;
use bindings::reveille::check::types as wit;

super::v1_records!(
    value_type: |key| SettingType::Text,
    translations: |finding| Translations::default(),
);
