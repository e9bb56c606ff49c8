//! Conversions: IANA zone -> definition / legacy block, and back; offsets and local times.

use std::ops::RangeInclusive;

use chrono::TimeZone;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::{OffsetComponents, Tz};

use super::rules::{
    self, DayRule, MATCH_YEARS, Pattern, YearData, from_unix, probe_year, tz_offset,
    windows_zone_years,
};
use super::{
    AbsoluteDateTransition, LegacyTimeZone, MeetingTimeChange, MeetingTimeChangeDate,
    MeetingTimeZone, Period, RecurringDateTransition, RecurringDayTransition, TimeChange,
    TimeZoneDefinition, TimeZoneError, Transition, TransitionTarget, TransitionsGroup, XsDuration,
    iana_to_windows, windows_to_iana, windows_zone, windows_zones,
};

/// The years [`server_time_zones`] describes: enough history for the items a mailbox holds,
/// and the current rules from 2037 on (the last group applies for ever).
pub const SERVER_YEARS: RangeInclusive<i32> = 2000..=2037;

/// Offsets are seconds east of UTC (local - UTC), biases minutes west (UTC - local).
const MAX_OFFSET: i64 = 24 * 3600 - 1;

/// The definitions GetServerTimeZones returns: every Windows zone in CLDR (in CLDR order),
/// or the requested ids in request order. An unknown id is an error naming it, which the
/// server turns into its EWS error response.
pub fn server_time_zones(ids: Option<&[String]>) -> Result<Vec<TimeZoneDefinition>, TimeZoneError> {
    match ids {
        None => Ok(windows_zones()
            .iter()
            .map(|zone| TimeZoneDefinition::for_iana(zone.default_iana, SERVER_YEARS))
            .collect()),
        Some(ids) => ids
            .iter()
            .map(|id| {
                let zone = windows_zone(id)
                    .ok_or_else(|| TimeZoneError::UnknownWindowsZone(id.clone()))?;
                Ok(TimeZoneDefinition::for_iana(
                    zone.default_iana,
                    SERVER_YEARS,
                ))
            })
            .collect(),
    }
}

impl TimeZoneDefinition {
    /// Describes an IANA zone the way Exchange does: one `TransitionsGroup` per run of
    /// years with the same rules (two `RecurringDayTransition`s for DST, one `Transition`
    /// for a fixed offset), switched by `AbsoluteDateTransition`s on January 1st; a year
    /// that no such rule describes (a one-way change of offset) is written change by change
    /// with `AbsoluteDateTransition`s to periods. The last group applies after `years` too.
    ///
    /// The id is the Windows id ([`iana_to_windows`]), or the IANA name for a zone Windows
    /// does not have; the name is Windows' display name, or the IANA name.
    pub fn for_iana(tz: Tz, years: RangeInclusive<i32>) -> TimeZoneDefinition {
        let windows = iana_to_windows(tz);
        let id = windows.unwrap_or(tz.name()).to_owned();
        let name = windows
            .and_then(windows_zone)
            .map_or(tz.name(), |zone| zone.display_name)
            .to_owned();
        let offset = tz_offset(tz);
        // Only for one-way changes; DST years name their periods by size (see `Pattern`).
        let kind_at = |at: i64| {
            let dst = tz.offset_from_utc_datetime(&from_unix(at)).dst_offset();
            if dst == TimeDelta::zero() {
                Kind::Standard
            } else {
                Kind::Daylight
            }
        };
        let mut builder = Builder::default();
        let mut previous: Option<Pattern> = None;
        for year in years {
            let data = probe_year(&offset, year);
            let pattern = Pattern::of(&data, year);
            let new_year = NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
            let Some(new_year) = new_year else { continue };
            match &pattern {
                Pattern::Irregular => {
                    let start = rules::unix(year, 1, 1);
                    let period = builder.period(kind_at(start), offset(start));
                    builder.switch(TransitionTarget::Period(period), new_year);
                    for change in &data.changes {
                        let period = builder.period(kind_at(change.at), change.after);
                        builder.push(Transition::AbsoluteDate(AbsoluteDateTransition {
                            to: TransitionTarget::Period(period),
                            date_time: change.local_before(),
                            offset: None,
                        }));
                    }
                }
                _ if previous.as_ref() == Some(&pattern) => {}
                _ => {
                    let group = builder.group(&pattern);
                    builder.switch(TransitionTarget::Group(group), new_year);
                }
            }
            previous = Some(pattern);
        }
        if builder.transitions.is_empty() {
            // An empty year range: describe the zone by its offset at the epoch.
            let period = builder.period(Kind::Standard, offset(0));
            builder.push(Transition::Always(TransitionTarget::Period(period)));
        }
        TimeZoneDefinition {
            id,
            name: Some(name),
            periods: builder
                .periods
                .into_iter()
                .map(|(_, _, period)| period)
                .collect(),
            transitions_groups: builder.groups.into_iter().map(|(_, group)| group).collect(),
            transitions: builder.transitions,
        }
    }

    /// The IANA zone this definition describes: the Windows id if CLDR knows it (or an
    /// IANA name, as [`TimeZoneDefinition::for_iana`] writes for zones Windows lacks);
    /// otherwise the Windows zone whose rules match the definition's in the most years of
    /// 1970-2037 (ties: the zone CLDR maps the most IANA zones to, then CLDR order).
    /// `None` for an unknown id without rules, or rules no zone follows.
    pub fn to_iana(&self) -> Option<Tz> {
        if let Some(tz) = windows_to_iana(&self.id) {
            return Some(tz);
        }
        if let Ok(tz) = self.id.parse::<Tz>() {
            return Some(tz);
        }
        let compiled = self.compile().ok()?;
        let offset = |at: i64| compiled.offset_at(at);
        best_match(
            |year| probe_year(&offset, year),
            MATCH_YEARS,
            Prefer::MostYears,
        )
    }

    /// The UTC offset at an instant. A definition with only an id uses the Windows zone
    /// of that id.
    pub fn offset_at(&self, utc: DateTime<Utc>) -> Result<FixedOffset, TimeZoneError> {
        let seconds = self.compile()?.offset_at(utc.timestamp());
        fixed(seconds)
    }

    /// The instant of a local wall time in this zone (for zone-less request values).
    ///
    /// A time skipped by a change (02:30 on a spring-forward day) is read on the clock before
    /// the change, so it lands after it (03:30 daylight time), as Windows does; a repeated
    /// time (01:30 on a fall-back day) is the first of the two.
    pub fn to_utc(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, TimeZoneError> {
        let compiled = self.compile()?;
        Ok(resolve_local(local, |at| compiled.offset_at(at)))
    }

    /// Resolves the definition into offsets and rules, checking every reference.
    fn compile(&self) -> Result<Compiled, TimeZoneError> {
        if !self.has_rules() {
            let tz = windows_to_iana(&self.id)
                .ok_or_else(|| TimeZoneError::UnknownWindowsZone(self.id.clone()))?;
            return Ok(Compiled::Iana(tz));
        }
        let mut eras: Vec<(i64, Target)> = Vec::new();
        for transition in &self.transitions {
            let target = self.target(transition.to())?;
            match transition {
                Transition::Always(_) => {
                    if eras.is_empty() {
                        eras.push((i64::MIN, target));
                    }
                }
                Transition::AbsoluteDate(t) => {
                    let at = match t.offset {
                        Some(offset) => {
                            t.date_time.and_utc().timestamp() - i64::from(offset.local_minus_utc())
                        }
                        None => match eras.last() {
                            // Local wall time on the clock of the era before it.
                            Some((_, before)) => {
                                let local = t.date_time.and_utc().timestamp();
                                let guess = before.offset_at(local);
                                local - i64::from(before.offset_at(local - i64::from(guess)))
                            }
                            None => i64::MIN,
                        },
                    };
                    eras.push((at, target));
                }
                Transition::RecurringDay(_) | Transition::RecurringDate(_) => {
                    return Err(TimeZoneError::InvalidDefinition {
                        id: self.id.clone(),
                        reason: "recurring transitions belong in a TransitionsGroup".into(),
                    });
                }
            }
        }
        if eras.is_empty() {
            // Periods but no Transitions: the first period applies.
            let first = &self.periods[0];
            eras.push((
                i64::MIN,
                Target::Fixed(bias_to_offset(&self.id, first.bias)?),
            ));
        }
        eras.sort_by_key(|(at, _)| *at);
        Ok(Compiled::Eras(eras))
    }

    fn target(&self, to: &TransitionTarget) -> Result<Target, TimeZoneError> {
        match to {
            TransitionTarget::Period(id) => Ok(Target::Fixed(self.period_offset(id)?)),
            TransitionTarget::Group(id) => {
                let group = self
                    .group(id)
                    .ok_or_else(|| TimeZoneError::InvalidDefinition {
                        id: self.id.clone(),
                        reason: format!("no TransitionsGroup with Id `{id}`"),
                    })?;
                let mut rules = Vec::new();
                for transition in &group.transitions {
                    let TransitionTarget::Period(period) = transition.to() else {
                        return Err(TimeZoneError::InvalidDefinition {
                            id: self.id.clone(),
                            reason: format!("group `{id}` points to another group"),
                        });
                    };
                    let to = self.period_offset(period)?;
                    if let Transition::RecurringDay(RecurringDayTransition { time_offset, .. })
                    | Transition::RecurringDate(RecurringDateTransition {
                        time_offset, ..
                    }) = transition
                        && time_offset.seconds().abs() > MAX_OFFSET
                    {
                        return Err(TimeZoneError::InvalidDefinition {
                            id: self.id.clone(),
                            reason: format!(
                                "group `{id}`: TimeOffset {time_offset} is not a time of day"
                            ),
                        });
                    }
                    let when = match transition {
                        Transition::Always(_) => When::Always,
                        Transition::AbsoluteDate(t) => When::Once(t.date_time),
                        Transition::RecurringDay(t) => When::Day(DayRule {
                            month: t.month,
                            occurrence: t.occurrence,
                            weekday: t.day_of_week,
                            time: t.time_offset.seconds(),
                        }),
                        Transition::RecurringDate(t) => When::Date {
                            month: t.month,
                            day: t.day,
                            time: t.time_offset.seconds(),
                        },
                    };
                    rules.push((when, to));
                }
                if rules.is_empty() {
                    return Err(TimeZoneError::InvalidDefinition {
                        id: self.id.clone(),
                        reason: format!("group `{id}` has no transitions"),
                    });
                }
                Ok(Target::Group(rules))
            }
        }
    }

    fn period_offset(&self, id: &str) -> Result<i32, TimeZoneError> {
        let period = self
            .period(id)
            .ok_or_else(|| TimeZoneError::InvalidDefinition {
                id: self.id.clone(),
                reason: format!("no Period with Id `{id}`"),
            })?;
        bias_to_offset(&self.id, period.bias)
    }
}

fn bias_to_offset(id: &str, bias: XsDuration) -> Result<i32, TimeZoneError> {
    let offset = -bias.seconds();
    if offset.abs() > MAX_OFFSET {
        return Err(TimeZoneError::InvalidDefinition {
            id: id.to_owned(),
            reason: format!("bias {bias} is a day or more"),
        });
    }
    i32::try_from(offset).map_err(|_| TimeZoneError::InvalidDefinition {
        id: id.to_owned(),
        reason: format!("bias {bias} is out of range"),
    })
}

fn fixed(seconds: i32) -> Result<FixedOffset, TimeZoneError> {
    FixedOffset::east_opt(seconds).ok_or(TimeZoneError::OffsetOutOfRange(seconds))
}

/// A definition resolved for evaluation.
enum Compiled {
    /// An id-only definition: the IANA zone of its Windows id.
    Iana(Tz),
    /// `(from, target)` sorted by `from` (Unix seconds; `i64::MIN` for the first).
    Eras(Vec<(i64, Target)>),
}

impl Compiled {
    fn offset_at(&self, at: i64) -> i32 {
        match self {
            Compiled::Iana(tz) => tz_offset(*tz)(at),
            Compiled::Eras(eras) => {
                let index = eras.partition_point(|(from, _)| *from <= at);
                let (_, target) = &eras[index.saturating_sub(1)];
                target.offset_at(at)
            }
        }
    }
}

enum Target {
    Fixed(i32),
    /// A group's transitions: when, and the offset after.
    Group(Vec<(When, i32)>),
}

enum When {
    Always,
    Once(NaiveDateTime),
    Day(DayRule),
    Date { month: u32, day: u32, time: i64 },
}

impl Target {
    fn offset_at(&self, at: i64) -> i32 {
        let rules = match self {
            Target::Fixed(offset) => return *offset,
            Target::Group(rules) => rules,
        };
        let year = chrono::Datelike::year(&from_unix(at));
        // Local times of this group's changes around `at`, each with the offset after it.
        let mut changes: Vec<(i64, i32)> = Vec::new();
        for (when, to) in rules {
            match when {
                When::Always => {}
                When::Once(local) => changes.push((local.and_utc().timestamp(), *to)),
                When::Day(rule) => {
                    for y in year - 1..=year + 1 {
                        if let Some(local) = rule.in_year(y) {
                            changes.push((local.and_utc().timestamp(), *to));
                        }
                    }
                }
                When::Date { month, day, time } => {
                    for y in year - 1..=year + 1 {
                        let last = rules::days_in_month(y, *month);
                        let date = NaiveDate::from_ymd_opt(y, *month, (*day).min(last));
                        if let Some(midnight) = date.and_then(|d| d.and_hms_opt(0, 0, 0)) {
                            changes
                                .push((midnight.and_utc().timestamp().saturating_add(*time), *to));
                        }
                    }
                }
            }
        }
        if changes.is_empty() {
            // Only `Transition` entries: the first one's period applies throughout.
            return rules.first().map_or(0, |(_, to)| *to);
        }
        changes.sort_by_key(|(local, _)| *local);
        // Each change happens on the clock of the one before it (cyclically).
        let mut current = changes[changes.len() - 1].1;
        let mut before = current;
        for (local, to) in &changes {
            let instant = local - i64::from(before);
            if instant > at {
                break;
            }
            current = *to;
            before = *to;
        }
        current
    }
}

/// The instant of a local time under an offset function; see [`TimeZoneDefinition::to_utc`].
fn resolve_local(local: NaiveDateTime, offset_at: impl Fn(i64) -> i32) -> DateTime<Utc> {
    let wall = local.and_utc().timestamp();
    let early = offset_at(wall - 86_400);
    let late = offset_at(wall + 86_400);
    let valid = |offset: i32| offset_at(wall - i64::from(offset)) == offset;
    let instant = match (valid(early), valid(late)) {
        // Repeated time: the first instant is the one with the larger offset.
        (true, true) => wall - i64::from(early.max(late)),
        (true, false) => wall - i64::from(early),
        (false, true) => wall - i64::from(late),
        // Skipped time: read on the clock before the change.
        (false, false) => wall - i64::from(early),
    };
    DateTime::from_timestamp(instant, 0).unwrap_or_default()
}

/// Which candidate wins when several Windows zones behave like the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefer {
    /// The zone matching in the most years, then the most populous: for definitions,
    /// which describe many years.
    MostYears,
    /// The most populous zone, then the one matching most recently, then for the longest
    /// unbroken run of years up to then: for legacy blocks, which describe one year (a 2006 US Pacific block also
    /// matches Tijuana, which kept those rules until 2009, but means Los Angeles).
    MostPopulous,
}

/// The Windows zone whose behaviour equals `years_of` in some of `years`, chosen by
/// `prefer`; remaining ties go to CLDR order (AUS Eastern before Tasmania, India before
/// Sri Lanka: same reach, same rules today). "Most populous" is approximated by the number
/// of distinct IANA zones CLDR maps to the Windows zone (W. Europe 17, Eastern 10, Pacific 2,
/// Pacific (Mexico) 1): CLDR carries no population figures.
fn best_match(
    years_of: impl Fn(i32) -> YearData,
    years: RangeInclusive<i32>,
    prefer: Prefer,
) -> Option<Tz> {
    let wanted: Vec<(i32, YearData)> = years.map(|year| (year, years_of(year))).collect();
    let table = windows_zone_years();
    let mut best: Option<((usize, i32, usize), usize)> = None; // (rank, index)
    for (index, (zone, zone_years)) in windows_zones().iter().zip(table).enumerate() {
        let matching: Vec<i32> = wanted
            .iter()
            .filter(|(year, data)| {
                year.checked_sub(*MATCH_YEARS.start())
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| zone_years.get(i))
                    == Some(data)
            })
            .map(|(year, _)| *year)
            .collect();
        let Some(&last) = matching.last() else {
            continue;
        };
        // The unbroken run of matching years that ends with the last one.
        let run = matching
            .iter()
            .rev()
            .zip((0..=last).rev())
            .take_while(|(y, e)| *y == e)
            .count();
        let reach = reach(zone);
        let rank = match prefer {
            Prefer::MostYears => (matching.len(), last, reach),
            Prefer::MostPopulous => (reach, last, run),
        };
        if best.is_none_or(|(best_rank, _)| rank > best_rank) {
            best = Some((rank, index));
        }
    }
    best.map(|(_, index)| windows_zones()[index].default_iana)
}

/// Distinct IANA zones (not counting the Etc/GMT ones) CLDR maps to a Windows zone.
fn reach(zone: &super::WindowsZone) -> usize {
    let mut distinct: Vec<&str> = zone
        .iana
        .iter()
        .filter(|(territory, _)| *territory != "ZZ")
        .map(|(_, tz)| tz.name())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len()
}

impl LegacyTimeZone {
    /// The block describing `tz` in `year`: its standard bias, and its DST changes if it has
    /// daylight time that year (`DayOrder` 5 for a last weekday). A year without a rule a
    /// block can express (a one-way change of offset) is described by the nearest year that
    /// has one, later years first.
    pub fn from_iana(tz: Tz, year: i32) -> LegacyTimeZone {
        let offset = tz_offset(tz);
        let pattern = (0..=10)
            .flat_map(|d| [year.saturating_add(d), year.saturating_sub(d)])
            .map(|y| Pattern::of(&probe_year(&offset, y), y))
            .find(|p| *p != Pattern::Irregular);
        match pattern {
            Some(Pattern::Dst {
                standard,
                daylight,
                to_standard,
                to_daylight,
            }) => LegacyTimeZone {
                bias_minutes: -standard / 60,
                standard: time_change(&to_standard, 0),
                daylight: time_change(&to_daylight, -(daylight - standard) / 60),
            },
            Some(Pattern::Fixed(fixed)) => LegacyTimeZone::fixed(-fixed / 60),
            Some(Pattern::Irregular) | None => {
                LegacyTimeZone::fixed(-offset(rules::unix(year, 7, 1)) / 60)
            }
        }
    }

    /// A block for a zone without daylight time.
    pub fn fixed(bias_minutes: i32) -> LegacyTimeZone {
        LegacyTimeZone {
            bias_minutes,
            standard: TimeChange::none(),
            daylight: TimeChange::none(),
        }
    }

    /// The IANA zone this block describes: among the Windows zones whose rules equal the
    /// block's in some year of 1970-2037 (only in `Year` when the block names one), the
    /// most populous (see below), then the one matching most recently, then for the longest
    /// unbroken run of years up to then, then the first in CLDR order. So the 2006 US Pacific block is `America/Los_Angeles` although
    /// Tijuana kept those rules three years longer, and the EU block is `Europe/Berlin`
    /// (W. Europe) rather than Paris, Budapest or Warsaw. A caller that knows the year the
    /// block is about should use [`LegacyTimeZone::to_iana_in`]. `None` if no zone ever
    /// followed these rules.
    ///
    /// "Most populous" is approximated by the number of distinct IANA zones CLDR maps to the
    /// Windows zone, as CLDR carries no population figures; known miss: a block of Mexico
    /// City's 2002-2022 rules maps to Chicago, which used the same rules until 2006.
    pub fn to_iana(&self) -> Option<Tz> {
        match self.standard.year.or(self.daylight.year) {
            Some(year) => self.to_iana_in(year),
            None => self.best_match(MATCH_YEARS),
        }
    }

    /// The IANA zone this block describes in `year`: the most populous Windows zone (as in
    /// [`LegacyTimeZone::to_iana`]) whose rules in `year` equal the block's.
    pub fn to_iana_in(&self, year: i32) -> Option<Tz> {
        self.best_match(year..=year)
    }

    fn best_match(&self, years: RangeInclusive<i32>) -> Option<Tz> {
        let compiled = self.definition().compile().ok()?;
        let offset = |at: i64| compiled.offset_at(at);
        best_match(
            |year| probe_year(&offset, year),
            years,
            Prefer::MostPopulous,
        )
    }

    /// The UTC offset at an instant under this block's rules (applied to every year).
    pub fn offset_at(&self, utc: DateTime<Utc>) -> Result<FixedOffset, TimeZoneError> {
        fixed(self.definition().compile()?.offset_at(utc.timestamp()))
    }

    /// The instant of a local wall time under this block's rules; skipped and repeated
    /// times as in [`TimeZoneDefinition::to_utc`].
    pub fn to_utc(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, TimeZoneError> {
        let compiled = self.definition().compile()?;
        Ok(resolve_local(local, |at| compiled.offset_at(at)))
    }

    /// The same rules as a one-group definition (ids `std`/`dlt`, group `0`).
    fn definition(&self) -> TimeZoneDefinition {
        let minutes =
            |extra: i32| XsDuration::from_minutes(i64::from(self.bias_minutes) + i64::from(extra));
        let mut periods = vec![Period {
            bias: minutes(self.standard.bias_minutes),
            name: "Standard".into(),
            id: "std".into(),
        }];
        let std = || TransitionTarget::Period("std".into());
        let transitions = if self.has_daylight() {
            periods.push(Period {
                bias: minutes(self.daylight.bias_minutes),
                name: "Daylight".into(),
                id: "dlt".into(),
            });
            vec![
                recurring(&self.standard, std()),
                recurring(&self.daylight, TransitionTarget::Period("dlt".into())),
            ]
        } else {
            vec![Transition::Always(std())]
        };
        TimeZoneDefinition {
            id: String::new(),
            name: None,
            periods,
            transitions_groups: vec![TransitionsGroup {
                id: "0".into(),
                transitions,
            }],
            transitions: vec![Transition::Always(TransitionTarget::Group("0".into()))],
        }
    }
}

impl MeetingTimeZone {
    /// The rules as a definition: `BaseOffset` with `Standard`/`Daylight` changes becomes a
    /// one-group definition (`RecurringDayTransition`s, or `RecurringDateTransition`s for
    /// `AbsoluteDate` changes), `BaseOffset` alone a fixed offset, and a bare
    /// `TimeZoneName` an id-only definition of that Windows zone.
    pub fn to_definition(&self) -> Result<TimeZoneDefinition, TimeZoneError> {
        let id = self.time_zone_name.clone().unwrap_or_default();
        let Some(base) = self.base_offset else {
            return match &self.time_zone_name {
                Some(name) => Ok(TimeZoneDefinition::id_only(name.clone())),
                None => Err(TimeZoneError::InvalidDefinition {
                    id,
                    reason: "MeetingTimeZone has neither TimeZoneName nor BaseOffset".into(),
                }),
            };
        };
        let period = |id: &str, name: &str, extra: XsDuration| Period {
            bias: XsDuration::from_seconds(base.seconds().saturating_add(extra.seconds())),
            name: name.into(),
            id: id.into(),
        };
        let (periods, transitions) = match &self.changes {
            Some((standard, daylight)) => (
                vec![
                    period("std", "Standard", standard.offset),
                    period("dlt", "Daylight", daylight.offset),
                ],
                vec![
                    meeting_transition(standard, "std"),
                    meeting_transition(daylight, "dlt"),
                ],
            ),
            None => (
                vec![period("std", "Standard", XsDuration::ZERO)],
                vec![Transition::Always(TransitionTarget::Period("std".into()))],
            ),
        };
        Ok(TimeZoneDefinition {
            id,
            name: None,
            periods,
            transitions_groups: vec![TransitionsGroup {
                id: "0".into(),
                transitions,
            }],
            transitions: vec![Transition::Always(TransitionTarget::Group("0".into()))],
        })
    }

    /// The IANA zone: the Windows zone named by `TimeZoneName` if CLDR knows it, else the
    /// zone matching the offsets (as [`TimeZoneDefinition::to_iana`]).
    pub fn to_iana(&self) -> Option<Tz> {
        if let Some(tz) = self.time_zone_name.as_deref().and_then(windows_to_iana) {
            return Some(tz);
        }
        let mut definition = self.to_definition().ok()?;
        definition.id.clear();
        definition.to_iana()
    }

    /// The instant of a local wall time (an Exchange 2007 request's zone-less value on an
    /// item carrying this element), as [`TimeZoneDefinition::to_utc`]. Explicit offsets
    /// win over the name.
    pub fn to_utc(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, TimeZoneError> {
        self.to_definition()?.to_utc(local)
    }

    /// The UTC offset at an instant, as [`TimeZoneDefinition::offset_at`].
    pub fn offset_at(&self, utc: DateTime<Utc>) -> Result<FixedOffset, TimeZoneError> {
        self.to_definition()?.offset_at(utc)
    }
}

fn meeting_transition(change: &MeetingTimeChange, period: &str) -> Transition {
    let to = TransitionTarget::Period(period.into());
    let time_offset = XsDuration::from_seconds(i64::from(
        chrono::Timelike::num_seconds_from_midnight(&change.time),
    ));
    match change.when {
        MeetingTimeChangeDate::Relative {
            day_of_week,
            index,
            month,
        } => Transition::RecurringDay(RecurringDayTransition {
            to,
            time_offset,
            month,
            day_of_week,
            occurrence: if index >= 5 { -1 } else { i32::from(index) },
        }),
        MeetingTimeChangeDate::Absolute(date) => {
            Transition::RecurringDate(RecurringDateTransition {
                to,
                time_offset,
                month: chrono::Datelike::month(&date),
                day: chrono::Datelike::day(&date),
            })
        }
    }
}

fn recurring(change: &TimeChange, to: TransitionTarget) -> Transition {
    Transition::RecurringDay(RecurringDayTransition {
        to,
        time_offset: XsDuration::from_seconds(i64::from(
            chrono::Timelike::num_seconds_from_midnight(&change.time),
        )),
        month: u32::from(change.month),
        day_of_week: change.day_of_week,
        occurrence: if change.day_order >= 5 {
            -1
        } else {
            i32::from(change.day_order)
        },
    })
}

fn time_change(rule: &DayRule, bias_minutes: i32) -> TimeChange {
    TimeChange {
        bias_minutes,
        time: chrono::NaiveTime::from_num_seconds_from_midnight_opt(
            u32::try_from(rule.time).unwrap_or(0),
            0,
        )
        .unwrap_or(chrono::NaiveTime::MIN),
        day_order: if rule.occurrence < 0 {
            5
        } else {
            u8::try_from(rule.occurrence).unwrap_or(1)
        },
        month: u8::try_from(rule.month).unwrap_or(0),
        day_of_week: rule.weekday,
        year: None,
    }
}

/// Registers periods and groups while [`TimeZoneDefinition::for_iana`] walks the years.
#[derive(Default)]
struct Builder {
    periods: Vec<(Kind, i32, Period)>,
    groups: Vec<(Pattern, TransitionsGroup)>,
    transitions: Vec<Transition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Standard,
    Daylight,
}

impl Builder {
    /// The id of the period with this kind and offset, added on first use: `std` and `dlt`,
    /// then `std/2`, `dlt/2`, ... for further offsets of the same kind.
    fn period(&mut self, kind: Kind, offset: i32) -> String {
        if let Some((_, _, period)) = self
            .periods
            .iter()
            .find(|(k, o, _)| *k == kind && *o == offset)
        {
            return period.id.clone();
        }
        let (prefix, name) = match kind {
            Kind::Standard => ("std", "Standard"),
            Kind::Daylight => ("dlt", "Daylight"),
        };
        let same_kind = self.periods.iter().filter(|(k, _, _)| *k == kind).count();
        let id = if same_kind == 0 {
            prefix.to_owned()
        } else {
            format!("{prefix}/{}", same_kind + 1)
        };
        self.periods.push((
            kind,
            offset,
            Period {
                bias: XsDuration::from_seconds(-i64::from(offset)),
                name: name.into(),
                id: id.clone(),
            },
        ));
        id
    }

    /// The id of the group for a regular pattern, added on first use.
    fn group(&mut self, pattern: &Pattern) -> String {
        if let Some((_, group)) = self.groups.iter().find(|(p, _)| p == pattern) {
            return group.id.clone();
        }
        let transitions = match *pattern {
            Pattern::Dst {
                standard,
                daylight,
                to_standard,
                to_daylight,
            } => {
                let std = self.period(Kind::Standard, standard);
                let dlt = self.period(Kind::Daylight, daylight);
                vec![
                    day_transition(std, &to_standard),
                    day_transition(dlt, &to_daylight),
                ]
            }
            Pattern::Fixed(offset) => {
                let std = self.period(Kind::Standard, offset);
                vec![Transition::Always(TransitionTarget::Period(std))]
            }
            // Irregular years are written change by change, never as a group.
            Pattern::Irregular => Vec::new(),
        };
        let id = self.groups.len().to_string();
        self.groups.push((
            pattern.clone(),
            TransitionsGroup {
                id: id.clone(),
                transitions,
            },
        ));
        id
    }

    /// Switches to `to` from local `new_year` (or from the start, for the first entry).
    fn switch(&mut self, to: TransitionTarget, new_year: NaiveDateTime) {
        if self.transitions.is_empty() {
            self.push(Transition::Always(to));
        } else {
            self.push(Transition::AbsoluteDate(AbsoluteDateTransition {
                to,
                date_time: new_year,
                offset: None,
            }));
        }
    }

    fn push(&mut self, transition: Transition) {
        self.transitions.push(transition);
    }
}

fn day_transition(period: String, rule: &DayRule) -> Transition {
    Transition::RecurringDay(RecurringDayTransition {
        to: TransitionTarget::Period(period),
        time_offset: XsDuration::from_seconds(rule.time),
        month: rule.month,
        day_of_week: rule.weekday,
        occurrence: rule.occurrence,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Weekday};

    use super::*;
    use crate::xml::{Limits, Ns, Writer, parse};

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        at(y, m, d, h, min).and_utc()
    }

    fn sample_definition(name: &str) -> TimeZoneDefinition {
        let path = format!(
            "{}/../../shared/ews-samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let root = parse(&std::fs::read(&path).unwrap(), &Limits::default()).unwrap();
        fn walk(el: &crate::xml::Element) -> Option<&crate::xml::Element> {
            if el.is(&Ns::Types, "TimeZoneDefinition") {
                return Some(el);
            }
            el.children.iter().find_map(walk)
        }
        TimeZoneDefinition::from_xml(walk(&root).unwrap()).unwrap()
    }

    fn sample_legacy(name: &str) -> LegacyTimeZone {
        let path = format!(
            "{}/../../shared/ews-samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let root = parse(&std::fs::read(&path).unwrap(), &Limits::default()).unwrap();
        fn walk(el: &crate::xml::Element) -> Option<&crate::xml::Element> {
            if el.is(&Ns::Types, "TimeZone") {
                return Some(el);
            }
            el.children.iter().find_map(walk)
        }
        LegacyTimeZone::from_xml(walk(&root).unwrap()).unwrap()
    }

    /// Checks a definition against chrono-tz every 5 days and on both sides of every change.
    fn assert_same_offsets(def: &TimeZoneDefinition, tz: Tz, years: RangeInclusive<i32>) {
        let compiled = def.compile().unwrap();
        let expected = tz_offset(tz);
        for year in years {
            let mut instants: Vec<i64> = (0..74)
                .map(|i| rules::unix(year, 1, 1) + i * 5 * 86_400)
                .collect();
            for change in probe_year(&expected, year).changes {
                instants.extend([change.at - 1, change.at, change.at + 3600]);
            }
            for instant in instants {
                assert_eq!(
                    compiled.offset_at(instant),
                    expected(instant),
                    "{} ({}) at {}",
                    def.id,
                    tz.name(),
                    from_unix(instant)
                );
            }
        }
    }

    #[test]
    fn w_europe_is_described_exactly_like_the_get_server_time_zones_sample() {
        let sample = sample_definition("getservertimezones-response.xml");
        assert_eq!(
            TimeZoneDefinition::for_iana(chrono_tz::Europe::Berlin, 2026..=2026),
            sample
        );
        assert_eq!(
            TimeZoneDefinition::for_iana(chrono_tz::Europe::Berlin, SERVER_YEARS),
            sample
        );
        assert_eq!(sample.to_iana(), Some(chrono_tz::Europe::Berlin));
    }

    #[test]
    fn pacific_gets_a_group_per_rule_change_like_the_managed_api_sample() {
        let ours = TimeZoneDefinition::for_iana(chrono_tz::America::Los_Angeles, SERVER_YEARS);
        assert_eq!(ours.id, "Pacific Standard Time");
        assert_eq!(ours.transitions_groups.len(), 2);
        let Transition::RecurringDay(to_dlt) = &ours.transitions_groups[1].transitions[1] else {
            panic!("{ours:?}")
        };
        assert_eq!(
            (to_dlt.month, to_dlt.occurrence, to_dlt.day_of_week),
            (3, 2, Weekday::Sun)
        );
        assert_eq!(
            ours.transitions[1],
            Transition::AbsoluteDate(AbsoluteDateTransition {
                to: TransitionTarget::Group("1".into()),
                date_time: at(2007, 1, 1, 0, 0),
                offset: None,
            })
        );
        // The Managed API's own definition (UTC AbsoluteDateTransition) means the same.
        let theirs = sample_definition("getuseravailability-timezonecontext-request.xml");
        assert_same_offsets(&theirs, chrono_tz::America::Los_Angeles, 2000..=2037);
        assert_same_offsets(&ours, chrono_tz::America::Los_Angeles, SERVER_YEARS);
    }

    #[test]
    fn every_server_definition_matches_tzdb_from_2000_to_2037() {
        let all = server_time_zones(None).unwrap();
        assert_eq!(all.len(), 139);
        for (def, zone) in all.iter().zip(windows_zones()) {
            assert_eq!(def.id, zone.id);
            assert_eq!(def.name.as_deref(), Some(zone.display_name));
            assert_same_offsets(def, zone.default_iana, SERVER_YEARS);
        }
    }

    #[test]
    fn every_server_definition_survives_xml() {
        for def in server_time_zones(None).unwrap() {
            let mut w = Writer::fragment();
            def.write(&mut w, &Ns::Types, "TimeZoneDefinition");
            let text = w.into_string();
            let back =
                TimeZoneDefinition::from_xml(&parse(text.as_bytes(), &Limits::default()).unwrap())
                    .unwrap();
            assert_eq!(back, def, "{text}");
        }
    }

    #[test]
    fn southern_hemisphere_india_and_samoa_follow_tzdb() {
        for (tz, windows) in [
            (chrono_tz::Australia::Sydney, "AUS Eastern Standard Time"),
            (chrono_tz::Asia::Kolkata, "India Standard Time"),
            (chrono_tz::Pacific::Apia, "Samoa Standard Time"),
        ] {
            let def = TimeZoneDefinition::for_iana(tz, 2000..=2037);
            assert_eq!(def.id, windows);
            assert_same_offsets(&def, tz, 2000..=2037);
        }
        let india = TimeZoneDefinition::for_iana(chrono_tz::Asia::Kolkata, SERVER_YEARS);
        assert_eq!(india.periods.len(), 1);
        assert_eq!(india.periods[0].bias.to_string(), "-PT330M");
        // Samoa skipped Friday 2011-12-30 entirely.
        let samoa = TimeZoneDefinition::for_iana(chrono_tz::Pacific::Apia, SERVER_YEARS);
        assert_eq!(
            samoa
                .offset_at(utc(2011, 12, 30, 9, 59))
                .unwrap()
                .local_minus_utc(),
            -10 * 3600
        );
        assert_eq!(
            samoa
                .offset_at(utc(2011, 12, 30, 10, 0))
                .unwrap()
                .local_minus_utc(),
            14 * 3600
        );
    }

    #[test]
    fn local_times_resolve_like_windows_in_gaps_and_overlaps() {
        let pacific = TimeZoneDefinition::id_only("Pacific Standard Time");
        let full = TimeZoneDefinition::for_iana(chrono_tz::America::Los_Angeles, SERVER_YEARS);
        for def in [&pacific, &full] {
            assert_eq!(
                def.to_utc(at(2026, 1, 15, 9, 0)).unwrap(),
                utc(2026, 1, 15, 17, 0)
            );
            assert_eq!(
                def.to_utc(at(2026, 7, 15, 9, 0)).unwrap(),
                utc(2026, 7, 15, 16, 0)
            );
            // 02:30 does not exist on 2026-03-08: read on standard time, it is 03:30 PDT.
            assert_eq!(
                def.to_utc(at(2026, 3, 8, 2, 30)).unwrap(),
                utc(2026, 3, 8, 10, 30)
            );
            // 01:30 happens twice on 2026-11-01: the first (PDT) wins.
            assert_eq!(
                def.to_utc(at(2026, 11, 1, 1, 30)).unwrap(),
                utc(2026, 11, 1, 8, 30)
            );
        }
        let err = TimeZoneDefinition::id_only("Mars Standard Time")
            .to_utc(at(2026, 1, 1, 0, 0))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown Windows time zone `Mars Standard Time`"
        );
    }

    #[test]
    fn legacy_blocks_describe_one_year_of_rules() {
        let sample_2006 = sample_legacy("getuseravailability-legacy-timezone-request.xml");
        assert_eq!(
            LegacyTimeZone::from_iana(chrono_tz::America::Los_Angeles, 2006),
            sample_2006
        );
        let sample_2007 = sample_legacy("getuseravailability-freebusy-response.xml");
        assert_eq!(
            LegacyTimeZone::from_iana(chrono_tz::America::Los_Angeles, 2026),
            sample_2007
        );
        let sydney = LegacyTimeZone::from_iana(chrono_tz::Australia::Sydney, 2026);
        assert_eq!(
            (sydney.bias_minutes, sydney.daylight.bias_minutes),
            (-600, -60)
        );
        assert_eq!((sydney.standard.month, sydney.standard.day_order), (4, 1));
        assert_eq!((sydney.daylight.month, sydney.daylight.day_order), (10, 1));
        assert_eq!(
            LegacyTimeZone::from_iana(chrono_tz::Asia::Kolkata, 2026),
            LegacyTimeZone::fixed(-330)
        );
        let berlin = LegacyTimeZone::from_iana(chrono_tz::Europe::Berlin, 2026);
        assert_eq!(
            berlin
                .offset_at(utc(2026, 3, 29, 0, 59))
                .unwrap()
                .local_minus_utc(),
            3600
        );
        assert_eq!(
            berlin
                .offset_at(utc(2026, 3, 29, 1, 0))
                .unwrap()
                .local_minus_utc(),
            7200
        );
        assert_eq!(
            berlin.to_utc(at(2026, 10, 25, 2, 30)).unwrap(),
            utc(2026, 10, 25, 0, 30)
        );
    }

    #[test]
    fn legacy_blocks_map_to_the_zone_that_used_their_rules_longest() {
        let iana = |block: &LegacyTimeZone| block.to_iana().map(|tz| tz.name());
        let sample_2006 = sample_legacy("getuseravailability-legacy-timezone-request.xml");
        assert_eq!(iana(&sample_2006), Some("America/Los_Angeles"));
        let sample_2007 = sample_legacy("getuseravailability-freebusy-response.xml");
        assert_eq!(iana(&sample_2007), Some("America/Los_Angeles"));
        for (tz, expected) in [
            (chrono_tz::Europe::Berlin, "Europe/Berlin"),
            (chrono_tz::Europe::Paris, "Europe/Berlin"),
            (chrono_tz::Australia::Sydney, "Australia/Sydney"),
            (chrono_tz::Asia::Kolkata, "Asia/Calcutta"),
            (chrono_tz::America::New_York, "America/New_York"),
            (chrono_tz::Europe::London, "Europe/London"),
        ] {
            assert_eq!(
                iana(&LegacyTimeZone::from_iana(tz, 2026)),
                Some(expected),
                "{}",
                tz.name()
            );
        }
        // No zone ever had UTC+01:17.
        assert_eq!(LegacyTimeZone::fixed(-77).to_iana(), None);
        // With a Year, only that year counts: in 2008 only Baja California kept these rules.
        let mut dated = sample_2006.clone();
        dated.standard.year = Some(2008);
        assert_eq!(iana(&dated), Some("America/Tijuana"));
        assert_eq!(
            sample_2006.to_iana_in(2008),
            Some(chrono_tz::America::Tijuana)
        );
        assert_eq!(
            sample_2006.to_iana_in(2006),
            Some(chrono_tz::America::Los_Angeles)
        );
        assert_eq!(sample_2006.to_iana_in(2026), None);
        // Years from the wire can be anything; outside 1970-2037 nothing matches.
        for year in [i32::MIN, -1, 0, 1969, 2038, i32::MAX] {
            assert_eq!(sample_2006.to_iana_in(year), None, "{year}");
        }
    }

    #[test]
    fn definitions_without_a_known_id_map_by_their_rules() {
        let mut def = TimeZoneDefinition::for_iana(chrono_tz::Europe::Berlin, SERVER_YEARS);
        def.id = "Custom".into();
        assert_eq!(def.to_iana(), Some(chrono_tz::Europe::Berlin));
        def.id = "Europe/Vienna".into();
        assert_eq!(def.to_iana(), Some(chrono_tz::Europe::Vienna));
        assert_eq!(TimeZoneDefinition::id_only("Nowhere").to_iana(), None);
    }

    #[test]
    fn broken_definitions_are_errors_not_panics() {
        let mut def = sample_definition("getservertimezones-response.xml");
        def.transitions = vec![Transition::Always(TransitionTarget::Group("9".into()))];
        assert_eq!(
            def.offset_at(utc(2026, 1, 1, 0, 0))
                .unwrap_err()
                .to_string(),
            "time zone definition `W. Europe Standard Time`: no TransitionsGroup with Id `9`"
        );
        let mut def = sample_definition("getservertimezones-response.xml");
        def.periods[0].id = "other".into();
        assert!(
            def.offset_at(utc(2026, 1, 1, 0, 0))
                .unwrap_err()
                .to_string()
                .contains("no Period with Id `std`")
        );
        let mut def = sample_definition("getservertimezones-response.xml");
        let Transition::RecurringDay(day) = &mut def.transitions_groups[0].transitions[0] else {
            panic!()
        };
        day.time_offset = XsDuration::from_seconds(1_000_000_000_000_000);
        assert!(
            def.offset_at(utc(2026, 1, 1, 0, 0))
                .unwrap_err()
                .to_string()
                .contains("not a time of day")
        );
        let mut def = sample_definition("getservertimezones-response.xml");
        def.periods[0].bias = XsDuration::from_minutes(-1500);
        assert!(
            def.to_utc(at(2026, 1, 1, 0, 0))
                .unwrap_err()
                .to_string()
                .contains("a day or more")
        );
    }

    #[test]
    fn meeting_time_zones_resolve_by_name_or_by_offsets() {
        let named = MeetingTimeZone {
            time_zone_name: Some("Pacific Standard Time".into()),
            base_offset: None,
            changes: None,
        };
        assert_eq!(named.to_iana(), Some(chrono_tz::America::Los_Angeles));
        assert_eq!(
            named.to_utc(at(2013, 9, 21, 12, 0)).unwrap(),
            utc(2013, 9, 21, 19, 0)
        );
        let change = |offset: i64, index: u8, month: u32| MeetingTimeChange {
            time_zone_name: None,
            offset: XsDuration::from_minutes(offset),
            when: MeetingTimeChangeDate::Relative {
                day_of_week: Weekday::Sun,
                index,
                month,
            },
            time: chrono::NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
        };
        let full = MeetingTimeZone {
            time_zone_name: None,
            base_offset: Some(XsDuration::from_minutes(480)),
            changes: Some((change(0, 1, 11), change(-60, 2, 3))),
        };
        assert_eq!(full.to_iana(), Some(chrono_tz::America::Los_Angeles));
        assert_eq!(
            full.offset_at(utc(2026, 7, 1, 0, 0))
                .unwrap()
                .local_minus_utc(),
            -7 * 3600
        );
        assert_eq!(
            full.to_utc(at(2026, 3, 8, 2, 30)).unwrap(),
            utc(2026, 3, 8, 10, 30)
        );
        let fixed = MeetingTimeZone {
            time_zone_name: None,
            base_offset: Some(XsDuration::from_minutes(-330)),
            changes: None,
        };
        assert_eq!(fixed.to_iana(), Some(chrono_tz::Asia::Calcutta));
        let absolute = MeetingTimeZone {
            changes: Some((
                MeetingTimeChange {
                    when: MeetingTimeChangeDate::Absolute(
                        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                    ),
                    ..change(0, 1, 1)
                },
                MeetingTimeChange {
                    when: MeetingTimeChangeDate::Absolute(
                        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
                    ),
                    ..change(-60, 1, 1)
                },
            )),
            ..full.clone()
        };
        assert_eq!(
            absolute
                .offset_at(utc(2026, 9, 30, 12, 0))
                .unwrap()
                .local_minus_utc(),
            -7 * 3600
        );
        assert_eq!(
            absolute
                .offset_at(utc(2026, 10, 1, 12, 0))
                .unwrap()
                .local_minus_utc(),
            -8 * 3600
        );
        let huge = MeetingTimeZone {
            base_offset: Some(XsDuration::from_seconds(i64::MAX)),
            ..full.clone()
        };
        let err = huge.offset_at(utc(2026, 1, 1, 0, 0)).unwrap_err();
        assert!(err.to_string().contains("a day or more"), "{err}");
        let empty = MeetingTimeZone {
            time_zone_name: None,
            base_offset: None,
            changes: None,
        };
        assert!(
            empty
                .to_utc(at(2026, 1, 1, 0, 0))
                .unwrap_err()
                .to_string()
                .contains("neither")
        );
    }

    #[test]
    fn local_times_round_trip_for_every_server_definition() {
        for def in server_time_zones(None).unwrap() {
            let compiled = def.compile().unwrap();
            let start = rules::unix(2024, 1, 1);
            // Every 11 hours for two years: every hour of the day, both DST seasons.
            for i in 0..(2 * 365 * 24 / 11) {
                let instant = start + i * 11 * 3600;
                let offset = compiled.offset_at(instant);
                let local = from_unix(instant + i64::from(offset));
                let back = resolve_local(local, |at| compiled.offset_at(at)).timestamp();
                // A repeated local time resolves to its first instant.
                assert!(
                    back == instant
                        || (back < instant
                            && back + i64::from(compiled.offset_at(back))
                                == instant + i64::from(offset)),
                    "{} at {local}: {back} vs {instant}",
                    def.id
                );
            }
        }
    }

    #[test]
    fn server_time_zones_answers_requested_ids_in_order() {
        let ids = vec!["Pacific Standard Time".to_owned(), "UTC".to_owned()];
        let defs = server_time_zones(Some(&ids)).unwrap();
        assert_eq!(
            defs.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ["Pacific Standard Time", "UTC"]
        );
        assert_eq!(defs[1].periods[0].bias, XsDuration::ZERO);
        let err = server_time_zones(Some(&["Nowhere".to_owned()])).unwrap_err();
        assert_eq!(err, TimeZoneError::UnknownWindowsZone("Nowhere".into()));
    }
}
