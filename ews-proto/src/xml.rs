//! A small namespace-resolving element tree over quick-xml, and a writer that emits
//! Exchange's prefixes.
//!
//! EWS must be read by namespace, never by prefix: real traffic uses `soap:`, `s:`,
//! `SOAP-ENV:`, `soap11:` and default namespaces for the same elements. Parsing into a tree
//! first and then reading typed structs out of it keeps the typed code simple (look up a
//! child by namespace and local name, in any order) and makes every error able to say which
//! element and which line and column it is about.
//!
//! The parser is defensive because it reads whatever arrives over the wire: input size and
//! nesting depth are bounded ([`Limits`]), DOCTYPE (and with it every entity declaration) is
//! rejected, and unknown entity references are errors. It never panics.
//!
//! Reading has two paths. quick-xml's namespace-resolving reader is the reference: it
//! defines what is accepted and words every error. In front of it a hand-written reader
//! (`fast`, about 2.5x cheaper) takes the plain XML that EWS peers send and declines
//! everything else, which the reference then reads; tests pin that both give identical
//! trees wherever the fast one answers.

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde::{Deserialize, Serialize};

use crate::value::XsBoolean;

mod fast;

/// The SOAP 1.1 envelope namespace (always `http://`, see EWS.md §0).
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The EWS messages namespace (operation elements, `ResponseMessages`, `ResponseCode`).
pub const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
/// The EWS types namespace (data types and SOAP headers).
pub const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
/// The namespace the `xml` prefix is always bound to (`xml:lang`); never declared.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of `xmlns` declarations; no element may be in it.
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The EWS errors namespace (children of `soap:Fault/detail`).
pub const ERRORS_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";

/// The namespaces EWS uses, resolved from whatever prefix the sender chose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ns {
    /// `http://schemas.xmlsoap.org/soap/envelope/`
    Soap,
    /// `http://schemas.microsoft.com/exchange/services/2006/messages`
    Messages,
    /// `http://schemas.microsoft.com/exchange/services/2006/types`
    Types,
    /// `http://schemas.microsoft.com/exchange/services/2006/errors`
    Errors,
    /// Any other namespace URI, kept verbatim.
    Other(String),
    /// No namespace (for example `faultcode` inside a SOAP fault).
    None,
}

impl Ns {
    /// Maps a namespace URI to its variant. Comparison is exact, as XML requires: the
    /// `https://` variants from the broken MS doc pages are `Other`.
    pub fn from_uri(uri: &str) -> Ns {
        match uri {
            SOAP_NS => Ns::Soap,
            MESSAGES_NS => Ns::Messages,
            TYPES_NS => Ns::Types,
            ERRORS_NS => Ns::Errors,
            "" => Ns::None,
            other => Ns::Other(other.to_owned()),
        }
    }

    /// The namespace URI (empty for [`Ns::None`]).
    pub fn uri(&self) -> &str {
        match self {
            Ns::Soap => SOAP_NS,
            Ns::Messages => MESSAGES_NS,
            Ns::Types => TYPES_NS,
            Ns::Errors => ERRORS_NS,
            Ns::Other(uri) => uri,
            Ns::None => "",
        }
    }

    /// The conventional prefix used in error messages and by the [`Writer`].
    pub fn conventional_prefix(&self) -> Option<&'static str> {
        match self {
            Ns::Soap => Some("soap"),
            Ns::Messages => Some("m"),
            Ns::Types => Some("t"),
            Ns::Errors => Some("e"),
            Ns::Other(_) | Ns::None => None,
        }
    }
}

/// A qualified name for messages: `t:CalendarItem`, `{urn:x}Foo` or `Foo`.
pub(crate) struct QualifiedName<'a>(pub(crate) &'a Ns, pub(crate) &'a str);

impl fmt::Display for QualifiedName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.conventional_prefix(), self.0) {
            (Some(p), _) => write!(f, "{p}:{}", self.1),
            (None, Ns::Other(uri)) => write!(f, "{{{uri}}}{}", self.1),
            (None, _) => f.write_str(self.1),
        }
    }
}

/// Input limits for [`parse`]. The defaults are far above any real EWS message (the
/// largest sample is a few KiB, a 1000-item FindItem page about 2 MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting (the envelope is depth 1).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// Everything that can go wrong reading EWS XML, each naming what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The input is not well-formed XML (or not UTF-8).
    #[error("{line}:{column}: malformed XML: {message}")]
    Malformed {
        /// 1-based line of the problem.
        line: u32,
        /// 1-based column (in bytes) of the problem.
        column: u32,
        /// What quick-xml reported.
        message: String,
    },
    /// A DOCTYPE was found; it could declare entities, which EWS never uses.
    #[error("{line}:{column}: DOCTYPE and entity declarations are not allowed")]
    Doctype {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
    },
    /// Nesting exceeded [`Limits::max_depth`].
    #[error("{line}:{column}: element nesting deeper than {max} levels")]
    TooDeep {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The limit.
        max: usize,
    },
    /// The input exceeded [`Limits::max_bytes`].
    #[error("input of {size} bytes exceeds the limit of {max} bytes")]
    TooBig {
        /// Input size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The document has no root element.
    #[error("empty document: no root element")]
    Empty,
    /// A required child element is missing.
    #[error("{line}:{column}: {parent}: missing required element {expected}")]
    MissingElement {
        /// The element that should contain it.
        parent: String,
        /// The missing element.
        expected: String,
        /// Position of `parent`.
        line: u32,
        /// Position of `parent`.
        column: u32,
    },
    /// A required attribute is missing.
    #[error("{line}:{column}: {element}: missing required attribute {attr}")]
    MissingAttribute {
        /// The element.
        element: String,
        /// The attribute.
        attr: String,
        /// Position of `element`.
        line: u32,
        /// Position of `element`.
        column: u32,
    },
    /// An element's text or an attribute holds a value that does not parse.
    #[error("{line}:{column}: {element}: invalid value `{value}`: {reason}")]
    InvalidValue {
        /// The element (and attribute, as `Element/@Attr`).
        element: String,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        reason: String,
        /// Position of the element.
        line: u32,
        /// Position of the element.
        column: u32,
    },
    /// An element appeared where another was expected.
    #[error("{line}:{column}: unexpected element {found}, expected {expected}")]
    Unexpected {
        /// What was found.
        found: String,
        /// What was expected.
        expected: String,
        /// Position of the found element.
        line: u32,
        /// Position of the found element.
        column: u32,
    },
    /// The SOAP body holds an element that is not an operation we know.
    #[error("{line}:{column}: unknown EWS operation {name}")]
    UnknownOperation {
        /// The qualified name of the body element.
        name: String,
        /// Position of the element.
        line: u32,
        /// Position of the element.
        column: u32,
    },
}

impl ParseError {
    /// The 1-based (line, column) the error points at, if it has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            ParseError::Malformed { line, column, .. }
            | ParseError::Doctype { line, column }
            | ParseError::TooDeep { line, column, .. }
            | ParseError::MissingElement { line, column, .. }
            | ParseError::MissingAttribute { line, column, .. }
            | ParseError::InvalidValue { line, column, .. }
            | ParseError::Unexpected { line, column, .. }
            | ParseError::UnknownOperation { line, column, .. } => Some((*line, *column)),
            ParseError::TooBig { .. } | ParseError::Empty => None,
        }
    }
}

/// One XML element with its namespace resolved.
///
/// `text` is the concatenation of the element's own character data (entities resolved,
/// CDATA included, whitespace kept); whitespace-only text of an element that has children
/// (indentation) is dropped.
/// Attributes keep their qualified name as written (`Id`, `xml:lang`); namespace
/// declarations are not attributes.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct Element {
    /// The resolved namespace.
    pub ns: Ns,
    /// The local name.
    pub name: String,
    /// Attributes in document order, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// The element's own character data.
    pub text: String,
    /// 1-based line of the start tag (0 for elements built in code).
    pub line: u32,
    /// 1-based column (in bytes) of the start tag (0 for elements built in code).
    pub column: u32,
}

/// Equality ignores `line` and `column`: where an element was read is metadata, so a
/// parsed tree equals the same tree written and parsed again.
impl PartialEq for Element {
    fn eq(&self, other: &Element) -> bool {
        self.ns == other.ns
            && self.name == other.name
            && self.attrs == other.attrs
            && self.text == other.text
            && self.children == other.children
    }
}

impl Element {
    /// A new element without attributes, children or text (position 0:0).
    pub fn new(ns: Ns, name: impl Into<String>) -> Element {
        Element {
            ns,
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
            line: 0,
            column: 0,
        }
    }

    /// Builder: sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> Element {
        self.text = text.into();
        self
    }

    /// Builder: adds an attribute.
    pub fn with_attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Element {
        self.attrs.push((name.into(), value.into()));
        self
    }

    /// Builder: adds a child.
    pub fn with_child(mut self, child: Element) -> Element {
        self.children.push(child);
        self
    }

    /// True if this element is `ns:name`.
    pub fn is(&self, ns: &Ns, name: &str) -> bool {
        self.ns == *ns && self.name == name
    }

    /// The qualified name for messages, e.g. `t:CalendarItem`.
    pub fn qname(&self) -> String {
        QualifiedName(&self.ns, &self.name).to_string()
    }

    /// The first child `ns:name`, if any.
    pub fn child(&self, ns: &Ns, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// All children `ns:name`, in order.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a Ns,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The first child `ns:name`, or an error naming this element and the missing child.
    pub fn required_child(&self, ns: &Ns, name: &str) -> Result<&Element, ParseError> {
        self.child(ns, name)
            .ok_or_else(|| ParseError::MissingElement {
                parent: self.qname(),
                expected: QualifiedName(ns, name).to_string(),
                line: self.line,
                column: self.column,
            })
    }

    /// The trimmed text of the first child `ns:name`, if that child exists.
    pub fn text_of(&self, ns: &Ns, name: &str) -> Option<&str> {
        self.child(ns, name).map(|c| c.text.trim())
    }

    /// The trimmed text of the required child `ns:name`.
    pub fn required_text(&self, ns: &Ns, name: &str) -> Result<&str, ParseError> {
        self.required_child(ns, name).map(|c| c.text.trim())
    }

    /// The element's own text, trimmed of XML whitespace.
    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// The value of attribute `name` (qualified name as written, e.g. `Id`).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a required attribute, or an error naming element and attribute.
    pub fn required_attr(&self, name: &str) -> Result<&str, ParseError> {
        self.attr(name).ok_or_else(|| ParseError::MissingAttribute {
            element: self.qname(),
            attr: name.to_owned(),
            line: self.line,
            column: self.column,
        })
    }

    /// An [`ParseError::InvalidValue`] about this element.
    pub fn invalid(&self, value: &str, reason: impl Into<String>) -> ParseError {
        ParseError::InvalidValue {
            element: self.qname(),
            value: value.to_owned(),
            reason: reason.into(),
            line: self.line,
            column: self.column,
        }
    }

    /// An [`ParseError::InvalidValue`] about attribute `attr` of this element.
    pub fn invalid_attr(&self, attr: &str, value: &str, reason: impl Into<String>) -> ParseError {
        ParseError::InvalidValue {
            element: format!("{}/@{attr}", self.qname()),
            value: value.to_owned(),
            reason: reason.into(),
            line: self.line,
            column: self.column,
        }
    }

    /// An [`ParseError::Unexpected`] saying this element is not what was `expected`.
    pub fn unexpected(&self, expected: impl Into<String>) -> ParseError {
        ParseError::Unexpected {
            found: self.qname(),
            expected: expected.into(),
            line: self.line,
            column: self.column,
        }
    }

    /// Parses the trimmed text with `FromStr`, naming this element on failure.
    pub fn parse_text<T>(&self) -> Result<T, ParseError>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        let text = self.trimmed_text();
        text.parse::<T>()
            .map_err(|e| self.invalid(text, e.to_string()))
    }

    /// Parses the trimmed text of child `ns:name`, if present.
    pub fn parse_child<T>(&self, ns: &Ns, name: &str) -> Result<Option<T>, ParseError>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        self.child(ns, name).map(Element::parse_text).transpose()
    }

    /// Parses the trimmed text of the required child `ns:name`.
    pub fn parse_required_child<T>(&self, ns: &Ns, name: &str) -> Result<T, ParseError>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        self.required_child(ns, name)?.parse_text()
    }

    /// Parses attribute `name` with `FromStr`, if present.
    pub fn parse_attr<T>(&self, name: &str) -> Result<Option<T>, ParseError>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        match self.attr(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<T>()
                .map(Some)
                .map_err(|e| self.invalid_attr(name, v, e.to_string())),
        }
    }

    /// Parses the element's text as an `xs:boolean` (`true`, `false`, `1` or `0`).
    pub fn bool_text(&self) -> Result<bool, ParseError> {
        self.parse_text::<XsBoolean>().map(bool::from)
    }

    /// Parses child `ns:name` as an `xs:boolean`, if present.
    pub fn bool_child(&self, ns: &Ns, name: &str) -> Result<Option<bool>, ParseError> {
        self.child(ns, name).map(Element::bool_text).transpose()
    }

    /// Parses the required child `ns:name` as an `xs:boolean`.
    pub fn required_bool_child(&self, ns: &Ns, name: &str) -> Result<bool, ParseError> {
        self.required_child(ns, name)?.bool_text()
    }

    /// Parses attribute `name` as an `xs:boolean`, if present.
    pub fn bool_attr(&self, name: &str) -> Result<Option<bool>, ParseError> {
        Ok(self.parse_attr::<XsBoolean>(name)?.map(bool::from))
    }

    /// The first child element (in any namespace), if any.
    pub fn first_child(&self) -> Option<&Element> {
        self.children.first()
    }
}

/// Tracks line and column for monotonically increasing byte offsets in O(total length).
struct Positions<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u32,
    line_start: usize,
}

impl<'a> Positions<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Positions {
            bytes,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// (line, column), 1-based. Offsets must not go backwards; if one does (error positions
    /// can), the scan restarts from the beginning, which is still correct.
    fn at(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.bytes.len());
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
            self.line_start = 0;
        }
        let span = &self.bytes[self.offset..offset];
        let newlines = count_newlines(span);
        if newlines > 0 {
            self.line = self
                .line
                .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            if let Some(last) = span.iter().rposition(|b| *b == b'\n') {
                self.line_start = self.offset + last + 1;
            }
        }
        self.offset = offset;
        let column = u32::try_from(offset - self.line_start + 1).unwrap_or(u32::MAX);
        (self.line, column)
    }
}

/// The number of `\n` in `bytes`, eight bytes at a time (this runs over the whole input
/// once per parse).
fn count_newlines(bytes: &[u8]) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut chunks = bytes.chunks_exact(8);
    let mut count = 0;
    for chunk in &mut chunks {
        let mut word = [0_u8; 8];
        word.copy_from_slice(chunk);
        // A byte of `x` is zero exactly where the input holds `\n`; the top bit of each
        // byte of `nonzero` is set exactly where `x` is not zero (no carries between bytes).
        let x = u64::from_le_bytes(word) ^ NEWLINES;
        let nonzero = ((x & LOW7) + LOW7) | x;
        count += (!nonzero & !LOW7).count_ones() as usize;
    }
    count + chunks.remainder().iter().filter(|b| **b == b'\n').count()
}

/// Parses a whole document into its root element.
///
/// Rejects inputs above `limits.max_bytes`, nesting above `limits.max_depth`, any DOCTYPE,
/// unknown entity references, undeclared prefixes, mismatched end tags and non-UTF-8 input.
///
/// Reads with the fast path (`fast`) and, whenever that declines, with quick-xml's
/// namespace-resolving reader, which is the reference: it accepts exactly what this module
/// documents and words every error.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Element, ParseError> {
    let bytes = checked_input(bytes, limits)?;
    if let Some(root) = fast::parse_one(bytes, limits) {
        return Ok(root);
    }
    parse_roots_quick(bytes, limits, false)?
        .into_iter()
        .next()
        .ok_or(ParseError::Empty)
}

/// Parses a sequence of top-level elements, as a captured GetStreamingEvents response holds
/// (one envelope after another). Same checks as [`parse`]; at least one element is
/// required.
pub fn parse_many(bytes: &[u8], limits: &Limits) -> Result<Vec<Element>, ParseError> {
    let bytes = checked_input(bytes, limits)?;
    if let Some(roots) = fast::parse_many(bytes, limits) {
        return Ok(roots);
    }
    let roots = parse_roots_quick(bytes, limits, true)?;
    if roots.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(roots)
}

/// Parses with quick-xml's reference reader alone, never the fast path, returning what
/// [`parse`] (`many == false`, one root) or [`parse_many`] return. For the differential fuzz
/// target (`ews-proto/fuzz/fuzz_targets/parse_paths_agree.rs`); not for other use.
#[doc(hidden)]
pub fn parse_with_reference_reader(
    bytes: &[u8],
    limits: &Limits,
    many: bool,
) -> Result<Vec<Element>, ParseError> {
    let bytes = checked_input(bytes, limits)?;
    let roots = parse_roots_quick(bytes, limits, many)?;
    if roots.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(roots)
}

/// The size check, then the input without a UTF-8 byte order mark (legal before the
/// declaration).
fn checked_input<'a>(bytes: &'a [u8], limits: &Limits) -> Result<&'a [u8], ParseError> {
    if bytes.len() > limits.max_bytes {
        return Err(ParseError::TooBig {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    Ok(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

/// The reference reader over quick-xml's `NsReader` (`bytes` from [`checked_input`]).
fn parse_roots_quick(
    bytes: &[u8],
    limits: &Limits,
    many: bool,
) -> Result<Vec<Element>, ParseError> {
    let mut positions = Positions::new(bytes);
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().check_end_names = true;

    let mut stack: Vec<Element> = Vec::new();
    let mut roots: Vec<Element> = Vec::new();

    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let malformed = |positions: &mut Positions<'_>, offset: u64, message: String| {
            let (line, column) = positions.at(usize::try_from(offset).unwrap_or(usize::MAX));
            ParseError::Malformed {
                line,
                column,
                message,
            }
        };
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (resolved_ns(&resolved), event),
            Err(e) => {
                return Err(malformed(
                    &mut positions,
                    reader.error_position(),
                    e.to_string(),
                ));
            }
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(_) | Event::Empty(_) if !many && stack.is_empty() && !roots.is_empty() => {
                let (line, column) = positions.at(before);
                return Err(ParseError::Malformed {
                    line,
                    column,
                    message: "more than one root element".into(),
                });
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                // The tag starts at the last `<` before its end (`<` cannot appear
                // unescaped inside attribute values).
                let tag_start = bytes[..after.min(bytes.len())]
                    .iter()
                    .rposition(|b| *b == b'<')
                    .unwrap_or(before);
                let (line, column) = positions.at(tag_start);
                if stack.len() >= limits.max_depth {
                    return Err(ParseError::TooDeep {
                        line,
                        column,
                        max: limits.max_depth,
                    });
                }
                let ns = match resolved {
                    Ok(ns) => ns,
                    Err(message) => {
                        return Err(ParseError::Malformed {
                            line,
                            column,
                            message,
                        });
                    }
                };
                let element = start_element(&reader, start, ns, line, column)?;
                if matches!(event, Event::Empty(_)) {
                    close(element, &mut stack, &mut roots);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match; a stray end tag is its error.
                if let Some(element) = stack.pop() {
                    close(element, &mut stack, &mut roots);
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&content);
                } else if !content.trim().is_empty() {
                    let (line, column) = positions.at(before);
                    return Err(ParseError::Malformed {
                        line,
                        column,
                        message: "text outside the root element".into(),
                    });
                }
            }
            Event::CData(cdata) => {
                let content = cdata.xml10_content();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&content);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved: Cow<'_, str> = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => Cow::Borrowed(s),
                            None => {
                                let (line, column) = positions.at(before);
                                return Err(ParseError::Malformed {
                                    line,
                                    column,
                                    message: format!("unknown entity `&{name};`"),
                                });
                            }
                        }
                    }
                    Err(e) => {
                        let (line, column) = positions.at(before);
                        return Err(ParseError::Malformed {
                            line,
                            column,
                            message: e.to_string(),
                        });
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => {
                let (line, column) = positions.at(before);
                return Err(ParseError::Doctype { line, column });
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(ParseError::Malformed {
            line: open.line,
            column: open.column,
            message: format!("element {} is never closed", open.qname()),
        });
    }
    Ok(roots)
}

/// Resolves the namespace of an element; `Err(message)` for an undeclared prefix or a
/// namespace value with a bad reference.
fn resolved_ns(resolved: &ResolveResult<'_>) -> Result<Ns, String> {
    match resolved {
        ResolveResult::Bound(ns) => ns_from_raw(ns.as_ref()),
        ResolveResult::Unbound => Ok(Ns::None),
        ResolveResult::Unknown(prefix) => Err(format!("undeclared namespace prefix `{prefix}`")),
    }
}

/// The namespace a declaration's raw value names; `Err(message)` for the xmlns namespace
/// or a bad reference.
///
/// The declaration's value is an attribute value, so it is normalised the same way
/// (literal tab, CR and LF become spaces, then references are resolved). Otherwise
/// `xmlns:x="a&amp;b"` would not compare equal to the same namespace written back by
/// [`Writer`].
fn ns_from_raw(raw: &str) -> Result<Ns, String> {
    if raw == XMLNS_NS {
        return Err("elements may not be in the xmlns namespace".into());
    }
    // Byte test, not a `char` pattern: this runs for every element and the
    // UTF-8-decoding scan was a quarter of all parsing time.
    if !raw
        .bytes()
        .any(|b| matches!(b, b'&' | b'\t' | b'\r' | b'\n'))
    {
        return Ok(Ns::from_uri(raw));
    }
    let spaced = raw.replace(['\t', '\r', '\n'], " ");
    let uri = quick_xml::escape::unescape(&spaced)
        .map_err(|e| format!("bad namespace value `{raw}`: {e}"))?;
    Ok(Ns::from_uri(&uri))
}

fn start_element(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    ns: Ns,
    line: u32,
    column: u32,
) -> Result<Element, ParseError> {
    let _ = reader;
    let name = start.local_name().as_ref().to_owned();
    if name.is_empty() {
        return Err(ParseError::Malformed {
            line,
            column,
            message: "element without a name".into(),
        });
    }
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| ParseError::Malformed {
            line,
            column,
            message: format!("bad attribute: {e}"),
        })?;
        let key = attr.key.as_ref().to_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| ParseError::Malformed {
                line,
                column,
                message: format!("bad value of attribute `{key}`: {e}"),
            })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
        column,
    })
}

fn close(mut element: Element, stack: &mut [Element], roots: &mut Vec<Element>) {
    // Indentation between child elements is not content.
    if !element.children.is_empty() && element.text.trim().is_empty() {
        element.text.clear();
    }
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => roots.push(element),
    }
}

/// Writes EWS XML with Exchange's prefixes: `s:` (or `soap:`) for the envelope, `m:` for
/// messages, `t:` for types, `e:` for errors.
///
/// A prefix is declared on the first element that needs it and stays in scope for its
/// descendants, so a fragment written on its own is still namespace-complete. The output
/// starts with the UTF-8 XML declaration the EWS Managed API requires (EWS.md §1.3).
///
/// It writes straight into one pre-sized buffer and allocates nothing per element for the
/// EWS namespaces: an open element remembers where its qualified name sits in the output and
/// the end tag copies it from there (this is the mock's per-request hot path; see
/// mock-ews/README.md "Figures").
#[derive(Debug)]
pub struct Writer {
    /// Always valid UTF-8: only `&str` pieces and ASCII are appended.
    out: Vec<u8>,
    soap_prefix: &'static str,
    /// Open elements, innermost last.
    open: Vec<Open>,
    /// The namespaces declared by open elements, outermost first; each [`Open`] remembers
    /// how long this was before it, and its end truncates back.
    declared: Vec<Ns>,
    /// Which of the four EWS namespaces are declared by an open element (bit per
    /// [`known_bit`]), so the common case needs no walk up the open elements.
    known_in_scope: u8,
    /// Whether the last start tag is still open (`<a` written without `>`).
    tag_open: bool,
    other_count: usize,
    other_prefixes: Vec<(String, String)>,
}

/// An open element: where its qualified name is in the output, and what to restore when it
/// closes. Small and allocation-free: a response opens one per element.
#[derive(Debug)]
struct Open {
    /// Where the qualified name starts in the output.
    qname_start: usize,
    /// Its length in bytes.
    qname_len: u32,
    /// `Writer::declared.len()` before this element.
    declared_before: u32,
    /// `Writer::known_in_scope` before this element.
    known_before: u8,
}

/// The scope bit of an EWS namespace; `None` for the others, which are looked up.
fn known_bit(ns: &Ns) -> Option<u8> {
    match ns {
        Ns::Soap => Some(1),
        Ns::Messages => Some(2),
        Ns::Types => Some(4),
        Ns::Errors => Some(8),
        Ns::Other(_) | Ns::None => None,
    }
}

/// Initial output capacity: a typical response (a 20-item CalendarView is ~8 KB) fits
/// without regrowing.
const INITIAL_CAPACITY: usize = 16 * 1024;

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    /// A writer using Exchange's `s:` prefix for the envelope (as servers write).
    pub fn new() -> Writer {
        Writer::with_soap_prefix("s")
    }

    /// A writer with the given SOAP prefix (`soap` is what clients write).
    pub fn with_soap_prefix(soap_prefix: &'static str) -> Writer {
        let mut w = Writer::fragment_with_soap_prefix(soap_prefix);
        w.out
            .extend_from_slice(br#"<?xml version="1.0" encoding="utf-8"?>"#);
        w
    }

    /// The prefix this writer uses for the SOAP envelope namespace.
    pub fn soap_prefix(&self) -> &'static str {
        self.soap_prefix
    }

    /// A writer for a fragment: no XML declaration. Used by tests and snapshots.
    pub fn fragment() -> Writer {
        Writer::fragment_with_soap_prefix("s")
    }

    /// A fragment writer with the given SOAP prefix.
    pub fn fragment_with_soap_prefix(soap_prefix: &'static str) -> Writer {
        Writer {
            out: Vec::with_capacity(INITIAL_CAPACITY),
            soap_prefix,
            open: Vec::with_capacity(16),
            declared: Vec::new(),
            known_in_scope: 0,
            tag_open: false,
            other_count: 0,
            other_prefixes: Vec::new(),
        }
    }

    /// The prefix for `ns`; borrowed for every namespace but the rare `Ns::Other`.
    fn prefix(&mut self, ns: &Ns) -> Option<Cow<'static, str>> {
        match ns {
            Ns::Soap => Some(Cow::Borrowed(self.soap_prefix)),
            Ns::Messages => Some(Cow::Borrowed("m")),
            Ns::Types => Some(Cow::Borrowed("t")),
            Ns::Errors => Some(Cow::Borrowed("e")),
            Ns::None => None,
            Ns::Other(uri) if uri == XML_NS => Some(Cow::Borrowed("xml")),
            Ns::Other(uri) => {
                if let Some((_, p)) = self.other_prefixes.iter().find(|(u, _)| u == uri) {
                    return Some(Cow::Owned(p.clone()));
                }
                let p = format!("ns{}", self.other_count);
                self.other_count += 1;
                self.other_prefixes.push((uri.clone(), p.clone()));
                Some(Cow::Owned(p))
            }
        }
    }

    fn in_scope(&self, ns: &Ns) -> bool {
        match known_bit(ns) {
            Some(bit) => self.known_in_scope & bit != 0,
            None => matches!(ns, Ns::Other(uri) if uri == XML_NS) || self.declared.contains(ns),
        }
    }

    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    fn close_tag(&mut self) {
        if self.tag_open {
            self.out.push(b'>');
            self.tag_open = false;
        }
    }

    /// Opens `ns:name` with attributes, declaring `ns` and every namespace in `declare`
    /// that is not yet in scope.
    pub fn start_declaring(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)], declare: &[Ns]) {
        self.close_tag();
        let known_before = self.known_in_scope;
        let declared_before = self.declared.len();
        // Nearly every element: `m:`, `t:` or `e:` already declared by an ancestor and
        // nothing new to declare; one copy of `<t:` and one of the name.
        let lead = if declare.is_empty() {
            self.declared_lead(ns)
        } else {
            None
        };
        let qname_start = self.out.len() + 1;
        let qname_len = match lead {
            Some(lead) => {
                self.out.reserve(lead.len() + name.len());
                self.out.extend_from_slice(lead);
                self.out.extend_from_slice(name.as_bytes());
                self.out.len() - qname_start
            }
            _ => {
                let prefix = self.prefix(ns);
                self.out.push(b'<');
                if let Some(p) = &prefix {
                    self.out.extend_from_slice(p.as_bytes());
                    self.out.push(b':');
                }
                self.out.extend_from_slice(name.as_bytes());
                let len = self.out.len() - qname_start;
                self.declare(ns, declare, declared_before);
                len
            }
        };
        self.attributes(attrs);
        self.tag_open = true;
        self.open.push(Open {
            qname_start,
            qname_len: u32::try_from(qname_len).unwrap_or(u32::MAX),
            declared_before: u32::try_from(declared_before).unwrap_or(u32::MAX),
            known_before,
        });
    }

    /// Writes ` xmlns:p="uri"` for `ns` and each of `declare` not yet in scope, and records
    /// them as declared by the element being opened.
    fn declare(&mut self, ns: &Ns, declare: &[Ns], declared_before: usize) {
        for d in std::iter::once(ns).chain(declare.iter()) {
            if matches!(d, Ns::None)
                || self.in_scope(d)
                || self.declared[declared_before..].contains(d)
            {
                continue;
            }
            if let Some(p) = self.prefix(d) {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(p.as_bytes());
                self.out.extend_from_slice(b"=\"");
                escape_into(&mut self.out, d.uri(), true);
                self.out.push(b'"');
                self.declared.push(d.clone());
                if let Some(bit) = known_bit(d) {
                    self.known_in_scope |= bit;
                }
            }
        }
    }

    /// Writes ` k="v"` for each attribute, values escaped.
    #[inline(always)]
    fn attributes(&mut self, attrs: &[(&str, &str)]) {
        for (k, v) in attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(k.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_into(&mut self.out, v, true);
            self.out.push(b'"');
        }
    }

    /// Opens `ns:name` with attributes.
    pub fn start(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) {
        self.start_declaring(ns, name, attrs, &[]);
    }

    /// Writes escaped text into the current element.
    pub fn text(&mut self, text: &str) {
        self.close_tag();
        escape_into(&mut self.out, text, false);
    }

    /// Writes a value's `Display` form, escaped, into the current element without building
    /// an intermediate `String`.
    pub fn text_display(&mut self, value: &dyn fmt::Display) {
        use fmt::Write as _;
        // Writing into a Vec cannot fail; a failing Display impl leaves what it wrote.
        let _ = write!(EscapingText(self), "{value}");
    }

    /// Writes `<ns:name>value</ns:name>` for an [`XmlText`] value.
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    pub fn leaf_value<T: XmlText + ?Sized>(&mut self, ns: &Ns, name: &str, value: &T) {
        match self.declared_lead(ns) {
            Some(lead) => {
                self.open_leaf(lead, name, &[]);
                value.write_text(self);
                self.close_leaf(lead, name);
            }
            None => {
                self.start(ns, name, &[]);
                value.write_text(self);
                self.end();
            }
        }
    }

    /// `<m:`, `<t:` or `<e:` when that namespace is already declared here: a leaf element
    /// in it can then be written without an entry on the open-element stack (most of a
    /// response is such leaves).
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    fn declared_lead(&self, ns: &Ns) -> Option<&'static [u8]> {
        let (lead, bit): (&'static [u8], u8) = match ns {
            Ns::Messages => (b"<m:", 2),
            Ns::Types => (b"<t:", 4),
            Ns::Errors => (b"<e:", 8),
            _ => return None,
        };
        (self.known_in_scope & bit != 0).then_some(lead)
    }

    /// Opens a leaf's start tag (`<t:name attrs`), left open so empty content gives `/>`.
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    fn open_leaf(&mut self, lead: &[u8], name: &str, attrs: &[(&str, &str)]) {
        self.close_tag();
        self.out.reserve(2 * (lead.len() + name.len()) + 3);
        self.out.extend_from_slice(lead);
        self.out.extend_from_slice(name.as_bytes());
        self.attributes(attrs);
        self.tag_open = true;
    }

    /// Closes a leaf opened by [`Writer::open_leaf`].
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    fn close_leaf(&mut self, lead: &[u8], name: &str) {
        if self.tag_open {
            self.out.extend_from_slice(b"/>");
            self.tag_open = false;
        } else {
            self.out.extend_from_slice(b"</");
            self.out.extend_from_slice(&lead[1..]);
            self.out.extend_from_slice(name.as_bytes());
            self.out.push(b'>');
        }
    }

    /// Appends ASCII text that needs no escaping: digits, `true`, an enum's wire name, a
    /// formatted date-time ([`XmlText`] values).
    #[inline(always)]
    pub(crate) fn ascii(&mut self, text: &[u8]) {
        debug_assert!(
            text.iter()
                .all(|b| b.is_ascii() && ESCAPED[usize::from(*b)] == 0)
        );
        self.close_tag();
        self.out.extend_from_slice(text);
    }

    /// Closes the innermost open element (as `<x/>` if it got no content).
    pub fn end(&mut self) {
        if let Some(open) = self.open.pop() {
            self.known_in_scope = open.known_before;
            self.declared
                .truncate(usize::try_from(open.declared_before).unwrap_or(usize::MAX));
            if self.tag_open {
                self.out.extend_from_slice(b"/>");
                self.tag_open = false;
            } else {
                let len = usize::try_from(open.qname_len).unwrap_or(0);
                self.out.reserve(len + 3);
                self.out.extend_from_slice(b"</");
                self.out
                    .extend_from_within(open.qname_start..open.qname_start + len);
                self.out.push(b'>');
            }
        }
    }

    /// Writes `<ns:name>text</ns:name>`.
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    pub fn leaf(&mut self, ns: &Ns, name: &str, text: &str) {
        self.leaf_with_attrs(ns, name, &[], text);
    }

    /// Writes `<ns:name>value</ns:name>` from the value's `Display` form (`<ns:name/>` if
    /// it is empty), without an intermediate `String`.
    pub fn leaf_display(&mut self, ns: &Ns, name: &str, value: &dyn fmt::Display) {
        self.start(ns, name, &[]);
        self.text_display(value);
        self.end();
    }

    /// Writes `<ns:name attrs>text</ns:name>`.
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    pub fn leaf_with_attrs(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)], text: &str) {
        match self.declared_lead(ns) {
            Some(lead) => {
                self.open_leaf(lead, name, attrs);
                if !text.is_empty() {
                    self.text(text);
                }
                self.close_leaf(lead, name);
            }
            None => {
                self.start(ns, name, attrs);
                if !text.is_empty() {
                    self.text(text);
                }
                self.end();
            }
        }
    }

    /// Writes `<ns:name>text</ns:name>` if `text` is `Some`.
    pub fn opt_leaf(&mut self, ns: &Ns, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(ns, name, text);
        }
    }

    /// Writes `<ns:name attrs/>`.
    // Inlined so a literal name's length is known and its copy needs no memcpy call.
    #[inline(always)]
    pub fn empty(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) {
        match self.declared_lead(ns) {
            Some(lead) => {
                self.open_leaf(lead, name, attrs);
                self.close_leaf(lead, name);
            }
            None => {
                self.start(ns, name, attrs);
                self.end();
            }
        }
    }

    /// Writes a whole element tree (used for parts kept as data, such as `MessageXml`).
    pub fn element(&mut self, element: &Element) {
        let attrs: Vec<(&str, &str)> = element
            .attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.start(&element.ns, &element.name, &attrs);
        if !element.text.is_empty()
            && (element.children.is_empty() || !element.text.trim().is_empty())
        {
            self.text(&element.text);
        }
        for child in &element.children {
            self.element(child);
        }
        self.end();
    }

    /// Closes every open element and returns the document.
    pub fn into_bytes(mut self) -> Vec<u8> {
        while !self.open.is_empty() {
            self.end();
        }
        self.out
    }

    /// Closes every open element and returns the document as a string.
    pub fn into_string(self) -> String {
        // Only `&str` pieces and ASCII were appended, so this never takes the lossy branch.
        String::from_utf8(self.into_bytes())
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// A value with an XML text form the [`Writer`] can write directly (see
/// [`Writer::leaf_value`]); the same text as its `Display` form, where it has one.
pub trait XmlText {
    /// Writes the text, escaped, into the writer's current element; an empty text leaves
    /// the element empty (`<x/>`).
    fn write_text(&self, w: &mut Writer);
}

impl XmlText for str {
    fn write_text(&self, w: &mut Writer) {
        if !self.is_empty() {
            w.text(self);
        }
    }
}

impl XmlText for String {
    fn write_text(&self, w: &mut Writer) {
        self.as_str().write_text(w);
    }
}

impl XmlText for bool {
    fn write_text(&self, w: &mut Writer) {
        w.ascii(if *self { b"true" } else { b"false" });
    }
}

macro_rules! xml_text_unsigned {
    ($($t:ty),*) => {$(
        impl XmlText for $t {
            fn write_text(&self, w: &mut Writer) {
                let mut buf = [0_u8; 20];
                let mut i = buf.len();
                let mut n = *self;
                loop {
                    i -= 1;
                    // `n % 10` is below 10, so the cast keeps it.
                    buf[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                w.ascii(&buf[i..]);
            }
        }
    )*};
}
xml_text_unsigned!(u8, u16, u32, u64, usize);

macro_rules! xml_text_signed {
    ($($t:ty),*) => {$(
        impl XmlText for $t {
            fn write_text(&self, w: &mut Writer) {
                if *self < 0 {
                    w.ascii(b"-");
                }
                self.unsigned_abs().write_text(w);
            }
        }
    )*};
}
xml_text_signed!(i8, i16, i32, i64, isize);

impl<T: XmlText + ?Sized> XmlText for &T {
    fn write_text(&self, w: &mut Writer) {
        (**self).write_text(w);
    }
}

/// `fmt::Write` into a [`Writer`]'s current element, escaping as [`Writer::text`] does; the
/// start tag is closed only when something is written, so an empty value gives `<x/>`.
struct EscapingText<'a>(&'a mut Writer);

impl fmt::Write for EscapingText<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !s.is_empty() {
            self.0.close_tag();
            escape_into(&mut self.0.out, s, false);
        }
        Ok(())
    }
}

/// Bytes [`escape_into`] may replace: 1 in text and attributes, 2 in attributes only.
const ESCAPED: [u8; 256] = {
    let mut t = [0_u8; 256];
    t[b'&' as usize] = 1;
    t[b'<' as usize] = 1;
    t[b'>' as usize] = 1;
    t[b'\r' as usize] = 1;
    t[b'"' as usize] = 2;
    t[b'\'' as usize] = 2;
    t[b'\n' as usize] = 2;
    t[b'\t' as usize] = 2;
    t
};

/// Escapes `&`, `<`, `>` (and quotes in attributes); `\r` and, in attributes, tabs and
/// newlines become character references so they survive the parser's normalisation.
///
/// Copies runs of ordinary bytes at once: every byte that needs escaping is ASCII, so a
/// UTF-8 sequence is never split.
fn escape_into(out: &mut Vec<u8>, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    // Most values need no escaping at all.
    if !bytes.iter().any(|b| ESCAPED[usize::from(*b)] != 0) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut run = 0;
    for (i, b) in bytes.iter().enumerate() {
        let replacement: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' if attr => b"&quot;",
            b'\'' if attr => b"&apos;",
            b'\r' => b"&#xD;",
            b'\n' if attr => b"&#xA;",
            b'\t' if attr => b"&#x9;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(replacement);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element, ParseError> {
        parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn values_and_leaves_write_as_exchange_does() {
        let mut w = Writer::fragment();
        w.start_declaring(&Ns::Messages, "Root", &[], &[Ns::Types]);
        w.start(&Ns::Types, "Item", &[("Id", "a&b")]);
        w.leaf_value(&Ns::Types, "Size", &406_u64);
        w.leaf_value(&Ns::Types, "Delta", &-15_i32);
        w.leaf_value(&Ns::Types, "Flag", &true);
        w.leaf_value(&Ns::Types, "Empty", "");
        w.leaf(&Ns::Types, "Text", "x<y");
        w.empty(&Ns::Types, "Ref", &[("Id", "\"q\"")]);
        w.end();
        // A leaf in a namespace not yet declared declares it.
        w.leaf_value(&Ns::Errors, "Code", &7_u8);
        let text = w.into_string();
        assert_eq!(
            text,
            concat!(
                r#"<m:Root xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" "#,
                r#"xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">"#,
                r#"<t:Item Id="a&amp;b"><t:Size>406</t:Size><t:Delta>-15</t:Delta>"#,
                r#"<t:Flag>true</t:Flag><t:Empty/><t:Text>x&lt;y</t:Text><t:Ref Id="&quot;q&quot;"/></t:Item>"#,
                r#"<e:Code xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">7</e:Code></m:Root>"#
            )
        );
    }

    #[test]
    fn resolves_namespaces_not_prefixes() {
        let a = p(r#"<x:A xmlns:x="http://schemas.microsoft.com/exchange/services/2006/types"><x:B>1</x:B></x:A>"#).unwrap();
        let b = p(
            r#"<A xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><B>1</B></A>"#,
        )
        .unwrap();
        assert_eq!(a.ns, Ns::Types);
        assert_eq!(b.ns, Ns::Types);
        assert_eq!(a.text_of(&Ns::Types, "B"), Some("1"));
        assert_eq!(b.text_of(&Ns::Types, "B"), Some("1"));
    }

    #[test]
    fn prefixes_rebind_in_children_and_default_namespaces_undeclare() {
        let t = "http://schemas.microsoft.com/exchange/services/2006/types";
        let e = p(&format!(
            "<p:A xmlns:p=\"{t}\"><p:B xmlns:p=\"urn:x\"><p:C/></p:B><p:D/></p:A>"
        ))
        .unwrap();
        assert_eq!(e.ns, Ns::Types);
        assert_eq!(e.children[0].ns, Ns::Other("urn:x".into()));
        assert_eq!(e.children[0].children[0].ns, Ns::Other("urn:x".into()));
        assert_eq!(
            e.children[1].ns,
            Ns::Types,
            "the rebinding ends with its element"
        );

        let e = p(&format!("<A xmlns=\"{t}\"><B xmlns=\"\"><C/></B><D/></A>")).unwrap();
        assert_eq!(e.children[0].ns, Ns::None);
        assert_eq!(e.children[0].children[0].ns, Ns::None);
        assert_eq!(e.children[1].ns, Ns::Types);

        // `xmlns:p=""` leaves `p` undeclared, so using it is an error.
        let err = p("<a xmlns:p=\"urn:x\"><b xmlns:p=\"\"><p:c/></b></a>").unwrap_err();
        assert!(
            err.to_string().contains("undeclared namespace prefix `p`"),
            "{err}"
        );
    }

    #[test]
    fn attributes_keep_their_prefix_as_written() {
        let e = p("<a xmlns:q=\"urn:q\" q:b=\"1\" xml:lang=\"en\" u:c=\"2\"/>").unwrap();
        assert_eq!(
            e.attrs,
            [
                ("q:b".to_owned(), "1".to_owned()),
                ("xml:lang".to_owned(), "en".to_owned()),
                ("u:c".to_owned(), "2".to_owned())
            ]
        );
        let err = p("<a b=\"1\" b=\"2\"/>").unwrap_err();
        assert!(err.to_string().contains("duplicated attribute"), "{err}");
    }

    #[test]
    fn newlines_are_counted_across_word_boundaries() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { 0x8a })
                .collect();
            let naive = bytes.iter().filter(|b| **b == b'\n').count();
            assert_eq!(count_newlines(&bytes), naive, "length {len}");
        }
        let e = p("<a>\r\n\n<b\n c=\"1\"/>\n  \n\n        <d/></a>").unwrap();
        assert_eq!((e.children[0].line, e.children[0].column), (3, 1));
        assert_eq!((e.children[1].line, e.children[1].column), (7, 9));
    }

    #[test]
    fn https_namespace_is_not_the_soap_namespace() {
        let e = p(r#"<s:Envelope xmlns:s="https://schemas.xmlsoap.org/soap/envelope/"/>"#).unwrap();
        assert_eq!(
            e.ns,
            Ns::Other("https://schemas.xmlsoap.org/soap/envelope/".into())
        );
    }

    #[test]
    fn reports_line_and_column_of_elements_and_errors() {
        let e = p("<a>\n  <b x=\"1\"/>\n</a>").unwrap();
        assert_eq!((e.line, e.column), (1, 1));
        assert_eq!((e.children[0].line, e.children[0].column), (2, 3));
        let err = p("<a>\n  <b>\n</a>").unwrap_err();
        assert!(
            matches!(err, ParseError::Malformed { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn rejects_doctype_and_unknown_entities() {
        let err =
            p("<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>").unwrap_err();
        assert_eq!(err, ParseError::Doctype { line: 2, column: 1 });
        let err = p("<a>&x;</a>").unwrap_err();
        assert!(err.to_string().contains("unknown entity `&x;`"), "{err}");
    }

    #[test]
    fn resolves_predefined_and_character_references() {
        let e = p("<a b=\"&lt;&amp;&quot;\">x &amp; &#65;&#x42; &lt;</a>").unwrap();
        assert_eq!(e.text, "x & AB <");
        assert_eq!(e.attr("b"), Some("<&\""));
    }

    #[test]
    fn enforces_depth_and_size_limits() {
        let deep = "<a>".repeat(5) + &"</a>".repeat(5);
        let limits = Limits {
            max_bytes: 1000,
            max_depth: 4,
        };
        let err = parse(deep.as_bytes(), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::TooDeep {
                    max: 4,
                    line: 1,
                    column: 13
                }
            ),
            "{err}"
        );
        let limits = Limits {
            max_bytes: 10,
            max_depth: 64,
        };
        let err = parse(deep.as_bytes(), &limits).unwrap_err();
        assert_eq!(err, ParseError::TooBig { size: 35, max: 10 });
    }

    #[test]
    fn rejects_undeclared_prefix_and_trailing_garbage() {
        assert!(
            p("<q:a/>")
                .unwrap_err()
                .to_string()
                .contains("undeclared namespace prefix `q`")
        );
        assert!(p("<a/><b/>").is_err());
        assert!(p("<a/>text").is_err());
        assert_eq!(p("").unwrap_err(), ParseError::Empty);
        assert!(p("<a>").is_err());
        assert!(p("\u{feff}<a/>").is_ok());
    }

    #[test]
    fn namespace_values_are_normalised_like_attributes() {
        // Found by the fuzz target: a raw CR in a namespace value, written back as `&#xD;`.
        let src = "<x:a xmlns:x=\"urn:a&amp;b\r\nc&#xD;\"><x:b/></x:a>";
        let tree = p(src).unwrap();
        assert_eq!(tree.ns, Ns::Other("urn:a&b  c\r".into()));
        let mut w = Writer::fragment();
        w.element(&tree);
        assert_eq!(p(&w.into_string()).unwrap(), tree);
        assert!(
            p("<x:a xmlns:x=\"urn:&bogus;\"/>")
                .unwrap_err()
                .to_string()
                .contains("bad namespace value")
        );
    }

    #[test]
    fn reserved_xml_prefixes_round_trip_or_are_rejected() {
        // Found by the fuzz target: `<xml:x/>` was written with a declared `ns0` prefix,
        // which may not be bound to the XML namespace.
        let tree = p("<a><xml:x xml:lang=\"en\"/></a>").unwrap();
        let mut w = Writer::fragment();
        w.element(&tree);
        let s = w.into_string();
        assert_eq!(s, "<a><xml:x xml:lang=\"en\"/></a>");
        assert_eq!(p(&s).unwrap(), tree);
        let err = p("<xmlns:x/>").unwrap_err();
        assert!(matches!(err, ParseError::Malformed { .. }), "{err}");
    }

    #[test]
    fn elements_need_a_name() {
        // Found by the fuzz target: `<t:/>` parsed with an empty name and was written as `</>`.
        let err = p("<a xmlns:t=\"urn:x\"><t:/></a>").unwrap_err();
        assert!(err.to_string().contains("element without a name"), "{err}");
        assert!(p("<a></></a>").is_err());
    }

    #[test]
    fn parse_many_reads_consecutive_roots() {
        let roots = parse_many(b"<a/>\n<b>x</b><c/>", &Limits::default()).unwrap();
        let names: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!((roots[1].line, roots[1].column), (2, 1));
        assert_eq!(
            parse_many(b"  ", &Limits::default()).unwrap_err(),
            ParseError::Empty
        );
        assert!(parse_many(b"<a/><b>", &Limits::default()).is_err());
    }

    #[test]
    fn required_child_names_parent_and_position() {
        let e =
            p("<r xmlns=\"http://schemas.microsoft.com/exchange/services/2006/types\">\n<a/></r>")
                .unwrap();
        let err = e.required_child(&Ns::Types, "Start").unwrap_err();
        assert_eq!(
            err.to_string(),
            "1:1: t:r: missing required element t:Start"
        );
    }

    #[test]
    fn writer_declares_prefixes_once_and_escapes() {
        let mut w = Writer::fragment();
        w.start_declaring(&Ns::Messages, "Op", &[("A", "x\"<&")], &[Ns::Types]);
        w.leaf(&Ns::Types, "Subject", "a < b & c");
        w.empty(&Ns::Types, "ItemId", &[("Id", "1")]);
        w.start(&Ns::Other("urn:x".into()), "Ext", &[]);
        w.end();
        let s = w.into_string();
        assert_eq!(
            s,
            "<m:Op xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" \
             xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" A=\"x&quot;&lt;&amp;\">\
             <t:Subject>a &lt; b &amp; c</t:Subject><t:ItemId Id=\"1\"/><ns0:Ext xmlns:ns0=\"urn:x\"/></m:Op>"
        );
    }

    #[test]
    fn display_leaves_escape_and_collapse_when_empty() {
        struct Parts;
        impl fmt::Display for Parts {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a<")?;
                f.write_str("")?;
                let one = 1;
                write!(f, "{one}&\ré")
            }
        }
        let mut w = Writer::fragment();
        w.start(&Ns::Types, "R", &[]);
        w.leaf_display(&Ns::Types, "A", &Parts);
        w.leaf_display(&Ns::Types, "B", &"");
        w.leaf_display(&Ns::Types, "C", &42_u32);
        w.end();
        assert_eq!(
            w.into_string(),
            "<t:R xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\">\
             <t:A>a&lt;1&amp;&#xD;é</t:A><t:B/><t:C>42</t:C></t:R>"
        );
    }

    #[test]
    fn escaping_copies_runs_and_keeps_multibyte_text() {
        let mut out = Vec::new();
        escape_into(&mut out, "ü<a>\"'\t\n\r&日本", true);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ü&lt;a&gt;&quot;&apos;&#x9;&#xA;&#xD;&amp;日本"
        );
        let mut out = Vec::new();
        escape_into(&mut out, "\"'\t\n", false);
        assert_eq!(String::from_utf8(out).unwrap(), "\"'\t\n");
    }

    #[test]
    fn a_declaration_goes_out_of_scope_with_its_element() {
        let mut w = Writer::fragment();
        w.start(&Ns::None, "root", &[]);
        w.start(&Ns::Types, "A", &[]);
        w.empty(&Ns::Types, "Inner", &[]);
        w.end();
        w.empty(&Ns::Types, "B", &[]);
        let s = w.into_string();
        let t = "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"";
        assert_eq!(
            s,
            format!("<root><t:A {t}><t:Inner/></t:A><t:B {t}/></root>")
        );
        assert!(p(&s).is_ok());
    }

    #[test]
    fn end_tags_repeat_the_start_tag_name_at_any_depth() {
        let mut w = Writer::fragment();
        w.start_declaring(&Ns::Soap, "Envelope", &[], &[Ns::Messages]);
        w.start(&Ns::Messages, "Outer", &[]);
        w.start(&Ns::Other("urn:x".into()), "Deep", &[]);
        w.text("x");
        w.end();
        w.start(&Ns::None, "plain", &[]);
        w.text("y");
        let s = w.into_string();
        assert!(
            s.ends_with(
                "<ns0:Deep xmlns:ns0=\"urn:x\">x</ns0:Deep><plain>y</plain></m:Outer></s:Envelope>"
            ),
            "{s}"
        );
    }

    #[test]
    fn written_tree_parses_back_to_the_same_tree() {
        let src = "<m:A xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" \
                   xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\">\
                   <t:B k=\"v&#10;w\">x\r\ny &amp; z</t:B><t:C/></m:A>";
        let tree = p(src).unwrap();
        let mut w = Writer::fragment();
        w.element(&tree);
        let again = p(&w.into_string()).unwrap();
        assert_eq!(strip(tree), strip(again));
    }

    fn strip(mut e: Element) -> Element {
        e.line = 0;
        e.column = 0;
        e.children = e.children.into_iter().map(strip).collect();
        e
    }
}
