//! The Exchange Web Services wire format, shared by mock-ews (parses requests, writes
//! responses) and sync-engine (writes requests, parses responses).
//!
//! Reading goes in two steps: [`xml::parse`] builds a namespace-resolved element tree
//! (bounded by [`Limits`], DOCTYPE rejected, never panics), then typed code reads the tree
//! by namespace and local name. Writing goes through [`Writer`], which emits Exchange's
//! prefixes (`s:`/`soap:`, `m:`, `t:`, `e:`).
//!
//! Entry points: [`Request`] and [`Response`] (one variant per operation, `parse` from an
//! [`Envelope`], `write` to bytes) and [`Message`], which classifies anything.
//!
//! ```
//! use ews_proto::{Headers, Limits, Request, Response, ResponseStatus, ServerVersionInfo};
//! use ews_proto::oof::{GetUserOofSettings, GetUserOofSettingsResponse};
//!
//! // A client writes a request ...
//! let request = Request::GetUserOofSettings(GetUserOofSettings {
//!     mailbox: ews_proto::oof::EmailAddress::new("desk@contoso.test"),
//! });
//! let bytes = request.write(&Headers::request(ews_proto::ExchangeVersion::Exchange2013_SP1));
//!
//! // ... a server parses it, by namespace, whatever the prefixes ...
//! let (headers, parsed) = Request::parse_bytes(&bytes, &Limits::default())?;
//! assert_eq!(parsed, request);
//! assert!(headers.request_server_version.is_some());
//!
//! // ... and answers in Exchange's shape.
//! let response = Response::GetUserOofSettings(GetUserOofSettingsResponse {
//!     status: ResponseStatus::success(),
//!     oof_settings: None,
//!     allow_external_oof: None,
//! });
//! let info = ServerVersionInfo { major_version: Some(15), ..Default::default() };
//! let xml = String::from_utf8(response.write(&Headers::response(info))).unwrap();
//! assert!(xml.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope"#));
//! # Ok::<(), ews_proto::ParseError>(())
//! ```
//!
//! **Invariant:** this crate does no I/O and never reads a clock.

pub mod autodiscover;
pub mod availability;
pub mod calendar;
pub mod convert_id;
pub mod envelope;
pub mod error;
pub mod folder;
pub mod header;
pub mod item;
pub mod notification;
pub mod oof;
pub mod operation;
pub mod recurrence;
pub mod response;
pub mod sync;
pub mod time_zones;
pub mod timezone;
pub mod value;
pub mod xml;

pub use envelope::{Envelope, write_envelope, write_streaming_envelope};
pub use error::{MessageXml, ResponseClass, ResponseCode, ResponseStatus, SoapFault};
pub use header::{
    ConnectingSid, DateTimePrecision, ExchangeVersion, Headers, ServerVersionInfo, TimeZoneContext,
};
pub use item::{CalendarItem, FolderRef, Item, ItemId, ItemRef, Mailbox, PropertyPath, Shape};
pub use operation::{Message, MessageBody, Request, Response};
pub use response::{Payload, ResponseMessage, Responses};
pub use value::{EwsDate, EwsDateTime};
pub use xml::{Element, Limits, Ns, ParseError, Writer, XmlText, parse, parse_many};
