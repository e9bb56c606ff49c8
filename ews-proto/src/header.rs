//! The SOAP headers EWS uses (EWS.md §1.2, §1.3, §2.1), typed and in any order.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::xml::{Element, Ns, ParseError, Writer};

/// `t:ExchangeVersionType`, as sent in `RequestServerVersion/@Version` and returned in
/// `ServerVersionInfo/@Version`. Unknown values (Exchange 2013's `V2_11`, future ones) are
/// kept verbatim in [`ExchangeVersion::Other`] so a server can answer
/// `ErrorInvalidServerVersion` and a decoder can show them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, missing_docs)]
pub enum ExchangeVersion {
    Exchange2007,
    Exchange2007_SP1,
    Exchange2009,
    Exchange2010,
    Exchange2010_SP1,
    Exchange2010_SP2,
    Exchange2012,
    Exchange2013,
    Exchange2013_SP1,
    Exchange2015,
    Exchange2016,
    V2015_10_05,
    V2016_01_06,
    V2016_04_13,
    V2016_07_13,
    V2016_10_10,
    V2017_01_07,
    V2017_04_14,
    V2017_07_11,
    V2017_10_09,
    V2018_01_08,
    /// A value outside the schema's list, kept verbatim.
    Other(String),
}

const KNOWN_VERSIONS: [(ExchangeVersion, &str); 21] = [
    (ExchangeVersion::Exchange2007, "Exchange2007"),
    (ExchangeVersion::Exchange2007_SP1, "Exchange2007_SP1"),
    (ExchangeVersion::Exchange2009, "Exchange2009"),
    (ExchangeVersion::Exchange2010, "Exchange2010"),
    (ExchangeVersion::Exchange2010_SP1, "Exchange2010_SP1"),
    (ExchangeVersion::Exchange2010_SP2, "Exchange2010_SP2"),
    (ExchangeVersion::Exchange2012, "Exchange2012"),
    (ExchangeVersion::Exchange2013, "Exchange2013"),
    (ExchangeVersion::Exchange2013_SP1, "Exchange2013_SP1"),
    (ExchangeVersion::Exchange2015, "Exchange2015"),
    (ExchangeVersion::Exchange2016, "Exchange2016"),
    (ExchangeVersion::V2015_10_05, "V2015_10_05"),
    (ExchangeVersion::V2016_01_06, "V2016_01_06"),
    (ExchangeVersion::V2016_04_13, "V2016_04_13"),
    (ExchangeVersion::V2016_07_13, "V2016_07_13"),
    (ExchangeVersion::V2016_10_10, "V2016_10_10"),
    (ExchangeVersion::V2017_01_07, "V2017_01_07"),
    (ExchangeVersion::V2017_04_14, "V2017_04_14"),
    (ExchangeVersion::V2017_07_11, "V2017_07_11"),
    (ExchangeVersion::V2017_10_09, "V2017_10_09"),
    (ExchangeVersion::V2018_01_08, "V2018_01_08"),
];

impl ExchangeVersion {
    /// Parses a version; never fails (unknown values become `Other`).
    pub fn parse(s: &str) -> ExchangeVersion {
        KNOWN_VERSIONS
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| ExchangeVersion::Other(s.to_owned()))
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ExchangeVersion::Other(s) => s,
            known => KNOWN_VERSIONS
                .iter()
                .find(|(v, _)| v == known)
                .map(|(_, name)| *name)
                .unwrap_or(""),
        }
    }

    /// True for the values in the schema's `ExchangeVersionType`.
    pub fn is_known(&self) -> bool {
        !matches!(self, ExchangeVersion::Other(_))
    }
}

impl fmt::Display for ExchangeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ExchangeVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExchangeVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ExchangeVersion::parse(&s))
    }
}

/// Who `ExchangeImpersonation/ConnectingSID` names (exactly one of four forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectingSid {
    /// `t:PrimarySmtpAddress` (exchangelib's default).
    PrimarySmtpAddress(String),
    /// `t:SmtpAddress` (EWS Managed API).
    SmtpAddress(String),
    /// `t:PrincipalName` (a UPN).
    PrincipalName(String),
    /// `t:SID`.
    Sid(String),
}

impl ConnectingSid {
    /// The address or name, whichever form it is.
    pub fn value(&self) -> &str {
        match self {
            ConnectingSid::PrimarySmtpAddress(v)
            | ConnectingSid::SmtpAddress(v)
            | ConnectingSid::PrincipalName(v)
            | ConnectingSid::Sid(v) => v,
        }
    }

    fn element_name(&self) -> &'static str {
        match self {
            ConnectingSid::PrimarySmtpAddress(_) => "PrimarySmtpAddress",
            ConnectingSid::SmtpAddress(_) => "SmtpAddress",
            ConnectingSid::PrincipalName(_) => "PrincipalName",
            ConnectingSid::Sid(_) => "SID",
        }
    }

    fn from_xml(sid: &Element) -> Result<ConnectingSid, ParseError> {
        let t = Ns::Types;
        for child in &sid.children {
            if child.ns != t {
                continue;
            }
            let v = child.trimmed_text().to_owned();
            match child.name.as_str() {
                "PrimarySmtpAddress" => return Ok(ConnectingSid::PrimarySmtpAddress(v)),
                "SmtpAddress" => return Ok(ConnectingSid::SmtpAddress(v)),
                "PrincipalName" => return Ok(ConnectingSid::PrincipalName(v)),
                "SID" => return Ok(ConnectingSid::Sid(v)),
                _ => {}
            }
        }
        Err(ParseError::MissingElement {
            parent: sid.qname(),
            expected: "t:PrimarySmtpAddress|t:SmtpAddress|t:PrincipalName|t:SID".into(),
            line: sid.line,
            column: sid.column,
        })
    }
}

/// `t:TimeZoneContext/t:TimeZoneDefinition`: the zone in which the server interprets
/// zone-less times of this request.
///
/// `id` and `name` are the attributes every client sends; a full definition body
/// (Periods/TransitionsGroups/Transitions, as the Managed API sends for Exchange2010) is kept
/// as the `definition` element so nothing is lost; the `timezone` module reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeZoneContext {
    /// The Windows zone id (`Id` attribute), e.g. `W. Europe Standard Time`.
    pub id: String,
    /// The display name (`Name` attribute), if sent.
    pub name: Option<String>,
    /// The whole `t:TimeZoneDefinition` element when it has a body (periods and
    /// transitions); `None` for the usual bare `<t:TimeZoneDefinition Id="…"/>`.
    pub definition: Option<Element>,
}

impl TimeZoneContext {
    /// A context naming only a Windows zone id.
    pub fn id(id: impl Into<String>) -> TimeZoneContext {
        TimeZoneContext {
            id: id.into(),
            name: None,
            definition: None,
        }
    }

    /// The typed definition (`timezone::TimeZoneDefinition`): the full one when the
    /// element had a body, else one naming only the id (and name).
    pub fn to_definition(&self) -> Result<crate::timezone::TimeZoneDefinition, ParseError> {
        match &self.definition {
            Some(def) => crate::timezone::TimeZoneDefinition::from_xml(def),
            None => {
                let mut def = crate::timezone::TimeZoneDefinition::id_only(self.id.clone());
                def.name = self.name.clone();
                Ok(def)
            }
        }
    }

    /// Reads `t:TimeZoneContext`.
    pub fn from_xml(ctx: &Element) -> Result<TimeZoneContext, ParseError> {
        let def = ctx.required_child(&Ns::Types, "TimeZoneDefinition")?;
        TimeZoneContext::from_definition(def)
    }

    /// Reads a `t:TimeZoneDefinition` element (also used for `StartTimeZone`-like
    /// elements that carry `Id`/`Name`).
    pub fn from_definition(def: &Element) -> Result<TimeZoneContext, ParseError> {
        let id = def.attr("Id").unwrap_or_default().to_owned();
        if id.is_empty() && def.children.is_empty() {
            return Err(ParseError::MissingAttribute {
                element: def.qname(),
                attr: "Id".into(),
                line: def.line,
                column: def.column,
            });
        }
        let definition = (!def.children.is_empty()).then(|| def.clone());
        if let Some(full) = &definition {
            // Validate the periods and transitions now, so a bad one is reported where it is.
            crate::timezone::TimeZoneDefinition::from_xml(full)?;
        }
        Ok(TimeZoneContext {
            id,
            name: def.attr("Name").map(str::to_owned),
            definition,
        })
    }

    /// Writes `<t:TimeZoneContext><t:TimeZoneDefinition …/></t:TimeZoneContext>`.
    pub fn write(&self, w: &mut Writer) {
        w.start(&Ns::Types, "TimeZoneContext", &[]);
        self.write_definition(w, &Ns::Types, "TimeZoneDefinition");
        w.end();
    }

    /// Writes the definition element under the given name (`TimeZoneDefinition`,
    /// `StartTimeZone`, `EndTimeZone`).
    pub fn write_definition(&self, w: &mut Writer, ns: &Ns, tag: &str) {
        match &self.definition {
            Some(def) => {
                let mut def = def.clone();
                def.ns = ns.clone();
                def.name = tag.to_owned();
                w.element(&def);
            }
            None => {
                let mut attrs: Vec<(&str, &str)> = Vec::new();
                if let Some(name) = &self.name {
                    attrs.push(("Name", name));
                }
                attrs.push(("Id", &self.id));
                w.empty(ns, tag, &attrs);
            }
        }
    }
}

/// `t:DateTimePrecision` (2010 SP2+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateTimePrecision {
    /// `Seconds`
    Seconds,
    /// `Milliseconds`
    Milliseconds,
}

/// `t:ServerVersionInfo` (response header). All attributes are optional in the schema and
/// `Version` is really absent on Exchange 2007 RTM and some 2010 SP3 builds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerVersionInfo {
    /// `MajorVersion`, e.g. 15.
    pub major_version: Option<u32>,
    /// `MinorVersion`, e.g. 1.
    pub minor_version: Option<u32>,
    /// `MajorBuildNumber`, e.g. 2507.
    pub major_build_number: Option<u32>,
    /// `MinorBuildNumber`, e.g. 57.
    pub minor_build_number: Option<u32>,
    /// `Version`, e.g. `V2017_07_11`, if present.
    pub version: Option<ExchangeVersion>,
}

impl ServerVersionInfo {
    fn from_xml(e: &Element) -> Result<ServerVersionInfo, ParseError> {
        Ok(ServerVersionInfo {
            major_version: e.parse_attr("MajorVersion")?,
            minor_version: e.parse_attr("MinorVersion")?,
            major_build_number: e.parse_attr("MajorBuildNumber")?,
            minor_build_number: e.parse_attr("MinorBuildNumber")?,
            version: e.attr("Version").map(ExchangeVersion::parse),
        })
    }

    fn write(&self, w: &mut Writer) {
        let nums = [
            ("MajorVersion", self.major_version),
            ("MinorVersion", self.minor_version),
            ("MajorBuildNumber", self.major_build_number),
            ("MinorBuildNumber", self.minor_build_number),
        ];
        let values: Vec<(&str, String)> = nums
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v.to_string())))
            .collect();
        let mut attrs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(v) = &self.version {
            attrs.push(("Version", v.as_str()));
        }
        w.empty(&Ns::Types, "ServerVersionInfo", &attrs);
    }
}

/// The SOAP headers of a request or response. Every field is optional; unknown header
/// elements are kept in `other` (a server may ignore them, a decoder shows them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Headers {
    /// `t:RequestServerVersion/@Version`.
    pub request_server_version: Option<ExchangeVersion>,
    /// `t:ExchangeImpersonation/t:ConnectingSID`.
    pub impersonation: Option<ConnectingSid>,
    /// `t:TimeZoneContext`.
    pub time_zone_context: Option<TimeZoneContext>,
    /// `t:MailboxCulture`, e.g. `en-US`.
    pub mailbox_culture: Option<String>,
    /// `t:DateTimePrecision`.
    pub date_time_precision: Option<DateTimePrecision>,
    /// `t:ServerVersionInfo` (responses).
    pub server_version_info: Option<ServerVersionInfo>,
    /// Header elements we do not model, kept as data.
    pub other: Vec<Element>,
}

impl Headers {
    /// Request headers with just a `RequestServerVersion`.
    pub fn request(version: ExchangeVersion) -> Headers {
        Headers {
            request_server_version: Some(version),
            ..Headers::default()
        }
    }

    /// Response headers with just a `ServerVersionInfo`.
    pub fn response(info: ServerVersionInfo) -> Headers {
        Headers {
            server_version_info: Some(info),
            ..Headers::default()
        }
    }

    /// True if no header would be written.
    pub fn is_empty(&self) -> bool {
        *self == Headers::default()
    }

    /// Reads the children of `soap:Header`, in any order.
    pub fn from_xml(header: &Element) -> Result<Headers, ParseError> {
        let mut h = Headers::default();
        for child in &header.children {
            if child.ns != Ns::Types {
                h.other.push(child.clone());
                continue;
            }
            match child.name.as_str() {
                "RequestServerVersion" => {
                    let v = child.required_attr("Version")?;
                    h.request_server_version = Some(ExchangeVersion::parse(v.trim()));
                }
                "ExchangeImpersonation" => {
                    let sid = child.required_child(&Ns::Types, "ConnectingSID")?;
                    h.impersonation = Some(ConnectingSid::from_xml(sid)?);
                }
                "TimeZoneContext" => {
                    h.time_zone_context = Some(TimeZoneContext::from_xml(child)?);
                }
                "MailboxCulture" => h.mailbox_culture = Some(child.trimmed_text().to_owned()),
                "DateTimePrecision" => {
                    h.date_time_precision = Some(match child.trimmed_text() {
                        "Seconds" => DateTimePrecision::Seconds,
                        "Milliseconds" => DateTimePrecision::Milliseconds,
                        other => {
                            return Err(child.invalid(other, "expected Seconds or Milliseconds"));
                        }
                    });
                }
                "ServerVersionInfo" => {
                    h.server_version_info = Some(ServerVersionInfo::from_xml(child)?);
                }
                _ => h.other.push(child.clone()),
            }
        }
        Ok(h)
    }

    /// Writes the header children in the EWS Managed API's order: `RequestServerVersion`,
    /// `TimeZoneContext`, `MailboxCulture`, `DateTimePrecision`, `ExchangeImpersonation`,
    /// then `ServerVersionInfo` and any others.
    pub fn write(&self, w: &mut Writer) {
        if let Some(v) = &self.request_server_version {
            w.empty(
                &Ns::Types,
                "RequestServerVersion",
                &[("Version", v.as_str())],
            );
        }
        if let Some(tz) = &self.time_zone_context {
            tz.write(w);
        }
        if let Some(c) = &self.mailbox_culture {
            w.leaf(&Ns::Types, "MailboxCulture", c);
        }
        if let Some(p) = &self.date_time_precision {
            let text = match p {
                DateTimePrecision::Seconds => "Seconds",
                DateTimePrecision::Milliseconds => "Milliseconds",
            };
            w.leaf(&Ns::Types, "DateTimePrecision", text);
        }
        if let Some(sid) = &self.impersonation {
            w.start(&Ns::Types, "ExchangeImpersonation", &[]);
            w.start(&Ns::Types, "ConnectingSID", &[]);
            w.leaf(&Ns::Types, sid.element_name(), sid.value());
            w.end();
            w.end();
        }
        if let Some(info) = &self.server_version_info {
            info.write(w);
        }
        for other in &self.other {
            w.element(other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_round_trips_and_keeps_unknown_values() {
        assert_eq!(
            ExchangeVersion::parse("Exchange2013_SP1"),
            ExchangeVersion::Exchange2013_SP1
        );
        assert_eq!(
            ExchangeVersion::Exchange2013_SP1.as_str(),
            "Exchange2013_SP1"
        );
        let v = ExchangeVersion::parse("V2_11");
        assert_eq!(v, ExchangeVersion::Other("V2_11".into()));
        assert!(!v.is_known());
        for (v, name) in &KNOWN_VERSIONS {
            assert_eq!(v.as_str(), *name);
        }
    }
}
