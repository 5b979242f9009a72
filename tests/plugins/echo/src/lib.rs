//! Test fixture: reports back what it read, through every SDK accessor, as the labels of
//! one finding; counts its evaluations in state; fails on request (`fail` setting); answers
//! report queries given as a setting (`queries`) in its state, so that the same queries
//! can be put to the host's document and to the SDK's native one; says what its `say`
//! setting asks, to its author (`LEVEL text` through `reveille_sdk::log`, `stdout text`
//! and `stderr text` with `println!` and `eprintln!`, separated by ` | `).

use reveille_sdk::{
    Check, Descriptor, Element, Finding, Input, Output, Report, Severity, Trigger, log,
};

pub struct Echo;

impl Check for Echo {
    fn describe() -> Descriptor {
        Descriptor::new("echo", env!("CARGO_PKG_VERSION"), "Echoes what it reads")
            .on(Trigger::Report)
            .on(Trigger::Tick)
            .on(Trigger::Probe)
            .setting("path", "disk/@free-mb", "A path whose value is echoed")
            .setting("window", "3d", "A duration setting, echoed in milliseconds")
            .setting("fail", "", "When set, evaluate returns this as its error")
            .setting(
                "say",
                "",
                "Lines to say to the author, separated by ` | `: debug, info, warn, error, \
                 stdout or stderr, a space, the text",
            )
            .setting(
                "queries",
                "",
                "Report queries, one per line: select PATH, value PATH, count PATH, \
                 children PATH > PATH; each answer goes in state `q000`, `q001`, ...",
            )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let said = input.config("say").unwrap_or_default();
        for line in said.split(" | ").filter(|l| !l.is_empty()) {
            say(line);
        }
        if let Some(message) = input.config("fail").filter(|m| !m.is_empty()) {
            return Err(message.to_string());
        }
        let seen: u64 = input
            .state("seen")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
            + 1;
        let ctx = input.context();
        let mut finding = Finding::new("echo", Severity::Info, format!("evaluation {seen}"))
            .label("trigger", format!("{:?}", ctx.trigger))
            .label("installation", &ctx.installation.id)
            .label("now", ctx.now.as_millis().to_string())
            .label(
                "window-ms",
                input.config_duration("window")?.as_millis().to_string(),
            );
        if let Some(report) = input.report() {
            let path = input.config("path").unwrap_or_default();
            let newest = report
                .bases()
                .into_iter()
                .filter_map(|b| b.operup_at.and_then(Result::ok))
                .max();
            let bases = report.select("bases/base");
            let first_children = bases
                .first()
                .map(|b| report.children(b, "*").len())
                .unwrap_or_default();
            finding = finding
                .label("value", report.value(path).unwrap_or_default())
                .label(
                    "client",
                    report.value("installation/client").unwrap_or_default(),
                )
                .label("agent", report.agent().unwrap_or_default())
                .label(
                    "shell-version",
                    report
                        .shell_version()
                        .and_then(Result::ok)
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                )
                .label(
                    "protection",
                    report
                        .protection()
                        .map(|p| p.state.as_str().to_string())
                        .unwrap_or_else(|| "none".into()),
                )
                .label("bases", report.count("bases/base").to_string())
                .label(
                    "failed-bases",
                    report
                        .bases()
                        .iter()
                        .filter(|b| b.failed)
                        .count()
                        .to_string(),
                )
                .label(
                    "newest-operup",
                    newest.map(|t| t.to_string()).unwrap_or_default(),
                )
                .label(
                    "refused",
                    report
                        .users()
                        .and_then(|u| u.refused)
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                )
                .label(
                    "reachable-by-domain",
                    report
                        .network()
                        .and_then(|n| n.reachable_by_domain)
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                )
                .label("children-of-first-base", first_children.to_string());
        }
        let mut output = Output::new()
            .finding(finding)
            .set_state("seen", seen.to_string());
        if let Some(report) = input.report() {
            let queries = input.config("queries").unwrap_or_default();
            for (n, query) in queries.lines().filter(|q| !q.is_empty()).enumerate() {
                output = output.set_state(format!("q{n:03}"), answer(report, query));
            }
        }
        Ok(output)
    }
}

/// Says `line` (`LEVEL text`) the way its level names.
fn say(line: &str) {
    let (how, text) = line.split_once(' ').unwrap_or((line, ""));
    match how {
        "debug" => log::debug(text),
        "info" => log::info(text),
        "warn" => log::warn(text),
        "error" => log::error(text),
        "stdout" => println!("{text}"),
        _ => eprintln!("{text}"),
    }
}

/// One query's answer as text, everything an element carries included.
fn answer(report: &Report, query: &str) -> String {
    let show = |elements: Vec<Element>| -> String {
        elements
            .iter()
            .map(|e| {
                let attributes: Vec<String> =
                    e.attributes().map(|(n, v)| format!("{n}={v:?}")).collect();
                format!("<{} {}>{:?}", e.name(), attributes.join(" "), e.text())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (verb, path) = query.split_once(' ').unwrap_or((query, ""));
    let answer = match verb {
        "select" => show(report.select(path)),
        "value" => format!("{:?}", report.value(path)),
        "count" => report.count(path).to_string(),
        "children" => {
            let (parent, child) = path.split_once(" > ").unwrap_or((path, ""));
            report
                .select(parent)
                .iter()
                .map(|p| show(report.children(p, child)))
                .collect::<Vec<_>>()
                .join(" | ")
        }
        other => format!("unknown verb {other:?}"),
    };
    format!("{query} => {answer}")
}

reveille_sdk::export_check!(Echo);
