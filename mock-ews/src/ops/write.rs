//! CreateItem, UpdateItem, DeleteItem for calendar items (EWS.md §3.10), including single
//! occurrences (an update makes an exception, a delete adds a deleted occurrence).
//!
//! Writes need Editor rights (or ownership/impersonation). Every write goes through the
//! store, so ids and change keys change and the change log records it.

use calendar_core::FreeBusyStatus;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use ews_proto::calendar::{
    CreateItem, CreateItemResponse, CreateItemResult, DeleteItem, DeleteItemResponse,
    DeleteItemResult, ItemUpdate, ItemsResult, UpdateItem, UpdateItemResponse, UpdateItemResult,
};
use ews_proto::response::ResponseMessage;
use ews_proto::timezone::TimeZoneDefinition;
use ews_proto::{CalendarItem as Wire, EwsDateTime, FolderRef, Item, ItemId, TimeZoneContext};

use crate::error::{ItemError, StoreError};
use crate::id::{self, FolderKind};
use crate::item::CalendarItem;
use crate::ops::calendar::{Target, error_msg, resolve_folder, resolve_item, respond, right_on};
use crate::ops::common::MsgError;
use crate::ops::meeting;
use crate::ops::{Ctx, Reply};
use crate::soap::SoapFault;
use crate::store::{DeleteMode, ItemRef as StoreRef};
use crate::wire::{recurrence_from_wire, sensitivity_from_wire, status_from_wire, update_uri};
use crate::world::{DelegateRight, Mailbox};

fn need_editor(ctx: &Ctx<'_>, mb: &Mailbox) -> Result<(), MsgError> {
    if right_on(ctx, mb) >= DelegateRight::Editor {
        Ok(())
    } else {
        Err(MsgError::new(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ))
    }
}

/// The zone a `StartTimeZone`-like element names: its Windows id, or its definition.
fn zone_of(tzc: &TimeZoneContext) -> Option<Tz> {
    crate::zone::parse_zone(&tzc.id).or_else(|| {
        tzc.definition
            .as_ref()
            .and_then(|d| TimeZoneDefinition::from_xml(d).ok())
            .and_then(|d| d.to_iana())
    })
}

/// The creation zone of a wire item: StartTimeZone, StartTimeZoneId, MeetingTimeZone name,
/// else the request's TimeZoneContext (EWS.md §3.6).
fn creation_zone(ctx: &Ctx<'_>, w: &Wire) -> Tz {
    w.start_time_zone
        .as_ref()
        .and_then(zone_of)
        .or_else(|| {
            w.start_time_zone_id
                .as_deref()
                .and_then(crate::zone::parse_zone)
        })
        .or_else(|| {
            w.meeting_time_zone
                .as_ref()
                .and_then(|m| m.attr("TimeZoneName"))
                .and_then(crate::zone::parse_zone)
        })
        .unwrap_or_else(|| ctx.request_zone())
}

fn instant(t: &EwsDateTime, tz: Tz, what: &str) -> Result<DateTime<Utc>, MsgError> {
    t.instant_in(&tz).ok_or_else(|| {
        MsgError::new(
            "ErrorInvalidRequest",
            format!("The request is invalid: {what} {t} does not exist in the item's zone."),
        )
    })
}

/// Snaps an all-day item to midnights in its zone: start down, end up (EWS.md §3.7).
fn snap_all_day(
    tz: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), MsgError> {
    let bad = || {
        MsgError::new(
            "ErrorInvalidRequest",
            "The request is invalid: all-day bounds do not exist in the zone.",
        )
    };
    let first = start.with_timezone(&tz).date_naive();
    let end_local = end.with_timezone(&tz);
    let mut last = end_local.date_naive();
    if end_local.time() != NaiveTime::MIN || last <= first {
        last = last.succ_opt().ok_or_else(bad)?;
    }
    let s = calendar_core::first_instant_at_or_after(tz, first.and_time(NaiveTime::MIN))
        .ok_or_else(bad)?;
    let e = calendar_core::first_instant_at_or_after(tz, last.and_time(NaiveTime::MIN))
        .ok_or_else(bad)?;
    Ok((s, e))
}

fn invalid_recurrence() -> MsgError {
    MsgError::new(
        "ErrorCalendarInvalidRecurrence",
        "The recurrence pattern is invalid.",
    )
}

/// Builds a stored item from a CreateItem `t:CalendarItem`.
fn from_wire(
    ctx: &Ctx<'_>,
    w: &Wire,
    key: u64,
    mb: &Mailbox,
    now: DateTime<Utc>,
) -> Result<CalendarItem, MsgError> {
    let tz = creation_zone(ctx, w);
    let start = w
        .start
        .as_ref()
        .ok_or_else(|| {
            MsgError::new(
                "ErrorInvalidRequest",
                "The request is invalid: a calendar item needs Start.",
            )
        })
        .and_then(|t| instant(t, tz, "Start"))?;
    let end = match &w.end {
        Some(t) => instant(t, tz, "End")?,
        None => start + Duration::minutes(30),
    };
    if end < start {
        return Err(MsgError::new(
            "ErrorCalendarEndDateIsEarlierThanStartDate",
            "EndDate is earlier than StartDate",
        ));
    }
    let all_day = w.is_all_day_event.unwrap_or(false);
    let (start, end) = if all_day {
        snap_all_day(tz, start, end)?
    } else {
        (start, end)
    };
    let recurrence = w
        .recurrence
        .as_ref()
        .map(|r| recurrence_from_wire(r).ok_or_else(invalid_recurrence))
        .transpose()?;
    let item = CalendarItem {
        key,
        revision: 1,
        subject: w.subject.clone().unwrap_or_default(),
        start,
        end,
        tz,
        all_day,
        status: w
            .legacy_free_busy_status
            .map_or(FreeBusyStatus::Busy, status_from_wire),
        sensitivity: w.sensitivity.map(sensitivity_from_wire).unwrap_or_default(),
        cancelled: false,
        organizer: mb.smtp.clone(),
        attendees: w
            .required_attendees
            .iter()
            .chain(w.optional_attendees.iter())
            .flatten()
            .filter_map(|a| a.mailbox.email_address.clone())
            .collect(),
        location: w.location.clone().unwrap_or_default(),
        body: w.body.as_ref().map(|b| b.text.clone()).unwrap_or_default(),
        uid: w
            .uid
            .clone()
            .unwrap_or_else(|| format!("040000008200E00074C5B7101A82E00800000000{key:016X}")),
        recurrence,
        modified: Vec::new(),
        deleted: Vec::new(),
        created: now,
        last_modified: now,
    };
    validate_series(&item)?;
    Ok(item)
}

fn validate_series(item: &CalendarItem) -> Result<(), MsgError> {
    if let Some(series) = item.series() {
        series
            .validate()
            .map_err(|e| MsgError::new(e.response_code(), e.to_string()))?;
        if series.first().is_none() {
            return Err(MsgError::new(
                "ErrorCalendarInvalidRecurrence",
                "The recurrence has no occurrence.",
            ));
        }
    }
    Ok(())
}

fn id_only(r: &StoreRef) -> Item {
    Item::Calendar(Box::new(Wire {
        item_id: Some(ItemId::with_change_key(
            r.item_id.clone(),
            r.change_key.clone(),
        )),
        ..Wire::default()
    }))
}

pub(crate) fn create_item(ctx: &Ctx<'_>, req: &CreateItem) -> Reply {
    let target = req
        .saved_item_folder_id
        .clone()
        .unwrap_or_else(|| FolderRef::distinguished("calendar"));
    let messages = req
        .items
        .iter()
        .map(|item| {
            let result = (|| {
                if req.send_meeting_invitations.is_none() {
                    return Err(MsgError::new(
                        "ErrorSendMeetingInvitationsRequired",
                        "The SendMeetingInvitations attribute is required for calendar items.",
                    ));
                }
                let (mb, kind) = resolve_folder(ctx, &target)?;
                if kind != FolderKind::Calendar {
                    return Err(MsgError::new(
                        "ErrorCannotCreateCalendarItemInNonCalendarFolder",
                        "Calendar items can only be created in a calendar folder.",
                    ));
                }
                need_editor(ctx, &mb)?;
                let Item::Calendar(w) = item else {
                    return Err(MsgError::new(
                        "ErrorInvalidRequest",
                        "The request is invalid: this server stores calendar items only.",
                    ));
                };
                let r = ctx
                    .store
                    .create_with(&mb.smtp, |key, mb, now| {
                        Ok(from_wire(ctx, w, key, mb, now)?)
                    })
                    .map_err(MsgError::from)?;
                if meeting::sends(req.send_meeting_invitations.as_deref())
                    && let Ok((mb, item, _)) = ctx.store.resolve(&r.item_id)
                {
                    meeting::sync_attendees(ctx, &mb, &item);
                }
                Ok(r)
            })();
            match result {
                Ok(r) => ResponseMessage::success(CreateItemResult(ItemsResult {
                    items: Some(vec![id_only(&r)]),
                })),
                Err(e) => error_msg(&e),
            }
        })
        .collect();
    respond::<CreateItemResult>(ctx, &CreateItemResponse { messages })
}

/// Applies one update to a master or single item.
fn apply_to_item(item: &mut CalendarItem, u: &ItemUpdate) -> Result<(), MsgError> {
    let Some(uri) = update_uri(u) else {
        return Ok(());
    };
    let value = match u {
        ItemUpdate::Set { item, .. } | ItemUpdate::Append { item, .. } => match item {
            Item::Calendar(w) => Some(&**w),
            Item::Other(_) => None,
        },
        ItemUpdate::Delete { .. } => None,
    };
    let tz = value.map_or(item.tz, |w| {
        w.start_time_zone
            .as_ref()
            .and_then(zone_of)
            .unwrap_or(item.tz)
    });
    match (uri, value) {
        ("item:Subject", v) => item.subject = v.and_then(|w| w.subject.clone()).unwrap_or_default(),
        ("item:Body", v) => {
            item.body = v
                .and_then(|w| w.body.as_ref().map(|b| b.text.clone()))
                .unwrap_or_default()
        }
        ("item:Sensitivity", v) => {
            item.sensitivity = v
                .and_then(|w| w.sensitivity)
                .map(sensitivity_from_wire)
                .unwrap_or_default()
        }
        ("calendar:Location", v) => {
            item.location = v.and_then(|w| w.location.clone()).unwrap_or_default()
        }
        ("calendar:LegacyFreeBusyStatus", v) => {
            item.status = v
                .and_then(|w| w.legacy_free_busy_status)
                .map_or(FreeBusyStatus::Busy, status_from_wire)
        }
        ("calendar:Start", Some(w)) => {
            if let Some(t) = &w.start {
                item.start = instant(t, tz, "Start")?;
            }
        }
        ("calendar:End", Some(w)) => {
            if let Some(t) = &w.end {
                item.end = instant(t, tz, "End")?;
            }
        }
        ("calendar:IsAllDayEvent", v) => {
            item.all_day = v.and_then(|w| w.is_all_day_event).unwrap_or(false)
        }
        ("calendar:StartTimeZone", Some(w)) => {
            if let Some(z) = w.start_time_zone.as_ref().and_then(zone_of) {
                item.tz = z;
            }
        }
        ("calendar:Recurrence", Some(w)) => {
            let r = w.recurrence.as_ref().ok_or_else(invalid_recurrence)?;
            item.recurrence = Some(recurrence_from_wire(r).ok_or_else(invalid_recurrence)?);
            item.modified.clear();
            item.deleted.clear();
        }
        ("calendar:Recurrence", None) => {
            item.recurrence = None;
            item.modified.clear();
            item.deleted.clear();
        }
        ("calendar:RequiredAttendees" | "calendar:OptionalAttendees", v) => {
            let list: Vec<String> = v
                .and_then(|w| {
                    w.required_attendees
                        .clone()
                        .or_else(|| w.optional_attendees.clone())
                })
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| a.mailbox.email_address)
                .collect();
            if matches!(u, ItemUpdate::Append { .. }) {
                item.attendees.extend(list);
            } else {
                item.attendees = list;
            }
        }
        // Other properties (reminders, categories, extended properties) are accepted and not
        // modelled.
        _ => {}
    }
    Ok(())
}

/// Applies one update to an occurrence override.
fn apply_to_occurrence(
    o: &mut crate::item::OccurrenceOverride,
    tz: Tz,
    u: &ItemUpdate,
) -> Result<(), MsgError> {
    let Some(uri) = update_uri(u) else {
        return Ok(());
    };
    let value = match u {
        ItemUpdate::Set {
            item: Item::Calendar(w),
            ..
        } => Some(&**w),
        _ => None,
    };
    match (uri, value) {
        ("item:Subject", v) => {
            o.subject = Some(v.and_then(|w| w.subject.clone()).unwrap_or_default())
        }
        ("calendar:Location", v) => {
            o.location = Some(v.and_then(|w| w.location.clone()).unwrap_or_default())
        }
        ("calendar:LegacyFreeBusyStatus", v) => {
            o.status = v
                .and_then(|w| w.legacy_free_busy_status)
                .map(status_from_wire)
        }
        ("calendar:Start", Some(w)) => {
            if let Some(t) = &w.start {
                o.start = instant(t, tz, "Start")?;
            }
        }
        ("calendar:End", Some(w)) => {
            if let Some(t) = &w.end {
                o.end = instant(t, tz, "End")?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn to_msg(e: StoreError) -> MsgError {
    MsgError::from(e)
}

pub(crate) fn update_item(ctx: &Ctx<'_>, req: &UpdateItem) -> Reply {
    let overwrite = req
        .conflict_resolution
        .as_deref()
        .is_some_and(|c| c == "AlwaysOverwrite");
    let messages = req
        .item_changes
        .iter()
        .map(|change| {
            let result = (|| {
                if req.send_meeting_invitations_or_cancellations.is_none() {
                    return Err(MsgError::new(
                        "ErrorSendMeetingInvitationsOrCancellationsRequired",
                        "The SendMeetingInvitationsOrCancellations attribute is required for calendar items.",
                    ));
                }
                let (mb, item, target) = resolve_item(ctx, &change.item)?;
                need_editor(ctx, &mb)?;
                let given_ck = match &change.item {
                    ews_proto::ItemRef::ItemId(i) => i.change_key.clone(),
                    ews_proto::ItemRef::Occurrence { change_key, .. }
                    | ews_proto::ItemRef::RecurringMaster { change_key, .. } => change_key.clone(),
                };
                let ck = if overwrite { None } else { given_ck };
                let master_id = id::item_id(mb.serial, item.key, item.revision);
                let res = match target {
                    Target::Item => ctx.store.update_item(&master_id, ck.as_deref(), |it| {
                        for u in &change.updates {
                            apply_to_item(it, u)?;
                        }
                        if it.end < it.start {
                            return Err(StoreError::Item(ItemError::EndBeforeStart));
                        }
                        if it.all_day {
                            let (s, e) = snap_all_day(it.tz, it.start, it.end)?;
                            it.start = s;
                            it.end = e;
                        }
                        validate_series(it)?;
                        Ok(())
                    }),
                    Target::Occurrence(original) => {
                        let tz = item.tz;
                        ctx.store.update_occurrence(&master_id, original, ck.as_deref(), |o| {
                            for u in &change.updates {
                                apply_to_occurrence(o, tz, u)?;
                            }
                            Ok(())
                        })
                    }
                };
                let r = res.map_err(to_msg)?;
                if meeting::sends(req.send_meeting_invitations_or_cancellations.as_deref())
                    && let Ok((mb, item, _)) = ctx.store.resolve(&r.item_id)
                {
                    meeting::sync_attendees(ctx, &mb, &item);
                }
                Ok((r, target))
            })();
            match result {
                Ok((r, target)) => {
                    let r = match target {
                        Target::Item => r,
                        Target::Occurrence(original) => {
                            let (serial, key) = id::parse_id(&r.item_id).map_or((0, 0), |t| (t.mailbox(), t.key()));
                            let rev = id::parse_id(&r.item_id).map_or(0, |t| match t {
                                id::IdTarget::Item { revision, .. } | id::IdTarget::Occurrence { revision, .. } => revision,
                            });
                            StoreRef {
                                item_id: id::occurrence_id(serial, key, rev, original),
                                ..r
                            }
                        }
                    };
                    ResponseMessage::success(UpdateItemResult {
                        items: Some(vec![id_only(&r)]),
                        conflict_count: Some(0),
                    })
                }
                Err(e) => error_msg(&e),
            }
        })
        .collect();
    respond::<UpdateItemResult>(ctx, &UpdateItemResponse { messages })
}

/// DeleteItem. `DeleteType="MoveToDeletedItems"` (Outlook's delete) moves a whole item or
/// series to Deleted Items, which calendar subscribers see as a `MovedEvent`; `HardDelete`
/// and `SoftDelete` make it vanish (`DeletedEvent`). Deleting one occurrence modifies the
/// master whatever the type.
pub(crate) fn delete_item(ctx: &Ctx<'_>, req: &DeleteItem) -> Reply {
    // `DeleteType` is a schema enumeration: Exchange refuses other values while validating
    // the request, before touching any item.
    let mode = match req.delete_type.parse::<DeleteMode>() {
        Ok(m) => m,
        Err(e) => {
            return Reply::Fault(SoapFault::new(
                e.response_code(),
                format!("The request failed schema validation: {e}"),
            ));
        }
    };
    let messages = req
        .item_ids
        .iter()
        .map(|r| {
            let result = (|| {
                if req.send_meeting_cancellations.is_none() {
                    return Err(MsgError::new(
                        "ErrorSendMeetingCancellationsRequired",
                        "The SendMeetingCancellations attribute is required for calendar items.",
                    ));
                }
                let (mb, item, target) = resolve_item(ctx, r)?;
                need_editor(ctx, &mb)?;
                let master_id = id::item_id(mb.serial, item.key, item.revision);
                let notify = meeting::sends(req.send_meeting_cancellations.as_deref());
                match target {
                    Target::Item => {
                        ctx.store
                            .delete_item_as(&master_id, None, mode)
                            .map_err(to_msg)?;
                        if notify {
                            meeting::cancel_attendees(ctx, &mb, &item);
                        }
                    }
                    Target::Occurrence(original) => {
                        ctx.store
                            .delete_occurrence(&master_id, original)
                            .map_err(to_msg)?;
                        if notify {
                            meeting::delete_occurrence_for_attendees(ctx, &mb, &item, original);
                        }
                    }
                }
                Ok(())
            })();
            match result {
                Ok(()) => ResponseMessage::success(DeleteItemResult),
                Err(e) => error_msg(&e),
            }
        })
        .collect();
    respond::<DeleteItemResult>(ctx, &DeleteItemResponse { messages })
}
