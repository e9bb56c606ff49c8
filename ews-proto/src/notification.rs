//! Notifications (EWS.md §6): Subscribe (pull, push, streaming), GetEvents,
//! GetStreamingEvents, Unsubscribe, and the push callback pair SendNotification /
//! SendNotificationResult.
//!
//! Event children are positional for the EWS Managed API: pull and push events start with
//! `Watermark`, streaming events have none; [`Event::write`] writes exactly what the event
//! holds, in schema order, so the caller decides by filling `watermark` or not.

use serde::{Deserialize, Serialize};

use crate::item::{FolderId, FolderRef, ItemId};
use crate::response::{Payload, ResponseMessage, Responses};
use crate::value::{EwsDateTime, opt, str_enum};
use crate::xml::{Element, Ns, ParseError, Writer};

str_enum! {
    /// `t:NotificationEventTypeType`, also the element name of each event.
    EventType {
        /// Heartbeat (never subscribed to).
        StatusEvent = "StatusEvent",
        /// A new mail arrived.
        NewMailEvent = "NewMailEvent",
        /// Created.
        CreatedEvent = "CreatedEvent",
        /// Deleted.
        DeletedEvent = "DeletedEvent",
        /// Modified.
        ModifiedEvent = "ModifiedEvent",
        /// Moved.
        MovedEvent = "MovedEvent",
        /// Copied.
        CopiedEvent = "CopiedEvent",
        /// Free/busy changed (2010 SP1+).
        FreeBusyChangedEvent = "FreeBusyChangedEvent",
    }
}

/// What a subscription watches: folders (or all) and event types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionScope {
    /// `SubscribeToAllFolders` attribute.
    pub subscribe_to_all_folders: Option<bool>,
    /// `t:FolderIds`
    pub folder_ids: Option<Vec<FolderRef>>,
    /// `t:EventTypes`
    pub event_types: Vec<EventType>,
}

/// The three kinds of subscription request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subscribe {
    /// `m:PullSubscriptionRequest`
    Pull {
        /// Folders and events.
        scope: SubscriptionScope,
        /// `t:Watermark` to resume from.
        watermark: Option<String>,
        /// `t:Timeout` in minutes (1..1440).
        timeout: u32,
    },
    /// `m:PushSubscriptionRequest`
    Push {
        /// Folders and events.
        scope: SubscriptionScope,
        /// `t:Watermark` to resume from.
        watermark: Option<String>,
        /// `t:StatusFrequency` in minutes (default 30).
        status_frequency: Option<u32>,
        /// `t:URL` of the listener.
        url: String,
    },
    /// `m:StreamingSubscriptionRequest` (2010 SP1+).
    Streaming {
        /// Folders and events.
        scope: SubscriptionScope,
    },
}

fn read_scope(e: &Element) -> Result<SubscriptionScope, ParseError> {
    let t = Ns::Types;
    let types = e.required_child(&t, "EventTypes")?;
    Ok(SubscriptionScope {
        subscribe_to_all_folders: e.bool_attr("SubscribeToAllFolders")?,
        folder_ids: e
            .child(&t, "FolderIds")
            .map(FolderRef::list_from_xml)
            .transpose()?,
        event_types: types
            .children_named(&t, "EventType")
            .map(Element::parse_text)
            .collect::<Result<_, _>>()?,
    })
}

fn start_scope(w: &mut Writer, tag: &str, scope: &SubscriptionScope) {
    let t = Ns::Types;
    let all = scope.subscribe_to_all_folders.map(|b| b.to_string());
    let mut attrs = Vec::new();
    if let Some(a) = &all {
        attrs.push(("SubscribeToAllFolders", a.as_str()));
    }
    w.start(&Ns::Messages, tag, &attrs);
    if let Some(f) = &scope.folder_ids {
        w.start(&t, "FolderIds", &[]);
        for r in f {
            r.write(w);
        }
        w.end();
    }
    w.start(&t, "EventTypes", &[]);
    for e in &scope.event_types {
        w.leaf(&t, "EventType", e.as_str());
    }
    w.end();
}

impl Subscribe {
    /// Reads `m:Subscribe`.
    pub fn from_xml(e: &Element) -> Result<Subscribe, ParseError> {
        let (m, t) = (Ns::Messages, Ns::Types);
        if let Some(p) = e.child(&m, "PullSubscriptionRequest") {
            return Ok(Subscribe::Pull {
                scope: read_scope(p)?,
                watermark: p.text_of(&t, "Watermark").map(str::to_owned),
                timeout: p.parse_required_child(&t, "Timeout")?,
            });
        }
        if let Some(p) = e.child(&m, "PushSubscriptionRequest") {
            return Ok(Subscribe::Push {
                scope: read_scope(p)?,
                watermark: p.text_of(&t, "Watermark").map(str::to_owned),
                status_frequency: p.parse_child(&t, "StatusFrequency")?,
                url: p.required_text(&t, "URL")?.to_owned(),
            });
        }
        if let Some(p) = e.child(&m, "StreamingSubscriptionRequest") {
            return Ok(Subscribe::Streaming {
                scope: read_scope(p)?,
            });
        }
        Err(ParseError::MissingElement {
            parent: e.qname(),
            expected: "m:PullSubscriptionRequest, m:PushSubscriptionRequest or m:StreamingSubscriptionRequest".into(),
            line: e.line,
            column: e.column,
        })
    }

    /// Writes `m:Subscribe`.
    pub fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start_declaring(&Ns::Messages, "Subscribe", &[], &[Ns::Types]);
        match self {
            Subscribe::Pull {
                scope,
                watermark,
                timeout,
            } => {
                start_scope(w, "PullSubscriptionRequest", scope);
                w.opt_leaf(&t, "Watermark", watermark.as_deref());
                w.leaf(&t, "Timeout", &timeout.to_string());
            }
            Subscribe::Push {
                scope,
                watermark,
                status_frequency,
                url,
            } => {
                start_scope(w, "PushSubscriptionRequest", scope);
                w.opt_leaf(&t, "Watermark", watermark.as_deref());
                opt(w, &t, "StatusFrequency", status_frequency);
                w.leaf(&t, "URL", url);
            }
            Subscribe::Streaming { scope } => start_scope(w, "StreamingSubscriptionRequest", scope),
        }
        w.end();
        w.end();
    }
}

/// `SubscribeResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubscribeResult {
    /// `m:SubscriptionId`
    pub subscription_id: Option<String>,
    /// `m:Watermark` (pull and push only).
    pub watermark: Option<String>,
}

impl Payload for SubscribeResult {
    const OPERATION: &'static str = "Subscribe";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        let m = Ns::Messages;
        Ok(SubscribeResult {
            subscription_id: msg.text_of(&m, "SubscriptionId").map(str::to_owned),
            watermark: msg.text_of(&m, "Watermark").map(str::to_owned),
        })
    }
    fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.opt_leaf(&m, "SubscriptionId", self.subscription_id.as_deref());
        w.opt_leaf(&m, "Watermark", self.watermark.as_deref());
    }
}

/// `m:SubscribeResponse`.
pub type SubscribeResponse = Responses<SubscribeResult>;

/// One event of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event type (element name).
    pub kind: EventType,
    /// `Watermark` (pull and push; none in streaming).
    pub watermark: Option<String>,
    /// `TimeStamp` (absent on `StatusEvent`).
    pub time_stamp: Option<EwsDateTime>,
    /// `ItemId` for item events.
    pub item_id: Option<ItemId>,
    /// `FolderId` for folder events.
    pub folder_id: Option<FolderId>,
    /// `ParentFolderId`
    pub parent_folder_id: Option<FolderId>,
    /// `OldItemId` (moved/copied).
    pub old_item_id: Option<ItemId>,
    /// `OldFolderId` (moved/copied).
    pub old_folder_id: Option<FolderId>,
    /// `OldParentFolderId` (moved/copied).
    pub old_parent_folder_id: Option<FolderId>,
    /// `UnreadCount` (folder ModifiedEvent).
    pub unread_count: Option<u32>,
}

impl Event {
    /// An event of `kind` with nothing else set.
    pub fn new(kind: EventType) -> Event {
        Event {
            kind,
            watermark: None,
            time_stamp: None,
            item_id: None,
            folder_id: None,
            parent_folder_id: None,
            old_item_id: None,
            old_folder_id: None,
            old_parent_folder_id: None,
            unread_count: None,
        }
    }

    /// Reads an event element.
    pub fn from_xml(e: &Element) -> Result<Event, ParseError> {
        let t = Ns::Types;
        let id = |name: &str| e.child(&t, name).map(ItemId::from_xml).transpose();
        Ok(Event {
            kind: e
                .name
                .parse()
                .map_err(|err: crate::value::BadEnum| e.invalid(&e.name, err.to_string()))?,
            watermark: e.text_of(&t, "Watermark").map(str::to_owned),
            time_stamp: e.parse_child(&t, "TimeStamp")?,
            item_id: id("ItemId")?,
            folder_id: id("FolderId")?,
            parent_folder_id: id("ParentFolderId")?,
            old_item_id: id("OldItemId")?,
            old_folder_id: id("OldFolderId")?,
            old_parent_folder_id: id("OldParentFolderId")?,
            unread_count: e.parse_child(&t, "UnreadCount")?,
        })
    }

    /// Writes the event in schema order.
    pub fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start(&t, self.kind.as_str(), &[]);
        w.opt_leaf(&t, "Watermark", self.watermark.as_deref());
        opt(w, &t, "TimeStamp", &self.time_stamp);
        let ids = [
            ("ItemId", &self.item_id),
            ("FolderId", &self.folder_id),
            ("ParentFolderId", &self.parent_folder_id),
            ("OldItemId", &self.old_item_id),
            ("OldFolderId", &self.old_folder_id),
            ("OldParentFolderId", &self.old_parent_folder_id),
        ];
        for (tag, id) in ids {
            if let Some(id) = id {
                id.write(w, tag);
            }
        }
        opt(w, &t, "UnreadCount", &self.unread_count);
        w.end();
    }
}

/// `m:Notification`: `SubscriptionId`, `PreviousWatermark?`, `MoreEvents?`, events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// `t:SubscriptionId`
    pub subscription_id: String,
    /// `t:PreviousWatermark` (pull and push).
    pub previous_watermark: Option<String>,
    /// `t:MoreEvents` (pull and push).
    pub more_events: Option<bool>,
    /// The events in order.
    pub events: Vec<Event>,
}

impl Notification {
    /// Reads `m:Notification`.
    pub fn from_xml(e: &Element) -> Result<Notification, ParseError> {
        let t = Ns::Types;
        let mut events = Vec::new();
        for c in &e.children {
            if c.ns == t && c.name.ends_with("Event") {
                events.push(Event::from_xml(c)?);
            }
        }
        Ok(Notification {
            subscription_id: e.required_text(&t, "SubscriptionId")?.to_owned(),
            previous_watermark: e.text_of(&t, "PreviousWatermark").map(str::to_owned),
            more_events: e.bool_child(&t, "MoreEvents")?,
            events,
        })
    }

    /// Writes `m:Notification`.
    pub fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start(&Ns::Messages, "Notification", &[]);
        w.leaf(&t, "SubscriptionId", &self.subscription_id);
        w.opt_leaf(&t, "PreviousWatermark", self.previous_watermark.as_deref());
        opt(w, &t, "MoreEvents", &self.more_events);
        for e in &self.events {
            e.write(w);
        }
        w.end();
    }
}

/// `m:GetEvents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetEvents {
    /// `m:SubscriptionId`
    pub subscription_id: String,
    /// `m:Watermark`: the last one received.
    pub watermark: String,
}

impl GetEvents {
    /// Reads `m:GetEvents`.
    pub fn from_xml(e: &Element) -> Result<GetEvents, ParseError> {
        let m = Ns::Messages;
        Ok(GetEvents {
            subscription_id: e.required_text(&m, "SubscriptionId")?.to_owned(),
            watermark: e.required_text(&m, "Watermark")?.to_owned(),
        })
    }

    /// Writes `m:GetEvents`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "GetEvents", &[], &[Ns::Types]);
        w.leaf(&m, "SubscriptionId", &self.subscription_id);
        w.leaf(&m, "Watermark", &self.watermark);
        w.end();
    }
}

/// `GetEventsResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetEventsResult {
    /// `m:Notification`
    pub notification: Option<Notification>,
}

impl Payload for GetEventsResult {
    const OPERATION: &'static str = "GetEvents";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(GetEventsResult {
            notification: msg
                .child(&Ns::Messages, "Notification")
                .map(Notification::from_xml)
                .transpose()?,
        })
    }
    fn write(&self, w: &mut Writer) {
        if let Some(n) = &self.notification {
            n.write(w);
        }
    }
}

/// `m:GetEventsResponse`.
pub type GetEventsResponse = Responses<GetEventsResult>;

/// `m:GetStreamingEvents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetStreamingEvents {
    /// `m:SubscriptionIds/t:SubscriptionId` (up to 200).
    pub subscription_ids: Vec<String>,
    /// `m:ConnectionTimeout` in minutes (1..30).
    pub connection_timeout: u32,
}

impl GetStreamingEvents {
    /// Reads `m:GetStreamingEvents`.
    pub fn from_xml(e: &Element) -> Result<GetStreamingEvents, ParseError> {
        let m = Ns::Messages;
        let ids = e.required_child(&m, "SubscriptionIds")?;
        Ok(GetStreamingEvents {
            subscription_ids: ids
                .children_named(&Ns::Types, "SubscriptionId")
                .map(|c| c.trimmed_text().to_owned())
                .collect(),
            connection_timeout: e.parse_required_child(&m, "ConnectionTimeout")?,
        })
    }

    /// Writes `m:GetStreamingEvents`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "GetStreamingEvents", &[], &[Ns::Types]);
        w.start(&m, "SubscriptionIds", &[]);
        for id in &self.subscription_ids {
            w.leaf(&Ns::Types, "SubscriptionId", id);
        }
        w.end();
        w.leaf(
            &m,
            "ConnectionTimeout",
            &self.connection_timeout.to_string(),
        );
        w.end();
    }
}

/// `GetStreamingEventsResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetStreamingEventsResult {
    /// `m:Notifications` (one per subscription with events).
    pub notifications: Option<Vec<Notification>>,
    /// `m:ErrorSubscriptionIds`
    pub error_subscription_ids: Option<Vec<String>>,
    /// `m:ConnectionStatus`: `OK` or `Closed`.
    pub connection_status: Option<String>,
}

impl Payload for GetStreamingEventsResult {
    const OPERATION: &'static str = "GetStreamingEvents";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        let m = Ns::Messages;
        Ok(GetStreamingEventsResult {
            notifications: msg
                .child(&m, "Notifications")
                .map(|n| {
                    n.children_named(&m, "Notification")
                        .map(Notification::from_xml)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
            error_subscription_ids: msg.child(&m, "ErrorSubscriptionIds").map(|e| {
                e.children_named(&m, "SubscriptionId")
                    .map(|c| c.trimmed_text().to_owned())
                    .collect()
            }),
            connection_status: msg.text_of(&m, "ConnectionStatus").map(str::to_owned),
        })
    }
    fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        if let Some(list) = &self.notifications {
            w.start(&m, "Notifications", &[]);
            for n in list {
                n.write(w);
            }
            w.end();
        }
        if let Some(ids) = &self.error_subscription_ids {
            w.start(&m, "ErrorSubscriptionIds", &[]);
            for id in ids {
                w.leaf(&m, "SubscriptionId", id);
            }
            w.end();
        }
        w.opt_leaf(&m, "ConnectionStatus", self.connection_status.as_deref());
    }
}

/// `m:GetStreamingEventsResponse`. On the wire each envelope of the stream holds one; write
/// each with [`crate::write_streaming_envelope`] to get Exchange's unprefixed `<Envelope>`.
pub type GetStreamingEventsResponse = Responses<GetStreamingEventsResult>;

/// `m:Unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsubscribe {
    /// `m:SubscriptionId`
    pub subscription_id: String,
}

impl Unsubscribe {
    /// Reads `m:Unsubscribe`.
    pub fn from_xml(e: &Element) -> Result<Unsubscribe, ParseError> {
        Ok(Unsubscribe {
            subscription_id: e.required_text(&Ns::Messages, "SubscriptionId")?.to_owned(),
        })
    }

    /// Writes `m:Unsubscribe`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "Unsubscribe", &[], &[Ns::Types]);
        w.leaf(&m, "SubscriptionId", &self.subscription_id);
        w.end();
    }
}

/// `UnsubscribeResponseMessage` has no payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnsubscribeResult;

impl Payload for UnsubscribeResult {
    const OPERATION: &'static str = "Unsubscribe";
    fn from_message(_msg: &Element) -> Result<Self, ParseError> {
        Ok(UnsubscribeResult)
    }
    fn write(&self, _w: &mut Writer) {}
}

/// `m:UnsubscribeResponse`.
pub type UnsubscribeResponse = Responses<UnsubscribeResult>;

/// The payload of a pushed `SendNotificationResponseMessage`: exactly one notification
/// (none on some error messages).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SendNotificationPayload {
    /// `m:Notification`
    pub notification: Option<Notification>,
}

impl Payload for SendNotificationPayload {
    const OPERATION: &'static str = "SendNotification";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(SendNotificationPayload {
            notification: msg
                .child(&Ns::Messages, "Notification")
                .map(Notification::from_xml)
                .transpose()?,
        })
    }
    fn write(&self, w: &mut Writer) {
        if let Some(n) = &self.notification {
            n.write(w);
        }
    }
}

/// `m:SendNotification`: what a server POSTs to a push listener. Its body is a response
/// type (`m:ResponseMessages/m:SendNotificationResponseMessage`) although the element is
/// the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendNotification {
    /// The messages (one per push).
    pub messages: Vec<ResponseMessage<SendNotificationPayload>>,
}

impl SendNotification {
    /// Reads `m:SendNotification`.
    pub fn from_xml(e: &Element) -> Result<SendNotification, ParseError> {
        Ok(SendNotification {
            messages: Responses::<SendNotificationPayload>::from_xml_named(e, "SendNotification")?
                .messages,
        })
    }

    /// Writes `m:SendNotification`.
    pub fn write(&self, w: &mut Writer) {
        Responses {
            messages: self.messages.clone(),
        }
        .write_named(w, "SendNotification");
    }
}

str_enum! {
    /// `m:SubscriptionStatus` of a push listener's reply.
    SubscriptionStatus {
        /// Keep sending.
        Ok = "OK",
        /// End the subscription.
        Unsubscribe = "Unsubscribe",
    }
}

/// `m:SendNotificationResult`: the push listener's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendNotificationResult {
    /// `m:SubscriptionStatus`
    pub subscription_status: SubscriptionStatus,
}

impl SendNotificationResult {
    /// Reads `m:SendNotificationResult`.
    pub fn from_xml(e: &Element) -> Result<SendNotificationResult, ParseError> {
        Ok(SendNotificationResult {
            subscription_status: e.parse_required_child(&Ns::Messages, "SubscriptionStatus")?,
        })
    }

    /// Writes `m:SendNotificationResult`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "SendNotificationResult", &[], &[Ns::Types]);
        w.leaf(&m, "SubscriptionStatus", self.subscription_status.as_str());
        w.end();
    }
}
