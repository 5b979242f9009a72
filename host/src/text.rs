//! Characters that must not reach people: control characters, which a chat shows as
//! garbage or not at all (a BEL, a CR LF splitting a line), and bidirectional controls,
//! with which a name can make a line read right-to-left as something else than it says.
//! The admin API refuses them in names (`api/input.rs`); what goes to Telegram has them
//! removed (`notify/telegram/render.rs`), whatever a report or a plugin wrote. And the
//! characters a URL carries as themselves, for what the service percent-encodes.

/// RFC 3986's unreserved characters: every other byte is `%XX` in a URL (and in an RFC
/// 5987 header value).
pub const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` with each character people may not be shown written as its escape (`\u{7}`),
/// for a terminal: what a plugin wrote, visibly.
pub fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| match unwanted(c) {
            Some(_) => c.escape_unicode().to_string(),
            None => c.to_string(),
        })
        .collect()
}

/// What `c` is, if it is a character text given to people may not hold.
pub fn unwanted(c: char) -> Option<&'static str> {
    match c {
        '\u{0}' => Some("NUL"),
        '\u{1}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => Some("a control character"),
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => Some("a bidirectional control"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_written_out() {
        assert_eq!(
            escaped("Ключ\u{7} lost\u{202E}\"x\""),
            "Ключ\\u{7} lost\\u{202e}\"x\""
        );
    }
}
