//! What a run measured: printed as a Markdown table, written as JSON for comparing commits.

use serde_json::{Value, json};

/// One measured figure.
pub struct Figure {
    pub scenario: &'static str,
    pub backend: &'static str,
    pub name: String,
    /// As people read it.
    pub value: String,
    /// The goal from the benchmark issue, if it sets one.
    pub target: &'static str,
    /// The numbers behind `value`, for machines.
    pub data: Value,
}

impl Figure {
    pub fn new(scenario: &'static str, backend: &'static str, name: impl Into<String>) -> Self {
        Figure {
            scenario,
            backend,
            name: name.into(),
            value: String::new(),
            target: "",
            data: Value::Null,
        }
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }

    pub fn target(mut self, target: &'static str) -> Self {
        self.target = target;
        self
    }

    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

pub fn print_table(figures: &[Figure]) {
    println!("| scenario | backend | figure | measured | target |");
    println!("|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {} | {} | {} |",
            f.scenario, f.backend, f.name, f.value, f.target
        );
    }
}

pub fn to_json(figures: &[Figure]) -> Value {
    json!({
        "machine": machine(),
        "commit": commit(),
        "figures": figures.iter().map(|f| json!({
            "scenario": f.scenario,
            "backend": f.backend,
            "figure": f.name,
            "measured": f.value,
            "target": f.target,
            "data": f.data,
        })).collect::<Vec<_>>(),
    })
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    json!({
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu": cpu,
        "os": std::env::consts::OS,
    })
}

/// The commit measured, when run from a git checkout.
fn commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
