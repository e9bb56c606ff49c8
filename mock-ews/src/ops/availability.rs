//! GetUserAvailability (EWS.md §5): free/busy views, merged digit strings, detailed events in
//! the requested zone, working hours.
//!
//! Rights decide the granted view: detailed events (subject, location) need
//! free-busy-subject-location, Reviewer or Editor; a private item never shows details beyond
//! `IsPrivate`. No free/busy right at all is `ErrorNoFreeBusyAccess` for that mailbox.
//! A cancelled meeting left on the calendar shows as Free (it blocks nothing).

use calendar_core::FreeBusyStatus;
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use ews_proto::availability::{
    CalendarEvent, CalendarEventDetails, FreeBusyResponse, FreeBusyView, GetUserAvailability,
    GetUserAvailabilityResponse, WorkingHours, WorkingPeriod,
};
use ews_proto::recurrence::DayOfWeek;
use ews_proto::timezone::LegacyTimeZone;
use ews_proto::{EwsDateTime, Ns, ResponseStatus, Writer};

use crate::item::ViewEntry;
use crate::journal::Outcome;
use crate::ops::calendar::status;
use crate::ops::common::MsgError;
use crate::ops::{Ctx, Reply};
use crate::soap::{SoapFault, open_response};
use crate::wire::status_to_wire;
use crate::world::{DelegateRight, Mailbox, ServerVersion};

/// Mailboxes per request (EWS.md §5.3).
pub(crate) const MAX_MAILBOXES: usize = 100;
/// Longest TimeWindow on-premises.
pub(crate) const MAX_WINDOW_DAYS: i64 = 42;

/// The zone of a request: a legacy `t:TimeZone` block, else the TimeZoneContext, else UTC.
enum RequestZone {
    Legacy(LegacyTimeZone),
    Iana(Tz),
}

impl RequestZone {
    fn to_utc(&self, t: &EwsDateTime) -> Option<DateTime<Utc>> {
        match (self, t) {
            (_, EwsDateTime::Zoned(z)) => Some(z.to_utc()),
            (RequestZone::Iana(tz), EwsDateTime::Floating(n)) => {
                calendar_core::local_to_utc(*tz, *n)
            }
            (RequestZone::Legacy(l), EwsDateTime::Floating(n)) => l.to_utc(*n).ok(),
        }
    }

    fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            RequestZone::Iana(tz) => t.with_timezone(tz).naive_local(),
            RequestZone::Legacy(l) => l
                .offset_at(t)
                .map(|o| t.with_timezone(&o).naive_local())
                .unwrap_or_else(|_| t.naive_utc()),
        }
    }
}

/// The requested view, and what the caller's rights grant.
fn granted(requested: &str, right: DelegateRight) -> &'static str {
    let detailed = right >= DelegateRight::FreeBusySubjectLocation;
    match requested {
        "MergedOnly" => "MergedOnly",
        "FreeBusy" => "FreeBusy",
        "FreeBusyMerged" => "FreeBusyMerged",
        "Detailed" if detailed => "Detailed",
        "Detailed" => "FreeBusy",
        "DetailedMerged" if detailed => "DetailedMerged",
        _ => "FreeBusyMerged",
    }
}

fn effective_status(e: &ViewEntry<'_>) -> FreeBusyStatus {
    if e.item.cancelled {
        FreeBusyStatus::Free
    } else {
        e.status()
    }
}

/// One digit per interval; the highest-ranked status overlapping an interval wins
/// (OOF > Busy > Tentative > WorkingElsewhere > Free). On 2010 WorkingElsewhere counts as Busy.
fn merged(
    entries: &[ViewEntry<'_>],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Duration,
    server: ServerVersion,
) -> String {
    let mut out = String::new();
    let mut slot = start;
    while slot < end {
        let slot_end = slot + interval;
        let best = entries
            .iter()
            .filter(|e| e.start < slot_end && e.end > slot)
            .map(|e| match effective_status(e) {
                FreeBusyStatus::WorkingElsewhere if !server.has_working_elsewhere() => {
                    FreeBusyStatus::Busy
                }
                s => s,
            })
            .max_by_key(|s| {
                (
                    s.merge_rank(),
                    matches!(s, FreeBusyStatus::WorkingElsewhere),
                )
            });
        out.push(best.map_or('0', FreeBusyStatus::merged_digit));
        slot = slot_end;
    }
    out
}

const WEEK: [(chrono::Weekday, DayOfWeek); 7] = [
    (chrono::Weekday::Sun, DayOfWeek::Sunday),
    (chrono::Weekday::Mon, DayOfWeek::Monday),
    (chrono::Weekday::Tue, DayOfWeek::Tuesday),
    (chrono::Weekday::Wed, DayOfWeek::Wednesday),
    (chrono::Weekday::Thu, DayOfWeek::Thursday),
    (chrono::Weekday::Fri, DayOfWeek::Friday),
    (chrono::Weekday::Sat, DayOfWeek::Saturday),
];

fn working_hours(mb: &Mailbox, year: i32) -> WorkingHours {
    let mut tz = Writer::fragment();
    LegacyTimeZone::from_iana(mb.tz, year).write(&mut tz, &Ns::Types, "TimeZone");
    let time_zone = ews_proto::parse(tz.into_string().as_bytes(), &ews_proto::Limits::default())
        .unwrap_or_else(|_| ews_proto::Element::new(Ns::Types, "TimeZone"));
    let minutes = |t: chrono::NaiveTime| t.num_seconds_from_midnight() / 60;
    WorkingHours {
        time_zone,
        working_periods: vec![WorkingPeriod {
            days_of_week: WEEK
                .iter()
                .filter(|(w, _)| mb.working_hours.days.contains(w))
                .map(|(_, d)| *d)
                .collect(),
            start_time_in_minutes: minutes(mb.working_hours.start),
            end_time_in_minutes: minutes(mb.working_hours.end),
        }],
    }
}

fn mailbox_view(
    ctx: &Ctx<'_>,
    address: &str,
    zone: &RequestZone,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    interval: Duration,
    requested: &str,
) -> Result<FreeBusyView, MsgError> {
    let mb = ctx
        .store
        .read(|w| w.mailbox(address).cloned())
        .ok_or_else(|| {
            MsgError::new(
                "ErrorMailRecipientNotFound",
                format!(
                    "Unable to resolve e-mail address {address} to an Active Directory object."
                ),
            )
        })?;
    let right = ctx
        .store
        .read(|w| w.right(ctx.principal, ctx.acting_as.as_deref(), &mb.smtp));
    if right == DelegateRight::None {
        return Err(MsgError::new(
            "ErrorNoFreeBusyAccess",
            "The user does not have free/busy access to the mailbox.",
        ));
    }
    let view_type = granted(requested, right);
    let mut entries: Vec<ViewEntry<'_>> =
        mb.items.values().flat_map(|i| i.view(start, end)).collect();
    entries.sort_by_key(|e| (e.start, e.end, e.item.key));
    let merged_free_busy = view_type
        .contains("Merged")
        .then(|| merged(&entries, start, end, interval, ctx.server));
    let detailed = view_type.starts_with("Detailed");
    let calendar_events = (view_type != "MergedOnly").then(|| {
        entries
            .iter()
            .map(|e| {
                let private = matches!(e.item.sensitivity, crate::world::Sensitivity::Private);
                CalendarEvent {
                    start_time: EwsDateTime::Floating(zone.to_local(e.start)),
                    end_time: EwsDateTime::Floating(zone.to_local(e.end)),
                    busy_type: status_to_wire(effective_status(e), ctx.server),
                    details: detailed.then(|| CalendarEventDetails {
                        id: (!private).then(|| {
                            let o = e
                                .occurrence
                                .map(|o| o.original_start.timestamp())
                                .unwrap_or(0);
                            format!("{:016X}{:016X}", e.item.key, o)
                        }),
                        subject: (!private).then(|| e.subject().to_owned()),
                        location: (!private).then(|| e.location().to_owned()),
                        is_meeting: Some(!e.item.attendees.is_empty()),
                        is_recurring: Some(e.occurrence.is_some()),
                        is_exception: Some(e.occurrence.is_some_and(|o| o.exception.is_some())),
                        is_reminder_set: Some(false),
                        is_private: Some(private),
                    }),
                }
            })
            .collect()
    });
    Ok(FreeBusyView {
        view_type: view_type.to_owned(),
        merged_free_busy,
        calendar_events,
        working_hours: Some(working_hours(&mb, start.with_timezone(&mb.tz).year())),
    })
}

pub(crate) fn get_user_availability(ctx: &Ctx<'_>, req: &GetUserAvailability) -> Reply {
    let zone = match req.legacy_time_zone() {
        Ok(Some(l)) => RequestZone::Legacy(l),
        _ => RequestZone::Iana(ctx.request_zone()),
    };
    let fault = |code: &str, text: &str| Reply::Fault(SoapFault::new(code, text));
    if req.mailbox_data.is_empty() {
        return fault("ErrorMailboxDataArrayEmpty", "MailboxDataArray is empty.");
    }
    if req.mailbox_data.len() > MAX_MAILBOXES {
        return fault(
            "ErrorMailboxDataArrayTooBig",
            &format!(
                "There are too many mailboxes in the request: {} (the limit is {MAX_MAILBOXES}).",
                req.mailbox_data.len()
            ),
        );
    }
    let Some(opts) = &req.free_busy_view_options else {
        return fault(
            "ErrorInvalidRequest",
            "The request is invalid: FreeBusyViewOptions is required (suggestions are not supported).",
        );
    };
    let interval_min = opts.merged_free_busy_interval_in_minutes.unwrap_or(30);
    if !(5..=1440).contains(&interval_min) {
        return fault(
            "ErrorInvalidMergedFreeBusyInterval",
            "MergedFreeBusyIntervalInMinutes must be between 5 and 1440.",
        );
    }
    let (Some(start), Some(end)) = (zone.to_utc(&opts.start_time), zone.to_utc(&opts.end_time))
    else {
        return fault(
            "ErrorInvalidTimeInterval",
            "The time duration specified for FreeBusyViewOptions.TimeWindow is invalid.",
        );
    };
    if end <= start {
        return fault(
            "ErrorInvalidTimeInterval",
            "The time duration specified for FreeBusyViewOptions.TimeWindow is invalid.",
        );
    }
    let minutes = (end - start).num_minutes();
    let days = (minutes + 1439) / 1440;
    if days > MAX_WINDOW_DAYS {
        return fault(
            "ErrorTimeIntervalTooBig",
            &format!(
                "The requested time duration specified for FreeBusyViewOptions.TimeWindow is too long. The allowed limit = {MAX_WINDOW_DAYS} days; the actual limit = {days} days."
            ),
        );
    }
    let requested = opts
        .requested_view
        .as_deref()
        .unwrap_or("DetailedMerged")
        .trim()
        .to_owned();
    let interval = Duration::minutes(i64::from(interval_min));
    let free_busy_responses: Vec<FreeBusyResponse> = req
        .mailbox_data
        .iter()
        .map(|md| {
            match mailbox_view(
                ctx,
                md.email.address.trim(),
                &zone,
                (start, end),
                interval,
                &requested,
            ) {
                Ok(view) => FreeBusyResponse {
                    status: ResponseStatus::success(),
                    view: Some(view),
                },
                Err(e) => FreeBusyResponse {
                    status: status(&e),
                    view: Some(FreeBusyView {
                        view_type: "None".into(),
                        merged_free_busy: None,
                        calendar_events: None,
                        working_hours: None,
                    }),
                },
            }
        })
        .collect();
    let outcome = free_busy_responses
        .iter()
        .find(|r| !r.status.is_success())
        .and_then(|r| r.status.code.as_ref())
        .map_or(Outcome::Success, |c| Outcome::Error {
            code: c.as_str().to_owned(),
        });
    let resp = GetUserAvailabilityResponse {
        free_busy_responses,
        suggestions_response: None,
    };
    let mut w = open_response(ctx.server);
    resp.write(&mut w);
    Reply::Body {
        bytes: w.into_bytes(),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_downgraded_by_rights() {
        assert_eq!(
            granted("DetailedMerged", DelegateRight::FreeBusy),
            "FreeBusyMerged"
        );
        assert_eq!(granted("Detailed", DelegateRight::FreeBusy), "FreeBusy");
        assert_eq!(
            granted("DetailedMerged", DelegateRight::FreeBusySubjectLocation),
            "DetailedMerged"
        );
        assert_eq!(granted("MergedOnly", DelegateRight::Owner), "MergedOnly");
    }
}
