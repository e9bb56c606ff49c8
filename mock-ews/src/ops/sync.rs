//! SyncFolderItems (EWS.md §3.9): stored items (masters and singles, no expansion) as
//! Create/Update/Delete changes since a SyncState.
//!
//! The SyncState is self-contained: base64 of the mailbox serial and the (item key,
//! revision) pairs the client has been told about, with a checksum. The server keeps no
//! per-client state, so snapshots, restores and restarts never invalidate a client's state
//! unless its mailbox is gone; a corrupt or foreign state is `ErrorInvalidSyncStateData`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ews_proto::response::ResponseMessage;
use ews_proto::sync::{
    SyncChange, SyncFolderItems, SyncFolderItemsResponse, SyncFolderItemsResult,
};
use ews_proto::{Item, ItemId};

use crate::id::{self, FolderKind};
use crate::item::ViewEntry;
use crate::ops::calendar::{error_msg, fields_reader, resolve_folder, respond, right_on};
use crate::ops::common::MsgError;
use crate::ops::{Ctx, Reply};
use crate::wire;
use crate::world::DelegateRight;

const MAGIC: &[u8; 4] = b"MSS1";

fn checksum(b: &[u8]) -> u32 {
    b.iter().fold(0x811c_9dc5_u32, |h, x| {
        (h ^ u32::from(*x)).wrapping_mul(0x0100_0193)
    })
}

fn encode(serial: u32, folder: u8, known: &BTreeMap<u64, u32>) -> String {
    let mut b = Vec::with_capacity(13 + known.len() * 12);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&serial.to_be_bytes());
    b.push(folder);
    for (k, r) in known {
        b.extend_from_slice(&k.to_be_bytes());
        b.extend_from_slice(&r.to_be_bytes());
    }
    let sum = checksum(&b);
    b.extend_from_slice(&sum.to_be_bytes());
    STANDARD.encode(b)
}

fn decode(state: &str, serial: u32, folder: u8) -> Option<BTreeMap<u64, u32>> {
    let b = STANDARD.decode(state.trim()).ok()?;
    if b.len() < 13 || &b[..4] != MAGIC || (b.len() - 13) % 12 != 0 {
        return None;
    }
    let (body, sum) = b.split_at(b.len() - 4);
    if checksum(body).to_be_bytes() != sum {
        return None;
    }
    if u32::from_be_bytes(body[4..8].try_into().ok()?) != serial || body[8] != folder {
        return None;
    }
    body[9..]
        .chunks_exact(12)
        .map(|c| {
            Some((
                u64::from_be_bytes(c[..8].try_into().ok()?),
                u32::from_be_bytes(c[8..].try_into().ok()?),
            ))
        })
        .collect()
}

fn folder_code(k: FolderKind) -> u8 {
    match k {
        FolderKind::Root => 1,
        FolderKind::MsgFolderRoot => 2,
        FolderKind::Calendar => 3,
        FolderKind::Inbox => 4,
        FolderKind::DeletedItems => 5,
    }
}

fn sync(ctx: &Ctx<'_>, req: &SyncFolderItems) -> Result<SyncFolderItemsResult, MsgError> {
    let (mb, kind) = resolve_folder(ctx, &req.sync_folder_id).map_err(|e| {
        if e.code == "ErrorFolderNotFound" {
            MsgError::new(
                "ErrorSyncFolderNotFound",
                "The specified folder could not be found.",
            )
        } else {
            e
        }
    })?;
    if right_on(ctx, &mb) < DelegateRight::Reviewer {
        return Err(MsgError::new(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ));
    }
    if !(1..=512).contains(&req.max_changes_returned) {
        return Err(MsgError::new(
            "ErrorInvalidRequest",
            "The request is invalid: MaxChangesReturned must be between 1 and 512.",
        ));
    }
    let code = folder_code(kind);
    let mut known = match req
        .sync_state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => BTreeMap::new(),
        Some(s) => decode(s, mb.serial, code).ok_or_else(|| {
            MsgError::new(
                "ErrorInvalidSyncStateData",
                "Synchronization state data is corrupt or otherwise invalid.",
            )
        })?,
    };
    let ignored: Vec<u64> = req
        .ignore
        .iter()
        .flatten()
        .filter_map(|i| id::parse_id(&i.id).map(|t| t.key()))
        .collect();
    // Only the calendar holds items in this mock; other folders sync as empty.
    let current: BTreeMap<u64, u32> = if kind == FolderKind::Calendar {
        mb.items.iter().map(|(k, i)| (*k, i.revision)).collect()
    } else {
        BTreeMap::new()
    };
    let fields = wire::Fields::for_shape(&req.item_shape, false);
    let rd = fields_reader(ctx, &mb, fields);
    let mut changes = Vec::new();
    let mut pending = 0usize;
    let max = usize::try_from(req.max_changes_returned).unwrap_or(512);
    let deleted: Vec<(u64, u32)> = known
        .iter()
        .filter(|(k, _)| !current.contains_key(k))
        .map(|(k, r)| (*k, *r))
        .collect();
    for (k, rev) in deleted {
        if changes.len() >= max {
            pending += 1;
            continue;
        }
        known.remove(&k);
        changes.push(SyncChange::Delete(ItemId::new(id::item_id(
            mb.serial, k, rev,
        ))));
    }
    for (k, rev) in &current {
        let seen = known.get(k).copied();
        if seen == Some(*rev) {
            continue;
        }
        if ignored.contains(k) {
            known.insert(*k, *rev);
            continue;
        }
        if changes.len() >= max {
            pending += 1;
            continue;
        }
        let Some(item) = mb.items.get(k) else {
            continue;
        };
        let full = if item.recurrence.is_some() {
            wire::master_to_wire(&mb, item, rd)
        } else {
            let e = ViewEntry {
                item,
                start: item.start,
                end: item.end,
                occurrence: None,
            };
            wire::entry_to_wire(&mb, &e, rd)
        };
        let mut shaped = Box::new(full);
        fields.retain(&mut shaped);
        let shaped = Item::Calendar(shaped);
        changes.push(if seen.is_some() {
            SyncChange::Update(shaped)
        } else {
            SyncChange::Create(shaped)
        });
        known.insert(*k, *rev);
    }
    Ok(SyncFolderItemsResult {
        sync_state: Some(encode(mb.serial, code, &known)),
        includes_last_item_in_range: Some(pending == 0),
        changes: Some(changes),
    })
}

pub(crate) fn sync_folder_items(ctx: &Ctx<'_>, req: &SyncFolderItems) -> Reply {
    let message = match sync(ctx, req) {
        Ok(r) => ResponseMessage::success(r),
        Err(e) => {
            let mut m: ResponseMessage<SyncFolderItemsResult> = error_msg(&e);
            m.payload = SyncFolderItemsResult {
                sync_state: Some(String::new()),
                includes_last_item_in_range: Some(true),
                changes: None,
            };
            m
        }
    };
    respond::<SyncFolderItemsResult>(ctx, &SyncFolderItemsResponse::single(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_rejects_tampering() {
        let known: BTreeMap<u64, u32> = [(1, 3), (7, 1)].into_iter().collect();
        let s = encode(2, 3, &known);
        assert_eq!(decode(&s, 2, 3), Some(known.clone()));
        assert_eq!(decode(&s, 1, 3), None, "another mailbox");
        assert_eq!(decode(&s, 2, 4), None, "another folder");
        let mut raw = STANDARD.decode(&s).unwrap();
        raw[10] ^= 1;
        assert_eq!(decode(&STANDARD.encode(raw), 2, 3), None);
        assert_eq!(decode("H4sIAAAA", 2, 3), None);
        assert_eq!(
            decode(&encode(2, 3, &BTreeMap::new()), 2, 3),
            Some(BTreeMap::new())
        );
    }
}
