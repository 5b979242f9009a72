//! `cargo bench -p reveille`: what one report costs before the database sees it.
//!
//! - `parse`: XML bytes → `Document`, and the stored form both ways.
//! - `dongle_lost`: one evaluation of the built-in `dongle-lost` check, as the host runs it
//!   (a fresh store per call from the revision's `InstancePre`, the report pushed as a
//!   resource, `evaluate` called, outputs copied back), against the same check's code
//!   compiled natively and called on the same report (through the SDK's `testing`, which
//!   reads the host's own `Document` in-process), producing the same output. The ratio is
//!   the price of the sandbox; `instantiate_only` (a fresh store and `describe()`, which
//!   reads no report) shows how much of it is the store and instance rather than the check.

use std::collections::BTreeMap;
use std::sync::Arc;

use ::dongle_lost::DongleLost;
use reveille::plugins::builtin;
use reveille::plugins::contract::{EvalInput, EvalOutput};
use reveille::plugins::executor::Bounds;
use reveille::plugins::loader::Revision;
use reveille::plugins::{InstallationInfo, Runtime, RuntimeSettings, Trigger, executor};
use reveille::report::Document;
use reveille_sdk::Check;
use reveille_sdk::testing::Case;
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
            .0
            .expect("the plugin evaluates")
    }
}

fn loaded() -> Loaded {
    let runtime = Runtime::new(RuntimeSettings::default()).expect("runtime");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    tokio
        .block_on(builtin::load_all(&runtime, &[]))
        .expect("the built-ins load");
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
        let native = DongleLost::evaluate(&native_input()).expect("evaluates natively");
        let wasm = loaded.evaluate(&loaded.input);
        // The check remembers its conclusion in its state: every word of every finding,
        // translations included. The two sides agree when their states do.
        let wasm_state: Vec<_> = wasm.state.iter().map(|c| (&c.key, &c.value)).collect();
        let native_state: Vec<_> = native.state.iter().map(|c| (&c.key, &c.value)).collect();
        assert_eq!(wasm_state, native_state, "native and WASM agree");
        assert!(!wasm_state.is_empty(), "the check concluded something");
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
        let input = native_input();
        bencher.bench(|| DongleLost::evaluate(divan::black_box(&input)));
    }
}

/// The input `loaded().input` is, as the SDK gives it to the check natively.
fn native_input() -> reveille_sdk::Input {
    let report = std::str::from_utf8(REPORT).expect("UTF-8");
    Case::report(report)
        .installation("vector-main")
        .client("ООО «Вектор»")
        .timezone("Europe/Moscow")
        .now("2025-11-20T17:00:00Z")
        .last_report_at("2025-11-20T17:00:00Z")
        .input::<DongleLost>()
        .expect("dongle-lost takes it")
}
