//! The Exchange Web Services wire format, shared by mock-ews (parses requests, writes
//! responses) and sync-engine (writes requests, parses responses).
//!
//! Reading goes in two steps: [`xml::parse`] builds a namespace-resolved element tree
//! (bounded by [`Limits`], DOCTYPE rejected, never panics), then typed code reads the tree
//! by namespace and local name. Writing goes through [`Writer`], which emits Exchange's
//! prefixes (`s:`/`soap:`, `m:`, `t:`, `e:`).
//!
//! **Invariant:** this crate does no I/O and never reads a clock.

pub mod envelope;
pub mod header;
pub mod timezone;
pub mod xml;

pub use envelope::{Envelope, write_envelope};
pub use header::{
    ConnectingSid, DateTimePrecision, ExchangeVersion, Headers, ServerVersionInfo, TimeZoneContext,
};
pub use xml::{Element, Limits, Ns, ParseError, Writer, parse};
