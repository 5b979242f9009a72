//! What a visitor asked the board for, as it stands in the URL (filters, a search, an
//! order, a page), and what it gets: the counts of the fleet they may see, the rows that
//! match cut to one page, and the same rows folded by client. Pure: the page and the live
//! stream cut the same kept rows the same way.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::row::{Light, Row};

/// Rows on one page.
pub const PAGE: usize = 50;

/// The board's query string.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Ask {
    pub manager: String,
    /// Words in the client's name, the installation's id, its manager or a tag.
    pub client: String,
    pub severity: String,
    pub plugin: String,
    /// One light (`red`, `amber`, `grey`, `green`) or `problems` (red and amber).
    pub state: String,
    /// The older spelling of `state=problems`, kept so shared links still work.
    pub problems: String,
    pub sort: String,
    /// `desc` for the other way round.
    pub dir: String,
    /// 1-based; kept as written, so a mistyped one is named rather than refused by the
    /// query's parser in developer words.
    pub page: String,
    /// `client` folds the rows into one line per client.
    pub group: String,
}

/// A column the board sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Worst first, then by client and installation.
    State,
    Client,
    Installation,
    Manager,
    /// Most recently heard from first; never last.
    Report,
    /// Most alerts first.
    Alerts,
}

impl Sort {
    pub const ALL: [Sort; 6] = [
        Sort::State,
        Sort::Client,
        Sort::Installation,
        Sort::Manager,
        Sort::Report,
        Sort::Alerts,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Sort::State => "state",
            Sort::Client => "client",
            Sort::Installation => "installation",
            Sort::Manager => "manager",
            Sort::Report => "report",
            Sort::Alerts => "alerts",
        }
    }

    pub fn compare(&self, a: &Row, b: &Row) -> Ordering {
        let (ai, bi) = (&a.installation, &b.installation);
        let tail = || (&ai.client, &ai.id).cmp(&(&bi.client, &bi.id));
        match self {
            Sort::State => a.light.cmp(&b.light).then_with(tail),
            Sort::Client => tail(),
            Sort::Installation => ai.id.cmp(&bi.id),
            Sort::Manager => ai.manager.cmp(&bi.manager).then_with(tail),
            Sort::Report => match (a.reported_at, b.reported_at) {
                (Some(x), Some(y)) => y.cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
            .then_with(tail),
            Sort::Alerts => (b.critical, b.warning, b.info)
                .cmp(&(a.critical, a.warning, a.info))
                .then_with(|| a.light.cmp(&b.light))
                .then_with(tail),
        }
    }
}

impl Ask {
    /// The first part of the query the board does not understand, as (name, value): a
    /// mistyped link is told so, not shown the whole fleet as if it asked for that.
    pub fn mistake(&self) -> Option<(&'static str, &str)> {
        let state = self.state();
        let checks: [(&'static str, &str, bool); 6] = [
            (
                "state",
                state,
                state.is_empty() || state == "problems" || Light::parse(state).is_some(),
            ),
            (
                "severity",
                &self.severity,
                ["", "critical", "warning", "info"].contains(&self.severity.as_str()),
            ),
            (
                "sort",
                &self.sort,
                self.sort.is_empty() || Sort::ALL.iter().any(|s| s.name() == self.sort),
            ),
            (
                "dir",
                &self.dir,
                ["", "asc", "desc"].contains(&self.dir.as_str()),
            ),
            (
                "group",
                &self.group,
                ["", "client"].contains(&self.group.as_str()),
            ),
            (
                "page",
                &self.page,
                self.page.is_empty() || self.page.parse::<usize>().is_ok_and(|p| p > 0),
            ),
        ];
        checks
            .into_iter()
            .find(|(_, _, fine)| !fine)
            .map(|(name, value, _)| (name, value))
    }

    /// The page asked for, 1-based.
    pub fn page(&self) -> usize {
        self.page.parse().unwrap_or(1).max(1)
    }

    pub fn sort(&self) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|s| s.name() == self.sort)
            .unwrap_or(Sort::State)
    }

    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }

    pub fn grouped(&self) -> bool {
        self.group == "client"
    }

    fn state(&self) -> &str {
        if self.state.is_empty() && !self.problems.is_empty() {
            "problems"
        } else {
            &self.state
        }
    }

    pub fn keeps(&self, row: &Row) -> bool {
        let words = self.client.trim().to_lowercase();
        let found = |text: &str| text.to_lowercase().contains(&words);
        let i = &row.installation;
        (self.manager.is_empty() || i.manager == self.manager)
            && (words.is_empty()
                || found(&i.client)
                || found(&i.id)
                || found(&i.manager)
                || i.tags.iter().any(|t| found(t)))
            && match self.severity.as_str() {
                "critical" => row.critical > 0,
                "warning" => row.warning > 0,
                "info" => row.info > 0,
                _ => true,
            }
            && (self.plugin.is_empty() || row.plugins.contains(&self.plugin))
            && match self.state() {
                "problems" => row.light.is_problem(),
                state => Light::parse(state).is_none_or(|l| row.light == l),
            }
    }

    /// This query with `changes` made (empty values dropped), as a query string: the
    /// links of headers, counts and pages.
    pub fn with(&self, changes: &[(&str, &str)]) -> String {
        let page = if self.page() > 1 {
            self.page().to_string()
        } else {
            String::new()
        };
        let mut pairs: Vec<(&str, &str)> = vec![
            ("manager", &self.manager),
            ("client", &self.client),
            ("severity", &self.severity),
            ("plugin", &self.plugin),
            ("state", self.state()),
            ("sort", &self.sort),
            ("dir", &self.dir),
            ("group", &self.group),
            ("page", &page),
        ];
        for (key, value) in changes {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some(pair) => pair.1 = value,
                None => pairs.push((key, value)),
            }
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(key, value);
        }
        query.finish()
    }
}

/// How many rows are in each state, and how many incidents are open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    pub red: usize,
    pub amber: usize,
    pub grey: usize,
    pub green: usize,
}

impl Counts {
    fn add(&mut self, light: Light) {
        *match light {
            Light::Red => &mut self.red,
            Light::Amber => &mut self.amber,
            Light::Grey => &mut self.grey,
            Light::Green => &mut self.green,
        } += 1;
    }

    pub fn of(&self, light: &Light) -> usize {
        match light {
            Light::Red => self.red,
            Light::Amber => self.amber,
            Light::Grey => self.grey,
            Light::Green => self.green,
        }
    }

    pub fn total(&self) -> usize {
        self.red + self.amber + self.grey + self.green
    }

    /// The worst light with a row in it.
    pub fn worst(&self) -> Light {
        Light::ALL
            .into_iter()
            .find(|l| self.of(l) > 0)
            .unwrap_or(Light::Green)
    }
}

/// One client folded: its worst state and its rows counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLine {
    pub client: String,
    pub counts: Counts,
    /// Critical alerts open across its installations.
    pub critical: i64,
    pub warning: i64,
}

/// What a visitor gets for one query.
pub struct Cut<'a> {
    /// Every row they may see, counted by state.
    pub fleet: Counts,
    /// Open incidents they may see.
    pub incidents: usize,
    /// Rows that match the query.
    pub matched: usize,
    /// This page's rows, in order (empty when grouped).
    pub rows: Vec<&'a Row>,
    /// The matching rows by client, worst first (empty unless grouped).
    pub clients: Vec<ClientLine>,
    /// 1-based, and how many there are.
    pub page: usize,
    pub pages: usize,
}

/// Cuts `rows` (those the visitor may see) for `ask`. `incidents` is how many open ones
/// they may see.
pub fn cut<'a>(rows: Vec<&'a Row>, incidents: usize, ask: &Ask) -> Cut<'a> {
    let mut fleet = Counts::default();
    for row in &rows {
        fleet.add(row.light);
    }
    let mut matched: Vec<&Row> = rows.into_iter().filter(|r| ask.keeps(r)).collect();
    let count = matched.len();
    if ask.grouped() {
        return Cut {
            fleet,
            incidents,
            matched: count,
            rows: Vec::new(),
            clients: by_client(&matched),
            page: 1,
            pages: 1,
        };
    }
    let sort = ask.sort();
    let descending = ask.descending();
    let pages = count.div_ceil(PAGE).max(1);
    let page = ask.page().clamp(1, pages);
    let order = |a: &&Row, b: &&Row| {
        let order = sort.compare(a, b);
        if descending { order.reverse() } else { order }
    };
    // Only the rows up to this page's end need to be in order.
    let end = (page * PAGE).min(count);
    if end > 0 && end < count {
        matched.select_nth_unstable_by(end - 1, order);
        matched.truncate(end);
    }
    matched.sort_unstable_by(order);
    let rows = matched.into_iter().skip((page - 1) * PAGE).collect();
    Cut {
        fleet,
        incidents,
        matched: count,
        rows,
        clients: Vec::new(),
        page,
        pages,
    }
}

fn by_client(rows: &[&Row]) -> Vec<ClientLine> {
    let mut clients: BTreeMap<&str, ClientLine> = BTreeMap::new();
    for row in rows {
        let line = clients
            .entry(&row.installation.client)
            .or_insert_with(|| ClientLine {
                client: row.installation.client.clone(),
                counts: Counts::default(),
                critical: 0,
                warning: 0,
            });
        line.counts.add(row.light);
        line.critical += row.critical;
        line.warning += row.warning;
    }
    let mut lines: Vec<ClientLine> = clients.into_values().collect();
    lines.sort_by(|a, b| {
        (
            a.counts.worst(),
            std::cmp::Reverse(a.counts.of(&a.counts.worst())),
        )
            .cmp(&(
                b.counts.worst(),
                std::cmp::Reverse(b.counts.of(&b.counts.worst())),
            ))
            .then_with(|| a.client.cmp(&b.client))
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Installation;

    fn row(id: &str, client: &str, light: Light, reported_at: Option<i64>) -> Row {
        let mut installation = Installation::example(id, 1);
        installation.client = client.into();
        Row {
            light,
            installation,
            reported_at,
            update: None,
            shell: None,
            minimum: None,
            below_minimum: false,
            dongle: None,
            dongle_bad: false,
            seats: None,
            seats_full: false,
            critical: i64::from(light == Light::Red),
            warning: i64::from(light == Light::Amber),
            info: 0,
            headline: None,
            more: 0,
            incident: None,
            leads: None,
            plugins: Default::default(),
        }
    }

    fn fleet() -> Vec<Row> {
        let mut rows = vec![
            row("v-1", "Vector", Light::Green, Some(10)),
            row("v-2", "Vector", Light::Red, Some(30)),
            row("p-1", "Polus", Light::Amber, Some(20)),
            row("p-2", "Polus", Light::Grey, None),
        ];
        for n in 0..120 {
            rows.push(row(&format!("s-{n:03}"), "Stroy", Light::Green, Some(n)));
        }
        rows
    }

    fn ids(cut: &Cut) -> Vec<String> {
        cut.rows.iter().map(|r| r.installation.id.clone()).collect()
    }

    #[test]
    fn worst_first_then_by_client_and_counted_over_the_whole_fleet() {
        let rows = fleet();
        let cut = cut(rows.iter().collect(), 2, &Ask::default());
        assert_eq!(ids(&cut)[..4], ["v-2", "p-1", "p-2", "s-000"]);
        assert_eq!(
            cut.fleet,
            Counts {
                red: 1,
                amber: 1,
                grey: 1,
                green: 121
            }
        );
        assert_eq!((cut.matched, cut.pages, cut.rows.len()), (124, 3, PAGE));
    }

    #[test]
    fn pages_sorts_and_searches() {
        let rows = fleet();
        let ask = |query: &str| serde_urlencoded::from_str::<Ask>(query).unwrap();
        let last = cut(rows.iter().collect(), 0, &ask("page=3"));
        assert_eq!((last.page, last.rows.len()), (3, 24));
        assert_eq!(
            cut(rows.iter().collect(), 0, &ask("page=99")).page,
            3,
            "past the end is the last page"
        );
        let by_report = cut(rows.iter().collect(), 0, &ask("sort=report"));
        assert_eq!(ids(&by_report)[..2], ["s-119", "s-118"]);
        let oldest = cut(rows.iter().collect(), 0, &ask("sort=report&dir=desc"));
        assert_eq!(ids(&oldest)[0], "p-2", "never reported is the oldest news");
        let found = cut(rows.iter().collect(), 0, &ask("client=POL"));
        assert_eq!(ids(&found), ["p-1", "p-2"]);
        assert_eq!(found.fleet.total(), 124, "the counts stay the fleet's");
        let problems = cut(rows.iter().collect(), 0, &ask("problems=1"));
        assert_eq!(
            ids(&problems),
            ["v-2", "p-1"],
            "never reported is not a problem"
        );
        let never = cut(rows.iter().collect(), 0, &ask("state=grey"));
        assert_eq!(ids(&never), ["p-2"]);
    }

    #[test]
    fn clients_fold_worst_first() {
        let rows = fleet();
        let grouped = cut(
            rows.iter().collect(),
            0,
            &Ask {
                group: "client".into(),
                ..Ask::default()
            },
        );
        let lines: Vec<(&str, Light, usize)> = grouped
            .clients
            .iter()
            .map(|c| (c.client.as_str(), c.counts.worst(), c.counts.total()))
            .collect();
        assert_eq!(
            lines,
            [
                ("Vector", Light::Red, 2),
                ("Polus", Light::Amber, 2),
                ("Stroy", Light::Green, 120)
            ]
        );
        assert!(grouped.rows.is_empty());
    }

    /// A mistyped link is named, the first thing wrong in it; what the board knows,
    /// the old `problems=1` among it, passes.
    #[test]
    fn a_query_the_board_does_not_know_is_named() {
        let mistake = |query: &str| {
            serde_urlencoded::from_str::<Ask>(query)
                .unwrap()
                .mistake()
                .map(|(name, value)| format!("{name}={value}"))
        };
        for fine in [
            "",
            "state=red&sort=report&dir=desc&page=3&group=client&severity=info",
            "problems=1",
            "state=problems&client=anything",
        ] {
            assert_eq!(mistake(fine), None, "{fine}");
        }
        for (wrong, named) in [
            ("state=purple", "state=purple"),
            ("sort=nope", "sort=nope"),
            ("page=abc", "page=abc"),
            ("page=0", "page=0"),
            ("dir=up", "dir=up"),
            ("group=manager", "group=manager"),
            ("severity=loud&state=purple", "state=purple"),
        ] {
            assert_eq!(mistake(wrong).as_deref(), Some(named), "{wrong}");
        }
    }

    #[test]
    fn links_keep_the_query_and_change_one_thing() {
        let ask = serde_urlencoded::from_str::<Ask>("client=Вектор&problems=1&page=2").unwrap();
        assert_eq!(
            ask.with(&[("sort", "report"), ("page", "")]),
            "client=%D0%92%D0%B5%D0%BA%D1%82%D0%BE%D1%80&state=problems&sort=report"
        );
    }
}
