//! Test fixture: a check built against API 1.1.0 (`wit/v1.1`), as every plugin was before
//! 1.2: the bindings generated directly, the 1.1.0 stamp, typed settings and translated
//! findings, no `log` import. The host must keep loading and running it unchanged, and
//! what it prints (any API can: it is WASI's stdout and stderr) reaches its author.
//! `free-space`: `disk-low` below `min-free-mb`.

wit_bindgen::generate!({ path: "../../../wit/v1.1", world: "check" });

use reveille::check::types::{
    ConfigKey, Finding, IntegerBounds, SettingType, Severity, Translation, Trigger,
};

#[used]
#[unsafe(link_section = "reveille:api-version")]
static API_VERSION_STAMP: [u8; 5] = *b"1.1.0";

struct Legacy;

impl Guest for Legacy {
    fn describe() -> Descriptor {
        Descriptor {
            name: "free-space".into(),
            version: "1.1.0".into(),
            description: "Free disk space, as a 1.1 plugin says it".into(),
            config: vec![ConfigKey {
                name: "min-free-mb".into(),
                default_value: "1024".into(),
                description: "Warn below this many free megabytes".into(),
                value_type: SettingType::Integer(IntegerBounds {
                    min: Some(1),
                    max: None,
                }),
            }],
            triggers: vec![Trigger::Report],
        }
    }

    fn evaluate(input: Input) -> Result<Output, String> {
        let min: u64 = input
            .config
            .iter()
            .find(|(k, _)| k == "min-free-mb")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or("min-free-mb is not a number")?;
        let free = input
            .report
            .as_ref()
            .and_then(|r| r.value("disk/@free-mb"))
            .and_then(|v| v.parse::<u64>().ok());
        println!("free {free:?} MB, minimum {min} MB");
        let findings = match free {
            Some(free) if free < min => vec![Finding {
                key: "disk-low".into(),
                severity: Severity::Warning,
                summary: format!("Only {free} MB free"),
                details: String::new(),
                labels: Vec::new(),
                translations: vec![Translation {
                    language: "ru".into(),
                    summary: format!("Свободно только {free} МБ"),
                    details: String::new(),
                }],
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
