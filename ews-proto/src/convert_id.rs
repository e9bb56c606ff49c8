//! ConvertId. exchangelib uses it to probe the server version: it sends a ConvertId with a
//! deliberately invalid address and reads `ServerVersionInfo` from the error response
//! (sample `convertid-versionprobe-error-response.xml`).

use serde::{Deserialize, Serialize};

use crate::response::{Payload, Responses};
use crate::xml::{Element, Ns, ParseError, Writer};

/// `t:AlternateId` (`Format`, `Id`, `Mailbox`, optional `IsArchive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternateId {
    /// `Format`: `EwsId`, `EwsLegacyId`, `EntryId`, `HexEntryId`, `StoreId`, `OwaId`.
    pub format: String,
    /// `Id`
    pub id: String,
    /// `Mailbox`: the SMTP address of the mailbox holding the item.
    pub mailbox: String,
    /// `IsArchive`
    pub is_archive: Option<bool>,
}

impl AlternateId {
    fn from_xml(e: &Element) -> Result<AlternateId, ParseError> {
        Ok(AlternateId {
            format: e.required_attr("Format")?.to_owned(),
            id: e.required_attr("Id")?.to_owned(),
            mailbox: e.required_attr("Mailbox")?.to_owned(),
            is_archive: e.bool_attr("IsArchive")?,
        })
    }

    fn write(&self, w: &mut Writer, ns: &Ns) {
        let archive = self.is_archive.map(|b| b.to_string());
        let mut attrs = vec![
            ("Format", self.format.as_str()),
            ("Id", self.id.as_str()),
            ("Mailbox", self.mailbox.as_str()),
        ];
        if let Some(a) = &archive {
            attrs.push(("IsArchive", a));
        }
        w.empty(ns, "AlternateId", &attrs);
    }
}

/// `m:ConvertId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvertId {
    /// `DestinationFormat`
    pub destination_format: String,
    /// `m:SourceIds/t:AlternateId`
    pub source_ids: Vec<AlternateId>,
}

impl ConvertId {
    /// Reads `m:ConvertId`.
    pub fn from_xml(e: &Element) -> Result<ConvertId, ParseError> {
        let ids = e.required_child(&Ns::Messages, "SourceIds")?;
        Ok(ConvertId {
            destination_format: e.required_attr("DestinationFormat")?.to_owned(),
            source_ids: ids
                .children_named(&Ns::Types, "AlternateId")
                .map(AlternateId::from_xml)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Writes `m:ConvertId`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(
            &m,
            "ConvertId",
            &[("DestinationFormat", &self.destination_format)],
            &[Ns::Types],
        );
        w.start(&m, "SourceIds", &[]);
        for id in &self.source_ids {
            id.write(w, &Ns::Types);
        }
        w.end();
        w.end();
    }
}

/// `ConvertIdResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConvertIdResult {
    /// `m:AlternateId` (absent on errors).
    pub alternate_id: Option<AlternateId>,
}

impl Payload for ConvertIdResult {
    const OPERATION: &'static str = "ConvertId";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(ConvertIdResult {
            alternate_id: msg
                .child(&Ns::Messages, "AlternateId")
                .map(AlternateId::from_xml)
                .transpose()?,
        })
    }
    fn write(&self, w: &mut Writer) {
        if let Some(a) = &self.alternate_id {
            a.write(w, &Ns::Messages);
        }
    }
}

/// `m:ConvertIdResponse`.
pub type ConvertIdResponse = Responses<ConvertIdResult>;
