//! `reveille sdk export` and `reveille plugin new`: the SDK this binary was built with, and
//! a ready crate that builds against it, so a plugin author needs this binary and the Rust
//! toolchain and nothing from the repository, and the SDK can never disagree with the host
//! about the plugin API.
//!
//! The SDK's files are embedded by the build script (`SDK_FILES`); an export writes them
//! with a stamp (`REVEILLE-SDK`) saying which SDK and API they are, which `plugin new`
//! reads before building against a directory. A new crate gets the workspace's lock file,
//! so it builds with the very versions the SDK was tested with.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::plugins::Trigger;
use crate::plugins::loader::valid_name;

include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));

/// The file an export carries to say what it is.
const STAMP: &str = "REVEILLE-SDK";

/// Where the SDK crate is inside an export.
const SDK_CRATE: &str = "sdk";

#[derive(Debug, Subcommand)]
pub enum SdkCommand {
    /// Write the SDK's sources and the WIT they build against into a directory, for
    /// `reveille-sdk = { path = "<dir>/sdk" }`.
    Export {
        /// Where to write it (created; an earlier export there is replaced).
        dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The check's name: 1-64 lowercase letters, digits and dashes (`disk-space`).
    name: String,
    /// What the host evaluates it on: report, tick or probe.
    #[arg(long, default_value = "report")]
    trigger: Trigger,
    /// Where the crate goes; `./<name>` by default.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The SDK to build against, a directory `reveille sdk export` wrote; by default
    /// `reveille-sdk` beside the crate, exported there first when it is not there.
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// What an export of this binary's SDK says it is.
fn stamp() -> String {
    format!(
        "reveille-sdk {} for plugin API {}, exported by reveille {}\n",
        reveille_sdk::VERSION,
        reveille_sdk::API_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

pub fn sdk(command: SdkCommand) -> anyhow::Result<i32> {
    match command {
        SdkCommand::Export { dir } => {
            export(&dir)?;
            println!(
                "wrote reveille-sdk {} (plugin API {}) to {}; depend on it with\n  \
                 reveille-sdk = {{ path = \"{}\" }}",
                reveille_sdk::VERSION,
                reveille_sdk::API_VERSION,
                dir.display(),
                dir.join(SDK_CRATE).display()
            );
            Ok(0)
        }
    }
}

/// Writes the SDK into `dir`: refuses a directory that holds something else, replaces an
/// earlier export.
fn export(dir: &Path) -> anyhow::Result<()> {
    let stamped = dir.join(STAMP).is_file();
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied && !stamped {
        bail!(
            "{} is not empty and holds no SDK export; choose an empty or new directory",
            dir.display()
        );
    }
    for earlier in [SDK_CRATE, "wit"] {
        let path = dir.join(earlier);
        if stamped && path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot replace {}", path.display()))?;
        }
    }
    for (relative, bytes) in SDK_FILES {
        write(&dir.join(relative), bytes)?;
    }
    write(&dir.join(STAMP), stamp().as_bytes())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn new(args: NewArgs) -> anyhow::Result<i32> {
    let name = &args.name;
    if !valid_name(name) {
        bail!("`{name}` cannot name a check: use 1-64 lowercase letters, digits and dashes");
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} exists and is not empty", dir.display());
    }
    let beside = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("reveille-sdk");
    let (sdk_dir, sdk_path) = match &args.sdk {
        Some(sdk) => {
            let absolute = std::path::absolute(sdk)
                .with_context(|| format!("cannot resolve {}", sdk.display()))?;
            let path = absolute.join(SDK_CRATE).display().to_string();
            (sdk.clone(), path)
        }
        None => (beside, format!("../reveille-sdk/{SDK_CRATE}")),
    };
    match std::fs::read_to_string(sdk_dir.join(STAMP)) {
        Ok(found) if found == stamp() => {}
        Ok(found) => bail!(
            "{} holds {}, but this binary carries {}: export that one elsewhere \
             (`reveille sdk export DIR`) and pass --sdk DIR",
            sdk_dir.display(),
            found.trim(),
            stamp().trim()
        ),
        Err(_) if args.sdk.is_some() => bail!(
            "{} is not an SDK export: write one with `reveille sdk export {}`",
            sdk_dir.display(),
            sdk_dir.display()
        ),
        Err(_) => {
            export(&sdk_dir)?;
            println!(
                "exported reveille-sdk {} (plugin API {}) to {}",
                reveille_sdk::VERSION,
                reveille_sdk::API_VERSION,
                sdk_dir.display()
            );
        }
    }
    let source = match args.trigger {
        Trigger::Report => include_str!("../../../sdk/template/report.rs.tmpl"),
        Trigger::Tick => include_str!("../../../sdk/template/tick.rs.tmpl"),
        Trigger::Probe => include_str!("../../../sdk/template/probe.rs.tmpl"),
    };
    let files: [(&str, &str); 5] = [
        (
            "Cargo.toml",
            include_str!("../../../sdk/template/Cargo.toml.tmpl"),
        ),
        ("src/lib.rs", source),
        (
            "fixtures/report.xml",
            include_str!("../../../sdk/template/report.xml"),
        ),
        (
            "README.md",
            include_str!("../../../sdk/template/README.md.tmpl"),
        ),
        ("Cargo.lock", CARGO_LOCK),
    ];
    let mut type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    // A Rust type's name cannot begin with a digit (`2fa-check`).
    if type_name.starts_with(|c: char| c.is_ascii_digit()) {
        type_name.insert_str(0, "Check");
    }
    let crate_name = name.replace('-', "_");
    for (relative, template) in files {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{type}}", &type_name)
            .replace("{{sdk}}", &sdk_path);
        write(&dir.join(relative), text.as_bytes())?;
    }
    write(&dir.join(".gitignore"), b"/target\n")?;
    println!(
        "created {} ({} check `{name}`); next:\n  cd {}\n  cargo test\n  cargo build --release --target wasm32-wasip2",
        dir.display(),
        args.trigger,
        dir.display()
    );
    Ok(0)
}
