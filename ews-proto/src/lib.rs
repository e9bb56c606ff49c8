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
pub use xml::{Element, Limits, Ns, ParseError, Writer, parse, parse_many};
