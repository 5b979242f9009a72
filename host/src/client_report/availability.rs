//! How available an installation was: the share of the measured time it was both
//! reporting and reachable. Pure interval arithmetic over the report log.
//!
//! - Measured: the period (from the installation's registration, until now if the period
//!   is not over) less the host's own downtime and the planned maintenance covering it.
//! - Silent: from `grace` of host uptime after an agent's report until the next one (the
//!   silence check's own measure: time the host was down does not count).
//! - Unreachable: from a report saying the installation did not answer by its domain
//!   until one saying it did.
//! - Down: silent or unreachable, within the measured time.

/// `[from, to)` in milliseconds.
pub type Span = (i64, i64);

/// One line of the report log, as availability reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub at: i64,
    /// A probe's line says nothing of the agent reporting.
    pub probe: bool,
    pub reachable: Option<bool>,
}

/// An installation's time in a period, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Availability {
    pub measured: i64,
    pub down: i64,
    pub silent: i64,
    pub unreachable: i64,
    pub maintenance: i64,
    pub host_down: i64,
}

impl Availability {
    /// The share of the measured time it was up; `None` when nothing was measured.
    pub fn ratio(&self) -> Option<f64> {
        (self.measured > 0).then(|| (self.measured - self.down) as f64 / self.measured as f64)
    }
}

/// What the computation needs besides the marks.
pub struct Window<'a> {
    pub from: i64,
    pub to: i64,
    pub grace: i64,
    pub host_down: &'a [Span],
    pub maintenance: &'a [Span],
}

/// `marks` oldest first, the last one before `window.from` included when there is one.
/// `None` when the installation never reported before the window's end.
pub fn of(marks: &[Mark], window: &Window) -> Option<Availability> {
    let (from, to) = (window.from, window.to);
    if to <= from || marks.first().is_none_or(|m| m.at >= to) {
        return None;
    }
    let host_down = clip(&union(window.host_down.to_vec()), from, to);
    let maintenance = clip(&union(window.maintenance.to_vec()), from, to);
    let excluded = union([host_down.clone(), maintenance.clone()].concat());

    let reports: Vec<i64> = marks.iter().filter(|m| !m.probe).map(|m| m.at).collect();
    let mut silent = Vec::new();
    let mut previous = reports.first().map_or(from, |first| (*first).min(from));
    for next in reports.iter().copied().chain([to]) {
        let start = after_uptime(previous, window.grace, &host_down);
        if start < next {
            silent.push((start, next));
        }
        previous = next;
    }
    let mut unreachable = Vec::new();
    let mut since = None;
    for mark in marks {
        match (mark.reachable, since) {
            (Some(false), None) => since = Some(mark.at),
            (Some(true), Some(start)) => {
                unreachable.push((start, mark.at));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(start) = since {
        unreachable.push((start, to));
    }
    let silent = subtract(&clip(&union(silent), from, to), &excluded);
    let unreachable = subtract(&clip(&union(unreachable), from, to), &excluded);
    let down = union([silent.clone(), unreachable.clone()].concat());
    Some(Availability {
        measured: (to - from) - total(&excluded),
        down: total(&down),
        silent: total(&silent),
        unreachable: total(&unreachable),
        maintenance: total(&maintenance),
        host_down: total(&host_down),
    })
}

/// Per day of `days` (`[from, to)` each, oldest first): how available the installation
/// was that day, as [`of`] counts it; `None` for a day before it first reported. `marks`
/// oldest first; each day reads only its own and the one before it.
pub fn daily(
    marks: &[Mark],
    days: &[Span],
    grace: i64,
    host_down: &[Span],
    maintenance: &[Span],
) -> Vec<Option<Availability>> {
    days.iter()
        .map(|&(from, to)| {
            let first = marks.partition_point(|m| m.at < from).saturating_sub(1);
            let end = marks.partition_point(|m| m.at < to);
            of(
                &marks[first..end.max(first)],
                &Window {
                    from,
                    to,
                    grace,
                    host_down,
                    maintenance,
                },
            )
        })
        .collect()
}

/// The instant `grace` of host uptime after `at`.
fn after_uptime(at: i64, grace: i64, host_down: &[Span]) -> i64 {
    let mut end = at.saturating_add(grace);
    loop {
        let down: i64 = host_down
            .iter()
            .map(|&(a, b)| (b.min(end) - a.max(at)).max(0))
            .sum();
        let moved = at.saturating_add(grace).saturating_add(down);
        if moved == end {
            return end;
        }
        end = moved;
    }
}

/// Sorted, disjoint, merged.
pub fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|(a, b)| b > a);
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn clip(spans: &[Span], from: i64, to: i64) -> Vec<Span> {
    spans
        .iter()
        .map(|&(a, b)| (a.max(from), b.min(to)))
        .filter(|(a, b)| b > a)
        .collect()
}

/// `spans` less `cut` (both sorted and disjoint).
fn subtract(spans: &[Span], cut: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for &(mut a, b) in spans {
        for &(c, d) in cut {
            if d <= a || c >= b {
                continue;
            }
            if c > a {
                out.push((a, c));
            }
            a = a.max(d);
        }
        if a < b {
            out.push((a, b));
        }
    }
    out
}

pub fn total(spans: &[Span]) -> i64 {
    spans.iter().map(|(a, b)| b - a).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn agent(at: i64) -> Mark {
        Mark {
            at,
            probe: false,
            reachable: None,
        }
    }

    #[test]
    fn silence_beyond_grace_less_downtime_and_maintenance() {
        // Hourly reports for 10 h, then none for 20 h, then hourly again to 40 h.
        let marks: Vec<Mark> = (0..=10).chain(30..=40).map(|h| agent(h * H)).collect();
        let window = Window {
            from: 0,
            to: 40 * H,
            grace: 2 * H,
            host_down: &[(35 * H, 36 * H)],
            maintenance: &[(15 * H, 17 * H)],
        };
        let a = of(&marks, &window).unwrap();
        assert_eq!(a.measured, 37 * H);
        assert_eq!(a.maintenance, 2 * H);
        assert_eq!(a.host_down, H);
        // Silent from 12 h to 30 h, less the 2 h of maintenance.
        assert_eq!(a.silent, 16 * H);
        assert_eq!(a.down, 16 * H);
        assert!((a.ratio().unwrap() - 21.0 / 37.0).abs() < 1e-9);
    }

    #[test]
    fn unreachable_from_a_failed_probe_to_a_good_one_and_grace_waits_for_the_host() {
        let probe = |at, ok| Mark {
            at,
            probe: true,
            reachable: Some(ok),
        };
        let marks = [
            agent(0),
            probe(H, false),
            agent(2 * H),
            probe(5 * H, true),
            agent(6 * H),
        ];
        let window = Window {
            from: 0,
            to: 8 * H,
            grace: 3 * H,
            // The host was down from 2.5 h to 3 h.
            host_down: &[(2 * H + H / 2, 3 * H)],
            maintenance: &[],
        };
        let a = of(&marks, &window).unwrap();
        assert_eq!(a.unreachable, 4 * H - H / 2);
        // The grace after the 2 h report ends at 5.5 h, not 5 h: the host was down for
        // half an hour of it. Silent until the 6 h report.
        assert_eq!(a.silent, H / 2);
        assert_eq!(a.down, 4 * H);
        assert_eq!(
            after_uptime(2 * H, 3 * H, &[(2 * H + H / 2, 3 * H)]),
            5 * H + H / 2
        );
        assert_eq!(of(&[agent(9 * H)], &window), None);
    }

    #[test]
    fn interval_arithmetic() {
        assert_eq!(
            union(vec![(5, 7), (1, 3), (2, 4), (7, 8)]),
            vec![(1, 4), (5, 8)]
        );
        assert_eq!(
            subtract(&[(0, 10)], &[(2, 3), (5, 12)]),
            vec![(0, 2), (3, 5)]
        );
    }

    #[test]
    fn each_day_is_counted_on_its_own() {
        const D: i64 = 24 * H;
        // Hourly reports from the start of day 1 to the end of day 3, but none for six
        // hours of day 2; day 0 came before the first report.
        let marks: Vec<Mark> = (24..96)
            .filter(|h| !(30..36).contains(h))
            .map(|h| agent(h * H))
            .collect();
        let days: Vec<Span> = (0..4).map(|d| (d * D, (d + 1) * D)).collect();
        let ratios: Vec<Option<f64>> = daily(&marks, &days, 2 * H, &[], &[])
            .iter()
            .map(|a| a.and_then(|a| a.ratio()))
            .collect();
        assert_eq!(ratios[0], None);
        // Silent from two hours after the report at 29 h until the next at 36 h.
        assert_eq!(ratios[1], Some(19.0 / 24.0));
        assert_eq!(ratios[2], Some(1.0));
        assert_eq!(ratios[3], Some(1.0));
        // Planned work that day is not counted against it.
        let planned = daily(&marks, &days[1..2], 2 * H, &[], &[(31 * H, 36 * H)]);
        assert_eq!(planned[0].and_then(|a| a.ratio()), Some(1.0));
    }
}
