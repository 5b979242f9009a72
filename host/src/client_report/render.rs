//! A report written out: HTML made for print (A4, rows never cut across pages) in the
//! reader's language, and CSV of every figure (one `section,subject,metric,value` line
//! each, seconds and RFC 3339 times, for spreadsheets and scripts).

use askama::Template;
use fluent_bundle::FluentValue;
use jiff::tz::TimeZone;

use super::figures::{ClientReport, Handling, Stats, When, reference_in};
use crate::alerts::model::who;
use crate::i18n::Lang;

/// A table of the report, already in words.
struct Table {
    id: &'static str,
    title: String,
    /// What the table means, above it.
    note: Option<String>,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Per row, a share (in percent) drawn as a bar before its last cell: where a
    /// reader would rather look than read (availability).
    bars: Vec<Option<String>>,
}

impl Table {
    /// Row `row`'s bar, if it has one; templates hand the index over by reference.
    fn bar(&self, row: impl std::borrow::Borrow<usize>) -> Option<&str> {
        self.bars.get(*row.borrow())?.as_deref()
    }
}

/// A post-mortem in the appendix.
struct Appendix {
    title: String,
    sections: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "client_report.html")]
struct Page<'a> {
    lang: &'a str,
    /// The document's title (a browser's tab, a PDF's properties).
    title: String,
    heading: String,
    client: &'a str,
    subtitle: String,
    summary_title: String,
    summary: String,
    figures: Vec<(String, String)>,
    tables: Vec<Table>,
    appendix_title: String,
    appendix: Vec<Appendix>,
    empty: String,
}

/// A bar's filled share for `ratio`, in percent (a CSS width): the client page draws
/// availability as the report does.
pub fn bar(ratio: f64) -> String {
    format!("{:.1}", ratio * 100.0)
}

pub fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "—".into(), |r| format!("{:.2} %", r * 100.0))
}

pub fn html(report: &ClientReport, lang: Lang) -> String {
    let zone = TimeZone::get(&report.zone).unwrap_or(TimeZone::UTC);
    let t = |id: &str| lang.t(id);
    let at = |ms: i64| lang.date_time(ms, &zone);
    let at_opt = |ms: Option<i64>| ms.map_or_else(|| "—".to_string(), at);
    let span = |ms: i64| lang.span(ms);
    let stat = |s: Option<i64>| s.map_or_else(|| "—".to_string(), span);
    let s = &report.summary;
    let overall = report.response.first();
    let median =
        |pick: fn(&super::figures::Response) -> Stats| stat(overall.and_then(|r| pick(r).median));
    let summary = if s.problems == 0 {
        t("cr-summary-none")
    } else {
        lang.t_with(
            "cr-summary-text",
            &[
                ("problems", FluentValue::from(s.problems)),
                ("critical", FluentValue::from(s.critical)),
                ("night", FluentValue::from(s.night + s.holiday)),
                ("mtta", median(|r| r.to_acknowledge).into()),
                ("mttr", median(|r| r.to_resolve).into()),
            ],
        )
    };
    let figures = vec![
        (t("cr-installations"), s.installations.to_string()),
        (t("cr-problems"), s.problems.to_string()),
        (t("cr-critical"), s.critical.to_string()),
        (t("cr-night"), s.night.to_string()),
        (t("cr-holiday"), s.holiday.to_string()),
        (t("cr-escalated"), s.escalated.to_string()),
        (t("cr-availability"), percent(s.availability)),
        (t("cr-mtta"), median(|r| r.to_acknowledge)),
        (t("cr-mttr"), median(|r| r.to_resolve)),
        (t("cr-exhaustions"), s.exhaustions.to_string()),
    ];
    let when = |w: When| match w {
        When::Day => t("cr-when-day"),
        When::Night => t("cr-when-night"),
        When::Holiday => t("cr-when-holiday"),
    };
    let handling = |h: Handling| match h {
        Handling::Told => t("cr-handling-told"),
        Handling::Held => t("cr-handling-held"),
        Handling::Escalated => t("cr-handling-escalated"),
        Handling::Maintenance => t("cr-handling-maintenance"),
    };
    let problems = Table {
        id: "problems",
        title: t("cr-problems-title"),
        note: None,
        headers: [
            "cr-col-ref",
            "cr-col-check",
            "cr-col-installations",
            "cr-col-fired",
            "cr-col-acked",
            "cr-col-resolved",
            "cr-col-when",
            "cr-col-handling",
        ]
        .map(t)
        .to_vec(),
        rows: report
            .problems
            .iter()
            .map(|p| {
                let acked = match (&p.acknowledged_at, &p.acknowledged_by) {
                    (Some(when), Some(by)) => format!("{} ({})", at(*when), who(by)),
                    (Some(when), None) => at(*when),
                    _ => "—".into(),
                };
                vec![
                    format!(
                        "{} · {}",
                        reference_in(&p.reference, lang),
                        t(p.severity.as_str())
                    ),
                    format!("{}: {}", p.check, p.summary),
                    p.installations.join(", "),
                    at(p.fired_at),
                    acked,
                    p.resolved_at.map_or_else(|| t("cr-open"), at),
                    when(p.when),
                    handling(p.handling),
                ]
            })
            .collect(),
        bars: Vec::new(),
    };
    let response = Table {
        id: "response",
        title: t("cr-response-title"),
        note: Some(t("cr-response-how")),
        headers: [
            "cr-col-check",
            "cr-problems",
            "cr-col-median-ack",
            "cr-col-worst-ack",
            "cr-col-median-resolve",
            "cr-col-worst-resolve",
        ]
        .map(t)
        .to_vec(),
        rows: report
            .response
            .iter()
            .map(|r| {
                vec![
                    r.check.clone().unwrap_or_else(|| t("cr-all-checks")),
                    r.problems.to_string(),
                    stat(r.to_acknowledge.median),
                    stat(r.to_acknowledge.worst),
                    stat(r.to_resolve.median),
                    stat(r.to_resolve.worst),
                ]
            })
            .collect(),
        bars: Vec::new(),
    };
    let availability = Table {
        id: "availability",
        title: t("cr-availability-title"),
        note: Some(lang.t_with(
            "cr-availability-how",
            &[("grace", span(report.grace).into())],
        )),
        headers: [
            "col-installation",
            "cr-col-measured",
            "cr-col-silent",
            "cr-col-unreachable",
            "cr-col-maintenance",
            "cr-col-host-down",
            "cr-availability",
        ]
        .map(t)
        .to_vec(),
        rows: report
            .availability
            .iter()
            .map(|a| match &a.time {
                Some(time) => vec![
                    a.installation.clone(),
                    span(time.measured),
                    span(time.silent),
                    span(time.unreachable),
                    span(time.maintenance),
                    span(time.host_down),
                    percent(a.ratio),
                ],
                None => {
                    let mut row = vec![a.installation.clone(), t("cr-never-reported")];
                    row.extend(std::iter::repeat_n("—".to_string(), 5));
                    row
                }
            })
            .collect(),
        bars: report
            .availability
            .iter()
            .map(|a| a.ratio.map(bar))
            .collect(),
    };
    let planned = Table {
        id: "planned",
        title: t("cr-planned-title"),
        note: None,
        headers: ["cr-col-window", "cr-col-installations", "cr-col-length"]
            .map(t)
            .to_vec(),
        rows: report
            .planned
            .iter()
            .map(|w| {
                vec![
                    format!("{}: {} ({})", w.name, w.reason, w.author),
                    w.installations.join(", "),
                    span(w.length),
                ]
            })
            .collect(),
        bars: Vec::new(),
    };
    let seats = Table {
        id: "seats",
        title: t("cr-seats-title"),
        note: None,
        headers: [
            "col-installation",
            "cr-col-peak",
            "cr-col-limit",
            "cr-col-refused",
            "cr-exhaustions",
        ]
        .map(t)
        .to_vec(),
        rows: report
            .seats
            .iter()
            .map(|s| {
                vec![
                    s.installation.clone(),
                    s.peak.to_string(),
                    s.limit.to_string(),
                    s.refused.to_string(),
                    s.exhaustions.to_string(),
                ]
            })
            .collect(),
        bars: Vec::new(),
    };
    let versions = Table {
        id: "versions",
        title: t("cr-versions-title"),
        note: report
            .minimum
            .as_ref()
            .map(|m| lang.t_with("cr-minimum-is", &[("minimum", m.as_str().into())])),
        headers: ["col-installation", "cr-col-versions", "cr-col-minimum"]
            .map(t)
            .to_vec(),
        rows: report
            .versions
            .iter()
            .map(|v| {
                vec![
                    v.installation.clone(),
                    v.seen
                        .iter()
                        .map(|(version, since)| format!("{version} ({})", at(*since)))
                        .collect::<Vec<_>>()
                        .join(" → "),
                    match v.minimum_met {
                        Some(true) => t("cr-met"),
                        Some(false) => t("cr-not-met"),
                        None => "—".into(),
                    },
                ]
            })
            .collect(),
        bars: Vec::new(),
    };
    let updates = Table {
        id: "updates",
        title: t("cr-updates-title"),
        note: None,
        headers: [
            "col-installation",
            "cr-col-latest-update",
            "cr-col-worst-age",
        ]
        .map(t)
        .to_vec(),
        rows: report
            .updates
            .iter()
            .map(|u| {
                vec![
                    u.installation.clone(),
                    u.latest
                        .as_ref()
                        .map_or_else(|| "—".into(), |(n, when)| format!("№ {n} ({})", at(*when))),
                    stat(u.worst_age),
                ]
            })
            .collect(),
        bars: Vec::new(),
    };
    let appendix = report
        .postmortems
        .iter()
        .map(|p| Appendix {
            title: format!("{}: {}", reference_in(&p.reference, lang), p.summary),
            sections: [
                ("postmortem-cause", &p.sections.cause),
                ("postmortem-actions", &p.sections.actions),
                ("postmortem-prevention", &p.sections.prevention),
            ]
            .into_iter()
            .map(|(id, text)| (t(id), text.clone().unwrap_or_else(|| t("cr-not-written"))))
            .collect(),
        })
        .collect();
    let page = Page {
        lang: lang.code(),
        title: format!("{} · {} · {}", t("cr-title"), report.client, report.period),
        heading: format!("{} · {}", t("cr-title"), report.period),
        client: &report.client,
        subtitle: lang.t_with(
            "cr-subtitle",
            &[
                ("from", at(report.from).into()),
                ("to", at_opt(Some(report.to)).into()),
                ("zone", report.zone.as_str().into()),
                ("generated", at(report.generated_at).into()),
            ],
        ),
        summary_title: t("cr-summary"),
        summary,
        figures,
        tables: vec![
            problems,
            response,
            availability,
            planned,
            seats,
            versions,
            updates,
        ],
        appendix_title: t("cr-appendix-title"),
        appendix,
        empty: t("cr-none"),
    };
    page.render()
        .unwrap_or_else(|e| format!("<!doctype html><p>report: {e}</p>"))
}

/// Every figure, one line each.
pub fn csv(report: &ClientReport) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut line = |section: &str, subject: &str, metric: &str, value: String| {
        let _ = out.write_record([section, subject, metric, value.as_str()]);
    };
    let secs = |ms: i64| (ms / 1000).to_string();
    let opt_secs = |ms: Option<i64>| ms.map(secs).unwrap_or_default();
    let time = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let ratio = |r: Option<f64>| r.map(|r| format!("{:.3}", r * 100.0)).unwrap_or_default();
    line("section", "subject", "metric", "value".into());
    let c = report.client.as_str();
    line("report", c, "period", report.period_key.clone());
    line("report", c, "from", time(report.from));
    line("report", c, "to", time(report.to));
    line("report", c, "zone", report.zone.clone());
    line("report", c, "silence_grace_s", secs(report.grace));
    let s = &report.summary;
    for (metric, n) in [
        ("installations", s.installations),
        ("problems", s.problems),
        ("critical", s.critical),
        ("night", s.night),
        ("holiday", s.holiday),
        ("escalated", s.escalated),
        ("exhaustions", s.exhaustions),
        ("below_minimum", s.below_minimum),
    ] {
        line("summary", c, metric, n.to_string());
    }
    line("summary", c, "availability_percent", ratio(s.availability));
    for r in &report.response {
        let subject = r.check.as_deref().unwrap_or("all");
        line("response", subject, "problems", r.problems.to_string());
        for (name, stats) in [("acknowledge", r.to_acknowledge), ("resolve", r.to_resolve)] {
            line(
                "response",
                subject,
                &format!("{name}_count"),
                stats.count.to_string(),
            );
            line(
                "response",
                subject,
                &format!("{name}_median_s"),
                opt_secs(stats.median),
            );
            line(
                "response",
                subject,
                &format!("{name}_worst_s"),
                opt_secs(stats.worst),
            );
        }
    }
    for a in &report.availability {
        let Some(t) = &a.time else {
            line(
                "availability",
                &a.installation,
                "never_reported",
                "true".into(),
            );
            continue;
        };
        for (metric, ms) in [
            ("measured_s", t.measured),
            ("down_s", t.down),
            ("silent_s", t.silent),
            ("unreachable_s", t.unreachable),
            ("maintenance_s", t.maintenance),
            ("host_down_s", t.host_down),
        ] {
            line("availability", &a.installation, metric, secs(ms));
        }
        line(
            "availability",
            &a.installation,
            "availability_percent",
            ratio(a.ratio),
        );
    }
    for p in &report.problems {
        let r = p.reference.as_str();
        line("problem", r, "check", p.check.clone());
        line("problem", r, "severity", p.severity.as_str().into());
        line("problem", r, "installations", p.installations.join(" "));
        line("problem", r, "fired_at", time(p.fired_at));
        line(
            "problem",
            r,
            "acknowledged_at",
            p.acknowledged_at.map(time).unwrap_or_default(),
        );
        line(
            "problem",
            r,
            "acknowledged_by",
            p.acknowledged_by.clone().unwrap_or_default(),
        );
        line(
            "problem",
            r,
            "resolved_at",
            p.resolved_at.map(time).unwrap_or_default(),
        );
        line(
            "problem",
            r,
            "time_to_acknowledge_s",
            opt_secs(p.acknowledged_at.map(|at| at - p.fired_at)),
        );
        line(
            "problem",
            r,
            "time_to_resolve_s",
            opt_secs(p.resolved_at.map(|at| at - p.fired_at)),
        );
        line("problem", r, "when", json_word(&p.when));
        line("problem", r, "handling", json_word(&p.handling));
    }
    for w in &report.planned {
        line("maintenance", &w.name, "length_s", secs(w.length));
        line(
            "maintenance",
            &w.name,
            "installations",
            w.installations.join(" "),
        );
    }
    for seats in &report.seats {
        let i = seats.installation.as_str();
        line("seats", i, "peak", seats.peak.to_string());
        line("seats", i, "limit", seats.limit.to_string());
        line("seats", i, "refused_max", seats.refused.to_string());
        line("seats", i, "exhaustions", seats.exhaustions.to_string());
    }
    for v in &report.versions {
        let seen: Vec<String> = v
            .seen
            .iter()
            .map(|(ver, at)| format!("{ver}@{}", time(*at)))
            .collect();
        line("versions", &v.installation, "seen", seen.join(" "));
        line(
            "versions",
            &v.installation,
            "minimum_met",
            v.minimum_met.map(|m| m.to_string()).unwrap_or_default(),
        );
    }
    for u in &report.updates {
        if let Some((number, at)) = &u.latest {
            line("updates", &u.installation, "latest", number.clone());
            line("updates", &u.installation, "latest_at", time(*at));
        }
        line(
            "updates",
            &u.installation,
            "worst_age_s",
            opt_secs(u.worst_age),
        );
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A unit enum's serde name (`night`, `held`).
fn json_word(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
