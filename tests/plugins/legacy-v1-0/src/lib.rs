//! Test fixture: a check built against API 1.0.0 (`wit/v1.0`), as every plugin was before
//! 1.1: the bindings generated directly (what SDK 0.1 did inside), the 1.0.0 stamp,
//! settings without types and findings in one language. The host must keep loading and
//! running it unchanged. It is an early `disk-space` (the SDK's example is its 1.1
//! successor, which drops the `path` setting): `disk-low` below `min-free-mb`.

wit_bindgen::generate!({ path: "../../../wit/v1.0", world: "check" });

use reveille::check::types::{ConfigKey, Finding, Severity, Trigger};

#[used]
#[unsafe(link_section = "reveille:api-version")]
static API_VERSION_STAMP: [u8; 5] = *b"1.0.0";

struct Legacy;

impl Guest for Legacy {
    fn describe() -> Descriptor {
        Descriptor {
            name: "disk-space".into(),
            version: "0.9.0".into(),
            description: "Free disk space, as a 1.0 plugin says it".into(),
            config: vec![
                ConfigKey {
                    name: "min-free-mb".into(),
                    default_value: "1024".into(),
                    description: "Warn below this many free megabytes".into(),
                },
                ConfigKey {
                    name: "path".into(),
                    default_value: "disk/@free-mb".into(),
                    description: "Where the free megabytes are".into(),
                },
            ],
            triggers: vec![Trigger::Report],
        }
    }

    fn evaluate(input: Input) -> Result<Output, String> {
        let setting = |key: &str| {
            input
                .config
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let min: u64 =
            (setting("min-free-mb").trim().parse()).map_err(|e| format!("min-free-mb: {e}"))?;
        let free = input
            .report
            .as_ref()
            .and_then(|r| r.value(&setting("path")))
            .and_then(|v| v.parse::<u64>().ok());
        let findings = match free {
            Some(free) if free < min => vec![Finding {
                key: "disk-low".into(),
                severity: Severity::Warning,
                summary: format!("Only {free} MB free"),
                details: String::new(),
                labels: vec![("free-mb".into(), free.to_string())],
            }],
            _ => Vec::new(),
        };
        Ok(Output {
            findings,
            state: Vec::new(),
        })
    }
}

export!(Legacy);
