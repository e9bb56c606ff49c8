//! The SOAP 1.1 envelope: read by namespace whatever the prefixes (`soap:`, `s:`,
//! `SOAP-ENV:`, `soap11:`, or the unprefixed `<Envelope xmlns="…">` of streaming
//! responses), written with Exchange's `s:`/`soap:` shape.

use serde::{Deserialize, Serialize};

use crate::header::Headers;
use crate::xml::{self, Element, Limits, Ns, ParseError, Writer};

/// A parsed SOAP envelope: typed headers and the single element inside `soap:Body` (the
/// operation request or response, or a `soap:Fault`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The `soap:Header` children (default when there is no header).
    pub header: Headers,
    /// The first element child of `soap:Body`.
    pub body: Element,
}

impl Envelope {
    /// Parses bytes into an envelope with the given limits.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Envelope, ParseError> {
        let root = xml::parse(bytes, limits)?;
        Envelope::from_element(root)
    }

    /// Reads an envelope from an already parsed root element.
    pub fn from_element(root: Element) -> Result<Envelope, ParseError> {
        if !root.is(&Ns::Soap, "Envelope") {
            return Err(root.unexpected("soap:Envelope"));
        }
        let mut header = Headers::default();
        let mut body = None;
        for child in root.children {
            if child.is(&Ns::Soap, "Header") {
                header = Headers::from_xml(&child)?;
            } else if child.is(&Ns::Soap, "Body") {
                body = Some(child);
            } else {
                return Err(child.unexpected("soap:Header or soap:Body"));
            }
        }
        let body = body.ok_or_else(|| ParseError::MissingElement {
            parent: "soap:Envelope".into(),
            expected: "soap:Body".into(),
            line: root.line,
            column: root.column,
        })?;
        let (line, column) = (body.line, body.column);
        let first = body
            .children
            .into_iter()
            .next()
            .ok_or_else(|| ParseError::MissingElement {
                parent: "soap:Body".into(),
                expected: "an operation element".into(),
                line,
                column,
            })?;
        Ok(Envelope {
            header,
            body: first,
        })
    }

    /// True if the body is a `soap:Fault`.
    pub fn is_fault(&self) -> bool {
        self.body.is(&Ns::Soap, "Fault")
    }
}

/// Writes a whole envelope: XML declaration, `Envelope` declaring the SOAP, messages and
/// types namespaces, a `Header` unless `headers` is empty, and a `Body` filled by `body`.
///
/// `soap_prefix` is `s` for what a server writes and `soap` for what a client writes, as
/// in real traffic.
pub fn write_envelope(
    soap_prefix: &'static str,
    headers: &Headers,
    body: impl FnOnce(&mut Writer),
) -> Vec<u8> {
    let mut w = Writer::with_soap_prefix(soap_prefix);
    w.start_declaring(&Ns::Soap, "Envelope", &[], &[Ns::Messages, Ns::Types]);
    if !headers.is_empty() {
        w.start(&Ns::Soap, "Header", &[]);
        headers.write(&mut w);
        w.end();
    }
    w.start(&Ns::Soap, "Body", &[]);
    body(&mut w);
    w.end();
    w.end();
    w.into_bytes()
}

/// Writes one envelope of a GetStreamingEvents stream in Exchange's exact shape: no XML
/// declaration (a second one mid-stream is fatal to the EWS Managed API), an unprefixed
/// `<Envelope xmlns="…soap…">` root (evolution-ews splits on the literal `</Envelope>`), and
/// `soap11:` Header and Body (EWS.md §6.5).
pub fn write_streaming_envelope(headers: &Headers, body: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::fragment_with_soap_prefix("soap11");
    w.start(&Ns::None, "Envelope", &[("xmlns", crate::xml::SOAP_NS)]);
    w.start(&Ns::Soap, "Header", &[]);
    headers.write(&mut w);
    w.end();
    w.start(&Ns::Soap, "Body", &[]);
    body(&mut w);
    w.end();
    w.end();
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{ConnectingSid, ExchangeVersion, ServerVersionInfo, TimeZoneContext};

    fn env(s: &str) -> Result<Envelope, ParseError> {
        Envelope::parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn reads_every_prefix_style() {
        let styles = [
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:X xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></soap:Body></soap:Envelope>"#,
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><messages:X xmlns:messages="http://schemas.microsoft.com/exchange/services/2006/messages"/></SOAP-ENV:Body></SOAP-ENV:Envelope>"#,
            r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><soap11:Body xmlns:soap11="http://schemas.xmlsoap.org/soap/envelope/"><X xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></soap11:Body></Envelope>"#,
        ];
        for s in styles {
            let e = env(s).unwrap();
            assert!(e.body.is(&Ns::Messages, "X"), "{s}");
            assert!(e.header.is_empty());
        }
    }

    #[test]
    fn rejects_wrong_envelope_namespace_and_missing_body() {
        let err = env(r#"<s:Envelope xmlns:s="https://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#).unwrap_err();
        assert!(err.to_string().contains("expected soap:Envelope"), "{err}");
        let err = env(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("missing required element soap:Body"),
            "{err}"
        );
        let err = env(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body> </s:Body></s:Envelope>"#).unwrap_err();
        assert!(err.to_string().contains("operation element"), "{err}");
    }

    #[test]
    fn headers_in_any_order_round_trip() {
        let src = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<soap:Header>
  <t:ExchangeImpersonation><t:ConnectingSID><t:PrincipalName>a@b.c</t:PrincipalName></t:ConnectingSID></t:ExchangeImpersonation>
  <t:DateTimePrecision>Milliseconds</t:DateTimePrecision>
  <t:MailboxCulture>en-US</t:MailboxCulture>
  <t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>
  <t:RequestServerVersion Version="Exchange2013_SP1"/>
</soap:Header>
<soap:Body><X/></soap:Body></soap:Envelope>"#;
        let e = env(src).unwrap();
        assert_eq!(
            e.header.request_server_version,
            Some(ExchangeVersion::Exchange2013_SP1)
        );
        assert_eq!(
            e.header.impersonation,
            Some(ConnectingSid::PrincipalName("a@b.c".into()))
        );
        assert_eq!(
            e.header.time_zone_context,
            Some(TimeZoneContext::id("W. Europe Standard Time"))
        );
        assert_eq!(e.header.mailbox_culture.as_deref(), Some("en-US"));
        let bytes = write_envelope("soap", &e.header, |w| w.element(&e.body));
        let again = Envelope::parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(again.header, e.header);
    }

    #[test]
    fn server_version_info_with_and_without_version() {
        let with = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="57" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body><X/></s:Body></s:Envelope>"#;
        let info = env(with).unwrap().header.server_version_info.unwrap();
        assert_eq!(info.major_build_number, Some(2507));
        assert_eq!(info.version, Some(ExchangeVersion::V2017_07_11));
        let without = with.replace(r#" Version="V2017_07_11""#, "");
        let info = env(&without).unwrap().header.server_version_info.unwrap();
        assert_eq!(info.version, None);
        let bad = with.replace(r#"MajorVersion="15""#, r#"MajorVersion="x""#);
        let err = env(&bad).unwrap_err();
        assert!(
            err.to_string()
                .contains("t:ServerVersionInfo/@MajorVersion: invalid value `x`"),
            "{err}"
        );
        let written = write_envelope(
            "s",
            &Headers::response(ServerVersionInfo {
                major_version: Some(15),
                ..Default::default()
            }),
            |w| w.empty(&Ns::Messages, "X", &[]),
        );
        let s = String::from_utf8(written).unwrap();
        assert!(s.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/""#), "{s}");
        assert!(s.contains(r#"<s:Header><t:ServerVersionInfo MajorVersion="15"/></s:Header><s:Body><m:X/></s:Body>"#), "{s}");
    }

    #[test]
    fn connecting_sid_needs_one_of_four_forms() {
        let src = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:ExchangeImpersonation><t:ConnectingSID/></t:ExchangeImpersonation></s:Header><s:Body><X/></s:Body></s:Envelope>"#;
        let err = env(src).unwrap_err();
        assert!(
            err.to_string()
                .contains("t:ConnectingSID: missing required element"),
            "{err}"
        );
    }
}
