//! Telegram's HTML parse mode, as far as its errors go: the supported tags, the four named
//! entities plus numeric ones, and the error texts the real Bot API answers with.

/// Tags Telegram accepts in HTML parse mode.
const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "tg-emoji",
    "blockquote",
];

/// The visible text of `html`, or Telegram's description of why it cannot be parsed.
pub fn visible_text(html: &str) -> Result<String, String> {
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let Some(len) = html[i..].find('>') else {
                    return Err(format!(
                        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset {i}"
                    ));
                };
                let inner = &html[i + 1..i + len];
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim().to_ascii_lowercase();
                    match open.pop() {
                        Some(expected) if expected == name => {}
                        Some(expected) => {
                            return Err(format!(
                                "Bad Request: can't parse entities: Unmatched end tag at byte offset {i}, expected \"</{expected}>\", found \"</{name}>\""
                            ));
                        }
                        None => {
                            return Err(format!(
                                "Bad Request: can't parse entities: Unexpected end tag at byte offset {i}"
                            ));
                        }
                    }
                } else {
                    let name = inner
                        .split(|c: char| c.is_whitespace())
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    if !TAGS.contains(&name.as_str()) {
                        return Err(format!(
                            "Bad Request: can't parse entities: Unsupported start tag \"{name}\" at byte offset {i}"
                        ));
                    }
                    open.push(name);
                }
                i += len + 1;
            }
            b'&' => {
                let rest = &html[i..];
                let entity = rest
                    .find(';')
                    .filter(|&end| end <= 10)
                    .and_then(|end| decode(&rest[1..end]).map(|c| (c, end)));
                match entity {
                    Some((c, end)) => {
                        out.push(c);
                        i += end + 1;
                    }
                    None => {
                        out.push('&');
                        i += 1;
                    }
                }
            }
            _ => {
                let c = html[i..].chars().next().expect("inside the string");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if let Some(tag) = open.pop() {
        return Err(format!(
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
        ));
    }
    Ok(out)
}

fn decode(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Telegram counts message length in UTF-16 code units.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_entities_and_strips_tags() {
        assert_eq!(
            visible_text("<b>a &lt;b&gt; &amp; &quot;c&quot; &#1046;</b> & d").unwrap(),
            "a <b> & \"c\" Ж & d"
        );
    }

    #[test]
    fn refuses_what_telegram_refuses() {
        assert!(
            visible_text("<foo>x</foo>")
                .unwrap_err()
                .contains("Unsupported start tag \"foo\"")
        );
        assert!(
            visible_text("<b>x")
                .unwrap_err()
                .contains("start tag \"b\"")
        );
        assert!(
            visible_text("<b>x</i>")
                .unwrap_err()
                .contains("Unmatched end tag")
        );
        assert!(
            visible_text("a < b")
                .unwrap_err()
                .contains("can't parse entities")
        );
    }
}
