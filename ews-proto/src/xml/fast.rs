//! The fast path of [`super::parse`]: a hand-written reader for the XML that EWS peers
//! actually send, which answers "I do not know" for everything else.
//!
//! Why: the mock parses every request, and through quick-xml's `NsReader` (event enum,
//! namespace resolver, attribute iterator run twice, per-tag position scans) a 1.2 KB
//! CalendarView request cost about 100,000 instructions, more than half the budget of the
//! whole request. This reader walks the bytes once, resolves the few namespace bindings with
//! borrowed slices and builds the tree with as few allocations as the public [`Element`]
//! allows.
//!
//! **Contract:** [`parse_roots`] returns `Some(roots)` only if the quick-xml path
//! (`super::parse_roots_quick`) would return `Ok` with an equal tree, line and column
//! included. For anything it does not fully understand (comments, CDATA, DOCTYPE,
//! processing instructions inside the root, unusual names or attribute syntax, mixed
//! content, binding rules, limits) and for every error it returns `None`, and the caller
//! parses again with quick-xml. So every error message and position still comes from one
//! place, and the fast path only has to be right about well-formed input. The differential
//! tests at the end of this file pin the contract on the samples, reshaped and mutated
//! variants of them, and hand-written edge cases.
//!
//! It mirrors what quick-xml 0.42 accepts, not what the XML spec says: for example
//! `check_end_names` with trailing whitespace trimmed in end tags, `&name;` resolution
//! through quick-xml's own functions, XML 1.0 end-of-line and attribute-value
//! normalisation through quick-xml's own functions.

use std::borrow::Cow;
use std::cell::RefCell;

use quick_xml::events::BytesRef;
use quick_xml::events::attributes::Attribute;
use quick_xml::name::QName;

use super::{Element, Limits, Ns, XML_NS, XMLNS_NS, ns_from_raw};

/// quick-xml's `DEFAULT_MAX_NAMESPACE_BINDINGS`: more user bindings in scope is its error.
const MAX_BINDINGS: usize = 128;
/// quick-xml counts nesting in a `u16`; deeper is its error.
const MAX_NESTING: usize = u16::MAX as usize;
/// Attributes per element handled here (duplicate check on a fixed array); more go the slow
/// way.
const MAX_ATTRS: usize = 16;

/// Byte classes, one table lookup per byte.
const NAME: u8 = 1;
const SPACE: u8 = 2;
const TEXT_STOP: u8 = 4;
/// Bytes an attribute value may not hold on the fast path: `<` (quick-xml reports tag
/// positions at the last `<` before the tag end, so it would disagree), and the bytes that
/// need normalisation (handled, but not in the plain copy).
const VALUE_SPECIAL: u8 = 8;
const VALUE_NORMALISE: u8 = 16;

const CLASS: [u8; 256] = {
    let mut t = [0_u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':') || c >= 0x80 {
            t[b] |= NAME;
        }
        b += 1;
    }
    t[b' ' as usize] |= SPACE;
    t[b'\t' as usize] |= SPACE | VALUE_NORMALISE;
    t[b'\r' as usize] |= SPACE | VALUE_NORMALISE;
    t[b'\n' as usize] |= SPACE | VALUE_NORMALISE;
    t[b'<' as usize] |= TEXT_STOP | VALUE_SPECIAL;
    t[b'&' as usize] |= TEXT_STOP | VALUE_NORMALISE;
    t
};

fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// A namespace declaration in scope: the prefix (`""` for the default namespace) and what
/// its value resolves to, worked out once per declaration rather than once per element.
struct Binding<'a> {
    prefix: &'a str,
    ns: BoundNs,
}

enum BoundNs {
    /// `xmlns=""` or `xmlns:p=""`: undeclared from here on.
    Undeclared,
    /// A value elements may not be in (the quick-xml path words the error).
    Bad,
    Ns(Ns),
}

/// An open element; the element itself is `Parser::nodes[node]`.
struct Frame<'a> {
    /// The qualified name as written, for the end tag.
    qname: &'a str,
    node: usize,
    /// `Parser::bindings` length before this element's declarations.
    bindings_len: usize,
    /// A whitespace-only text chunk seen while the text was still empty, not yet copied:
    /// indentation between children is dropped at the end, so it is usually never copied.
    ws: Option<(usize, usize)>,
    /// A second such chunk was dropped (a child came between); any later real text makes
    /// this mixed content, which goes the slow way.
    ws_dropped: bool,
}

struct Parser<'a, 'n> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// The 1-based line of `pos` and the offset where it starts. Every byte a newline can
    /// be in passes through the text loop, [`Parser::skip_space`] or
    /// [`Parser::count_lines`], so positions cost no separate scan.
    line: u32,
    line_start: usize,
    frames: Vec<Frame<'a>>,
    /// Every element whose parent is still open, in document order: open elements and the
    /// finished children after them. A closing element takes its children off the end in
    /// one exact-size allocation; when nothing is open, what is left are the roots.
    nodes: &'n mut Vec<Element>,
    bindings: Vec<Binding<'a>>,
}

thread_local! {
    /// `Parser::nodes`, kept per thread so that a parse allocates no scratch space for it.
    static NODES: RefCell<Vec<Element>> = const { RefCell::new(Vec::new()) };
}

/// Scratch capacity kept between parses at most (elements); a huge document's is given
/// back.
const KEEP_NODES: usize = 256;

/// Runs `f` with the thread's empty scratch node list (a fresh one if it is in use).
fn with_nodes<T>(f: impl FnOnce(&mut Vec<Element>) -> T) -> T {
    NODES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut nodes) => {
            nodes.clear();
            let out = f(&mut nodes);
            nodes.clear();
            if nodes.capacity() > KEEP_NODES {
                *nodes = Vec::new();
            }
            out
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// Parses a document with exactly one root (BOM removed, size checked) as
/// `super::parse_roots_quick(.., false)` does, or returns `None` for the quick-xml path.
pub(super) fn parse_one(bytes: &[u8], limits: &Limits) -> Option<Element> {
    with_nodes(|nodes| {
        parse_into(bytes, limits, false, nodes)?;
        nodes.pop()
    })
}

/// Parses consecutive roots (at least one) as `super::parse_roots_quick(.., true)` does,
/// or returns `None` for the quick-xml path.
pub(super) fn parse_many(bytes: &[u8], limits: &Limits) -> Option<Vec<Element>> {
    with_nodes(|nodes| {
        parse_into(bytes, limits, true, nodes)?;
        // Keeps the scratch capacity (unlike `mem::take`).
        Some(nodes.split_off(0))
    })
}

/// Leaves the roots in `nodes` and returns `Some` if the whole input was understood.
fn parse_into(bytes: &[u8], limits: &Limits, many: bool, nodes: &mut Vec<Element>) -> Option<()> {
    // quick-xml checks UTF-8 chunk by chunk; its chunks end at ASCII bytes, so checking the
    // whole input once is the same test.
    let src = std::str::from_utf8(bytes).ok()?;
    let mut p = Parser {
        src,
        bytes,
        pos: 0,
        line: 1,
        line_start: 0,
        frames: Vec::with_capacity(8),
        nodes,
        bindings: Vec::new(),
    };
    p.run(limits, many)?;
    (p.frames.is_empty() && !p.nodes.is_empty()).then_some(())
}

impl<'a> Parser<'a, '_> {
    fn newline(&mut self, at: usize) {
        self.line = self.line.saturating_add(1);
        self.line_start = at + 1;
    }

    /// Accounts for the newlines in `start..end` (spans not walked byte by byte).
    fn count_lines(&mut self, start: usize, end: usize) {
        for (i, b) in self.bytes[start..end].iter().enumerate() {
            if *b == b'\n' {
                self.newline(start + i);
            }
        }
    }

    /// The first index from `i` on that is not XML whitespace.
    fn skip_space(&mut self, mut i: usize) -> usize {
        while let Some(&b) = self.bytes.get(i) {
            if class(b) & SPACE == 0 {
                break;
            }
            if b == b'\n' {
                self.newline(i);
            }
            i += 1;
        }
        i
    }

    /// (line, column) of `offset`, which is on the current line.
    fn position(&self, offset: usize) -> (u32, u32) {
        let column = u32::try_from(offset.saturating_sub(self.line_start) + 1).unwrap_or(u32::MAX);
        (self.line, column)
    }

    fn run(&mut self, limits: &Limits, many: bool) -> Option<()> {
        let bytes = self.bytes;
        loop {
            let start = self.pos;
            let mut all_space = true;
            let mut i = start;
            while let Some(&b) = bytes.get(i) {
                let c = class(b);
                if c & TEXT_STOP != 0 {
                    break;
                }
                if c & SPACE == 0 {
                    all_space = false;
                } else if b == b'\n' {
                    self.newline(i);
                }
                i += 1;
            }
            self.pos = i;
            if i > start {
                self.text(start, i, all_space)?;
            }
            match bytes.get(i) {
                None => return Some(()),
                Some(b'&') => self.reference()?,
                Some(_) => match bytes.get(i + 1) {
                    Some(b'/') => self.end_tag()?,
                    Some(b'?') => self.processing_instruction()?,
                    Some(b'!') | None => return None,
                    Some(_) => self.start_tag(limits, many)?,
                },
            }
        }
    }

    /// A text chunk `start..end` (no `<` or `&` in it).
    fn text(&mut self, start: usize, end: usize, all_space: bool) -> Option<()> {
        let Some(frame) = self.frames.last_mut() else {
            // Outside the root only whitespace is allowed (other text is an error, or
            // Unicode whitespace the quick-xml path accepts: either way not ours).
            return all_space.then_some(());
        };
        let element = self.nodes.get_mut(frame.node)?;
        if all_space && element.text.is_empty() {
            if frame.ws.is_some() {
                frame.ws_dropped = true;
            } else {
                frame.ws = Some((start, end));
            }
            return Some(());
        }
        push_text(frame, element, self.src, &self.src[start..end])
    }

    /// `&name;` at `self.pos`.
    fn reference(&mut self) -> Option<()> {
        let bytes = self.bytes;
        let start = self.pos + 1;
        // quick-xml ends a reference at the first `;`, `&` or `<`; only `;` is well-formed.
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            if matches!(b, b';' | b'&' | b'<') {
                break;
            }
            i += 1;
        }
        if bytes.get(i) != Some(&b';') {
            return None;
        }
        let name = &self.src[start..i];
        self.count_lines(start, i);
        self.pos = i + 1;
        let frame = self.frames.last_mut()?;
        let element = self.nodes.get_mut(frame.node)?;
        let mut utf8 = [0_u8; 4];
        let resolved: &str = match BytesRef::new(name).resolve_char_ref() {
            Ok(Some(c)) => c.encode_utf8(&mut utf8),
            Ok(None) => quick_xml::escape::resolve_predefined_entity(name)?,
            Err(_) => return None,
        };
        push_text(frame, element, self.src, resolved)
    }

    /// `<?…?>` at `self.pos`: the XML declaration, or a processing instruction before or
    /// after the root. Both are skipped, as the quick-xml path does; inside the root one
    /// would split text chunks, so that goes the slow way.
    fn processing_instruction(&mut self) -> Option<()> {
        if !self.frames.is_empty() {
            return None;
        }
        let bytes = self.bytes;
        let start = self.pos;
        // quick-xml ends it at the first `>` preceded by `?`, counting the `?` of `<?`.
        let mut i = start + 2;
        loop {
            match bytes.get(i) {
                None => return None,
                Some(b'>') if bytes[i - 1] == b'?' => break,
                Some(_) => i += 1,
            }
        }
        // `<?>` is an error there.
        if i < start + 3 {
            return None;
        }
        self.count_lines(start, i);
        self.pos = i + 1;
        Some(())
    }

    /// `<name attr="v" …>` or `<… />` at `self.pos`.
    fn start_tag(&mut self, limits: &Limits, many: bool) -> Option<()> {
        let bytes = self.bytes;
        let src = self.src;
        let tag_start = self.pos;
        if self.frames.is_empty() && !many && !self.nodes.is_empty() {
            // A second root.
            return None;
        }
        if self.frames.len() >= limits.max_depth || self.frames.len() >= MAX_NESTING {
            return None;
        }
        // Before the attributes, which may span lines.
        let (line, column) = self.position(tag_start);
        let name_start = tag_start + 1;
        let mut i = name_start;
        while bytes.get(i).is_some_and(|&b| class(b) & NAME != 0) {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let qname = &src[name_start..i];
        // Prefixes are short: this finds the colon in a byte or two.
        let colon = qname.bytes().position(|b| b == b':');
        let bindings_len = self.bindings.len();
        let mut attrs: Vec<(String, String)> = Vec::new();
        let mut keys: [&str; MAX_ATTRS] = [""; MAX_ATTRS];
        let mut key_count = 0;
        let empty = loop {
            let space_start = i;
            i = self.skip_space(i);
            match bytes.get(i) {
                Some(b'>') => {
                    i += 1;
                    break false;
                }
                Some(b'/') if bytes.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    break true;
                }
                Some(_) if i > space_start => {}
                _ => return None,
            }
            // An attribute: key, optional spaces, `=`, optional spaces, quoted value.
            let key_start = i;
            while bytes.get(i).is_some_and(|&b| class(b) & NAME != 0) {
                i += 1;
            }
            if i == key_start {
                return None;
            }
            let key = &src[key_start..i];
            i = self.skip_space(i);
            if bytes.get(i) != Some(&b'=') {
                return None;
            }
            i = self.skip_space(i + 1);
            let quote = match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => return None,
            };
            i += 1;
            let value_start = i;
            let mut seen = 0_u8;
            loop {
                match bytes.get(i) {
                    None => return None,
                    Some(&b) if b == quote => break,
                    Some(&b) => seen |= class(b),
                }
                i += 1;
            }
            let raw = &src[value_start..i];
            if seen & VALUE_SPECIAL != 0 {
                return None;
            }
            if seen & VALUE_NORMALISE != 0 {
                self.count_lines(value_start, i);
            }
            i += 1;
            // Duplicates (declarations included) are quick-xml's error.
            if key_count == MAX_ATTRS || keys[..key_count].contains(&key) {
                return None;
            }
            keys[key_count] = key;
            key_count += 1;
            if let Some(prefix) = binding_prefix(key) {
                self.declare(key, prefix, raw, seen & VALUE_NORMALISE != 0)?;
                continue;
            }
            let value = if seen & VALUE_NORMALISE == 0 {
                raw.to_owned()
            } else {
                let attr = Attribute {
                    key: QName(key),
                    value: Cow::Borrowed(raw),
                };
                attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()?
                    .into_owned()
            };
            attrs.push((key.to_owned(), value));
        };
        let (prefix, local) = match colon {
            Some(c) => (Some(&qname[..c]), &qname[c + 1..]),
            None => (None, qname),
        };
        if local.is_empty() {
            return None;
        }
        let ns = self.resolve(prefix)?;
        self.pos = i;
        let node = self.nodes.len();
        self.nodes.push(Element {
            ns,
            name: local.to_owned(),
            attrs,
            children: Vec::new(),
            text: String::new(),
            line,
            column,
        });
        if empty {
            self.bindings.truncate(bindings_len);
        } else {
            self.frames.push(Frame {
                qname,
                node,
                bindings_len,
                ws: None,
                ws_dropped: false,
            });
        }
        Some(())
    }

    /// Records `xmlns[:prefix]="raw"` under quick-xml's rules, or returns `None` where
    /// quick-xml reports an error.
    /// `special`: the value holds bytes namespace values are normalised for.
    fn declare(
        &mut self,
        key: &'a str,
        prefix: &'a str,
        raw: &'a str,
        special: bool,
    ) -> Option<()> {
        if key.len() > "xmlns".len() {
            // `xmlns:p` (quick-xml treats `xmlns:` as the prefix `""`, which then acts as
            // the default namespace, and checks it like a named one).
            match prefix {
                "xml" if raw == XML_NS => return Some(()),
                "xml" | "xmlns" => return None,
                _ if raw == XML_NS || raw == XMLNS_NS => return None,
                _ => {}
            }
        }
        if self.bindings.len() >= MAX_BINDINGS {
            return None;
        }
        let ns = if raw.is_empty() {
            BoundNs::Undeclared
        } else if !special && raw != XMLNS_NS {
            // What `ns_from_raw` gives for a value without references or whitespace.
            BoundNs::Ns(Ns::from_uri(raw))
        } else {
            match ns_from_raw(raw) {
                Ok(ns) => BoundNs::Ns(ns),
                Err(_) => BoundNs::Bad,
            }
        };
        self.bindings.push(Binding { prefix, ns });
        Some(())
    }

    /// The namespace of an element with `prefix`, as quick-xml's resolver and
    /// `super::ns_from_raw` give it; `None` for an undeclared prefix or a bad namespace.
    fn resolve(&self, prefix: Option<&str>) -> Option<Ns> {
        let wanted = match prefix {
            // quick-xml never resolves the empty prefix of `<:a>`, not even to a default
            // namespace declared as `xmlns:=""`.
            Some("") => return None,
            Some(p) => p,
            None => "",
        };
        // Prefixes are a few bytes: comparing them inline beats a `memcmp` call.
        let same = |b: &&Binding<'_>| {
            b.prefix.len() == wanted.len()
                && b.prefix.bytes().zip(wanted.bytes()).all(|(x, y)| x == y)
        };
        match self.bindings.iter().rev().find(same) {
            Some(Binding {
                ns: BoundNs::Ns(ns),
                ..
            }) => Some(ns.clone()),
            Some(Binding {
                ns: BoundNs::Bad, ..
            }) => None,
            // `xmlns=""` undeclares the default namespace; `xmlns:p=""` leaves `p`
            // undeclared (an error when used).
            Some(_) | None => match prefix {
                None => Some(Ns::None),
                Some("xml") => Some(Ns::Other(XML_NS.to_owned())),
                Some(_) => None,
            },
        }
    }

    /// `</name>` at `self.pos`.
    fn end_tag(&mut self) -> Option<()> {
        let bytes = self.bytes;
        let frame = self.frames.pop()?;
        // The start tag's name exactly, optional whitespace (quick-xml trims it), `>`.
        let name_start = self.pos + 2;
        let name_end = name_start + frame.qname.len();
        if bytes.get(name_start..name_end) != Some(frame.qname.as_bytes()) {
            return None;
        }
        let i = self.skip_space(name_end);
        if bytes.get(i) != Some(&b'>') {
            return None;
        }
        self.pos = i + 1;
        let children = self.nodes.split_off(frame.node + 1);
        let element = self.nodes.last_mut()?;
        if !children.is_empty() {
            element.children = children;
            // Indentation between child elements is not content (a deferred whitespace
            // chunk goes with it).
            if element.text.trim().is_empty() {
                element.text.clear();
            }
        } else if let Some((start, end)) = frame.ws {
            // A leaf whose text is only whitespace keeps it. (Without children no second
            // chunk was deferred: only references separate chunks then, and they copy.)
            element.text = normalise_eols(&self.src[start..end]).into_owned();
        }
        self.bindings.truncate(frame.bindings_len);
        Some(())
    }
}

/// Appends text to the open element, first copying a deferred whitespace chunk; `None`
/// for mixed content whose dropped whitespace would be needed.
fn push_text(frame: &mut Frame<'_>, element: &mut Element, src: &str, chunk: &str) -> Option<()> {
    if frame.ws_dropped {
        return None;
    }
    if let Some((start, end)) = frame.ws.take() {
        element.text.push_str(&normalise_eols(&src[start..end]));
    }
    if element.text.is_empty() {
        // Most text is one chunk: one exact allocation.
        element.text = normalise_eols(chunk).into_owned();
    } else {
        element.text.push_str(&normalise_eols(chunk));
    }
    Some(())
}

/// XML 1.0 end-of-line handling, by quick-xml's own function (what the quick-xml path
/// applies to each text chunk).
fn normalise_eols(chunk: &str) -> Cow<'_, str> {
    if chunk.as_bytes().contains(&b'\r') {
        Cow::Owned(
            quick_xml::events::BytesText::from_escaped(chunk)
                .xml10_content()
                .into_owned(),
        )
    } else {
        Cow::Borrowed(chunk)
    }
}

/// `Some(prefix)` if `key` declares a namespace (`xmlns` gives `""`), as quick-xml's
/// `QName::as_namespace_binding`.
fn binding_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("xmlns")?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix(':')
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ParseError, checked_input, parse_roots_quick};
    use super::*;

    /// What the reference path says about `input`.
    fn quick(input: &[u8], many: bool) -> Result<Vec<Element>, ParseError> {
        let limits = Limits::default();
        let bytes = checked_input(input, &limits)?;
        parse_roots_quick(bytes, &limits, many)
    }

    /// What the fast path says (`None`: declined).
    fn fast(input: &[u8], many: bool) -> Option<Vec<Element>> {
        let limits = Limits::default();
        let bytes = checked_input(input, &limits).ok()?;
        if many {
            parse_many(bytes, &limits)
        } else {
            parse_one(bytes, &limits).map(|root| vec![root])
        }
    }

    /// Equality including line and column, which `Element`'s `PartialEq` ignores.
    fn identical(a: &Element, b: &Element) -> bool {
        a == b
            && (a.line, a.column) == (b.line, b.column)
            && a.children.len() == b.children.len()
            && a.children
                .iter()
                .zip(&b.children)
                .all(|(x, y)| identical(x, y))
    }

    /// The contract: whatever the fast path accepts, the reference parses to the identical
    /// tree. Returns whether the fast path accepted.
    fn check(input: &[u8], many: bool) -> bool {
        let Some(ours) = fast(input, many) else {
            return false;
        };
        match quick(input, many) {
            Ok(reference) => {
                let same = ours.len() == reference.len()
                    && ours.iter().zip(&reference).all(|(a, b)| identical(a, b));
                assert!(
                    same,
                    "fast path differs on {:?}\nfast: {ours:#?}\nreference: {reference:#?}",
                    String::from_utf8_lossy(input)
                );
            }
            Err(e) => panic!(
                "fast path accepted what the reference rejects ({e}): {:?}",
                String::from_utf8_lossy(input)
            ),
        }
        true
    }

    fn samples() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ews-samples");
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        out.sort();
        assert_eq!(out.len(), 40, "the sample set has 40 messages");
        out
    }

    /// `xml` with every line end made CRLF and a tab of indentation added after each.
    fn reshaped(xml: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(xml.len() * 2);
        for &b in xml {
            if b == b'\n' {
                out.extend_from_slice(b"\r\n\t");
            } else if b != b'\r' {
                out.push(b);
            }
        }
        out
    }

    #[test]
    fn every_sample_takes_the_fast_path_and_matches_the_reference() {
        for (name, bytes) in samples() {
            let many = name.contains("getstreamingevents");
            assert!(check(&bytes, many), "{name}: fast path declined");
            assert!(check(&reshaped(&bytes), many), "{name} (CRLF): declined");
            let mut with_bom = b"\xEF\xBB\xBF".to_vec();
            with_bom.extend_from_slice(&bytes);
            assert!(check(&with_bom, many), "{name} (BOM): declined");
        }
    }

    /// xorshift64*: a deterministic stand-in for a fuzzer's randomness.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
            usize::try_from(r >> 33).unwrap() % n.max(1)
        }
    }

    /// Bytes the reader treats specially.
    const BYTES: &[u8] = b"<>&\"'/:= \r\n\t;#x!?\xC3\xA0";
    /// Snippets that change structure, declarations or text.
    const SNIPPETS: &[&str] = &[
        "<!--c-->",
        "<?pi x?>",
        "&amp;",
        "&#x41;",
        "&#65;",
        "&bogus;",
        "\r\n  ",
        " xmlns=\"\"",
        " xmlns:t=\"\"",
        " xmlns:t=\"urn:other\"",
        " xmlns:q=\"urn:q\"",
        " xmlns:q=\"urn:a&amp;\r\nb\"",
        " q:a=\"1\"",
        " a=\"1\"",
        " a = '&lt;\tb\n'",
        "<x/>",
        "<q:x/>",
        "</x>",
        "<x>",
        "\u{a0}",
        "<![CDATA[x]]>",
    ];

    /// One random edit: replace a byte, insert a snippet, delete, duplicate or cut.
    fn mutate(v: &mut Vec<u8>, rng: &mut Rng) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if at < v.len() => v[at] = BYTES[rng.below(BYTES.len())],
            1 => {
                let snippet = SNIPPETS[rng.below(SNIPPETS.len())].as_bytes();
                v.splice(at..at, snippet.iter().copied());
            }
            2 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let copy = v[at.min(end)..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, copy);
            }
            _ => v.truncate(at),
        }
    }

    #[test]
    fn mutated_samples_agree_with_the_reference() {
        // Each variant is either declined or parsed exactly like the reference. Raise the
        // rounds for a longer local run: EWS_PROTO_DIFF_ROUNDS=20000 cargo test --release.
        let rounds: usize = std::env::var("EWS_PROTO_DIFF_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(40);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut accepted, mut total) = (0, 0);
        for (name, bytes) in samples() {
            let many = name.contains("getstreamingevents");
            for input in [bytes.clone(), reshaped(&bytes)] {
                for _ in 0..rounds {
                    let mut variant = input.clone();
                    // Mostly one edit (most edits make a document ill-formed), sometimes more.
                    let edits = if rng.below(3) == 0 {
                        2 + rng.below(3)
                    } else {
                        1
                    };
                    for _ in 0..edits {
                        mutate(&mut variant, &mut rng);
                    }
                    total += 1;
                    accepted += usize::from(check(&variant, many));
                    check(&variant, !many);
                }
            }
        }
        // If the fast path declined nearly everything this test would prove nothing.
        assert!(accepted * 10 > total, "{accepted} of {total} accepted");
        eprintln!("{accepted} of {total} variants took the fast path");
    }

    #[test]
    fn edge_cases_agree_with_the_reference() {
        const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
        let cases: Vec<(String, bool)> = vec![
            // (input, must the fast path take it?)
            (
                format!("<a xmlns=\"{T}\"><b xmlns=\"\"><c/></b><d/></a>"),
                true,
            ),
            (
                format!("<p:a xmlns:p=\"{T}\"><p:b xmlns:p=\"urn:x\"/><p:c/></p:a>"),
                true,
            ),
            (
                "<a xmlns:p=\"urn:x\"><b xmlns:p=\"\"><p:c/></b></a>".into(),
                false,
            ),
            ("<a q:b=\"1\" xml:lang=\"en\"/>".into(), true),
            ("<xml:a/>".into(), true),
            ("<xmlns:a/>".into(), false),
            (
                "<a xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"/>".into(),
                true,
            ),
            ("<a xmlns:xml=\"urn:x\"/>".into(), false),
            ("<a xmlns:=\"urn:x\"><b/><c/></a>".into(), true),
            ("<a xmlns:=\"urn:x\"><:b/></a>".into(), false),
            ("<a xmlns:p=\"urn:a&amp;b\"><p:b/></a>".into(), true),
            ("<a xmlns:p=\"urn:&bogus;\"><b/></a>".into(), true),
            ("<a xmlns:p=\"urn:&bogus;\"><p:b/></a>".into(), false),
            (
                "<a b='1' c = \"2\"\r\n d=\"x&#10;y\tz\r\nw\"/>".into(),
                true,
            ),
            ("<a b=\"1\" b=\"2\"/>".into(), false),
            (
                "<a\n b=\"1\"\r\n\t>\n<c\n/><d x=\"1\n2\" y='\n'\n/> <e\n></e\n>\n<f/></a>".into(),
                true,
            ),
            ("<a b=\"<\"/>".into(), false),
            ("<a b=\"1\"c=\"2\"/>".into(), false),
            ("<a>x\r\ny\rz &amp; &#x1F600; &lt;</a>".into(), true),
            ("<a>  </a>".into(), true),
            ("<a>\r\n</a>".into(), true),
            ("<a> <b/> </a>".into(), true),
            ("<a>x<b/>y</a>".into(), true),
            ("<a> <b/> <c/>x</a>".into(), false),
            ("<a> &#32;<b/></a>".into(), true),
            ("<a>\u{a0}<b/>\u{a0}</a>".into(), true),
            ("<a></a >".into(), true),
            ("<a></b>".into(), false),
            ("<a/><b/>".into(), false),
            ("<?xml version=\"1.0\"?>\r\n<a/>\n<?after?>\n".into(), true),
            ("<?>".into(), false),
            ("<a><?pi?></a>".into(), false),
            ("<a><!-- c --></a>".into(), false),
            ("<a><![CDATA[x]]></a>".into(), false),
            ("&amp;<a/>".into(), false),
            ("\u{a0}<a/>".into(), false),
            ("<a>&bogus;</a>".into(), false),
            ("<a>&amp</a>".into(), false),
            ("<t:/>".into(), false),
            ("<a:b:c xmlns:a=\"urn:a\"/>".into(), true),
            ("<a/ >".into(), false),
            ("".into(), false),
        ];
        for (input, must) in cases {
            let took = check(input.as_bytes(), false);
            assert!(!must || took, "fast path declined {input:?}");
            check(input.as_bytes(), true);
        }
        assert!(check(b"<a/>\n<b>x</b>\r\n<c/>", true));
    }

    #[test]
    fn limits_are_left_to_the_reference() {
        let deep = "<a>".repeat(5) + &"</a>".repeat(5);
        let limits = Limits {
            max_bytes: 1000,
            max_depth: 4,
        };
        assert!(parse_one(deep.as_bytes(), &limits).is_none());
        let mut many_bindings = String::from("<a");
        for i in 0..=MAX_BINDINGS {
            many_bindings.push_str(&format!(" xmlns:p{i}=\"urn:{i}\""));
        }
        many_bindings.push_str("/>");
        assert!(quick(many_bindings.as_bytes(), false).is_err());
        assert!(!check(many_bindings.as_bytes(), false));
    }

    #[test]
    fn scratch_space_is_reused_and_bounded() {
        let wide = format!("<a>{}</a>", "<b/>".repeat(KEEP_NODES * 2));
        assert!(check(wide.as_bytes(), false));
        NODES.with(|n| assert_eq!(n.borrow().capacity(), 0));
        assert!(check(b"<a><b/><c/></a>", false));
        NODES.with(|n| {
            let n = n.borrow();
            assert!(n.is_empty() && n.capacity() > 0);
        });
    }
}
