//! The WIT worlds this host speaks, one module per major version (`wit/v1` → [`v1`]).
//!
//! A plugin's API version is data: the SDK stamps it into the component's
//! `reveille:api-version` custom section, and [`inspect`] reads it (with the component's
//! imports) before anything is compiled, so an incompatible plugin is refused with a clear
//! message instead of a link error. A future `v2` adds a module and a variant to
//! [`ApiVersion`]; plugins built for v1 keep working through [`v1`].

pub mod v1;

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
    V1(v1::BindingsPre<HostState>),
}

/// A call's answer: what the plugin returned (its own error included), or why the call
/// itself failed (a trap, the deadline, memory).
pub type CallResult<T> = wasmtime::Result<T>;

impl WorldPre {
    /// Links `component` for `api`.
    pub fn link(
        linkers: &Linkers,
        api: ApiVersion,
        component: &Component,
    ) -> wasmtime::Result<Self> {
        match api {
            ApiVersion::V1 => linkers
                .v1
                .instantiate_pre(component)
                .and_then(v1::BindingsPre::new)
                .map(WorldPre::V1),
        }
    }

    pub async fn describe(&self, store: &mut Store<HostState>) -> CallResult<Descriptor> {
        match self {
            WorldPre::V1(pre) => {
                let bindings = pre.instantiate_async(&mut *store).await?;
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
            WorldPre::V1(pre) => {
                let bindings = pre.instantiate_async(&mut *store).await?;
                let input = v1::input(store.data_mut(), input)?;
                Ok(bindings
                    .call_evaluate(&mut *store, &input)
                    .await?
                    .map(v1::output))
            }
        }
    }
}

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
    V1,
}

impl ApiVersion {
    /// Every world this host links, newest last.
    pub const SUPPORTED: [(ApiVersion, SemVer); 1] = [(
        ApiVersion::V1,
        SemVer {
            major: 1,
            minor: 0,
            patch: 0,
        },
    )];

    /// The host world that runs a plugin stamped `stamp`: same major version, and a minor
    /// version no newer than the host's (a newer minor may import functions we lack).
    pub fn for_stamp(stamp: SemVer) -> Option<ApiVersion> {
        Self::SUPPORTED
            .iter()
            .find(|(_, host)| host.major == stamp.major && stamp.minor <= host.minor)
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
    Ok(Inspection {
        api,
        stamp: version,
    })
}

/// `text` with every run of whitespace (newlines of a debug dump included) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
