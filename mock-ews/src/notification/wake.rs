//! Targeted wake-ups: one fan-out task reads each new store change once and wakes only the
//! push senders and streaming connections watching that change's mailbox (all of them for a
//! world replacement). Without it every change would wake every sender, and with 1,000
//! subscribed mailboxes each change would cost 1,000 wake-ups and scans.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Notify;

use super::{Notifications, lock};

/// Who waits for changes of which mailbox.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    by_mailbox: Mutex<HashMap<String, Vec<Weak<Notify>>>>,
    /// Whether the fan-out task runs.
    started: Mutex<bool>,
}

impl Wakers {
    fn wake(&self, mailbox: &str) {
        let mut map = lock(&self.by_mailbox);
        let wake_list = |list: &mut Vec<Weak<Notify>>| {
            list.retain(|w| match w.upgrade() {
                Some(n) => {
                    n.notify_one();
                    true
                }
                None => false,
            });
        };
        if mailbox.is_empty() {
            for list in map.values_mut() {
                wake_list(list);
            }
        } else if let Some(list) = map.get_mut(mailbox) {
            wake_list(list);
        }
        map.retain(|_, l| !l.is_empty());
    }
}

impl Notifications {
    /// A waker for changes of `mailboxes`, starting the fan-out task on first use (it needs a
    /// tokio runtime, which callers of this have).
    pub(crate) fn waker(self: &Arc<Self>, mailboxes: &[String]) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        {
            let mut map = lock(&self.wakers.by_mailbox);
            for m in mailboxes {
                map.entry(m.clone())
                    .or_default()
                    .push(Arc::downgrade(&notify));
            }
        }
        let mut started = lock(&self.wakers.started);
        if !*started {
            *started = true;
            // Start from here, before any waiter's first read: no change can slip between.
            let changes = self.store.subscribe();
            let seen = self.store.seq();
            tokio::spawn(fan_out(Arc::downgrade(self), changes, seen));
        }
        notify
    }

    /// The watched mailbox of each subscription id (for wakers of streaming connections).
    pub(crate) fn mailboxes_of(&self, ids: &[String]) -> Vec<String> {
        let h = lock(&self.history);
        let mut out: Vec<String> = ids
            .iter()
            .filter_map(|id| h.get(id).map(|s| s.mailbox.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

async fn fan_out(
    weak: Weak<Notifications>,
    mut changes: tokio::sync::watch::Receiver<u64>,
    mut seen: u64,
) {
    while changes.changed().await.is_ok() {
        let Some(n) = weak.upgrade() else { return };
        let new = n.store.changes_since(seen);
        for c in &new {
            n.wakers.wake(&c.mailbox);
            seen = seen.max(c.seq);
        }
    }
}
