//! XML of the time zone types, on proto's element tree ([`crate::xml`]).
//!
//! Element order and attribute order follow what Exchange writes (the shared samples):
//! `TimeZoneDefinition @Id @Name`, `Period @Bias @Name @Id`, the transition children in
//! schema order. Readers accept any attribute order, as XML does, and look children up by
//! namespace and local name, never by prefix.

use chrono::{DateTime, NaiveDateTime, NaiveTime, Offset, Weekday};

use super::{
    AbsoluteDateTransition, LegacyTimeZone, MeetingTimeChange, MeetingTimeChangeDate,
    MeetingTimeZone, Period, RecurringDateTransition, RecurringDayTransition, TimeChange,
    TimeZoneDefinition, Transition, TransitionTarget, TransitionsGroup, XsDuration,
    day_of_week_name, parse_day_of_week,
};
use crate::xml::{Element, Ns, ParseError, Writer};

const T: Ns = Ns::Types;

impl TimeZoneDefinition {
    /// Reads a `t:TimeZoneDefinition` element, or any element with the same content
    /// (`t:StartTimeZone`, `t:EndTimeZone`).
    ///
    /// `Id` may be missing only when the definition carries periods (proto's
    /// `TimeZoneContext` is as lenient); it then reads as an empty id.
    pub fn from_xml(def: &Element) -> Result<TimeZoneDefinition, ParseError> {
        let id = match def.attr("Id") {
            Some(id) => id.to_owned(),
            None if def.child(&T, "Periods").is_some() => String::new(),
            None => def.required_attr("Id")?.to_owned(),
        };
        let mut periods = Vec::new();
        if let Some(list) = def.child(&T, "Periods") {
            for child in &list.children {
                if !child.is(&T, "Period") {
                    return Err(child.unexpected("t:Period"));
                }
                periods.push(Period {
                    bias: parse_attr_required(child, "Bias")?,
                    name: child.attr("Name").unwrap_or_default().to_owned(),
                    id: child.required_attr("Id")?.to_owned(),
                });
            }
        }
        let mut transitions_groups = Vec::new();
        if let Some(list) = def.child(&T, "TransitionsGroups") {
            for child in &list.children {
                if !child.is(&T, "TransitionsGroup") {
                    return Err(child.unexpected("t:TransitionsGroup"));
                }
                transitions_groups.push(TransitionsGroup {
                    id: child.required_attr("Id")?.to_owned(),
                    transitions: read_transitions(child)?,
                });
            }
        }
        let transitions = match def.child(&T, "Transitions") {
            Some(list) => read_transitions(list)?,
            None => Vec::new(),
        };
        Ok(TimeZoneDefinition {
            id,
            name: def.attr("Name").map(str::to_owned),
            periods,
            transitions_groups,
            transitions,
        })
    }

    /// Writes the definition as `ns:tag` (`t:TimeZoneDefinition`, `t:StartTimeZone`,
    /// `t:EndTimeZone`). An id-only definition is written as an empty element; otherwise
    /// the three lists follow, each only when it has entries.
    pub fn write(&self, w: &mut Writer, ns: &Ns, tag: &str) {
        let mut attrs: Vec<(&str, &str)> = vec![("Id", &self.id)];
        if let Some(name) = &self.name {
            attrs.push(("Name", name));
        }
        w.start(ns, tag, &attrs);
        if !self.periods.is_empty() {
            w.start(&T, "Periods", &[]);
            for period in &self.periods {
                let bias = period.bias.to_string();
                w.empty(
                    &T,
                    "Period",
                    &[("Bias", &bias), ("Name", &period.name), ("Id", &period.id)],
                );
            }
            w.end();
        }
        if !self.transitions_groups.is_empty() {
            w.start(&T, "TransitionsGroups", &[]);
            for group in &self.transitions_groups {
                w.start(&T, "TransitionsGroup", &[("Id", &group.id)]);
                for transition in &group.transitions {
                    write_transition(w, transition);
                }
                w.end();
            }
            w.end();
        }
        if !self.transitions.is_empty() {
            w.start(&T, "Transitions", &[]);
            for transition in &self.transitions {
                write_transition(w, transition);
            }
            w.end();
        }
        w.end();
    }
}

fn read_transitions(parent: &Element) -> Result<Vec<Transition>, ParseError> {
    parent.children.iter().map(read_transition).collect()
}

fn read_transition(el: &Element) -> Result<Transition, ParseError> {
    if el.ns != T {
        return Err(el.unexpected("a t:*Transition element"));
    }
    let to = read_target(el.required_child(&T, "To")?)?;
    Ok(match el.name.as_str() {
        "Transition" => Transition::Always(to),
        "AbsoluteDateTransition" => {
            let field = el.required_child(&T, "DateTime")?;
            let (date_time, offset) = parse_date_time(field.trimmed_text())
                .ok_or_else(|| field.invalid(field.trimmed_text(), "expected an xs:dateTime"))?;
            Transition::AbsoluteDate(AbsoluteDateTransition {
                to,
                date_time,
                offset,
            })
        }
        "RecurringDayTransition" => Transition::RecurringDay(RecurringDayTransition {
            to,
            time_offset: el.parse_required_child(&T, "TimeOffset")?,
            month: month(el, "Month")?,
            day_of_week: day_of_week(el.required_child(&T, "DayOfWeek")?)?,
            occurrence: {
                let field = el.required_child(&T, "Occurrence")?;
                let n: i32 = field.parse_text()?;
                if !matches!(n, -1 | 1..=4) {
                    return Err(field.invalid(field.trimmed_text(), "expected 1..4 or -1 (last)"));
                }
                n
            },
        }),
        "RecurringDateTransition" => Transition::RecurringDate(RecurringDateTransition {
            to,
            time_offset: el.parse_required_child(&T, "TimeOffset")?,
            month: month(el, "Month")?,
            day: {
                let field = el.required_child(&T, "Day")?;
                let n: u32 = field.parse_text()?;
                if !(1..=31).contains(&n) {
                    return Err(field.invalid(field.trimmed_text(), "expected a day 1..31"));
                }
                n
            },
        }),
        _ => return Err(el.unexpected("a t:*Transition element")),
    })
}

fn read_target(to: &Element) -> Result<TransitionTarget, ParseError> {
    let id = to.trimmed_text().to_owned();
    match to.required_attr("Kind")? {
        "Period" => Ok(TransitionTarget::Period(id)),
        "Group" => Ok(TransitionTarget::Group(id)),
        other => Err(to.invalid_attr("Kind", other, "expected Period or Group")),
    }
}

fn write_transition(w: &mut Writer, transition: &Transition) {
    w.start(&T, transition.element_name(), &[]);
    let to = transition.to();
    w.leaf_with_attrs(&T, "To", &[("Kind", to.kind())], to.id());
    match transition {
        Transition::Always(_) => {}
        Transition::AbsoluteDate(t) => {
            w.leaf(&T, "DateTime", &format_date_time(t.date_time, t.offset));
        }
        Transition::RecurringDay(t) => {
            w.leaf(&T, "TimeOffset", &t.time_offset.to_string());
            w.leaf(&T, "Month", &t.month.to_string());
            w.leaf(&T, "DayOfWeek", day_of_week_name(t.day_of_week));
            w.leaf(&T, "Occurrence", &t.occurrence.to_string());
        }
        Transition::RecurringDate(t) => {
            w.leaf(&T, "TimeOffset", &t.time_offset.to_string());
            w.leaf(&T, "Month", &t.month.to_string());
            w.leaf(&T, "Day", &t.day.to_string());
        }
    }
    w.end();
}

fn parse_attr_required(el: &Element, name: &str) -> Result<XsDuration, ParseError> {
    let text = el.required_attr(name)?;
    text.trim()
        .parse()
        .map_err(|e: super::TimeZoneError| el.invalid_attr(name, text, e.to_string()))
}

fn month(el: &Element, name: &str) -> Result<u32, ParseError> {
    let field = el.required_child(&T, name)?;
    let n: u32 = field.parse_text()?;
    if !(1..=12).contains(&n) {
        return Err(field.invalid(field.trimmed_text(), "expected a month 1..12"));
    }
    Ok(n)
}

fn day_of_week(field: &Element) -> Result<Weekday, ParseError> {
    parse_day_of_week(field.trimmed_text())
        .map_err(|e| field.invalid(field.trimmed_text(), e.to_string()))
}

/// `2007-01-01T00:00:00` (local), `2007-01-01T08:00:00.000Z`, `...+01:00`.
fn parse_date_time(text: &str) -> Option<(NaiveDateTime, Option<chrono::FixedOffset>)> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some((dt.naive_local(), Some(dt.offset().fix())));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|dt| (dt, None))
}

fn format_date_time(date_time: NaiveDateTime, offset: Option<chrono::FixedOffset>) -> String {
    let local = date_time.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
    match offset {
        None => local,
        Some(offset) if offset.local_minus_utc() == 0 => format!("{local}Z"),
        Some(offset) => format!("{local}{offset}"),
    }
}

impl LegacyTimeZone {
    /// Reads a legacy `t:TimeZone` block (`SerializableTimeZone`). Its children are in the
    /// types namespace, however the sender declared it.
    pub fn from_xml(el: &Element) -> Result<LegacyTimeZone, ParseError> {
        Ok(LegacyTimeZone {
            bias_minutes: el.parse_required_child(&T, "Bias")?,
            standard: read_time_change(el.required_child(&T, "StandardTime")?)?,
            daylight: read_time_change(el.required_child(&T, "DaylightTime")?)?,
        })
    }

    /// Writes the block as `ns:tag` (`t:TimeZone` in GetUserAvailability requests and
    /// `WorkingHours`), children in the types namespace.
    pub fn write(&self, w: &mut Writer, ns: &Ns, tag: &str) {
        w.start(ns, tag, &[]);
        w.leaf(&T, "Bias", &self.bias_minutes.to_string());
        write_time_change(w, "StandardTime", &self.standard);
        write_time_change(w, "DaylightTime", &self.daylight);
        w.end();
    }
}

fn read_time_change(el: &Element) -> Result<TimeChange, ParseError> {
    let time_field = el.required_child(&T, "Time")?;
    let time = parse_time(time_field.trimmed_text())
        .ok_or_else(|| time_field.invalid(time_field.trimmed_text(), "expected hh:mm:ss"))?;
    let day_order_field = el.required_child(&T, "DayOrder")?;
    let day_order: u8 = day_order_field.parse_text()?;
    if day_order > 5 {
        return Err(day_order_field.invalid(day_order_field.trimmed_text(), "expected 0..5"));
    }
    let month_field = el.required_child(&T, "Month")?;
    let month: u8 = month_field.parse_text()?;
    if month > 12 {
        return Err(month_field.invalid(month_field.trimmed_text(), "expected a month 0..12"));
    }
    Ok(TimeChange {
        bias_minutes: el.parse_required_child(&T, "Bias")?,
        time,
        day_order,
        month,
        day_of_week: day_of_week(el.required_child(&T, "DayOfWeek")?)?,
        year: el.parse_child(&T, "Year")?,
    })
}

fn write_time_change(w: &mut Writer, tag: &str, change: &TimeChange) {
    w.start(&T, tag, &[]);
    w.leaf(&T, "Bias", &change.bias_minutes.to_string());
    w.leaf(&T, "Time", &change.time.format("%H:%M:%S").to_string());
    w.leaf(&T, "DayOrder", &change.day_order.to_string());
    w.leaf(&T, "Month", &change.month.to_string());
    w.leaf(&T, "DayOfWeek", day_of_week_name(change.day_of_week));
    if let Some(year) = change.year {
        w.leaf(&T, "Year", &year.to_string());
    }
    w.end();
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const INDEXES: [&str; 5] = ["First", "Second", "Third", "Fourth", "Last"];

impl MeetingTimeZone {
    /// Reads a `t:MeetingTimeZone` (Exchange 2007 `TimeZoneType`).
    pub fn from_xml(el: &Element) -> Result<MeetingTimeZone, ParseError> {
        // Standard and Daylight come together or not at all (one optional sequence).
        let changes = match (el.child(&T, "Standard"), el.child(&T, "Daylight")) {
            (Some(standard), Some(daylight)) => Some((
                read_meeting_change(standard)?,
                read_meeting_change(daylight)?,
            )),
            (None, None) => None,
            (Some(_), None) => return Err(missing(el, "t:Daylight")),
            (None, Some(_)) => return Err(missing(el, "t:Standard")),
        };
        Ok(MeetingTimeZone {
            time_zone_name: el.attr("TimeZoneName").map(str::to_owned),
            base_offset: el.parse_child(&T, "BaseOffset")?,
            changes,
        })
    }

    /// Writes the element as `ns:tag` (`t:MeetingTimeZone`).
    pub fn write(&self, w: &mut Writer, ns: &Ns, tag: &str) {
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        if let Some(name) = &self.time_zone_name {
            attrs.push(("TimeZoneName", name));
        }
        w.start(ns, tag, &attrs);
        if let Some(base) = self.base_offset {
            w.leaf(&T, "BaseOffset", &base.to_string());
        }
        if let Some((standard, daylight)) = &self.changes {
            write_meeting_change(w, "Standard", standard);
            write_meeting_change(w, "Daylight", daylight);
        }
        w.end();
    }
}

fn missing(parent: &Element, expected: &str) -> ParseError {
    ParseError::MissingElement {
        parent: parent.qname(),
        expected: expected.to_owned(),
        line: parent.line,
        column: parent.column,
    }
}

fn read_meeting_change(el: &Element) -> Result<MeetingTimeChange, ParseError> {
    let when = if let Some(rel) = el.child(&T, "RelativeYearlyRecurrence") {
        let index_field = rel.required_child(&T, "DayOfWeekIndex")?;
        let index = INDEXES
            .iter()
            .position(|name| *name == index_field.trimmed_text())
            .ok_or_else(|| {
                index_field.invalid(index_field.trimmed_text(), "expected First..Fourth or Last")
            })?;
        let month_field = rel.required_child(&T, "Month")?;
        let month = MONTHS
            .iter()
            .position(|name| *name == month_field.trimmed_text())
            .ok_or_else(|| {
                month_field.invalid(month_field.trimmed_text(), "expected January..December")
            })?;
        MeetingTimeChangeDate::Relative {
            day_of_week: day_of_week(rel.required_child(&T, "DaysOfWeek")?)?,
            index: u8::try_from(index + 1).unwrap_or(5),
            month: u32::try_from(month + 1).unwrap_or(12),
        }
    } else {
        let field = el.required_child(&T, "AbsoluteDate")?;
        let text = field.trimmed_text();
        // xs:date may carry a zone suffix; the date is what matters.
        let date = chrono::NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d")
            .map_err(|_| field.invalid(text, "expected an xs:date"))?;
        MeetingTimeChangeDate::Absolute(date)
    };
    let time_field = el.required_child(&T, "Time")?;
    Ok(MeetingTimeChange {
        time_zone_name: el.attr("TimeZoneName").map(str::to_owned),
        offset: el.parse_required_child(&T, "Offset")?,
        when,
        time: parse_time(time_field.trimmed_text())
            .ok_or_else(|| time_field.invalid(time_field.trimmed_text(), "expected hh:mm:ss"))?,
    })
}

fn write_meeting_change(w: &mut Writer, tag: &str, change: &MeetingTimeChange) {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(name) = &change.time_zone_name {
        attrs.push(("TimeZoneName", name));
    }
    w.start(&T, tag, &attrs);
    w.leaf(&T, "Offset", &change.offset.to_string());
    match &change.when {
        MeetingTimeChangeDate::Relative {
            day_of_week,
            index,
            month,
        } => {
            w.start(&T, "RelativeYearlyRecurrence", &[]);
            w.leaf(&T, "DaysOfWeek", day_of_week_name(*day_of_week));
            let index = INDEXES
                .get(usize::from(index.saturating_sub(1)))
                .copied()
                .unwrap_or("Last");
            w.leaf(&T, "DayOfWeekIndex", index);
            let month = MONTHS
                .get(usize::try_from(month.saturating_sub(1)).unwrap_or(0))
                .copied()
                .unwrap_or("January");
            w.leaf(&T, "Month", month);
            w.end();
        }
        MeetingTimeChangeDate::Absolute(date) => {
            w.leaf(&T, "AbsoluteDate", &date.format("%Y-%m-%d").to_string());
        }
    }
    w.leaf(&T, "Time", &change.time.format("%H:%M:%S").to_string());
    w.end();
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Weekday};

    use super::*;
    use crate::xml::{Limits, parse};

    fn sample(name: &str) -> Element {
        let path = format!(
            "{}/../../shared/ews-samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse(&bytes, &Limits::default()).unwrap()
    }

    /// The first descendant `t:name`, depth first.
    fn find<'a>(el: &'a Element, name: &str) -> &'a Element {
        fn walk<'a>(el: &'a Element, name: &str) -> Option<&'a Element> {
            if el.is(&Ns::Types, name) {
                return Some(el);
            }
            el.children.iter().find_map(|c| walk(c, name))
        }
        walk(el, name).unwrap_or_else(|| panic!("no t:{name}"))
    }

    /// The element tree without positions and whitespace-only text: its shape.
    fn shape(el: &Element) -> String {
        let mut out = format!("<{}", el.qname());
        for (k, v) in &el.attrs {
            out.push_str(&format!(" {k}={v:?}"));
        }
        out.push('>');
        out.push_str(el.text.trim());
        for child in &el.children {
            out.push_str(&shape(child));
        }
        out.push_str("</>");
        out
    }

    fn written(write: impl FnOnce(&mut Writer)) -> Element {
        let mut w = Writer::fragment();
        write(&mut w);
        let text = w.into_string();
        parse(text.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn w_europe() -> TimeZoneDefinition {
        let el = sample("getservertimezones-response.xml");
        TimeZoneDefinition::from_xml(find(&el, "TimeZoneDefinition")).unwrap()
    }

    #[test]
    fn reads_the_get_server_time_zones_sample() {
        let def = w_europe();
        assert_eq!(def.id, "W. Europe Standard Time");
        assert_eq!(
            def.name.as_deref(),
            Some("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna")
        );
        assert_eq!(
            def.periods,
            vec![
                Period {
                    bias: XsDuration::from_minutes(-60),
                    name: "Standard".into(),
                    id: "std".into()
                },
                Period {
                    bias: XsDuration::from_minutes(-120),
                    name: "Daylight".into(),
                    id: "dlt".into()
                },
            ]
        );
        assert_eq!(def.transitions_groups.len(), 1);
        assert_eq!(def.transitions_groups[0].id, "0");
        assert_eq!(
            def.transitions_groups[0].transitions,
            vec![
                Transition::RecurringDay(RecurringDayTransition {
                    to: TransitionTarget::Period("std".into()),
                    time_offset: XsDuration::from_minutes(180),
                    month: 10,
                    day_of_week: Weekday::Sun,
                    occurrence: -1,
                }),
                Transition::RecurringDay(RecurringDayTransition {
                    to: TransitionTarget::Period("dlt".into()),
                    time_offset: XsDuration::from_minutes(120),
                    month: 3,
                    day_of_week: Weekday::Sun,
                    occurrence: -1,
                }),
            ]
        );
        assert_eq!(
            def.transitions,
            vec![Transition::Always(TransitionTarget::Group("0".into()))]
        );
    }

    #[test]
    fn writes_the_get_server_time_zones_sample_in_its_shape() {
        let el = sample("getservertimezones-response.xml");
        let original = find(&el, "TimeZoneDefinition");
        let def = TimeZoneDefinition::from_xml(original).unwrap();
        let ours = written(|w| def.write(w, &Ns::Types, "TimeZoneDefinition"));
        assert_eq!(shape(&ours), shape(original));
        assert_eq!(TimeZoneDefinition::from_xml(&ours).unwrap(), def);
    }

    #[test]
    fn reads_the_managed_api_pacific_definition_with_two_groups() {
        let el = sample("getuseravailability-timezonecontext-request.xml");
        let def = TimeZoneDefinition::from_xml(find(&el, "TimeZoneDefinition")).unwrap();
        assert_eq!(def.id, "Pacific Standard Time");
        // The sample double-escapes the ampersand; we keep what was sent.
        assert_eq!(
            def.name.as_deref(),
            Some("(UTC-08:00) Pacific Time (US &amp; Canada)")
        );
        assert_eq!(def.periods.len(), 3);
        assert_eq!(def.periods[0].bias, XsDuration::from_minutes(480));
        assert_eq!(
            def.period("Dlt/2007").unwrap().bias,
            XsDuration::from_minutes(420)
        );
        assert_eq!(def.group("1").unwrap().transitions.len(), 2);
        assert_eq!(
            def.transitions[1],
            Transition::AbsoluteDate(AbsoluteDateTransition {
                to: TransitionTarget::Group("1".into()),
                date_time: NaiveDate::from_ymd_opt(2007, 1, 1)
                    .unwrap()
                    .and_hms_opt(8, 0, 0)
                    .unwrap(),
                offset: Some(chrono::FixedOffset::east_opt(0).unwrap()),
            })
        );
        // Written back in Exchange's form (minutes, no fractional zero), read back equal.
        let ours = written(|w| def.write(w, &Ns::Types, "StartTimeZone"));
        assert!(ours.is(&Ns::Types, "StartTimeZone"));
        assert_eq!(find(&ours, "Period").attr("Bias"), Some("PT480M"));
        assert_eq!(find(&ours, "DateTime").text, "2007-01-01T08:00:00Z");
        assert_eq!(TimeZoneDefinition::from_xml(&ours).unwrap(), def);
    }

    #[test]
    fn an_id_only_definition_is_written_as_an_empty_element() {
        let el = sample("createitem-impersonation-request.xml");
        let def = TimeZoneDefinition::from_xml(find(&el, "TimeZoneDefinition")).unwrap();
        assert_eq!(def, TimeZoneDefinition::id_only("Pacific Standard Time"));
        let mut w = Writer::fragment();
        def.write(&mut w, &Ns::Types, "TimeZoneDefinition");
        assert_eq!(
            w.into_string(),
            r#"<t:TimeZoneDefinition xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" Id="Pacific Standard Time"/>"#
        );
    }

    #[test]
    fn absolute_dates_without_a_zone_stay_local() {
        let xml = r#"<t:TimeZoneDefinition xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" Id="X">
            <t:Periods><t:Period Bias="PT0M" Name="Standard" Id="s"/></t:Periods>
            <t:Transitions>
              <t:Transition><t:To Kind="Period">s</t:To></t:Transition>
              <t:AbsoluteDateTransition><t:To Kind="Period">s</t:To><t:DateTime>2011-12-30T00:00:00</t:DateTime></t:AbsoluteDateTransition>
              <t:AbsoluteDateTransition><t:To Kind="Period">s</t:To><t:DateTime>2012-01-01T00:00:00+14:00</t:DateTime></t:AbsoluteDateTransition>
            </t:Transitions></t:TimeZoneDefinition>"#;
        let def = TimeZoneDefinition::from_xml(&parse(xml.as_bytes(), &Limits::default()).unwrap())
            .unwrap();
        let Transition::AbsoluteDate(local) = &def.transitions[1] else {
            panic!()
        };
        assert_eq!(local.offset, None);
        let ours = written(|w| def.write(w, &Ns::Types, "TimeZoneDefinition"));
        let dates: Vec<&str> = ours.children[1]
            .children
            .iter()
            .skip(1)
            .map(|t| t.children[1].text.as_str())
            .collect();
        assert_eq!(dates, ["2011-12-30T00:00:00", "2012-01-01T00:00:00+14:00"]);
        assert_eq!(TimeZoneDefinition::from_xml(&ours).unwrap(), def);
    }

    #[test]
    fn malformed_definitions_are_errors_naming_the_element() {
        let wrap = |body: &str| {
            format!(
                r#"<t:TimeZoneDefinition xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" Id="X">{body}</t:TimeZoneDefinition>"#
            )
        };
        let day = |to: &str, inner: &str| {
            wrap(&format!(
                r#"<t:TransitionsGroups><t:TransitionsGroup Id="0"><t:RecurringDayTransition>{to}{inner}</t:RecurringDayTransition></t:TransitionsGroup></t:TransitionsGroups>"#
            ))
        };
        let to = r#"<t:To Kind="Period">s</t:To>"#;
        for (xml, needle) in [
            (r#"<t:TimeZoneDefinition xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"/>"#.to_owned(), "Id"),
            (wrap(r#"<t:Periods><t:Period Bias="60" Name="S" Id="s"/></t:Periods>"#), "must start"),
            (wrap(r#"<t:Periods><t:Period Bias="PT60M" Name="S"/></t:Periods>"#), "Id"),
            (wrap(r#"<t:Periods><t:Bogus/></t:Periods>"#), "t:Bogus"),
            (day(r#"<t:To Kind="Zone">s</t:To>"#, ""), "Period or Group"),
            (day(to, "<t:TimeOffset>PT2H</t:TimeOffset><t:Month>13</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>1</t:Occurrence>"), "month 1..12"),
            (day(to, "<t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sun</t:DayOfWeek><t:Occurrence>1</t:Occurrence>"), "Sunday..Saturday"),
            (day(to, "<t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>5</t:Occurrence>"), "-1 (last)"),
            (day(to, "<t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"), "t:Occurrence"),
            (wrap(r#"<t:Transitions><t:AbsoluteDateTransition><t:To Kind="Group">0</t:To><t:DateTime>soon</t:DateTime></t:AbsoluteDateTransition></t:Transitions>"#), "xs:dateTime"),
        ] {
            let el = parse(xml.as_bytes(), &Limits::default()).unwrap();
            let err = TimeZoneDefinition::from_xml(&el).unwrap_err().to_string();
            assert!(err.contains(needle), "{xml}\n=> {err}");
        }
    }

    #[test]
    fn reads_and_writes_the_legacy_block_of_the_availability_sample() {
        let el = sample("getuseravailability-legacy-timezone-request.xml");
        let original = find(&el, "TimeZone");
        let tz = LegacyTimeZone::from_xml(original).unwrap();
        assert_eq!(tz.bias_minutes, 480);
        assert_eq!(
            tz.standard,
            TimeChange {
                bias_minutes: 0,
                time: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
                day_order: 5,
                month: 10,
                day_of_week: Weekday::Sun,
                year: None,
            }
        );
        assert_eq!(
            (
                tz.daylight.bias_minutes,
                tz.daylight.day_order,
                tz.daylight.month
            ),
            (-60, 1, 4)
        );
        let ours = written(|w| tz.write(w, &Ns::Types, "TimeZone"));
        assert_eq!(shape(&ours), shape(original));
        assert_eq!(LegacyTimeZone::from_xml(&ours).unwrap(), tz);
    }

    #[test]
    fn reads_the_working_hours_legacy_block_of_the_freebusy_response() {
        let el = sample("getuseravailability-freebusy-response.xml");
        let tz = LegacyTimeZone::from_xml(find(&el, "TimeZone")).unwrap();
        assert_eq!((tz.standard.month, tz.standard.day_order), (11, 1));
        assert_eq!((tz.daylight.month, tz.daylight.day_order), (3, 2));
    }

    #[test]
    fn legacy_block_errors_name_the_field() {
        let wrap = |std: &str| {
            format!(
                r#"<TimeZone xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><Bias>0</Bias><StandardTime>{std}</StandardTime><DaylightTime><Bias>0</Bias><Time>00:00:00</Time><DayOrder>0</DayOrder><Month>0</Month><DayOfWeek>Sunday</DayOfWeek></DaylightTime></TimeZone>"#
            )
        };
        for (std, needle) in [
            (
                "<Bias>0</Bias><Time>25:00:00</Time><DayOrder>1</DayOrder><Month>1</Month><DayOfWeek>Sunday</DayOfWeek>",
                "hh:mm:ss",
            ),
            (
                "<Bias>0</Bias><Time>02:00:00</Time><DayOrder>6</DayOrder><Month>1</Month><DayOfWeek>Sunday</DayOfWeek>",
                "0..5",
            ),
            (
                "<Bias>0</Bias><Time>02:00:00</Time><DayOrder>1</DayOrder><Month>13</Month><DayOfWeek>Sunday</DayOfWeek>",
                "0..12",
            ),
            (
                "<Bias>x</Bias><Time>02:00:00</Time><DayOrder>1</DayOrder><Month>1</Month><DayOfWeek>Sunday</DayOfWeek>",
                "t:Bias",
            ),
            (
                "<Bias>0</Bias><Time>02:00:00</Time><DayOrder>1</DayOrder><Month>1</Month>",
                "t:DayOfWeek",
            ),
        ] {
            let xml = wrap(std);
            let el = parse(xml.as_bytes(), &Limits::default()).unwrap();
            let err = LegacyTimeZone::from_xml(&el).unwrap_err().to_string();
            assert!(err.contains(needle), "{std}\n=> {err}");
        }
    }

    #[test]
    fn meeting_time_zone_name_only_and_full_forms_round_trip() {
        let el = sample("createitem-impersonation-request.xml");
        let original = find(&el, "MeetingTimeZone");
        let tz = MeetingTimeZone::from_xml(original).unwrap();
        assert_eq!(tz.time_zone_name.as_deref(), Some("Pacific Standard Time"));
        assert_eq!((tz.base_offset, tz.changes.is_some()), (None, false));
        let ours = written(|w| tz.write(w, &Ns::Types, "MeetingTimeZone"));
        assert_eq!(shape(&ours), shape(original));

        let full = r#"<t:MeetingTimeZone xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" TimeZoneName="Pacific Standard Time">
            <t:BaseOffset>PT8H</t:BaseOffset>
            <t:Standard><t:Offset>PT0H</t:Offset><t:RelativeYearlyRecurrence><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex><t:Month>November</t:Month></t:RelativeYearlyRecurrence><t:Time>02:00:00</t:Time></t:Standard>
            <t:Daylight><t:Offset>-PT1H</t:Offset><t:RelativeYearlyRecurrence><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex><t:Month>March</t:Month></t:RelativeYearlyRecurrence><t:Time>02:00:00</t:Time></t:Daylight>
          </t:MeetingTimeZone>"#;
        let tz = MeetingTimeZone::from_xml(&parse(full.as_bytes(), &Limits::default()).unwrap())
            .unwrap();
        assert_eq!(tz.base_offset, Some(XsDuration::from_minutes(480)));
        let (standard, daylight) = tz.changes.clone().unwrap();
        assert_eq!(
            standard.when,
            MeetingTimeChangeDate::Relative {
                day_of_week: Weekday::Sun,
                index: 1,
                month: 11
            }
        );
        assert_eq!(daylight.offset, XsDuration::from_minutes(-60));
        let ours = written(|w| tz.write(w, &Ns::Types, "MeetingTimeZone"));
        assert_eq!(MeetingTimeZone::from_xml(&ours).unwrap(), tz);

        let half = r#"<t:MeetingTimeZone xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:BaseOffset>PT8H</t:BaseOffset><t:Standard><t:Offset>PT0H</t:Offset><t:AbsoluteDate>2026-11-01</t:AbsoluteDate><t:Time>02:00:00</t:Time></t:Standard></t:MeetingTimeZone>"#;
        let err = MeetingTimeZone::from_xml(&parse(half.as_bytes(), &Limits::default()).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("t:Daylight"), "{err}");
    }
}
