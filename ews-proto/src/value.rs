//! Scalar values on the wire: date-times that keep "no zone" distinguishable, `xs:date`
//! with its optional offset, and the enumerations EWS spells as strings.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Serialize};

use crate::xml::{Element, Ns, ParseError, Writer, XmlText};

/// An `xs:dateTime` as EWS sends it.
///
/// Exchange writes UTC with `Z` on item properties, but requests may carry an offset or no
/// zone at all, and availability/OOF times come back without a zone. A zone-less value means
/// "in the request's TimeZoneContext (or the item's StartTimeZone)", so it must stay
/// distinguishable from UTC: that is the [`EwsDateTime::Floating`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EwsDateTime {
    /// A value with `Z` or `±hh:mm`.
    Zoned(DateTime<FixedOffset>),
    /// A value without zone designator.
    Floating(NaiveDateTime),
}

/// Why a date or date-time did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an xs:{kind} (expected e.g. {example})")]
pub struct BadDate {
    kind: &'static str,
    example: &'static str,
}

impl EwsDateTime {
    /// A UTC instant.
    pub fn utc(t: DateTime<chrono::Utc>) -> EwsDateTime {
        EwsDateTime::Zoned(t.fixed_offset())
    }

    /// The instant, if the value carries a zone.
    pub fn instant(&self) -> Option<DateTime<chrono::Utc>> {
        match self {
            EwsDateTime::Zoned(t) => Some(t.to_utc()),
            EwsDateTime::Floating(_) => None,
        }
    }

    /// The instant, interpreting a zone-less value with `zone` (the TimeZoneContext).
    /// Returns `None` for a local time that does not exist in `zone` (a DST gap); an
    /// ambiguous local time takes the earlier instant, as Exchange does.
    pub fn instant_in<Tz: chrono::TimeZone>(&self, zone: &Tz) -> Option<DateTime<chrono::Utc>> {
        match self {
            EwsDateTime::Zoned(t) => Some(t.to_utc()),
            EwsDateTime::Floating(n) => n
                .and_local_timezone(zone.clone())
                .earliest()
                .map(|t| t.to_utc()),
        }
    }
}

impl FromStr for EwsDateTime {
    type Err = BadDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = BadDate {
            kind: "dateTime",
            example: "2014-03-08T13:21:32.868-08:00",
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(EwsDateTime::Zoned(t));
        }
        // xs:dateTime allows a missing seconds fraction and lower-case z is not allowed, but
        // chrono's RFC 3339 parser already covers the zoned forms; what is left is zone-less.
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .map(EwsDateTime::Floating)
            .map_err(|_| bad)
    }
}

/// A fixed buffer for one formatted date-time.
struct DigitBuf {
    bytes: [u8; 40],
    len: usize,
}

impl DigitBuf {
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// `value` zero-padded to `width` digits (its lowest `width` digits).
    fn digits(&mut self, value: u32, width: u32) {
        let width = usize::try_from(width).unwrap_or(0).min(10);
        let end = self.len + width;
        let Some(slots) = self.bytes.get_mut(self.len..end) else {
            return;
        };
        let mut v = value;
        for slot in slots.iter_mut().rev() {
            // `v % 10` is below 10.
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.len = end;
    }

    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.bytes.get(..self.len)?).ok()
    }
}

/// Formats `yyyy-mm-ddThh:mm:ss[.fff|.ffffff|.fffffffff]` and, for `Some(offset)` seconds,
/// `Z` or `±hh:mm`, exactly as chrono's `SecondsFormat::AutoSi` / `%.f` do; `None` for what
/// this fast path does not cover (years outside 0..=9999, leap seconds, offsets with
/// seconds), which the caller hands to chrono.
///
/// Every date-time of every written item goes through here, so it avoids chrono's
/// formatting machinery and the `String` it returns.
fn format_fast(n: &NaiveDateTime, offset: Option<i32>) -> Option<DigitBuf> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(n.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = n.nanosecond();
    if nanos >= 1_000_000_000 || offset.is_some_and(|o| o % 60 != 0) {
        return None;
    }
    let mut b = DigitBuf {
        bytes: [0; 40],
        len: 0,
    };
    b.digits(year, 4);
    b.byte(b'-');
    b.digits(n.month(), 2);
    b.byte(b'-');
    b.digits(n.day(), 2);
    b.byte(b'T');
    b.digits(n.hour(), 2);
    b.byte(b':');
    b.digits(n.minute(), 2);
    b.byte(b':');
    b.digits(n.second(), 2);
    if nanos != 0 {
        b.byte(b'.');
        if nanos.is_multiple_of(1_000_000) {
            b.digits(nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            b.digits(nanos / 1_000, 6);
        } else {
            b.digits(nanos, 9);
        }
    }
    match offset {
        None => {}
        Some(0) => b.byte(b'Z'),
        Some(secs) => {
            b.byte(if secs < 0 { b'-' } else { b'+' });
            let a = secs.unsigned_abs();
            b.digits(a / 3600, 2);
            b.byte(b':');
            b.digits((a % 3600) / 60, 2);
        }
    }
    Some(b)
}

impl EwsDateTime {
    /// The text by [`format_fast`], when it covers the value.
    fn format_fast(&self) -> Option<DigitBuf> {
        match self {
            EwsDateTime::Zoned(t) => {
                let offset = t.offset().local_minus_utc();
                // UTC (nearly every value a server writes) needs no offset arithmetic.
                let local = if offset == 0 {
                    t.naive_utc()
                } else {
                    t.naive_local()
                };
                format_fast(&local, Some(offset))
            }
            EwsDateTime::Floating(n) => format_fast(n, None),
        }
    }
}

impl XmlText for EwsDateTime {
    fn write_text(&self, w: &mut Writer) {
        let fast = self.format_fast();
        match fast.as_ref().and_then(|b| b.bytes.get(..b.len)) {
            // Digits and `-:T.Z+`: ASCII that needs no escaping, no UTF-8 check needed.
            Some(text) => w.ascii(text),
            None => w.text_display(self),
        }
    }
}

impl fmt::Display for EwsDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fast = self.format_fast();
        if let Some(s) = fast.as_ref().and_then(DigitBuf::as_str) {
            return f.write_str(s);
        }
        match self {
            // Whole seconds are written without a fraction; otherwise 3, 6 or 9 digits, as
            // many as needed, so .NET's 7-digit fractions survive a round trip.
            EwsDateTime::Zoned(t) => {
                let use_z = t.offset().local_minus_utc() == 0;
                f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, use_z))
            }
            EwsDateTime::Floating(n) => write!(f, "{}", n.format("%Y-%m-%dT%H:%M:%S%.f")),
        }
    }
}

impl Serialize for EwsDateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EwsDateTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An `xs:date`, which in recurrence ranges may carry an offset (`2014-03-08-08:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EwsDate {
    /// The calendar date.
    pub date: NaiveDate,
    /// The offset written after it, if any.
    pub offset: Option<FixedOffset>,
}

impl EwsDate {
    /// A date without offset.
    pub fn new(date: NaiveDate) -> EwsDate {
        EwsDate { date, offset: None }
    }
}

impl FromStr for EwsDate {
    type Err = BadDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = BadDate {
            kind: "date",
            example: "2014-03-08 or 2014-03-08-08:00",
        };
        if s.len() < 10 || !s.is_char_boundary(10) {
            return Err(bad);
        }
        let (date, rest) = s.split_at(10);
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad.clone())?;
        let offset = match rest {
            "" => None,
            "Z" => Some(FixedOffset::east_opt(0).ok_or(bad.clone())?),
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(bad),
                };
                let hm = &rest[1..];
                let (h, m) = hm.split_once(':').ok_or(bad.clone())?;
                let h: i32 = h.parse().map_err(|_| bad.clone())?;
                let m: i32 = m.parse().map_err(|_| bad.clone())?;
                if h > 14 || m > 59 {
                    return Err(bad);
                }
                Some(FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or(bad)?)
            }
        };
        Ok(EwsDate { date, offset })
    }
}

impl fmt::Display for EwsDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date.format("%Y-%m-%d"))?;
        if let Some(o) = self.offset {
            let secs = o.local_minus_utc();
            if secs == 0 {
                f.write_str("Z")?;
            } else {
                let sign = if secs < 0 { '-' } else { '+' };
                let a = secs.abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)?;
            }
        }
        Ok(())
    }
}

impl Serialize for EwsDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EwsDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An `xs:boolean`: `true`, `false`, `1` or `0`, with surrounding XML whitespace ignored
/// (the type's whitespace facet is `collapse`).
///
/// Rust's `bool::from_str` takes only `true`/`false`, but clients use the numeric forms:
/// exchangelib writes `ExcludeConflicts` as `0`. Every boolean this crate reads goes through
/// this type (see [`Element::bool_child`] and friends); writing always uses `true`/`false`,
/// as Exchange does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct XsBoolean(pub bool);

/// Why an `xs:boolean` did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an xs:boolean (expected true, false, 1 or 0)")]
pub struct BadBoolean;

impl FromStr for XsBoolean {
    type Err = BadBoolean;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // XML whitespace only (space, tab, CR, LF), not Unicode's wider set.
        match s.trim_matches([' ', '\t', '\r', '\n']) {
            "true" | "1" => Ok(XsBoolean(true)),
            "false" | "0" => Ok(XsBoolean(false)),
            _ => Err(BadBoolean),
        }
    }
}

impl fmt::Display for XsBoolean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "true" } else { "false" })
    }
}

impl From<XsBoolean> for bool {
    fn from(b: XsBoolean) -> bool {
        b.0
    }
}

/// Why an enumeration value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected one of: {expected}")]
pub struct BadEnum {
    /// The allowed values, `|`-separated.
    pub expected: &'static str,
}

/// Declares a string enumeration of the schema with `as_str`, `FromStr`, `Display` and
/// serde as the wire spelling.
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::value::BadEnum;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::value::BadEnum {
                        expected: concat!($($wire, "|"),+).trim_end_matches('|'),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::xml::XmlText for $name {
            fn write_text(&self, w: &mut $crate::xml::Writer) {
                w.ascii(self.as_str().as_bytes());
            }
        }
    };
}
pub(crate) use str_enum;

/// Writes `<ns:name>value</ns:name>` for any `Some` value.
pub(crate) fn opt<T: XmlText>(w: &mut Writer, ns: &Ns, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        w.leaf_value(ns, name, v);
    }
}

/// Parses attribute `name`, which must be present.
pub(crate) fn required_attr_parsed<T>(e: &Element, name: &str) -> Result<T, ParseError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let v = e.required_attr(name)?;
    v.trim()
        .parse()
        .map_err(|err: T::Err| e.invalid_attr(name, v, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_keep_zone_less_values_distinct() {
        let z: EwsDateTime = "2013-09-21T19:00:00.000Z".parse().unwrap();
        let o: EwsDateTime = "2014-03-08T13:21:32.868-08:00".parse().unwrap();
        let f: EwsDateTime = "2006-11-03T23:00:00".parse().unwrap();
        assert_eq!(z.to_string(), "2013-09-21T19:00:00Z");
        assert_eq!(o.to_string(), "2014-03-08T13:21:32.868-08:00");
        assert_eq!(f.to_string(), "2006-11-03T23:00:00");
        for precise in [
            "2026-01-01T00:00:00.1234567Z",
            "2026-01-01T00:00:00.5",
            "2026-01-01T08:00:00.000001+01:00",
        ] {
            let v: EwsDateTime = precise.parse().unwrap();
            assert_eq!(
                v.to_string().parse::<EwsDateTime>().unwrap(),
                v,
                "{precise}"
            );
        }
        assert!(matches!(f, EwsDateTime::Floating(_)));
        assert_eq!(f.instant(), None);
        assert_eq!(
            o.instant().unwrap().to_rfc3339(),
            "2014-03-08T21:21:32.868+00:00"
        );
        assert!("2013-13-01T00:00:00Z".parse::<EwsDateTime>().is_err());
        assert!("yesterday".parse::<EwsDateTime>().is_err());
    }

    #[test]
    fn xs_boolean_reads_all_four_lexical_forms() {
        for (s, v) in [
            ("true", true),
            ("false", false),
            ("1", true),
            ("0", false),
            (" \n\t1\r\n", true),
            ("  false ", false),
        ] {
            assert_eq!(s.parse::<XsBoolean>(), Ok(XsBoolean(v)), "{s:?}");
        }
        for bad in ["", "TRUE", "True", "yes", "2", "01", "t", "\u{a0}1"] {
            assert_eq!(bad.parse::<XsBoolean>(), Err(BadBoolean), "{bad:?}");
        }
        assert_eq!(XsBoolean(true).to_string(), "true");
        assert_eq!(XsBoolean(false).to_string(), "false");
    }

    #[test]
    fn fast_date_time_formatting_matches_chrono() {
        use chrono::TimeZone;
        let offsets = [
            0,
            3600,
            -8 * 3600,
            5 * 3600 + 1800,
            -(3 * 3600 + 45 * 60),
            14 * 3600,
        ];
        let nanos = [
            0,
            1_000_000,
            868_000_000,
            123_456_000,
            1_000,
            123_456_789,
            5,
            999_999_999,
        ];
        let mut n = 0;
        for secs in [
            0_i64,
            951_782_400,
            1_700_000_000,
            4_102_444_799,
            -62_135_596_800,
        ] {
            for off in offsets {
                for ns in nanos {
                    let o = FixedOffset::east_opt(off).unwrap();
                    let t = o.timestamp_opt(secs + i64::from(off), ns).unwrap();
                    let zoned = EwsDateTime::Zoned(t);
                    let chrono = t.to_rfc3339_opts(SecondsFormat::AutoSi, off == 0);
                    assert_eq!(zoned.to_string(), chrono, "{secs} {off} {ns}");
                    let floating = EwsDateTime::Floating(t.naive_local());
                    let chrono = t.naive_local().format("%Y-%m-%dT%H:%M:%S%.f").to_string();
                    assert_eq!(floating.to_string(), chrono, "{secs} {ns}");
                    n += 1;
                }
            }
        }
        assert_eq!(n, 5 * 6 * 8);
        // Outside the fast path: chrono's own forms.
        let far = NaiveDate::from_ymd_opt(12_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(
            EwsDateTime::Floating(far).to_string(),
            far.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
        );
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        assert_eq!(
            EwsDateTime::Floating(leap).to_string(),
            leap.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
        );
    }

    #[test]
    fn dates_keep_their_offset() {
        for s in [
            "2014-03-08-08:00",
            "2014-03-08",
            "2014-03-08Z",
            "2014-03-08+05:30",
        ] {
            let d: EwsDate = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        assert!("2014-03-08x".parse::<EwsDate>().is_err());
        assert!("2014-02-30".parse::<EwsDate>().is_err());
        assert!("20é4-03-08".parse::<EwsDate>().is_err());
    }
}
