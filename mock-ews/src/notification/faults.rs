//! Faults on notifications (issue 4), by schedule (the next N matching notifications) or by a
//! seeded rate, in the style of [`crate::FaultSpec`] for requests.
//!
//! A rule is checked when a notification carrying events is about to be handed out (a GetEvents
//! answer, a streaming envelope's `m:Notification`, a SendNotification POST); heartbeats and
//! keep-alives are never faulted. A rule only matches the channels its fault makes sense for:
//!
//! | fault | pull | streaming | push | effect |
//! |---|---|---|---|---|
//! | `drop` | ✓ | ✓ | ✓ | the events are lost: the subscription moves past them, the client never sees them (pull answers a StatusEvent with the watermark after them) |
//! | `delay` | | ✓ | ✓ | the notification goes out `seconds` later on the shared clock |
//! | `duplicate` | | ✓ | ✓ | the same envelope / POST is sent twice |
//! | `reorder` | ✓ | ✓ | ✓ | the events of the notification come in reverse order |
//! | `callbackRefused` | | | ✓ | the POST counts as refused: the retry schedule starts |
//! | `streamCut` | | ✓ | | half of the envelope is written, then the connection is cut mid-chunk; its events are lost |
//! | `expireEarly` | ✓ | ✓ | ✓ | the subscription expires now (pull/streaming: `ErrorExpiredSubscription`; push: one `ErrorReadEventsFailed` post, then nothing) |
//! | `closeAtOnce` | | ✓ | | the GetStreamingEvents connection is answered with one `ConnectionStatus` `Closed` envelope and ends normally, before any event (a server or proxy that ends every stream at once); events stay queued for the next connection |
//!
//! `closeAtOnce` is checked when a connection opens, not per notification: `times` counts
//! connections, and `mailbox` matches when any subscription of the connection watches it.
//!
//! JSON form (control API `POST /mock/notification-faults`):
//! `{ "fault": { "kind": "delay", "seconds": 90 }, "channel": "push", "mailbox": "a@x.com", "times": 1 }`
//! or `{ "fault": { "kind": "drop" }, "rate": 0.1, "seed": 7 }`.

use serde::{Deserialize, Serialize};

use super::Channel;
use crate::rule::{Active, RuleSpec, Rules};

/// What to do to a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum NotifyFault {
    Drop,
    Delay {
        seconds: u32,
    },
    Duplicate,
    Reorder,
    CallbackRefused,
    StreamCut,
    ExpireEarly,
    /// Streaming only, checked when a connection opens: answer `Closed` at once.
    CloseAtOnce,
}

impl NotifyFault {
    /// Whether the fault makes sense on `channel` (see the module table).
    pub fn applies_to(&self, channel: Channel) -> bool {
        match self {
            NotifyFault::Drop | NotifyFault::Reorder | NotifyFault::ExpireEarly => true,
            NotifyFault::Delay { .. } | NotifyFault::Duplicate => channel != Channel::Pull,
            NotifyFault::CallbackRefused => channel == Channel::Push,
            NotifyFault::StreamCut | NotifyFault::CloseAtOnce => channel == Channel::Streaming,
        }
    }

    /// Whether the fault acts on a whole streaming connection when it opens rather than on
    /// a notification.
    pub fn on_connect(&self) -> bool {
        matches!(self, NotifyFault::CloseAtOnce)
    }

    /// The `kind` name, for the journal.
    pub fn name(&self) -> &'static str {
        match self {
            NotifyFault::Drop => "drop",
            NotifyFault::Delay { .. } => "delay",
            NotifyFault::Duplicate => "duplicate",
            NotifyFault::Reorder => "reorder",
            NotifyFault::CallbackRefused => "callbackRefused",
            NotifyFault::StreamCut => "streamCut",
            NotifyFault::ExpireEarly => "expireEarly",
            NotifyFault::CloseAtOnce => "closeAtOnce",
        }
    }
}

/// A notification fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotifyFaultSpec {
    pub fault: NotifyFault,
    /// Channel to match; any the fault applies to when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Watched mailbox to match; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    /// Fire on the next N matching notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Fire on each matching notification with this probability (0..=1), from `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl NotifyFaultSpec {
    /// A rule firing on the next `times` matching notifications of any channel.
    pub fn next(fault: NotifyFault, times: u32) -> Self {
        NotifyFaultSpec {
            fault,
            channel: None,
            mailbox: None,
            times: Some(times),
            rate: None,
            seed: None,
        }
    }

    pub fn on(mut self, channel: Channel) -> Self {
        self.channel = Some(channel);
        self
    }

    pub fn for_mailbox(mut self, smtp: impl Into<String>) -> Self {
        self.mailbox = Some(smtp.into());
        self
    }

    fn validate(&self) -> Result<(), NotifyFaultError> {
        if let Some(r) = self.rate
            && !(0.0..=1.0).contains(&r)
        {
            return Err(NotifyFaultError::Rate(r));
        }
        if self.times.is_some() && self.rate.is_some() {
            return Err(NotifyFaultError::TimesAndRate);
        }
        if let Some(c) = self.channel
            && !self.fault.applies_to(c)
        {
            return Err(NotifyFaultError::WrongChannel {
                fault: self.fault.name(),
                channel: c,
            });
        }
        Ok(())
    }
}

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotifyFaultError {
    #[error("rate {0} is not between 0 and 1")]
    Rate(f64),
    #[error("give `times` or `rate`, not both")]
    TimesAndRate,
    #[error("a {fault} fault does not apply to {channel:?} notifications")]
    WrongChannel {
        fault: &'static str,
        channel: Channel,
    },
}

/// A rule as installed.
pub type ActiveNotifyFault = Active<NotifyFaultSpec>;

impl RuleSpec for NotifyFaultSpec {
    type Fault = NotifyFault;
    fn fault(&self) -> &NotifyFault {
        &self.fault
    }
    fn times_mut(&mut self) -> &mut Option<u32> {
        &mut self.times
    }
    fn rate(&self) -> Option<f64> {
        self.rate
    }
    fn seed(&self) -> Option<u64> {
        self.seed
    }
}

/// The installed notification fault rules.
#[derive(Debug, Default)]
pub struct NotifyFaults {
    rules: Rules<NotifyFaultSpec>,
}

impl NotifyFaults {
    /// Installs a rule; returns its id.
    pub fn add(&self, spec: NotifyFaultSpec) -> Result<u64, NotifyFaultError> {
        spec.validate()?;
        Ok(self.rules.insert(spec))
    }

    pub fn list(&self) -> Vec<ActiveNotifyFault> {
        self.rules.list()
    }

    pub fn remove(&self, id: u64) -> bool {
        self.rules.remove(id)
    }

    pub fn clear(&self) {
        self.rules.clear();
    }

    /// The fault for a notification on `channel` for `mailbox`, if any; consumes counts.
    pub fn check(&self, channel: Channel, mailbox: &str) -> Option<NotifyFault> {
        self.rules.fire(|spec| {
            !spec.fault.on_connect()
                && spec.fault.applies_to(channel)
                && spec.channel.is_none_or(|c| c == channel)
                && spec
                    .mailbox
                    .as_deref()
                    .is_none_or(|m| m.trim().eq_ignore_ascii_case(mailbox))
        })
    }

    /// The fault for a streaming connection opening for subscriptions of `mailboxes`, if
    /// any (only connection faults, see [`NotifyFault::on_connect`]); consumes counts.
    pub fn check_connect(&self, mailboxes: &[String]) -> Option<NotifyFault> {
        self.rules.fire(|spec| {
            spec.fault.on_connect()
                && spec.channel.is_none_or(|c| c == Channel::Streaming)
                && spec
                    .mailbox
                    .as_deref()
                    .is_none_or(|m| mailboxes.iter().any(|x| m.trim().eq_ignore_ascii_case(x)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_channel_mailbox_and_count() {
        let f = NotifyFaults::default();
        f.add(NotifyFaultSpec::next(NotifyFault::StreamCut, 2).for_mailbox("a@x.com"))
            .unwrap();
        assert_eq!(f.check(Channel::Push, "a@x.com"), None, "not a push fault");
        assert_eq!(f.check(Channel::Streaming, "b@x.com"), None);
        assert_eq!(
            f.check(Channel::Streaming, "a@x.com"),
            Some(NotifyFault::StreamCut)
        );
        assert_eq!(
            f.check(Channel::Streaming, "a@x.com"),
            Some(NotifyFault::StreamCut)
        );
        assert_eq!(f.check(Channel::Streaming, "a@x.com"), None);
        assert_eq!(f.list()[0].fired, 2);
    }

    #[test]
    fn close_at_once_fires_on_connections_only() {
        let f = NotifyFaults::default();
        f.add(NotifyFaultSpec::next(NotifyFault::CloseAtOnce, 1).for_mailbox("a@x.com"))
            .unwrap();
        assert_eq!(
            f.check(Channel::Streaming, "a@x.com"),
            None,
            "not a notification fault"
        );
        assert_eq!(f.check_connect(&["b@x.com".into()]), None);
        assert_eq!(
            f.check_connect(&["b@x.com".into(), "A@x.com".into()]),
            Some(NotifyFault::CloseAtOnce)
        );
        assert_eq!(f.check_connect(&["a@x.com".into()]), None, "used up");
        assert!(
            f.add(NotifyFaultSpec::next(NotifyFault::CloseAtOnce, 1).on(Channel::Pull))
                .is_err()
        );
        // A notification fault never fires on a connection.
        f.add(NotifyFaultSpec::next(NotifyFault::Drop, 1)).unwrap();
        assert_eq!(f.check_connect(&["a@x.com".into()]), None);
        let spec: NotifyFaultSpec =
            serde_json::from_str(r#"{"fault":{"kind":"closeAtOnce"},"channel":"streaming"}"#)
                .unwrap();
        assert_eq!(spec.fault, NotifyFault::CloseAtOnce);
    }

    #[test]
    fn seeded_rates_repeat_and_bad_rules_are_refused() {
        let run = |seed| {
            let f = NotifyFaults::default();
            f.add(NotifyFaultSpec {
                rate: Some(0.3),
                seed: Some(seed),
                times: None,
                ..NotifyFaultSpec::next(NotifyFault::Drop, 0)
            })
            .unwrap();
            (0..1000)
                .map(|_| f.check(Channel::Pull, "a@x.com").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        let hits = run(3).iter().filter(|h| **h).count();
        assert!((230..370).contains(&hits), "{hits}");
        let f = NotifyFaults::default();
        assert!(
            f.add(NotifyFaultSpec::next(NotifyFault::CallbackRefused, 1).on(Channel::Pull))
                .is_err()
        );
        let spec: NotifyFaultSpec = serde_json::from_str(
            r#"{"fault":{"kind":"delay","seconds":90},"channel":"push","times":1}"#,
        )
        .unwrap();
        assert_eq!(spec.fault, NotifyFault::Delay { seconds: 90 });
    }
}
