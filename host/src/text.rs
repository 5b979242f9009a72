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
