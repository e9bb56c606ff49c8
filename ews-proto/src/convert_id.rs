//! ConvertId. exchangelib uses it to probe the server version: it sends a ConvertId with a
//! deliberately invalid address and reads `ServerVersionInfo` from the error response
//! (sample `convertid-versionprobe-error-response.xml`).

use serde::{Deserialize, Serialize};

use crate::response::{Payload, Responses};
use crate::xml::{Element, Ns, ParseError, Writer};

/// The XML Schema instance namespace, bound to `xsi` for `xsi:type`.
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The `xsi:type` Exchange writes on `m:AlternateId` in a ConvertId response.
pub const ALTERNATE_ID_TYPE: &str = "t:AlternateIdType";

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

    /// Writes `t:AlternateId` (in a request) or `m:AlternateId` (in a response).
    ///
    /// In a response the element's schema type is the abstract `t:AlternateIdBaseType`, so
    /// Exchange names the concrete type with `xsi:type="t:AlternateIdType"`; the EWS Managed
    /// API and ews-javascript-api dispatch on that attribute (no attribute: no id), while
    /// exchangelib matches on the element name and ignores it. Requests name the concrete
    /// `t:AlternateId` element and carry no `xsi:type`.
    fn write(&self, w: &mut Writer, ns: &Ns) {
        let archive = self.is_archive.map(|b| b.to_string());
        let mut attrs = Vec::with_capacity(6);
        let in_response = *ns == Ns::Messages;
        if in_response {
            attrs.push(("xmlns:xsi", XSI_NS));
            attrs.push(("xsi:type", ALTERNATE_ID_TYPE));
        }
        attrs.push(("Format", self.format.as_str()));
        attrs.push(("Id", self.id.as_str()));
        attrs.push(("Mailbox", self.mailbox.as_str()));
        if let Some(a) = &archive {
            attrs.push(("IsArchive", a));
        }
        // `t:` must be in scope for the `xsi:type` value (a QName).
        let declare: &[Ns] = if in_response { &[Ns::Types] } else { &[] };
        w.start_declaring(ns, "AlternateId", &attrs, declare);
        w.end();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ResponseMessage;
    use crate::xml::{Limits, parse};

    fn id() -> AlternateId {
        AlternateId {
            format: "HexEntryId".into(),
            id: "00AB".into(),
            mailbox: "alice@contoso.com".into(),
            is_archive: None,
        }
    }

    #[test]
    fn response_alternate_id_names_its_concrete_type_with_xsi_type() {
        let response = ConvertIdResponse::single(ResponseMessage::success(ConvertIdResult {
            alternate_id: Some(id()),
        }));
        let mut w = Writer::fragment();
        response.write(&mut w);
        let xml = w.into_string();
        assert!(
            xml.contains(
                "<m:AlternateId xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xsi:type=\"t:AlternateIdType\" Format=\"HexEntryId\" Id=\"00AB\" \
                 Mailbox=\"alice@contoso.com\"/>"
            ),
            "{xml}"
        );
        // The `t:` of the QName value is declared, and the written form reads back.
        let tree = parse(xml.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(ConvertIdResponse::from_xml(&tree).unwrap(), response);
    }

    #[test]
    fn response_alternate_id_declares_t_when_written_on_its_own() {
        let mut w = Writer::fragment();
        id().write(&mut w, &Ns::Messages);
        let xml = w.into_string();
        assert!(
            xml.contains("xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\""),
            "{xml}"
        );
    }

    #[test]
    fn request_alternate_id_has_no_xsi_type() {
        let request = ConvertId {
            destination_format: "EwsId".into(),
            source_ids: vec![id()],
        };
        let mut w = Writer::fragment();
        request.write(&mut w);
        let xml = w.into_string();
        assert!(!xml.contains("xsi"), "{xml}");
        let tree = parse(xml.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(ConvertId::from_xml(&tree).unwrap(), request);
    }
}
