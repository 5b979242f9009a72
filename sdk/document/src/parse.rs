//! XML bytes → [`Document`]. Decodes the report to UTF-8 first (`decode.rs`: byte-order
//! marks, the declared encoding, XML's characters), checks that it is a version-1 report,
//! and says what is wrong and where. Linear in the input, whatever it holds: attributes
//! are checked for duplicates through a set, and an element may have at most
//! [`MAX_ATTRIBUTES`]. It never stores anything: a caller gets a whole document or an
//! error.

use std::collections::{HashMap, HashSet};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::decode::{decode, forbidden};
use super::document::{Attr, Document, NO_NODE, Node, Span};
use super::error::{ParseError, line_column};

/// Nesting deeper than this is refused: no real report comes close, and it bounds the
/// parser's stack on hostile input.
const MAX_DEPTH: usize = 256;

/// Attributes one element may carry: a real report's elements have a handful.
pub const MAX_ATTRIBUTES: usize = 256;

struct Open {
    id: u32,
    last_child: u32,
    text: String,
}

struct Builder {
    doc: Document,
    names: HashMap<Box<str>, Span>,
    stack: Vec<Open>,
    root_closed: bool,
    /// The attribute names seen on the element being read.
    seen: HashSet<u32>,
}

/// Parses one report. The root must be `<report schema="1">`.
pub fn parse(bytes: &[u8]) -> Result<Document, ParseError> {
    let text = decode(bytes)?;
    let bytes = text.as_bytes();
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().expand_empty_elements = false;
    let mut builder = Builder {
        doc: Document::default(),
        names: HashMap::new(),
        stack: Vec::new(),
        root_closed: false,
        seen: HashSet::new(),
    };
    let mut buf = Vec::new();
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| ParseError {
            message: format!("malformed XML: {e}"),
            position: Some(line_column(bytes, reader.error_position())),
        })?;
        let located = |message: String| ParseError {
            message,
            position: Some(line_column(bytes, at)),
        };
        match event {
            Event::Start(start) => {
                builder.open(&start, &reader).map_err(located)?;
            }
            Event::Empty(start) => {
                builder.open(&start, &reader).map_err(located)?;
                builder.close().map_err(located)?;
            }
            Event::End(_) => builder.close().map_err(located)?,
            Event::Text(text) => {
                let decoded = text
                    .xml_content()
                    .map_err(|e| located(format!("cannot decode text: {e}")))?;
                builder.text(&decoded).map_err(located)?;
            }
            Event::CData(data) => {
                let decoded = data
                    .decode()
                    .map_err(|e| located(format!("cannot decode CDATA: {e}")))?;
                builder.text(&decoded).map_err(located)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) if forbidden(c) => {
                        return Err(located(format!(
                            "character reference to U+{:04X}, which is not allowed in XML",
                            c as u32
                        )));
                    }
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|e| located(format!("cannot decode entity: {e}")))?;
                        predefined_entity(&name)
                            .ok_or_else(|| located(format!("unknown entity `&{name};`")))?
                            .to_string()
                    }
                    Err(e) => return Err(located(format!("bad character reference: {e}"))),
                };
                builder.text(&resolved).map_err(located)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    if !builder.stack.is_empty() {
        return Err(ParseError {
            message: format!(
                "unexpected end of document: `<{}>` is not closed",
                builder
                    .doc
                    .str(builder.doc.nodes[builder.stack[0].id as usize].name)
            ),
            position: Some(line_column(bytes, bytes.len() as u64)),
        });
    }
    if builder.doc.is_empty() {
        return Err(ParseError {
            message: "no root element: the document is empty".into(),
            position: None,
        });
    }
    check_report_root(&builder.doc)?;
    let mut doc = builder.doc;
    // The growth slack of the arena would otherwise stay allocated for as long as the
    // document lives: up to half its size for a large report.
    doc.nodes.shrink_to_fit();
    doc.attrs.shrink_to_fit();
    doc.strings.shrink_to_fit();
    Ok(doc)
}

fn check_report_root(doc: &Document) -> Result<(), ParseError> {
    let root = doc.root();
    let error = |message: String| ParseError {
        message,
        position: None,
    };
    if root.name() != "report" {
        return Err(error(format!(
            "the root element is `<{}>`; a report's root must be `<report>`",
            root.name()
        )));
    }
    match root.attr("schema") {
        Some("1") => Ok(()),
        Some(other) => Err(error(format!(
            "unsupported report schema `{other}`; this host reads schema 1"
        ))),
        None => Err(error(
            "`<report>` has no `schema` attribute; expected schema=\"1\"".into(),
        )),
    }
}

impl Builder {
    fn open(&mut self, start: &BytesStart<'_>, reader: &Reader<&[u8]>) -> Result<(), String> {
        if self.root_closed || (self.stack.is_empty() && !self.doc.is_empty()) {
            return Err("content after the root element".into());
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
        }
        let raw_name = start.name();
        let name = reader
            .decoder()
            .decode(raw_name.as_ref())
            .map_err(|e| format!("cannot decode element name: {e}"))?;
        let name = self.intern(&name)?;
        let attrs_start = to_u32(self.doc.attrs.len())?;
        self.seen.clear();
        for attr in start.attributes().with_checks(false) {
            if self.seen.len() == MAX_ATTRIBUTES {
                return Err(format!(
                    "element `<{}>` has more than {MAX_ATTRIBUTES} attributes",
                    self.doc.str(name)
                ));
            }
            let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
            let key = reader
                .decoder()
                .decode(attr.key.as_ref())
                .map_err(|e| format!("cannot decode attribute name: {e}"))?;
            let value = attr
                .decode_and_unescape_value(reader.decoder())
                .map_err(|e| format!("bad value of attribute `{key}`: {e}"))?;
            if let Some(c) = value.chars().find(|c| forbidden(*c)) {
                return Err(format!(
                    "attribute `{key}` refers to character U+{:04X}, which is not allowed in XML",
                    c as u32
                ));
            }
            let key = self.intern(&key)?;
            if !self.seen.insert(key.start) {
                return Err(format!(
                    "attribute `{}` appears twice on `<{}>`",
                    self.doc.str(key),
                    self.doc.str(name)
                ));
            }
            let attr = Attr {
                name: key,
                value: self.push_str(&value)?,
            };
            self.doc.attrs.push(attr);
        }
        let id = to_u32(self.doc.nodes.len())?;
        self.doc.nodes.push(Node {
            name,
            first_child: NO_NODE,
            next_sibling: NO_NODE,
            attrs: attrs_start..to_u32(self.doc.attrs.len())?,
            text: Span::EMPTY,
        });
        if let Some(parent) = self.stack.last_mut() {
            if parent.last_child == NO_NODE {
                self.doc.nodes[parent.id as usize].first_child = id;
            } else {
                self.doc.nodes[parent.last_child as usize].next_sibling = id;
            }
            parent.last_child = id;
        }
        self.stack.push(Open {
            id,
            last_child: NO_NODE,
            text: String::new(),
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        let open = self
            .stack
            .pop()
            .ok_or_else(|| "closing tag without an open element".to_string())?;
        let text = open.text.trim();
        if !text.is_empty() {
            self.doc.nodes[open.id as usize].text = self.push_str(text)?;
        }
        self.root_closed = self.stack.is_empty();
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), String> {
        match self.stack.last_mut() {
            Some(open) => {
                open.text.push_str(text);
                Ok(())
            }
            None if text.trim().is_empty() => Ok(()),
            None => Err("text outside the root element".into()),
        }
    }

    fn intern(&mut self, name: &str) -> Result<Span, String> {
        if let Some(span) = self.names.get(name) {
            return Ok(*span);
        }
        let span = self.push_str(name)?;
        self.names.insert(name.into(), span);
        Ok(span)
    }

    fn push_str(&mut self, s: &str) -> Result<Span, String> {
        let start = to_u32(self.doc.strings.len())?;
        self.doc.strings.push_str(s);
        Ok(Span {
            start,
            len: to_u32(s.len())?,
        })
    }
}

fn to_u32(n: usize) -> Result<u32, String> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n != NO_NODE)
        .ok_or_else(|| "report too large to index".to_string())
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<report schema="1" agent="report-agent" generated-at="2026-11-20T01:07:00+03:00">
  <installation id="vector-main"><client>ООО «Вектор» &amp; Co</client></installation>
  <protection kind="senselock" state="lost" error-code="4111"/>
  <bases>
    <base code="KDS-SNIP" update="4287"/>
    <base code="KDS-LAW" state="error" error-code="2020"/>
  </bases>
  <disk path="D:\Kodeks" free-mb="812"/>
</report>"#;

    #[test]
    fn a_fingerprint_ignores_only_when_the_report_was_generated() {
        let fingerprint = |xml: String| parse(xml.as_bytes()).expect("parses").fingerprint();
        let example = fingerprint(EXAMPLE.to_string());
        assert_eq!(
            example,
            fingerprint(EXAMPLE.replace("2026-11-20T01:07:00", "2026-11-20T02:07:00"))
        );
        for changed in [
            EXAMPLE.replace(r#"state="lost""#, r#"state="present""#),
            EXAMPLE.replace("free-mb=\"812\"", "free-mb=\"811\""),
            EXAMPLE.replace("&amp; Co", "Co"),
            EXAMPLE.replace(r#"agent="report-agent""#, r#"agent="probe""#),
            EXAMPLE.replace(
                r#"<disk path="D:\Kodeks" free-mb="812"/>"#,
                r#"<disk path="D:\Kodeks"/><x free-mb="812"/>"#,
            ),
        ] {
            assert_ne!(example, fingerprint(changed));
        }
    }

    #[test]
    fn reads_elements_attributes_and_text_by_path() {
        let doc = parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(doc.value("@agent"), Some("report-agent"));
        assert_eq!(doc.value("installation/client"), Some("ООО «Вектор» & Co"));
        assert_eq!(doc.value("protection/@state"), Some("lost"));
        assert_eq!(doc.value("disk/@free-mb"), Some("812"));
        assert_eq!(doc.value("disk/@missing"), None);
        let codes: Vec<_> = doc
            .select("bases/base")
            .iter()
            .map(|b| b.attr("code").unwrap())
            .collect();
        assert_eq!(codes, ["KDS-SNIP", "KDS-LAW"]);
        assert_eq!(doc.select("*/base").len(), 2);
        assert_eq!(doc.select("").len(), 1);
        let bases = doc.select("bases")[0].id();
        assert_eq!(doc.select_from(bases, "base").len(), 2);
        assert!(doc.select_from(9_999, "base").is_empty());
    }

    #[test]
    fn decodes_windows_1251() {
        let (body, _, _) = encoding_rs::WINDOWS_1251.encode(
            r#"<?xml version="1.0" encoding="windows-1251"?><report schema="1"><installation><client>ООО «Вектор»</client></installation></report>"#,
        );
        let doc = parse(&body).unwrap();
        assert_eq!(doc.value("installation/client"), Some("ООО «Вектор»"));
    }

    #[test]
    fn says_what_and_where_for_malformed_xml() {
        let err = parse(b"<report schema=\"1\">\n  <bases>\n</report>").unwrap_err();
        assert!(err.position.is_some(), "{err}");
        assert!(err.to_string().starts_with("line 3"), "{err}");
    }

    #[test]
    fn refuses_what_is_not_a_v1_report() {
        let wrong_root = parse(b"<inventory/>").unwrap_err();
        assert!(wrong_root.message.contains("<inventory>"), "{wrong_root}");
        let schema = parse(b"<report schema=\"2\"/>").unwrap_err();
        assert!(schema.message.contains("schema `2`"), "{schema}");
        assert!(parse(b"<report/>").unwrap_err().message.contains("schema"));
        assert!(parse(b"").is_err());
        assert!(parse(b"<report schema=\"1\"/><report schema=\"1\"/>").is_err());
        assert!(parse(b"<report schema=\"1\">&bogus;</report>").is_err());
    }
}
