//! The entry points: [`Request`] and [`Response`] (one variant per operation), and
//! [`Message`], which classifies any EWS message for the decode CLI.
//!
//! Dispatch is on the namespace and local name of the first child of `soap:Body`, as
//! Exchange does (no client sends `SOAPAction`, EWS.md §1.1).

use serde::Serialize;

use crate::autodiscover::{AUTODISCOVER_NS, GetUserSettingsResponse};
use crate::availability::{GetUserAvailability, GetUserAvailabilityResponse};
use crate::calendar::{
    CreateItem, CreateItemResponse, DeleteItem, DeleteItemResponse, FindItem, FindItemResponse,
    GetItem, GetItemResponse, UpdateItem, UpdateItemResponse,
};
use crate::convert_id::{ConvertId, ConvertIdResponse};
use crate::envelope::{Envelope, write_envelope, write_streaming_envelope};
use crate::error::SoapFault;
use crate::folder::{FindFolderResponse, GetFolder, GetFolderResponse};
use crate::header::Headers;
use crate::notification::{
    GetEvents, GetEventsResponse, GetStreamingEvents, GetStreamingEventsResponse, SendNotification,
    SendNotificationResult, Subscribe, SubscribeResponse, Unsubscribe, UnsubscribeResponse,
};
use crate::oof::{
    GetUserOofSettings, GetUserOofSettingsResponse, SetUserOofSettings, SetUserOofSettingsResponse,
};
use crate::sync::{SyncFolderItems, SyncFolderItemsResponse};
use crate::time_zones::{GetServerTimeZones, GetServerTimeZonesResponse};
use crate::xml::{Element, Limits, Ns, ParseError, Writer};

/// A typed EWS request (the element inside `soap:Body` of what a client sends, or of the
/// push notification a server sends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Request {
    /// `m:ConvertId`
    ConvertId(ConvertId),
    /// `m:GetFolder`
    GetFolder(GetFolder),
    /// `m:FindItem`
    FindItem(FindItem),
    /// `m:GetItem`
    GetItem(GetItem),
    /// `m:CreateItem`
    CreateItem(CreateItem),
    /// `m:UpdateItem`
    UpdateItem(UpdateItem),
    /// `m:DeleteItem`
    DeleteItem(DeleteItem),
    /// `m:GetUserOofSettingsRequest`
    GetUserOofSettings(GetUserOofSettings),
    /// `m:SetUserOofSettingsRequest`
    SetUserOofSettings(SetUserOofSettings),
    /// `m:GetUserAvailabilityRequest`
    GetUserAvailability(GetUserAvailability),
    /// `m:Subscribe`
    Subscribe(Subscribe),
    /// `m:GetEvents`
    GetEvents(GetEvents),
    /// `m:GetStreamingEvents`
    GetStreamingEvents(GetStreamingEvents),
    /// `m:Unsubscribe`
    Unsubscribe(Unsubscribe),
    /// `m:SendNotification`
    SendNotification(SendNotification),
    /// `m:SyncFolderItems`
    SyncFolderItems(SyncFolderItems),
    /// `m:GetServerTimeZones`
    GetServerTimeZones(GetServerTimeZones),
}

impl Request {
    /// The operation name, e.g. `FindItem`.
    pub fn operation(&self) -> &'static str {
        match self {
            Request::ConvertId(_) => "ConvertId",
            Request::GetFolder(_) => "GetFolder",
            Request::FindItem(_) => "FindItem",
            Request::GetItem(_) => "GetItem",
            Request::CreateItem(_) => "CreateItem",
            Request::UpdateItem(_) => "UpdateItem",
            Request::DeleteItem(_) => "DeleteItem",
            Request::GetUserOofSettings(_) => "GetUserOofSettings",
            Request::SetUserOofSettings(_) => "SetUserOofSettings",
            Request::GetUserAvailability(_) => "GetUserAvailability",
            Request::Subscribe(_) => "Subscribe",
            Request::GetEvents(_) => "GetEvents",
            Request::GetStreamingEvents(_) => "GetStreamingEvents",
            Request::Unsubscribe(_) => "Unsubscribe",
            Request::SendNotification(_) => "SendNotification",
            Request::SyncFolderItems(_) => "SyncFolderItems",
            Request::GetServerTimeZones(_) => "GetServerTimeZones",
        }
    }

    /// Reads the request in the envelope's body.
    pub fn parse(envelope: &Envelope) -> Result<Request, ParseError> {
        Request::from_xml(&envelope.body)
    }

    /// Parses request bytes into headers and request (the fuzz target's entry point).
    pub fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<(Headers, Request), ParseError> {
        let env = Envelope::parse(bytes, limits)?;
        let req = Request::parse(&env)?;
        Ok((env.header, req))
    }

    /// Reads a request element.
    pub fn from_xml(e: &Element) -> Result<Request, ParseError> {
        if e.ns != Ns::Messages {
            return Err(unknown(e));
        }
        Ok(match e.name.as_str() {
            "ConvertId" => Request::ConvertId(ConvertId::from_xml(e)?),
            "GetFolder" => Request::GetFolder(GetFolder::from_xml(e)?),
            "FindItem" => Request::FindItem(FindItem::from_xml(e)?),
            "GetItem" => Request::GetItem(GetItem::from_xml(e)?),
            "CreateItem" => Request::CreateItem(CreateItem::from_xml(e)?),
            "UpdateItem" => Request::UpdateItem(UpdateItem::from_xml(e)?),
            "DeleteItem" => Request::DeleteItem(DeleteItem::from_xml(e)?),
            "GetUserOofSettingsRequest" => {
                Request::GetUserOofSettings(GetUserOofSettings::from_xml(e)?)
            }
            "SetUserOofSettingsRequest" => {
                Request::SetUserOofSettings(SetUserOofSettings::from_xml(e)?)
            }
            "GetUserAvailabilityRequest" => {
                Request::GetUserAvailability(GetUserAvailability::from_xml(e)?)
            }
            "Subscribe" => Request::Subscribe(Subscribe::from_xml(e)?),
            "GetEvents" => Request::GetEvents(GetEvents::from_xml(e)?),
            "GetStreamingEvents" => Request::GetStreamingEvents(GetStreamingEvents::from_xml(e)?),
            "Unsubscribe" => Request::Unsubscribe(Unsubscribe::from_xml(e)?),
            "SendNotification" => Request::SendNotification(SendNotification::from_xml(e)?),
            "SyncFolderItems" => Request::SyncFolderItems(SyncFolderItems::from_xml(e)?),
            "GetServerTimeZones" => Request::GetServerTimeZones(GetServerTimeZones::from_xml(e)?),
            _ => return Err(unknown(e)),
        })
    }

    /// Writes the request element.
    pub fn write_body(&self, w: &mut Writer) {
        match self {
            Request::ConvertId(r) => r.write(w),
            Request::GetFolder(r) => r.write(w),
            Request::FindItem(r) => r.write(w),
            Request::GetItem(r) => r.write(w),
            Request::CreateItem(r) => r.write(w),
            Request::UpdateItem(r) => r.write(w),
            Request::DeleteItem(r) => r.write(w),
            Request::GetUserOofSettings(r) => r.write(w),
            Request::SetUserOofSettings(r) => r.write(w),
            Request::GetUserAvailability(r) => r.write(w),
            Request::Subscribe(r) => r.write(w),
            Request::GetEvents(r) => r.write(w),
            Request::GetStreamingEvents(r) => r.write(w),
            Request::Unsubscribe(r) => r.write(w),
            Request::SendNotification(r) => r.write(w),
            Request::SyncFolderItems(r) => r.write(w),
            Request::GetServerTimeZones(r) => r.write(w),
        }
    }

    /// Writes a whole request document (client shape: `soap:` prefix).
    pub fn write(&self, headers: &Headers) -> Vec<u8> {
        write_envelope("soap", headers, |w| self.write_body(w))
    }
}

fn unknown(e: &Element) -> ParseError {
    ParseError::UnknownOperation {
        name: e.qname(),
        line: e.line,
        column: e.column,
    }
}

/// A typed EWS response, or a SOAP fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Response {
    /// `soap:Fault` (HTTP 500).
    Fault(SoapFault),
    /// `m:ConvertIdResponse`
    ConvertId(ConvertIdResponse),
    /// `m:GetFolderResponse`
    GetFolder(GetFolderResponse),
    /// `m:FindFolderResponse`
    FindFolder(FindFolderResponse),
    /// `m:FindItemResponse`
    FindItem(FindItemResponse),
    /// `m:GetItemResponse`
    GetItem(GetItemResponse),
    /// `m:CreateItemResponse`
    CreateItem(CreateItemResponse),
    /// `m:UpdateItemResponse`
    UpdateItem(UpdateItemResponse),
    /// `m:DeleteItemResponse`
    DeleteItem(DeleteItemResponse),
    /// `m:GetUserOofSettingsResponse`
    GetUserOofSettings(GetUserOofSettingsResponse),
    /// `m:SetUserOofSettingsResponse`
    SetUserOofSettings(SetUserOofSettingsResponse),
    /// `m:GetUserAvailabilityResponse`
    GetUserAvailability(GetUserAvailabilityResponse),
    /// `m:SubscribeResponse`
    Subscribe(SubscribeResponse),
    /// `m:GetEventsResponse`
    GetEvents(GetEventsResponse),
    /// `m:GetStreamingEventsResponse`
    GetStreamingEvents(GetStreamingEventsResponse),
    /// `m:UnsubscribeResponse`
    Unsubscribe(UnsubscribeResponse),
    /// `m:SendNotificationResult`
    SendNotificationResult(SendNotificationResult),
    /// `m:SyncFolderItemsResponse`
    SyncFolderItems(SyncFolderItemsResponse),
    /// `m:GetServerTimeZonesResponse`
    GetServerTimeZones(GetServerTimeZonesResponse),
    /// SOAP Autodiscover `GetUserSettingsResponseMessage`.
    GetUserSettings(GetUserSettingsResponse),
}

impl Response {
    /// The operation name (`Fault` for a fault).
    pub fn operation(&self) -> &'static str {
        match self {
            Response::Fault(_) => "Fault",
            Response::ConvertId(_) => "ConvertId",
            Response::GetFolder(_) => "GetFolder",
            Response::FindFolder(_) => "FindFolder",
            Response::FindItem(_) => "FindItem",
            Response::GetItem(_) => "GetItem",
            Response::CreateItem(_) => "CreateItem",
            Response::UpdateItem(_) => "UpdateItem",
            Response::DeleteItem(_) => "DeleteItem",
            Response::GetUserOofSettings(_) => "GetUserOofSettings",
            Response::SetUserOofSettings(_) => "SetUserOofSettings",
            Response::GetUserAvailability(_) => "GetUserAvailability",
            Response::Subscribe(_) => "Subscribe",
            Response::GetEvents(_) => "GetEvents",
            Response::GetStreamingEvents(_) => "GetStreamingEvents",
            Response::Unsubscribe(_) => "Unsubscribe",
            Response::SendNotificationResult(_) => "SendNotificationResult",
            Response::SyncFolderItems(_) => "SyncFolderItems",
            Response::GetServerTimeZones(_) => "GetServerTimeZones",
            Response::GetUserSettings(_) => "GetUserSettings",
        }
    }

    /// Reads the response (or fault) in the envelope's body.
    pub fn parse(envelope: &Envelope) -> Result<Response, ParseError> {
        Response::from_xml(&envelope.body)
    }

    /// Parses response bytes into headers and response.
    pub fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<(Headers, Response), ParseError> {
        let env = Envelope::parse(bytes, limits)?;
        let resp = Response::parse(&env)?;
        Ok((env.header, resp))
    }

    /// Reads a response element or `soap:Fault`.
    pub fn from_xml(e: &Element) -> Result<Response, ParseError> {
        if e.is(&Ns::Soap, "Fault") {
            return Ok(Response::Fault(SoapFault::from_xml(e)?));
        }
        if e.is(
            &Ns::Other(AUTODISCOVER_NS.to_owned()),
            "GetUserSettingsResponseMessage",
        ) {
            return Ok(Response::GetUserSettings(
                GetUserSettingsResponse::from_xml(e)?,
            ));
        }
        if e.ns != Ns::Messages {
            return Err(unknown(e));
        }
        Ok(match e.name.as_str() {
            "ConvertIdResponse" => Response::ConvertId(ConvertIdResponse::from_xml(e)?),
            "GetFolderResponse" => Response::GetFolder(GetFolderResponse::from_xml(e)?),
            "FindFolderResponse" => Response::FindFolder(FindFolderResponse::from_xml(e)?),
            "FindItemResponse" => Response::FindItem(FindItemResponse::from_xml(e)?),
            "GetItemResponse" => Response::GetItem(GetItemResponse::from_xml(e)?),
            "CreateItemResponse" => Response::CreateItem(CreateItemResponse::from_xml(e)?),
            "UpdateItemResponse" => Response::UpdateItem(UpdateItemResponse::from_xml(e)?),
            "DeleteItemResponse" => Response::DeleteItem(DeleteItemResponse::from_xml(e)?),
            "GetUserOofSettingsResponse" => {
                Response::GetUserOofSettings(GetUserOofSettingsResponse::from_xml(e)?)
            }
            "SetUserOofSettingsResponse" => {
                Response::SetUserOofSettings(SetUserOofSettingsResponse::from_xml(e)?)
            }
            "GetUserAvailabilityResponse" => {
                Response::GetUserAvailability(GetUserAvailabilityResponse::from_xml(e)?)
            }
            "SubscribeResponse" => Response::Subscribe(SubscribeResponse::from_xml(e)?),
            "GetEventsResponse" => Response::GetEvents(GetEventsResponse::from_xml(e)?),
            "GetStreamingEventsResponse" => {
                Response::GetStreamingEvents(GetStreamingEventsResponse::from_xml(e)?)
            }
            "UnsubscribeResponse" => Response::Unsubscribe(UnsubscribeResponse::from_xml(e)?),
            "SendNotificationResult" => {
                Response::SendNotificationResult(SendNotificationResult::from_xml(e)?)
            }
            "SyncFolderItemsResponse" => {
                Response::SyncFolderItems(SyncFolderItemsResponse::from_xml(e)?)
            }
            "GetServerTimeZonesResponse" => {
                Response::GetServerTimeZones(GetServerTimeZonesResponse::from_xml(e)?)
            }
            _ => return Err(unknown(e)),
        })
    }

    /// Writes the body element.
    pub fn write_body(&self, w: &mut Writer) {
        match self {
            Response::Fault(f) => f.write(w),
            Response::ConvertId(r) => r.write(w),
            Response::GetFolder(r) => r.write(w),
            Response::FindFolder(r) => r.write(w),
            Response::FindItem(r) => r.write(w),
            Response::GetItem(r) => r.write(w),
            Response::CreateItem(r) => r.write(w),
            Response::UpdateItem(r) => r.write(w),
            Response::DeleteItem(r) => r.write(w),
            Response::GetUserOofSettings(r) => r.write(w),
            Response::SetUserOofSettings(r) => r.write(w),
            Response::GetUserAvailability(r) => r.write(w),
            Response::Subscribe(r) => r.write(w),
            Response::GetEvents(r) => r.write(w),
            Response::GetStreamingEvents(r) => r.write(w),
            Response::Unsubscribe(r) => r.write(w),
            Response::SendNotificationResult(r) => r.write(w),
            Response::SyncFolderItems(r) => r.write(w),
            Response::GetServerTimeZones(r) => r.write(w),
            Response::GetUserSettings(r) => r.write(w),
        }
    }

    /// Writes a whole response document (server shape: `s:` prefix). Pass headers with a
    /// `ServerVersionInfo` for normal responses (the EWS Managed API requires a header);
    /// faults may have empty headers.
    ///
    /// GetStreamingEvents responses get the streaming shape
    /// ([`write_streaming_envelope`]).
    pub fn write(&self, headers: &Headers) -> Vec<u8> {
        if matches!(self, Response::GetStreamingEvents(_)) {
            return write_streaming_envelope(headers, |w| self.write_body(w));
        }
        write_envelope("s", headers, |w| self.write_body(w))
    }

    /// True if this body is a response rather than a request: a fault, an `…Response`
    /// element, the push listener's `SendNotificationResult`, or Autodiscover's
    /// `…ResponseMessage`.
    pub fn is_response_element(e: &Element) -> bool {
        e.is(&Ns::Soap, "Fault")
            || e.name.ends_with("Response")
            || e.name.ends_with("ResponseMessage")
            || e.is(&Ns::Messages, "SendNotificationResult")
    }
}

/// What a message is: a request or a response (including faults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum MessageBody {
    /// A request (client to server, or a push notification server to client).
    Request(Request),
    /// A response or a SOAP fault.
    Response(Response),
}

/// Any EWS message, classified: what the decode CLI prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The operation name (`Fault` for faults).
    pub operation: &'static str,
    /// The SOAP headers.
    pub headers: Headers,
    /// The typed body.
    #[serde(flatten)]
    pub body: MessageBody,
}

impl Message {
    /// Parses and classifies any EWS message.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Message, ParseError> {
        Message::from_envelope(Envelope::parse(bytes, limits)?)
    }

    /// Parses a sequence of messages, one envelope after another, as a captured
    /// GetStreamingEvents response holds (a single message gives a one-element list).
    pub fn parse_all(bytes: &[u8], limits: &Limits) -> Result<Vec<Message>, ParseError> {
        crate::xml::parse_many(bytes, limits)?
            .into_iter()
            .map(|root| Message::from_envelope(Envelope::from_element(root)?))
            .collect()
    }

    /// Classifies a parsed envelope.
    pub fn from_envelope(env: Envelope) -> Result<Message, ParseError> {
        let body = if Response::is_response_element(&env.body) {
            MessageBody::Response(Response::parse(&env)?)
        } else {
            MessageBody::Request(Request::parse(&env)?)
        };
        let operation = match &body {
            MessageBody::Request(r) => r.operation(),
            MessageBody::Response(r) => r.operation(),
        };
        Ok(Message {
            operation,
            headers: env.header,
            body,
        })
    }

    /// Writes the message back (requests with `soap:`, responses with `s:`).
    pub fn write(&self) -> Vec<u8> {
        match &self.body {
            MessageBody::Request(r) => r.write(&self.headers),
            MessageBody::Response(r) => r.write(&self.headers),
        }
    }
}
