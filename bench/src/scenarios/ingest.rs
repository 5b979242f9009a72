//! Sustained ingest: agents post typical 4 KB reports as fast as the service takes them,
//! for a while; then we wait until every accepted report has been evaluated by all the
//! built-in plugins and committed. Accepted per second is what agents see; evaluated per
//! second (accepted ÷ time until the backlog is gone) is what the service sustains.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::fleet::{Backend, Bench, Flooded, Member, flood, typical_report};
use crate::results::Figure;

const INSTALLATIONS: usize = 500;
/// Agents posting at once.
const CONNECTIONS: usize = 32;

/// A fleet of [`INSTALLATIONS`] registered on `bench`, each repeating its typical report
/// (generated anew each time, as an agent does: a report sent again is stored once), and
/// what [`CONNECTIONS`] agents posting those as fast as they are taken came to.
pub struct Routine {
    pub fleet: Arc<Vec<Member>>,
    pub flooded: Flooded,
    pub report_bytes: usize,
}

pub async fn routine(bench: &Arc<Bench>, seconds: f64) -> anyhow::Result<Routine> {
    let fleet = Arc::new(bench.register(INSTALLATIONS).await?);
    let report_bytes = typical_report(&fleet[0].id, "present").len();
    let flooded = {
        let (bench, fleet) = (bench.clone(), fleet.clone());
        flood(CONNECTIONS, seconds, move |k| {
            let member = &fleet[k % fleet.len()];
            bench.post(member, typical_report(&member.id, "present"))
        })
        .await
    };
    Ok(Routine {
        fleet,
        flooded,
        report_bytes,
    })
}

pub async fn run(backend: &Backend, seconds: u32) -> anyhow::Result<Vec<Figure>> {
    let bench = Arc::new(Bench::start(backend).await?);
    let Routine {
        flooded:
            Flooded {
                accepted,
                sent,
                started,
                took: posting,
            },
        report_bytes: size,
        ..
    } = routine(&bench, f64::from(seconds)).await?;
    let drained = bench.drained(Duration::from_secs(900)).await;
    let evaluated_in = started.elapsed();
    // The service's own account of its plugin calls (store creation included).
    let calls = bench
        .metric("reveille_plugin_evaluation_seconds_count")
        .await?;
    let call_mean_us = bench
        .metric("reveille_plugin_evaluation_seconds_sum")
        .await?
        / calls.max(1.0)
        * 1e6;
    let accept_rate = accepted as f64 / posting.as_secs_f64();
    let end_to_end = accepted as f64 / evaluated_in.as_secs_f64();
    let name = backend.name();
    let figures = vec![
        Figure::new("ingest", name, format!("reports accepted ({size}-byte reports, {CONNECTIONS} agents at once)"))
            .value(format!("{accept_rate:.0} reports/s ({accepted} of {sent} in {:.1} s)", posting.as_secs_f64()))
            .data(json!({ "accepted": accepted, "sent": sent, "seconds": posting.as_secs_f64(), "per_second": accept_rate, "report_bytes": size })),
        Figure::new("ingest", name, "reports evaluated by all built-ins and committed, end to end")
            .value(format!(
                "{end_to_end:.0} reports/s (backlog gone after {:.1} s{})",
                evaluated_in.as_secs_f64(),
                if drained { "" } else { "; timed out" }
            ))
            .target("5,000 reports/s on SQLite")
            .data(json!({ "per_second": end_to_end, "seconds": evaluated_in.as_secs_f64(), "drained": drained })),
        Figure::new("ingest", name, "one plugin call inside the service, mean over the run")
            .value(format!("{call_mean_us:.0} µs ({calls} calls)"))
            .data(json!({ "mean_us": call_mean_us, "calls": calls })),
    ];
    Arc::into_inner(bench)
        .expect("every agent has finished")
        .stop()
        .await?;
    Ok(figures)
}
