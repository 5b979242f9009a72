//! The fleet as the admin registered it: the domain types every part shares, owned by none
//! of them (the store loads them, alerts and plugins read them).

use jiff::tz::TimeZone;
use serde::Serialize;

/// One running copy of the product, as the admin registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installation {
    pub id: String,
    pub client: String,
    pub manager: String,
    /// IANA time zone name.
    pub timezone: String,
    pub telegram_chat_id: i64,
    pub url: Option<String>,
    pub ip: Option<String>,
    /// The redirect server or cloud it sits behind.
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Installation {
    /// Its time zone; the name was checked when it was set, so UTC stands in only for a
    /// zone this build no longer knows.
    pub fn time_zone(&self) -> TimeZone {
        TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC)
    }
}

#[cfg(any(test, feature = "fixtures"))]
impl Installation {
    /// For unit tests (here and, with the `fixtures` feature, the host's): `id`, of client
    /// Vector, managed by Ivanov in Moscow, alerting in chat `chat`.
    pub fn example(id: &str, chat: i64) -> Installation {
        Installation {
            id: id.into(),
            client: "Vector".into(),
            manager: "Ivanov".into(),
            timezone: "Europe/Moscow".into(),
            telegram_chat_id: chat,
            url: None,
            ip: None,
            parent: None,
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
    }
}
