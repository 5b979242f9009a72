//! The fleet board: the counts of the fleet a visitor may see, then one row per
//! installation (or one line per client) that matches the filters in the URL, a page at a
//! time. Cut from the board's kept rows (`crate::board`); `/board/live` keeps an open
//! page current by sending only the rows that changed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use super::page::{PageError, Ui, render};
use super::session::Visitor;
use crate::app::AppState;
use crate::board::{Ask, ClientLine, Counts, Cut, Light, PAGE, Row, Rows, Sort, cut};
use crate::staff::Role;

/// A sortable column's header.
pub struct Header {
    pub label: String,
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub aria: &'static str,
    pub arrow: &'static str,
}

/// The rows the visitor may see, cut for `ask`.
pub fn visible<'a>(rows: &'a Rows, visitor: &Visitor, ask: &Ask) -> Cut<'a> {
    let staff = &visitor.staff;
    let seen = rows
        .rows
        .iter()
        .filter(|r| staff.sees(&r.installation.manager))
        .collect();
    let incidents = rows
        .incidents
        .iter()
        .filter(|t| t.managers.iter().any(|m| staff.sees(m)))
        .count();
    cut(seen, incidents, ask)
}

/// What the page shows above its rows; also sent alone when it changes.
#[derive(Template)]
#[template(path = "board_head.html")]
pub struct Head<'a> {
    pub ui: &'a Ui,
    pub ask: &'a Ask,
    pub fleet: &'a Counts,
    pub incidents: usize,
    pub matched: usize,
    pub page: usize,
    pub pages: usize,
    pub oob: bool,
}

impl Head<'_> {
    fn state_href(&self, light: &Light) -> String {
        self.ask.with(&[("state", light.class()), ("page", "")])
    }

    /// "51–100 of 1,029".
    pub fn range(&self) -> String {
        let first = if self.matched == 0 {
            0
        } else {
            (self.page - 1) * PAGE + 1
        };
        let last = (self.page * PAGE).min(self.matched);
        self.ui.lang.t_with(
            "board-range",
            &[
                ("first", first.into()),
                ("last", last.into()),
                ("n", self.matched.into()),
            ],
        )
    }
}

/// One row, alone (a live update) or in the page.
#[derive(Template)]
#[template(path = "board_row.html")]
pub struct RowHtml<'a> {
    pub ui: &'a Ui,
    pub row: &'a Row,
    pub oob: bool,
}

/// The rows of one page, alone (a live update that moved rows) or in the page.
#[derive(Template)]
#[template(path = "board_rows.html")]
pub struct RowsHtml<'a> {
    pub ui: &'a Ui,
    pub rows: &'a [&'a Row],
    pub oob: bool,
}

impl RowsHtml<'_> {
    fn row<'b>(&'b self, row: &'b Row) -> RowHtml<'b> {
        RowHtml {
            ui: self.ui,
            row,
            oob: false,
        }
    }
}

/// The matching rows folded by client, alone (a live update) or in the page.
#[derive(Template)]
#[template(path = "board_clients.html")]
pub struct ClientsHtml<'a> {
    pub ui: &'a Ui,
    pub ask: &'a Ask,
    pub clients: &'a [ClientLine],
    pub oob: bool,
}

impl ClientsHtml<'_> {
    fn client_href(&self, client: &str) -> String {
        self.ask
            .with(&[("client", client), ("group", ""), ("page", "")])
    }
}

/// The parts of a page that change with the fleet: what `/board/live` sends when they do.
pub struct Parts<'a> {
    pub head: Head<'a>,
    pub rows: RowsHtml<'a>,
    pub clients: ClientsHtml<'a>,
}

impl<'a> Parts<'a> {
    pub fn of(ui: &'a Ui, ask: &'a Ask, view: &'a Cut<'a>, oob: bool) -> Parts<'a> {
        Parts {
            head: Head {
                ui,
                ask,
                fleet: &view.fleet,
                incidents: view.incidents,
                matched: view.matched,
                page: view.page,
                pages: view.pages,
                oob,
            },
            rows: RowsHtml {
                ui,
                rows: &view.rows,
                oob,
            },
            clients: ClientsHtml {
                ui,
                ask,
                clients: &view.clients,
                oob,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage<'a> {
    ui: &'a Ui,
    ask: &'a Ask,
    head: Head<'a>,
    rows: RowsHtml<'a>,
    clients: ClientsHtml<'a>,
    headers: Vec<Header>,
    managers: Vec<String>,
    plugins: Vec<String>,
    /// What `/board/live` is asked for: this query, and the rows' version it starts from.
    live: String,
    /// A new service's first steps, for administrators, until every one is done.
    checklist: Option<Checklist>,
}

/// A new service's first steps, and the installations a test alert can be sent to.
struct Checklist {
    steps: Vec<Step>,
    /// Installations whose chat the bot is in first, at most [`TRYABLE`].
    tryable: Vec<String>,
}

/// The most installations the checklist offers to send a test alert to.
const TRYABLE: usize = 50;

/// One of a new service's first steps.
struct Step {
    id: &'static str,
    done: bool,
    /// Where it is done, if on a page.
    href: Option<&'static str>,
}

/// The steps from an empty service to the first alert in Telegram, each done when the
/// service shows it: an installation, the bot's token, the bot in an installation's chat
/// (it has heard a command there), a first report, a first alert (a test one will do).
/// `None` once all are, and from then on without asking (`Web::set_up`).
async fn checklist(state: &AppState, kept: &Rows) -> Result<Option<Checklist>, PageError> {
    if state.web.set_up.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let chats: BTreeSet<i64> = state
        .store
        .bot_chats()
        .await?
        .into_iter()
        .map(|c| c.chat_id)
        .collect();
    let steps = vec![
        Step {
            id: "first-installation",
            done: !kept.rows.is_empty(),
            href: Some("/admin/installations"),
        },
        Step {
            id: "first-telegram",
            done: state.web.telegram,
            href: None,
        },
        Step {
            id: "first-chat",
            done: kept
                .rows
                .iter()
                .any(|r| chats.contains(&r.installation.telegram_chat_id)),
            href: Some("/admin/installations#bot-chats"),
        },
        Step {
            id: "first-report",
            done: kept.rows.iter().any(|r| r.reported_at.is_some()),
            href: None,
        },
        Step {
            id: "first-alert",
            done: state.store.ever_alerted().await?,
            href: None,
        },
    ];
    if steps.iter().all(|s| s.done) {
        state.web.set_up.store(true, Ordering::Relaxed);
        return Ok(None);
    }
    let (heard, unheard): (Vec<_>, Vec<_>) = kept
        .rows
        .iter()
        .map(|r| &r.installation)
        .partition(|i| chats.contains(&i.telegram_chat_id));
    let tryable = heard
        .into_iter()
        .chain(unheard)
        .take(TRYABLE)
        .map(|i| i.id.clone())
        .collect();
    Ok(Some(Checklist { steps, tryable }))
}

impl BoardPage<'_> {
    fn view_href(&self, group: &str) -> String {
        self.ask.with(&[("group", group), ("page", "")])
    }

    fn page_href(&self, page: usize) -> String {
        self.ask.with(&[("page", &page.to_string())])
    }
}

fn headers(ui: &Ui, ask: &Ask) -> Vec<Header> {
    let current = ask.sort();
    [
        (Sort::State, "col-state"),
        (Sort::Client, "col-client"),
        (Sort::Installation, "col-installation"),
        (Sort::Alerts, "col-what"),
        (Sort::Manager, "col-manager"),
        (Sort::Report, "col-report"),
    ]
    .into_iter()
    .map(|(sort, label)| {
        let here = sort == current;
        let descending = here && ask.descending();
        let flip = if here && !descending { "desc" } else { "" };
        Header {
            label: ui.t(label),
            href: format!(
                "/?{}",
                ask.with(&[("sort", sort.name()), ("dir", flip), ("page", "")])
            ),
            aria: match (here, descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
            arrow: match (here, descending) {
                (false, _) => "",
                (true, false) => " ▲",
                (true, true) => " ▼",
            },
        }
    })
    .collect()
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(ask): Query<Ask>,
) -> Result<Response, PageError> {
    if let Some((name, value)) = ask.mistake() {
        let lang = visitor.lang();
        return Err(PageError::bad(
            lang,
            lang.t_with(
                "error-ask",
                &[("name", name.into()), ("value", value.to_string().into())],
            ),
        ));
    }
    let kept: Arc<Rows> = state.web.board.for_page().await?;
    let ui = visitor.ui();
    let view = visible(&kept, &visitor, &ask);
    let managers: BTreeSet<&str> = kept
        .rows
        .iter()
        .filter(|r| visitor.staff.sees(&r.installation.manager))
        .map(|r| r.installation.manager.as_str())
        .collect();
    let plugins = state.runtime.registry().names();
    let live = format!("{}&seen={}", ask.with(&[]), kept.rung());
    let checklist = match visitor.staff.role {
        Role::Admin => checklist(&state, &kept).await?,
        _ => None,
    };
    let Parts {
        head,
        rows,
        clients,
    } = Parts::of(&ui, &ask, &view, false);
    let page = BoardPage {
        ui: &ui,
        ask: &ask,
        head,
        rows,
        clients,
        headers: headers(&ui, &ask),
        managers: managers.into_iter().map(str::to_string).collect(),
        plugins,
        live,
        checklist,
    };
    Ok(render(&page))
}
