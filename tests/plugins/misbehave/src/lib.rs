//! Test fixture: misbehaves as its `mode` setting asks, to show that the host bounds what a
//! plugin can do to it. Modes: `sleep` (`seconds`), `forever` (waits on a clock that never
//! rings), `flood` (`count` findings), `huge-summary` (one finding, `bytes` long),
//! `huge-state` (`count` state entries of `bytes`), `nul` (a NUL in its state), `flaky` (fails when the report has
//! `<flaky fail="yes"/>`), `clock` (reports its clocks and a random number), `recurse`
//! (recursion until the stack runs out); anything else reports one finding. Every mode
//! reads `threshold` (a duration), and with a report also `report-threshold`.
//!
//! It exports itself without the SDK's fitting of findings to the host's limits, as a
//! plugin written without the SDK could, so the host's own bounds are what it meets.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reveille_sdk::{Check, Descriptor, Finding, Input, Output, Severity, Trigger};

pub struct Misbehave;

impl Check for Misbehave {
    fn describe() -> Descriptor {
        Descriptor::new(
            "misbehave",
            env!("CARGO_PKG_VERSION"),
            "Misbehaves on request",
        )
        .on(Trigger::Report)
        .on(Trigger::Tick)
        .setting("mode", "", "What to do")
        .setting("seconds", "3600", "How long `sleep` sleeps")
        .setting("count", "100000", "How many findings or state entries")
        .setting("bytes", "20000000", "How long a summary or state value")
        .setting("threshold", "1h", "A duration, always read")
        .setting(
            "report-threshold",
            "1h",
            "A duration, read only with a report",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        input.config_duration("threshold")?;
        if input.report().is_some() {
            input.config_duration("report-threshold")?;
        }
        let number = |key: &str| input.config_parsed::<usize>(key);
        let output = match input.config("mode").unwrap_or_default() {
            "sleep" => {
                std::thread::sleep(Duration::from_secs(number("seconds")? as u64));
                Output::new()
            }
            "forever" => {
                std::thread::sleep(Duration::MAX);
                Output::new()
            }
            "flood" => (0..number("count")?).fold(Output::new(), |output, n| {
                output.finding(Finding::new(
                    format!("flood-{n}"),
                    Severity::Critical,
                    "one of many",
                ))
            }),
            "huge-summary" => Output::new().finding(Finding::new(
                "huge",
                Severity::Warning,
                "x".repeat(number("bytes")?),
            )),
            "huge-state" => {
                let value = "s".repeat(number("bytes")?);
                (0..number("count")?).fold(Output::new(), |output, n| {
                    output.set_state(format!("key-{n}"), value.clone())
                })
            }
            "nul" => Output::new().set_state("nul", "a\0b"),
            "flaky" => {
                let fail = input
                    .report()
                    .and_then(|r| r.value("flaky/@fail"))
                    .is_some_and(|f| f == "yes");
                if fail {
                    return Err("flaky: failing as asked".into());
                }
                Output::new()
            }
            "clock" => {
                let wall = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_err(|e| e.to_string())?;
                let started = Instant::now();
                let mut random = [0u8; 8];
                getrandom::fill(&mut random).map_err(|e| e.to_string())?;
                Output::new().finding(
                    Finding::new("clock", Severity::Info, "what the sandbox says")
                        .label("wall-ms", wall.as_millis().to_string())
                        .label("monotonic-ns", started.elapsed().as_nanos().to_string())
                        .label("random", u64::from_le_bytes(random).to_string()),
                )
            }
            "recurse" => {
                let depth = deep(std::hint::black_box(0));
                Output::new().finding(Finding::new("deep", Severity::Info, depth.to_string()))
            }
            _ => Output::new().finding(Finding::new("ok", Severity::Info, "behaving")),
        };
        Ok(output)
    }
}

/// Recursion with a large frame on the plugin's own stack, never ending.
fn deep(n: u64) -> u64 {
    if n == u64::MAX {
        return 0;
    }
    let frame = std::hint::black_box([n as u8; 4096]);
    deep(n + 1) + u64::from(frame[n as usize % 4096])
}

mod export {
    use reveille_sdk::__private::{self, bindings};

    #[used]
    #[unsafe(link_section = "reveille:api-version")]
    static API_VERSION_STAMP: [u8; __private::API_VERSION_STAMP.len()] =
        __private::API_VERSION_STAMP;

    struct Unfitted;

    impl bindings::Guest for Unfitted {
        fn describe() -> bindings::reveille::check::types::Descriptor {
            __private::describe::<super::Misbehave>()
        }

        fn evaluate(
            input: bindings::reveille::check::types::Input,
        ) -> Result<bindings::reveille::check::types::Output, String> {
            let input = __private::input_from_wit(input);
            <super::Misbehave as reveille_sdk::Check>::evaluate(&input)
                .map(__private::output_to_wit)
        }
    }

    bindings::__export_check_world!(Unfitted with_types_in bindings);
}
