//! The EWS messages the engine sends and reads, over ews-proto's envelope, headers and
//! element tree. Pure: bytes in, values out, no I/O and no clock.
//!
//! Requests, each one of ews-proto's typed requests written by ews-proto: the `ConvertId`
//! version probe (as exchangelib sends it), `FindItem` with a `CalendarView`, `GetItem` of
//! notified items, `GetUserOofSettings`, `GetUserAvailability` with the `FreeBusy` view (no
//! subjects are requested in privacy mode: the `FreeBusy` view has no details), `Subscribe`,
//! `GetEvents`, `GetStreamingEvents`, and the push listener's `SendNotificationResult`.
//!
//! Responses: each is checked for a SOAP fault and for `ResponseClass="Error"` first; both
//! forms of `ErrorServerBusy` yield their `BackOffMilliseconds` (fault: `t:MessageXml`;
//! message: `m:MessageXml`). Anything unexpected (truncated XML, a missing element, a time
//! that does not parse) is [`ExchangeError::Malformed`], never a panic.

use calendar_core::{FreeBusyStatus, OofSettings, OofState, OofWindow};
use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use ews_proto::header::{ConnectingSid, ExchangeVersion, Headers};
use ews_proto::item::{BaseShape, DistinguishedFolderId, FolderRef, ItemRef, PropertyPath, Shape};
use ews_proto::notification::EventType;
use ews_proto::oof::EmailAddress;
use ews_proto::{Element, Envelope, EwsDateTime, Limits, Ns};

use crate::exchange::{
    Appointment, Events, ExchangeError, FetchedItem, ItemEvent, ServerVersion, Subscription,
    SubscriptionKind,
};

/// The wait used when a server says `ErrorServerBusy` without a `BackOffMilliseconds`.
pub const DEFAULT_BUSY_BACK_OFF_MS: i64 = 5_000;

/// Builds a request envelope: `RequestServerVersion`, and `ExchangeImpersonation` when the
/// request acts on a mailbox. Every request is one of ews-proto's typed requests, written by
/// ews-proto (the one definition of the wire format mock-ews parses too).
pub fn request(version: &str, impersonate: Option<&str>, body: &ews_proto::Request) -> Vec<u8> {
    let headers = Headers {
        request_server_version: Some(ExchangeVersion::parse(version)),
        impersonation: impersonate.map(|m| ConnectingSid::SmtpAddress(m.to_string())),
        ..Headers::default()
    };
    body.write(&headers)
}

/// A UTC instant as EWS writes it, whole seconds (what the engine has always sent).
fn utc(t: DateTime<Utc>) -> EwsDateTime {
    EwsDateTime::utc(t.trunc_subsecs(0))
}

/// `<t:DistinguishedFolderId Id="calendar">` of `mailbox` (exchangelib's shape: with the
/// mailbox, so it also holds without impersonation).
fn calendar_of(mailbox: &str) -> FolderRef {
    FolderRef::Distinguished(DistinguishedFolderId {
        id: "calendar".into(),
        change_key: None,
        mailbox: Some(ews_proto::Mailbox::smtp(mailbox)),
    })
}

/// The version probe: a `ConvertId` of a dummy id. Real servers answer it with an error
/// message (`ErrorInvalidSmtpAddress`) and, what we want, a `ServerVersionInfo` header.
pub fn convert_id_probe(version: &str) -> Vec<u8> {
    let probe = ews_proto::convert_id::ConvertId {
        destination_format: "EntryId".into(),
        source_ids: vec![ews_proto::convert_id::AlternateId {
            format: "EwsId".into(),
            id: "DUMMY".into(),
            mailbox: "DUMMY".into(),
            is_archive: None,
        }],
    };
    request(version, None, &ews_proto::Request::ConvertId(probe))
}

/// The calendar properties the engine reads from FindItem and GetItem.
const ITEM_FIELDS: [&str; 9] = [
    "item:Subject",
    "item:Sensitivity",
    "calendar:Start",
    "calendar:End",
    "calendar:LegacyFreeBusyStatus",
    "calendar:Location",
    "calendar:IsAllDayEvent",
    "calendar:IsCancelled",
    "calendar:UID",
];

/// `IdOnly` plus `fields`.
fn shape(fields: &[&str]) -> Shape {
    Shape {
        base_shape: BaseShape::IdOnly,
        body_type: None,
        additional_properties: fields
            .iter()
            .map(|f| PropertyPath::Field((*f).to_string()))
            .collect(),
    }
}

/// `FindItem` over the mailbox's calendar with a `CalendarView` of `[start, end)`.
pub fn find_item_calendar_view(
    version: &str,
    mailbox: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max_entries: u32,
) -> Vec<u8> {
    let find = ews_proto::calendar::FindItem {
        traversal: ews_proto::calendar::Traversal::Shallow,
        item_shape: shape(&ITEM_FIELDS),
        view: Some(ews_proto::calendar::ItemView::Calendar(
            ews_proto::calendar::CalendarView {
                max_entries_returned: Some(max_entries),
                start_date: utc(start),
                end_date: utc(end),
            },
        )),
        other: Vec::new(),
        parent_folder_ids: vec![calendar_of(mailbox)],
    };
    request(version, Some(mailbox), &ews_proto::Request::FindItem(find))
}

/// `GetItem` of `ids`: the engine's properties plus `CalendarItemType`, which tells a
/// single item from a series.
pub fn get_item(version: &str, mailbox: &str, ids: &[String]) -> Vec<u8> {
    let mut fields = ITEM_FIELDS.to_vec();
    fields.push("calendar:CalendarItemType");
    let get = ews_proto::calendar::GetItem {
        item_shape: shape(&fields),
        item_ids: ids
            .iter()
            .map(|id| {
                ItemRef::ItemId(ews_proto::ItemId {
                    id: id.clone(),
                    change_key: None,
                })
            })
            .collect(),
    };
    request(version, Some(mailbox), &ews_proto::Request::GetItem(get))
}

/// `GetUserOofSettingsRequest` for `mailbox`.
pub fn get_user_oof_settings(version: &str, mailbox: &str) -> Vec<u8> {
    let get = ews_proto::oof::GetUserOofSettings {
        mailbox: EmailAddress::new(mailbox),
    };
    request(
        version,
        Some(mailbox),
        &ews_proto::Request::GetUserOofSettings(get),
    )
}

/// The legacy `t:TimeZone` of UTC: zero bias, no transitions. ews-proto reads this block
/// (`LegacyTimeZone`) but keeps it as an element and has no writer for it, so it is built
/// here as an element.
fn utc_time_zone() -> Element {
    let t = |name: &str, text: &str, children: Vec<Element>| Element {
        ns: Ns::Types,
        name: name.to_string(),
        attrs: Vec::new(),
        children,
        text: text.to_string(),
        line: 0,
        column: 0,
    };
    let period = |name: &str| {
        t(
            name,
            "",
            vec![
                t("Bias", "0", Vec::new()),
                t("Time", "00:00:00", Vec::new()),
                t("DayOrder", "1", Vec::new()),
                t("Month", "1", Vec::new()),
                t("DayOfWeek", "Sunday", Vec::new()),
            ],
        )
    };
    t(
        "TimeZone",
        "",
        vec![
            t("Bias", "0", Vec::new()),
            period("StandardTime"),
            period("DaylightTime"),
        ],
    )
}

/// `GetUserAvailabilityRequest` with the `FreeBusy` view (start, end and show-as only) in
/// UTC: the legacy `t:TimeZone` with zero bias and no transitions, so the zone-less times
/// of request and answer are UTC.
pub fn get_user_availability(
    version: &str,
    mailbox: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<u8> {
    let local = |t: DateTime<Utc>| EwsDateTime::Floating(t.trunc_subsecs(0).naive_utc());
    let get = ews_proto::availability::GetUserAvailability {
        time_zone: Some(utc_time_zone()),
        mailbox_data: vec![ews_proto::availability::MailboxData {
            email: EmailAddress::new(mailbox),
            attendee_type: "Required".into(),
            exclude_conflicts: Some(false),
        }],
        free_busy_view_options: Some(ews_proto::availability::FreeBusyViewOptions {
            start_time: local(start),
            end_time: local(end),
            merged_free_busy_interval_in_minutes: Some(30),
            requested_view: Some("FreeBusy".into()),
        }),
        suggestions_view_options: None,
    };
    request(
        version,
        Some(mailbox),
        &ews_proto::Request::GetUserAvailability(get),
    )
}

/// The events a calendar subscription asks for (FreeBusyChangedEvent is left out: it is
/// 2010 SP1+ only and always accompanies a ModifiedEvent).
const EVENT_TYPES: [EventType; 5] = [
    EventType::CreatedEvent,
    EventType::DeletedEvent,
    EventType::ModifiedEvent,
    EventType::MovedEvent,
    EventType::CopiedEvent,
];

/// `Subscribe` to the mailbox's calendar folder, in the given mode.
pub fn subscribe(version: &str, mailbox: &str, kind: &SubscriptionKind) -> Vec<u8> {
    use ews_proto::notification::{Subscribe, SubscriptionScope};
    let scope = SubscriptionScope {
        subscribe_to_all_folders: None,
        folder_ids: Some(vec![calendar_of(mailbox)]),
        event_types: EVENT_TYPES.to_vec(),
    };
    let subscribe = match kind {
        SubscriptionKind::Pull { timeout_minutes } => Subscribe::Pull {
            scope,
            watermark: None,
            timeout: *timeout_minutes,
        },
        SubscriptionKind::Streaming => Subscribe::Streaming { scope },
        SubscriptionKind::Push {
            url,
            status_frequency_minutes,
        } => Subscribe::Push {
            scope,
            watermark: None,
            status_frequency: Some(*status_frequency_minutes),
            url: url.clone(),
        },
    };
    request(
        version,
        Some(mailbox),
        &ews_proto::Request::Subscribe(subscribe),
    )
}

/// `GetEvents` of a pull subscription from its watermark.
pub fn get_events(version: &str, mailbox: &str, subscription: &Subscription) -> Vec<u8> {
    let get = ews_proto::notification::GetEvents {
        subscription_id: subscription.id.clone(),
        watermark: subscription.watermark.clone().unwrap_or_default(),
    };
    request(version, Some(mailbox), &ews_proto::Request::GetEvents(get))
}

/// `GetStreamingEvents` for a group of subscriptions, held open `minutes` (1..=30).
pub fn get_streaming_events(version: &str, anchor: &str, ids: &[String], minutes: u32) -> Vec<u8> {
    let get = ews_proto::notification::GetStreamingEvents {
        subscription_ids: ids.to_vec(),
        connection_timeout: minutes.clamp(1, 30),
    };
    request(
        version,
        Some(anchor),
        &ews_proto::Request::GetStreamingEvents(get),
    )
}

/// The answer to a push notification: keep the subscription (`OK`) or drop it
/// (`Unsubscribe`, for a subscription the engine no longer knows).
pub fn send_notification_result(keep: bool) -> Vec<u8> {
    use ews_proto::notification::{SendNotificationResult, SubscriptionStatus};
    let result = SendNotificationResult {
        subscription_status: if keep {
            SubscriptionStatus::Ok
        } else {
            SubscriptionStatus::Unsubscribe
        },
    };
    ews_proto::Response::SendNotificationResult(result).write(&Headers::default())
}

// ---------------------------------------------------------------------------------------------
// Responses.

fn malformed(operation: &'static str, message: impl Into<String>) -> ExchangeError {
    ExchangeError::Malformed {
        operation,
        message: message.into(),
    }
}

/// Parses a response body into an envelope; a SOAP fault becomes its error.
pub fn parse_envelope(
    operation: &'static str,
    mailbox: Option<&str>,
    bytes: &[u8],
) -> Result<Envelope, ExchangeError> {
    let envelope = Envelope::parse(bytes, &Limits::default())
        .map_err(|e| malformed(operation, e.to_string()))?;
    if envelope.is_fault() {
        return Err(fault_error(operation, mailbox, &envelope.body));
    }
    Ok(envelope)
}

/// The server version from a response's `ServerVersionInfo` header.
pub fn server_version(
    operation: &'static str,
    envelope: &Envelope,
) -> Result<ServerVersion, ExchangeError> {
    let info = envelope
        .header
        .server_version_info
        .as_ref()
        .ok_or_else(|| malformed(operation, "no ServerVersionInfo header in the response"))?;
    match (
        info.major_version,
        info.minor_version,
        info.major_build_number,
        info.minor_build_number,
    ) {
        (Some(major), Some(minor), Some(major_build), Some(minor_build)) => Ok(ServerVersion {
            major,
            minor,
            major_build,
            minor_build,
        }),
        _ => Err(malformed(
            operation,
            "ServerVersionInfo lacks MajorVersion/MinorVersion/MajorBuildNumber/MinorBuildNumber",
        )),
    }
}

fn back_off(value: Option<&str>) -> Duration {
    let ms = value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ms| *ms >= 0)
        .unwrap_or(DEFAULT_BUSY_BACK_OFF_MS);
    Duration::milliseconds(ms)
}

/// Maps an EWS response code to an error.
pub fn code_error(
    operation: &'static str,
    mailbox: Option<&str>,
    code: &str,
    message: &str,
    back_off_ms: Option<&str>,
) -> ExchangeError {
    let mailbox = mailbox.unwrap_or("").to_string();
    match code {
        "ErrorServerBusy" => ExchangeError::ServerBusy {
            operation,
            back_off: back_off(back_off_ms),
        },
        "ErrorNonExistentMailbox" | "ErrorMailRecipientNotFound" | "ErrorInvalidSmtpAddress" => {
            ExchangeError::MailboxNotFound {
                operation,
                mailbox,
                code: code.to_string(),
            }
        }
        "ErrorImpersonateUserDenied" | "ErrorImpersonationDenied" | "ErrorImpersonationFailed" => {
            ExchangeError::ImpersonationDenied {
                operation,
                mailbox,
                code: code.to_string(),
            }
        }
        "ErrorSubscriptionNotFound"
        | "ErrorExpiredSubscription"
        | "ErrorInvalidSubscription"
        | "ErrorInvalidWatermark"
        | "ErrorReadEventsFailed"
        | "ErrorSubscriptionUnsubscribed" => ExchangeError::SubscriptionLost {
            operation,
            code: code.to_string(),
        },
        "ErrorAccessDenied" => ExchangeError::AccessDenied {
            operation,
            mailbox,
            code: code.to_string(),
            message: message.to_string(),
        },
        _ => ExchangeError::Ews {
            operation,
            code: code.to_string(),
            message: message.to_string(),
        },
    }
}

/// The error a SOAP fault carries (read by ews-proto): `detail/e:ResponseCode`, else the
/// faultcode's local part, and `BackOffMilliseconds` from `detail/t:MessageXml`.
pub fn fault_error(
    operation: &'static str,
    mailbox: Option<&str>,
    fault: &Element,
) -> ExchangeError {
    let fault = match ews_proto::SoapFault::from_xml(fault) {
        Ok(f) => f,
        Err(e) => return malformed(operation, format!("unreadable SOAP fault: {e}")),
    };
    let text = fault.fault_string.trim().to_string();
    let code = if fault.response_code.is_some() || !fault.soap_fault_code {
        fault.code().as_str().to_string()
    } else if text.contains("AccessDenied") || text.contains("not mailbox owner") {
        // A bare soap:Client/soap:Server fault: recognise access problems by their text.
        "ErrorAccessDenied".to_string()
    } else {
        format!("SoapFault({})", fault.fault_code)
    };
    let back_off = fault
        .message_xml
        .as_ref()
        .and_then(|x| x.get("BackOffMilliseconds"));
    code_error(operation, mailbox, &code, &text, back_off)
}

/// The error an Error-class status carries (warnings pass: their payload is valid).
/// `ErrorInternalServerError` may wrap the real code; an inner `ErrorServerBusy` is
/// throttling.
pub fn status_error(
    operation: &'static str,
    mailbox: Option<&str>,
    status: &ews_proto::ResponseStatus,
) -> Result<(), ExchangeError> {
    if status.class != ews_proto::ResponseClass::Error {
        return Ok(());
    }
    let xml = status.message_xml.as_ref();
    let mut code = status
        .code
        .as_ref()
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let mut text = status
        .message_text
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_string();
    if code == "ErrorInternalServerError"
        && let Some(inner) = xml.and_then(|x| x.get("InnerErrorResponseCode"))
    {
        code = inner.trim().to_string();
        if let Some(inner_text) = xml.and_then(|x| x.get("InnerErrorMessageText")) {
            text = inner_text.trim().to_string();
        }
    }
    Err(code_error(
        operation,
        mailbox,
        &code,
        &text,
        xml.and_then(|x| x.get("BackOffMilliseconds")),
    ))
}

/// Checks a `ResponseMessage`-shaped element (see [`status_error`]).
pub fn check_message(
    operation: &'static str,
    mailbox: Option<&str>,
    message: &Element,
) -> Result<(), ExchangeError> {
    let status = ews_proto::ResponseStatus::from_xml(message)
        .map_err(|e| malformed(operation, e.to_string()))?;
    status_error(operation, mailbox, &status)
}

/// The single `*ResponseMessage` of a `ResponseMessages` response.
#[cfg(test)]
fn only_message<'a>(
    operation: &'static str,
    body: &'a Element,
) -> Result<&'a Element, ExchangeError> {
    body.child(&Ns::Messages, "ResponseMessages")
        .and_then(Element::first_child)
        .ok_or_else(|| {
            malformed(
                operation,
                format!("{} has no ResponseMessages", body.qname()),
            )
        })
}

/// A UTC instant as EWS writes it: `…Z`, an offset, or zone-less (taken as UTC, which is
/// what OOF times are and what we ask availability times to be).
pub fn parse_time(operation: &'static str, text: &str) -> Result<DateTime<Utc>, ExchangeError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| malformed(operation, format!("`{text}` is not a date-time")))
}

/// One page of a `FindItem` `CalendarView` (read by ews-proto): the items and whether the
/// page reached the end of the view (`IncludesLastItemInRange`).
pub fn parse_calendar_view(
    mailbox: &str,
    bytes: &[u8],
) -> Result<(Vec<Appointment>, bool), ExchangeError> {
    const OP: &str = "FindItem";
    let envelope = parse_envelope(OP, Some(mailbox), bytes)?;
    let response =
        ews_proto::Responses::<ews_proto::calendar::FindItemResult>::from_xml(&envelope.body)
            .map_err(|e| malformed(OP, e.to_string()))?;
    let message = response
        .messages
        .into_iter()
        .next()
        .ok_or_else(|| malformed(OP, "FindItemResponse has no message"))?;
    status_error(OP, Some(mailbox), &message.status)?;
    let root = message
        .payload
        .root_folder
        .ok_or_else(|| malformed(OP, "FindItemResponseMessage has no RootFolder"))?;
    let complete = root.includes_last_item_in_range.unwrap_or(true);
    let mut out = Vec::new();
    for item in root.items {
        let ews_proto::Item::Calendar(item) = item else {
            continue;
        };
        out.push(appointment(OP, &item)?);
    }
    Ok((out, complete))
}

/// A `GetItem` answer (read by ews-proto): one [`FetchedItem`] per requested id, in order.
/// `ErrorItemNotFound` for an id is [`FetchedItem::Missing`]; any other error fails the call.
pub fn parse_get_item(
    mailbox: &str,
    ids: &[String],
    bytes: &[u8],
) -> Result<Vec<FetchedItem>, ExchangeError> {
    use ews_proto::item::CalendarItemType;
    const OP: &str = "GetItem";
    let envelope = parse_envelope(OP, Some(mailbox), bytes)?;
    let response = ews_proto::calendar::GetItemResponse::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    if response.messages.len() != ids.len() {
        return Err(malformed(
            OP,
            format!(
                "{} response messages for {} ids",
                response.messages.len(),
                ids.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (id, message) in ids.iter().zip(response.messages) {
        let not_found = message
            .status
            .code
            .as_ref()
            .is_some_and(|c| c.as_str() == "ErrorItemNotFound");
        if message.status.class == ews_proto::ResponseClass::Error && not_found {
            out.push(FetchedItem::Missing { id: id.clone() });
            continue;
        }
        status_error(OP, Some(mailbox), &message.status)?;
        let item = message
            .payload
            .0
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .ok_or_else(|| malformed(OP, "GetItemResponseMessage has no item"))?;
        out.push(match item {
            ews_proto::Item::Calendar(item) => match item.calendar_item_type {
                Some(CalendarItemType::Single) | None => {
                    FetchedItem::Single(appointment(OP, &item)?)
                }
                Some(_) => FetchedItem::Series { id: id.clone() },
            },
            // Not a calendar item (a meeting message filed in the calendar): let a
            // CalendarView say what the calendar holds.
            _ => FetchedItem::Series { id: id.clone() },
        });
    }
    Ok(out)
}

/// The engine's view of a calendar item.
fn appointment(
    operation: &'static str,
    item: &ews_proto::CalendarItem,
) -> Result<Appointment, ExchangeError> {
    use ews_proto::item::{LegacyFreeBusyStatus as L, Sensitivity};
    let instant = |t: &Option<ews_proto::EwsDateTime>, name: &str| {
        t.as_ref()
            .and_then(|t| t.instant_in(&Utc))
            .ok_or_else(|| malformed(operation, format!("CalendarItem without a usable {name}")))
    };
    // A private item blocks time, but its subject and location are never kept, whatever
    // the mailbox's privacy mode (CALENDAR-SEMANTICS #33): dropping them here, where the
    // EWS item becomes an appointment, means no state, log line or API answer can hold them.
    let private = matches!(
        item.sensitivity,
        Some(Sensitivity::Private | Sensitivity::Confidential)
    );
    Ok(Appointment {
        id: item.item_id.as_ref().map(|i| i.id.clone()),
        uid: item
            .uid
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        subject: item
            .subject
            .as_ref()
            .filter(|_| !private)
            .map(|s| s.trim().to_string()),
        location: item
            .location
            .as_deref()
            .filter(|_| !private)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        start: instant(&item.start, "Start")?,
        end: instant(&item.end, "End")?,
        status: match item.legacy_free_busy_status {
            Some(L::Free) => FreeBusyStatus::Free,
            Some(L::Tentative) => FreeBusyStatus::Tentative,
            Some(L::Busy) | None => FreeBusyStatus::Busy,
            Some(L::Oof) => FreeBusyStatus::Oof,
            Some(L::WorkingElsewhere) => FreeBusyStatus::WorkingElsewhere,
            Some(L::NoData) => FreeBusyStatus::NoData,
        },
        all_day: item.is_all_day_event.unwrap_or(false),
        cancelled: item.is_cancelled.unwrap_or(false),
        private,
        time_zone: None,
    })
}

/// A `GetUserOofSettings` answer (read by ews-proto). Its times are UTC (written without a
/// zone by Exchange).
pub fn parse_oof(mailbox: &str, bytes: &[u8]) -> Result<OofSettings, ExchangeError> {
    const OP: &str = "GetUserOofSettings";
    let envelope = parse_envelope(OP, Some(mailbox), bytes)?;
    let response = ews_proto::oof::GetUserOofSettingsResponse::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    status_error(OP, Some(mailbox), &response.status)?;
    let settings = response
        .oof_settings
        .ok_or_else(|| malformed(OP, "no OofSettings"))?;
    let window = match &settings.duration {
        Some(d) => Some(OofWindow {
            start: d
                .start_time
                .instant_in(&Utc)
                .ok_or_else(|| malformed(OP, "unusable Duration/StartTime"))?,
            end: d
                .end_time
                .instant_in(&Utc)
                .ok_or_else(|| malformed(OP, "unusable Duration/EndTime"))?,
        }),
        None => None,
    };
    let reply = |r: &Option<ews_proto::oof::ReplyBody>| {
        r.as_ref().map(|r| r.message.clone()).unwrap_or_default()
    };
    Ok(OofSettings {
        state: match settings.oof_state {
            ews_proto::oof::OofState::Disabled => OofState::Disabled,
            ews_proto::oof::OofState::Enabled => OofState::Enabled,
            ews_proto::oof::OofState::Scheduled => OofState::Scheduled,
        },
        window,
        internal_reply: reply(&settings.internal_reply),
        external_reply: reply(&settings.external_reply),
    })
}

/// A `GetUserAvailability` answer for one mailbox (read by ews-proto): its events (start,
/// end, show-as only; any details a server adds are dropped). Times are in the request's
/// zone, which we ask to be UTC.
pub fn parse_availability(mailbox: &str, bytes: &[u8]) -> Result<Vec<Appointment>, ExchangeError> {
    use ews_proto::item::LegacyFreeBusyStatus as L;
    const OP: &str = "GetUserAvailability";
    let envelope = parse_envelope(OP, Some(mailbox), bytes)?;
    let response = ews_proto::availability::GetUserAvailabilityResponse::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    let first = response
        .free_busy_responses
        .into_iter()
        .next()
        .ok_or_else(|| malformed(OP, "no FreeBusyResponse"))?;
    status_error(OP, Some(mailbox), &first.status)?;
    let events = first
        .view
        .and_then(|v| v.calendar_events)
        .unwrap_or_default();
    events
        .iter()
        .map(|e| {
            let at = |t: &ews_proto::EwsDateTime, name: &str| {
                t.instant_in(&Utc)
                    .ok_or_else(|| malformed(OP, format!("unusable CalendarEvent {name}")))
            };
            Ok(Appointment::new(
                at(&e.start_time, "StartTime")?,
                at(&e.end_time, "EndTime")?,
                match e.busy_type {
                    L::Free => FreeBusyStatus::Free,
                    L::Tentative => FreeBusyStatus::Tentative,
                    L::Busy => FreeBusyStatus::Busy,
                    L::Oof => FreeBusyStatus::Oof,
                    L::WorkingElsewhere => FreeBusyStatus::WorkingElsewhere,
                    L::NoData => FreeBusyStatus::NoData,
                },
            ))
        })
        .collect()
}

/// The version probe's answer: any response (even an error message) with a version header.
pub fn parse_probe(bytes: &[u8]) -> Result<ServerVersion, ExchangeError> {
    const OP: &str = "ConvertId";
    let envelope = parse_envelope(OP, None, bytes)?;
    server_version(OP, &envelope)
}

/// A `Subscribe` answer (read by ews-proto).
pub fn parse_subscribe(mailbox: &str, bytes: &[u8]) -> Result<Subscription, ExchangeError> {
    const OP: &str = "Subscribe";
    let envelope = parse_envelope(OP, Some(mailbox), bytes)?;
    let response = ews_proto::notification::SubscribeResponse::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    let message = response
        .messages
        .into_iter()
        .next()
        .ok_or_else(|| malformed(OP, "SubscribeResponse has no message"))?;
    status_error(OP, Some(mailbox), &message.status)?;
    let id = message
        .payload
        .subscription_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(OP, "no SubscriptionId"))?;
    Ok(Subscription {
        id,
        watermark: message
            .payload
            .watermark
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
    })
}

/// What one `t:Notification` says: its subscription, its item and folder events (status
/// events left out), the last watermark, and `MoreEvents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub subscription_id: String,
    pub changes: Vec<ItemEvent>,
    pub watermark: Option<String>,
    pub more: bool,
    /// Set when the message is an error about this subscription (a push subscription that
    /// died gets one `ErrorReadEventsFailed` naming it in `MessageXml`).
    pub lost: Option<String>,
}

/// How the engine applies one event: item events by id, folder events as
/// [`ItemEvent::Folder`], copies (and moves without an old id) as a window fetch. Status and
/// new-mail events change no calendar.
fn item_event(e: &ews_proto::notification::Event) -> Option<ItemEvent> {
    use ews_proto::notification::EventType as T;
    let id = |i: &Option<ews_proto::ItemId>| {
        i.as_ref()
            .map(|i| i.id.trim().to_string())
            .filter(|i| !i.is_empty())
    };
    let item = id(&e.item_id);
    Some(match (e.kind, item) {
        (T::StatusEvent | T::NewMailEvent, _) => return None,
        (T::CreatedEvent | T::ModifiedEvent | T::FreeBusyChangedEvent, Some(item)) => {
            ItemEvent::Changed(item)
        }
        (T::DeletedEvent, Some(item)) => ItemEvent::Deleted(item),
        (T::MovedEvent, Some(new)) => match id(&e.old_item_id) {
            Some(old) => ItemEvent::Moved { old, new },
            None => ItemEvent::Resync,
        },
        (_, None) if e.folder_id.is_some() => ItemEvent::Folder,
        _ => ItemEvent::Resync,
    })
}

fn read_notification(n: &ews_proto::notification::Notification) -> Notification {
    let watermark = n
        .events
        .iter()
        .rev()
        .find_map(|e| e.watermark.clone())
        .or_else(|| n.previous_watermark.clone());
    Notification {
        subscription_id: n.subscription_id.trim().to_string(),
        changes: n.events.iter().filter_map(item_event).collect(),
        watermark,
        more: n.more_events.unwrap_or(false),
        lost: None,
    }
}

/// A `GetEvents` answer (read by ews-proto).
pub fn parse_get_events(mailbox: &str, bytes: &[u8]) -> Result<Events, ExchangeError> {
    const OP: &str = "GetEvents";
    let envelope = parse_envelope(OP, Some(mailbox), bytes)?;
    let response = ews_proto::notification::GetEventsResponse::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    let message = response
        .messages
        .into_iter()
        .next()
        .ok_or_else(|| malformed(OP, "GetEventsResponse has no message"))?;
    status_error(OP, Some(mailbox), &message.status)?;
    let n = message
        .payload
        .notification
        .as_ref()
        .map(read_notification)
        .ok_or_else(|| malformed(OP, "GetEventsResponseMessage has no Notification"))?;
    Ok(Events {
        watermark: n.watermark,
        changes: n.changes,
        more: n.more,
    })
}

/// One envelope of a GetStreamingEvents response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamChunk {
    /// Subscriptions with item or folder events, one entry per notification.
    pub changed: Vec<(String, Vec<ItemEvent>)>,
    /// Subscriptions the server ended (`ErrorSubscriptionIds`), with the reason.
    pub lost: Vec<(String, String)>,
    /// `ErrorMissedNotificationEvents`: these subscriptions (all when empty) missed events.
    pub missed: Option<Vec<String>>,
    /// `ConnectionStatus` `Closed`: the server ends the connection normally.
    pub closed: bool,
}

/// Reads one streaming envelope (by ews-proto). Errors naming subscriptions end only those;
/// any other error (a fault, `ErrorExceededConnectionCount`, ...) ends the connection.
pub fn parse_stream_chunk(anchor: &str, bytes: &[u8]) -> Result<StreamChunk, ExchangeError> {
    const OP: &str = "GetStreamingEvents";
    let envelope = parse_envelope(OP, Some(anchor), bytes)?;
    let response = ews_proto::notification::GetStreamingEventsResponse::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    let message = response
        .messages
        .into_iter()
        .next()
        .ok_or_else(|| malformed(OP, "GetStreamingEventsResponse has no message"))?;
    let payload = message.payload;
    let mut chunk = StreamChunk {
        closed: payload.connection_status.as_deref().map(str::trim) == Some("Closed"),
        ..StreamChunk::default()
    };
    let ids: Vec<String> = payload
        .error_subscription_ids
        .unwrap_or_default()
        .into_iter()
        .map(|id| id.trim().to_string())
        .collect();
    if let Err(e) = status_error(OP, Some(anchor), &message.status) {
        let missed = message
            .status
            .code
            .as_ref()
            .is_some_and(|c| c.as_str() == "ErrorMissedNotificationEvents");
        if missed {
            chunk.missed = Some(ids);
        } else if ids.is_empty() {
            return Err(e);
        } else {
            chunk.lost = ids.into_iter().map(|id| (id, e.to_string())).collect();
        }
    }
    for n in payload.notifications.unwrap_or_default() {
        let n = read_notification(&n);
        if !n.changes.is_empty() {
            chunk.changed.push((n.subscription_id, n.changes));
        }
    }
    Ok(chunk)
}

/// Splits the complete envelopes off the front of a streaming response buffer. A streaming
/// response is a sequence of SOAP envelopes (each with its own header, possibly an XML
/// declaration, any prefix); the end of one is the closing tag of its root element.
pub fn split_envelopes(buffer: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((start, qname)) = root_start(buffer) {
        let closing = format!("</{qname}>");
        let Some(pos) = find(&buffer[start..], closing.as_bytes()) else {
            break;
        };
        let end = start + pos + closing.len();
        out.push(buffer[..end].to_vec());
        buffer.drain(..end);
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The offset and qualified name of the first element start tag (skipping declarations,
/// comments and whitespace).
fn root_start(buffer: &[u8]) -> Option<(usize, String)> {
    let mut i = 0;
    while i < buffer.len() {
        if buffer[i] == b'<' {
            match buffer.get(i + 1) {
                Some(b'?') | Some(b'!') => {
                    i += 1;
                    continue;
                }
                Some(_) => {
                    let name: Vec<u8> = buffer[i + 1..]
                        .iter()
                        .take_while(|b| !b.is_ascii_whitespace() && **b != b'>' && **b != b'/')
                        .copied()
                        .collect();
                    if i + 1 + name.len() >= buffer.len() {
                        return None; // the tag name itself is not complete yet
                    }
                    return Some((i, String::from_utf8_lossy(&name).into_owned()));
                }
                None => return None,
            }
        }
        i += 1;
    }
    None
}

/// The notifications of a push `SendNotification` request (read by ews-proto).
pub fn parse_send_notification(bytes: &[u8]) -> Result<Vec<Notification>, ExchangeError> {
    const OP: &str = "SendNotification";
    let envelope = parse_envelope(OP, None, bytes)?;
    if !envelope.body.is(&Ns::Messages, "SendNotification") {
        return Err(malformed(
            OP,
            format!("expected m:SendNotification, got {}", envelope.body.qname()),
        ));
    }
    let request = ews_proto::notification::SendNotification::from_xml(&envelope.body)
        .map_err(|e| malformed(OP, e.to_string()))?;
    let mut out = Vec::new();
    for m in &request.messages {
        if let Err(e) = status_error(OP, None, &m.status) {
            let id = m
                .status
                .message_xml
                .as_ref()
                .and_then(|x| x.get("SubscriptionId"))
                .or_else(|| {
                    m.payload
                        .notification
                        .as_ref()
                        .map(|n| n.subscription_id.as_str())
                });
            match id {
                Some(id) => out.push(Notification {
                    subscription_id: id.trim().to_string(),
                    changes: Vec::new(),
                    watermark: None,
                    more: false,
                    lost: Some(e.to_string()),
                }),
                None => return Err(e),
            }
            continue;
        }
        if let Some(n) = &m.payload.notification {
            out.push(read_notification(n));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::TimeZone;

    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/ews-samples")
            .join(name);
        let fallback = PathBuf::from("/work/shared/ews-samples").join(name);
        std::fs::read(&path)
            .or_else(|_| std::fs::read(&fallback))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn reads_the_version_from_the_convert_id_probe_answer() {
        let v = parse_probe(&sample("convertid-versionprobe-error-response.xml")).unwrap();
        assert_eq!(v.to_string(), "v15.01.2345.6789");
    }

    #[test]
    fn reads_a_truncated_calendar_view_page() {
        let (items, complete) = parse_calendar_view(
            "kim@contoso.com",
            &sample("finditem-calendarview-truncated-response.xml"),
        )
        .unwrap();
        assert!(!complete);
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[0].subject.as_deref(),
            Some("Contoso devs team meeting")
        );
        assert_eq!(
            items[0].start,
            Utc.with_ymd_and_hms(2013, 8, 21, 19, 30, 0).unwrap()
        );
        assert_eq!(items[0].status, FreeBusyStatus::Busy);
    }

    #[test]
    fn a_private_item_keeps_its_time_but_never_its_subject_or_location() {
        let page = String::from_utf8(sample("finditem-calendarview-truncated-response.xml"))
            .unwrap()
            .replacen(
                "<t:Subject>Contoso devs team meeting</t:Subject>",
                "<t:Subject>Dr. Novak - cardiology</t:Subject><t:Sensitivity>Private</t:Sensitivity>",
                1,
            )
            .replacen(
                "<t:Subject>Daily status meeting</t:Subject>",
                "<t:Subject>Daily status meeting</t:Subject><t:Sensitivity>Confidential</t:Sensitivity>",
                1,
            );
        let (items, _) = parse_calendar_view("kim@contoso.com", page.as_bytes()).unwrap();
        assert!(items[0].private && items[1].private && !items[2].private);
        assert_eq!(
            (items[0].subject.as_ref(), items[0].location.as_ref()),
            (None, None)
        );
        assert_eq!(items[1].subject, None);
        assert_eq!(
            items[0].start,
            Utc.with_ymd_and_hms(2013, 8, 21, 19, 30, 0).unwrap()
        );
        assert_eq!(items[2].subject.as_deref(), Some("Lunch with sales team"));
        assert!(!format!("{items:?}").contains("cardiology"));
    }

    #[test]
    fn reads_oof_settings() {
        let oof = parse_oof(
            "kim@contoso.com",
            &sample("getuseroofsettings-response.xml"),
        )
        .unwrap();
        assert_eq!(oof.state, OofState::Disabled);
        assert_eq!(
            oof.window.unwrap().start,
            Utc.with_ymd_and_hms(2006, 11, 3, 23, 0, 0).unwrap()
        );
        assert_eq!(
            oof.internal_reply,
            "I am out of office. This is my internal reply."
        );
    }

    #[test]
    fn reads_free_busy_events_without_subjects() {
        let events = parse_availability(
            "kim@contoso.com",
            &sample("getuseravailability-freebusy-response.xml"),
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].status, FreeBusyStatus::Busy);
        assert!(events.iter().all(|e| e.subject.is_none()));
    }

    #[test]
    fn server_busy_back_off_is_read_from_both_forms() {
        let fault = parse_probe(&sample("error-serverbusy-fault-response.xml")).unwrap_err();
        assert_eq!(fault.back_off(), Some(Duration::milliseconds(297_749)));
        let env = parse_envelope(
            "SyncFolderItems",
            None,
            &sample("error-serverbusy-responsemessage-response.xml"),
        )
        .unwrap();
        let message = only_message("SyncFolderItems", &env.body).unwrap();
        let err = check_message("SyncFolderItems", None, message).unwrap_err();
        assert_eq!(err.back_off(), Some(Duration::milliseconds(5000)));
    }

    #[test]
    fn an_access_denied_fault_without_a_code_is_recognised() {
        let err = parse_oof(
            "kim@contoso.com",
            &sample("getuseroofsettings-error-fault-response.xml"),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "accessDenied", "{err}");
    }

    #[test]
    fn an_invalid_smtp_availability_answer_is_a_mailbox_error() {
        let err = parse_availability(
            "nobody@contoso.com",
            &sample("getuseravailability-error-invalidsmtp-response.xml"),
        )
        .unwrap_err();
        assert!(err.is_mailbox_scoped(), "{err}");
    }

    #[test]
    fn truncated_and_garbage_responses_are_malformed_not_panics() {
        let full = sample("finditem-calendarview-truncated-response.xml");
        for cut in [0, 10, full.len() / 3, full.len() / 2, full.len() - 20] {
            let err = parse_calendar_view("kim@contoso.com", &full[..cut]).unwrap_err();
            assert_eq!(err.kind(), "malformed", "cut at {cut}: {err}");
        }
        for junk in [&b"<html>502 Bad Gateway</html>"[..], b"\xff\xfe", b""] {
            assert_eq!(parse_oof("x@y", junk).unwrap_err().kind(), "malformed");
        }
        let wrong_time = String::from_utf8(full.clone())
            .unwrap()
            .replace("2013-08-21T19:30:00Z", "yesterday");
        assert_eq!(
            parse_calendar_view("kim@contoso.com", wrong_time.as_bytes())
                .unwrap_err()
                .kind(),
            "malformed"
        );
    }

    #[test]
    fn requests_impersonate_and_the_free_busy_view_never_asks_for_subjects() {
        let t = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
        let fb = String::from_utf8(get_user_availability(
            "Exchange2010_SP2",
            "ceo@contoso.com",
            t,
            t + Duration::days(7),
        ))
        .unwrap();
        assert!(
            fb.contains("<t:RequestedView>FreeBusy</t:RequestedView>"),
            "{fb}"
        );
        assert!(
            fb.contains("<t:StartTime>2026-03-30T08:00:00</t:StartTime>"),
            "{fb}"
        );
        assert!(!fb.contains("Subject"));
        assert!(
            fb.contains("<t:SmtpAddress>ceo@contoso.com</t:SmtpAddress>"),
            "{fb}"
        );
        let fi = String::from_utf8(find_item_calendar_view(
            "Exchange2010_SP2",
            "kim@contoso.com",
            t,
            t + Duration::days(7),
            500,
        ))
        .unwrap();
        assert!(fi.contains(r#"StartDate="2026-03-30T08:00:00Z""#), "{fi}");
        assert!(
            fi.contains(r#"<t:RequestServerVersion Version="Exchange2010_SP2"/>"#),
            "{fi}"
        );
        // What we send parses back with ews-proto.
        let env = Envelope::parse(fi.as_bytes(), &Limits::default()).unwrap();
        assert!(env.body.is(&Ns::Messages, "FindItem"));
    }

    #[test]
    fn reads_subscribe_and_get_events_samples() {
        let sub =
            parse_subscribe("kim@contoso.com", &sample("subscribe-pull-response.xml")).unwrap();
        assert_eq!(sub.id, "39ea5d0f-f062-455e-a1e9-89c0304390f4");
        assert_eq!(sub.watermark.as_deref(), Some("AAAAAHgGAAAAAAAAAQ=="));
        let events =
            parse_get_events("kim@contoso.com", &sample("getevents-response.xml")).unwrap();
        // Two NewMailEvents: no calendar change.
        assert!(events.changes.is_empty() && !events.more);
        assert_eq!(events.watermark.as_deref(), Some("AAAAAOQGAAAAAAAAAQ=="));
    }

    #[test]
    fn splits_and_reads_a_streaming_response_in_any_chunking() {
        let multi = sample("getstreamingevents-multi-notification-response.xml");
        let closed = sample("getstreamingevents-closed-response.xml");
        let all: Vec<u8> = [multi.clone(), closed.clone()].concat();
        for chunk_size in [5, 64, 1000, all.len()] {
            let mut buffer = Vec::new();
            let mut envelopes = Vec::new();
            for piece in all.chunks(chunk_size) {
                buffer.extend_from_slice(piece);
                envelopes.extend(split_envelopes(&mut buffer));
            }
            assert_eq!(envelopes.len(), 2, "chunk size {chunk_size}");
            let first = parse_stream_chunk("kim@contoso.com", &envelopes[0]).unwrap();
            assert_eq!(first.changed.len(), 2);
            assert!(
                first.changed[0]
                    .0
                    .starts_with("FwBleGNoMDMuYm9va2luZ2J1Zy5sb2NhbBAAAACRSuDZ")
            );
            assert!(!first.closed && first.lost.is_empty());
            // Item events by id (Modified and FreeBusyChanged of each item), then the
            // calendar folder's own ModifiedEvent.
            let (_, events) = &first.changed[0];
            assert_eq!(events.len(), 7, "{events:?}");
            assert!(
                matches!(&events[0], ItemEvent::Changed(id) if id.ends_with("AAAMnbCEAAA=")),
                "{events:?}"
            );
            assert_eq!(events[6], ItemEvent::Folder);
            let last = parse_stream_chunk("kim@contoso.com", &envelopes[1]).unwrap();
            assert!(last.closed);
        }
    }

    #[test]
    fn reads_push_notifications_and_tells_status_from_change() {
        let modified =
            parse_send_notification(&sample("sendnotification-push-modified-request.xml")).unwrap();
        assert_eq!(
            modified[0].subscription_id,
            "hKJETtoAdi9PPW0tZDQ4MThmMDoVYB"
        );
        assert!(!modified[0].changes.is_empty());
        let status =
            parse_send_notification(&sample("sendnotification-push-status-request.xml")).unwrap();
        assert!(status[0].changes.is_empty());
        assert_eq!(status[0].watermark.as_deref(), Some("BBBBB="));
        let answer = String::from_utf8(send_notification_result(true)).unwrap();
        assert!(
            answer.contains("<m:SubscriptionStatus>OK</m:SubscriptionStatus>"),
            "{answer}"
        );
    }

    #[test]
    fn a_grouped_stream_error_ends_only_the_listed_subscriptions() {
        let env = |body: &str| {
            format!(
                r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><m:GetStreamingEventsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass="Error">{body}</m:GetStreamingEventsResponseMessage></m:ResponseMessages></m:GetStreamingEventsResponse></Body></Envelope>"#
            )
        };
        let lost = env(
            "<m:MessageText>gone</m:MessageText><m:ResponseCode>ErrorSubscriptionUnsubscribed</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:ErrorSubscriptionIds><m:SubscriptionId>S2</m:SubscriptionId></m:ErrorSubscriptionIds><m:ConnectionStatus>Closed</m:ConnectionStatus>",
        );
        let chunk = parse_stream_chunk("a@x", lost.as_bytes()).unwrap();
        assert_eq!(chunk.lost.len(), 1);
        assert_eq!(chunk.lost[0].0, "S2");
        assert!(chunk.closed);
        let missed = env(
            "<m:MessageText>missed</m:MessageText><m:ResponseCode>ErrorMissedNotificationEvents</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>",
        );
        assert_eq!(
            parse_stream_chunk("a@x", missed.as_bytes()).unwrap().missed,
            Some(vec![])
        );
        let whole = env(
            "<m:MessageText>too many</m:MessageText><m:ResponseCode>ErrorExceededConnectionCount</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>",
        );
        assert!(parse_stream_chunk("a@x", whole.as_bytes()).is_err());
    }

    #[test]
    fn a_dead_push_subscription_is_reported_by_its_id() {
        let body = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:SendNotification xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:SendNotificationResponseMessage ResponseClass="Error"><m:MessageText>Unable to read events.</m:MessageText><m:ResponseCode>ErrorReadEventsFailed</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:MessageXml><t:Value Name="SubscriptionId">S9</t:Value></m:MessageXml></m:SendNotificationResponseMessage></m:ResponseMessages></m:SendNotification></soap:Body></soap:Envelope>"#;
        let n = parse_send_notification(body.as_bytes()).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].subscription_id, "S9");
        assert!(
            n[0].lost
                .as_deref()
                .unwrap()
                .contains("ErrorReadEventsFailed"),
            "{n:?}"
        );
    }

    #[test]
    fn lost_subscription_codes_are_recognised() {
        let e = code_error(
            "GetEvents",
            Some("kim@x"),
            "ErrorSubscriptionNotFound",
            "",
            None,
        );
        assert_eq!(e.kind(), "subscriptionLost");
    }

    #[test]
    fn get_item_is_written_typed_and_answers_one_result_per_id() {
        let ids = vec!["A1".to_string(), "GONE".to_string(), "M1".to_string()];
        let body =
            String::from_utf8(get_item("Exchange2010_SP2", "kim@contoso.com", &ids)).unwrap();
        let env = Envelope::parse(body.as_bytes(), &Limits::default()).unwrap();
        match ews_proto::Request::parse(&env).unwrap() {
            ews_proto::Request::GetItem(g) => {
                assert_eq!(g.item_ids.len(), 3);
                assert!(g.item_shape.additional_properties.contains(
                    &ews_proto::PropertyPath::Field("calendar:CalendarItemType".into())
                ));
            }
            other => panic!("{other:?}"),
        }
        let answer = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>
<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="A1" ChangeKey="k"/><t:Subject>Review</t:Subject><t:UID>uid-1</t:UID><t:Start>2026-03-30T09:00:00Z</t:Start><t:End>2026-03-30T09:30:00Z</t:End><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus><t:CalendarItemType>Single</t:CalendarItemType></t:CalendarItem></m:Items></m:GetItemResponseMessage>
<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>The specified object was not found in the store.</m:MessageText><m:ResponseCode>ErrorItemNotFound</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/></m:GetItemResponseMessage>
<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="M1" ChangeKey="k"/><t:Start>2026-03-30T10:00:00Z</t:Start><t:End>2026-03-30T10:15:00Z</t:End><t:CalendarItemType>RecurringMaster</t:CalendarItemType></t:CalendarItem></m:Items></m:GetItemResponseMessage>
</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>"#;
        let got = parse_get_item("kim@contoso.com", &ids, answer.as_bytes()).unwrap();
        match &got[0] {
            FetchedItem::Single(a) => {
                assert_eq!(a.id.as_deref(), Some("A1"));
                assert_eq!(a.uid.as_deref(), Some("uid-1"));
                assert_eq!(a.subject.as_deref(), Some("Review"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(got[1], FetchedItem::Missing { id: "GONE".into() });
        assert_eq!(got[2], FetchedItem::Series { id: "M1".into() });
        // A message count that does not match the ids is malformed, not guessed at.
        let err = parse_get_item("kim@contoso.com", &ids[..2], answer.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), "malformed", "{err}");
    }

    /// Every request the engine sends parses back with ews-proto (as mock-ews and the
    /// samples' readers do) into the operation and values it was built from.
    #[test]
    fn every_request_round_trips_through_ews_proto() {
        use ews_proto::Request as R;
        let t = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
        let v = "Exchange2010_SP2";
        let parse = |bytes: Vec<u8>| {
            let text = String::from_utf8(bytes).unwrap();
            let (headers, req) = R::parse_bytes(text.as_bytes(), &Limits::default())
                .unwrap_or_else(|e| panic!("{e}: {text}"));
            (headers, req)
        };
        let (h, req) = parse(convert_id_probe(v));
        assert!(h.impersonation.is_none());
        assert!(matches!(req, R::ConvertId(c) if c.destination_format == "EntryId"));
        let (h, req) = parse(find_item_calendar_view(
            v,
            "kim@contoso.com",
            t,
            t + Duration::days(7),
            500,
        ));
        assert_eq!(
            h.impersonation,
            Some(ConnectingSid::SmtpAddress("kim@contoso.com".into()))
        );
        match req {
            R::FindItem(f) => {
                assert_eq!(f.item_shape.additional_properties.len(), ITEM_FIELDS.len());
                assert_eq!(f.parent_folder_ids, vec![calendar_of("kim@contoso.com")]);
            }
            other => panic!("{other:?}"),
        }
        let (_, req) = parse(get_user_oof_settings(v, "kim@contoso.com"));
        assert!(matches!(req, R::GetUserOofSettings(g) if g.mailbox.address == "kim@contoso.com"));
        let (_, req) = parse(get_user_availability(
            v,
            "kim@contoso.com",
            t,
            t + Duration::days(7),
        ));
        match req {
            R::GetUserAvailability(g) => {
                let zone = g.legacy_time_zone().unwrap().unwrap();
                assert_eq!(zone.bias_minutes, 0);
                let o = g.free_busy_view_options.unwrap();
                assert_eq!(o.start_time.to_string(), "2026-03-30T08:00:00");
                assert_eq!(o.requested_view.as_deref(), Some("FreeBusy"));
            }
            other => panic!("{other:?}"),
        }
        for kind in [
            SubscriptionKind::Pull {
                timeout_minutes: 10,
            },
            SubscriptionKind::Streaming,
            SubscriptionKind::Push {
                url: "http://engine:21020/".into(),
                status_frequency_minutes: 1,
            },
        ] {
            let (_, req) = parse(subscribe(v, "kim@contoso.com", &kind));
            assert!(matches!(req, R::Subscribe(_)), "{req:?}");
        }
        let sub = Subscription {
            id: "S1".into(),
            watermark: Some("W1".into()),
        };
        let (_, req) = parse(get_events(v, "kim@contoso.com", &sub));
        assert!(matches!(req, R::GetEvents(g) if g.subscription_id == "S1" && g.watermark == "W1"));
        let (_, req) = parse(get_streaming_events(
            v,
            "kim@contoso.com",
            &["S1".into(), "S2".into()],
            90,
        ));
        assert!(
            matches!(req, R::GetStreamingEvents(g) if g.subscription_ids.len() == 2 && g.connection_timeout == 30)
        );
    }
}
