//! Opaque item ids and change keys, shaped like Exchange's (base64 of a binary blob).
//!
//! An id names the mailbox (by its serial in the loaded world), the item key, the item's
//! revision and, for an occurrence, the occurrence's original start. Because the revision is
//! part of the id, ItemId and ChangeKey both change on every update, as the issue asks;
//! lookups resolve by mailbox and key, so an id from an older revision still finds the item
//! (Exchange's ids are stable too) and staleness is detected with the ChangeKey.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

/// Exchange ids start with `AAMkA` (bytes 00 03 24 ...); ours do too, which keeps clients that
/// sniff the prefix happy.
const MAGIC: [u8; 3] = [0x00, 0x03, 0x24];
const KIND_ITEM: u8 = 1;
const KIND_OCCURRENCE: u8 = 2;
const KIND_FOLDER: u8 = 3;

/// The folders a mailbox has (the mock stores items only in the calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    Root,
    MsgFolderRoot,
    Calendar,
    Inbox,
    DeletedItems,
}

impl FolderKind {
    const ALL: [(FolderKind, &'static str, u8); 5] = [
        (FolderKind::Root, "root", 1),
        (FolderKind::MsgFolderRoot, "msgfolderroot", 2),
        (FolderKind::Calendar, "calendar", 3),
        (FolderKind::Inbox, "inbox", 4),
        (FolderKind::DeletedItems, "deleteditems", 5),
    ];

    /// The folder for a `DistinguishedFolderId/@Id`.
    pub fn from_distinguished(id: &str) -> Option<FolderKind> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == id)
            .map(|(k, _, _)| *k)
    }

    fn code(self) -> u8 {
        Self::ALL
            .iter()
            .find(|(k, _, _)| *k == self)
            .map_or(0, |(_, _, c)| *c)
    }

    /// The display name Exchange shows.
    pub fn display_name(self) -> &'static str {
        match self {
            FolderKind::Root => "Top of Information Store",
            FolderKind::MsgFolderRoot => "Top of Information Store",
            FolderKind::Calendar => "Calendar",
            FolderKind::Inbox => "Inbox",
            FolderKind::DeletedItems => "Deleted Items",
        }
    }
}

/// Encodes a folder id.
pub fn folder_id(mailbox: u32, kind: FolderKind) -> String {
    let mut b = Vec::with_capacity(9);
    b.extend_from_slice(&MAGIC);
    b.push(KIND_FOLDER);
    b.extend_from_slice(&mailbox.to_be_bytes());
    b.push(kind.code());
    encode(&b)
}

/// Decodes a folder id.
pub fn parse_folder_id(id: &str) -> Option<(u32, FolderKind)> {
    let b = STANDARD.decode(id.trim()).ok()?;
    if b.len() != 9 || b[..3] != MAGIC || b[3] != KIND_FOLDER {
        return None;
    }
    let mailbox = u32::from_be_bytes(b[4..8].try_into().ok()?);
    let kind = FolderKind::ALL
        .iter()
        .find(|(_, _, c)| *c == b[8])
        .map(|(k, _, _)| *k)?;
    Some((mailbox, kind))
}

/// What an id refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTarget {
    /// A single item or a recurring master.
    Item {
        mailbox: u32,
        key: u64,
        revision: u32,
    },
    /// One occurrence of a series, by the original start of the occurrence.
    Occurrence {
        mailbox: u32,
        key: u64,
        revision: u32,
        original_start: DateTime<Utc>,
    },
}

impl IdTarget {
    pub fn mailbox(&self) -> u32 {
        match *self {
            IdTarget::Item { mailbox, .. } | IdTarget::Occurrence { mailbox, .. } => mailbox,
        }
    }

    pub fn key(&self) -> u64 {
        match *self {
            IdTarget::Item { key, .. } | IdTarget::Occurrence { key, .. } => key,
        }
    }
}

/// Encodes an item id.
pub fn item_id(mailbox: u32, key: u64, revision: u32) -> String {
    item_id_text(mailbox, key, revision).as_str().to_owned()
}

/// [`item_id`] on the stack.
pub(crate) fn item_id_text(mailbox: u32, key: u64, revision: u32) -> IdText {
    // Built on the stack: ids are written for every item of every view.
    let mut b = [0_u8; 20];
    b[..3].copy_from_slice(&MAGIC);
    b[3] = KIND_ITEM;
    b[4..8].copy_from_slice(&mailbox.to_be_bytes());
    b[8..16].copy_from_slice(&key.to_be_bytes());
    b[16..20].copy_from_slice(&revision.to_be_bytes());
    IdText::encode(&b)
}

/// Encodes the id of one occurrence.
pub fn occurrence_id(
    mailbox: u32,
    key: u64,
    revision: u32,
    original_start: DateTime<Utc>,
) -> String {
    occurrence_id_text(mailbox, key, revision, original_start)
        .as_str()
        .to_owned()
}

/// [`occurrence_id`] on the stack.
pub(crate) fn occurrence_id_text(
    mailbox: u32,
    key: u64,
    revision: u32,
    original_start: DateTime<Utc>,
) -> IdText {
    let mut b = [0_u8; 28];
    b[..3].copy_from_slice(&MAGIC);
    b[3] = KIND_OCCURRENCE;
    b[4..8].copy_from_slice(&mailbox.to_be_bytes());
    b[8..16].copy_from_slice(&key.to_be_bytes());
    b[16..20].copy_from_slice(&revision.to_be_bytes());
    b[20..28].copy_from_slice(&original_start.timestamp().to_be_bytes());
    IdText::encode(&b)
}

/// A change key for an item revision (Exchange's are base64 too, `DwAAABYAAAA…`).
pub fn change_key(key: u64, revision: u32) -> String {
    change_key_text(key, revision).as_str().to_owned()
}

/// [`change_key`] on the stack.
pub(crate) fn change_key_text(key: u64, revision: u32) -> IdText {
    let mut b = [0_u8; 16];
    b[0] = 0x0f;
    b[4..12].copy_from_slice(&key.to_be_bytes());
    b[12..16].copy_from_slice(&revision.to_be_bytes());
    IdText::encode(&b)
}

/// An id or change key as base64 text on the stack: ids are written for every item of
/// every view, and the base64 crate's `encode` zero-fills a heap buffer and copies it, which
/// cost more than the rest of building an item.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdText {
    bytes: [u8; 40],
    len: usize,
}

impl IdText {
    /// Standard padded base64 of `raw` (at most 30 bytes: every blob here is 9 to 28).
    fn encode(raw: &[u8]) -> IdText {
        debug_assert!(raw.len() <= 30, "an id blob of {} bytes", raw.len());
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let sym = |v: u32| ALPHABET[(v & 63) as usize];
        let mut t = IdText {
            bytes: [0; 40],
            len: 0,
        };
        let mut put = |quad: [u8; 4]| {
            if let Some(slot) = t.bytes.get_mut(t.len..t.len + 4) {
                slot.copy_from_slice(&quad);
                t.len += 4;
            }
        };
        let mut chunks = raw.chunks_exact(3);
        for c in &mut chunks {
            let v = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
            put([sym(v >> 18), sym(v >> 12), sym(v >> 6), sym(v)]);
        }
        match *chunks.remainder() {
            [a] => {
                let v = u32::from(a) << 16;
                put([sym(v >> 18), sym(v >> 12), b'=', b'=']);
            }
            [a, b] => {
                let v = u32::from(a) << 16 | u32::from(b) << 8;
                put([sym(v >> 18), sym(v >> 12), sym(v >> 6), b'=']);
            }
            _ => {}
        }
        t
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        // Only alphabet bytes and `=` are ever written, so this never takes the `Err` arm.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

fn encode(raw: &[u8]) -> String {
    IdText::encode(raw).as_str().to_owned()
}

/// Decodes an id; `None` for anything malformed (EWS `ErrorInvalidIdMalformed`).
pub fn parse_id(id: &str) -> Option<IdTarget> {
    let b = STANDARD.decode(id.trim()).ok()?;
    if b.len() < 20 || b[..3] != MAGIC {
        return None;
    }
    let mailbox = u32::from_be_bytes(b[4..8].try_into().ok()?);
    let key = u64::from_be_bytes(b[8..16].try_into().ok()?);
    let revision = u32::from_be_bytes(b[16..20].try_into().ok()?);
    match (b[3], b.len()) {
        (KIND_ITEM, 20) => Some(IdTarget::Item {
            mailbox,
            key,
            revision,
        }),
        (KIND_OCCURRENCE, 28) => {
            let secs = i64::from_be_bytes(b[20..28].try_into().ok()?);
            Some(IdTarget::Occurrence {
                mailbox,
                key,
                revision,
                original_start: DateTime::from_timestamp(secs, 0)?,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_look_like_exchange() {
        let id = item_id(3, 42, 7);
        assert!(id.starts_with("AAMkA"), "{id}");
        assert_eq!(
            parse_id(&id),
            Some(IdTarget::Item {
                mailbox: 3,
                key: 42,
                revision: 7
            })
        );
        let t = DateTime::from_timestamp(1_773_043_200, 0).unwrap();
        let occ = occurrence_id(3, 42, 7, t);
        assert_eq!(
            parse_id(&occ),
            Some(IdTarget::Occurrence {
                mailbox: 3,
                key: 42,
                revision: 7,
                original_start: t
            })
        );
        assert_ne!(item_id(3, 42, 7), item_id(3, 42, 8));
        assert_ne!(change_key(42, 7), change_key(42, 8));
    }

    #[test]
    fn folder_ids_round_trip() {
        let id = folder_id(7, FolderKind::Calendar);
        assert_eq!(parse_folder_id(&id), Some((7, FolderKind::Calendar)));
        assert_eq!(parse_id(&id), None, "a folder id is not an item id");
        assert_eq!(parse_folder_id(&item_id(7, 1, 1)), None);
        assert_eq!(
            FolderKind::from_distinguished("calendar"),
            Some(FolderKind::Calendar)
        );
    }

    #[test]
    fn encodes_as_the_base64_crate_does() {
        let blob: Vec<u8> = (0..30_u8).map(|i| i.wrapping_mul(97)).collect();
        for n in 0..=blob.len() {
            assert_eq!(encode(&blob[..n]), STANDARD.encode(&blob[..n]), "{n} bytes");
        }
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert_eq!(parse_id("not base64!"), None);
        assert_eq!(parse_id(""), None);
        assert_eq!(parse_id("AAAA"), None);
        assert_eq!(parse_id(&change_key(1, 1)), None);
    }
}
