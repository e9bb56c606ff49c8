//! The world file a person writes: [`WorldSpec`] and its parts, plus the small value types
//! that keep the YAML short (`start: 2026-03-09 09:00`, `duration: 30m`).
//!
//! These are plain `serde` types so the same format can be embedded in a scenario file and
//! deserialized from a sub-tree. Converting a spec into the runtime [`crate::World`] validates
//! it (zones, recurrences, references between mailboxes and accounts); see `WORLD.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use calendar_core::{DayOfWeekIndex, FreeBusyStatus, RelativeDay, Weekday};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::WorldError;
use crate::world::{DelegateRight, Sensitivity, ServerVersion};

/// A whole world: server profile, mailboxes with their calendars and OOF, service accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// The Exchange version the server pretends to be (default `2010sp3`).
    #[serde(default)]
    pub server: ServerVersion,
    /// Where a virtual clock starts when the world is loaded by the binary (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<When>,
    #[serde(default)]
    pub mailboxes: Vec<MailboxSpec>,
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
}

impl WorldSpec {
    /// Parses a world from YAML (JSON is YAML too). `origin` names the source in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, WorldError> {
        serde_saphyr::from_str(text).map_err(|err| {
            let (line, column) = err
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            WorldError::Parse {
                origin: origin.to_owned(),
                line,
                column,
                message: first_line(&err.to_string()),
            }
        })
    }

    /// Reads and parses a world file.
    pub fn from_file(path: &Path) -> Result<Self, WorldError> {
        let text = std::fs::read_to_string(path).map_err(|source| WorldError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

/// One mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSpec {
    pub smtp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IANA (`Europe/Berlin`) or Windows (`W. Europe Standard Time`) zone; default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Lets the mailbox owner log in with Basic auth as `smtp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<WorkingHoursSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oof: Option<OofSpec>,
    #[serde(default)]
    pub calendar: Vec<ItemSpec>,
}

/// Working hours in the mailbox zone; default Monday to Friday, 08:00 to 17:00.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHoursSpec {
    #[serde(default = "weekdays")]
    pub days: Vec<Weekday>,
    pub start: ClockTime,
    pub end: ClockTime,
}

pub(crate) fn weekdays() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

/// Out-of-office settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OofSpec {
    pub state: OofState,
    #[serde(default)]
    pub audience: Audience,
    /// Start of the Scheduled window (local to the mailbox zone unless it carries `Z`/offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    #[serde(default)]
    pub internal: String,
    #[serde(default)]
    pub external: String,
}

/// EWS `OofState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OofState {
    #[default]
    #[serde(alias = "Disabled")]
    Disabled,
    #[serde(alias = "Enabled")]
    Enabled,
    #[serde(alias = "Scheduled")]
    Scheduled,
}

/// EWS `ExternalAudience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    #[serde(alias = "None")]
    None,
    #[serde(alias = "Known")]
    Known,
    #[default]
    #[serde(alias = "All")]
    All,
}

/// A service account (or any login that is not a mailbox owner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// The Basic-auth user name (`svc-sync`, `DOMAIN\svc`, `svc@contoso.com`); case-insensitive.
    pub user: String,
    pub password: String,
    /// ApplicationImpersonation: `all`, `none` (default) or a list of SMTP addresses.
    #[serde(default)]
    pub impersonation: ImpersonationSpec,
    /// Delegate rights without impersonation, per mailbox SMTP address.
    #[serde(default)]
    pub delegate: BTreeMap<String, DelegateRight>,
}

/// Which mailboxes an account may impersonate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ImpersonationSpec {
    #[default]
    None,
    All,
    Only(Vec<String>),
}

impl Serialize for ImpersonationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ImpersonationSpec::None => s.serialize_str("none"),
            ImpersonationSpec::All => s.serialize_str("all"),
            ImpersonationSpec::Only(list) => list.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ImpersonationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) if w.eq_ignore_ascii_case("all") => Ok(ImpersonationSpec::All),
            Raw::Word(w) if w.eq_ignore_ascii_case("none") => Ok(ImpersonationSpec::None),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "impersonation must be `all`, `none` or a list of addresses, not `{w}`"
            ))),
            Raw::List(list) => Ok(ImpersonationSpec::Only(list)),
        }
    }
}

/// A calendar item as written in a world file or sent to the control API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    #[serde(default)]
    pub subject: String,
    /// Local start in `zone` (`2026-03-09 09:00`), or a date for an all-day item, or an
    /// instant with `Z`/offset.
    pub start: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Span>,
    /// The item's zone (IANA or Windows); default the mailbox zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Midnight to midnight in the item's zone; implied when `start` is a bare date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_day: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FreeBusyStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<bool>,
    /// Organizer SMTP address; default the mailbox itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendees: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// iCalendar UID; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<RecurrenceSpec>,
    /// Occurrences moved or changed, keyed by their original local start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modified: Vec<ModifiedSpec>,
    /// Original local starts (or dates) of deleted occurrences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<When>,
}

/// A modified occurrence of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifiedSpec {
    /// The occurrence's original start (local to the series zone) or its date.
    pub original: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FreeBusyStatus>,
}

/// A readable recurrence: exactly one of `daily`, `weekly`, `monthly`, `yearly`, an optional
/// interval `every`, and an optional end (`until` a local date, or `count`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<Vec<Weekday>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<MonthlySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly: Option<YearlySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_day_of_week: Option<Weekday>,
    /// Range start date; default the date of the item's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// `monthly: 15` (day of month) or `monthly: { index: second, day: Tuesday }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MonthlySpec {
    Day(u32),
    Relative {
        index: DayOfWeekIndex,
        day: RelativeDay,
    },
}

/// `yearly: { month: 3, day: 15 }` or `yearly: { month: 3, index: first, day: Monday }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum YearlySpec {
    Relative {
        month: u32,
        index: DayOfWeekIndex,
        day: RelativeDay,
    },
    Absolute {
        month: u32,
        day: u32,
    },
}

/// A point in time as a person writes it: a local date-time (`2026-03-09 09:00`,
/// `2026-03-09T09:00:00`), a bare date (`2026-03-09`), or an instant with a zone
/// (`2026-03-09T08:00:00Z`, `2026-03-09 09:00+01:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Date(NaiveDate),
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

impl When {
    /// The instant this denotes when local values are read in `tz` (a date is its midnight).
    pub fn to_utc(self, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        match self {
            When::Instant(t) => Some(t),
            When::Local(l) => calendar_core::local_to_utc(tz, l),
            When::Date(d) => calendar_core::local_to_utc(tz, d.and_time(NaiveTime::MIN)),
        }
    }

    /// The local wall time in `tz`.
    pub fn to_local(self, tz: chrono_tz::Tz) -> NaiveDateTime {
        match self {
            When::Instant(t) => t.with_timezone(&tz).naive_local(),
            When::Local(l) => l,
            When::Date(d) => d.and_time(NaiveTime::MIN),
        }
    }
}

impl FromStr for When {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(When::Date(d));
        }
        let t = s.replacen(' ', "T", 1);
        if let Some(stripped) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z'))
            && let Some(l) = parse_local(stripped)
        {
            return Ok(When::Instant(l.and_utc()));
        }
        if let Ok(dt) = DateTime::<FixedOffset>::parse_from_rfc3339(&t) {
            return Ok(When::Instant(dt.with_timezone(&Utc)));
        }
        if let Ok(dt) = DateTime::<FixedOffset>::parse_from_str(&t, "%Y-%m-%dT%H:%M%:z") {
            return Ok(When::Instant(dt.with_timezone(&Utc)));
        }
        if let Some(l) = parse_local(&t) {
            return Ok(When::Local(l));
        }
        Err(format!(
            "`{raw}` is not a date or time; write `2026-03-09`, `2026-03-09 09:00` or `2026-03-09T08:00:00Z`"
        ))
    }
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            When::Local(l) => write!(f, "{}", l.format("%Y-%m-%d %H:%M:%S")),
            When::Instant(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        }
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A duration written as `30m`, `1h`, `1h30m`, `2d`, `45s` or a bare number of minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl FromStr for Span {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{raw}` is not a duration; write e.g. `30m`, `1h30m`, `2d`");
        let s = raw.trim();
        if s.is_empty() {
            return Err(bad());
        }
        if let Ok(minutes) = s.parse::<i64>() {
            return Ok(Span(Duration::minutes(minutes)));
        }
        let mut total = Duration::zero();
        let mut digits = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            if c.is_whitespace() {
                continue;
            }
            let n: i64 = digits.parse().map_err(|_| bad())?;
            digits.clear();
            total += match c {
                'd' => Duration::days(n),
                'h' => Duration::hours(n),
                'm' => Duration::minutes(n),
                's' => Duration::seconds(n),
                _ => return Err(bad()),
            };
        }
        if !digits.is_empty() {
            return Err(bad());
        }
        Ok(Span(total))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.num_seconds();
        if secs % 60 != 0 {
            write!(f, "{secs}s")
        } else {
            write!(f, "{}m", secs / 60)
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Minutes(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Minutes(m) => Ok(Span(Duration::minutes(m))),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A time of day, `09:00` or `17:30:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime(pub NaiveTime);

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%H:%M"))
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(&s, "%H:%M:%S"))
            .map(ClockTime)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a time of day like 09:00")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_forms() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!("2026-03-09".parse::<When>(), Ok(When::Date(d)));
        assert_eq!(
            "2026-03-09 09:00".parse::<When>(),
            Ok(When::Local(d.and_hms_opt(9, 0, 0).unwrap()))
        );
        assert_eq!(
            "2026-03-09T09:00:30".parse::<When>(),
            Ok(When::Local(d.and_hms_opt(9, 0, 30).unwrap()))
        );
        assert_eq!(
            "2026-03-09T08:00:00Z".parse::<When>(),
            Ok(When::Instant(d.and_hms_opt(8, 0, 0).unwrap().and_utc()))
        );
        assert_eq!(
            "2026-03-09 09:00+01:00".parse::<When>(),
            Ok(When::Instant(d.and_hms_opt(8, 0, 0).unwrap().and_utc()))
        );
        assert!("March 9".parse::<When>().is_err());
        assert!("2026-02-30".parse::<When>().is_err());
    }

    #[test]
    fn span_forms() {
        assert_eq!("30m".parse::<Span>(), Ok(Span(Duration::minutes(30))));
        assert_eq!("1h30m".parse::<Span>(), Ok(Span(Duration::minutes(90))));
        assert_eq!("2d".parse::<Span>(), Ok(Span(Duration::days(2))));
        assert_eq!("45".parse::<Span>(), Ok(Span(Duration::minutes(45))));
        assert!("1x".parse::<Span>().is_err());
        assert!("h".parse::<Span>().is_err());
        assert!("30".parse::<Span>().is_ok());
        assert!("".parse::<Span>().is_err());
    }

    #[test]
    fn parse_error_names_origin_line_and_column() {
        let yaml = "mailboxes:\n  - smtp: a@x\n    calendar:\n      - start: tomorrow\n";
        let err = WorldSpec::from_yaml(yaml, "w.yaml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("w.yaml:4:"), "{msg}");
        assert!(msg.contains("tomorrow"), "{msg}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let err = WorldSpec::from_yaml("mailboxs: []\n", "w.yaml").unwrap_err();
        assert!(err.to_string().contains("w.yaml:1:"), "{err}");
    }
}
