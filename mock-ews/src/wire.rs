//! Conversions between the store's items and ews-proto's wire types, and item shapes.
//!
//! Wire types stay at this edge: operations build a full `ews_proto::CalendarItem` from a
//! stored item or occurrence, then [`shape`] keeps what the request's `ItemShape` asks for.
//! Unknown FieldURIs are ignored, as real clients (exchangelib) require.

use calendar_core::{
    DayOfWeekIndex, FreeBusyStatus, Pattern, Range, Recurrence, RelativeDay, Weekday,
};
use chrono::{DateTime, Utc};
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
    CalendarItem as Wire, EwsDate, EwsDateTime, ItemId, Mailbox as WireMailbox, Ns, Shape,
    TimeZoneContext, Writer,
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
    // Stored times are nearly always whole seconds; `with_nanosecond` would round-trip through
    // local time (offset arithmetic) for every date of every item written.
    if t.timestamp_subsec_nanos() == 0 {
        EwsDateTime::utc(t)
    } else {
        EwsDateTime::utc(DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t))
    }
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
            w.calendar_item_type = Some(entry_type(e));
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

/// The fields [`write_view_entry`] cannot write: complex properties (FindItem never returns
/// them) and those the mock never fills. A shape keeping any of them is built instead.
const NOT_STREAMED: [Field; 12] = [
    Field::body,
    Field::categories,
    Field::reminder_due_by,
    Field::required_attendees,
    Field::optional_attendees,
    Field::resources,
    Field::recurrence,
    Field::first_occurrence,
    Field::last_occurrence,
    Field::modified_occurrences,
    Field::deleted_occurrences,
    Field::is_online_meeting,
];

impl Fields {
    /// Whether [`write_view_entry`] writes everything this shape keeps.
    pub(crate) fn streamable(self) -> bool {
        !NOT_STREAMED.iter().any(|f| self.has(*f))
            && !self.has(Field::start_time_zone)
            && !self.has(Field::end_time_zone)
    }
}

/// Writes a view entry's `t:CalendarItem` straight from the store: exactly what
/// `entry_to_wire` then [`Fields::retain`] then `CalendarItem::write` give (a test compares
/// them over many items, shapes, readers and profiles), without building the wire item.
/// A 7-day, 20-item CalendarView spent most of its time building, writing and dropping
/// those (mock-ews/README.md#figures). Only for shapes that are [`Fields::streamable`].
pub(crate) fn write_view_entry(
    w: &mut Writer,
    mb: &Mailbox,
    e: &ViewEntry<'_>,
    reader: Reader,
    fields: Fields,
) {
    use Field as F;
    let t = Ns::Types;
    let item = e.item;
    // Most views (the engine's, the bench's) keep none of the fields derived from Facts.
    let facts = std::cell::OnceCell::new();
    let f = || facts.get_or_init(|| Facts::of(mb, item, reader));
    let want = reader.want;
    let shown = reveal(item, reader);
    let keep = |field: Field| fields.has(field);
    let occurrence = e.occurrence;
    w.start(&t, "CalendarItem", &[]);
    let id = match occurrence {
        None => id::item_id_text(mb.serial, item.key, item.revision),
        Some(o) => id::occurrence_id_text(mb.serial, item.key, item.revision, o.original_start),
    };
    let change_key = id::change_key_text(item.key, item.revision);
    w.empty(
        &t,
        "ItemId",
        &[("Id", id.as_str()), ("ChangeKey", change_key.as_str())],
    );
    if keep(F::parent_folder_id) && want.strings {
        let folder = id::folder_id(mb.serial, FolderKind::Calendar);
        w.empty(&t, "ParentFolderId", &[("Id", &folder)]);
    }
    if keep(F::item_class) {
        match occurrence {
            Some(_) => w.leaf(&t, "ItemClass", "IPM.Appointment.Occurrence"),
            None if want.strings => w.leaf(&t, "ItemClass", "IPM.Appointment"),
            None => {}
        }
    }
    if keep(F::subject) && shown && want.subject {
        w.leaf(&t, "Subject", e.subject());
    }
    if keep(F::sensitivity) {
        w.leaf_value(&t, "Sensitivity", &sensitivity_to_wire(item.sensitivity));
    }
    if keep(F::date_time_received) {
        w.leaf_value(&t, "DateTimeReceived", &f().created);
    }
    if keep(F::size) {
        w.leaf_value(&t, "Size", &f().size);
    }
    if keep(F::importance) && want.strings {
        w.leaf(&t, "Importance", "Normal");
    }
    if keep(F::date_time_sent) {
        w.leaf_value(&t, "DateTimeSent", &f().created);
    }
    if keep(F::date_time_created) {
        w.leaf_value(&t, "DateTimeCreated", &f().created);
    }
    if keep(F::reminder_is_set) {
        w.leaf_value(&t, "ReminderIsSet", &false);
    }
    if keep(F::reminder_minutes_before_start) {
        w.leaf_value(&t, "ReminderMinutesBeforeStart", &15_i32);
    }
    if keep(F::has_attachments) {
        w.leaf_value(&t, "HasAttachments", &false);
    }
    if keep(F::culture) && want.strings {
        w.leaf(&t, "Culture", "en-US");
    }
    if keep(F::last_modified_time) {
        w.leaf_value(&t, "LastModifiedTime", &f().modified);
    }
    if keep(F::uid) && want.strings {
        w.leaf(&t, "UID", &item.uid);
    }
    if let (true, Some(o)) = (keep(F::recurrence_id), occurrence) {
        w.leaf_value(&t, "RecurrenceId", &dt(o.original_start));
    }
    if keep(F::date_time_stamp) {
        w.leaf_value(&t, "DateTimeStamp", &f().modified);
    }
    if keep(F::start) {
        w.leaf_value(&t, "Start", &dt(e.start));
    }
    if keep(F::end) {
        w.leaf_value(&t, "End", &dt(e.end));
    }
    if let (true, Some(o)) = (keep(F::original_start), occurrence) {
        w.leaf_value(&t, "OriginalStart", &dt(o.original_start));
    }
    if keep(F::is_all_day_event) {
        w.leaf_value(&t, "IsAllDayEvent", &item.all_day);
    }
    if keep(F::legacy_free_busy_status) {
        w.leaf_value(
            &t,
            "LegacyFreeBusyStatus",
            &status_to_wire(e.status(), reader.server),
        );
    }
    if keep(F::location) && shown && want.location {
        w.leaf(&t, "Location", e.location());
    }
    if keep(F::is_meeting) {
        w.leaf_value(&t, "IsMeeting", &f().meeting);
    }
    if keep(F::is_cancelled) {
        w.leaf_value(&t, "IsCancelled", &item.cancelled);
    }
    if keep(F::is_recurring) {
        w.leaf_value(&t, "IsRecurring", &occurrence.is_some());
    }
    if keep(F::meeting_request_was_sent) {
        w.leaf_value(
            &t,
            "MeetingRequestWasSent",
            &(f().meeting && f().organizer_is_owner),
        );
    }
    if keep(F::is_response_requested) {
        w.leaf_value(&t, "IsResponseRequested", &f().meeting);
    }
    if keep(F::calendar_item_type) {
        w.leaf_value(&t, "CalendarItemType", &entry_type(e));
    }
    if keep(F::my_response_type) {
        w.leaf_value(&t, "MyResponseType", &f().my_response);
    }
    if keep(F::organizer) && want.people {
        w.start(&t, "Organizer", &[]);
        f().organizer(mb, item).write(w, "Mailbox");
        w.end();
    }
    if keep(F::duration) && want.duration {
        w.leaf(&t, "Duration", &duration_text(e.start, e.end));
    }
    if keep(F::time_zone) && want.zones {
        w.leaf(&t, "TimeZone", f().zone);
    }
    if keep(F::appointment_sequence_number) {
        w.leaf_value(&t, "AppointmentSequenceNumber", &0_i32);
    }
    if keep(F::appointment_state) {
        w.leaf_value(&t, "AppointmentState", &f().state);
    }
    if keep(F::start_time_zone_id) && want.zones && f().zone_ids {
        w.leaf(&t, "StartTimeZoneId", f().zone);
    }
    if keep(F::end_time_zone_id) && want.zones && f().zone_ids {
        w.leaf(&t, "EndTimeZoneId", f().zone);
    }
    if keep(F::is_organizer) {
        w.leaf_value(&t, "IsOrganizer", &f().organizer_is_owner);
    }
    w.end();
}

/// Single, occurrence or exception.
fn entry_type(e: &ViewEntry<'_>) -> CalendarItemType {
    match e.occurrence {
        None => CalendarItemType::Single,
        Some(o) if o.exception.is_some() => CalendarItemType::Exception,
        Some(_) => CalendarItemType::Occurrence,
    }
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

/// What every wire form of an item derives from the item, its mailbox and the reader; one
/// place for the rules, shared by the built ([`common`]) and the streamed
/// ([`write_view_entry`]) forms.
pub(crate) struct Facts {
    pub(crate) organizer_is_owner: bool,
    pub(crate) meeting: bool,
    /// `AppointmentState` bits: 1 meeting, 2 received, 4 cancelled.
    pub(crate) state: i32,
    /// The Windows zone id written for the item (`UTC` when zones are not wanted).
    pub(crate) zone: &'static str,
    /// Whether the profile writes `StartTimeZoneId`/`EndTimeZoneId` (2013 and later).
    pub(crate) zone_ids: bool,
    pub(crate) created: EwsDateTime,
    pub(crate) modified: EwsDateTime,
    pub(crate) size: u64,
    pub(crate) my_response: ResponseType,
}

impl Facts {
    pub(crate) fn of(mb: &Mailbox, item: &CalendarItem, reader: Reader) -> Facts {
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
        Facts {
            organizer_is_owner,
            meeting,
            state,
            zone: if reader.want.zones {
                crate::zone::windows_id(item.tz)
            } else {
                "UTC"
            },
            zone_ids: !matches!(
                reader.server,
                ServerVersion::Exchange2010Sp2 | ServerVersion::Exchange2010Sp3
            ),
            created: dt(item.created),
            modified: dt(item.last_modified),
            size: u64::try_from(item.subject.len() + item.body.len() + 400).unwrap_or(400),
            my_response: if organizer_is_owner {
                ResponseType::Organizer
            } else {
                ResponseType::Accept
            },
        }
    }

    /// The organizer as written (the owner's display name for their own items).
    fn organizer(&self, mb: &Mailbox, item: &CalendarItem) -> WireMailbox {
        mailbox_wire(
            if self.organizer_is_owner {
                &mb.name
            } else {
                &item.organizer
            },
            &item.organizer,
        )
    }
}

fn common(mb: &Mailbox, item: &CalendarItem, reader: Reader) -> Wire {
    let want = reader.want;
    let f = Facts::of(mb, item, reader);
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
        date_time_received: Some(f.created),
        size: Some(f.size),
        importance: want.strings.then(|| "Normal".into()),
        date_time_sent: Some(f.created),
        date_time_created: Some(f.created),
        reminder_is_set: Some(false),
        reminder_minutes_before_start: Some(15),
        has_attachments: Some(false),
        culture: want.strings.then(|| "en-US".into()),
        last_modified_time: Some(f.modified),
        uid: want.strings.then(|| item.uid.clone()),
        date_time_stamp: Some(f.modified),
        is_all_day_event: Some(item.all_day),
        is_meeting: Some(f.meeting),
        is_cancelled: Some(item.cancelled),
        meeting_request_was_sent: Some(f.meeting && f.organizer_is_owner),
        is_response_requested: Some(f.meeting),
        my_response_type: Some(f.my_response),
        organizer: want.people.then(|| f.organizer(mb, item)),
        required_attendees: (want.people && f.meeting).then(|| {
            item.attendees
                .iter()
                .map(|a| Attendee {
                    mailbox: mailbox_wire(a, a),
                    response_type: Some(ResponseType::Unknown),
                    last_response_time: None,
                })
                .collect()
        }),
        time_zone: want.zones.then(|| f.zone.to_owned()),
        appointment_sequence_number: Some(0),
        appointment_state: Some(f.state),
        start_time_zone: want.zones.then(|| TimeZoneContext::id(f.zone)),
        end_time_zone: want.zones.then(|| TimeZoneContext::id(f.zone)),
        start_time_zone_id: (want.zones && f.zone_ids).then(|| f.zone.to_owned()),
        end_time_zone_id: (want.zones && f.zone_ids).then(|| f.zone.to_owned()),
        is_organizer: Some(f.organizer_is_owner),
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

    /// The costly parts the kept fields need.
    pub(crate) fn of(fields: Fields) -> Want {
        use Field as F;
        let any = |list: &[Field]| list.iter().any(|f| fields.has(*f));
        Want {
            strings: any(&[
                F::parent_folder_id,
                F::item_class,
                F::importance,
                F::culture,
                F::uid,
            ]),
            body: any(&[F::body]),
            people: any(&[
                F::organizer,
                F::required_attendees,
                F::optional_attendees,
                F::resources,
            ]),
            zones: any(&[
                F::time_zone,
                F::start_time_zone,
                F::end_time_zone,
                F::start_time_zone_id,
                F::end_time_zone_id,
            ]),
            subject: any(&[F::subject]),
            location: any(&[F::location]),
            duration: any(&[F::duration]),
            recurrence: any(&[
                F::recurrence,
                F::first_occurrence,
                F::last_occurrence,
                F::modified_occurrences,
                F::deleted_occurrences,
            ]),
        }
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

/// The item fields a shape keeps, one bit each, and the FieldURIs that name them.
///
/// Generated from one table so the URI lookup and the clearing cannot drift apart.
macro_rules! shape_fields {
    ($($($uri:literal)|+ => $field:ident,)+) => {
        /// An item field a shape can keep, named as the wire struct's field.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Field {
            $($field),+
        }

        /// Which fields of an item a shape keeps (`item_id` always).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct Fields(u64);

        impl Fields {
            /// The bit of the field a FieldURI names; `None` for URIs we do not model.
            fn bit(uri: &str) -> Option<u64> {
                $(
                    if matches!(uri, $($uri)|+) {
                        return Some(1 << Field::$field as u32);
                    }
                )+
                None
            }

            /// Clears every field not kept, in place.
            pub(crate) fn retain(self, w: &mut Wire) {
                $(
                    if !self.has(Field::$field) {
                        w.$field = None;
                    }
                )+
                // Fields no shape selects (the mock never fills them).
                w.meeting_time_zone = None;
                w.intended_free_busy_status = None;
                w.other.clear();
            }
        }
    };
}

shape_fields! {
    "item:ParentFolderId" => parent_folder_id,
    "item:ItemClass" => item_class,
    "item:Subject" => subject,
    "item:Sensitivity" => sensitivity,
    "item:Body" | "item:UniqueBody" | "item:TextBody" => body,
    "item:DateTimeReceived" => date_time_received,
    "item:Size" => size,
    "item:Categories" => categories,
    "item:Importance" => importance,
    "item:DateTimeSent" => date_time_sent,
    "item:DateTimeCreated" => date_time_created,
    "item:ReminderDueBy" => reminder_due_by,
    "item:ReminderIsSet" => reminder_is_set,
    "item:ReminderMinutesBeforeStart" => reminder_minutes_before_start,
    "item:HasAttachments" => has_attachments,
    "item:Culture" => culture,
    "item:LastModifiedTime" => last_modified_time,
    "calendar:UID" => uid,
    "calendar:RecurrenceId" => recurrence_id,
    "calendar:DateTimeStamp" => date_time_stamp,
    "calendar:Start" => start,
    "calendar:End" => end,
    "calendar:OriginalStart" => original_start,
    "calendar:IsAllDayEvent" => is_all_day_event,
    "calendar:LegacyFreeBusyStatus" => legacy_free_busy_status,
    "calendar:Location" => location,
    "calendar:IsMeeting" => is_meeting,
    "calendar:IsCancelled" => is_cancelled,
    "calendar:IsRecurring" => is_recurring,
    "calendar:MeetingRequestWasSent" => meeting_request_was_sent,
    "calendar:IsResponseRequested" => is_response_requested,
    "calendar:CalendarItemType" => calendar_item_type,
    "calendar:MyResponseType" => my_response_type,
    "calendar:Organizer" => organizer,
    "calendar:RequiredAttendees" => required_attendees,
    "calendar:OptionalAttendees" => optional_attendees,
    "calendar:Resources" => resources,
    "calendar:Duration" => duration,
    "calendar:TimeZone" => time_zone,
    "calendar:AppointmentSequenceNumber" => appointment_sequence_number,
    "calendar:AppointmentState" => appointment_state,
    "calendar:Recurrence" => recurrence,
    "calendar:FirstOccurrence" => first_occurrence,
    "calendar:LastOccurrence" => last_occurrence,
    "calendar:ModifiedOccurrences" => modified_occurrences,
    "calendar:DeletedOccurrences" => deleted_occurrences,
    "calendar:StartTimeZone" => start_time_zone,
    "calendar:EndTimeZone" => end_time_zone,
    "calendar:IsOnlineMeeting" => is_online_meeting,
    "calendar:StartTimeZoneId" => start_time_zone_id,
    "calendar:EndTimeZoneId" => end_time_zone_id,
    "calendar:IsOrganizer" => is_organizer,
}

impl Fields {
    /// Whether the shape keeps `f`.
    pub(crate) fn has(self, f: Field) -> bool {
        self.0 & (1 << f as u32) != 0
    }

    /// What `shape` asks for; `find` drops complex properties as FindItem does. Unknown
    /// URIs are ignored, as Exchange ignores properties an item type does not have.
    pub(crate) fn for_shape(shape: &Shape, find: bool) -> Fields {
        Fields(
            shape_uris(shape, find)
                .filter_map(Fields::bit)
                .fold(0, |m, b| m | b),
        )
    }
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

    /// Every item kind the mock stores: the small office (series with a moved and a deleted
    /// occurrence, private, all-day, WorkingElsewhere, a received meeting, a multi-day OOF)
    /// plus an organised meeting, a cancelled item and text that needs escaping.
    fn streaming_world() -> crate::world::World {
        let mut yaml = include_str!("../worlds/small-office.yaml").to_owned();
        yaml = yaml.replace(
            "accounts:",
            r#"  - smtp: carol@contoso.com
    name: Carol & Co <HQ>
    zone: Asia/Kolkata
    calendar:
      - subject: "Budget & <review>"
        start: 2026-03-24 10:00
        duration: 90m
        location: 'Room "A" & B'
        attendees: [alice@contoso.com]
      - subject: Cancelled lunch
        start: 2026-03-25 12:30
        duration: 1h
        cancelled: true
        sensitivity: personal
      - subject: Early
        start: 2026-03-23 00:00
        duration: 0m
accounts:"#,
        );
        let spec = crate::spec::WorldSpec::from_yaml(&yaml, "streaming").unwrap();
        crate::world::World::from_spec(&spec, "2026-03-23T07:00:00Z".parse().unwrap()).unwrap()
    }

    fn shape(base: BaseShape, uris: &[&str]) -> Shape {
        let mut s = Shape::base(base);
        s.additional_properties = uris
            .iter()
            .map(|u| ews_proto::PropertyPath::Field((*u).to_owned()))
            .collect();
        s
    }

    #[test]
    fn streamed_view_entries_are_byte_identical_to_built_ones() {
        let world = streaming_world();
        let mut shapes = vec![
            shape(BaseShape::IdOnly, &[]),
            shape(BaseShape::Default, &[]),
            shape(BaseShape::AllProperties, &[]),
            // The engine's and the bench's shape.
            shape(
                BaseShape::IdOnly,
                &[
                    "item:Subject",
                    "calendar:Start",
                    "calendar:End",
                    "calendar:LegacyFreeBusyStatus",
                    "calendar:CalendarItemType",
                    "item:Sensitivity",
                ],
            ),
        ];
        shapes.extend(ALL.iter().map(|u| shape(BaseShape::IdOnly, &[u])));
        shapes.push(shape(BaseShape::IdOnly, ALL));
        let servers = [
            ServerVersion::Exchange2010Sp2,
            ServerVersion::Exchange2010Sp3,
            ServerVersion::Exchange2013,
            ServerVersion::Exchange2016,
            ServerVersion::Exchange2019,
        ];
        let from = "2026-03-16T00:00:00Z".parse().unwrap();
        let to = "2026-04-13T00:00:00Z".parse().unwrap();
        let (mut compared, mut streamable_shapes) = (0, 0);
        for sh in &shapes {
            let fields = Fields::for_shape(sh, true);
            if !fields.streamable() {
                continue;
            }
            streamable_shapes += 1;
            for mb in world.mailboxes.values() {
                let mut entries = Vec::new();
                for item in mb.items.values() {
                    item.view_into(from, to, &mut entries);
                }
                for server in servers {
                    for owner in [true, false] {
                        let reader = Reader {
                            server,
                            owner,
                            want: Want::of(fields),
                        };
                        let writer = || {
                            let mut w = Writer::fragment();
                            w.start_declaring(&Ns::Messages, "Items", &[], &[Ns::Types]);
                            w
                        };
                        for e in &entries {
                            let mut streamed = writer();
                            write_view_entry(&mut streamed, mb, e, reader, fields);
                            let mut built = writer();
                            let mut wire = entry_to_wire(mb, e, reader);
                            fields.retain(&mut wire);
                            wire.write(&mut built);
                            assert_eq!(
                                streamed.into_string(),
                                built.into_string(),
                                "{} in {} ({server:?}, owner {owner}), shape {sh:?}",
                                e.subject(),
                                mb.smtp,
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
        // Every single-field shape but the complex ones, the base shapes and the bench's.
        assert!(
            streamable_shapes >= 50,
            "{streamable_shapes} shapes streamed"
        );
        assert!(compared > 5_000, "{compared} entries compared");
    }

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
