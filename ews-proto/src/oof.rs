//! Out of office: GetUserOofSettings and SetUserOofSettings (EWS.md §4).
//!
//! These use the availability service's shapes: `…Request` element names, a single
//! `m:ResponseMessage` without `ResponseMessages` wrapper, `t:OofSettings` in the Get response
//! but `t:UserOofSettings` in the Set request.

use serde::{Deserialize, Serialize};

use crate::error::ResponseStatus;
use crate::value::{EwsDateTime, str_enum};
use crate::xml::{Element, Ns, ParseError, Writer};

/// The availability `t:EmailAddress` type (`t:Mailbox` of OOF requests, `t:Email` of
/// `MailboxData`): `Name?`, `Address`, `RoutingType?`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    /// `Name`
    pub name: Option<String>,
    /// `Address`
    pub address: String,
    /// `RoutingType`
    pub routing_type: Option<String>,
}

impl EmailAddress {
    /// An address without name or routing type.
    pub fn new(address: impl Into<String>) -> EmailAddress {
        EmailAddress {
            name: None,
            address: address.into(),
            routing_type: None,
        }
    }

    /// Reads the element.
    pub fn from_xml(e: &Element) -> Result<EmailAddress, ParseError> {
        let t = Ns::Types;
        Ok(EmailAddress {
            name: e.text_of(&t, "Name").map(str::to_owned),
            address: e.required_text(&t, "Address")?.to_owned(),
            routing_type: e.text_of(&t, "RoutingType").map(str::to_owned),
        })
    }

    /// Writes it as `t:{tag}`.
    pub fn write(&self, w: &mut Writer, tag: &str) {
        let t = Ns::Types;
        w.start(&t, tag, &[]);
        w.opt_leaf(&t, "Name", self.name.as_deref());
        w.leaf(&t, "Address", &self.address);
        w.opt_leaf(&t, "RoutingType", self.routing_type.as_deref());
        w.end();
    }
}

str_enum! {
    /// `t:OofState`.
    OofState {
        /// Off.
        Disabled = "Disabled",
        /// On until turned off.
        Enabled = "Enabled",
        /// On only within `Duration`.
        Scheduled = "Scheduled",
    }
}

str_enum! {
    /// `t:ExternalAudience` and `AllowExternalOof`.
    ExternalAudience {
        /// Nobody outside.
        None = "None",
        /// Known contacts.
        Known = "Known",
        /// Everybody.
        All = "All",
    }
}

/// `t:Duration` of OOF settings (Exchange writes these without zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofDuration {
    /// `StartTime`
    pub start_time: EwsDateTime,
    /// `EndTime`
    pub end_time: EwsDateTime,
}

/// `t:ReplyBody`: `Message` plus optional `xml:lang`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyBody {
    /// `Message` (HTML when set by Outlook).
    pub message: String,
    /// `xml:lang`
    pub lang: Option<String>,
}

impl ReplyBody {
    fn from_xml(e: &Element) -> ReplyBody {
        ReplyBody {
            message: e
                .child(&Ns::Types, "Message")
                .map(|m| m.text.clone())
                .unwrap_or_default(),
            lang: e.attr("xml:lang").map(str::to_owned),
        }
    }

    fn write(&self, w: &mut Writer, tag: &str) {
        let mut attrs = Vec::new();
        if let Some(l) = &self.lang {
            attrs.push(("xml:lang", l.as_str()));
        }
        w.start(&Ns::Types, tag, &attrs);
        w.leaf(&Ns::Types, "Message", &self.message);
        w.end();
    }
}

/// `t:UserOofSettings` (element `OofSettings` in the Get response, `UserOofSettings` in
/// the Set request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofSettings {
    /// `OofState`
    pub oof_state: OofState,
    /// `ExternalAudience`
    pub external_audience: ExternalAudience,
    /// `Duration`
    pub duration: Option<OofDuration>,
    /// `InternalReply`
    pub internal_reply: Option<ReplyBody>,
    /// `ExternalReply`
    pub external_reply: Option<ReplyBody>,
    /// Newer optional elements (`DeclineMeetingReply`, `CreateOOFEvent`, …), kept as data.
    pub other: Vec<Element>,
}

impl OofSettings {
    /// Reads the settings element.
    pub fn from_xml(e: &Element) -> Result<OofSettings, ParseError> {
        let t = Ns::Types;
        let known = [
            "OofState",
            "ExternalAudience",
            "Duration",
            "InternalReply",
            "ExternalReply",
        ];
        let duration = match e.child(&t, "Duration") {
            Some(d) => Some(OofDuration {
                start_time: d.parse_required_child(&t, "StartTime")?,
                end_time: d.parse_required_child(&t, "EndTime")?,
            }),
            None => None,
        };
        Ok(OofSettings {
            oof_state: e.parse_required_child(&t, "OofState")?,
            external_audience: e.parse_required_child(&t, "ExternalAudience")?,
            duration,
            internal_reply: e.child(&t, "InternalReply").map(ReplyBody::from_xml),
            external_reply: e.child(&t, "ExternalReply").map(ReplyBody::from_xml),
            other: e
                .children
                .iter()
                .filter(|c| c.ns != t || !known.contains(&c.name.as_str()))
                .cloned()
                .collect(),
        })
    }

    /// Writes the settings as `t:{tag}` in schema order.
    pub fn write(&self, w: &mut Writer, tag: &str) {
        let t = Ns::Types;
        w.start(&t, tag, &[]);
        w.leaf(&t, "OofState", self.oof_state.as_str());
        w.leaf(&t, "ExternalAudience", self.external_audience.as_str());
        if let Some(d) = &self.duration {
            w.start(&t, "Duration", &[]);
            w.leaf(&t, "StartTime", &d.start_time.to_string());
            w.leaf(&t, "EndTime", &d.end_time.to_string());
            w.end();
        }
        if let Some(r) = &self.internal_reply {
            r.write(w, "InternalReply");
        }
        if let Some(r) = &self.external_reply {
            r.write(w, "ExternalReply");
        }
        for o in &self.other {
            w.element(o);
        }
        w.end();
    }
}

/// `m:GetUserOofSettingsRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetUserOofSettings {
    /// `t:Mailbox`
    pub mailbox: EmailAddress,
}

impl GetUserOofSettings {
    /// Reads the request element.
    pub fn from_xml(e: &Element) -> Result<GetUserOofSettings, ParseError> {
        Ok(GetUserOofSettings {
            mailbox: EmailAddress::from_xml(e.required_child(&Ns::Types, "Mailbox")?)?,
        })
    }

    /// Writes the request element.
    pub fn write(&self, w: &mut Writer) {
        w.start_declaring(
            &Ns::Messages,
            "GetUserOofSettingsRequest",
            &[],
            &[Ns::Types],
        );
        self.mailbox.write(w, "Mailbox");
        w.end();
    }
}

fn single_status(e: &Element) -> Result<ResponseStatus, ParseError> {
    ResponseStatus::from_xml(e.required_child(&Ns::Messages, "ResponseMessage")?)
}

fn write_single_status(w: &mut Writer, status: &ResponseStatus) {
    status.start(w, "ResponseMessage");
    w.end();
}

/// `m:GetUserOofSettingsResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetUserOofSettingsResponse {
    /// The single `m:ResponseMessage`.
    pub status: ResponseStatus,
    /// `t:OofSettings` (absent on errors).
    pub oof_settings: Option<OofSettings>,
    /// `m:AllowExternalOof`
    pub allow_external_oof: Option<ExternalAudience>,
}

impl GetUserOofSettingsResponse {
    /// Reads the response element.
    pub fn from_xml(e: &Element) -> Result<GetUserOofSettingsResponse, ParseError> {
        Ok(GetUserOofSettingsResponse {
            status: single_status(e)?,
            oof_settings: e
                .child(&Ns::Types, "OofSettings")
                .map(OofSettings::from_xml)
                .transpose()?,
            allow_external_oof: e.parse_child(&Ns::Messages, "AllowExternalOof")?,
        })
    }

    /// Writes the response element.
    pub fn write(&self, w: &mut Writer) {
        w.start_declaring(
            &Ns::Messages,
            "GetUserOofSettingsResponse",
            &[],
            &[Ns::Types],
        );
        write_single_status(w, &self.status);
        if let Some(s) = &self.oof_settings {
            s.write(w, "OofSettings");
        }
        crate::value::opt(
            w,
            &Ns::Messages,
            "AllowExternalOof",
            &self.allow_external_oof,
        );
        w.end();
    }
}

/// `m:SetUserOofSettingsRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUserOofSettings {
    /// `t:Mailbox`
    pub mailbox: EmailAddress,
    /// `t:UserOofSettings`
    pub settings: OofSettings,
}

impl SetUserOofSettings {
    /// Reads the request element.
    pub fn from_xml(e: &Element) -> Result<SetUserOofSettings, ParseError> {
        let t = Ns::Types;
        Ok(SetUserOofSettings {
            mailbox: EmailAddress::from_xml(e.required_child(&t, "Mailbox")?)?,
            settings: OofSettings::from_xml(e.required_child(&t, "UserOofSettings")?)?,
        })
    }

    /// Writes the request element.
    pub fn write(&self, w: &mut Writer) {
        w.start_declaring(
            &Ns::Messages,
            "SetUserOofSettingsRequest",
            &[],
            &[Ns::Types],
        );
        self.mailbox.write(w, "Mailbox");
        self.settings.write(w, "UserOofSettings");
        w.end();
    }
}

/// `m:SetUserOofSettingsResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUserOofSettingsResponse {
    /// The single `m:ResponseMessage`.
    pub status: ResponseStatus,
}

impl SetUserOofSettingsResponse {
    /// Reads the response element.
    pub fn from_xml(e: &Element) -> Result<SetUserOofSettingsResponse, ParseError> {
        Ok(SetUserOofSettingsResponse {
            status: single_status(e)?,
        })
    }

    /// Writes the response element.
    pub fn write(&self, w: &mut Writer) {
        w.start_declaring(
            &Ns::Messages,
            "SetUserOofSettingsResponse",
            &[],
            &[Ns::Types],
        );
        write_single_status(w, &self.status);
        w.end();
    }
}
