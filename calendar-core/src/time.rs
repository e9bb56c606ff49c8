//! Wall-clock helpers shared by recurrence, presence and slots: turning a local time in an
//! IANA zone into an instant (with an explicit rule for DST gaps and overlaps), and the serde
//! forms of zones and durations.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant a local wall-clock time denotes in `tz`.
///
/// The two DST special cases follow RFC 5545 §3.3.5 (CALENDAR-SEMANTICS cases 4 and 5):
/// - a local time inside a spring-forward gap is read with the offset in force *before* the
///   gap, so 02:30 on 2026-03-08 in New York becomes 07:30Z (03:30 EDT);
/// - a local time inside a fall-back overlap takes the first (earlier) instant, so 01:30 on
///   2026-11-01 in New York becomes 05:30Z (EDT), not 06:30Z.
///
/// Returns `None` only when the result is outside chrono's representable range.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            let before = offset_before_gap(tz, local)?;
            local
                .checked_sub_signed(Duration::seconds(i64::from(before)))
                .map(|utc| Utc.from_utc_datetime(&utc))
        }
    }
}

/// The earliest instant whose wall-clock time in `tz` is at or after `local`.
///
/// This is the rule for opening hours and day boundaries, where a local time marks where an
/// interval of wall-clock time begins or ends: it equals [`local_to_utc`] except inside a
/// spring-forward gap, where it is the transition instant itself. A counter that opens at
/// 02:30 on 2026-03-08 in New York is open from 03:00 EDT (07:00Z), the first wall time at or
/// after 02:30; São Paulo's midnight on a spring-forward day (until 2019) begins at 01:00.
pub fn first_instant_at_or_after(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            let before = i64::from(offset_before_gap(tz, local)?);
            // Reading `local` with the pre-gap offset lands after the transition; reading it
            // with the post-gap offset lands before it. Bisect between the two on seconds.
            let mut hi = local
                .checked_sub_signed(Duration::seconds(before))?
                .and_utc();
            let after = i64::from(
                tz.offset_from_utc_datetime(&hi.naive_utc())
                    .fix()
                    .local_minus_utc(),
            );
            let mut lo = local
                .checked_sub_signed(Duration::seconds(after))?
                .and_utc();
            // Halve in whole seconds: transitions fall on whole seconds, and `(hi - lo) / 2`
            // of an odd span would leave nanoseconds in the result (and in every slot after it).
            while (hi - lo).num_seconds() > 1 {
                let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
                let offset = tz
                    .offset_from_utc_datetime(&mid.naive_utc())
                    .fix()
                    .local_minus_utc();
                if i64::from(offset) == after {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Some(hi)
        }
    }
}

/// The UTC offset (in seconds) in force just before the gap that swallows `local`.
///
/// Walks back in 15-minute steps to the latest representable local time before the gap.
/// Real gaps are at most a day long (Pacific/Apia skipped 2011-12-30), and no zone has two
/// transitions within 15 minutes, so the first valid time found carries the pre-gap offset.
fn offset_before_gap(tz: Tz, local: NaiveDateTime) -> Option<i32> {
    let step = Duration::minutes(15);
    let mut probe = local;
    for _ in 0..(26 * 4) {
        probe = probe.checked_sub_signed(step)?;
        // The latest instant of an overlap is the one adjacent to a following gap.
        if let Some(t) = tz.from_local_datetime(&probe).latest() {
            return Some(t.offset().fix().local_minus_utc());
        }
    }
    None
}

/// Serde form of a zone: its IANA name, e.g. `"Europe/Berlin"`.
pub(crate) mod serde_tz {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse::<Tz>()
            .map_err(|_| D::Error::custom(format!("unknown IANA time zone `{name}`")))
    }
}

/// Serde form of an optional zone: an IANA name or absent.
pub(crate) mod serde_tz_opt {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(tz: &Option<Tz>, s: S) -> Result<S::Ok, S::Error> {
        match tz {
            Some(tz) => s.serialize_some(tz.name()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(name) => name
                .parse::<Tz>()
                .map(Some)
                .map_err(|_| D::Error::custom(format!("unknown IANA time zone `{name}`"))),
        }
    }
}

/// Serde form of a duration: whole minutes as an integer (seconds are dropped, matching
/// the minute resolution of calendar items).
pub(crate) mod serde_minutes {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_minutes())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let minutes = i64::deserialize(d)?;
        Duration::try_minutes(minutes).ok_or_else(|| {
            serde::de::Error::custom(format!("duration of {minutes} minutes is out of range"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn gap_time_is_read_with_the_offset_before_the_gap() {
        let utc = local_to_utc(chrono_tz::America::New_York, at(2026, 3, 8, 2, 30)).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-03-08T07:30:00+00:00");
    }

    #[test]
    fn overlap_time_takes_the_earlier_instant() {
        let utc = local_to_utc(chrono_tz::America::New_York, at(2026, 11, 1, 1, 30)).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-11-01T05:30:00+00:00");
    }

    #[test]
    fn a_bound_in_the_gap_is_the_transition_instant() {
        let utc = first_instant_at_or_after(chrono_tz::America::New_York, at(2026, 3, 8, 2, 30));
        assert_eq!(utc.unwrap().to_rfc3339(), "2026-03-08T07:00:00+00:00");
        let midnight =
            first_instant_at_or_after(chrono_tz::America::Sao_Paulo, at(2018, 11, 4, 0, 0));
        assert_eq!(midnight.unwrap().to_rfc3339(), "2018-11-04T03:00:00+00:00");
    }

    #[test]
    fn a_bound_in_a_skipped_day_is_the_whole_second_transition() {
        // Found by the slot property test in CI: bisecting a day-long gap by halving the span
        // left 0.878906250 s on the result, which shifted every slot of 2011-12-31 in Apia.
        let utc = first_instant_at_or_after(chrono_tz::Pacific::Apia, at(2011, 12, 30, 0, 0));
        assert_eq!(utc.unwrap().to_rfc3339(), "2011-12-30T10:00:00+00:00");
    }

    #[test]
    fn a_skipped_whole_day_is_read_with_the_old_offset() {
        // Samoa moved across the date line: 2011-12-30 never happened in Pacific/Apia (-10 -> +14).
        let utc = local_to_utc(chrono_tz::Pacific::Apia, at(2011, 12, 30, 12, 0)).unwrap();
        assert_eq!(utc.to_rfc3339(), "2011-12-30T22:00:00+00:00");
    }
}
