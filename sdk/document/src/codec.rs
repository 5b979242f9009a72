//! A [`Document`] as bytes, for storage: the arena written out as it is, so loading a stored
//! report for evaluation is a copy and a bounds check, not a new XML parse. The stored form
//! is deflate-compressed ([`Document::to_stored`]): repeated names and values shrink a
//! large report's arena several times over, and every copy on its way into the database
//! (driver, SQLite) is that much smaller.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use super::document::{Attr, Document, NO_NODE, Node, Span};

const MAGIC: &[u8; 4] = b"RVD1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored document is corrupt: {0}")]
pub struct CodecError(&'static str);

impl Document {
    /// The compressed stored form.
    pub fn to_stored(&self) -> std::io::Result<Vec<u8>> {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
        self.write_to(&mut encoder)?;
        encoder.finish()
    }

    /// Reads the form written by [`Document::to_stored`].
    pub fn from_stored(stored: &[u8]) -> Result<Document, CodecError> {
        let mut bytes = Vec::new();
        DeflateDecoder::new(stored)
            .read_to_end(&mut bytes)
            .map_err(|_| CodecError("not deflate data"))?;
        Document::from_bytes(&bytes)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + self.nodes.len() * 32 + self.attrs.len() * 16 + self.strings.len(),
        );
        self.write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(MAGIC)?;
        for n in [self.nodes.len(), self.attrs.len(), self.strings.len()] {
            out.write_all(&(n as u32).to_le_bytes())?;
        }
        for node in &self.nodes {
            for v in [
                node.name.start,
                node.name.len,
                node.first_child,
                node.next_sibling,
                node.attrs.start,
                node.attrs.end,
                node.text.start,
                node.text.len,
            ] {
                out.write_all(&v.to_le_bytes())?;
            }
        }
        for attr in &self.attrs {
            for v in [
                attr.name.start,
                attr.name.len,
                attr.value.start,
                attr.value.len,
            ] {
                out.write_all(&v.to_le_bytes())?;
            }
        }
        out.write_all(self.strings.as_bytes())
    }

    /// Reads bytes written by [`Document::to_bytes`], checking every index and span.
    pub fn from_bytes(bytes: &[u8]) -> Result<Document, CodecError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(CodecError("unknown format"));
        }
        let [node_count, attr_count, string_len] = reader.u32s::<3>()?.map(|n| n as usize);
        let mut nodes = Vec::with_capacity(node_count.min(bytes.len() / 32));
        for _ in 0..node_count {
            let v: [u32; 8] = reader.u32s()?;
            nodes.push(Node {
                name: Span {
                    start: v[0],
                    len: v[1],
                },
                first_child: v[2],
                next_sibling: v[3],
                attrs: v[4]..v[5],
                text: Span {
                    start: v[6],
                    len: v[7],
                },
            });
        }
        let mut attrs = Vec::with_capacity(attr_count.min(bytes.len() / 16));
        for _ in 0..attr_count {
            let v: [u32; 4] = reader.u32s()?;
            attrs.push(Attr {
                name: Span {
                    start: v[0],
                    len: v[1],
                },
                value: Span {
                    start: v[2],
                    len: v[3],
                },
            });
        }
        let strings = std::str::from_utf8(reader.take(string_len)?)
            .map_err(|_| CodecError("strings are not UTF-8"))?
            .to_string();
        if reader.at != bytes.len() {
            return Err(CodecError("trailing bytes"));
        }
        let span_ok = |s: Span| {
            let end = s.start as usize + s.len as usize;
            end <= strings.len()
                && strings.is_char_boundary(s.start as usize)
                && strings.is_char_boundary(end)
        };
        // Children and later siblings are always created after their node, so every link
        // points forward: checking that rules out cycles as well as stray indices.
        let link_ok =
            |from: usize, l: u32| l == NO_NODE || (from < l as usize && (l as usize) < nodes.len());
        let nodes_ok = nodes.iter().enumerate().all(|(i, n)| {
            span_ok(n.name)
                && span_ok(n.text)
                && link_ok(i, n.first_child)
                && link_ok(i, n.next_sibling)
                && n.attrs.start <= n.attrs.end
                && n.attrs.end as usize <= attrs.len()
        });
        if nodes.is_empty()
            || !nodes_ok
            || !attrs.iter().all(|a| span_ok(a.name) && span_ok(a.value))
        {
            return Err(CodecError("an index points outside the document"));
        }
        Ok(Document {
            nodes,
            attrs,
            strings,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(CodecError("truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32s<const N: usize>(&mut self) -> Result<[u32; N], CodecError> {
        let mut values = [0u32; N];
        for value in &mut values {
            let b = self.take(4)?;
            *value = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;

    #[test]
    fn round_trips_and_answers_the_same_queries() {
        let doc = parse(
            "<report schema=\"1\" agent=\"a\"><bases><base code=\"Б-1\"/><base code=\"2\">т</base></bases></report>"
                .as_bytes(),
        )
        .unwrap();
        let back = super::Document::from_bytes(&doc.to_bytes()).unwrap();
        let stored = super::Document::from_stored(&doc.to_stored().unwrap()).unwrap();
        assert_eq!(stored.to_bytes(), back.to_bytes());
        assert_eq!(back.value("@agent"), Some("a"));
        assert_eq!(back.value("bases/base/@code"), Some("Б-1"));
        assert_eq!(back.select("bases/base").len(), 2);
        assert_eq!(back.select("bases/base")[1].text(), "т");
    }

    #[test]
    fn refuses_corrupt_bytes_instead_of_panicking() {
        let doc = parse(b"<report schema=\"1\"><a b=\"c\"/></report>").unwrap();
        let bytes = doc.to_bytes();
        for cut in 0..bytes.len() {
            assert!(
                super::Document::from_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = bytes.clone();
        bad[16 + 8] = 0xff; // first node's first_child
        assert!(super::Document::from_bytes(&bad).is_err());
    }
}
