//! Chat codes: the bot hands a group a one-time code when it is added there and on
//! `/start` or `/help`, and an administrator types that code in any field that asks for a
//! chat instead of finding the chat's id. Typing the code proves the chat is the one the
//! admin is looking at, which a title alone (two groups called "Managers") does not.

use crate::ingest::token;
use crate::store::{Store, StoreError};

/// What every code starts with, so a form tells a code from an id at a glance.
const PREFIX: &str = "chat-";
/// Hex digits after the prefix: short enough to type from a phone, and a code works once,
/// for a day, only for someone already signed in as an administrator.
const DIGITS: usize = 8;
/// How long a code works.
const LASTS_MS: i64 = 24 * 3600 * 1000;

/// Whether `text` is written as a chat code (it may still be unknown or spent).
pub fn is_code(text: &str) -> bool {
    text.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.len() == DIGITS && rest.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A new code for `chat_id`, stored by its digest.
pub async fn issue(store: &Store, chat_id: i64, now: i64) -> Result<String, StoreError> {
    let code = format!("{PREFIX}{}", &token::secret("")[..DIGITS]);
    store
        .create_chat_code(&token::digest(&code), chat_id, now, now + LASTS_MS)
        .await?;
    Ok(code)
}

/// Spends `code`: the chat it names, or `None` when it is unknown, spent or expired.
pub async fn take(store: &Store, code: &str, now: i64) -> Result<Option<i64>, StoreError> {
    store
        .take_chat_code(&token::digest(&code.to_ascii_lowercase()), now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_told_from_an_id() {
        assert!(is_code("chat-0a1b2c3d"));
        assert!(is_code("chat-0A1B2C3D"));
        assert!(!is_code("-1001234"));
        assert!(!is_code("chat-0a1b2c3"));
        assert!(!is_code("chat-0a1b2c3g"));
        assert!(!is_code("0a1b2c3d"));
    }
}
