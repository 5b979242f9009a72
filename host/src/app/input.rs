//! Text an admin gives (names, tags, settings, filters): bounded in length and free of
//! the characters in [`crate::text::unwanted`]. A NUL would split the databases
//! (PostgreSQL refuses it, SQLite keeps it), and a right-to-left override in a client's
//! name would reach Telegram and make a chat read something else than it says.

use axum::http::StatusCode;

use crate::app::error::ApiError;
use crate::text::unwanted;

/// Longest name (client, manager, member, filter value), in characters.
pub const MAX_NAME: usize = 200;
/// Longest tag.
pub const MAX_TAG: usize = 64;
/// Most tags on one installation.
pub const MAX_TAGS: usize = 32;
/// Longest URL.
pub const MAX_URL: usize = 2048;
/// Longest setting key.
pub const MAX_SETTING_KEY: usize = 64;
/// Longest setting value.
pub const MAX_SETTING_VALUE: usize = 1024;

/// `value` of `field` if it has at most `max` characters and none unwanted.
pub fn text<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, ApiError> {
    let length = value.chars().count();
    if length > max {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{field}: {length} characters, more than the {max} allowed"),
        ));
    }
    if let Some((at, c, what)) = value
        .chars()
        .enumerate()
        .find_map(|(at, c)| unwanted(c).map(|what| (at, c, what)))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "{field}: character U+{:04X} at position {} is {what}, which is not allowed",
                c as u32,
                at + 1
            ),
        ));
    }
    Ok(value)
}

/// A list's `limit`: a number from 1 to `max`.
pub fn limit(value: &str, max: i64) -> Result<i64, ApiError> {
    let value = text("limit", value, MAX_NAME)?;
    value
        .parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("limit: `{value}` is not a number from 1 to {max}"),
            )
        })
}

/// A name: [`text`] up to [`MAX_NAME`], not blank.
pub fn name<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: must not be empty"),
        ));
    }
    text(field, value, MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_long_text_and_hidden_characters_saying_where() {
        assert!(text("client", "ООО «Вектор»", MAX_NAME).is_ok());
        let long = text("client", &"x".repeat(201), MAX_NAME).unwrap_err();
        assert!(long.message.contains("201 characters"), "{}", long.message);
        let rtl = text("name", "Petr\u{202E}vortep", MAX_NAME).unwrap_err();
        assert!(
            rtl.message.contains("U+202E at position 5"),
            "{}",
            rtl.message
        );
        assert!(
            text("name", "a\u{0}b", MAX_NAME)
                .unwrap_err()
                .message
                .contains("NUL")
        );
        assert!(text("name", "bell\u{7}", MAX_NAME).is_err());
        assert!(text("name", "line\r\nbreak", MAX_NAME).is_err());
        assert_eq!(
            name("manager", " ").unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
