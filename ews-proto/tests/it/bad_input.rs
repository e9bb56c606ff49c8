//! Bad input: each case gives an error value that names what is wrong and where.

use ews_proto::{Limits, Message, ParseError};

const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

/// A request envelope around `body` (which starts on line 3).
fn request(body: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"{SOAP}\" xmlns:m=\"{M}\" xmlns:t=\"{T}\">\n<soap:Body>\n{body}\n</soap:Body></soap:Envelope>"
    )
}

fn error_of(xml: &str, limits: &Limits) -> String {
    match Message::parse(xml.as_bytes(), limits) {
        Ok(m) => panic!("parsed: {m:?}"),
        Err(e) => e.to_string(),
    }
}

const FIND_ITEM: &str = r#"<m:FindItem Traversal="Shallow">
  <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>
  <m:CalendarView StartDate="2026-03-01T00:00:00Z" EndDate="2026-03-08T00:00:00Z"/>
  <m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>
</m:FindItem>"#;

#[test]
fn each_bad_input_names_what_and_where() {
    let small = Limits {
        max_bytes: 64,
        max_depth: 64,
    };
    let shallow = Limits {
        max_bytes: 1 << 20,
        max_depth: 2,
    };
    let d = Limits::default();
    let cases: Vec<(&str, String, &Limits, &str)> = vec![
        ("malformed", request("<m:GetItem>"), &d, "4:1: malformed XML: ill-formed document: expected `</m:GetItem>`, but `</soap:Body>` was found"),
        ("not xml", "hello".into(), &d, "1:1: malformed XML: text outside the root element"),
        ("empty", String::new(), &d, "empty document: no root element"),
        ("doctype", format!("<!DOCTYPE x [<!ENTITY a \"b\">]>\n{}", request("<m:GetItem/>")), &d, "1:1: DOCTYPE and entity declarations are not allowed"),
        ("entity", request("<m:Unsubscribe><m:SubscriptionId>&x;</m:SubscriptionId></m:Unsubscribe>"), &d, "3:34: malformed XML: unknown entity `&x;`"),
        ("too deep", request("<m:GetItem/>"), &shallow, "3:1: element nesting deeper than 2 levels"),
        ("too big", request("<m:GetItem/>"), &small, "exceeds the limit of 64 bytes"),
        ("wrong soap namespace", request("<m:GetItem/>").replace("http://schemas.xmlsoap", "https://schemas.xmlsoap"), &d, "1:1: unexpected element {https://schemas.xmlsoap.org/soap/envelope/}Envelope, expected soap:Envelope"),
        ("wrong operation namespace", request(&FIND_ITEM.replace("m:FindItem", "t:FindItem")), &d, "3:1: unknown EWS operation t:FindItem"),
        ("unknown operation", request("<m:FrobnicateItem/>"), &d, "3:1: unknown EWS operation m:FrobnicateItem"),
        ("invalid date", request(&FIND_ITEM.replace("2026-03-01T00:00:00Z", "tomorrow")), &d, "5:3: m:CalendarView/@StartDate: invalid value `tomorrow`: not an xs:dateTime"),
        ("invalid enum", request(&FIND_ITEM.replace(">IdOnly<", ">Everything<")), &d, "4:16: t:BaseShape: invalid value `Everything`: expected one of: IdOnly|Default|AllProperties|PcxPeopleSearch"),
        ("missing element", request(&FIND_ITEM.replace(r#"<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>"#, "")), &d, "3:1: m:FindItem: missing required element m:ParentFolderIds"),
        ("missing attribute", request(&FIND_ITEM.replace(r#" Traversal="Shallow""#, "")), &d, "3:1: m:FindItem: missing required attribute Traversal"),
        ("bad number", request(r#"<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:OccurrenceItemId RecurringMasterId="A" InstanceIndex="-1"/></m:ItemIds></m:GetItem>"#), &d, "t:OccurrenceItemId/@InstanceIndex: invalid value `-1`"),
        ("no body element", format!("<soap:Envelope xmlns:soap=\"{SOAP}\"><soap:Body/></soap:Envelope>"), &d, "soap:Body: missing required element an operation element"),
    ];
    let mut wrong = Vec::new();
    for (what, xml, limits, expected) in cases {
        let err = error_of(&xml, limits);
        if !err.contains(expected) {
            wrong.push(format!(
                "{what}: got `{err}`, expected it to contain `{expected}`"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_expose_their_position() {
    let err = Message::parse(
        request("<m:FrobnicateItem/>").as_bytes(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.position(), Some((3, 1)));
    assert!(matches!(err, ParseError::UnknownOperation { .. }));
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap, deterministic stand-in for the fuzz target: every prefix of every sample, and
    // byte flips, must give Ok or Err, never a panic.
    for (_, bytes) in crate::samples::samples() {
        for cut in (0..bytes.len()).step_by(97) {
            let _ = Message::parse(&bytes[..cut], &Limits::default());
        }
        let mut flipped = bytes.clone();
        for i in (0..flipped.len()).step_by(61) {
            flipped[i] = flipped[i].wrapping_add(0x41);
        }
        let _ = Message::parse(&flipped, &Limits::default());
    }
}
