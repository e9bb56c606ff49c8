//! EWS errors: response codes, the per-message error form (`ResponseClass="Error"`, HTTP
//! 200) and the SOAP fault (HTTP 500), with `MessageXml` values such as
//! `BackOffMilliseconds` (EWS.md §1.4, §1.6, §2.3, §7).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::str_enum;
use crate::xml::{Element, Ns, ParseError, Writer};

macro_rules! response_codes {
    ($($code:ident,)+) => {
        /// An EWS `ResponseCode`. The codes ews-kit uses are variants; any other code is kept
        /// verbatim in [`ResponseCode::Other`] so nothing a server says is lost.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum ResponseCode {
            $($code,)+
            /// A code outside the list above, kept verbatim.
            Other(String),
        }

        impl ResponseCode {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ResponseCode::$code => stringify!($code),)+
                    ResponseCode::Other(s) => s,
                }
            }

            /// Parses a code (surrounding whitespace ignored, as exchangelib does); never
            /// fails.
            pub fn parse(s: &str) -> ResponseCode {
                match s.trim() {
                    $(stringify!($code) => ResponseCode::$code,)+
                    other => ResponseCode::Other(other.to_owned()),
                }
            }
        }
    };
}

response_codes! {
    ErrorAccessDenied,
    ErrorBatchProcessingStopped,
    ErrorCalendarCannotUseIdForOccurrenceId,
    ErrorCalendarCannotUseIdForRecurringMasterId,
    ErrorCalendarDurationIsTooLong,
    ErrorCalendarEndDateIsEarlierThanStartDate,
    ErrorCalendarFolderIsInvalidForCalendarView,
    ErrorCalendarInvalidDayForTimeChangePattern,
    ErrorCalendarInvalidDayForWeeklyRecurrence,
    ErrorCalendarInvalidRecurrence,
    ErrorCalendarInvalidTimeZone,
    ErrorCalendarIsNotOrganizer,
    ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange,
    ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ErrorCalendarViewRangeTooBig,
    ErrorCannotCreateCalendarItemInNonCalendarFolder,
    ErrorChangeKeyRequiredForWriteOperations,
    ErrorCorruptData,
    ErrorExceededConnectionCount,
    ErrorExceededFindCountLimit,
    ErrorExceededSubscriptionCount,
    ErrorExpiredSubscription,
    ErrorFolderNotFound,
    ErrorImpersonateUserDenied,
    ErrorImpersonationDenied,
    ErrorImpersonationFailed,
    ErrorIncorrectSchemaVersion,
    ErrorInternalServerError,
    ErrorInternalServerTransientError,
    ErrorInvalidArgument,
    ErrorInvalidChangeKey,
    ErrorInvalidExchangeImpersonationHeaderData,
    ErrorInvalidIdEmpty,
    ErrorInvalidIdMalformed,
    ErrorInvalidMergedFreeBusyInterval,
    ErrorInvalidOofParameter,
    ErrorInvalidOperation,
    ErrorInvalidPropertyRequest,
    ErrorInvalidPullSubscriptionId,
    ErrorInvalidPushSubscriptionUrl,
    ErrorInvalidRecipients,
    ErrorInvalidRequest,
    ErrorInvalidScheduledOofDuration,
    ErrorInvalidSchemaVersionForMailboxVersion,
    ErrorInvalidServerVersion,
    ErrorInvalidSmtpAddress,
    ErrorInvalidSubscription,
    ErrorInvalidSubscriptionRequest,
    ErrorInvalidSyncStateData,
    ErrorInvalidTimeInterval,
    ErrorInvalidUserOofSettings,
    ErrorInvalidWatermark,
    ErrorIrresolvableConflict,
    ErrorItemNotFound,
    ErrorItemSave,
    ErrorMailRecipientNotFound,
    ErrorMailboxDataArrayEmpty,
    ErrorMailboxDataArrayTooBig,
    ErrorMailboxMoveInProgress,
    ErrorMailboxStoreUnavailable,
    ErrorMissedNotificationEvents,
    ErrorMissingEmailAddress,
    ErrorNoFreeBusyAccess,
    ErrorNonExistentMailbox,
    ErrorProxyRequestNotAllowed,
    ErrorProxyRequestProcessingFailed,
    ErrorQuotaExceededOnDelete,
    ErrorReadEventsFailed,
    ErrorSchemaValidation,
    ErrorSendMeetingCancellationsRequired,
    ErrorSendMeetingInvitationsOrCancellationsRequired,
    ErrorSendMeetingInvitationsRequired,
    ErrorServerBusy,
    ErrorServiceDiscoveryFailed,
    ErrorSubscriptionAccessDenied,
    ErrorSubscriptionDelegateAccessNotSupported,
    ErrorSubscriptionNotFound,
    ErrorSubscriptionUnsubscribed,
    ErrorSyncFolderNotFound,
    ErrorTimeIntervalTooBig,
    ErrorTimeZone,
    ErrorTimeoutExpired,
    ErrorTooManyObjectsOpened,
    ErrorUnableToGetUserOofSettings,
    ErrorUnknownOperation,
    NoError,
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResponseCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResponseCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ResponseCode::parse(&s))
    }
}

str_enum! {
    /// `ResponseClass` of a response message.
    ResponseClass {
        /// The operation succeeded for this input.
        Success = "Success",
        /// Partial success, e.g. `ErrorBatchProcessingStopped`.
        Warning = "Warning",
        /// The operation failed for this input.
        Error = "Error",
    }
}

/// One `t:Value Name="…"` pair of a `MessageXml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageValue {
    /// The `Name` attribute, e.g. `BackOffMilliseconds`.
    pub name: String,
    /// The text.
    pub value: String,
}

/// `MessageXml`: `t:Value` pairs, plus any other elements (`t:FieldURI`, `t:LineNumber`,
/// `e:ExceptionType`, …) kept as data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessageXml {
    /// The `t:Value` children in order.
    pub values: Vec<MessageValue>,
    /// Other children in order.
    pub other: Vec<Element>,
}

impl MessageXml {
    /// A `MessageXml` with one `t:Value`.
    pub fn value(name: impl Into<String>, value: impl Into<String>) -> MessageXml {
        MessageXml {
            values: vec![MessageValue {
                name: name.into(),
                value: value.into(),
            }],
            other: Vec::new(),
        }
    }

    /// The text of the value called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }

    /// The `BackOffMilliseconds` value of a throttling error, if present and numeric.
    pub fn back_off_milliseconds(&self) -> Option<u64> {
        self.get("BackOffMilliseconds")?.trim().parse().ok()
    }

    /// Reads a `MessageXml` element (in either namespace).
    pub fn from_xml(e: &Element) -> Result<MessageXml, ParseError> {
        let mut m = MessageXml::default();
        for c in &e.children {
            if c.is(&Ns::Types, "Value") {
                m.values.push(MessageValue {
                    name: c.required_attr("Name")?.to_owned(),
                    value: c.trimmed_text().to_owned(),
                });
            } else {
                m.other.push(c.clone());
            }
        }
        Ok(m)
    }

    /// Writes `<ns:MessageXml>` (`m:` inside response messages, `t:` inside faults).
    pub fn write(&self, w: &mut Writer, ns: &Ns) {
        w.start(ns, "MessageXml", &[]);
        for v in &self.values {
            w.leaf_with_attrs(&Ns::Types, "Value", &[("Name", &v.name)], &v.value);
        }
        for o in &self.other {
            w.element(o);
        }
        w.end();
    }
}

/// The status part every response message starts with (`m:ResponseMessageType`):
/// `ResponseClass`, then `MessageText?`, `ResponseCode?`, `DescriptiveLinkKey?`,
/// `MessageXml?` in that order, which the EWS Managed API reads positionally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseStatus {
    /// `ResponseClass`.
    pub class: ResponseClass,
    /// `ResponseCode` (Exchange always sends it; `NoError` on success).
    pub code: Option<ResponseCode>,
    /// `MessageText` (errors and warnings).
    pub message_text: Option<String>,
    /// `DescriptiveLinkKey` (always 0 in practice).
    pub descriptive_link_key: Option<i32>,
    /// `MessageXml` (e.g. `BackOffMilliseconds`).
    pub message_xml: Option<MessageXml>,
}

impl ResponseStatus {
    /// `ResponseClass="Success"` with `NoError`.
    pub fn success() -> ResponseStatus {
        ResponseStatus {
            class: ResponseClass::Success,
            code: Some(ResponseCode::NoError),
            message_text: None,
            descriptive_link_key: None,
            message_xml: None,
        }
    }

    /// `ResponseClass="Error"` with the code, its text and `DescriptiveLinkKey` 0 (the
    /// three elements the Managed API requires on errors).
    pub fn error(code: ResponseCode, text: impl Into<String>) -> ResponseStatus {
        ResponseStatus {
            class: ResponseClass::Error,
            code: Some(code),
            message_text: Some(text.into()),
            descriptive_link_key: Some(0),
            message_xml: None,
        }
    }

    /// Builder: attaches a `MessageXml`.
    pub fn with_message_xml(mut self, xml: MessageXml) -> ResponseStatus {
        self.message_xml = Some(xml);
        self
    }

    /// True for `ResponseClass="Success"`.
    pub fn is_success(&self) -> bool {
        self.class == ResponseClass::Success
    }

    /// Reads the status from a response message element.
    pub fn from_xml(msg: &Element) -> Result<ResponseStatus, ParseError> {
        let m = Ns::Messages;
        let class = match msg.attr("ResponseClass") {
            Some(v) => v.trim().parse().map_err(|e: crate::value::BadEnum| {
                msg.invalid_attr("ResponseClass", v, e.to_string())
            })?,
            None => {
                return Err(ParseError::MissingAttribute {
                    element: msg.qname(),
                    attr: "ResponseClass".into(),
                    line: msg.line,
                    column: msg.column,
                });
            }
        };
        Ok(ResponseStatus {
            class,
            code: msg.text_of(&m, "ResponseCode").map(ResponseCode::parse),
            message_text: msg.child(&m, "MessageText").map(|c| c.text.clone()),
            descriptive_link_key: msg.parse_child(&m, "DescriptiveLinkKey")?,
            message_xml: msg
                .child(&m, "MessageXml")
                .map(MessageXml::from_xml)
                .transpose()?,
        })
    }

    /// Opens the message element `m:{tag}` with `ResponseClass` and writes the status
    /// children; the caller writes the payload and calls `end`.
    pub fn start(&self, w: &mut Writer, tag: &str) {
        w.start(
            &Ns::Messages,
            tag,
            &[("ResponseClass", self.class.as_str())],
        );
        self.write_children(w);
    }

    /// Writes the status children (without the enclosing element).
    pub fn write_children(&self, w: &mut Writer) {
        let m = Ns::Messages;
        if let Some(t) = &self.message_text {
            w.leaf(&m, "MessageText", t);
        }
        if let Some(c) = &self.code {
            w.leaf(&m, "ResponseCode", c.as_str());
        }
        if let Some(k) = self.descriptive_link_key {
            w.leaf(&m, "DescriptiveLinkKey", &k.to_string());
        }
        if let Some(x) = &self.message_xml {
            x.write(w, &m);
        }
    }
}

/// A SOAP fault (HTTP 500): the request as a whole failed (EWS.md §1.6).
///
/// `faultcode` is a QName; EWS writes `a:ErrorX` with `a` bound to the types namespace,
/// older faults `soap:Client`/`soap:Server`. Only the local part is kept
/// (`fault_code`), and whether it was a SOAP code (`soap_fault_code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoapFault {
    /// Local part of `faultcode`, e.g. `ErrorServerBusy` or `Client`.
    pub fault_code: String,
    /// True when `faultcode` is a SOAP code (`Client`, `Server`, …) rather than an EWS one.
    pub soap_fault_code: bool,
    /// `faultstring`.
    pub fault_string: String,
    /// `faultactor`, if present.
    pub fault_actor: Option<String>,
    /// `detail/e:ResponseCode`.
    pub response_code: Option<ResponseCode>,
    /// `detail/e:Message`.
    pub message: Option<String>,
    /// `detail/t:MessageXml`.
    pub message_xml: Option<MessageXml>,
    /// Other `detail` children (`e:Line`, `e:ExceptionType`, `m:ErrorCode`, …).
    pub detail_other: Vec<Element>,
}

const SOAP_FAULT_CODES: [&str; 4] = ["Client", "Server", "VersionMismatch", "MustUnderstand"];

impl SoapFault {
    /// The fault Exchange writes for `code`: `faultcode` `a:{code}`, the text as
    /// `faultstring` and `e:Message`, and `e:ResponseCode`.
    pub fn new(code: ResponseCode, text: impl Into<String>) -> SoapFault {
        let text = text.into();
        SoapFault {
            fault_code: code.as_str().to_owned(),
            soap_fault_code: false,
            fault_string: text.clone(),
            fault_actor: None,
            response_code: Some(code),
            message: Some(text),
            message_xml: None,
            detail_other: Vec::new(),
        }
    }

    /// Builder: attaches a `MessageXml` (e.g. `BackOffMilliseconds`).
    pub fn with_message_xml(mut self, xml: MessageXml) -> SoapFault {
        self.message_xml = Some(xml);
        self
    }

    /// The EWS code: `detail/e:ResponseCode`, else the local part of `faultcode` (what
    /// exchangelib does).
    pub fn code(&self) -> ResponseCode {
        self.response_code
            .clone()
            .unwrap_or_else(|| ResponseCode::parse(&self.fault_code))
    }

    /// Reads a `soap:Fault` element.
    pub fn from_xml(fault: &Element) -> Result<SoapFault, ParseError> {
        if !fault.is(&Ns::Soap, "Fault") {
            return Err(fault.unexpected("soap:Fault"));
        }
        // faultcode/faultstring/detail are unqualified in SOAP 1.1, but some writers put
        // them in the envelope namespace; accept both.
        let find = |name: &str| {
            fault
                .children
                .iter()
                .find(|c| c.name == name && matches!(c.ns, Ns::None | Ns::Soap))
        };
        let code_el = find("faultcode").ok_or_else(|| ParseError::MissingElement {
            parent: fault.qname(),
            expected: "faultcode".into(),
            line: fault.line,
            column: fault.column,
        })?;
        let raw = code_el.trimmed_text();
        let local = raw.rsplit(':').next().unwrap_or(raw).to_owned();
        let mut f = SoapFault {
            soap_fault_code: SOAP_FAULT_CODES.contains(&local.as_str()),
            fault_code: local,
            fault_string: find("faultstring")
                .map(|e| e.text.clone())
                .unwrap_or_default(),
            fault_actor: find("faultactor").map(|e| e.trimmed_text().to_owned()),
            response_code: None,
            message: None,
            message_xml: None,
            detail_other: Vec::new(),
        };
        if let Some(detail) = find("detail") {
            for c in &detail.children {
                if c.is(&Ns::Errors, "ResponseCode") {
                    f.response_code = Some(ResponseCode::parse(&c.text));
                } else if c.is(&Ns::Errors, "Message") {
                    f.message = Some(c.trimmed_text().to_owned());
                } else if c.name == "MessageXml" && matches!(c.ns, Ns::Types | Ns::Messages) {
                    f.message_xml = Some(MessageXml::from_xml(c)?);
                } else {
                    f.detail_other.push(c.clone());
                }
            }
        }
        Ok(f)
    }

    /// Writes `soap:Fault` in Exchange's shape.
    pub fn write(&self, w: &mut Writer) {
        w.start(&Ns::Soap, "Fault", &[]);
        if self.soap_fault_code {
            let code = format!("{}:{}", w.soap_prefix(), self.fault_code);
            w.leaf(&Ns::None, "faultcode", &code);
        } else {
            let code = format!("a:{}", self.fault_code);
            w.leaf_with_attrs(
                &Ns::None,
                "faultcode",
                &[("xmlns:a", crate::xml::TYPES_NS)],
                &code,
            );
        }
        w.leaf_with_attrs(
            &Ns::None,
            "faultstring",
            &[("xml:lang", "en-US")],
            &self.fault_string,
        );
        if let Some(a) = &self.fault_actor {
            w.leaf(&Ns::None, "faultactor", a);
        }
        let has_detail = self.response_code.is_some()
            || self.message.is_some()
            || self.message_xml.is_some()
            || !self.detail_other.is_empty();
        if has_detail {
            w.start(&Ns::None, "detail", &[]);
            if let Some(c) = &self.response_code {
                w.leaf(&Ns::Errors, "ResponseCode", c.as_str());
            }
            if let Some(m) = &self.message {
                w.leaf(&Ns::Errors, "Message", m);
            }
            for o in &self.detail_other {
                w.element(o);
            }
            if let Some(x) = &self.message_xml {
                x.write(w, &Ns::Types);
            }
            w.end();
        }
        w.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Limits, parse};

    #[test]
    fn codes_parse_trimmed_and_keep_unknown_ones() {
        assert_eq!(
            ResponseCode::parse("\n  ErrorServerBusy\n"),
            ResponseCode::ErrorServerBusy
        );
        assert_eq!(
            ResponseCode::parse("ErrorNew"),
            ResponseCode::Other("ErrorNew".into())
        );
        assert_eq!(
            ResponseCode::ErrorItemNotFound.as_str(),
            "ErrorItemNotFound"
        );
    }

    #[test]
    fn fault_round_trips_through_the_writer() {
        let fault = SoapFault::new(ResponseCode::ErrorServerBusy, "busy")
            .with_message_xml(MessageXml::value("BackOffMilliseconds", "5000"));
        let mut w = Writer::fragment();
        fault.write(&mut w);
        let s = w.into_string();
        assert!(s.contains(r#"<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>"#), "{s}");
        let tree = parse(s.as_bytes(), &Limits::default()).unwrap();
        let again = SoapFault::from_xml(&tree).unwrap();
        assert_eq!(again, fault);
        assert_eq!(
            again.message_xml.unwrap().back_off_milliseconds(),
            Some(5000)
        );
    }

    #[test]
    fn status_needs_a_valid_response_class() {
        let tree = parse(br#"<m:X xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" ResponseClass="Fine"/>"#, &Limits::default()).unwrap();
        let err = ResponseStatus::from_xml(&tree).unwrap_err();
        assert!(
            err.to_string()
                .contains("m:X/@ResponseClass: invalid value `Fine`"),
            "{err}"
        );
    }
}
