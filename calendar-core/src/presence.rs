//! Presence for the telephony side: Available / Meeting / Absent from a user's calendar items,
//! out-of-office settings and an optional manual override, at an instant given by the caller.
//!
//! The rules, in order (CALENDAR-SEMANTICS §2; *ours* where the sources are silent):
//! 1. A manual override wins from the instant it was set until the next *blocking* item
//!    starts (an item that would make the user Meeting or Absent), its explicit expiry, or
//!    (configurable, on by default) the start of a scheduled OOF window, whichever is first
//!    (case 44). The end is computed from the items given, so moving or cancelling that item
//!    moves the end.
//! 2. Absent while automatic replies are on: `Enabled`, or `Scheduled` with `start <= now <
//!    end` in UTC (case 31). A `Duration` on `Disabled` or `Enabled` settings is ignored
//!    (case 32). The message is the internal reply (configurable: external) as plain text.
//! 3. Absent while an item shown as OOF runs; the message is the OOF reply if one is set.
//!    Absent outranks Meeting when both apply.
//! 4. Meeting while a Busy item runs; Tentative counts by default (configurable);
//!    WorkingElsewhere does not by default (configurable); Free, NoData and cancelled items
//!    never count (cases 21, 29, 30, 34). An all-day item counts by its Show-as like any other.
//! 5. Otherwise Available.
//!
//! An item runs at `t` when `start <= t < end`, so back-to-back items leave no gap and a
//! zero-length item never runs (cases 26, 27). A private item's subject never appears in a
//! reason, message or `Debug` output (case 33).
//!
//! # Serialized form
//!
//! ```json
//! { "items": [ { "start": "…Z", "end": "…Z", "status": "busy" } ],
//!   "oof": { "state": "scheduled", "window": { "start": "…Z", "end": "…Z" },
//!            "internalReply": "<p>On leave</p>", "externalReply": "" },
//!   "override": { "state": "available", "setAt": "…Z", "expires": null },
//!   "timeZone": "Europe/Berlin" }
//! ```
//!
//! A [`Presence`] serializes as `{"state": "absent", "message": "On leave", "reason": {"kind":
//! "oofSettings", "state": "scheduled", "until": "…Z"}, "nextChange": "…Z"}`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::busy::{BusyItem, FreeBusyStatus, ItemRef};
use crate::time::serde_tz_opt;

/// What the telephony side shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PresenceState {
    Available,
    Meeting,
    Absent,
}

/// EWS `OofState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OofState {
    #[default]
    #[serde(alias = "Disabled")]
    Disabled,
    #[serde(alias = "Enabled")]
    Enabled,
    #[serde(alias = "Scheduled")]
    Scheduled,
}

/// EWS `Duration` of the OOF settings: `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OofWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// EWS `OofSettings`. Replies may be HTML (Outlook writes HTML); presence returns plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OofSettings {
    pub state: OofState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<OofWindow>,
    #[serde(default)]
    pub internal_reply: String,
    #[serde(default)]
    pub external_reply: String,
}

impl OofSettings {
    /// Whether automatic replies are on at `t` (rule 2).
    pub fn is_active_at(&self, t: DateTime<Utc>) -> bool {
        match self.state {
            OofState::Disabled => false,
            OofState::Enabled => true,
            OofState::Scheduled => self.window.is_some_and(|w| w.start <= t && t < w.end),
        }
    }
}

/// A state the user set by hand at `set_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceOverride {
    pub state: PresenceState,
    pub set_at: DateTime<Utc>,
    /// An explicit end, if the user gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
    /// A note the user typed, shown as the message while the override holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Everything presence looks at for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceInput {
    #[serde(default)]
    pub items: Vec<BusyItem>,
    #[serde(default)]
    pub oof: OofSettings,
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub manual: Option<PresenceOverride>,
    /// The mailbox zone: the days on which all-day items fall. Defaults to each item's own
    /// creation zone, then UTC.
    #[serde(
        default,
        with = "serde_tz_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<Tz>,
}

/// Which OOF reply becomes the absence message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplyAudience {
    #[default]
    Internal,
    External,
}

/// The configurable parts of the rules (defaults follow CALENDAR-SEMANTICS §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PresenceRules {
    /// Tentative items make the user Meeting (default true).
    pub tentative_is_meeting: bool,
    /// WorkingElsewhere items make the user Meeting (default false).
    pub working_elsewhere_is_meeting: bool,
    /// The reply used as the absence message (default internal).
    pub reply: ReplyAudience,
    /// A scheduled OOF window that starts after the override was set ends the override
    /// (default true): an absence the user planned outranks a status they set earlier.
    pub override_ends_at_scheduled_oof: bool,
}

impl Default for PresenceRules {
    fn default() -> Self {
        PresenceRules {
            tentative_is_meeting: true,
            working_elsewhere_is_meeting: false,
            reply: ReplyAudience::Internal,
            override_ends_at_scheduled_oof: true,
        }
    }
}

/// Which rule decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum PresenceReason {
    /// The manual override, holding until `until` (`None`: until reset).
    Override {
        set_at: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    },
    /// Automatic replies, on until `until` (`None` for `Enabled`).
    OofSettings {
        state: OofState,
        until: Option<DateTime<Utc>>,
    },
    /// A running item shown as OOF.
    OofItem { item: ItemRef },
    /// A running Busy (or, by the rules, Tentative / WorkingElsewhere) item.
    Meeting { item: ItemRef },
    /// Nothing blocks.
    NoBlockingItem,
}

/// The presence of a user at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    pub state: PresenceState,
    /// The absence message (OOF reply as plain text) or the override's note.
    pub message: Option<String>,
    pub reason: PresenceReason,
    /// The next instant at which state, message or reason changes; `None` if never.
    pub next_change: Option<DateTime<Utc>>,
}

/// One entry of a presence timeline: the presence that holds from `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChange {
    pub at: DateTime<Utc>,
    pub presence: Presence,
}

/// The presence of a user at `now`.
pub fn presence(input: &PresenceInput, rules: &PresenceRules, now: DateTime<Utc>) -> Presence {
    let user = User::new(input, rules);
    let decision = user.decide(now);
    user.present(decision, user.next_change(now, decision))
}

/// Every presence change of a user in `[from, to)`: the presence at `from`, then one entry per
/// change, for dashboards and scenario checks.
pub fn presence_timeline(
    input: &PresenceInput,
    rules: &PresenceRules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<PresenceChange> {
    let user = User::new(input, rules);
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let decision = user.decide(at);
        let next = user.next_change(at, decision);
        out.push(PresenceChange {
            at,
            presence: user.present(decision, next),
        });
        match next {
            Some(next) => at = next,
            None => break,
        }
    }
    out
}

/// What decided, without the owned strings a [`Presence`] carries; cheap to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Override,
    OofSettings,
    OofItem(usize),
    Meeting(usize),
    Free,
}

/// An item that can decide presence: its span and rank (OOF highest).
#[derive(Debug, Clone, Copy)]
struct Counted {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    rank: u8,
    index: usize,
}

const OOF_RANK: u8 = 4;

struct User<'a> {
    input: &'a PresenceInput,
    rules: &'a PresenceRules,
    counted: Vec<Counted>,
    /// `Some(end)` when an override exists; `end` is `None` when it holds until reset.
    override_end: Option<Option<DateTime<Utc>>>,
}

impl<'a> User<'a> {
    fn new(input: &'a PresenceInput, rules: &'a PresenceRules) -> User<'a> {
        let counted: Vec<Counted> = input
            .items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                let rank = rank(item, rules)?;
                let zone = input.time_zone.or(item.time_zone).unwrap_or(Tz::UTC);
                let (start, end) = item.span(zone)?;
                Some(Counted {
                    start,
                    end,
                    rank,
                    index,
                })
            })
            .collect();
        let override_end = input.manual.as_ref().map(|m| {
            let next_blocking = counted
                .iter()
                .filter(|c| c.start > m.set_at)
                .map(|c| c.start)
                .min();
            let oof_start = input
                .oof
                .window
                .filter(|_| {
                    rules.override_ends_at_scheduled_oof && input.oof.state == OofState::Scheduled
                })
                .map(|w| w.start)
                .filter(|start| *start > m.set_at);
            [m.expires, next_blocking, oof_start]
                .into_iter()
                .flatten()
                .min()
        });
        User {
            input,
            rules,
            counted,
            override_end,
        }
    }

    fn override_active(&self, t: DateTime<Utc>) -> bool {
        match (&self.input.manual, self.override_end) {
            (Some(m), Some(end)) => m.set_at <= t && end.is_none_or(|end| t < end),
            _ => false,
        }
    }

    fn decide(&self, t: DateTime<Utc>) -> Decision {
        if self.override_active(t) {
            return Decision::Override;
        }
        if self.input.oof.is_active_at(t) {
            return Decision::OofSettings;
        }
        // Highest rank wins; among equals the earliest start, then the latest end, then the
        // first in input order, so the choice does not depend on how the caller sorted.
        let best = self
            .counted
            .iter()
            .filter(|c| c.start <= t && t < c.end)
            .min_by_key(|c| {
                (
                    std::cmp::Reverse(c.rank),
                    c.start,
                    std::cmp::Reverse(c.end),
                    c.index,
                )
            });
        match best {
            Some(c) if c.rank == OOF_RANK => Decision::OofItem(c.index),
            Some(c) => Decision::Meeting(c.index),
            None => Decision::Free,
        }
    }

    /// The earliest instant after `now` where the decision differs. Presence is constant
    /// between the boundaries of items, the OOF window and the override, so only those are
    /// tried, in order, without sorting or allocating.
    fn next_change(&self, now: DateTime<Utc>, current: Decision) -> Option<DateTime<Utc>> {
        let mut t = now;
        loop {
            let next = self.next_boundary_after(t)?;
            if self.decide(next) != current {
                return Some(next);
            }
            t = next;
        }
    }

    fn next_boundary_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut best: Option<DateTime<Utc>> = None;
        let mut consider = |x: DateTime<Utc>| {
            if x > t && best.is_none_or(|b| x < b) {
                best = Some(x);
            }
        };
        for c in &self.counted {
            consider(c.start);
            consider(c.end);
        }
        if let Some(m) = &self.input.manual {
            consider(m.set_at);
        }
        if let Some(Some(end)) = self.override_end {
            consider(end);
        }
        if self.input.oof.state == OofState::Scheduled
            && let Some(w) = self.input.oof.window
        {
            consider(w.start);
            consider(w.end);
        }
        best
    }

    fn reply(&self) -> Option<String> {
        let oof = &self.input.oof;
        let html = match self.rules.reply {
            ReplyAudience::Internal => &oof.internal_reply,
            ReplyAudience::External => &oof.external_reply,
        };
        let text = html_to_text(html);
        (!text.is_empty()).then_some(text)
    }

    fn present(&self, decision: Decision, next_change: Option<DateTime<Utc>>) -> Presence {
        let (state, message, reason) = match decision {
            Decision::Override => {
                // `decide` only returns Override when there is one.
                let Some(m) = &self.input.manual else {
                    return self.present(Decision::Free, next_change);
                };
                let until = self.override_end.flatten();
                let reason = PresenceReason::Override {
                    set_at: m.set_at,
                    until,
                };
                (m.state, m.message.clone(), reason)
            }
            Decision::OofSettings => {
                let oof = &self.input.oof;
                let until = match oof.state {
                    OofState::Scheduled => oof.window.map(|w| w.end),
                    _ => None,
                };
                let reason = PresenceReason::OofSettings {
                    state: oof.state,
                    until,
                };
                (PresenceState::Absent, self.reply(), reason)
            }
            Decision::OofItem(i) => {
                let item = self.input.items[i].to_ref();
                (
                    PresenceState::Absent,
                    self.reply(),
                    PresenceReason::OofItem { item },
                )
            }
            Decision::Meeting(i) => {
                let item = self.input.items[i].to_ref();
                (
                    PresenceState::Meeting,
                    None,
                    PresenceReason::Meeting { item },
                )
            }
            Decision::Free => (
                PresenceState::Available,
                None,
                PresenceReason::NoBlockingItem,
            ),
        };
        Presence {
            state,
            message,
            reason,
            next_change,
        }
    }
}

/// How strongly an item blocks, or `None` if it never counts.
fn rank(item: &BusyItem, rules: &PresenceRules) -> Option<u8> {
    if item.cancelled {
        return None;
    }
    match item.status {
        FreeBusyStatus::Oof => Some(OOF_RANK),
        FreeBusyStatus::Busy => Some(3),
        FreeBusyStatus::Tentative if rules.tentative_is_meeting => Some(2),
        FreeBusyStatus::WorkingElsewhere if rules.working_elsewhere_is_meeting => Some(1),
        _ => None,
    }
}

/// Plain text from an OOF reply that may be HTML: tags dropped (with the content of `head`,
/// `style`, `script` and `title`), comments dropped, entities decoded, whitespace collapsed.
/// A `<` that does not start a tag (as in "back in < 2 days") is kept.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(pos) = rest.find(['<', '&']) {
        text.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            text.push(' ');
        } else if rest.starts_with('<') {
            let starts_tag = rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
            if !starts_tag {
                text.push('<');
                rest = &rest[1..];
                continue;
            }
            let Some(end) = rest.find('>') else {
                // An unterminated tag: nothing after it is text.
                rest = "";
                break;
            };
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            let closing = tag.starts_with('/');
            if !closing && matches!(name.as_str(), "head" | "style" | "script" | "title") {
                let lower = rest.to_ascii_lowercase();
                rest = match lower.find(&format!("</{name}")) {
                    Some(close) => rest[close..]
                        .find('>')
                        .map_or("", |gt| &rest[close + gt + 1..]),
                    None => "",
                };
            }
            if !is_inline(&name) {
                text.push(' ');
            }
        } else {
            let (decoded, used) = decode_entity(rest);
            text.push_str(decoded.as_deref().unwrap_or("&"));
            rest = &rest[used..];
        }
    }
    text.push_str(rest);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tags that do not separate words ("he<b>llo</b>" is one word).
fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "i"
            | "u"
            | "em"
            | "strong"
            | "span"
            | "font"
            | "small"
            | "big"
            | "sub"
            | "sup"
            | "code"
            | "s"
            | "strike"
            | "o"
    )
}

/// Decodes the entity at the start of `s` (which starts with `&`): the text and the number
/// of bytes used; `(None, 1)` for a lone ampersand.
fn decode_entity(s: &str) -> (Option<String>, usize) {
    let Some(semi) = s[1..].find(';').filter(|n| *n <= 10).map(|n| n + 1) else {
        return (None, 1);
    };
    let name = &s[1..semi];
    let ch = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse::<u32>().ok(),
        };
        code.and_then(char::from_u32)
    } else {
        named_entity(name)
    };
    match ch {
        Some(c) => (Some(c.to_string()), semi + 1),
        None => (None, 1),
    }
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "euro" => '€',
        "copy" => '©',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn outlook_html_reply_becomes_plain_text() {
        let html = "<html><head><meta charset=\"utf-8\"><style>p { margin: 0 }</style></head>\
            <body><p>I&#39;m out of office until <b>Monday</b>.</p><p>Urgent:&nbsp;call&nbsp;&amp;\n  ask for Eva &lt;desk&gt;</p><!-- x --></body></html>";
        assert_eq!(
            html_to_text(html),
            "I'm out of office until Monday. Urgent: call & ask for Eva <desk>"
        );
    }

    #[test]
    fn plain_text_with_a_less_than_sign_and_a_lone_ampersand_is_kept() {
        assert_eq!(
            html_to_text("back in < 2 days & then   some"),
            "back in < 2 days & then some"
        );
        assert_eq!(html_to_text("R&D &unknown; &#x263A;"), "R&D &unknown; ☺");
    }

    #[test]
    fn inline_tags_do_not_split_words_and_block_tags_do() {
        assert_eq!(
            html_to_text("he<b>llo</b><br>world<div>again</div>"),
            "hello world again"
        );
    }
}
