//! Conversions between the store's items and ews-proto's wire types, and item shapes.
//!
//! Wire types stay at this edge: operations build a full `ews_proto::CalendarItem` from a
//! stored item or occurrence, then [`shape`] keeps what the request's `ItemShape` asks for.
//! Unknown FieldURIs are ignored, as real clients (exchangelib) require.

use calendar_core::{
    DayOfWeekIndex, FreeBusyStatus, Pattern, Range, Recurrence, RelativeDay, Weekday,
};
use chrono::{DateTime, Timelike, Utc};
use ews_proto::calendar::ItemUpdate;
use ews_proto::item::{
    Attendee, BaseShape, Body, CalendarItemType, LegacyFreeBusyStatus, ResponseType,
    Sensitivity as WireSensitivity,
};
use ews_proto::recurrence::{
    DayOfWeek, DayOfWeekIndex as WireIndex, Month, OccurrenceInfo as WireOccurrence,
    Recurrence as WireRecurrence, RecurrencePattern, RecurrenceRange,
};
use ews_proto::{
    CalendarItem as Wire, EwsDate, EwsDateTime, ItemId, Mailbox as WireMailbox, Shape,
    TimeZoneContext,
};

use crate::id::{self, FolderKind};
use crate::item::{CalendarItem, ViewEntry};
use crate::world::{Mailbox, Sensitivity, ServerVersion};

/// Who reads an item, which decides what a private item reveals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader {
    pub(crate) server: ServerVersion,
    /// The owner (or someone acting as the owner) sees private items in full.
    pub(crate) owner: bool,
    /// The costly parts to build.
    pub(crate) want: Want,
}

/// Whole seconds, as Exchange writes item times (exchangelib rejects `.000Z` fractions on
/// some fields).
fn dt(t: DateTime<Utc>) -> EwsDateTime {
    EwsDateTime::utc(t.with_nanosecond(0).unwrap_or(t))
}

pub(crate) fn status_to_wire(s: FreeBusyStatus, server: ServerVersion) -> LegacyFreeBusyStatus {
    match s {
        FreeBusyStatus::Free => LegacyFreeBusyStatus::Free,
        FreeBusyStatus::Tentative => LegacyFreeBusyStatus::Tentative,
        FreeBusyStatus::Busy => LegacyFreeBusyStatus::Busy,
        FreeBusyStatus::Oof => LegacyFreeBusyStatus::Oof,
        // Exchange 2010 predates WorkingElsewhere and shows such items as Busy.
        FreeBusyStatus::WorkingElsewhere if !server.has_working_elsewhere() => {
            LegacyFreeBusyStatus::Busy
        }
        FreeBusyStatus::WorkingElsewhere => LegacyFreeBusyStatus::WorkingElsewhere,
        FreeBusyStatus::NoData => LegacyFreeBusyStatus::NoData,
    }
}

pub(crate) fn status_from_wire(s: LegacyFreeBusyStatus) -> FreeBusyStatus {
    match s {
        LegacyFreeBusyStatus::Free => FreeBusyStatus::Free,
        LegacyFreeBusyStatus::Tentative => FreeBusyStatus::Tentative,
        LegacyFreeBusyStatus::Busy => FreeBusyStatus::Busy,
        LegacyFreeBusyStatus::Oof => FreeBusyStatus::Oof,
        LegacyFreeBusyStatus::WorkingElsewhere => FreeBusyStatus::WorkingElsewhere,
        LegacyFreeBusyStatus::NoData => FreeBusyStatus::NoData,
    }
}

pub(crate) fn sensitivity_to_wire(s: Sensitivity) -> WireSensitivity {
    match s {
        Sensitivity::Normal => WireSensitivity::Normal,
        Sensitivity::Personal => WireSensitivity::Personal,
        Sensitivity::Private => WireSensitivity::Private,
        Sensitivity::Confidential => WireSensitivity::Confidential,
    }
}

pub(crate) fn sensitivity_from_wire(s: WireSensitivity) -> Sensitivity {
    match s {
        WireSensitivity::Normal => Sensitivity::Normal,
        WireSensitivity::Personal => Sensitivity::Personal,
        WireSensitivity::Private => Sensitivity::Private,
        WireSensitivity::Confidential => Sensitivity::Confidential,
    }
}

const WEEKDAYS: [(Weekday, DayOfWeek); 7] = [
    (Weekday::Mon, DayOfWeek::Monday),
    (Weekday::Tue, DayOfWeek::Tuesday),
    (Weekday::Wed, DayOfWeek::Wednesday),
    (Weekday::Thu, DayOfWeek::Thursday),
    (Weekday::Fri, DayOfWeek::Friday),
    (Weekday::Sat, DayOfWeek::Saturday),
    (Weekday::Sun, DayOfWeek::Sunday),
];

fn day_to_wire(d: Weekday) -> DayOfWeek {
    WEEKDAYS
        .iter()
        .find(|(w, _)| *w == d)
        .map_or(DayOfWeek::Sunday, |(_, x)| *x)
}

fn day_from_wire(d: DayOfWeek) -> Option<Weekday> {
    WEEKDAYS.iter().find(|(_, x)| *x == d).map(|(w, _)| *w)
}

fn relative_to_wire(d: RelativeDay) -> DayOfWeek {
    match d {
        RelativeDay::On(w) => day_to_wire(w),
        RelativeDay::Day => DayOfWeek::Day,
        RelativeDay::Weekday => DayOfWeek::Weekday,
        RelativeDay::WeekendDay => DayOfWeek::WeekendDay,
    }
}

fn relative_from_wire(d: DayOfWeek) -> RelativeDay {
    match d {
        DayOfWeek::Day => RelativeDay::Day,
        DayOfWeek::Weekday => RelativeDay::Weekday,
        DayOfWeek::WeekendDay => RelativeDay::WeekendDay,
        other => RelativeDay::On(day_from_wire(other).unwrap_or(Weekday::Sun)),
    }
}

const INDEXES: [(DayOfWeekIndex, WireIndex); 5] = [
    (DayOfWeekIndex::First, WireIndex::First),
    (DayOfWeekIndex::Second, WireIndex::Second),
    (DayOfWeekIndex::Third, WireIndex::Third),
    (DayOfWeekIndex::Fourth, WireIndex::Fourth),
    (DayOfWeekIndex::Last, WireIndex::Last),
];

fn index_to_wire(i: DayOfWeekIndex) -> WireIndex {
    INDEXES
        .iter()
        .find(|(c, _)| *c == i)
        .map_or(WireIndex::First, |(_, w)| *w)
}

fn index_from_wire(i: WireIndex) -> DayOfWeekIndex {
    INDEXES
        .iter()
        .find(|(_, w)| *w == i)
        .map_or(DayOfWeekIndex::First, |(c, _)| *c)
}

const MONTHS: [Month; 12] = [
    Month::January,
    Month::February,
    Month::March,
    Month::April,
    Month::May,
    Month::June,
    Month::July,
    Month::August,
    Month::September,
    Month::October,
    Month::November,
    Month::December,
];

fn month_to_wire(m: u32) -> Month {
    MONTHS
        .get(usize::try_from(m.saturating_sub(1)).unwrap_or(0))
        .copied()
        .unwrap_or(Month::January)
}

fn month_from_wire(m: Month) -> u32 {
    MONTHS
        .iter()
        .position(|x| *x == m)
        .and_then(|p| u32::try_from(p + 1).ok())
        .unwrap_or(1)
}

pub(crate) fn recurrence_to_wire(r: &Recurrence) -> WireRecurrence {
    let pattern = match &r.pattern {
        Pattern::Daily { interval } => RecurrencePattern::Daily {
            interval: *interval,
        },
        Pattern::Weekly {
            interval,
            days,
            first_day_of_week,
        } => RecurrencePattern::Weekly {
            interval: *interval,
            days_of_week: days.iter().map(|d| day_to_wire(*d)).collect(),
            first_day_of_week: Some(day_to_wire(*first_day_of_week)),
        },
        Pattern::AbsoluteMonthly {
            interval,
            day_of_month,
        } => RecurrencePattern::AbsoluteMonthly {
            interval: *interval,
            day_of_month: *day_of_month,
        },
        Pattern::RelativeMonthly {
            interval,
            day,
            index,
        } => RecurrencePattern::RelativeMonthly {
            interval: *interval,
            days_of_week: vec![relative_to_wire(*day)],
            day_of_week_index: index_to_wire(*index),
        },
        Pattern::AbsoluteYearly {
            month,
            day_of_month,
        } => RecurrencePattern::AbsoluteYearly {
            day_of_month: *day_of_month,
            month: month_to_wire(*month),
        },
        Pattern::RelativeYearly { month, day, index } => RecurrencePattern::RelativeYearly {
            days_of_week: vec![relative_to_wire(*day)],
            day_of_week_index: index_to_wire(*index),
            month: month_to_wire(*month),
        },
    };
    let range = match r.range {
        Range::NoEnd { start } => RecurrenceRange::NoEnd {
            start_date: EwsDate::new(start),
        },
        Range::EndDate { start, end } => RecurrenceRange::EndDate {
            start_date: EwsDate::new(start),
            end_date: EwsDate::new(end),
        },
        Range::Numbered { start, count } => RecurrenceRange::Numbered {
            start_date: EwsDate::new(start),
            number_of_occurrences: count,
        },
    };
    WireRecurrence { pattern, range }
}

/// Reads a wire recurrence; `None` when a weekly pattern names a day class (Exchange answers
/// ErrorCalendarInvalidRecurrence).
pub(crate) fn recurrence_from_wire(r: &WireRecurrence) -> Option<Recurrence> {
    let first_rel = |days: &[DayOfWeek]| {
        days.first()
            .map(|d| relative_from_wire(*d))
            .unwrap_or(RelativeDay::Day)
    };
    let pattern = match &r.pattern {
        RecurrencePattern::Daily { interval } => Pattern::Daily {
            interval: *interval,
        },
        RecurrencePattern::Weekly {
            interval,
            days_of_week,
            first_day_of_week,
        } => Pattern::Weekly {
            interval: *interval,
            days: days_of_week
                .iter()
                .map(|d| day_from_wire(*d))
                .collect::<Option<Vec<_>>>()?,
            first_day_of_week: first_day_of_week
                .and_then(day_from_wire)
                .unwrap_or(Weekday::Sun),
        },
        RecurrencePattern::AbsoluteMonthly {
            interval,
            day_of_month,
        } => Pattern::AbsoluteMonthly {
            interval: *interval,
            day_of_month: *day_of_month,
        },
        RecurrencePattern::RelativeMonthly {
            interval,
            days_of_week,
            day_of_week_index,
        } => Pattern::RelativeMonthly {
            interval: *interval,
            day: first_rel(days_of_week),
            index: index_from_wire(*day_of_week_index),
        },
        RecurrencePattern::AbsoluteYearly {
            day_of_month,
            month,
        } => Pattern::AbsoluteYearly {
            month: month_from_wire(*month),
            day_of_month: *day_of_month,
        },
        RecurrencePattern::RelativeYearly {
            days_of_week,
            day_of_week_index,
            month,
        } => Pattern::RelativeYearly {
            month: month_from_wire(*month),
            day: first_rel(days_of_week),
            index: index_from_wire(*day_of_week_index),
        },
    };
    let range = match &r.range {
        RecurrenceRange::NoEnd { start_date } => Range::NoEnd {
            start: start_date.date,
        },
        RecurrenceRange::EndDate {
            start_date,
            end_date,
        } => Range::EndDate {
            start: start_date.date,
            end: end_date.date,
        },
        RecurrenceRange::Numbered {
            start_date,
            number_of_occurrences,
        } => Range::Numbered {
            start: start_date.date,
            count: *number_of_occurrences,
        },
    };
    Some(Recurrence { pattern, range })
}

fn mailbox_wire(name: &str, smtp: &str) -> WireMailbox {
    WireMailbox {
        name: Some(name.to_owned()),
        email_address: Some(smtp.to_owned()),
        routing_type: Some("SMTP".into()),
        mailbox_type: Some("Mailbox".into()),
        item_id: None,
    }
}

fn duration_text(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let mins = (end - start).num_minutes().max(0);
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    let mut s = String::from("P");
    if d > 0 {
        s.push_str(&format!("{d}D"));
    }
    if h > 0 || m > 0 || d == 0 {
        s.push('T');
        if h > 0 {
            s.push_str(&format!("{h}H"));
        }
        if m > 0 || h == 0 {
            s.push_str(&format!("{m}M"));
        }
    }
    s
}

/// The full wire form of a single item, an occurrence or an exception (from a view entry).
pub(crate) fn entry_to_wire(mb: &Mailbox, e: &ViewEntry<'_>, reader: Reader) -> Wire {
    let item = e.item;
    let mut w = common(mb, item, reader);
    match e.occurrence {
        None => {
            w.item_id = Some(ItemId::with_change_key(
                id::item_id(mb.serial, item.key, item.revision),
                id::change_key(item.key, item.revision),
            ));
            w.calendar_item_type = Some(CalendarItemType::Single);
            w.is_recurring = Some(false);
        }
        Some(o) => {
            w.item_id = Some(ItemId::with_change_key(
                id::occurrence_id(mb.serial, item.key, item.revision, o.original_start),
                id::change_key(item.key, item.revision),
            ));
            w.item_class = Some("IPM.Appointment.Occurrence".into());
            w.calendar_item_type = Some(if o.exception.is_some() {
                CalendarItemType::Exception
            } else {
                CalendarItemType::Occurrence
            });
            w.is_recurring = Some(true);
            w.original_start = Some(dt(o.original_start));
            w.recurrence_id = Some(dt(o.original_start));
        }
    }
    w.start = Some(dt(e.start));
    w.end = Some(dt(e.end));
    if reader.want.duration {
        w.duration = Some(duration_text(e.start, e.end));
    }
    w.legacy_free_busy_status = Some(status_to_wire(e.status(), reader.server));
    if reveal(item, reader) {
        if reader.want.subject {
            w.subject = Some(e.subject().to_owned());
        }
        if reader.want.location {
            w.location = Some(e.location().to_owned());
        }
    }
    w
}

/// The full wire form of a recurring master.
pub(crate) fn master_to_wire(mb: &Mailbox, item: &CalendarItem, reader: Reader) -> Wire {
    let mut w = common(mb, item, reader);
    w.item_id = Some(ItemId::with_change_key(
        id::item_id(mb.serial, item.key, item.revision),
        id::change_key(item.key, item.revision),
    ));
    w.calendar_item_type = Some(CalendarItemType::RecurringMaster);
    // The organizer's copy of a master says false (a documented Exchange quirk).
    w.is_recurring = Some(!item.organizer.eq_ignore_ascii_case(&mb.smtp));
    w.start = Some(dt(item.start));
    w.end = Some(dt(item.end));
    if reader.want.duration {
        w.duration = Some(duration_text(item.start, item.end));
    }
    w.legacy_free_busy_status = Some(status_to_wire(item.status, reader.server));
    if reveal(item, reader) {
        if reader.want.subject {
            w.subject = Some(item.subject.clone());
        }
        if reader.want.location {
            w.location = Some(item.location.clone());
        }
    }
    if !reader.want.recurrence {
        return w;
    }
    if let (Some(r), Some(series)) = (&item.recurrence, item.series()) {
        w.recurrence = Some(recurrence_to_wire(r));
        let occ = |o: calendar_core::Occurrence| WireOccurrence {
            item_id: ItemId::with_change_key(
                id::occurrence_id(mb.serial, item.key, item.revision, o.start),
                id::change_key(item.key, item.revision),
            ),
            start: dt(o.start),
            end: dt(o.end),
            original_start: Some(dt(o.start)),
        };
        w.first_occurrence = series.first().map(occ);
        w.last_occurrence = series.last().map(occ);
        if !item.modified.is_empty() {
            w.modified_occurrences = Some(
                item.modified
                    .iter()
                    .map(|m| WireOccurrence {
                        item_id: ItemId::with_change_key(
                            id::occurrence_id(mb.serial, item.key, item.revision, m.original_start),
                            id::change_key(item.key, item.revision),
                        ),
                        start: dt(m.start),
                        end: dt(m.end),
                        original_start: Some(dt(m.original_start)),
                    })
                    .collect(),
            );
        }
        if !item.deleted.is_empty() {
            w.deleted_occurrences = Some(item.deleted.iter().map(|d| dt(*d)).collect());
        }
    }
    w
}

fn reveal(item: &CalendarItem, reader: Reader) -> bool {
    reader.owner || !matches!(item.sensitivity, Sensitivity::Private)
}

fn common(mb: &Mailbox, item: &CalendarItem, reader: Reader) -> Wire {
    let want = reader.want;
    let organizer_is_owner = item.organizer.eq_ignore_ascii_case(&mb.smtp);
    let meeting = !item.attendees.is_empty();
    let mut state = 0;
    if meeting {
        state |= 1;
        if !organizer_is_owner {
            state |= 2;
        }
    }
    if item.cancelled {
        state |= 4;
    }
    let zone = if want.zones {
        crate::zone::windows_id(item.tz)
    } else {
        "UTC"
    };
    let newer = !matches!(
        reader.server,
        ServerVersion::Exchange2010Sp2 | ServerVersion::Exchange2010Sp3
    );
    let created = dt(item.created);
    let modified = dt(item.last_modified);
    Wire {
        parent_folder_id: want
            .strings
            .then(|| ItemId::new(id::folder_id(mb.serial, FolderKind::Calendar))),
        item_class: want.strings.then(|| "IPM.Appointment".into()),
        sensitivity: Some(sensitivity_to_wire(item.sensitivity)),
        body: (want.body && reveal(item, reader)).then(|| Body {
            body_type: "Text".into(),
            text: item.body.clone(),
        }),
        date_time_received: Some(created),
        size: Some(u64::try_from(item.subject.len() + item.body.len() + 400).unwrap_or(400)),
        importance: want.strings.then(|| "Normal".into()),
        date_time_sent: Some(created),
        date_time_created: Some(created),
        reminder_is_set: Some(false),
        reminder_minutes_before_start: Some(15),
        has_attachments: Some(false),
        culture: want.strings.then(|| "en-US".into()),
        last_modified_time: Some(modified),
        uid: want.strings.then(|| item.uid.clone()),
        date_time_stamp: Some(modified),
        is_all_day_event: Some(item.all_day),
        is_meeting: Some(meeting),
        is_cancelled: Some(item.cancelled),
        meeting_request_was_sent: Some(meeting && organizer_is_owner),
        is_response_requested: Some(meeting),
        my_response_type: Some(if organizer_is_owner {
            ResponseType::Organizer
        } else {
            ResponseType::Accept
        }),
        organizer: want.people.then(|| {
            mailbox_wire(
                if organizer_is_owner {
                    &mb.name
                } else {
                    &item.organizer
                },
                &item.organizer,
            )
        }),
        required_attendees: (want.people && meeting).then(|| {
            item.attendees
                .iter()
                .map(|a| Attendee {
                    mailbox: mailbox_wire(a, a),
                    response_type: Some(ResponseType::Unknown),
                    last_response_time: None,
                })
                .collect()
        }),
        time_zone: want.zones.then(|| zone.to_owned()),
        appointment_sequence_number: Some(0),
        appointment_state: Some(state),
        start_time_zone: want.zones.then(|| TimeZoneContext::id(zone)),
        end_time_zone: want.zones.then(|| TimeZoneContext::id(zone)),
        start_time_zone_id: (want.zones && newer).then(|| zone.to_owned()),
        end_time_zone_id: (want.zones && newer).then(|| zone.to_owned()),
        is_organizer: Some(organizer_is_owner),
        ..Wire::default()
    }
}

/// Which costly parts of an item a request's shape needs; everything else is cheap (copied
/// scalars) and always built. Rendering is allocation-bound, so a view that asks for
/// subject/start/end allocates only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Want {
    /// ParentFolderId, ItemClass, Importance, Culture, UID.
    pub(crate) strings: bool,
    pub(crate) body: bool,
    /// Organizer and attendees.
    pub(crate) people: bool,
    /// TimeZone, StartTimeZone, EndTimeZone, *TimeZoneId.
    pub(crate) zones: bool,
    pub(crate) subject: bool,
    pub(crate) location: bool,
    pub(crate) duration: bool,
    /// Recurrence, First/LastOccurrence, Modified/DeletedOccurrences.
    pub(crate) recurrence: bool,
}

impl Want {
    /// Everything (when the caller filters later or needs all).
    pub(crate) const ALL: Want = Want {
        strings: true,
        body: true,
        people: true,
        zones: true,
        subject: true,
        location: true,
        duration: true,
        recurrence: true,
    };

    /// What `shape` (with FindItem's exclusions when `find`) keeps.
    pub(crate) fn for_shape(shape: &Shape, find: bool) -> Want {
        let mut w = Want {
            strings: false,
            body: false,
            people: false,
            zones: false,
            subject: false,
            location: false,
            duration: false,
            recurrence: false,
        };
        for uri in shape_uris(shape, find) {
            match uri {
                "item:ParentFolderId"
                | "item:ItemClass"
                | "item:Importance"
                | "item:Culture"
                | "calendar:UID" => w.strings = true,
                "item:Body" | "item:UniqueBody" | "item:TextBody" => w.body = true,
                "calendar:Organizer"
                | "calendar:RequiredAttendees"
                | "calendar:OptionalAttendees"
                | "calendar:Resources" => w.people = true,
                "calendar:TimeZone"
                | "calendar:StartTimeZone"
                | "calendar:EndTimeZone"
                | "calendar:StartTimeZoneId"
                | "calendar:EndTimeZoneId" => w.zones = true,
                "item:Subject" => w.subject = true,
                "calendar:Location" => w.location = true,
                "calendar:Duration" => w.duration = true,
                "calendar:Recurrence"
                | "calendar:FirstOccurrence"
                | "calendar:LastOccurrence"
                | "calendar:ModifiedOccurrences"
                | "calendar:DeletedOccurrences" => w.recurrence = true,
                _ => {}
            }
        }
        w
    }
}

/// The FieldURIs a shape keeps, base shape first.
fn shape_uris(shape: &Shape, find: bool) -> impl Iterator<Item = &str> {
    let base: &[&str] = match shape.base_shape {
        BaseShape::IdOnly => &[],
        BaseShape::Default | BaseShape::PcxPeopleSearch => DEFAULT,
        BaseShape::AllProperties => ALL,
    };
    let extra = shape.additional_properties.iter().filter_map(|p| match p {
        ews_proto::PropertyPath::Field(uri) => Some(uri.as_str()),
        _ => None,
    });
    base.iter()
        .copied()
        .chain(extra)
        .filter(move |uri| !(find && NOT_IN_FIND.contains(uri)))
}

/// Copies one property, named by its FieldURI, from `full` into `out`. Unknown URIs are
/// ignored (returns false).
fn copy_field(out: &mut Wire, full: &mut Wire, uri: &str) -> bool {
    // Moves the field: each URI is taken at most once per item (rendering is allocation-bound).
    macro_rules! copy {
        ($($f:ident),*) => {{ $( if out.$f.is_none() { out.$f = full.$f.take(); } )* }};
    }
    match uri {
        "item:ItemId" => copy!(item_id),
        "item:ParentFolderId" => copy!(parent_folder_id),
        "item:ItemClass" => copy!(item_class),
        "item:Subject" => copy!(subject),
        "item:Sensitivity" => copy!(sensitivity),
        "item:Body" | "item:UniqueBody" | "item:TextBody" => copy!(body),
        "item:DateTimeReceived" => copy!(date_time_received),
        "item:Size" => copy!(size),
        "item:Categories" => copy!(categories),
        "item:Importance" => copy!(importance),
        "item:DateTimeSent" => copy!(date_time_sent),
        "item:DateTimeCreated" => copy!(date_time_created),
        "item:ReminderDueBy" => copy!(reminder_due_by),
        "item:ReminderIsSet" => copy!(reminder_is_set),
        "item:ReminderMinutesBeforeStart" => copy!(reminder_minutes_before_start),
        "item:HasAttachments" => copy!(has_attachments),
        "item:Culture" => copy!(culture),
        "item:LastModifiedTime" => copy!(last_modified_time),
        "calendar:UID" => copy!(uid),
        "calendar:RecurrenceId" => copy!(recurrence_id),
        "calendar:DateTimeStamp" => copy!(date_time_stamp),
        "calendar:Start" => copy!(start),
        "calendar:End" => copy!(end),
        "calendar:OriginalStart" => copy!(original_start),
        "calendar:IsAllDayEvent" => copy!(is_all_day_event),
        "calendar:LegacyFreeBusyStatus" => copy!(legacy_free_busy_status),
        "calendar:Location" => copy!(location),
        "calendar:IsMeeting" => copy!(is_meeting),
        "calendar:IsCancelled" => copy!(is_cancelled),
        "calendar:IsRecurring" => copy!(is_recurring),
        "calendar:MeetingRequestWasSent" => copy!(meeting_request_was_sent),
        "calendar:IsResponseRequested" => copy!(is_response_requested),
        "calendar:CalendarItemType" => copy!(calendar_item_type),
        "calendar:MyResponseType" => copy!(my_response_type),
        "calendar:Organizer" => copy!(organizer),
        "calendar:RequiredAttendees" => copy!(required_attendees),
        "calendar:OptionalAttendees" => copy!(optional_attendees),
        "calendar:Resources" => copy!(resources),
        "calendar:Duration" => copy!(duration),
        "calendar:TimeZone" => copy!(time_zone),
        "calendar:AppointmentSequenceNumber" => copy!(appointment_sequence_number),
        "calendar:AppointmentState" => copy!(appointment_state),
        "calendar:Recurrence" => copy!(recurrence),
        "calendar:FirstOccurrence" => copy!(first_occurrence),
        "calendar:LastOccurrence" => copy!(last_occurrence),
        "calendar:ModifiedOccurrences" => copy!(modified_occurrences),
        "calendar:DeletedOccurrences" => copy!(deleted_occurrences),
        "calendar:StartTimeZone" => copy!(start_time_zone),
        "calendar:EndTimeZone" => copy!(end_time_zone),
        "calendar:IsOnlineMeeting" => copy!(is_online_meeting),
        "calendar:StartTimeZoneId" => copy!(start_time_zone_id),
        "calendar:EndTimeZoneId" => copy!(end_time_zone_id),
        "calendar:IsOrganizer" => copy!(is_organizer),
        _ => return false,
    }
    true
}

/// The default shape (GetItem `Default`, see the default-shape sample).
const DEFAULT: &[&str] = &[
    "item:ItemId",
    "item:ParentFolderId",
    "item:ItemClass",
    "item:Subject",
    "item:Sensitivity",
    "item:Body",
    "item:DateTimeReceived",
    "item:Size",
    "item:Importance",
    "item:DateTimeSent",
    "item:DateTimeCreated",
    "item:ReminderIsSet",
    "item:ReminderMinutesBeforeStart",
    "item:HasAttachments",
    "item:Culture",
    "calendar:Start",
    "calendar:End",
    "calendar:IsAllDayEvent",
    "calendar:LegacyFreeBusyStatus",
    "calendar:Location",
    "calendar:IsMeeting",
    "calendar:IsCancelled",
    "calendar:IsRecurring",
    "calendar:MeetingRequestWasSent",
    "calendar:CalendarItemType",
    "calendar:MyResponseType",
    "calendar:Organizer",
    "calendar:Duration",
    "calendar:TimeZone",
    "calendar:AppointmentSequenceNumber",
    "calendar:AppointmentState",
];

/// Properties FindItem never returns ("complex" properties, EWS.md §3.1).
const NOT_IN_FIND: &[&str] = &[
    "item:Body",
    "item:UniqueBody",
    "item:TextBody",
    "calendar:RequiredAttendees",
    "calendar:OptionalAttendees",
    "calendar:Resources",
    "calendar:Recurrence",
    "calendar:FirstOccurrence",
    "calendar:LastOccurrence",
    "calendar:ModifiedOccurrences",
    "calendar:DeletedOccurrences",
    "calendar:StartTimeZone",
    "calendar:EndTimeZone",
];

const ALL: &[&str] = &[
    "item:ItemId",
    "item:ParentFolderId",
    "item:ItemClass",
    "item:Subject",
    "item:Sensitivity",
    "item:Body",
    "item:DateTimeReceived",
    "item:Size",
    "item:Categories",
    "item:Importance",
    "item:DateTimeSent",
    "item:DateTimeCreated",
    "item:ReminderDueBy",
    "item:ReminderIsSet",
    "item:ReminderMinutesBeforeStart",
    "item:HasAttachments",
    "item:Culture",
    "item:LastModifiedTime",
    "calendar:UID",
    "calendar:RecurrenceId",
    "calendar:DateTimeStamp",
    "calendar:Start",
    "calendar:End",
    "calendar:OriginalStart",
    "calendar:IsAllDayEvent",
    "calendar:LegacyFreeBusyStatus",
    "calendar:Location",
    "calendar:IsMeeting",
    "calendar:IsCancelled",
    "calendar:IsRecurring",
    "calendar:MeetingRequestWasSent",
    "calendar:IsResponseRequested",
    "calendar:CalendarItemType",
    "calendar:MyResponseType",
    "calendar:Organizer",
    "calendar:RequiredAttendees",
    "calendar:OptionalAttendees",
    "calendar:Resources",
    "calendar:Duration",
    "calendar:TimeZone",
    "calendar:AppointmentSequenceNumber",
    "calendar:AppointmentState",
    "calendar:Recurrence",
    "calendar:FirstOccurrence",
    "calendar:LastOccurrence",
    "calendar:ModifiedOccurrences",
    "calendar:DeletedOccurrences",
    "calendar:StartTimeZone",
    "calendar:EndTimeZone",
    "calendar:IsOnlineMeeting",
    "calendar:StartTimeZoneId",
    "calendar:EndTimeZoneId",
    "calendar:IsOrganizer",
];

/// Keeps what `shape` asks for. `find` drops complex properties as FindItem does.
pub(crate) fn shape(mut full: Wire, shape: &Shape, find: bool) -> Wire {
    let mut out = Wire {
        item_id: full.item_id.take(),
        ..Wire::default()
    };
    for uri in shape_uris(shape, find) {
        copy_field(&mut out, &mut full, uri);
    }
    out
}

/// The FieldURI an update targets, for UpdateItem.
pub(crate) fn update_uri(u: &ItemUpdate) -> Option<&str> {
    let path = match u {
        ItemUpdate::Set { path, .. }
        | ItemUpdate::Append { path, .. }
        | ItemUpdate::Delete { path } => path,
    };
    match path {
        ews_proto::PropertyPath::Field(uri) => Some(uri.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrence_round_trips_through_the_wire_form() {
        let yaml = [
            "pattern: { type: weekly, interval: 2, days: [Mon, Fri], firstDayOfWeek: Mon }\nrange: { type: endDate, start: 2026-03-02, end: 2026-06-30 }\n",
            "pattern: { type: relativeMonthly, interval: 1, day: Weekday, index: last }\nrange: { type: numbered, start: 2026-03-01, count: 5 }\n",
            "pattern: { type: absoluteYearly, month: 2, dayOfMonth: 29 }\nrange: { type: noEnd, start: 2026-01-01 }\n",
            "pattern: { type: relativeYearly, month: 11, day: Thursday, index: fourth }\nrange: { type: noEnd, start: 2026-01-01 }\n",
            "pattern: { type: daily, interval: 3 }\nrange: { type: noEnd, start: 2026-01-01 }\n",
            "pattern: { type: absoluteMonthly, interval: 1, dayOfMonth: 31 }\nrange: { type: noEnd, start: 2026-01-01 }\n",
        ];
        for y in yaml {
            let r: Recurrence = serde_saphyr::from_str(y).unwrap();
            assert_eq!(
                recurrence_from_wire(&recurrence_to_wire(&r)),
                Some(r),
                "{y}"
            );
        }
    }

    #[test]
    fn durations_are_xs_durations() {
        let t = DateTime::from_timestamp(0, 0).unwrap();
        assert_eq!(duration_text(t, t + chrono::Duration::minutes(30)), "PT30M");
        assert_eq!(
            duration_text(t, t + chrono::Duration::minutes(90)),
            "PT1H30M"
        );
        assert_eq!(duration_text(t, t + chrono::Duration::days(1)), "P1D");
        assert_eq!(duration_text(t, t), "PT0M");
    }

    #[test]
    fn working_elsewhere_is_busy_on_2010() {
        assert_eq!(
            status_to_wire(
                FreeBusyStatus::WorkingElsewhere,
                ServerVersion::Exchange2010Sp3
            ),
            LegacyFreeBusyStatus::Busy
        );
        assert_eq!(
            status_to_wire(
                FreeBusyStatus::WorkingElsewhere,
                ServerVersion::Exchange2016
            ),
            LegacyFreeBusyStatus::WorkingElsewhere
        );
    }
}
