//! Conformance checks over the notification journal (issue 4): did a client that lost its
//! subscription resume from the last watermark it received, and was every event of a mailbox
//! handed out to one of its subscriptions.
//!
//! Both are judged from what the server handed out, which is what a mock can know: an event
//! the server delivered counts as received (faults that lose events on the way record no
//! delivery), and events after the newest delivery are pending, not lost.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::events::{self, Scope};
use super::push::PushOutcome;
use super::{Channel, Notifications, Record, SentEvent, Watermark, lock};

/// A re-subscription that did not resume where the previous subscription left off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeViolation {
    pub at: DateTime<Utc>,
    pub subscription_id: String,
    /// The last watermark the client was given before.
    pub expected: String,
    /// The watermark it subscribed with (`None`: it started fresh).
    pub got: Option<String>,
}

/// An event raised for a watched mailbox that no subscription handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LostEvent {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub folder: bool,
    pub item_id: Option<String>,
}

/// Events handed out in a journal record (pull and streaming deliveries, acknowledged pushes).
fn delivered(record: &Record) -> Option<(Channel, &[SentEvent])> {
    match record {
        Record::Delivered {
            channel, events, ..
        } => Some((*channel, events)),
        Record::Pushed {
            events,
            outcome: PushOutcome::Ok,
            ..
        } => Some((Channel::Push, events)),
        _ => None,
    }
}

impl Notifications {
    fn ids_of(&self, mailbox: &str) -> HashSet<String> {
        let mailbox = mailbox.trim().to_ascii_lowercase();
        lock(&self.history)
            .iter()
            .filter(|(_, s)| s.mailbox == mailbox)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Re-subscriptions (pull and push; streaming cannot resume) of `mailbox` that did not
    /// start from the last watermark a pull or push notification gave the client.
    pub fn resume_violations(&self, mailbox: &str) -> Vec<ResumeViolation> {
        let ids = self.ids_of(mailbox);
        let mut last: Option<String> = None;
        let mut out = Vec::new();
        for e in self.journal() {
            if !ids.contains(&e.subscription_id) {
                continue;
            }
            match &e.record {
                Record::Subscribed {
                    channel: Channel::Pull | Channel::Push,
                    from,
                    resumed,
                    ..
                } => {
                    if let Some(expected) = &last {
                        let got = resumed.then(|| from.clone());
                        if got.as_ref() != Some(expected) {
                            out.push(ResumeViolation {
                                at: e.at,
                                subscription_id: e.subscription_id.clone(),
                                expected: expected.clone(),
                                got,
                            });
                        }
                    }
                }
                other => {
                    if let Some((Channel::Pull | Channel::Push, events)) = delivered(other)
                        && let Some(ev) = events.last()
                    {
                        last = Some(ev.watermark.clone());
                    }
                }
            }
        }
        out
    }

    /// "The client re-subscribed and resumed from its last watermark" for `mailbox`.
    pub fn resumed_from_last_watermark(&self, mailbox: &str) -> bool {
        self.resume_violations(mailbox).is_empty()
    }

    /// Events raised for `mailbox` since its first subscription (up to the newest delivery)
    /// that no subscription of it handed out.
    pub fn lost_events(&self, mailbox: &str) -> Vec<LostEvent> {
        let ids = self.ids_of(mailbox);
        let scopes: Vec<Scope> = {
            let h = lock(&self.history);
            ids.iter().filter_map(|id| h.get(id).cloned()).collect()
        };
        let Some(first) = scopes.first() else {
            return Vec::new();
        };
        let mut union = first.clone();
        for s in &scopes[1..] {
            union.all_folders |= s.all_folders;
            for f in &s.folders {
                if !union.folders.contains(f) {
                    union.folders.push(*f);
                }
            }
            for t in &s.types {
                if !union.types.contains(t) {
                    union.types.push(*t);
                }
            }
        }
        let mut start: Option<u64> = None;
        let mut end = 0u64;
        let mut got: BTreeSet<(u64, String, bool)> = BTreeSet::new();
        for e in self.journal() {
            if !ids.contains(&e.subscription_id) {
                continue;
            }
            if let Record::Subscribed { from, .. } = &e.record
                && let Some(w) = Watermark::decode(from)
            {
                start = Some(start.map_or(w.seq, |s| s.min(w.seq)));
            }
            if let Some((_, events)) = delivered(&e.record) {
                for ev in events {
                    end = end.max(ev.seq);
                    got.insert((ev.seq, ev.kind.clone(), ev.folder));
                }
            }
        }
        let Some(start) = start else {
            return Vec::new();
        };
        let mut lost = Vec::new();
        for change in self.store.changes_since(start) {
            if change.seq > end {
                break;
            }
            for ev in events::events_for(&change, &union) {
                let folder = ev.folder_id.is_some();
                let kind = ev.kind.as_str().to_owned();
                if !got.contains(&(change.seq, kind.clone(), folder)) {
                    lost.push(LostEvent {
                        seq: change.seq,
                        at: change.at,
                        kind,
                        folder,
                        item_id: ev.item_id.map(|i| i.id),
                    });
                }
            }
        }
        lost
    }

    /// "No event was lost" for `mailbox`.
    pub fn no_event_lost(&self, mailbox: &str) -> bool {
        self.lost_events(mailbox).is_empty()
    }
}
