//! The WIT worlds this host speaks: the newest of each major version (`wit/v1` → [`v1`])
//! and a frozen copy of every older minor version whose records differ (`wit/v1.0` →
//! [`v1_0`]; 1.1's records are 1.2's, so [`v1`] binds both).
//!
//! A plugin's API version is data: the SDK stamps it into the component's
//! `reveille:api-version` custom section, and [`inspect`] reads it (with the component's
//! imports) before anything is compiled, so an incompatible plugin is refused with a clear
//! message instead of a link error. One linker serves every 1.x: it holds the newest
//! imports, and wasmtime matches an older minor's import names to them by semver; only
//! the exports (whose records grow with each minor) are bound per version. A new minor
//! freezes the current `wit/v1` beside it, adds a module and a variant to [`ApiVersion`]
//! and [`WorldPre`]; a new major adds a linker too.

pub mod v1;
pub mod v1_0;

use std::fmt;

use wasmparser::{Encoding, Parser, Payload};
use wasmtime::Store;
use wasmtime::component::{Component, Linker};

use super::contract::{Descriptor, EvalInput, EvalOutput};
use super::sandbox::HostState;

/// A component linked against the world it was built for, ready to instantiate once per
/// call. Every call into a plugin goes through one of its methods: the one place that
/// dispatches on the API version.
pub enum WorldPre {
    V1_0(v1_0::BindingsPre<HostState>),
    /// 1.1 and newer: the same records.
    V1(v1::BindingsPre<HostState>),
}

/// A call's answer: what the plugin returned (its own error included), or why the call
/// itself failed (a trap, the deadline, memory, an answer the host cannot read).
pub type CallResult<T> = wasmtime::Result<T>;

/// Marks an error of the host's own side of a call (instantiating, handing over the
/// input), as opposed to what the plugin did: an error without it that is not a trap came
/// from reading what the plugin returned (a string that is not UTF-8, a list out of its
/// memory), and is the plugin's fault.
#[derive(Debug, Clone, Copy)]
pub struct HostFault;

impl fmt::Display for HostFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the host could not set up the call")
    }
}

fn host(error: wasmtime::Error) -> wasmtime::Error {
    error.context(HostFault)
}

impl WorldPre {
    /// Links `component` for `api`.
    pub fn link(
        linkers: &Linkers,
        api: ApiVersion,
        component: &Component,
    ) -> wasmtime::Result<Self> {
        let pre = linkers.v1.instantiate_pre(component)?;
        match api {
            ApiVersion::V1_0 => v1_0::BindingsPre::new(pre).map(WorldPre::V1_0),
            ApiVersion::V1_1 | ApiVersion::V1_2 => v1::BindingsPre::new(pre).map(WorldPre::V1),
        }
    }

    pub async fn describe(&self, store: &mut Store<HostState>) -> CallResult<Descriptor> {
        match self {
            WorldPre::V1_0(pre) => {
                let bindings = pre.instantiate_async(&mut *store).await.map_err(host)?;
                Ok(v1_0::descriptor(bindings.call_describe(&mut *store).await?))
            }
            WorldPre::V1(pre) => {
                let bindings = pre.instantiate_async(&mut *store).await.map_err(host)?;
                Ok(v1::descriptor(bindings.call_describe(&mut *store).await?))
            }
        }
    }

    pub async fn evaluate(
        &self,
        store: &mut Store<HostState>,
        input: &EvalInput,
    ) -> CallResult<Result<EvalOutput, String>> {
        match self {
            WorldPre::V1_0(pre) => {
                let bindings = pre.instantiate_async(&mut *store).await.map_err(host)?;
                let input = v1_0::input(store.data_mut(), input).map_err(host)?;
                Ok(bindings
                    .call_evaluate(&mut *store, &input)
                    .await?
                    .map(v1_0::output))
            }
            WorldPre::V1(pre) => {
                let bindings = pre.instantiate_async(&mut *store).await.map_err(host)?;
                let input = v1::input(store.data_mut(), input).map_err(host)?;
                Ok(bindings
                    .call_evaluate(&mut *store, &input)
                    .await?
                    .map(v1::output))
            }
        }
    }
}

/// The conversions between every 1.x's records and the host's contract, written once and
/// expanded in each version's module, where `wit` names that version's generated
/// `types`. What a minor version added is given as expressions: a setting's type (`$key`
/// is the `config-key` record) and a finding's translations (`$finding`).
macro_rules! v1_records {
    (value_type: |$key:ident| $value_type:expr, translations: |$finding:ident| $translations:expr $(,)?) => {
        fn trigger_from_wit(t: wit::Trigger) -> $crate::plugins::contract::Trigger {
            use $crate::plugins::contract::Trigger;
            match t {
                wit::Trigger::Report => Trigger::Report,
                wit::Trigger::Tick => Trigger::Tick,
                wit::Trigger::Probe => Trigger::Probe,
            }
        }

        pub fn descriptor(d: wit::Descriptor) -> $crate::plugins::contract::Descriptor {
            $crate::plugins::contract::Descriptor {
                name: d.name,
                version: d.version,
                description: d.description,
                config: d
                    .config
                    .into_iter()
                    .map(|$key| {
                        let value_type = $value_type;
                        $crate::plugins::contract::ConfigKey {
                            name: $key.name,
                            default_value: $key.default_value,
                            description: $key.description,
                            value_type,
                        }
                    })
                    .collect(),
                triggers: d.triggers.into_iter().map(trigger_from_wit).collect(),
            }
        }

        pub fn output(o: wit::Output) -> $crate::plugins::contract::EvalOutput {
            use $crate::plugins::contract::{Finding, Severity, StateChange};
            $crate::plugins::contract::EvalOutput {
                findings: o
                    .findings
                    .into_iter()
                    .map(|$finding| {
                        let translations = $translations;
                        Finding {
                            key: $finding.key,
                            severity: match $finding.severity {
                                wit::Severity::Info => Severity::Info,
                                wit::Severity::Warning => Severity::Warning,
                                wit::Severity::Critical => Severity::Critical,
                            },
                            summary: $finding.summary,
                            details: $finding.details,
                            labels: $finding.labels,
                            translations,
                        }
                    })
                    .collect(),
                state: o
                    .state
                    .into_iter()
                    .map(|s| StateChange {
                        key: s.key,
                        value: s.value,
                    })
                    .collect(),
            }
        }

        /// The input for `input`; the report (if any) becomes a resource in `state`'s
        /// table.
        pub fn input(
            state: &mut $crate::plugins::sandbox::HostState,
            input: &$crate::plugins::contract::EvalInput,
        ) -> wasmtime::Result<wit::Input> {
            use $crate::plugins::contract::Trigger;
            let report = match &input.report {
                Some(doc) => Some(
                    state
                        .table
                        .push($crate::plugins::sandbox::ReportHandle(doc.clone()))?,
                ),
                None => None,
            };
            Ok(wit::Input {
                context: wit::Context {
                    installation: wit::Installation {
                        id: input.installation.id.clone(),
                        client: input.installation.client.clone(),
                        tags: input.installation.tags.clone(),
                        timezone: input.installation.timezone.clone(),
                    },
                    trigger: match input.trigger {
                        Trigger::Report => wit::Trigger::Report,
                        Trigger::Tick => wit::Trigger::Tick,
                        Trigger::Probe => wit::Trigger::Probe,
                    },
                    now: input.now_ms,
                    last_report_at: input.last_report_at_ms,
                },
                config: input.config.clone().into_iter().collect(),
                state: input
                    .state
                    .iter()
                    .map(|(k, v)| wit::StateEntry {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                report,
            })
        }
    };
}
use v1_records;

/// The host's side of every world, built once.
pub struct Linkers {
    v1: Linker<HostState>,
}

impl Linkers {
    pub fn new(engine: &wasmtime::Engine) -> wasmtime::Result<Self> {
        let mut v1 = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut v1)?;
        v1::Bindings::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut v1, |s| s)?;
        Ok(Linkers { v1 })
    }
}

/// Name of the custom section the SDK writes the API version into.
pub const STAMP_SECTION: &str = "reveille:api-version";

/// The API versions this host can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1_0,
    V1_1,
    /// Adds the `log` import.
    V1_2,
}

impl ApiVersion {
    /// Every world this host links, newest last.
    pub const SUPPORTED: [(ApiVersion, SemVer); 3] = [
        (
            ApiVersion::V1_0,
            SemVer {
                major: 1,
                minor: 0,
                patch: 0,
            },
        ),
        (
            ApiVersion::V1_1,
            SemVer {
                major: 1,
                minor: 1,
                patch: 0,
            },
        ),
        (
            ApiVersion::V1_2,
            SemVer {
                major: 1,
                minor: 2,
                patch: 0,
            },
        ),
    ];

    /// The host world that runs a plugin stamped `stamp`: the one of its major and minor
    /// version (records differ between minors; a patch changes no record). A newer minor
    /// than the host's may export records the host cannot read.
    pub fn for_stamp(stamp: SemVer) -> Option<ApiVersion> {
        Self::SUPPORTED
            .iter()
            .find(|(_, host)| host.major == stamp.major && host.minor == stamp.minor)
            .map(|(api, _)| *api)
    }

    pub fn supported_list() -> String {
        Self::SUPPORTED
            .iter()
            .map(|(_, v)| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SemVer {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl SemVer {
    pub fn parse(s: &str) -> Option<SemVer> {
        let mut parts = s.trim().split('.').map(|p| p.parse::<u32>().ok());
        let v = SemVer {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(v)
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why bytes are not a plugin this host can load, found before compiling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    #[error(
        "no `{STAMP_SECTION}` stamp: the component was not built with reveille-sdk (use `reveille_sdk::export_check!`)"
    )]
    MissingStamp,
    #[error("conflicting API version stamps: {0}")]
    ConflictingStamps(String),
    #[error("unreadable API version stamp `{0}`")]
    BadStamp(String),
    #[error(
        "built for plugin API {found}, which this host does not support (it runs {supported}); rebuild the plugin with a matching reveille-sdk"
    )]
    Incompatible { found: SemVer, supported: String },
    #[error(
        "imports `{0}`, which the host does not provide: a plugin may import only `reveille:check/*` and WASI (given no files, network or environment)"
    )]
    ForbiddenImport(String),
}

/// What [`inspect`] learned from a component's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub api: ApiVersion,
    pub stamp: SemVer,
    /// What it imports (WASI's interfaces and `reveille:check`'s), for `plugin inspect`.
    pub imports: Vec<String>,
}

/// Reads the API stamp and the top-level imports without compiling anything.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, InspectError> {
    if !bytes.starts_with(b"\0asm") {
        let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(InspectError::NotAComponent(format!(
            "it does not begin with the WebAssembly magic bytes 00 61 73 6d (`\\0asm`) but with {}",
            start.join(" ")
        )));
    }
    let unreadable =
        |e: wasmparser::BinaryReaderError| InspectError::NotAComponent(one_line(&e.to_string()));
    let mut stamps: Vec<String> = Vec::new();
    let mut imports: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(unreadable)?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(InspectError::NotAComponent(
                        "this is a core WebAssembly module; build for `wasm32-wasip2`, which produces a component".into(),
                    ));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(section) if section.name() == STAMP_SECTION => {
                stamps.push(String::from_utf8_lossy(section.data()).trim().to_string());
            }
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    let import = import.map_err(unreadable)?;
                    // Type imports name types the world shares; only instances, functions
                    // and the like are doors the host would have to provide.
                    if !matches!(import.ty, wasmparser::ComponentTypeRef::Type(_)) {
                        imports.push(import.name.name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(forbidden) = imports
        .iter()
        .find(|name| !name.starts_with("wasi:") && !name.starts_with("reveille:check/"))
    {
        return Err(InspectError::ForbiddenImport(forbidden.clone()));
    }
    stamps.dedup();
    let stamp = match stamps.as_slice() {
        [] => return Err(InspectError::MissingStamp),
        [one] => one.clone(),
        many => return Err(InspectError::ConflictingStamps(many.join(", "))),
    };
    let version = SemVer::parse(&stamp).ok_or(InspectError::BadStamp(stamp))?;
    let api = ApiVersion::for_stamp(version).ok_or_else(|| InspectError::Incompatible {
        found: version,
        supported: ApiVersion::supported_list(),
    })?;
    imports.sort();
    imports.dedup();
    Ok(Inspection {
        api,
        stamp: version,
        imports,
    })
}

/// `text` with every run of whitespace (newlines of a debug dump included) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
