//! Report bytes → UTF-8 text, once, before any XML is read: the encoding comes from a
//! byte-order mark (UTF-8, UTF-16 LE/BE, as Windows tools write them), else from the XML
//! declaration (windows-1251 above all), else UTF-8. An encoding nobody knows is refused
//! by name rather than guessed. The text is then held to XML 1.0's characters: a NUL or
//! another control character is refused where it stands, so both databases receive the
//! same text and neither refuses it later.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::error::{ParseError, line_column};

/// How far into the document the XML declaration may end.
const PROLOG_SCAN: usize = 1024;

/// The report as UTF-8 text, or why it cannot be read as such.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ParseError> {
    let (encoding, body) = detect(bytes)?;
    let text = if encoding == UTF_8 {
        Cow::Borrowed(std::str::from_utf8(body).map_err(|e| {
            let (line, column) = line_column(body, e.valid_up_to() as u64);
            ParseError {
                message: "the report is not valid UTF-8 (declare its encoding in the XML prolog, e.g. encoding=\"windows-1251\")".into(),
                position: Some((line, column)),
            }
        })?)
    } else {
        encoding
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(|| ParseError {
                message: format!("the report is not valid {}", encoding.name()),
                position: None,
            })?
    };
    check_characters(&text)?;
    Ok(text)
}

fn detect(bytes: &[u8]) -> Result<(&'static Encoding, &[u8]), ParseError> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return Ok((encoding, &bytes[bom..]));
    }
    // XML 1.0 appendix F: a UTF-16 document without a byte-order mark still starts `<?`.
    match bytes {
        [0x3C, 0x00, 0x3F, 0x00, ..] => return Ok((UTF_16LE, bytes)),
        [0x00, 0x3C, 0x00, 0x3F, ..] => return Ok((UTF_16BE, bytes)),
        _ => {}
    }
    let Some(label) = declared_encoding(bytes) else {
        return Ok((UTF_8, bytes));
    };
    match Encoding::for_label(label.as_bytes()) {
        // A declaration readable byte by byte is not UTF-16, whatever it says.
        Some(encoding) if encoding == UTF_16LE || encoding == UTF_16BE => Err(ParseError {
            message: format!(
                "the XML prolog declares encoding `{label}` but the document is not UTF-16 (UTF-16 needs a byte-order mark)"
            ),
            position: Some((1, 1)),
        }),
        Some(encoding) if encoding != encoding_rs::REPLACEMENT => Ok((encoding, bytes)),
        _ => Err(ParseError {
            message: format!(
                "unknown encoding `{label}` declared in the XML prolog (use UTF-8, UTF-16 with a byte-order mark, or a known code page such as windows-1251)"
            ),
            position: Some((1, 1)),
        }),
    }
}

/// The `encoding` pseudo-attribute of the XML declaration, if the document starts with one.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(PROLOG_SCAN)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let declaration = std::str::from_utf8(&head[..end]).ok()?;
    let at = declaration.find("encoding")? + "encoding".len();
    let rest = declaration[at..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].trim().to_string())
}

/// Whether XML 1.0 forbids `c` in a document (`Char` production): control characters but
/// tab, line feed and carriage return, and the non-characters U+FFFE and U+FFFF.
pub fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Refuses the first forbidden character, saying where it is.
fn check_characters(text: &str) -> Result<(), ParseError> {
    // Every forbidden character is one ASCII byte or starts EF BF: a byte scan finds them
    // without decoding, which matters for a 30 MB report.
    let bytes = text.as_bytes();
    let suspect = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b < 0x20 || **b == 0xEF)
        .find_map(|(at, _)| {
            let c = text[at..].chars().next()?;
            forbidden(c).then_some((at, c))
        });
    match suspect {
        None => Ok(()),
        Some((at, c)) => Err(ParseError {
            message: format!(
                "character U+{:04X} is not allowed in XML (no control characters but tab, line feed and carriage return)",
                c as u32
            ),
            position: Some(line_column(bytes, at as u64)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_boms_and_declarations() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?><r>Ж</r>"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        assert!(decode(&utf16).unwrap().ends_with("<r>Ж</r>"));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("<r>Ж</r>".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).unwrap(), "<r>Ж</r>");
        let cp1251 = b"<?xml version='1.0' encoding='windows-1251'?><r>\xC6</r>";
        assert!(decode(cp1251).unwrap().ends_with("<r>Ж</r>"));
        assert_eq!(decode("\u{FEFF}<r/>".as_bytes()).unwrap(), "<r/>");
    }

    #[test]
    fn refuses_unknown_encodings_and_control_characters_by_name_and_place() {
        let unknown =
            decode(b"<?xml version=\"1.0\" encoding=\"x-unknown-charset\"?><r/>").unwrap_err();
        assert!(unknown.message.contains("`x-unknown-charset`"), "{unknown}");
        let nul = decode(b"<r>\n  <a b=\"x\x00y\"/></r>").unwrap_err();
        assert!(nul.message.contains("U+0000"), "{nul}");
        assert_eq!(nul.position, Some((2, 10)));
        assert!(decode("<r>\u{FFFF}</r>".as_bytes()).is_err());
        assert!(decode(b"<r>\t\r\n</r>").is_ok());
    }
}
