//! Test fixture: misbehaves as its `mode` setting asks, to show that the host bounds what a
//! plugin can do to it. Modes: `sleep` (`seconds`), `forever` (waits on a clock that never
//! rings), `flood` (`count` findings), `huge-summary` (one finding, `bytes` long),
//! `huge-state` (`count` state entries of `bytes`), `nul` (a NUL in its state), `flaky` (fails when the report has
//! `<flaky fail="yes"/>`), `clock` (reports its clocks and a random number), `recurse`
//! (recursion until the stack runs out), `snoop` (tries to read and write files, read the
//! environment and arguments, resolve names and open sockets to `port` on loopback, and
//! says what it got), `slow` (sleeps `millis` ms, under the deadline, and reports one finding),
//! `flip` (one finding on every other evaluation, counted in its state), `chatty`
//! (`count` info findings), `bad-utf8` (a finding whose summary is not UTF-8, as a plugin
//! written without Rust's strings could return); anything else reports one finding. Every mode
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
        .setting("port", "9", "Where `snoop` tries to connect on loopback")
        .setting("millis", "90", "How long `slow` sleeps, in milliseconds")
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
            "slow" => {
                std::thread::sleep(Duration::from_millis(number("millis")? as u64));
                Output::new().finding(Finding::new("slow", Severity::Info, "took its time"))
            }
            "flip" => {
                let n: u64 = input.state("n").and_then(|n| n.parse().ok()).unwrap_or(0);
                let output = Output::new().set_state("n", (n + 1).to_string());
                if n.is_multiple_of(2) {
                    output.finding(Finding::new("flip", Severity::Warning, "on again"))
                } else {
                    output
                }
            }
            "chatty" => (0..number("count")?).fold(Output::new(), |output, n| {
                output.finding(Finding::new(
                    format!("note-{n}"),
                    Severity::Info,
                    format!("note {n}"),
                ))
            }),
            "bad-utf8" => {
                Output::new().finding(Finding::new("bad", Severity::Info, "soon not text"))
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
            "snoop" => Output::new().finding(snoop(number("port")? as u16).into_iter().fold(
                Finding::new("snoop", Severity::Info, "what the sandbox let through"),
                |finding, (what, got)| finding.label(what, got),
            )),
            "recurse" => {
                let depth = deep(std::hint::black_box(0));
                Output::new().finding(Finding::new("deep", Severity::Info, depth.to_string()))
            }
            _ => Output::new().finding(Finding::new("ok", Severity::Info, "behaving")),
        };
        Ok(output)
    }
}

/// Each thing a plugin might try to reach beyond its input, and what it got: `nothing: ...`
/// when refused, `got ...` when it got through.
fn snoop(port: u16) -> Vec<(&'static str, String)> {
    use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
    fn said<T>(tried: std::io::Result<T>, got: impl FnOnce(T) -> String) -> String {
        match tried {
            Ok(value) => format!("got {}", got(value)),
            Err(error) => format!("nothing: {error}"),
        }
    }
    fn counted(what: &str, count: usize) -> String {
        match count {
            0 => format!("nothing: no {what}"),
            n => format!("got {n} {what}"),
        }
    }
    vec![
        (
            "read-file",
            said(std::fs::read("/etc/passwd"), |b| {
                format!("{} bytes", b.len())
            }),
        ),
        (
            "list-root",
            said(std::fs::read_dir("/"), |d| format!("{} entries", d.count())),
        ),
        (
            "list-here",
            said(std::fs::read_dir("."), |d| format!("{} entries", d.count())),
        ),
        (
            "write-file",
            said(std::fs::write("snooped.txt", b"x"), |()| "a file".into()),
        ),
        (
            "environment",
            counted("variables", std::env::vars_os().count()),
        ),
        (
            "arguments",
            counted("arguments", std::env::args_os().count()),
        ),
        (
            "resolve",
            said(("localhost", 80).to_socket_addrs(), |a| {
                format!("{} addresses", a.count())
            }),
        ),
        (
            "connect",
            said(TcpStream::connect(("127.0.0.1", port)), |_| {
                "a connection".into()
            }),
        ),
        (
            "udp",
            said(UdpSocket::bind("127.0.0.1:0"), |_| "a socket".into()),
        ),
    ]
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
            let bad_utf8 = input.config("mode") == Some("bad-utf8");
            <super::Misbehave as reveille_sdk::Check>::evaluate(&input)
                .map(__private::output_to_wit)
                .map(|mut output| {
                    if bad_utf8 {
                        // SAFETY: never read as text here; the bytes go to the host as
                        // they are, which must refuse them.
                        output.findings[0].summary =
                            unsafe { String::from_utf8_unchecked(vec![b'a', 0xff, 0xfe, b'z']) };
                    }
                    output
                })
        }
    }

    bindings::__export_check_world!(Unfitted with_types_in bindings);
}
