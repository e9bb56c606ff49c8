//! Meetings between mailboxes of the world: when an organizer creates, updates or deletes a
//! meeting through EWS and asks Exchange to send invitations or cancellations
//! (`SendMeetingInvitations...` other than `SendToNone`), every attendee that is a mailbox of
//! the world gets the effect on its own calendar, as Exchange's calendar processing does:
//!
//! - create: a copy with the same UID, organizer and times, shown Tentative (an unanswered
//!   request), `MyResponseType` Accept is not modelled;
//! - update: the copies follow the organizer's times, subject, location, body, recurrence and
//!   exceptions (keeping their own status); new attendees get a copy, removed ones a
//!   cancellation;
//! - delete: the copies are cancelled (`IsCancelled`, shown Free, subject prefixed
//!   "Canceled: "); deleting one occurrence deletes it in the copies.
//!
//! Each copy change goes through the store, so attendees' ids change and their change logs
//! (and subscriptions) see it. Attendees outside the world are ignored (mail is not modelled).

use std::sync::Arc;

use calendar_core::FreeBusyStatus;
use chrono::{DateTime, Utc};

use crate::id;
use crate::item::CalendarItem;
use crate::ops::Ctx;
use crate::world::Mailbox;

/// Whether a `Send...` attribute asks Exchange to send anything.
pub(crate) fn sends(mode: Option<&str>) -> bool {
    mode.is_some_and(|m| !m.trim().eq_ignore_ascii_case("SendToNone"))
}

/// The attendee copies of `meeting` (organizer's item), by mailbox.
fn copies(ctx: &Ctx<'_>, organizer: &str, uid: &str) -> Vec<(Arc<Mailbox>, Arc<CalendarItem>)> {
    ctx.store.read(|w| {
        w.mailboxes
            .values()
            .filter(|mb| !mb.smtp.eq_ignore_ascii_case(organizer))
            .flat_map(|mb| {
                mb.items
                    .values()
                    .filter(|i| i.uid == uid && i.organizer.eq_ignore_ascii_case(organizer))
                    .map(|i| (mb.clone(), i.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}

fn is_meeting_of(item: &CalendarItem, mb: &Mailbox) -> bool {
    !item.attendees.is_empty() && item.organizer.eq_ignore_ascii_case(&mb.smtp)
}

/// Brings the attendees' calendars in line with the organizer's `meeting`.
pub(crate) fn sync_attendees(ctx: &Ctx<'_>, organizer: &Mailbox, meeting: &CalendarItem) {
    if !is_meeting_of(meeting, organizer) {
        return;
    }
    let existing = copies(ctx, &organizer.smtp, &meeting.uid);
    for (mb, copy) in &existing {
        let invited = meeting
            .attendees
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&mb.smtp));
        let copy_id = id::item_id(mb.serial, copy.key, copy.revision);
        let result = if invited {
            ctx.store.update_item(&copy_id, None, |c| {
                follow(c, meeting);
                Ok(())
            })
        } else {
            ctx.store.update_item(&copy_id, None, |c| {
                cancel(c);
                Ok(())
            })
        };
        if let Err(e) = result {
            tracing::warn!("meeting update for {} not applied: {e}", mb.smtp);
        }
    }
    for attendee in &meeting.attendees {
        if attendee.eq_ignore_ascii_case(&organizer.smtp)
            || existing
                .iter()
                .any(|(mb, _)| mb.smtp.eq_ignore_ascii_case(attendee))
        {
            continue;
        }
        let created = ctx.store.create_with(attendee, |key, _mb, now| {
            let mut c = CalendarItem {
                key,
                revision: 1,
                status: FreeBusyStatus::Tentative,
                cancelled: false,
                created: now,
                last_modified: now,
                ..meeting.clone()
            };
            follow(&mut c, meeting);
            Ok(c)
        });
        // An attendee outside the world is not an error: the invitation goes to mail.
        if let Err(crate::error::StoreError::NoMailbox(_)) = created {
            continue;
        }
        if let Err(e) = created {
            tracing::warn!("meeting request for {attendee} not delivered: {e}");
        }
    }
}

/// Cancels every attendee copy of a deleted meeting.
pub(crate) fn cancel_attendees(ctx: &Ctx<'_>, organizer: &Mailbox, meeting: &CalendarItem) {
    if !is_meeting_of(meeting, organizer) {
        return;
    }
    for (mb, copy) in copies(ctx, &organizer.smtp, &meeting.uid) {
        let copy_id = id::item_id(mb.serial, copy.key, copy.revision);
        if let Err(e) = ctx.store.update_item(&copy_id, None, |c| {
            cancel(c);
            Ok(())
        }) {
            tracing::warn!("meeting cancellation for {} not applied: {e}", mb.smtp);
        }
    }
}

/// Deletes one occurrence in every attendee copy.
pub(crate) fn delete_occurrence_for_attendees(
    ctx: &Ctx<'_>,
    organizer: &Mailbox,
    meeting: &CalendarItem,
    original_start: DateTime<Utc>,
) {
    if !is_meeting_of(meeting, organizer) {
        return;
    }
    for (mb, copy) in copies(ctx, &organizer.smtp, &meeting.uid) {
        let copy_id = id::item_id(mb.serial, copy.key, copy.revision);
        if copy.instance_at(original_start).is_some()
            && let Err(e) = ctx.store.delete_occurrence(&copy_id, original_start)
        {
            tracing::warn!("occurrence cancellation for {} not applied: {e}", mb.smtp);
        }
    }
}

/// The organizer's view of the meeting, keeping the attendee's own answer (status).
fn follow(c: &mut CalendarItem, meeting: &CalendarItem) {
    c.subject = meeting.subject.clone();
    c.start = meeting.start;
    c.end = meeting.end;
    c.tz = meeting.tz;
    c.all_day = meeting.all_day;
    c.sensitivity = meeting.sensitivity;
    c.attendees = meeting.attendees.clone();
    c.location = meeting.location.clone();
    c.body = meeting.body.clone();
    c.recurrence = meeting.recurrence.clone();
    c.modified = meeting.modified.clone();
    c.deleted = meeting.deleted.clone();
    c.cancelled = false;
}

fn cancel(c: &mut CalendarItem) {
    if !c.cancelled {
        c.cancelled = true;
        c.status = FreeBusyStatus::Free;
        if !c.subject.starts_with("Canceled: ") {
            c.subject = format!("Canceled: {}", c.subject);
        }
    }
}
