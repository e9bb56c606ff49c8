//! GetUserAvailability (EWS.md §5): free/busy for a list of mailboxes over a window.
//!
//! The request zone comes either from a legacy `t:TimeZone` block in the body or from the
//! `TimeZoneContext` header (or both); the legacy block is kept as its element and read
//! with [`GetUserAvailability::legacy_time_zone`].

use serde::{Deserialize, Serialize};

use crate::error::ResponseStatus;
use crate::item::LegacyFreeBusyStatus;
use crate::oof::EmailAddress;
use crate::recurrence::DayOfWeek;
use crate::timezone::LegacyTimeZone;
use crate::value::{EwsDateTime, opt};
use crate::xml::{Element, Ns, ParseError, Writer};

/// `t:MailboxData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxData {
    /// `t:Email`
    pub email: EmailAddress,
    /// `t:AttendeeType`: `Organizer`, `Required`, `Optional`, `Room`, `Resource`.
    pub attendee_type: String,
    /// `t:ExcludeConflicts`
    pub exclude_conflicts: Option<bool>,
}

/// `t:FreeBusyViewOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeBusyViewOptions {
    /// `TimeWindow/StartTime` (zone-less: local in the request zone).
    pub start_time: EwsDateTime,
    /// `TimeWindow/EndTime`
    pub end_time: EwsDateTime,
    /// `MergedFreeBusyIntervalInMinutes` (5..1440, default 30).
    pub merged_free_busy_interval_in_minutes: Option<u32>,
    /// `RequestedView`: `MergedOnly`, `FreeBusy`, `FreeBusyMerged`, `Detailed`,
    /// `DetailedMerged`.
    pub requested_view: Option<String>,
}

/// `m:GetUserAvailabilityRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetUserAvailability {
    /// The legacy `t:TimeZone` (SerializableTimeZone) block, if sent.
    pub time_zone: Option<Element>,
    /// `m:MailboxDataArray`
    pub mailbox_data: Vec<MailboxData>,
    /// `t:FreeBusyViewOptions`
    pub free_busy_view_options: Option<FreeBusyViewOptions>,
    /// `t:SuggestionsViewOptions`, kept as data.
    pub suggestions_view_options: Option<Element>,
}

impl GetUserAvailability {
    /// The typed legacy time zone, if the request has one.
    pub fn legacy_time_zone(&self) -> Result<Option<LegacyTimeZone>, ParseError> {
        self.time_zone
            .as_ref()
            .map(LegacyTimeZone::from_xml)
            .transpose()
    }

    /// Reads the request element.
    pub fn from_xml(e: &Element) -> Result<GetUserAvailability, ParseError> {
        let (m, t) = (Ns::Messages, Ns::Types);
        let time_zone = e.child(&t, "TimeZone").cloned();
        if let Some(tz) = &time_zone {
            // Validate now so a bad block is reported where it is.
            LegacyTimeZone::from_xml(tz)?;
        }
        let mut mailbox_data = Vec::new();
        for md in e
            .required_child(&m, "MailboxDataArray")?
            .children_named(&t, "MailboxData")
        {
            mailbox_data.push(MailboxData {
                email: EmailAddress::from_xml(md.required_child(&t, "Email")?)?,
                attendee_type: md
                    .text_of(&t, "AttendeeType")
                    .unwrap_or("Required")
                    .to_owned(),
                exclude_conflicts: md.bool_child(&t, "ExcludeConflicts")?,
            });
        }
        let free_busy_view_options = match e.child(&t, "FreeBusyViewOptions") {
            Some(o) => {
                let window = o.required_child(&t, "TimeWindow")?;
                Some(FreeBusyViewOptions {
                    start_time: window.parse_required_child(&t, "StartTime")?,
                    end_time: window.parse_required_child(&t, "EndTime")?,
                    merged_free_busy_interval_in_minutes: o
                        .parse_child(&t, "MergedFreeBusyIntervalInMinutes")?,
                    requested_view: o.text_of(&t, "RequestedView").map(str::to_owned),
                })
            }
            None => None,
        };
        Ok(GetUserAvailability {
            time_zone,
            mailbox_data,
            free_busy_view_options,
            suggestions_view_options: e.child(&t, "SuggestionsViewOptions").cloned(),
        })
    }

    /// Writes the request element in schema order.
    pub fn write(&self, w: &mut Writer) {
        let (m, t) = (Ns::Messages, Ns::Types);
        w.start_declaring(&m, "GetUserAvailabilityRequest", &[], &[Ns::Types]);
        if let Some(tz) = &self.time_zone {
            w.element(tz);
        }
        w.start(&m, "MailboxDataArray", &[]);
        for md in &self.mailbox_data {
            w.start(&t, "MailboxData", &[]);
            md.email.write(w, "Email");
            w.leaf(&t, "AttendeeType", &md.attendee_type);
            opt(w, &t, "ExcludeConflicts", &md.exclude_conflicts);
            w.end();
        }
        w.end();
        if let Some(o) = &self.free_busy_view_options {
            w.start(&t, "FreeBusyViewOptions", &[]);
            w.start(&t, "TimeWindow", &[]);
            w.leaf(&t, "StartTime", &o.start_time.to_string());
            w.leaf(&t, "EndTime", &o.end_time.to_string());
            w.end();
            opt(
                w,
                &t,
                "MergedFreeBusyIntervalInMinutes",
                &o.merged_free_busy_interval_in_minutes,
            );
            w.opt_leaf(&t, "RequestedView", o.requested_view.as_deref());
            w.end();
        }
        if let Some(s) = &self.suggestions_view_options {
            w.element(s);
        }
        w.end();
    }
}

/// `t:CalendarEventDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct CalendarEventDetails {
    pub id: Option<String>,
    pub subject: Option<String>,
    pub location: Option<String>,
    pub is_meeting: Option<bool>,
    pub is_recurring: Option<bool>,
    pub is_exception: Option<bool>,
    pub is_reminder_set: Option<bool>,
    pub is_private: Option<bool>,
}

/// `t:CalendarEvent` (times in the request zone; Exchange 2013 writes them zone-less).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    /// `StartTime`
    pub start_time: EwsDateTime,
    /// `EndTime`
    pub end_time: EwsDateTime,
    /// `BusyType`
    pub busy_type: LegacyFreeBusyStatus,
    /// `CalendarEventDetails` (detailed views with read access only).
    pub details: Option<CalendarEventDetails>,
}

/// `t:WorkingPeriod`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingPeriod {
    /// `DayOfWeek` (space-separated on the wire).
    pub days_of_week: Vec<DayOfWeek>,
    /// `StartTimeInMinutes` from local midnight.
    pub start_time_in_minutes: u32,
    /// `EndTimeInMinutes` from local midnight.
    pub end_time_in_minutes: u32,
}

/// `t:WorkingHours`: the target's zone (legacy block) and working periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// The `t:TimeZone` block.
    pub time_zone: Element,
    /// `WorkingPeriodArray`
    pub working_periods: Vec<WorkingPeriod>,
}

impl WorkingHours {
    /// The typed legacy time zone.
    pub fn legacy_time_zone(&self) -> Result<LegacyTimeZone, ParseError> {
        LegacyTimeZone::from_xml(&self.time_zone)
    }
}

/// `m:FreeBusyView`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeBusyView {
    /// `FreeBusyViewType`: the granted view (`None` on errors).
    pub view_type: String,
    /// `MergedFreeBusy`: one digit per interval.
    pub merged_free_busy: Option<String>,
    /// `CalendarEventArray`
    pub calendar_events: Option<Vec<CalendarEvent>>,
    /// `WorkingHours`
    pub working_hours: Option<WorkingHours>,
}

/// One `m:FreeBusyResponse` (one per requested mailbox, same order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeBusyResponse {
    /// `m:ResponseMessage`
    pub status: ResponseStatus,
    /// `m:FreeBusyView`
    pub view: Option<FreeBusyView>,
}

/// `m:GetUserAvailabilityResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetUserAvailabilityResponse {
    /// `m:FreeBusyResponseArray`
    pub free_busy_responses: Vec<FreeBusyResponse>,
    /// `m:SuggestionsResponse`, kept as data.
    pub suggestions_response: Option<Element>,
}

fn days_list(e: &Element) -> Result<Vec<DayOfWeek>, ParseError> {
    let text = e.trimmed_text();
    text.split_whitespace()
        .map(|d| {
            d.parse()
                .map_err(|err: crate::value::BadEnum| e.invalid(d, err.to_string()))
        })
        .collect()
}

fn read_view(v: &Element) -> Result<FreeBusyView, ParseError> {
    let t = Ns::Types;
    let calendar_events = match v.child(&t, "CalendarEventArray") {
        Some(arr) => Some(
            arr.children_named(&t, "CalendarEvent")
                .map(|ev| {
                    let details = match ev.child(&t, "CalendarEventDetails") {
                        Some(d) => Some(CalendarEventDetails {
                            id: d.text_of(&t, "ID").map(str::to_owned),
                            subject: d.child(&t, "Subject").map(|s| s.text.clone()),
                            location: d.child(&t, "Location").map(|s| s.text.clone()),
                            is_meeting: d.bool_child(&t, "IsMeeting")?,
                            is_recurring: d.bool_child(&t, "IsRecurring")?,
                            is_exception: d.bool_child(&t, "IsException")?,
                            is_reminder_set: d.bool_child(&t, "IsReminderSet")?,
                            is_private: d.bool_child(&t, "IsPrivate")?,
                        }),
                        None => None,
                    };
                    Ok(CalendarEvent {
                        start_time: ev.parse_required_child(&t, "StartTime")?,
                        end_time: ev.parse_required_child(&t, "EndTime")?,
                        busy_type: ev.parse_required_child(&t, "BusyType")?,
                        details,
                    })
                })
                .collect::<Result<Vec<_>, ParseError>>()?,
        ),
        None => None,
    };
    let working_hours = match v.child(&t, "WorkingHours") {
        Some(wh) => {
            let tz = wh.required_child(&t, "TimeZone")?;
            LegacyTimeZone::from_xml(tz)?;
            let mut periods = Vec::new();
            if let Some(arr) = wh.child(&t, "WorkingPeriodArray") {
                for p in arr.children_named(&t, "WorkingPeriod") {
                    periods.push(WorkingPeriod {
                        days_of_week: days_list(p.required_child(&t, "DayOfWeek")?)?,
                        start_time_in_minutes: p.parse_required_child(&t, "StartTimeInMinutes")?,
                        end_time_in_minutes: p.parse_required_child(&t, "EndTimeInMinutes")?,
                    });
                }
            }
            Some(WorkingHours {
                time_zone: tz.clone(),
                working_periods: periods,
            })
        }
        None => None,
    };
    Ok(FreeBusyView {
        view_type: v.required_text(&t, "FreeBusyViewType")?.to_owned(),
        merged_free_busy: v.text_of(&t, "MergedFreeBusy").map(str::to_owned),
        calendar_events,
        working_hours,
    })
}

fn write_view(w: &mut Writer, v: &FreeBusyView) {
    let t = Ns::Types;
    w.start(&Ns::Messages, "FreeBusyView", &[]);
    w.leaf(&t, "FreeBusyViewType", &v.view_type);
    w.opt_leaf(&t, "MergedFreeBusy", v.merged_free_busy.as_deref());
    if let Some(events) = &v.calendar_events {
        w.start(&t, "CalendarEventArray", &[]);
        for ev in events {
            w.start(&t, "CalendarEvent", &[]);
            w.leaf(&t, "StartTime", &ev.start_time.to_string());
            w.leaf(&t, "EndTime", &ev.end_time.to_string());
            w.leaf(&t, "BusyType", ev.busy_type.as_str());
            if let Some(d) = &ev.details {
                w.start(&t, "CalendarEventDetails", &[]);
                w.opt_leaf(&t, "ID", d.id.as_deref());
                w.opt_leaf(&t, "Subject", d.subject.as_deref());
                w.opt_leaf(&t, "Location", d.location.as_deref());
                opt(w, &t, "IsMeeting", &d.is_meeting);
                opt(w, &t, "IsRecurring", &d.is_recurring);
                opt(w, &t, "IsException", &d.is_exception);
                opt(w, &t, "IsReminderSet", &d.is_reminder_set);
                opt(w, &t, "IsPrivate", &d.is_private);
                w.end();
            }
            w.end();
        }
        w.end();
    }
    if let Some(wh) = &v.working_hours {
        w.start(&t, "WorkingHours", &[]);
        w.element(&wh.time_zone);
        w.start(&t, "WorkingPeriodArray", &[]);
        for p in &wh.working_periods {
            w.start(&t, "WorkingPeriod", &[]);
            let days: Vec<&str> = p.days_of_week.iter().map(DayOfWeek::as_str).collect();
            w.leaf(&t, "DayOfWeek", &days.join(" "));
            w.leaf(
                &t,
                "StartTimeInMinutes",
                &p.start_time_in_minutes.to_string(),
            );
            w.leaf(&t, "EndTimeInMinutes", &p.end_time_in_minutes.to_string());
            w.end();
        }
        w.end();
        w.end();
    }
    w.end();
}

impl GetUserAvailabilityResponse {
    /// Reads the response element.
    pub fn from_xml(e: &Element) -> Result<GetUserAvailabilityResponse, ParseError> {
        let m = Ns::Messages;
        let mut free_busy_responses = Vec::new();
        if let Some(arr) = e.child(&m, "FreeBusyResponseArray") {
            for r in arr.children_named(&m, "FreeBusyResponse") {
                free_busy_responses.push(FreeBusyResponse {
                    status: ResponseStatus::from_xml(r.required_child(&m, "ResponseMessage")?)?,
                    view: r.child(&m, "FreeBusyView").map(read_view).transpose()?,
                });
            }
        }
        Ok(GetUserAvailabilityResponse {
            free_busy_responses,
            suggestions_response: e.child(&m, "SuggestionsResponse").cloned(),
        })
    }

    /// Writes the response element.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "GetUserAvailabilityResponse", &[], &[Ns::Types]);
        w.start(&m, "FreeBusyResponseArray", &[]);
        for r in &self.free_busy_responses {
            w.start(&m, "FreeBusyResponse", &[]);
            r.status.start(w, "ResponseMessage");
            w.end();
            if let Some(v) = &r.view {
                write_view(w, v);
            }
            w.end();
        }
        w.end();
        if let Some(s) = &self.suggestions_response {
            w.element(s);
        }
        w.end();
    }
}
