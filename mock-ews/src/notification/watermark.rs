//! Watermarks (EWS.md §6.7): opaque base64 bookmarks into the mailbox's event table.
//!
//! Ours encode the mailbox serial, the store change sequence number and the index of the event
//! within that change (one change yields several events: item event, FreeBusyChangedEvent,
//! folder ModifiedEvent), so a client can resume exactly between two events of one change
//! when `MoreEvents` split a batch there. A watermark of another mailbox is rejected like
//! Exchange rejects one "from another mailbox/database".

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Version byte, so a random base64 string is not taken for a watermark.
const TAG: u8 = 0x57;

/// Index meaning "every event of this change was delivered".
pub(crate) const WHOLE_CHANGE: u16 = u16::MAX;

/// A position in one mailbox's event stream: after event `index` of change `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Watermark {
    /// The change sequence number ([`crate::Change::seq`]).
    pub seq: u64,
    /// The event within that change; [`u16::MAX`] for all of them.
    pub index: u16,
    /// The mailbox serial the watermark belongs to.
    pub mailbox: u32,
}

impl Watermark {
    /// After every event of change `seq`.
    pub fn after_change(mailbox: u32, seq: u64) -> Self {
        Watermark {
            seq,
            index: WHOLE_CHANGE,
            mailbox,
        }
    }

    /// The base64 wire form.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(15);
        b.push(TAG);
        b.extend_from_slice(&self.mailbox.to_be_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.index.to_be_bytes());
        STANDARD.encode(b)
    }

    /// Reads the wire form; `None` for anything that is not one of ours.
    pub fn decode(s: &str) -> Option<Self> {
        let b = STANDARD.decode(s.trim()).ok()?;
        if b.len() != 15 || b[0] != TAG {
            return None;
        }
        Some(Watermark {
            mailbox: u32::from_be_bytes(b[1..5].try_into().ok()?),
            seq: u64::from_be_bytes(b[5..13].try_into().ok()?),
            index: u16::from_be_bytes(b[13..15].try_into().ok()?),
        })
    }

    /// Whether event `index` of change `seq` comes after this position.
    /// (Event indices stay below [`WHOLE_CHANGE`], so "all of change `seq`" sorts last.)
    pub(crate) fn is_before(&self, seq: u64, index: u16) -> bool {
        (seq, index) > (self.seq, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_strings() {
        let w = Watermark {
            seq: 42,
            index: 2,
            mailbox: 7,
        };
        assert_eq!(Watermark::decode(&w.encode()), Some(w));
        assert_eq!(Watermark::decode("AAAAAGUhAAAAAAAAAQ=="), None);
        assert_eq!(Watermark::decode("not base64!"), None);
        assert_eq!(Watermark::decode(""), None);
    }

    #[test]
    fn ordering_within_and_across_changes() {
        let mid = Watermark {
            seq: 5,
            index: 1,
            mailbox: 1,
        };
        assert!(!mid.is_before(5, 0));
        assert!(!mid.is_before(5, 1));
        assert!(mid.is_before(5, 2));
        assert!(mid.is_before(6, 0));
        let whole = Watermark::after_change(1, 5);
        assert!(!whole.is_before(5, 3));
        assert!(whole.is_before(6, 0));
    }
}
