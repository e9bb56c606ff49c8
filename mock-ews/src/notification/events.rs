//! From the store's change log to EWS events (EWS.md §6.2).
//!
//! One calendar change yields what Exchange 2016 sends for it
//! ([S:getstreamingevents-multi-notification-response.xml]): the item event
//! (`CreatedEvent`, `ModifiedEvent` or `DeletedEvent`), a `FreeBusyChangedEvent` for the same
//! item, and a folder `ModifiedEvent` for the calendar. Each subscription sees only the types
//! it asked for. Changes to single occurrences and exceptions are changes of the series master
//! in the store, so they notify the master's id, as Exchange does. Replacing the whole world
//! (load, reset, restore) yields a folder `ModifiedEvent` per calendar so clients resync.
//! OOF changes touch no folder and raise nothing.
//!
//! A move to Deleted Items (`DeleteItem DeleteType="MoveToDeletedItems"`, what Outlook's
//! delete does) raises a `MovedEvent` instead of a `DeletedEvent`: `ItemId` and
//! `ParentFolderId` name the item in Deleted Items, `OldItemId` and `OldParentFolderId` the
//! calendar item (EWS reference, MovedEvent / MovedCopiedEventType). A subscription sees it
//! when it watches either folder; the `FreeBusyChangedEvent` names the calendar item that
//! left, and each watched folder of the two gets its folder `ModifiedEvent`.

use chrono::{DateTime, Utc};
use ews_proto::notification::{Event, EventType};
use ews_proto::{EwsDateTime, ItemId};

use crate::id::{self, FolderKind};
use crate::store::{Change, ChangeKind};

/// What a subscription watches, resolved against the world at subscribe time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    /// Lower-case SMTP address of the watched mailbox.
    pub(crate) mailbox: String,
    pub(crate) serial: u32,
    /// `SubscribeToAllFolders`, else the listed folders.
    pub(crate) all_folders: bool,
    pub(crate) folders: Vec<FolderKind>,
    pub(crate) types: Vec<EventType>,
}

impl Scope {
    fn watches_folder(&self, kind: FolderKind) -> bool {
        self.all_folders || self.folders.contains(&kind)
    }

    fn wants(&self, t: EventType) -> bool {
        self.types.contains(&t)
    }
}

fn item_ref(id: &str) -> ItemId {
    let change_key = id::parse_id(id).map(|t| match t {
        id::IdTarget::Item { key, revision, .. }
        | id::IdTarget::Occurrence { key, revision, .. } => id::change_key(key, revision),
    });
    ItemId {
        id: id.to_owned(),
        change_key,
    }
}

fn folder_ref(serial: u32, kind: FolderKind) -> ItemId {
    ItemId {
        id: id::folder_id(serial, kind),
        // Exchange's folder change keys look like this ("AQAAAA==", "AgAAAA==").
        change_key: Some("AQAAAA==".into()),
    }
}

fn stamped(kind: EventType, at: DateTime<Utc>) -> Event {
    let mut e = Event::new(kind);
    e.time_stamp = Some(EwsDateTime::utc(at));
    e
}

/// The events `change` raises for `scope`, in order, without watermarks.
pub(crate) fn events_for(change: &Change, scope: &Scope) -> Vec<Event> {
    let calendar = FolderKind::Calendar;
    let mine = change.mailbox == scope.mailbox
        || (change.kind == ChangeKind::WorldReplaced && change.mailbox.is_empty());
    if !mine {
        return Vec::new();
    }
    if change.kind == ChangeKind::MovedToDeletedItems {
        return moved_to_deleted_items(change, scope);
    }
    if !scope.watches_folder(calendar) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let item_kind = match change.kind {
        ChangeKind::Created => EventType::CreatedEvent,
        ChangeKind::Modified => EventType::ModifiedEvent,
        ChangeKind::Deleted => EventType::DeletedEvent,
        ChangeKind::WorldReplaced => {
            folder_event(change, scope, calendar, &mut out);
            return out;
        }
        ChangeKind::OofChanged | ChangeKind::MovedToDeletedItems => return out,
    };
    let Some(item) = change.item_id.as_deref() else {
        return out;
    };
    for kind in [item_kind, EventType::FreeBusyChangedEvent] {
        if scope.wants(kind) {
            let mut e = stamped(kind, change.at);
            e.item_id = Some(item_ref(item));
            e.parent_folder_id = Some(folder_ref(scope.serial, calendar));
            out.push(e);
        }
    }
    folder_event(change, scope, calendar, &mut out);
    out
}

/// The folder `ModifiedEvent` for `folder` (its item count changed), if subscribed to.
fn folder_event(change: &Change, scope: &Scope, folder: FolderKind, out: &mut Vec<Event>) {
    if scope.wants(EventType::ModifiedEvent) {
        let mut e = stamped(EventType::ModifiedEvent, change.at);
        e.folder_id = Some(folder_ref(scope.serial, folder));
        e.parent_folder_id = Some(folder_ref(scope.serial, FolderKind::MsgFolderRoot));
        out.push(e);
    }
}

/// A calendar item moved to Deleted Items: `MovedEvent`, then (calendar watchers only) the
/// calendar's `FreeBusyChangedEvent`, then the folder events, calendar first.
fn moved_to_deleted_items(change: &Change, scope: &Scope) -> Vec<Event> {
    let (calendar, trash) = (FolderKind::Calendar, FolderKind::DeletedItems);
    let (sees_calendar, sees_trash) = (scope.watches_folder(calendar), scope.watches_folder(trash));
    let mut out = Vec::new();
    let (Some(new), Some(old)) = (change.item_id.as_deref(), change.old_item_id.as_deref()) else {
        return out;
    };
    if !(sees_calendar || sees_trash) {
        return out;
    }
    if scope.wants(EventType::MovedEvent) {
        let mut e = stamped(EventType::MovedEvent, change.at);
        e.item_id = Some(item_ref(new));
        e.parent_folder_id = Some(folder_ref(scope.serial, trash));
        e.old_item_id = Some(item_ref(old));
        e.old_parent_folder_id = Some(folder_ref(scope.serial, calendar));
        out.push(e);
    }
    if sees_calendar {
        if scope.wants(EventType::FreeBusyChangedEvent) {
            let mut e = stamped(EventType::FreeBusyChangedEvent, change.at);
            e.item_id = Some(item_ref(old));
            e.parent_folder_id = Some(folder_ref(scope.serial, calendar));
            out.push(e);
        }
        folder_event(change, scope, calendar, &mut out);
    }
    if sees_trash {
        folder_event(change, scope, trash, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(types: &[EventType]) -> Scope {
        Scope {
            mailbox: "a@x.com".into(),
            serial: 1,
            all_folders: false,
            folders: vec![FolderKind::Calendar],
            types: types.to_vec(),
        }
    }

    fn change(kind: ChangeKind, mailbox: &str) -> Change {
        Change {
            seq: 3,
            at: DateTime::from_timestamp(1_774_000_000, 0).unwrap_or_default(),
            kind,
            mailbox: mailbox.into(),
            item_id: Some(id::item_id(1, 9, 2)),
            old_item_id: None,
        }
    }

    #[test]
    fn a_modification_raises_item_free_busy_and_folder_events() {
        let all = [
            EventType::CreatedEvent,
            EventType::ModifiedEvent,
            EventType::DeletedEvent,
            EventType::FreeBusyChangedEvent,
        ];
        let ev = events_for(&change(ChangeKind::Modified, "a@x.com"), &scope(&all));
        let kinds: Vec<_> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventType::ModifiedEvent,
                EventType::FreeBusyChangedEvent,
                EventType::ModifiedEvent
            ]
        );
        assert_eq!(
            ev[0].item_id.as_ref().and_then(|i| i.change_key.clone()),
            Some(id::change_key(9, 2))
        );
        assert!(ev[2].folder_id.is_some() && ev[2].item_id.is_none());
    }

    #[test]
    fn only_subscribed_types_and_own_mailbox() {
        let s = scope(&[EventType::CreatedEvent]);
        assert_eq!(
            events_for(&change(ChangeKind::Created, "a@x.com"), &s).len(),
            1
        );
        assert!(events_for(&change(ChangeKind::Modified, "a@x.com"), &s).is_empty());
        assert!(events_for(&change(ChangeKind::Created, "b@x.com"), &s).is_empty());
        assert!(events_for(&change(ChangeKind::OofChanged, "a@x.com"), &s).is_empty());
        let mut inbox_only = s.clone();
        inbox_only.folders = vec![FolderKind::Inbox];
        assert!(events_for(&change(ChangeKind::Created, "a@x.com"), &inbox_only).is_empty());
    }

    fn moved() -> Change {
        let mut c = change(ChangeKind::MovedToDeletedItems, "a@x.com");
        c.item_id = Some(id::item_id(1, 12, 0));
        c.old_item_id = Some(id::item_id(1, 9, 2));
        c
    }

    #[test]
    fn a_move_to_deleted_items_raises_a_moved_event_from_the_calendar() {
        let all = [
            EventType::DeletedEvent,
            EventType::ModifiedEvent,
            EventType::MovedEvent,
            EventType::FreeBusyChangedEvent,
        ];
        let ev = events_for(&moved(), &scope(&all));
        let kinds: Vec<_> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventType::MovedEvent,
                EventType::FreeBusyChangedEvent,
                EventType::ModifiedEvent
            ]
        );
        let m = &ev[0];
        let id_of = |i: &Option<ItemId>| i.as_ref().map(|i| i.id.clone());
        assert_eq!(id_of(&m.item_id), Some(id::item_id(1, 12, 0)));
        assert_eq!(
            id_of(&m.parent_folder_id),
            Some(id::folder_id(1, FolderKind::DeletedItems))
        );
        assert_eq!(id_of(&m.old_item_id), Some(id::item_id(1, 9, 2)));
        assert_eq!(
            id_of(&m.old_parent_folder_id),
            Some(id::folder_id(1, FolderKind::Calendar))
        );
        // Free/busy changed for the calendar item that left.
        assert_eq!(id_of(&ev[1].item_id), Some(id::item_id(1, 9, 2)));
        assert_eq!(
            id_of(&ev[2].folder_id),
            Some(id::folder_id(1, FolderKind::Calendar))
        );
        // A subscription without MovedEvent gets no DeletedEvent in its place.
        let no_moves = scope(&[EventType::DeletedEvent, EventType::CreatedEvent]);
        assert!(events_for(&moved(), &no_moves).is_empty());
    }

    #[test]
    fn deleted_items_watchers_see_the_move_and_their_folder_change() {
        let mut trash = scope(&[EventType::MovedEvent, EventType::ModifiedEvent]);
        trash.folders = vec![FolderKind::DeletedItems];
        let ev = events_for(&moved(), &trash);
        let kinds: Vec<_> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventType::MovedEvent, EventType::ModifiedEvent]);
        assert_eq!(
            ev[1].folder_id.as_ref().map(|f| f.id.clone()),
            Some(id::folder_id(1, FolderKind::DeletedItems))
        );
        let mut inbox = trash.clone();
        inbox.folders = vec![FolderKind::Inbox];
        assert!(events_for(&moved(), &inbox).is_empty());
        assert!(events_for(&change(ChangeKind::MovedToDeletedItems, "b@x.com"), &trash).is_empty());
    }

    #[test]
    fn world_replacement_tells_every_calendar_to_resync() {
        let s = scope(&[EventType::ModifiedEvent]);
        let mut c = change(ChangeKind::WorldReplaced, "");
        c.item_id = None;
        let ev = events_for(&c, &s);
        assert_eq!(ev.len(), 1);
        assert!(ev[0].folder_id.is_some());
    }
}
