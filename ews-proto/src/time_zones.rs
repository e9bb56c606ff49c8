//! GetServerTimeZones: the Windows zone definitions a server knows (exchangelib calls it
//! before GetUserAvailability). The definitions are the `timezone` module's types.

use serde::{Deserialize, Serialize};

use crate::response::{Payload, Responses};
use crate::timezone::TimeZoneDefinition;
use crate::xml::{Element, Ns, ParseError, Writer};

/// `m:GetServerTimeZones`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetServerTimeZones {
    /// `ReturnFullTimeZoneData` (default true).
    pub return_full_time_zone_data: Option<bool>,
    /// `m:Ids/t:Id`: the zones asked for (`None`: all).
    pub ids: Option<Vec<String>>,
}

impl GetServerTimeZones {
    /// Reads `m:GetServerTimeZones`.
    pub fn from_xml(e: &Element) -> Result<GetServerTimeZones, ParseError> {
        Ok(GetServerTimeZones {
            return_full_time_zone_data: e.bool_attr("ReturnFullTimeZoneData")?,
            ids: e.child(&Ns::Messages, "Ids").map(|ids| {
                ids.children_named(&Ns::Types, "Id")
                    .map(|i| i.trimmed_text().to_owned())
                    .collect()
            }),
        })
    }

    /// Writes `m:GetServerTimeZones`.
    pub fn write(&self, w: &mut Writer) {
        let full = self.return_full_time_zone_data.map(|b| b.to_string());
        let mut attrs = Vec::new();
        if let Some(f) = &full {
            attrs.push(("ReturnFullTimeZoneData", f.as_str()));
        }
        w.start_declaring(&Ns::Messages, "GetServerTimeZones", &attrs, &[Ns::Types]);
        if let Some(ids) = &self.ids {
            w.start(&Ns::Messages, "Ids", &[]);
            for id in ids {
                w.leaf(&Ns::Types, "Id", id);
            }
            w.end();
        }
        w.end();
    }
}

/// `GetServerTimeZonesResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetServerTimeZonesResult {
    /// `m:TimeZoneDefinitions`
    pub definitions: Option<Vec<TimeZoneDefinition>>,
}

impl Payload for GetServerTimeZonesResult {
    const OPERATION: &'static str = "GetServerTimeZones";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(GetServerTimeZonesResult {
            definitions: msg
                .child(&Ns::Messages, "TimeZoneDefinitions")
                .map(|d| {
                    d.children_named(&Ns::Types, "TimeZoneDefinition")
                        .map(TimeZoneDefinition::from_xml)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
        })
    }
    fn write(&self, w: &mut Writer) {
        if let Some(defs) = &self.definitions {
            w.start(&Ns::Messages, "TimeZoneDefinitions", &[]);
            for d in defs {
                d.write(w, &Ns::Types, "TimeZoneDefinition");
            }
            w.end();
        }
    }
}

/// `m:GetServerTimeZonesResponse`.
pub type GetServerTimeZonesResponse = Responses<GetServerTimeZonesResult>;
