//! A small iCalendar (RFC 5545) reader for `import_ics`: turns the VEVENTs of a customer's
//! `.ics` export (as Outlook writes it) into mock-ews world calendar items.
//!
//! Why our own reader: the subset is small (one mailbox's events), and every construct the
//! world format cannot express must become an error naming the line, never a silent drop;
//! a general crate would accept more than we can represent. VTIMEZONE blocks are skipped:
//! TZID names are resolved by name (IANA, or Windows ids through ews-proto's CLDR table).

use std::collections::BTreeMap;

use calendar_core::{DayOfWeekIndex, FreeBusyStatus, RelativeDay, Weekday};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use mock_ews::{
    ItemSpec, ModifiedSpec, MonthlySpec, RecurrenceSpec, Sensitivity, Span, When, YearlySpec,
};

/// A problem in the `.ics` text, at a physical line (1-based; the first line of a folded
/// content line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IcsError {
    pub line: usize,
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, IcsError> {
    Err(IcsError {
        line,
        message: message.into(),
    })
}

/// One unfolded content line: `NAME;PARAM=V:VALUE`.
#[derive(Debug, Clone)]
struct Prop {
    line: usize,
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Prop {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// RFC 5545 §3.1: a line beginning with a space or tab continues the previous one (the one
/// whitespace character is removed). Returns each logical line with its first physical line.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.1.push_str(rest);
            continue;
        }
        if raw.trim().is_empty() {
            continue;
        }
        out.push((i + 1, raw.to_string()));
    }
    out
}

fn parse_prop(line: usize, text: &str) -> Result<Prop, IcsError> {
    // The value starts at the first colon outside a quoted parameter value.
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(colon) = colon else {
        return err(line, format!("not a content line (no `:`): `{text}`"));
    };
    let (head, value) = (&text[..colon], &text[colon + 1..]);
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut q = false;
    for c in head.chars() {
        match c {
            '"' => q = !q,
            ';' if !q => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    let mut it = parts.into_iter();
    let name = it.next().unwrap_or_default().trim().to_ascii_uppercase();
    if name.is_empty() {
        return err(line, "a content line without a property name");
    }
    let mut params = Vec::new();
    for p in it {
        let Some((n, v)) = p.split_once('=') else {
            return err(line, format!("parameter `{p}` of {name} has no `=`"));
        };
        params.push((n.trim().to_ascii_uppercase(), v.to_string()));
    }
    Ok(Prop {
        line,
        name,
        params,
        value: value.to_string(),
    })
}

/// TEXT values (§3.3.11): `\n`, `\,`, `\;`, `\\`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A DATE or DATE-TIME value with what it is relative to.
#[derive(Debug, Clone, PartialEq)]
enum IcsTime {
    Date(NaiveDate),
    Utc(NaiveDateTime),
    /// Local to a TZID, or floating (`None`).
    Local(NaiveDateTime, Option<String>),
}

fn parse_date(line: usize, s: &str) -> Result<NaiveDate, IcsError> {
    NaiveDate::parse_from_str(s, "%Y%m%d")
        .or_else(|_| err(line, format!("`{s}` is not a DATE (YYYYMMDD)")))
}

fn parse_time_value(
    line: usize,
    s: &str,
    date: bool,
    tzid: Option<&str>,
) -> Result<IcsTime, IcsError> {
    let s = s.trim();
    if date {
        return Ok(IcsTime::Date(parse_date(line, s)?));
    }
    let (body, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(b) => (b, true),
        None => (s, false),
    };
    let Ok(l) = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S") else {
        return err(
            line,
            format!("`{s}` is not a DATE-TIME (YYYYMMDDTHHMMSS[Z])"),
        );
    };
    if utc {
        return Ok(IcsTime::Utc(l));
    }
    match tzid {
        Some(tz) => {
            if mock_ews::parse_zone(tz).is_none() {
                return err(
                    line,
                    format!("unknown TZID `{tz}` (neither an IANA nor a Windows zone id)"),
                );
            }
            Ok(IcsTime::Local(l, Some(tz.to_string())))
        }
        None => Ok(IcsTime::Local(l, None)),
    }
}

fn prop_times(p: &Prop) -> Result<Vec<IcsTime>, IcsError> {
    let date = match p.param("VALUE") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("DATE") => true,
        Some(v) if v.eq_ignore_ascii_case("DATE-TIME") => false,
        Some(v) => {
            return err(
                p.line,
                format!("{} with VALUE={v} is not supported", p.name),
            );
        }
    };
    let tzid = p.param("TZID");
    p.value
        .split(',')
        .map(|v| parse_time_value(p.line, v, date, tzid))
        .collect()
}

fn prop_time(p: &Prop) -> Result<IcsTime, IcsError> {
    let mut v = prop_times(p)?;
    if v.len() != 1 {
        return err(p.line, format!("{} must hold one value", p.name));
    }
    Ok(v.remove(0))
}

/// The `When` of a time within an item whose zone is `zone` (its DTSTART's TZID): local
/// times in that zone stay wall times, times in another zone become instants.
fn when_in(t: &IcsTime, zone: Option<&str>) -> When {
    match t {
        IcsTime::Date(d) => When::Date(*d),
        IcsTime::Utc(l) => When::Instant(l.and_utc()),
        IcsTime::Local(l, None) => When::Local(*l),
        IcsTime::Local(l, Some(tz)) if Some(tz.as_str()) == zone => When::Local(*l),
        IcsTime::Local(l, Some(tz)) => mock_ews::parse_zone(tz)
            .and_then(|z| calendar_core::local_to_utc(z, *l))
            .map_or(When::Local(*l), When::Instant),
    }
}

/// DURATION (§3.3.6): `P15DT5H0M20S`, `PT1H30M`, `P1W`; negative durations are refused.
fn parse_duration(line: usize, s: &str) -> Result<Duration, IcsError> {
    let bad = || IcsError {
        line,
        message: format!("`{s}` is not a positive DURATION (e.g. PT1H30M, P1D)"),
    };
    let t = s.trim().strip_prefix('+').unwrap_or(s.trim());
    let t = t.strip_prefix('P').ok_or_else(bad)?;
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in t.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' if num.is_empty() => in_time = true,
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = num.parse().map_err(|_| bad())?;
                num.clear();
                any = true;
                total += match (c, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return Err(bad()),
                };
            }
            _ => return Err(bad()),
        }
    }
    if !any || !num.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

fn weekday(line: usize, s: &str) -> Result<Weekday, IcsError> {
    Ok(match s {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return err(line, format!("`{s}` is not a weekday (MO..SU)")),
    })
}

fn index_of(line: usize, n: i32) -> Result<DayOfWeekIndex, IcsError> {
    Ok(match n {
        1 => DayOfWeekIndex::First,
        2 => DayOfWeekIndex::Second,
        3 => DayOfWeekIndex::Third,
        4 => DayOfWeekIndex::Fourth,
        -1 => DayOfWeekIndex::Last,
        _ => {
            return err(
                line,
                format!("ordinal {n} is not supported (1..4 or -1 only, as in Exchange)"),
            );
        }
    })
}

/// BYDAY of a MONTHLY/YEARLY rule with BYSETPOS or an ordinal, as an Exchange relative day.
fn relative(
    line: usize,
    byday: &str,
    setpos: Option<i32>,
) -> Result<(DayOfWeekIndex, RelativeDay), IcsError> {
    let days: Vec<&str> = byday.split(',').collect();
    if days.len() == 1 && setpos.is_none() {
        let d = days[0];
        let split = d.len().saturating_sub(2);
        let (ord, day) = d.split_at(split);
        let ord: i32 = ord.trim_start_matches('+').parse().or_else(|_| {
            err(
                line,
                format!("BYDAY `{d}` needs an ordinal (e.g. 2TU) or BYSETPOS"),
            )
        })?;
        return Ok((index_of(line, ord)?, RelativeDay::On(weekday(line, day)?)));
    }
    let Some(pos) = setpos else {
        return err(
            line,
            format!("BYDAY `{byday}` with several days needs BYSETPOS"),
        );
    };
    let mut set: Vec<Weekday> = days
        .iter()
        .map(|d| weekday(line, d))
        .collect::<Result<_, _>>()?;
    set.sort_by_key(|d| d.num_days_from_monday());
    set.dedup();
    let day = match set.len() {
        1 => RelativeDay::On(set[0]),
        7 => RelativeDay::Day,
        5 if set.iter().all(|d| d.num_days_from_monday() < 5) => RelativeDay::Weekday,
        2 if set == [Weekday::Sat, Weekday::Sun] => RelativeDay::WeekendDay,
        _ => {
            return err(
                line,
                format!(
                    "BYDAY `{byday}` with BYSETPOS is not an Exchange day set (one day, all days, MO-FR, SA+SU)"
                ),
            );
        }
    };
    Ok((index_of(line, pos)?, day))
}

/// RRULE (§3.3.10) into the world's recurrence; `start` is the local start date and
/// `zone` the item's zone (for a UTC UNTIL).
fn parse_rrule(p: &Prop, start: NaiveDate, zone: Option<&str>) -> Result<RecurrenceSpec, IcsError> {
    let line = p.line;
    let mut parts = BTreeMap::new();
    for kv in p.value.split(';').filter(|s| !s.is_empty()) {
        let Some((k, v)) = kv.split_once('=') else {
            return err(line, format!("RRULE part `{kv}` has no `=`"));
        };
        parts.insert(k.trim().to_ascii_uppercase(), v.trim().to_ascii_uppercase());
    }
    let mut r = RecurrenceSpec::default();
    let num = |k: &str| -> Result<Option<i32>, IcsError> {
        parts
            .get(k)
            .map(|v| {
                v.parse::<i32>()
                    .or_else(|_| err(line, format!("RRULE {k}={v} is not a number")))
            })
            .transpose()
    };
    for k in parts.keys() {
        if !matches!(
            k.as_str(),
            "FREQ"
                | "INTERVAL"
                | "COUNT"
                | "UNTIL"
                | "BYDAY"
                | "BYMONTHDAY"
                | "BYMONTH"
                | "BYSETPOS"
                | "WKST"
        ) {
            return err(
                line,
                format!("RRULE part {k} is not supported by the world format"),
            );
        }
    }
    if let Some(i) = num("INTERVAL")? {
        if i < 1 {
            return err(line, "RRULE INTERVAL must be at least 1");
        }
        r.every = Some(i as u32);
    }
    if let Some(c) = num("COUNT")? {
        if c < 1 {
            return err(line, "RRULE COUNT must be at least 1");
        }
        r.count = Some(c as u32);
    }
    if let Some(u) = parts.get("UNTIL") {
        if r.count.is_some() {
            return err(line, "RRULE has both COUNT and UNTIL");
        }
        let date = u.len() == 8;
        let t = parse_time_value(line, u, date, None)?;
        r.until = Some(match t {
            IcsTime::Date(d) => d,
            IcsTime::Local(l, _) => l.date(),
            IcsTime::Utc(l) => {
                let tz = zone
                    .and_then(mock_ews::parse_zone)
                    .unwrap_or(chrono_tz::Tz::UTC);
                l.and_utc().with_timezone(&tz).date_naive()
            }
        });
    }
    if let Some(w) = parts.get("WKST") {
        r.first_day_of_week = Some(weekday(line, w)?);
    }
    let byday = parts.get("BYDAY");
    let setpos = num("BYSETPOS")?;
    let monthday = num("BYMONTHDAY")?;
    let month = num("BYMONTH")?;
    let freq = parts.get("FREQ").map(String::as_str);
    let no = |k: &str, present: bool| -> Result<(), IcsError> {
        if present {
            err(
                line,
                format!(
                    "RRULE {k} is not supported with FREQ={}",
                    freq.unwrap_or("")
                ),
            )
        } else {
            Ok(())
        }
    };
    match freq {
        Some("DAILY") => {
            no("BYDAY", byday.is_some())?;
            no("BYMONTHDAY", monthday.is_some())?;
            no("BYMONTH", month.is_some())?;
            no("BYSETPOS", setpos.is_some())?;
            r.daily = Some(true);
        }
        Some("WEEKLY") => {
            no("BYMONTHDAY", monthday.is_some())?;
            no("BYMONTH", month.is_some())?;
            no("BYSETPOS", setpos.is_some())?;
            let days = match byday {
                None => vec![start.weekday()],
                Some(b) => b
                    .split(',')
                    .map(|d| weekday(line, d))
                    .collect::<Result<_, _>>()?,
            };
            r.weekly = Some(days);
        }
        Some("MONTHLY") => {
            no("BYMONTH", month.is_some())?;
            r.monthly = Some(match (byday, monthday) {
                (Some(_), Some(_)) => return err(line, "RRULE has both BYDAY and BYMONTHDAY"),
                (Some(b), None) => {
                    let (index, day) = relative(line, b, setpos)?;
                    MonthlySpec::Relative { index, day }
                }
                (None, d) => {
                    no("BYSETPOS", setpos.is_some())?;
                    MonthlySpec::Day(month_day(line, d.unwrap_or(start.day() as i32))?)
                }
            });
        }
        Some("YEARLY") => {
            let m = month.unwrap_or(start.month() as i32);
            if !(1..=12).contains(&m) {
                return err(line, format!("RRULE BYMONTH={m} is not a month"));
            }
            let m = m as u32;
            r.yearly = Some(match (byday, monthday) {
                (Some(_), Some(_)) => return err(line, "RRULE has both BYDAY and BYMONTHDAY"),
                (Some(b), None) => {
                    let (index, day) = relative(line, b, setpos)?;
                    YearlySpec::Relative {
                        month: m,
                        index,
                        day,
                    }
                }
                (None, d) => {
                    no("BYSETPOS", setpos.is_some())?;
                    YearlySpec::Absolute {
                        month: m,
                        day: month_day(line, d.unwrap_or(start.day() as i32))?,
                    }
                }
            });
        }
        Some(f) => {
            return err(
                line,
                format!("RRULE FREQ={f} is not supported (DAILY, WEEKLY, MONTHLY, YEARLY)"),
            );
        }
        None => return err(line, "RRULE without FREQ"),
    }
    Ok(r)
}

/// BYMONTHDAY: 1..31, or -1 (the last day: the world's day 31 clamps to the month end).
fn month_day(line: usize, d: i32) -> Result<u32, IcsError> {
    match d {
        1..=31 => Ok(d as u32),
        -1 => Ok(31),
        _ => err(
            line,
            format!("BYMONTHDAY={d} is not supported (1..31 or -1)"),
        ),
    }
}

/// One VEVENT as read, before overrides are attached to their series.
struct Event {
    line: usize,
    uid: Option<String>,
    recurrence_id: Option<(usize, IcsTime)>,
    cancelled: bool,
    item: ItemSpec,
}

fn event(props: &[Prop], begin: usize) -> Result<Event, IcsError> {
    let find = |n: &str| props.iter().find(|p| p.name == n);
    let Some(dtstart) = find("DTSTART") else {
        return err(begin, "VEVENT without DTSTART");
    };
    let start = prop_time(dtstart)?;
    let zone = match &start {
        IcsTime::Local(_, tz) => tz.clone(),
        _ => None,
    };
    let start_date = match &start {
        IcsTime::Date(d) => *d,
        IcsTime::Utc(l) | IcsTime::Local(l, _) => l.date(),
    };
    let all_day = matches!(start, IcsTime::Date(_));
    let item = ItemSpec {
        subject: String::new(),
        start: when_in(&start, zone.as_deref()),
        end: None,
        duration: None,
        zone: zone.clone(),
        all_day: all_day.then_some(true),
        status: None,
        sensitivity: None,
        cancelled: None,
        organizer: None,
        attendees: None,
        location: None,
        body: None,
        uid: None,
        recurrence: None,
        modified: Vec::new(),
        deleted: Vec::new(),
    };
    let mut ev = Event {
        line: begin,
        uid: None,
        recurrence_id: None,
        cancelled: false,
        item,
    };
    let (mut transp_free, mut tentative, mut cdo) = (false, false, None);
    let mut seen = std::collections::HashSet::new();
    for p in props {
        if !matches!(
            p.name.as_str(),
            "EXDATE"
                | "ATTENDEE"
                | "COMMENT"
                | "CATEGORIES"
                | "ATTACH"
                | "CONTACT"
                | "RELATED-TO"
                | "RESOURCES"
                | "REQUEST-STATUS"
        ) && !p.name.starts_with("X-")
            && !seen.insert(p.name.clone())
        {
            return err(p.line, format!("{} appears twice in one VEVENT", p.name));
        }
        let text = || unescape(&p.value);
        match p.name.as_str() {
            "DTSTART" => {}
            "DTEND" => {
                let end = prop_time(p)?;
                if all_day != matches!(end, IcsTime::Date(_)) {
                    return err(
                        p.line,
                        "DTEND must have the same value type (DATE or DATE-TIME) as DTSTART",
                    );
                }
                ev.item.end = Some(when_in(&end, zone.as_deref()));
            }
            "DURATION" => ev.item.duration = Some(Span(parse_duration(p.line, &p.value)?)),
            "SUMMARY" => ev.item.subject = text(),
            "LOCATION" => ev.item.location = Some(text()).filter(|s| !s.is_empty()),
            "DESCRIPTION" => ev.item.body = Some(text()).filter(|s| !s.is_empty()),
            "UID" => {
                ev.uid = Some(p.value.trim().to_string());
                ev.item.uid = ev.uid.clone();
            }
            "ORGANIZER" => ev.item.organizer = Some(mailto(&p.value)),
            "ATTENDEE" => ev
                .item
                .attendees
                .get_or_insert_with(Vec::new)
                .push(mailto(&p.value)),
            "TRANSP" => match p.value.trim().to_ascii_uppercase().as_str() {
                "TRANSPARENT" => transp_free = true,
                "OPAQUE" => {}
                v => return err(p.line, format!("TRANSP:{v} is not OPAQUE or TRANSPARENT")),
            },
            "CLASS" => {
                ev.item.sensitivity = match p.value.trim().to_ascii_uppercase().as_str() {
                    "PUBLIC" => None,
                    "PRIVATE" => Some(Sensitivity::Private),
                    "CONFIDENTIAL" => Some(Sensitivity::Confidential),
                    v => {
                        return err(
                            p.line,
                            format!("CLASS:{v} is not supported (PUBLIC, PRIVATE, CONFIDENTIAL)"),
                        );
                    }
                }
            }
            "STATUS" => match p.value.trim().to_ascii_uppercase().as_str() {
                "CANCELLED" => ev.cancelled = true,
                "TENTATIVE" => tentative = true,
                "CONFIRMED" => {}
                v => return err(p.line, format!("STATUS:{v} is not supported for VEVENT")),
            },
            "X-MICROSOFT-CDO-BUSYSTATUS" => {
                cdo = Some(match p.value.trim().to_ascii_uppercase().as_str() {
                    "FREE" => FreeBusyStatus::Free,
                    "TENTATIVE" => FreeBusyStatus::Tentative,
                    "BUSY" => FreeBusyStatus::Busy,
                    "OOF" => FreeBusyStatus::Oof,
                    "WORKINGELSEWHERE" => FreeBusyStatus::WorkingElsewhere,
                    v => {
                        return err(
                            p.line,
                            format!(
                                "X-MICROSOFT-CDO-BUSYSTATUS:{v} is not FREE, TENTATIVE, BUSY, OOF or WORKINGELSEWHERE"
                            ),
                        );
                    }
                })
            }
            "RRULE" => ev.item.recurrence = Some(parse_rrule(p, start_date, zone.as_deref())?),
            "EXDATE" => {
                for t in prop_times(p)? {
                    ev.item.deleted.push(when_in(&t, zone.as_deref()));
                }
            }
            "RECURRENCE-ID" => {
                if p.param("RANGE").is_some() {
                    return err(
                        p.line,
                        "RECURRENCE-ID with RANGE (this and future) is not supported",
                    );
                }
                ev.recurrence_id = Some((p.line, prop_time(p)?));
            }
            "RDATE" | "EXRULE" => {
                return err(
                    p.line,
                    format!("{} is not supported by the world format", p.name),
                );
            }
            _ => {}
        }
    }
    if ev.item.end.is_some() && ev.item.duration.is_some() {
        return err(begin, "VEVENT has both DTEND and DURATION");
    }
    if ev.item.end.is_none() && ev.item.duration.is_none() && !all_day {
        // §3.6.1: a DATE-TIME DTSTART without end or duration is an instant.
        ev.item.duration = Some(Span(Duration::zero()));
    }
    ev.item.status = match cdo {
        Some(s) => Some(s),
        None if transp_free => Some(FreeBusyStatus::Free),
        None if tentative => Some(FreeBusyStatus::Tentative),
        None => None,
    };
    if ev.cancelled {
        ev.item.cancelled = Some(true);
    }
    Ok(ev)
}

fn mailto(v: &str) -> String {
    let v = v.trim();
    match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => v[7..].to_string(),
        _ => v.to_string(),
    }
}

/// Reads an iCalendar text into world calendar items: one per VEVENT, with RECURRENCE-ID
/// overrides attached to their series as modified occurrences (cancelled overrides as
/// deleted ones).
pub fn read_events(text: &str) -> Result<Vec<ItemSpec>, IcsError> {
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut props: Vec<Prop> = Vec::new();
    let mut events = Vec::new();
    let mut saw_calendar = false;
    for (line, raw) in unfold(text) {
        let p = parse_prop(line, &raw)?;
        let comp = p.value.trim().to_ascii_uppercase();
        let skipping = stack.iter().any(|(c, _)| c == "VTIMEZONE" || c == "VALARM");
        match p.name.as_str() {
            "BEGIN" => {
                match (stack.last().map(|(c, _)| c.as_str()), comp.as_str()) {
                    (None, "VCALENDAR") => saw_calendar = true,
                    (Some("VCALENDAR"), "VEVENT") => props.clear(),
                    (Some("VCALENDAR"), "VTIMEZONE") | (Some("VEVENT"), "VALARM") => {}
                    _ if skipping => {}
                    (_, c) => {
                        return err(
                            line,
                            format!(
                                "component {c} is not supported here (only VEVENT and VTIMEZONE in VCALENDAR)"
                            ),
                        );
                    }
                }
                stack.push((comp, line));
            }
            "END" => {
                let Some((open, begin)) = stack.pop() else {
                    return err(line, format!("END:{comp} without BEGIN"));
                };
                if open != comp {
                    return err(
                        line,
                        format!("END:{comp} closes BEGIN:{open} of line {begin}"),
                    );
                }
                if open == "VEVENT" {
                    events.push(event(&props, begin)?);
                }
            }
            _ if skipping => {}
            _ if stack.last().is_some_and(|(c, _)| c == "VEVENT") => props.push(p),
            _ if stack.len() == 1 => {}
            _ => return err(line, format!("{} outside a component", p.name)),
        }
    }
    if let Some((open, begin)) = stack.pop() {
        return err(begin, format!("BEGIN:{open} is never closed"));
    }
    if !saw_calendar {
        return err(1, "no BEGIN:VCALENDAR: not an iCalendar file");
    }
    attach_overrides(events)
}

fn attach_overrides(events: Vec<Event>) -> Result<Vec<ItemSpec>, IcsError> {
    let mut masters: Vec<Event> = Vec::new();
    let mut overrides = Vec::new();
    for e in events {
        if e.recurrence_id.is_some() {
            overrides.push(e)
        } else {
            masters.push(e)
        }
    }
    for o in overrides {
        let Some((rid_line, rid)) = o.recurrence_id.clone() else {
            continue;
        };
        let Some(m) = masters
            .iter_mut()
            .find(|m| m.uid.is_some() && m.uid == o.uid && m.item.recurrence.is_some())
        else {
            return err(
                rid_line,
                format!(
                    "RECURRENCE-ID for UID {} without a recurring VEVENT of that UID",
                    o.uid.as_deref().unwrap_or("(none)")
                ),
            );
        };
        let zone = m.item.zone.clone();
        let original = when_in(&rid, zone.as_deref());
        if o.cancelled {
            m.item.deleted.push(original);
            continue;
        }
        if o.item.sensitivity != m.item.sensitivity {
            return err(
                o.line,
                "an occurrence with its own CLASS is not supported by the world format",
            );
        }
        let to_series = |w: When| match w {
            When::Local(l) => when_in(&IcsTime::Local(l, o.item.zone.clone()), zone.as_deref()),
            other => other,
        };
        m.item.modified.push(ModifiedSpec {
            original,
            start: Some(to_series(o.item.start)),
            end: o.item.end.map(to_series),
            duration: o.item.duration,
            subject: Some(o.item.subject.clone()).filter(|s| *s != m.item.subject),
            location: o
                .item
                .location
                .clone()
                .filter(|l| Some(l) != m.item.location.as_ref()),
            status: o.item.status.filter(|s| Some(*s) != m.item.status),
        });
    }
    Ok(masters.into_iter().map(|m| m.item).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(body: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n")
    }

    fn one(body: &str) -> ItemSpec {
        let items = read_events(&cal(body)).unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        items.into_iter().next().unwrap()
    }

    fn error(body: &str) -> IcsError {
        read_events(&cal(body)).unwrap_err()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn local(y: i32, m: u32, day: u32, h: u32, min: u32) -> When {
        When::Local(d(y, m, day).and_hms_opt(h, min, 0).unwrap())
    }

    #[test]
    fn folded_lines_are_unfolded_and_keep_their_first_line() {
        let lines = unfold("A:1\r\nB:x\r\n y\r\n\tz\r\nC:3");
        assert_eq!(
            lines,
            vec![(1, "A:1".into()), (2, "B:xyz".into()), (5, "C:3".into())]
        );
    }

    #[test]
    fn quoted_parameters_may_hold_colons_and_semicolons() {
        let p = parse_prop(7, r#"DTSTART;TZID="Zone: a;b";X=1:20260323T090000"#).unwrap();
        assert_eq!(p.param("tzid"), Some("Zone: a;b"));
        assert_eq!(p.param("X"), Some("1"));
        assert_eq!(p.value, "20260323T090000");
    }

    #[test]
    fn windows_tzid_keeps_wall_time_and_zone() {
        let i = one(
            "BEGIN:VEVENT\r\nDTSTART;TZID=\"W. Europe Standard Time\":20260323T090000\r\nDTEND;TZID=\"W. Europe Standard Time\":20260323T093000\r\nSUMMARY:A\\, b\\; c\\nd\r\nEND:VEVENT\r\n",
        );
        assert_eq!(i.start, local(2026, 3, 23, 9, 0));
        assert_eq!(i.end, Some(local(2026, 3, 23, 9, 30)));
        assert_eq!(i.zone.as_deref(), Some("W. Europe Standard Time"));
        assert_eq!(i.subject, "A, b; c\nd");
        assert_eq!(i.status, None);
    }

    #[test]
    fn utc_floating_and_other_zone_end() {
        let i =
            one("BEGIN:VEVENT\r\nDTSTART:20260323T080000Z\r\nDURATION:PT1H30M\r\nEND:VEVENT\r\n");
        assert_eq!(
            i.start,
            When::Instant(d(2026, 3, 23).and_hms_opt(8, 0, 0).unwrap().and_utc())
        );
        assert_eq!(i.duration, Some(Span(Duration::minutes(90))));
        assert_eq!(i.zone, None);
        let f = one(
            "BEGIN:VEVENT\r\nDTSTART:20260323T080000\r\nDTEND;TZID=America/New_York:20260323T040000\r\nEND:VEVENT\r\n",
        );
        assert_eq!(f.start, local(2026, 3, 23, 8, 0));
        // 04:00 EDT is 08:00 UTC.
        assert_eq!(
            f.end,
            Some(When::Instant(
                d(2026, 3, 23).and_hms_opt(8, 0, 0).unwrap().and_utc()
            ))
        );
    }

    #[test]
    fn all_day_end_is_exclusive() {
        let i = one(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260324\r\nDTEND;VALUE=DATE:20260326\r\nEND:VEVENT\r\n",
        );
        assert_eq!(i.start, When::Date(d(2026, 3, 24)));
        assert_eq!(i.end, Some(When::Date(d(2026, 3, 26))));
        assert_eq!(i.all_day, Some(true));
        let e = error(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260324\r\nDTEND:20260325T000000\r\nEND:VEVENT\r\n",
        );
        assert_eq!(e.line, 5, "{e}");
    }

    #[test]
    fn show_as_busy_status_wins_over_transp_and_status() {
        let ev = |extra: &str| {
            one(&format!(
                "BEGIN:VEVENT\r\nDTSTART:20260323T080000Z\r\n{extra}END:VEVENT\r\n"
            ))
        };
        assert_eq!(
            ev("TRANSP:TRANSPARENT\r\n").status,
            Some(FreeBusyStatus::Free)
        );
        assert_eq!(
            ev("STATUS:TENTATIVE\r\n").status,
            Some(FreeBusyStatus::Tentative)
        );
        let both = ev("TRANSP:TRANSPARENT\r\nX-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE\r\n");
        assert_eq!(both.status, Some(FreeBusyStatus::WorkingElsewhere));
        assert_eq!(
            ev("X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n").status,
            Some(FreeBusyStatus::Oof)
        );
        let c = ev("STATUS:CANCELLED\r\nCLASS:PRIVATE\r\n");
        assert_eq!(c.cancelled, Some(true));
        assert_eq!(c.sensitivity, Some(Sensitivity::Private));
        assert_eq!(
            ev("CLASS:CONFIDENTIAL\r\n").sensitivity,
            Some(Sensitivity::Confidential)
        );
        assert_eq!(error("BEGIN:VEVENT\r\nDTSTART:20260323T080000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:MAYBE\r\nEND:VEVENT\r\n").line, 5);
    }

    fn rule(r: &str) -> Result<RecurrenceSpec, IcsError> {
        let p = parse_prop(9, &format!("RRULE:{r}")).unwrap();
        parse_rrule(&p, d(2026, 3, 16), Some("Europe/Berlin"))
    }

    #[test]
    fn rrules_map_to_world_patterns() {
        let w = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=10;WKST=SU").unwrap();
        assert_eq!(w.weekly, Some(vec![Weekday::Mon, Weekday::Wed]));
        assert_eq!(
            (w.every, w.count, w.first_day_of_week),
            (Some(2), Some(10), Some(Weekday::Sun))
        );
        assert_eq!(
            rule("FREQ=WEEKLY").unwrap().weekly,
            Some(vec![Weekday::Mon])
        );
        // UNTIL in UTC is read as a date in the item's zone: 23:30Z is the next day in Berlin.
        assert_eq!(
            rule("FREQ=DAILY;UNTIL=20260330T233000Z").unwrap().until,
            Some(d(2026, 3, 31))
        );
        assert_eq!(
            rule("FREQ=MONTHLY;BYMONTHDAY=-1").unwrap().monthly,
            Some(MonthlySpec::Day(31))
        );
        assert_eq!(
            rule("FREQ=MONTHLY").unwrap().monthly,
            Some(MonthlySpec::Day(16))
        );
        assert_eq!(
            rule("FREQ=MONTHLY;BYDAY=2TU").unwrap().monthly,
            Some(MonthlySpec::Relative {
                index: DayOfWeekIndex::Second,
                day: RelativeDay::On(Weekday::Tue)
            })
        );
        assert_eq!(
            rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")
                .unwrap()
                .monthly,
            Some(MonthlySpec::Relative {
                index: DayOfWeekIndex::Last,
                day: RelativeDay::Weekday
            })
        );
        assert_eq!(
            rule("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH").unwrap().yearly,
            Some(YearlySpec::Relative {
                month: 11,
                index: DayOfWeekIndex::Fourth,
                day: RelativeDay::On(Weekday::Thu)
            })
        );
        assert_eq!(
            rule("FREQ=YEARLY").unwrap().yearly,
            Some(YearlySpec::Absolute { month: 3, day: 16 })
        );
    }

    #[test]
    fn unsupported_rrules_are_errors_with_the_line() {
        for r in [
            "FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=9",
            "FREQ=MONTHLY;BYDAY=5FR",
            "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1",
            "FREQ=DAILY;BYDAY=MO",
            "FREQ=DAILY;COUNT=2;UNTIL=20260401",
            "FREQ=MONTHLY;BYMONTHDAY=-2",
        ] {
            let e = rule(r).unwrap_err();
            assert_eq!(e.line, 9, "{r}: {e}");
        }
    }

    #[test]
    fn exdate_and_recurrence_id_become_deleted_and_modified() {
        let body = "BEGIN:VEVENT\r\nUID:s1\r\nSUMMARY:Standup\r\n\
            DTSTART;TZID=Europe/Berlin:20260316T093000\r\nDURATION:PT15M\r\n\
            RRULE:FREQ=DAILY;COUNT=20\r\nEXDATE;TZID=Europe/Berlin:20260317T093000,20260318T093000\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:s1\r\nSUMMARY:Standup (late)\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260319T093000\r\n\
            DTSTART;TZID=Europe/Berlin:20260319T110000\r\nDTEND;TZID=Europe/Berlin:20260319T111500\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:s1\r\nSTATUS:CANCELLED\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260320T093000\r\n\
            DTSTART;TZID=Europe/Berlin:20260320T093000\r\nEND:VEVENT\r\n";
        let i = one(body);
        assert_eq!(
            i.deleted,
            vec![
                local(2026, 3, 17, 9, 30),
                local(2026, 3, 18, 9, 30),
                local(2026, 3, 20, 9, 30)
            ]
        );
        assert_eq!(i.modified.len(), 1);
        let m = &i.modified[0];
        assert_eq!(m.original, local(2026, 3, 19, 9, 30));
        assert_eq!(m.start, Some(local(2026, 3, 19, 11, 0)));
        assert_eq!(m.end, Some(local(2026, 3, 19, 11, 15)));
        assert_eq!(m.subject.as_deref(), Some("Standup (late)"));
    }

    #[test]
    fn orphan_override_and_unsupported_constructs_name_their_line() {
        let orphan = "BEGIN:VEVENT\r\nUID:x\r\nRECURRENCE-ID:20260319T093000Z\r\nDTSTART:20260319T110000Z\r\nEND:VEVENT\r\n";
        assert_eq!(error(orphan).line, 5);
        assert_eq!(error("BEGIN:VTODO\r\nEND:VTODO\r\n").line, 3);
        assert_eq!(error("BEGIN:VEVENT\r\nDTSTART:20260319T110000Z\r\nRDATE:20260320T110000Z\r\nEND:VEVENT\r\n").line, 5);
        assert_eq!(
            error("BEGIN:VEVENT\r\nDTSTART;TZID=Mars/Olympus:20260319T110000\r\nEND:VEVENT\r\n")
                .line,
            4
        );
        assert_eq!(error("BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n").line, 3);
        assert_eq!(
            error("BEGIN:VEVENT\r\nDTSTART:20260319T110000Z\r\n").line,
            5,
            "END:VCALENDAR closes the open VEVENT"
        );
        assert!(read_events("hello").is_err());
    }

    #[test]
    fn vtimezone_and_valarm_are_skipped() {
        let body = "BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
            BEGIN:VEVENT\r\nDTSTART:20260319T110000Z\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nDESCRIPTION:Body\r\nEND:VEVENT\r\n";
        assert_eq!(one(body).body.as_deref(), Some("Body"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration(1, "P1W").unwrap(), Duration::weeks(1));
        assert_eq!(
            parse_duration(1, "P1DT2H3M4S").unwrap(),
            Duration::seconds(93_784)
        );
        assert!(parse_duration(1, "-PT1H").is_err());
        assert!(parse_duration(1, "PT").is_err());
        assert!(parse_duration(1, "P1H").is_err());
    }
}
