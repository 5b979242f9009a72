//! A parsed report as a flat arena: nodes, attributes and one string buffer.
//!
//! Why this shape: a 20 MB report turns into a handful of large vectors instead of millions
//! of small allocations; repeated element and attribute names are stored once; nodes refer
//! to each other by index, so the document is `Send + Sync`, shared by reference between
//! concurrent plugin evaluations, and answers a path query by walking sibling links without
//! building anything. Plugins receive only the elements a query returns.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;

/// Index of an element in its document. Only meaningful for the document that returned it.
pub type NodeId = u32;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub const EMPTY: Span = Span { start: 0, len: 0 };

    fn range(self) -> Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub name: Span,
    pub first_child: u32,
    pub next_sibling: u32,
    pub attrs: Range<u32>,
    pub text: Span,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Attr {
    pub name: Span,
    pub value: Span,
}

/// A parsed report. Node 0 is the root element.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub(super) nodes: Vec<Node>,
    pub(super) attrs: Vec<Attr>,
    pub(super) strings: String,
}

/// One element, borrowed from its document.
#[derive(Debug, Clone, Copy)]
pub struct ElementView<'d> {
    doc: &'d Document,
    id: NodeId,
}

impl<'d> ElementView<'d> {
    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn name(&self) -> &'d str {
        self.doc.str(self.node().name)
    }

    /// The element's own text, trimmed.
    pub fn text(&self) -> &'d str {
        self.doc.str(self.node().text)
    }

    pub fn attributes(&self) -> impl Iterator<Item = (&'d str, &'d str)> + 'd {
        let doc = self.doc;
        let range = self.node().attrs.clone();
        doc.attrs[range.start as usize..range.end as usize]
            .iter()
            .map(move |a| (doc.str(a.name), doc.str(a.value)))
    }

    /// Its attributes as owned pairs, as they cross into a check.
    pub fn owned_attributes(&self) -> Vec<(String, String)> {
        self.attributes()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    pub fn attr(&self, name: &str) -> Option<&'d str> {
        self.attributes().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn node(&self) -> &'d Node {
        &self.doc.nodes[self.id as usize]
    }
}

impl Document {
    /// The root element (`report`).
    pub fn root(&self) -> ElementView<'_> {
        self.element(0)
            .expect("a parsed document has a root element")
    }

    pub fn element(&self, id: NodeId) -> Option<ElementView<'_>> {
        ((id as usize) < self.nodes.len()).then_some(ElementView { doc: self, id })
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Bytes held by the document, for limits and metrics.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * size_of::<Node>()
            + self.attrs.capacity() * size_of::<Attr>()
            + self.strings.capacity()
    }

    /// Elements at `path` below the root: `bases/base`, `*/base`; `""` or `.` is the root.
    pub fn select(&self, path: &str) -> Vec<ElementView<'_>> {
        self.select_from(0, path)
    }

    /// Elements at `path` below `from`; empty when `from` is not an element of this document.
    pub fn select_from(&self, from: NodeId, path: &str) -> Vec<ElementView<'_>> {
        let mut out = Vec::new();
        if (from as usize) < self.nodes.len() {
            let segments: Vec<&str> = segments(path).collect();
            self.walk(from, &segments, &mut out);
        }
        out
    }

    /// How many elements are at `path`.
    pub fn count(&self, path: &str) -> usize {
        self.select(path).len()
    }

    /// The first value at `path`: a trailing `@name` reads an attribute, otherwise the
    /// element's text. `@agent` alone reads the root's attribute.
    pub fn value(&self, path: &str) -> Option<&str> {
        let (elements, attr) = match path.rsplit_once('@') {
            Some((elements, attr)) => (elements.trim_end_matches('/'), Some(attr)),
            None => (path, None),
        };
        let mut matches = self.select(elements).into_iter();
        match attr {
            Some(attr) => matches.find_map(|e| e.attr(attr)),
            None => matches.next().map(|e| e.text()),
        }
    }

    /// A digest of everything the report says except when it was generated (the root's
    /// `generated-at`): two reports with one fingerprint give every check the same thing
    /// to read. For telling a routine report from a new one, never for identity.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        for (k, node) in self.nodes.iter().enumerate() {
            hasher.write_u32(node.first_child);
            hasher.write_u32(node.next_sibling);
            self.str(node.name).hash(&mut hasher);
            self.str(node.text).hash(&mut hasher);
            for attr in &self.attrs[node.attrs.start as usize..node.attrs.end as usize] {
                let name = self.str(attr.name);
                if k == 0 && name == "generated-at" {
                    continue;
                }
                (name, self.str(attr.value)).hash(&mut hasher);
            }
        }
        hasher.finish()
    }

    pub(super) fn str(&self, span: Span) -> &str {
        &self.strings[span.range()]
    }

    fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let first = self.nodes[id as usize].first_child;
        std::iter::successors((first != NONE).then_some(first), |&c| {
            let next = self.nodes[c as usize].next_sibling;
            (next != NONE).then_some(next)
        })
    }

    fn walk<'d>(&'d self, at: NodeId, segments: &[&str], out: &mut Vec<ElementView<'d>>) {
        let Some((first, rest)) = segments.split_first() else {
            out.push(ElementView { doc: self, id: at });
            return;
        };
        for child in self.children(at) {
            if *first == "*" || self.str(self.nodes[child as usize].name) == *first {
                self.walk(child, rest, out);
            }
        }
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty() && *s != ".")
}

/// Sentinel for "no node" in sibling and child links.
pub(super) const NO_NODE: u32 = NONE;
