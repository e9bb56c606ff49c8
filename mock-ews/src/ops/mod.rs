//! EWS operations: request checks common to all (version, impersonation), then dispatch on
//! the local name of the body element.
//!
//! Anything not implemented answers the HTTP 500 `ErrorInvalidRequest` fault real Exchange
//! gives for an unknown operation (EWS.md §9), never a crash or an empty 200.

mod availability;
mod calendar;
mod common;

pub(crate) use common::{Messages, MsgError};
mod convert_id;
mod meeting;
mod notification;
mod oof;
mod sync;
mod time_zones;
mod write;

use ews_proto::{Envelope, ExchangeVersion, Ns, Request};

use crate::journal::Outcome;
use crate::notification::Notifications;
use crate::soap::SoapFault;
use crate::store::Store;
use crate::world::{Principal, ServerVersion};

/// What an operation answers.
#[derive(Debug)]
pub(crate) enum Reply {
    /// HTTP 200 with this document.
    Body { bytes: Vec<u8>, outcome: Outcome },
    /// HTTP 500 SOAP fault.
    Fault(SoapFault),
    /// A response whose body is written over time (GetStreamingEvents); boxed to keep
    /// `Reply` small.
    Stream {
        response: Box<axum::response::Response>,
        outcome: Outcome,
    },
}

/// Everything an operation needs to know about the caller.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a Store,
    pub(crate) notifications: &'a std::sync::Arc<Notifications>,
    pub(crate) principal: &'a Principal,
    /// The mailbox the caller acts as through ExchangeImpersonation (lower-case SMTP).
    pub(crate) acting_as: Option<String>,
    pub(crate) server: ServerVersion,
    pub(crate) envelope: &'a Envelope,
}

impl Ctx<'_> {
    /// The zone for zone-less times outside calendar items: `TimeZoneContext`, else UTC.
    pub(crate) fn request_zone(&self) -> chrono_tz::Tz {
        self.envelope
            .header
            .time_zone_context
            .as_ref()
            .and_then(|c| crate::zone::parse_zone(&c.id))
            .unwrap_or(chrono_tz::UTC)
    }
}

/// Position of a requested version in the schema order; `None` for unknown values.
fn version_rank(v: &ExchangeVersion) -> Option<usize> {
    const ORDER: [&str; 11] = [
        "Exchange2007",
        "Exchange2007_SP1",
        "Exchange2009",
        "Exchange2010",
        "Exchange2010_SP1",
        "Exchange2010_SP2",
        "Exchange2012",
        "Exchange2013",
        "Exchange2013_SP1",
        "Exchange2015",
        "Exchange2016",
    ];
    let s = v.as_str();
    ORDER
        .iter()
        .position(|o| *o == s)
        .or_else(|| (v.is_known() && s.starts_with('V')).then_some(ORDER.len()))
}

/// The newest `RequestServerVersion` a profile accepts: an Exchange 2010 server does not
/// know `Exchange2013`, which is how clients such as exchangelib detect its version.
fn newest_accepted(server: ServerVersion) -> usize {
    match server {
        ServerVersion::Exchange2010Sp2 | ServerVersion::Exchange2010Sp3 => 5,
        ServerVersion::Exchange2013 => 8,
        ServerVersion::Exchange2016 | ServerVersion::Exchange2019 => usize::MAX,
    }
}

/// Checks the common headers and runs the operation.
pub(crate) fn dispatch(
    store: &Store,
    notifications: &std::sync::Arc<Notifications>,
    principal: &Principal,
    envelope: &Envelope,
) -> Reply {
    let server = store.read(|w| w.server);
    if let Some(v) = &envelope.header.request_server_version {
        match version_rank(v) {
            Some(rank) if rank <= newest_accepted(server) => {}
            _ => {
                return Reply::Fault(SoapFault::new(
                    "ErrorInvalidServerVersion",
                    "The specified server version is invalid.",
                ));
            }
        }
    }
    let acting_as = match &envelope.header.impersonation {
        None => None,
        Some(sid) if sid.value().trim().is_empty() => {
            return Reply::Fault(SoapFault::new(
                "ErrorInvalidExchangeImpersonationHeaderData",
                "An ExchangeImpersonation SOAP header must contain a user principal name, user SID, or primary SMTP address.",
            ));
        }
        Some(sid) => match store.read(|w| w.impersonate(principal, sid.value())) {
            Ok(mb) => Some(mb),
            Err(err) => {
                let f = match &err {
                    crate::world::AccessError::NonExistentMailbox(smtp) => SoapFault::new(
                        err.response_code(),
                        "The SMTP address has no mailbox associated with it.",
                    )
                    .with_value("SmtpAddress", smtp.clone()),
                    crate::world::AccessError::ImpersonateUserDenied { .. } => SoapFault::new(
                        err.response_code(),
                        "The account does not have permission to impersonate the requested user.",
                    ),
                };
                return Reply::Fault(f);
            }
        },
    };
    let body = &envelope.body;
    if body.ns != Ns::Messages {
        return Reply::Fault(SoapFault::new(
            "ErrorInvalidRequest",
            format!(
                "The request is invalid: {} is not an operation of the EWS messages namespace.",
                body.qname()
            ),
        ));
    }
    let ctx = Ctx {
        store,
        notifications,
        principal,
        acting_as,
        server,
        envelope,
    };
    run(&ctx, &body.name)
}

fn run(ctx: &Ctx<'_>, operation: &str) -> Reply {
    match Request::from_xml(&ctx.envelope.body) {
        Ok(Request::ConvertId(r)) => convert_id::convert_id(ctx, &r),
        Ok(Request::GetFolder(r)) => calendar::get_folder(ctx, &r),
        Ok(Request::GetUserOofSettings(r)) => oof::get(ctx, &r),
        Ok(Request::SetUserOofSettings(r)) => oof::set(ctx, &r),
        Ok(Request::FindItem(r)) => calendar::find_item(ctx, &r),
        Ok(Request::GetItem(r)) => calendar::get_item(ctx, &r),
        Ok(Request::GetUserAvailability(r)) => availability::get_user_availability(ctx, &r),
        Ok(Request::GetServerTimeZones(r)) => time_zones::get_server_time_zones(ctx, &r),
        Ok(Request::CreateItem(r)) => write::create_item(ctx, &r),
        Ok(Request::UpdateItem(r)) => write::update_item(ctx, &r),
        Ok(Request::DeleteItem(r)) => write::delete_item(ctx, &r),
        Ok(Request::SyncFolderItems(r)) => sync::sync_folder_items(ctx, &r),
        Ok(Request::Subscribe(r)) => notification::subscribe(ctx, &r),
        Ok(Request::GetEvents(r)) => notification::get_events(ctx, &r),
        Ok(Request::Unsubscribe(r)) => notification::unsubscribe(ctx, &r),
        Ok(Request::GetStreamingEvents(r)) => notification::get_streaming_events(ctx, &r),
        Ok(_) | Err(ews_proto::ParseError::UnknownOperation { .. }) => unsupported(operation),
        Err(err) => Reply::Fault(crate::server::parse_fault(&err)),
    }
}

fn unsupported(operation: &str) -> Reply {
    Reply::Fault(SoapFault::new(
        "ErrorInvalidRequest",
        format!("The request is invalid: operation {operation} is not supported by this server."),
    ))
}
