//! Writing whole EWS replies: normal responses (with `ServerVersionInfo`) and SOAP faults.
//!
//! Faults are ews-proto's `SoapFault` in the shape of the real Exchange 2010 SP2 fault
//! (EWS.md §1.6): `faultcode` `a:<Code>` in the types namespace, `detail/e:ResponseCode`,
//! `e:Message`, optional `t:MessageXml`; this module keeps the small builder the operations
//! use and the HTTP side (status 500, content type).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ews_proto::{Headers, Ns, ServerVersionInfo, Writer};

use crate::world::ServerVersion;

/// A request-level failure, answered with HTTP 500 and a SOAP fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    pub code: String,
    pub message: String,
    /// `t:MessageXml/t:Value Name=... ` pairs.
    pub values: Vec<(String, String)>,
}

impl SoapFault {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        SoapFault {
            code: code.into(),
            message: message.into(),
            values: Vec::new(),
        }
    }

    pub fn with_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.push((name.into(), value.into()));
        self
    }

    /// The BackOffMilliseconds value, if the fault carries one.
    pub fn back_off_ms(&self) -> Option<u64> {
        self.values
            .iter()
            .find(|(k, _)| k == "BackOffMilliseconds")
            .and_then(|(_, v)| v.parse().ok())
    }

    /// The fault document: ews-proto's fault in a header-less envelope, as Exchange sends.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut fault = ews_proto::SoapFault::new(
            ews_proto::ResponseCode::parse(&self.code),
            self.message.clone(),
        );
        if !self.values.is_empty() {
            fault = fault.with_message_xml(ews_proto::MessageXml {
                values: self
                    .values
                    .iter()
                    .map(|(name, value)| ews_proto::error::MessageValue {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                other: Vec::new(),
            });
        }
        ews_proto::write_envelope("s", &Headers::default(), |w| fault.write(w))
    }
}

impl IntoResponse for SoapFault {
    fn into_response(self) -> Response {
        xml_response(StatusCode::INTERNAL_SERVER_ERROR, self.to_bytes())
    }
}

/// An XML reply with the content type every EWS client expects.
pub(crate) fn xml_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

/// The `ServerVersionInfo` header for a profile.
pub(crate) fn server_version_info(v: ServerVersion) -> ServerVersionInfo {
    let info = v.info();
    ServerVersionInfo {
        major_version: Some(info.major),
        minor_version: Some(info.minor),
        major_build_number: Some(info.major_build),
        minor_build_number: Some(info.minor_build),
        version: Some(ews_proto::ExchangeVersion::parse(info.version)),
    }
}

/// A writer positioned inside `s:Body` of a response envelope with `ServerVersionInfo`, for
/// operations that write their body incrementally; `into_bytes` closes the envelope.
pub(crate) fn open_response(v: ServerVersion) -> Writer {
    let mut w = Writer::new();
    w.start_declaring(&Ns::Soap, "Envelope", &[], &[Ns::Messages, Ns::Types]);
    w.start(&Ns::Soap, "Header", &[]);
    Headers::response(server_version_info(v)).write(&mut w);
    w.end();
    w.start(&Ns::Soap, "Body", &[]);
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use ews_proto::{Envelope, Limits};

    #[test]
    fn fault_has_exchange_shape_and_parses() {
        let f = SoapFault::new(
            "ErrorServerBusy",
            "The server cannot service this request right now.",
        )
        .with_value("BackOffMilliseconds", "5000");
        let bytes = f.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
            "{text}"
        );
        let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
        assert!(env.is_fault());
        let code = env.body.text_of(&Ns::None, "faultcode").unwrap();
        assert_eq!(code, "a:ErrorServerBusy");
        let detail = env.body.child(&Ns::None, "detail").unwrap();
        assert_eq!(
            detail.text_of(&Ns::Errors, "ResponseCode"),
            Some("ErrorServerBusy")
        );
        let mx = detail.child(&Ns::Types, "MessageXml").unwrap();
        let v = mx.child(&Ns::Types, "Value").unwrap();
        assert_eq!(
            (v.attr("Name"), v.trimmed_text()),
            (Some("BackOffMilliseconds"), "5000")
        );
        assert_eq!(f.back_off_ms(), Some(5000));
    }

    #[test]
    fn response_carries_server_version_info() {
        let mut w = open_response(ServerVersion::Exchange2010Sp3);
        w.empty(&Ns::Messages, "X", &[]);
        let bytes = w.into_bytes();
        let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
        let info = env.header.server_version_info.unwrap();
        assert_eq!(
            (
                info.major_version,
                info.minor_version,
                info.major_build_number,
                info.minor_build_number
            ),
            (Some(14), Some(3), Some(181), Some(6))
        );
        assert_eq!(info.version.unwrap().as_str(), "Exchange2010_SP2");
    }
}
