//! Onboarding a fleet from a spreadsheet: a CSV of installations, one per row, read into
//! what each row would do (create, change which fields, nothing, or refused with every
//! problem and its line) before anything is stored, then the same rows applied through
//! the installations' one door (`installations.rs`). Applying the same file twice changes
//! nothing the second time. New installations' tokens come back once, to hand out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use super::installations::{self, NewInstallation, Problem, Wrong};
use crate::fleet::Installation;
use crate::store::StoreError;

/// The columns a file may have; `id`, `client`, `manager`, `timezone` and
/// `telegram_chat_id` must be there.
pub const COLUMNS: [&str; 9] = [
    "id",
    "client",
    "manager",
    "timezone",
    "telegram_chat_id",
    "url",
    "ip",
    "parent",
    "tags",
];
const REQUIRED: usize = 5;
/// Most rows one file may have.
pub const MAX_ROWS: usize = 10_000;

/// What a row does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    New,
    /// An existing installation whose fields these are would change.
    Changed(Vec<&'static str>),
    Same,
    Refused(Vec<Wrong>),
}

/// One row of the file and what it does.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its line in the file (the header is line 1).
    pub line: usize,
    pub id: String,
    pub verdict: Verdict,
    installation: Option<Installation>,
}

/// A file read against the fleet.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub rows: Vec<Row>,
}

impl Plan {
    pub fn count(&self, which: fn(&Verdict) -> bool) -> usize {
        self.rows.iter().filter(|r| which(&r.verdict)).count()
    }

    pub fn new_ones(&self) -> usize {
        self.count(|v| matches!(v, Verdict::New))
    }

    pub fn changed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Changed(_)))
    }

    pub fn same(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Same))
    }

    pub fn refused(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Refused(_)))
    }
}

/// A file that cannot be read at all (its header, or its CSV).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// A comma-separated file, or semicolon-separated as a spreadsheet in a Russian locale
/// saves it; a byte-order mark is dropped.
fn reader(text: &str) -> csv::Reader<&[u8]> {
    let header = text.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    };
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// Reads the file's rows into installations as they would be stored at `now` (or their
/// problems), and judges each against `fleet`, the installations there are.
pub fn plan(text: &str, fleet: &[Installation], now: i64) -> Result<Plan, Unreadable> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The reader's own line count skips blank lines; the file's lines are what people see.
    // A record's position is where the reader began looking for it, blank lines included.
    let line_at = |byte: u64| {
        let bytes = text.as_bytes();
        let mut end = (byte as usize).min(bytes.len());
        while end < bytes.len() && matches!(bytes[end], b'\n' | b'\r') {
            end += 1;
        }
        bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
    };
    let mut reader = reader(text);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Unreadable(format!("line 1: {e}")))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(Unreadable(format!(
            "line 1: unknown column `{unknown}` (the columns are: {})",
            COLUMNS.join(", ")
        )));
    }
    let missing: Vec<&str> = COLUMNS[..REQUIRED]
        .iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(Unreadable(format!(
            "line 1: the columns {} are missing",
            missing.join(", ")
        )));
    }
    let existing: BTreeMap<&str, &Installation> =
        fleet.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut read = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| line_at(p.byte()));
            Unreadable(format!("line {line}: {e}"))
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if read.len() == MAX_ROWS {
            return Err(Unreadable(format!("more than {MAX_ROWS} rows")));
        }
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|column| {
                header
                    .iter()
                    .position(|h| h == column)
                    .and_then(|at| record.get(at))
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        read.push((line, cells));
    }
    // Parents may be other rows of the same file.
    let ids: BTreeSet<String> = read.iter().map(|(_, cells)| cells[0].clone()).collect();
    let known = |id: &str| existing.contains_key(id) || ids.contains(id);
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    let rows = read
        .into_iter()
        .map(|(line, cells)| {
            let cell = |column: &str| {
                let at = COLUMNS
                    .iter()
                    .position(|c| *c == column)
                    .unwrap_or_default();
                cells[at].clone()
            };
            let optional = |column: &str| Some(cell(column)).filter(|v| !v.is_empty());
            let chat = cell("telegram_chat_id");
            let installation = NewInstallation {
                id: cell("id"),
                client: cell("client"),
                manager: cell("manager"),
                timezone: cell("timezone"),
                telegram_chat_id: chat.parse().unwrap_or_default(),
                url: optional("url"),
                ip: optional("ip"),
                parent: optional("parent"),
                tags: cell("tags")
                    .split([' ', ','])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect(),
            }
            .at(now);
            let mut wrong = installations::check(&installation, known);
            if chat.parse::<i64>().is_err() {
                let problem = if chat.is_empty() {
                    Problem::Empty
                } else {
                    Problem::Number(chat)
                };
                wrong.push(Wrong {
                    field: "telegram_chat_id",
                    problem,
                });
            }
            if let Some(first) = first_line.get(&installation.id) {
                wrong.push(Wrong {
                    field: "id",
                    problem: Problem::Repeated(*first),
                });
            } else {
                first_line.insert(installation.id.clone(), line);
            }
            let verdict = if !wrong.is_empty() {
                Verdict::Refused(wrong)
            } else {
                match existing.get(installation.id.as_str()) {
                    None => Verdict::New,
                    Some(old) => match differences(old, &installation) {
                        fields if fields.is_empty() => Verdict::Same,
                        fields => Verdict::Changed(fields),
                    },
                }
            };
            Row {
                line,
                id: installation.id.clone(),
                verdict,
                installation: Some(installation),
            }
        })
        .collect();
    Ok(Plan { rows })
}

/// The fields in which `new` differs from `old`.
fn differences(old: &Installation, new: &Installation) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut differ = |field, differs: bool| {
        if differs {
            fields.push(field);
        }
    };
    differ("client", old.client != new.client);
    differ("manager", old.manager != new.manager);
    differ("timezone", old.timezone != new.timezone);
    differ(
        "telegram_chat_id",
        old.telegram_chat_id != new.telegram_chat_id,
    );
    differ("url", old.url != new.url);
    differ("ip", old.ip != new.ip);
    differ("parent", old.parent != new.parent);
    differ("tags", old.tags != new.tags);
    fields
}

/// A token issued to a new installation, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub id: String,
    pub client: String,
    pub token: String,
}

/// What the file would do, nothing stored.
pub async fn preview(state: &AppState, text: &str) -> Result<Result<Plan, Unreadable>, StoreError> {
    let fleet = state.store.installations().await?;
    Ok(plan(text, &fleet, state.clock.now_ms()))
}

/// Applies every row that is not refused: new installations first those without a new
/// parent, then those behind them; changed ones keep their tokens and history. A row the
/// store refuses now (someone created the same id meanwhile) turns refused.
pub async fn apply(
    state: &AppState,
    text: &str,
) -> Result<Result<(Plan, Vec<Issued>), Unreadable>, StoreError> {
    let mut plan = match preview(state, text).await? {
        Ok(plan) => plan,
        Err(unreadable) => return Ok(Err(unreadable)),
    };
    let mut issued = Vec::new();
    let mut stored: BTreeSet<String> = BTreeSet::new();
    let pending: BTreeSet<&str> = plan
        .rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::New))
        .map(|r| r.id.as_str())
        .collect();
    let waits = |row: &Row, stored: &BTreeSet<String>| {
        row.installation
            .as_ref()
            .and_then(|i| i.parent.as_deref())
            .is_some_and(|p| pending.contains(p) && !stored.contains(p))
    };
    // Parents before what sits behind them: each pass stores the rows whose parent is
    // stored (or not new); when none is ready, the rest go as they are and the store
    // says why (a parent that failed, or a cycle).
    let mut todo: Vec<usize> = (0..plan.rows.len())
        .filter(|&i| matches!(plan.rows[i].verdict, Verdict::New | Verdict::Changed(_)))
        .collect();
    let mut outcomes: Vec<(usize, Result<Option<String>, ApiError>)> = Vec::new();
    while !todo.is_empty() {
        let (mut ready, mut waiting): (Vec<usize>, Vec<usize>) = todo
            .into_iter()
            .partition(|&i| !waits(&plan.rows[i], &stored));
        if ready.is_empty() {
            ready = std::mem::take(&mut waiting);
        }
        for i in ready {
            let row = &plan.rows[i];
            let Some(installation) = row.installation.clone() else {
                continue;
            };
            let outcome = match &row.verdict {
                Verdict::New => installations::register(state, installation.into())
                    .await
                    .map(|(_, token)| Some(token)),
                _ => installations::update(state, installation)
                    .await
                    .map(|_| None),
            };
            if outcome.is_ok() {
                stored.insert(row.id.clone());
            }
            outcomes.push((i, outcome));
        }
        todo = waiting;
    }
    for (i, outcome) in outcomes {
        let row = &mut plan.rows[i];
        match outcome {
            Ok(Some(token)) => issued.push(Issued {
                id: row.id.clone(),
                client: row
                    .installation
                    .as_ref()
                    .map(|i| i.client.clone())
                    .unwrap_or_default(),
                token,
            }),
            Ok(None) => {}
            Err(error) => {
                row.verdict = Verdict::Refused(vec![Wrong {
                    field: "id",
                    problem: Problem::Text(error.message),
                }])
            }
        }
    }
    Ok(Ok((plan, issued)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "id;client;manager;timezone;telegram_chat_id;parent;tags\n\
        redirect-1;Хостинг;Ivanov;Europe/Moscow;-1001;;infra\n\
        vector-main;ООО «Вектор»;Ivanov;Europe/Moscow;-1002;redirect-1;moscow vip\n\
        \n\
        polus;АО «Полюс»;Petrov;Moscow;chat;;\n\
        vector-main;again;Ivanov;UTC;-1;;\n";

    #[test]
    fn each_row_says_what_it_would_do_or_every_problem_with_its_line() {
        let plan = plan(FILE, &[], 0).unwrap();
        let verdicts: Vec<(usize, &str, bool)> = plan
            .rows
            .iter()
            .map(|r| (r.line, r.id.as_str(), r.verdict == Verdict::New))
            .collect();
        assert_eq!(
            verdicts,
            [
                (2, "redirect-1", true),
                (3, "vector-main", true),
                (5, "polus", false),
                (6, "vector-main", false)
            ]
        );
        let Verdict::Refused(wrong) = &plan.rows[2].verdict else {
            panic!("{:?}", plan.rows[2].verdict)
        };
        let fields: Vec<&str> = wrong.iter().map(|w| w.field).collect();
        assert_eq!(fields, ["timezone", "telegram_chat_id"]);
        let Verdict::Refused(wrong) = &plan.rows[3].verdict else {
            panic!()
        };
        assert_eq!(wrong[0].problem, Problem::Repeated(3));
        assert_eq!(
            plan.rows[1].installation.as_ref().unwrap().tags,
            ["moscow", "vip"]
        );
    }

    #[test]
    fn an_existing_installation_is_changed_only_where_the_file_differs() {
        let first = plan(FILE, &[], 0).unwrap();
        let fleet: Vec<Installation> = first.rows[..2]
            .iter()
            .map(|r| r.installation.clone().unwrap())
            .collect();
        let again = plan(FILE, &fleet, 1).unwrap();
        assert_eq!(again.rows[0].verdict, Verdict::Same);
        let moved = FILE.replace("-1002;redirect-1", "-1003;redirect-1");
        let changed = plan(&moved, &fleet, 1).unwrap();
        assert_eq!(
            changed.rows[1].verdict,
            Verdict::Changed(vec!["telegram_chat_id"])
        );
    }

    #[test]
    fn a_file_without_its_columns_says_which() {
        let error = plan("id,client\nx,y\n", &[], 0).unwrap_err();
        assert!(
            error.0.contains("manager, timezone, telegram_chat_id"),
            "{error}"
        );
        let error = plan(
            "id,client,manager,timezone,telegram_chat_id,colour\n",
            &[],
            0,
        )
        .unwrap_err();
        assert!(error.0.contains("unknown column `colour`"), "{error}");
    }
}
