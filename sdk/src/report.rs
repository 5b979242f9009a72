//! Reading the report under evaluation. The report stays in the host; every call here asks
//! the host for just the elements at one path, so reading three attributes of a 20 MB
//! report costs three small answers, not a copy of the document.
//!
//! Generic access (`select`, `value`, ...) reaches any element or attribute, including ones
//! the host has never heard of (`disk/@free-mb`). The typed accessors below cover the
//! sections of report format v1 and keep the raw element for anything they do not model.

use crate::__private::bindings::reveille::check::document;
use crate::time::{Timestamp, TimestampError};
use crate::version::{Version, VersionError};

/// One element of the report, with its attributes and its own text (not its children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    node: u32,
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
}

impl Element {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The attribute's value, if the element has it.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The attribute parsed as `T`; `None` when it is missing or does not parse.
    pub fn attr_parsed<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.attr(name)?.trim().parse().ok()
    }

    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The element's own text, trimmed; empty when it has none.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl From<document::Element> for Element {
    fn from(e: document::Element) -> Self {
        Element {
            node: e.node,
            name: e.name,
            attributes: e.attributes,
            text: e.text,
        }
    }
}

#[cfg(feature = "testing")]
impl From<reveille_document::ElementView<'_>> for Element {
    fn from(view: reveille_document::ElementView<'_>) -> Self {
        Element {
            node: view.id(),
            name: view.name().to_string(),
            attributes: view.owned_attributes(),
            text: view.text().to_string(),
        }
    }
}

/// Where the report's answers come from: the host, across the sandbox, or (in a native
/// unit test) the same document type the host keeps, in this process.
enum Source {
    Host(document::Report),
    #[cfg(feature = "testing")]
    Native(std::sync::Arc<reveille_document::Document>),
}

/// The report under evaluation.
pub struct Report {
    source: Source,
}

impl Report {
    pub(crate) fn from_host(report: document::Report) -> Self {
        Report {
            source: Source::Host(report),
        }
    }

    #[cfg(feature = "testing")]
    pub(crate) fn native(document: std::sync::Arc<reveille_document::Document>) -> Self {
        Report {
            source: Source::Native(document),
        }
    }

    /// Every element at `path` (slash-separated, relative to the `report` root; `*` matches
    /// any one element), in document order.
    pub fn select(&self, path: &str) -> Vec<Element> {
        match &self.source {
            Source::Host(report) => report.select(path).into_iter().map(Element::from).collect(),
            #[cfg(feature = "testing")]
            Source::Native(doc) => doc.select(path).into_iter().map(Element::from).collect(),
        }
    }

    /// The first element at `path`.
    pub fn first(&self, path: &str) -> Option<Element> {
        self.select(path).into_iter().next()
    }

    /// Every element at `path` below `parent`.
    pub fn children(&self, parent: &Element, path: &str) -> Vec<Element> {
        match &self.source {
            Source::Host(report) => report
                .children_of(parent.node, path)
                .into_iter()
                .map(Element::from)
                .collect(),
            #[cfg(feature = "testing")]
            Source::Native(doc) => doc
                .select_from(parent.node, path)
                .into_iter()
                .map(Element::from)
                .collect(),
        }
    }

    /// The first value at `path`: `disk/@free-mb` for an attribute, `installation/client`
    /// for an element's text, `@agent` for an attribute of the root.
    pub fn value(&self, path: &str) -> Option<String> {
        match &self.source {
            Source::Host(report) => report.value(path),
            #[cfg(feature = "testing")]
            Source::Native(doc) => doc.value(path).map(str::to_string),
        }
    }

    /// How many elements are at `path`.
    pub fn count(&self, path: &str) -> u32 {
        match &self.source {
            Source::Host(report) => report.count(path),
            #[cfg(feature = "testing")]
            Source::Native(doc) => u32::try_from(doc.count(path)).unwrap_or(u32::MAX),
        }
    }

    /// Which agent sent it: `report-agent`, `status-agent`, or `probe` for the host's probes.
    pub fn agent(&self) -> Option<String> {
        self.value("@agent")
    }

    /// When the agent generated it.
    pub fn generated_at(&self) -> Option<Result<Timestamp, TimestampError>> {
        self.value("@generated-at")
            .map(|s| Timestamp::parse_rfc3339(&s))
    }

    /// `product/@shell-version`.
    pub fn shell_version(&self) -> Option<Result<Version, VersionError>> {
        self.value("product/@shell-version").map(|s| s.parse())
    }

    /// The license protection record; `None` when the report has none, which for the
    /// dongle check is itself the alarm.
    pub fn protection(&self) -> Option<Protection> {
        self.first("protection").map(|element| Protection {
            kind: element.attr("kind").map(str::to_string),
            state: ProtectionState::from(element.attr("state").unwrap_or("")),
            error_code: element.attr("error-code").map(str::to_string),
            forwarding: element.attr("forwarding").map(str::to_string),
            element,
        })
    }

    pub fn service(&self) -> Option<Service> {
        self.first("service").map(|element| Service {
            state: ServiceState::from(element.attr("state").unwrap_or("")),
            http_status: element.attr_parsed("http-status"),
            element,
        })
    }

    /// Every content base, in report order.
    pub fn bases(&self) -> Vec<Base> {
        self.select("bases/base")
            .into_iter()
            .map(|element| Base {
                code: element.attr("code").unwrap_or_default().to_string(),
                name: element.attr("name").map(str::to_string),
                update: element.attr_parsed("update"),
                operup_at: element.attr("operup-at").map(Timestamp::parse_rfc3339),
                failed: element.attr("state") == Some("error"),
                error_code: element.attr("error-code").map(str::to_string),
                element,
            })
            .collect()
    }

    pub fn users(&self) -> Option<Users> {
        self.first("users").map(|element| Users {
            limit: element.attr_parsed("limit"),
            in_use: element.attr_parsed("in-use"),
            peak: element.attr_parsed("peak"),
            refused: element.attr_parsed("refused"),
            element,
        })
    }

    pub fn network(&self) -> Option<Network> {
        self.first("network").map(|element| Network {
            domain: element.attr("domain").map(str::to_string),
            reachable_by_domain: element.attr_parsed("reachable-by-domain"),
            reachable_by_ip: element.attr_parsed("reachable-by-ip"),
            element,
        })
    }
}

/// `protection/@state`. Unknown states are kept as given, never mistaken for `present`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtectionState {
    Present,
    Lost,
    Expired,
    Blacklisted,
    ManagerUnreachable,
    Other(String),
}

impl From<&str> for ProtectionState {
    fn from(s: &str) -> Self {
        match s {
            "present" => Self::Present,
            "lost" => Self::Lost,
            "expired" => Self::Expired,
            "blacklisted" => Self::Blacklisted,
            "manager-unreachable" => Self::ManagerUnreachable,
            other => Self::Other(other.to_string()),
        }
    }
}

impl ProtectionState {
    /// The state as the report writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Present => "present",
            Self::Lost => "lost",
            Self::Expired => "expired",
            Self::Blacklisted => "blacklisted",
            Self::ManagerUnreachable => "manager-unreachable",
            Self::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Protection {
    /// `senselock` for the USB dongle.
    pub kind: Option<String>,
    pub state: ProtectionState,
    pub error_code: Option<String>,
    /// How the dongle reaches the machine (`usb-over-network`, ...).
    pub forwarding: Option<String>,
    pub element: Element,
}

/// `service/@state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceState {
    Running,
    Stopped,
    Maintenance,
    Starting,
    Error,
    Other(String),
}

impl From<&str> for ServiceState {
    fn from(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "stopped" => Self::Stopped,
            "maintenance" => Self::Maintenance,
            "starting" => Self::Starting,
            "error" => Self::Error,
            other => Self::Other(other.to_string()),
        }
    }
}

impl ServiceState {
    /// The state as the report writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Maintenance => "maintenance",
            Self::Starting => "starting",
            Self::Error => "error",
            Self::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub state: ServiceState,
    pub http_status: Option<u16>,
    pub element: Element,
}

/// One content base ("комплект") and its latest operational update.
#[derive(Debug, Clone)]
pub struct Base {
    pub code: String,
    pub name: Option<String>,
    pub update: Option<u64>,
    pub operup_at: Option<Result<Timestamp, TimestampError>>,
    /// `state="error"`.
    pub failed: bool,
    pub error_code: Option<String>,
    pub element: Element,
}

#[derive(Debug, Clone)]
pub struct Users {
    pub limit: Option<u32>,
    pub in_use: Option<u32>,
    pub peak: Option<u32>,
    pub refused: Option<u32>,
    pub element: Element,
}

#[derive(Debug, Clone)]
pub struct Network {
    pub domain: Option<String>,
    pub reachable_by_domain: Option<bool>,
    pub reachable_by_ip: Option<bool>,
    pub element: Element,
}
