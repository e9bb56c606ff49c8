//! The store: the world behind one lock, with snapshots and a change log.
//!
//! Every mutation - from EWS or the control API - goes through a method here, bumps the item
//! revision (so ItemId and ChangeKey change), and appends a [`Change`] with a monotonically
//! increasing sequence number, then wakes waiters via a `watch` channel. Push, pull and
//! streaming notifications (issue 4) are built from that log: a subscription remembers a
//! sequence number (its watermark) and reads [`Store::changes_since`].
//!
//! The lock is a `std::sync::RwLock` held only for in-memory work, never across `.await`.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use ews_clock::Clock;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::StoreError;
use crate::id::{self, IdTarget};
use crate::item::{CalendarItem, OccurrenceOverride};
use crate::spec::ItemSpec;
use crate::world::{Mailbox, OofSettings, World};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Created,
    Modified,
    Deleted,
    /// Moved out of the calendar into Deleted Items (`DeleteItem
    /// DeleteType="MoveToDeletedItems"`, Outlook's delete): Exchange raises a `MovedEvent`,
    /// not a `DeletedEvent`. `item_id` is the id in Deleted Items, `old_item_id` the
    /// calendar id.
    MovedToDeletedItems,
    OofChanged,
    /// The whole world was loaded, reset or restored; clients should resync.
    WorldReplaced,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: ChangeKind,
    /// Lower-case SMTP address; empty for [`ChangeKind::WorldReplaced`].
    pub mailbox: String,
    /// The item's id after the change (before it, for a deletion; in Deleted Items, for
    /// [`ChangeKind::MovedToDeletedItems`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// The id the item had before the change, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_item_id: Option<String>,
}

/// An item's current id and change key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRef {
    pub item_id: String,
    pub change_key: String,
    pub mailbox: String,
}

impl ItemRef {
    fn of(mb: &Mailbox, item: &CalendarItem) -> Self {
        ItemRef {
            item_id: id::item_id(mb.serial, item.key, item.revision),
            change_key: id::change_key(item.key, item.revision),
            mailbox: mb.smtp.to_ascii_lowercase(),
        }
    }
}

/// How an item is deleted: EWS `t:DisposalType`, the `DeleteType` of `DeleteItem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeleteMode {
    /// Gone for good: a `DeletedEvent`.
    #[default]
    HardDelete,
    /// Into the dumpster (Recoverable Items), which is no folder a client sees or
    /// subscribes to, so calendar subscribers see the item vanish: a `DeletedEvent`, as for
    /// `HardDelete` (the EWS reference names no other event for it).
    SoftDelete,
    /// Into the mailbox's Deleted Items folder, as Outlook's delete: a `MovedEvent` from the
    /// calendar to Deleted Items, with a new id.
    MoveToDeletedItems,
}

impl DeleteMode {
    /// The `DeleteType` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteMode::HardDelete => "HardDelete",
            DeleteMode::SoftDelete => "SoftDelete",
            DeleteMode::MoveToDeletedItems => "MoveToDeletedItems",
        }
    }
}

impl std::str::FromStr for DeleteMode {
    type Err = StoreError;

    /// Parses a `DeleteType` value (exact, as the schema's enumeration).
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s.trim() {
            "HardDelete" => Ok(DeleteMode::HardDelete),
            "SoftDelete" => Ok(DeleteMode::SoftDelete),
            "MoveToDeletedItems" => Ok(DeleteMode::MoveToDeletedItems),
            other => Err(StoreError::BadDeleteType(other.to_owned())),
        }
    }
}

/// A saved world, restorable with [`Store::restore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SnapshotId(pub u64);

struct Inner {
    world: World,
    /// What [`Store::reset`] returns to: the world as last loaded.
    loaded: World,
    log: Vec<Change>,
    seq: u64,
    snapshots: BTreeMap<u64, World>,
    next_snapshot: u64,
}

/// The shared store. Cheap to share behind an `Arc`.
pub struct Store {
    inner: RwLock<Inner>,
    clock: Clock,
    seq_tx: watch::Sender<u64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("seq", &*self.seq_tx.borrow())
            .finish()
    }
}

impl Store {
    pub fn new(world: World, clock: Clock) -> Self {
        let (seq_tx, _) = watch::channel(0);
        Store {
            inner: RwLock::new(Inner {
                loaded: world.clone(),
                world,
                log: Vec::new(),
                seq: 0,
                snapshots: BTreeMap::new(),
                next_snapshot: 1,
            }),
            clock,
            seq_tx,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn read_inner(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_inner(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the current world under the read lock.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.read_inner().world)
    }

    /// A copy of the current world (cheap: mailboxes are shared).
    pub fn world(&self) -> World {
        self.read_inner().world.clone()
    }

    /// The sequence number of the latest change.
    pub fn seq(&self) -> u64 {
        *self.seq_tx.borrow()
    }

    /// A receiver that sees the latest sequence number; `changed().await` wakes on each change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.seq_tx.subscribe()
    }

    /// Changes with `seq > after`, oldest first.
    pub fn changes_since(&self, after: u64) -> Vec<Change> {
        let inner = self.read_inner();
        let start = inner.log.partition_point(|c| c.seq <= after);
        inner.log[start..].to_vec()
    }

    fn record(
        &self,
        inner: &mut Inner,
        kind: ChangeKind,
        mailbox: &str,
        item_id: Option<String>,
        old: Option<String>,
    ) {
        inner.seq += 1;
        inner.log.push(Change {
            seq: inner.seq,
            at: self.clock.now(),
            kind,
            mailbox: mailbox.to_ascii_lowercase(),
            item_id,
            old_item_id: old,
        });
        let seq = inner.seq;
        self.seq_tx.send_replace(seq);
    }

    /// Replaces the world (and what [`Store::reset`] returns to).
    ///
    /// Item keys of the new world start after every key this store has handed out, so an
    /// ItemId (or a SyncState, or a notification) from before never names a different item.
    pub fn load(&self, mut world: World) {
        let mut inner = self.write_inner();
        rebase_keys(&mut world, inner.world.next_key);
        inner.loaded = world.clone();
        inner.world = world;
        self.record(&mut inner, ChangeKind::WorldReplaced, "", None, None);
    }

    /// Returns to the world as last loaded (its items keep their ids; keys handed out since
    /// are not reused).
    pub fn reset(&self) {
        let mut inner = self.write_inner();
        let next = inner.world.next_key;
        inner.world = inner.loaded.clone();
        inner.world.next_key = inner.world.next_key.max(next);
        self.record(&mut inner, ChangeKind::WorldReplaced, "", None, None);
    }

    /// Saves the current world.
    pub fn snapshot(&self) -> SnapshotId {
        let mut inner = self.write_inner();
        let id = inner.next_snapshot;
        inner.next_snapshot += 1;
        let world = inner.world.clone();
        inner.snapshots.insert(id, world);
        SnapshotId(id)
    }

    /// Restores a saved world; the snapshot stays available.
    pub fn restore(&self, id: SnapshotId) -> Result<(), StoreError> {
        let mut inner = self.write_inner();
        let world = inner
            .snapshots
            .get(&id.0)
            .cloned()
            .ok_or(StoreError::NoSnapshot(id.0))?;
        let next = inner.world.next_key;
        inner.world = world;
        inner.world.next_key = inner.world.next_key.max(next);
        self.record(&mut inner, ChangeKind::WorldReplaced, "", None, None);
        Ok(())
    }

    /// Creates a calendar item in a mailbox.
    pub fn create_item(&self, smtp: &str, spec: &ItemSpec) -> Result<ItemRef, StoreError> {
        self.create_with(smtp, |key, mb, now| {
            Ok(CalendarItem::from_spec(spec, key, &mb.smtp, mb.tz, now)?)
        })
    }

    /// Creates an item built by `build(key, mailbox, now)` (EWS CreateItem builds from the
    /// wire form). Nothing changes if `build` fails.
    pub fn create_with(
        &self,
        smtp: &str,
        build: impl FnOnce(u64, &Mailbox, DateTime<Utc>) -> Result<CalendarItem, StoreError>,
    ) -> Result<ItemRef, StoreError> {
        let now = self.clock.now();
        let mut inner = self.write_inner();
        let key = inner.world.next_key;
        let mb_key = smtp.trim().to_ascii_lowercase();
        let mb = inner
            .world
            .mailboxes
            .get_mut(&mb_key)
            .ok_or_else(|| StoreError::NoMailbox(smtp.to_owned()))?;
        let item = build(key, mb, now)?;
        let mb = Arc::make_mut(mb);
        let r = ItemRef::of(mb, &item);
        mb.items.insert(key, Arc::new(item));
        inner.world.next_key += 1;
        self.record(
            &mut inner,
            ChangeKind::Created,
            &mb_key,
            Some(r.item_id.clone()),
            None,
        );
        Ok(r)
    }

    /// Finds the mailbox key and item key an id refers to.
    fn locate(world: &World, item_id: &str) -> Result<(String, IdTarget), StoreError> {
        let target =
            id::parse_id(item_id).ok_or_else(|| StoreError::MalformedId(item_id.to_owned()))?;
        let mb = world
            .mailbox_by_serial(target.mailbox())
            .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
        if !mb.items.contains_key(&target.key()) {
            return Err(StoreError::ItemNotFound(item_id.to_owned()));
        }
        Ok((mb.smtp.to_ascii_lowercase(), target))
    }

    /// Resolves an id to (mailbox, item) for reading.
    pub fn resolve(
        &self,
        item_id: &str,
    ) -> Result<(Arc<Mailbox>, Arc<CalendarItem>, IdTarget), StoreError> {
        let inner = self.read_inner();
        let (mb_key, target) = Self::locate(&inner.world, item_id)?;
        let mb = inner
            .world
            .mailboxes
            .get(&mb_key)
            .cloned()
            .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
        let item = mb
            .items
            .get(&target.key())
            .cloned()
            .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
        Ok((mb, item, target))
    }

    /// Applies `change` to the item (a master or single item, also for occurrence ids: use
    /// [`Store::update_occurrence`] to change one occurrence). Checks the change key when
    /// one is given. The revision bump happens here, so ids always change.
    pub fn update_item(
        &self,
        item_id: &str,
        change_key: Option<&str>,
        change: impl FnOnce(&mut CalendarItem) -> Result<(), StoreError>,
    ) -> Result<ItemRef, StoreError> {
        let now = self.clock.now();
        let mut inner = self.write_inner();
        let (mb_key, target) = Self::locate(&inner.world, item_id)?;
        let (r, old) = {
            let mb = inner
                .world
                .mailboxes
                .get_mut(&mb_key)
                .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
            let current = mb
                .items
                .get(&target.key())
                .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
            check_change_key(item_id, current, change_key)?;
            let mut item = CalendarItem::clone(current);
            let old = id::item_id(mb.serial, item.key, item.revision);
            change(&mut item)?;
            item.revision += 1;
            item.last_modified = now;
            let mb = Arc::make_mut(mb);
            let r = ItemRef::of(mb, &item);
            mb.items.insert(item.key, Arc::new(item));
            (r, old)
        };
        self.record(
            &mut inner,
            ChangeKind::Modified,
            &mb_key,
            Some(r.item_id.clone()),
            Some(old),
        );
        Ok(r)
    }

    /// Changes one occurrence of a series (making it an exception).
    pub fn update_occurrence(
        &self,
        master_id: &str,
        original_start: DateTime<Utc>,
        change_key: Option<&str>,
        change: impl FnOnce(&mut OccurrenceOverride) -> Result<(), StoreError>,
    ) -> Result<ItemRef, StoreError> {
        self.update_item(master_id, change_key, |item| {
            let inst = item
                .instance_at(original_start)
                .ok_or_else(|| StoreError::ItemNotFound(master_id.to_owned()))?;
            let mut ov = match inst.occurrence.and_then(|o| o.exception) {
                Some(e) => e.clone(),
                None => OccurrenceOverride {
                    original_start,
                    start: inst.start,
                    end: inst.end,
                    subject: None,
                    location: None,
                    status: None,
                },
            };
            change(&mut ov)?;
            if ov.end < ov.start {
                return Err(crate::error::ItemError::EndBeforeStart.into());
            }
            item.modified.retain(|m| m.original_start != original_start);
            item.modified.push(ov);
            item.modified.sort_by_key(|m| m.original_start);
            Ok(())
        })
    }

    /// Deletes an item for good (`HardDelete`), or one occurrence when `item_id` is an
    /// occurrence id.
    pub fn delete_item(&self, item_id: &str, change_key: Option<&str>) -> Result<(), StoreError> {
        self.delete_item_as(item_id, change_key, DeleteMode::HardDelete)
            .map(|_| ())
    }

    /// Deletes an item the way `mode` says, or one occurrence when `item_id` is an
    /// occurrence id (whatever the mode: the series master is modified, as in Exchange).
    ///
    /// With [`DeleteMode::MoveToDeletedItems`] the item leaves the calendar and the log
    /// records [`ChangeKind::MovedToDeletedItems`] with the id it gets in Deleted Items (a
    /// fresh key, as an item moved across folders gets a new id in Exchange); that id is
    /// returned. The mock keeps no Deleted Items contents (mock-ews/README.md, "Limits"), so
    /// the new id resolves to nothing, but it is never reused for another item.
    pub fn delete_item_as(
        &self,
        item_id: &str,
        change_key: Option<&str>,
        mode: DeleteMode,
    ) -> Result<Option<String>, StoreError> {
        let (_, _, target) = self.resolve(item_id)?;
        if let IdTarget::Occurrence { original_start, .. } = target {
            return self
                .delete_occurrence(item_id, original_start)
                .map(|_| None);
        }
        let mut inner = self.write_inner();
        let (mb_key, target) = Self::locate(&inner.world, item_id)?;
        let old = {
            let mb = inner
                .world
                .mailboxes
                .get_mut(&mb_key)
                .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
            let current = mb
                .items
                .get(&target.key())
                .ok_or_else(|| StoreError::ItemNotFound(item_id.to_owned()))?;
            check_change_key(item_id, current, change_key)?;
            let old = id::item_id(mb.serial, current.key, current.revision);
            let serial = mb.serial;
            Arc::make_mut(mb).items.remove(&target.key());
            (old, serial)
        };
        let (old, serial) = old;
        match mode {
            DeleteMode::HardDelete | DeleteMode::SoftDelete => {
                self.record(&mut inner, ChangeKind::Deleted, &mb_key, Some(old), None);
                Ok(None)
            }
            DeleteMode::MoveToDeletedItems => {
                let key = inner.world.next_key;
                inner.world.next_key += 1;
                let moved = id::item_id(serial, key, 0);
                self.record(
                    &mut inner,
                    ChangeKind::MovedToDeletedItems,
                    &mb_key,
                    Some(moved.clone()),
                    Some(old),
                );
                Ok(Some(moved))
            }
        }
    }

    /// Deletes one occurrence of a series (by the master's or an occurrence's id).
    pub fn delete_occurrence(
        &self,
        item_id: &str,
        original_start: DateTime<Utc>,
    ) -> Result<ItemRef, StoreError> {
        self.update_item(item_id, None, |item| {
            if item.recurrence.is_none() {
                return Err(StoreError::NotRecurring(item_id.to_owned()));
            }
            if item.instance_at(original_start).is_none() {
                return Err(StoreError::ItemNotFound(item_id.to_owned()));
            }
            item.modified.retain(|m| m.original_start != original_start);
            item.deleted.push(original_start);
            item.deleted.sort();
            Ok(())
        })
    }

    /// Replaces a mailbox's OOF settings.
    pub fn set_oof(&self, smtp: &str, oof: OofSettings) -> Result<(), StoreError> {
        let mut inner = self.write_inner();
        let key = smtp.trim().to_ascii_lowercase();
        let mb = inner
            .world
            .mailboxes
            .get_mut(&key)
            .ok_or_else(|| StoreError::NoMailbox(smtp.to_owned()))?;
        Arc::make_mut(mb).oof = oof;
        self.record(&mut inner, ChangeKind::OofChanged, &key, None, None);
        Ok(())
    }
}

/// Renumbers a freshly built world's item keys (1, 2, ...) to start at `base`.
fn rebase_keys(world: &mut World, base: u64) {
    let shift = base.saturating_sub(1);
    if shift == 0 {
        return;
    }
    for mb in world.mailboxes.values_mut() {
        let mb = Arc::make_mut(mb);
        let items = std::mem::take(&mut mb.items);
        mb.items = items
            .into_values()
            .map(|item| {
                let mut item = Arc::unwrap_or_clone(item);
                item.key += shift;
                (item.key, Arc::new(item))
            })
            .collect();
    }
    world.next_key += shift;
}

fn check_change_key(
    item_id: &str,
    item: &CalendarItem,
    given: Option<&str>,
) -> Result<(), StoreError> {
    let current = id::change_key(item.key, item.revision);
    match given {
        Some(g) if !g.is_empty() && g != current => Err(StoreError::ChangeKeyMismatch {
            id: item_id.to_owned(),
            given: g.to_owned(),
            current,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::WorldSpec;
    use chrono::TimeZone;

    fn store() -> Store {
        let spec = WorldSpec::from_yaml(
            "mailboxes:\n  - smtp: a@x\n    zone: Europe/Berlin\n    calendar:\n      - { subject: Daily, start: 2026-03-09 10:00, duration: 30m, recurrence: { daily: true, count: 5 } }\n  - smtp: b@x\n",
            "t.yaml",
        )
        .unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        Store::new(World::from_spec(&spec, t0).unwrap(), Clock::frozen_at(t0))
    }

    fn spec(yaml: &str) -> ItemSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn every_mutation_changes_ids_and_logs_a_change() {
        let s = store();
        let mut rx = s.subscribe();
        let r = s
            .create_item(
                "B@x",
                &spec("subject: One\nstart: 2026-03-09 09:00\nduration: 1h\n"),
            )
            .unwrap();
        assert_eq!(s.seq(), 1);
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        let r2 = s
            .update_item(&r.item_id, Some(&r.change_key), |i| {
                i.subject = "Two".into();
                Ok(())
            })
            .unwrap();
        assert_ne!(r.item_id, r2.item_id);
        assert_ne!(r.change_key, r2.change_key);
        // The stale change key is refused; the stale id still resolves.
        let err = s
            .update_item(&r.item_id, Some(&r.change_key), |_| Ok(()))
            .unwrap_err();
        assert_eq!(err.response_code(), "ErrorIrresolvableConflict");
        s.delete_item(&r2.item_id, None).unwrap();
        assert_eq!(
            s.resolve(&r2.item_id).unwrap_err().response_code(),
            "ErrorItemNotFound"
        );
        let kinds: Vec<_> = s.changes_since(0).iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ChangeKind::Created,
                ChangeKind::Modified,
                ChangeKind::Deleted
            ]
        );
        assert_eq!(s.changes_since(2).len(), 1);
        assert!(rx.has_changed().unwrap());
    }

    #[test]
    fn moving_to_deleted_items_logs_a_move_with_a_fresh_id() {
        let s = store();
        let r = s
            .create_item("b@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
            .unwrap();
        let next_before = s.world().next_key;
        let moved = s
            .delete_item_as(&r.item_id, None, DeleteMode::MoveToDeletedItems)
            .unwrap()
            .expect("a new id");
        assert_ne!(moved, r.item_id);
        // The new id has a key of its own, never handed to another item.
        let key = id::parse_id(&moved).unwrap().key();
        assert_eq!(key, next_before);
        assert_eq!(s.world().next_key, next_before + 1);
        // It left the calendar; the mock keeps no Deleted Items contents.
        assert!(s.world().mailbox("b@x").unwrap().items.is_empty());
        assert_eq!(
            s.resolve(&moved).unwrap_err().response_code(),
            "ErrorItemNotFound"
        );
        let last = s.changes_since(0).pop().unwrap();
        assert_eq!(last.kind, ChangeKind::MovedToDeletedItems);
        assert_eq!(last.item_id.as_deref(), Some(moved.as_str()));
        assert_eq!(last.old_item_id.as_deref(), Some(r.item_id.as_str()));
    }

    #[test]
    fn hard_and_soft_deletes_log_deletions_and_occurrences_stay_master_changes() {
        let s = store();
        for mode in [DeleteMode::HardDelete, DeleteMode::SoftDelete] {
            let r = s
                .create_item("b@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
                .unwrap();
            assert_eq!(s.delete_item_as(&r.item_id, None, mode).unwrap(), None);
            let last = s.changes_since(0).pop().unwrap();
            assert_eq!((last.kind, last.old_item_id), (ChangeKind::Deleted, None));
        }
        let w = s.world();
        let mb = w.mailbox("a@x").unwrap();
        let item = mb.items.values().next().unwrap();
        let occ = id::occurrence_id(
            mb.serial,
            item.key,
            2,
            item.instance_by_index(2).unwrap().start,
        );
        assert_eq!(
            s.delete_item_as(&occ, None, DeleteMode::MoveToDeletedItems)
                .unwrap(),
            None
        );
        assert_eq!(s.changes_since(0).pop().unwrap().kind, ChangeKind::Modified);
        assert_eq!(s.world().mailbox("a@x").unwrap().items.len(), 1);
    }

    #[test]
    fn delete_modes_parse_the_schema_values_only() {
        for m in [
            DeleteMode::HardDelete,
            DeleteMode::SoftDelete,
            DeleteMode::MoveToDeletedItems,
        ] {
            assert_eq!(m.as_str().parse::<DeleteMode>().unwrap(), m);
        }
        let err = "moveToDeletedItems".parse::<DeleteMode>().unwrap_err();
        assert_eq!(err.response_code(), "ErrorSchemaValidation");
        assert_eq!(DeleteMode::default(), DeleteMode::HardDelete);
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let s = store();
        let before = s.world();
        let id = {
            let w = s.world();
            let mb = w.mailbox("a@x").unwrap();
            let item = mb.items.values().next().unwrap();
            id::item_id(mb.serial, item.key, item.revision)
        };
        let err = s
            .update_item(&id, None, |i| {
                i.subject = "half-done".into();
                Err(StoreError::NotRecurring("x".into()))
            })
            .unwrap_err();
        assert_eq!(err.response_code(), "ErrorItemNotFound");
        assert_eq!(s.world(), before);
        assert_eq!(s.seq(), 0);
    }

    #[test]
    fn snapshot_restore_and_reset() {
        let s = store();
        let snap = s.snapshot();
        let original = s.world();
        s.create_item("a@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
            .unwrap();
        assert_ne!(s.world().mailboxes, original.mailboxes);
        s.restore(snap).unwrap();
        assert_eq!(s.world().mailboxes, original.mailboxes);
        s.create_item("a@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
            .unwrap();
        s.reset();
        assert_eq!(s.world().mailboxes, original.mailboxes);
        assert_eq!(
            s.restore(SnapshotId(99)).unwrap_err(),
            StoreError::NoSnapshot(99)
        );
    }

    #[test]
    fn keys_are_never_reused_across_restore_reset_and_load() {
        let s = store();
        let snap = s.snapshot();
        let a = s
            .create_item("b@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
            .unwrap();
        s.restore(snap).unwrap();
        let b = s
            .create_item("b@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
            .unwrap();
        assert_ne!(
            id::parse_id(&a.item_id).unwrap().key(),
            id::parse_id(&b.item_id).unwrap().key()
        );
        s.reset();
        let c = s
            .create_item("b@x", &spec("start: 2026-03-09 09:00\nduration: 1h\n"))
            .unwrap();
        assert!(id::parse_id(&c.item_id).unwrap().key() > id::parse_id(&b.item_id).unwrap().key());
        // A new world's items get keys after everything handed out so far.
        let old_ids: Vec<u64> = s
            .world()
            .mailboxes
            .values()
            .flat_map(|m| m.items.keys().copied().collect::<Vec<_>>())
            .collect();
        let spec_w = WorldSpec::from_yaml("mailboxes:\n  - smtp: a@x\n    calendar:\n      - { start: 2026-03-09 10:00, duration: 30m }\n", "t").unwrap();
        s.load(
            World::from_spec(&spec_w, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()).unwrap(),
        );
        let new_key = *s
            .world()
            .mailbox("a@x")
            .unwrap()
            .items
            .keys()
            .next()
            .unwrap();
        assert!(
            old_ids.iter().all(|k| *k < new_key),
            "{old_ids:?} vs {new_key}"
        );
        let item = s.world().mailbox("a@x").unwrap().items[&new_key].clone();
        assert_eq!(item.key, new_key);
    }

    #[test]
    fn occurrences_can_be_moved_and_deleted() {
        let s = store();
        let w = s.world();
        let mb = w.mailbox("a@x").unwrap();
        let item = mb.items.values().next().unwrap();
        let master = id::item_id(mb.serial, item.key, item.revision);
        let second = item.instance_by_index(2).unwrap().start;
        let third = item.instance_by_index(3).unwrap().start;
        let r = s
            .update_occurrence(&master, second, None, |o| {
                o.subject = Some("Moved".into());
                o.start += chrono::Duration::hours(2);
                o.end += chrono::Duration::hours(2);
                Ok(())
            })
            .unwrap();
        let occ = id::occurrence_id(mb.serial, item.key, 2, third);
        s.delete_item(&occ, None).unwrap();
        let (_, item, _) = s.resolve(&r.item_id).unwrap();
        assert_eq!(item.deleted, vec![third]);
        assert_eq!(item.modified.len(), 1);
        assert_eq!(item.instance_by_index(2).unwrap().subject(), "Moved");
        assert!(item.instance_by_index(3).is_none());
        assert_eq!(item.revision, 3);
    }
}
