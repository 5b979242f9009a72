//! `cargo bench -p reveille`: what one report costs before the database sees it.
//!
//! - `parse`: XML bytes → `Document`, and the stored form both ways.
//! - `dongle_lost`: one evaluation of the built-in `dongle-lost` check, as the host runs it
//!   (a fresh store per call from the revision's `InstancePre`, the report pushed as a
//!   resource, `evaluate` called, outputs copied back), against the same check written
//!   natively in Rust on the same `Document` and producing the same output. The ratio is
//!   the price of the sandbox; `instantiate_only` (a fresh store and `describe()`, which
//!   reads no report) shows how much of it is the store and instance rather than the check.

use std::collections::BTreeMap;
use std::sync::Arc;

use reveille::plugins::builtin;
use reveille::plugins::contract::{EvalInput, EvalOutput, Finding, StateChange};
use reveille::plugins::executor::Bounds;
use reveille::plugins::loader::Revision;
use reveille::plugins::{InstallationInfo, Runtime, RuntimeSettings, Severity, Trigger, executor};
use reveille::report::Document;
use tokio_util::sync::CancellationToken;

const REPORT: &[u8] = include_bytes!("../../tests/fixtures/reports/lost-key-evening.xml");

fn main() {
    divan::main();
}

#[divan::bench]
fn parse(bencher: divan::Bencher) {
    bencher.bench(|| reveille::report::parse(divan::black_box(REPORT)).expect("parses"));
}

#[divan::bench]
fn stored_form_round_trip(bencher: divan::Bencher) {
    let document = reveille::report::parse(REPORT).expect("parses");
    bencher.bench(|| {
        let stored = document.to_stored().expect("encodes");
        Document::from_stored(divan::black_box(&stored)).expect("decodes")
    });
}

struct Loaded {
    runtime: Arc<Runtime>,
    revision: Arc<Revision>,
    input: EvalInput,
    /// Calls are futures; the benchmarks drive them on this thread, without a thread hop.
    tokio: tokio::runtime::Runtime,
}

impl Loaded {
    fn evaluate(&self, input: &EvalInput) -> EvalOutput {
        let stop = CancellationToken::new();
        let bounds = Bounds {
            limits: self.runtime.settings().limits_for("dongle-lost"),
            stop: &stop,
        };
        self.tokio
            .block_on(executor::evaluate(
                self.runtime.engine(),
                &self.revision.pre,
                "dongle-lost",
                bounds,
                input,
            ))
            .expect("the plugin evaluates")
    }
}

fn loaded() -> Loaded {
    let runtime = Runtime::new(RuntimeSettings::default()).expect("runtime");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    tokio.block_on(builtin::load_all(&runtime, &[]));
    let revision = runtime
        .registry()
        .revision("dongle-lost")
        .expect("dongle-lost is built in");
    let input = EvalInput {
        installation: InstallationInfo {
            id: "vector-main".into(),
            client: "ООО «Вектор»".into(),
            tags: Vec::new(),
            timezone: "Europe/Moscow".into(),
        },
        trigger: Trigger::Report,
        now_ms: 1_763_658_000_000,
        last_report_at_ms: Some(1_763_658_000_000),
        config: revision.descriptor.resolve_config(&BTreeMap::new()),
        state: BTreeMap::new(),
        report: Some(Arc::new(reveille::report::parse(REPORT).expect("parses"))),
    };
    Loaded {
        runtime,
        revision,
        input,
        tokio,
    }
}

mod dongle_lost {
    use super::*;

    #[divan::bench]
    fn wasm(bencher: divan::Bencher) {
        let loaded = loaded();
        let expected = super::native_dongle_lost(&loaded.input);
        assert_eq!(
            loaded.evaluate(&loaded.input),
            expected,
            "native and WASM agree, state included"
        );
        bencher.bench(|| loaded.evaluate(divan::black_box(&loaded.input)));
    }

    #[divan::bench]
    fn instantiate_only(bencher: divan::Bencher) {
        let loaded = loaded();
        let stop = CancellationToken::new();
        let bounds = Bounds {
            limits: loaded.runtime.settings().limits_for("dongle-lost"),
            stop: &stop,
        };
        bencher.bench(|| {
            loaded
                .tokio
                .block_on(executor::describe(
                    loaded.runtime.engine(),
                    &loaded.revision.pre,
                    bounds,
                ))
                .expect("describes")
        });
    }

    #[divan::bench]
    fn native(bencher: divan::Bencher) {
        let input = loaded().input;
        bencher.bench(|| super::native_dongle_lost(divan::black_box(&input)));
    }
}

/// `plugins/dongle-lost` in host Rust: the same reads of the report, the same finding and
/// the same remembered conclusion in its state.
fn native_dongle_lost(input: &EvalInput) -> EvalOutput {
    let Some(report) = &input.report else {
        return EvalOutput::default();
    };
    let protection = report.select("protection").into_iter().next();
    let finding = match protection {
        None if report.value("@agent") == Some("status-agent") => return EvalOutput::default(),
        None => Some(finding(
            "License dongle not reported",
            "The report has no protection record: the dongle is not visible to the product. \
             Check that the SenseLock key is plugged in or forwarded to this machine (USB over \
             network) and that its forwarding software is running and licensed."
                .into(),
            vec![("state", "missing")],
        )),
        Some(p) if p.attr("state") == Some("present") => None,
        Some(p) => {
            let state = p.attr("state").unwrap_or("unknown");
            let what = match state {
                "lost" => "License dongle lost",
                "expired" => "License expired",
                "blacklisted" => "License dongle blacklisted",
                "manager-unreachable" => "License manager unreachable",
                _ => "License dongle not usable",
            };
            let mut details = format!("Protection state: {state}");
            if let Some(code) = p.attr("error-code") {
                details.push_str(&format!(", error code {code}"));
            }
            if let Some(forwarding) = p.attr("forwarding") {
                details.push_str(&format!(
                    ". The dongle reaches the machine via {forwarding}: check that this \
                     software is running and its license is valid"
                ));
            }
            details.push('.');
            let mut labels = vec![("state", state)];
            labels.extend(p.attr("error-code").map(|code| ("error-code", code)));
            Some(finding(what, details, labels))
        }
    };
    let mut output = EvalOutput::default();
    if let Some(finding) = finding {
        // The SDK's `conclude`: severity, summary, details and labels, field-separated.
        let mut fields = vec![
            "critical".to_string(),
            finding.summary.clone(),
            finding.details.clone(),
        ];
        fields.extend(finding.labels.iter().map(|(k, v)| format!("{k}\u{1f}{v}")));
        let remembered = fields.join("\u{1e}");
        output.state.push(StateChange {
            key: "conclusion:dongle-lost".into(),
            value: Some(remembered),
        });
        output.findings.push(finding);
    }
    output
}

fn finding(summary: &str, details: String, labels: Vec<(&str, &str)>) -> Finding {
    Finding {
        key: "dongle-lost".into(),
        severity: Severity::Critical,
        summary: summary.into(),
        details,
        labels: labels
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
    }
}
