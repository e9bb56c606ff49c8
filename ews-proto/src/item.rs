//! Items and the references to them: ids, folders, mailboxes, shapes, property paths, and
//! `t:CalendarItem` with the fields real clients use (EWS.md §3.2-§3.5).

use serde::{Deserialize, Serialize};

use crate::header::TimeZoneContext;
use crate::recurrence::{OccurrenceInfo, Recurrence};
use crate::value::{EwsDateTime, opt, str_enum};
use crate::xml::{Element, Ns, ParseError, Writer};

/// `t:ItemId` (also used for `FolderId`, `ParentFolderId`: `Id` plus optional `ChangeKey`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemId {
    /// `Id`: opaque base64.
    pub id: String,
    /// `ChangeKey`: changes on every modification.
    pub change_key: Option<String>,
}

impl ItemId {
    /// An id without change key.
    pub fn new(id: impl Into<String>) -> ItemId {
        ItemId {
            id: id.into(),
            change_key: None,
        }
    }

    /// An id with change key.
    pub fn with_change_key(id: impl Into<String>, change_key: impl Into<String>) -> ItemId {
        ItemId {
            id: id.into(),
            change_key: Some(change_key.into()),
        }
    }

    /// Reads `Id`/`ChangeKey` from any id-shaped element.
    pub fn from_xml(e: &Element) -> Result<ItemId, ParseError> {
        Ok(ItemId {
            id: e.required_attr("Id")?.to_owned(),
            change_key: e.attr("ChangeKey").map(str::to_owned),
        })
    }

    /// Writes `<t:{tag} Id="…" ChangeKey="…"/>`.
    pub fn write(&self, w: &mut Writer, tag: &str) {
        match &self.change_key {
            Some(ck) => w.empty(&Ns::Types, tag, &[("Id", &self.id), ("ChangeKey", ck)]),
            None => w.empty(&Ns::Types, tag, &[("Id", &self.id)]),
        }
    }
}

/// A folder id: `t:FolderId` has the same shape as an item id.
pub type FolderId = ItemId;

/// `t:EmailAddressType` (`t:Mailbox`, organizer and attendee mailboxes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mailbox {
    /// `Name`
    pub name: Option<String>,
    /// `EmailAddress`
    pub email_address: Option<String>,
    /// `RoutingType`, usually `SMTP`.
    pub routing_type: Option<String>,
    /// `MailboxType`, e.g. `Mailbox`.
    pub mailbox_type: Option<String>,
    /// `ItemId` (contacts and groups).
    pub item_id: Option<ItemId>,
}

impl Mailbox {
    /// A mailbox with just an SMTP address.
    pub fn smtp(address: impl Into<String>) -> Mailbox {
        Mailbox {
            email_address: Some(address.into()),
            ..Mailbox::default()
        }
    }

    /// Reads a `t:Mailbox`-shaped element.
    pub fn from_xml(e: &Element) -> Result<Mailbox, ParseError> {
        let t = Ns::Types;
        Ok(Mailbox {
            name: e.text_of(&t, "Name").map(str::to_owned),
            email_address: e.text_of(&t, "EmailAddress").map(str::to_owned),
            routing_type: e.text_of(&t, "RoutingType").map(str::to_owned),
            mailbox_type: e.text_of(&t, "MailboxType").map(str::to_owned),
            item_id: e.child(&t, "ItemId").map(ItemId::from_xml).transpose()?,
        })
    }

    /// Writes it as `t:{tag}` in schema order.
    pub fn write(&self, w: &mut Writer, tag: &str) {
        let t = Ns::Types;
        w.start(&t, tag, &[]);
        w.opt_leaf(&t, "Name", self.name.as_deref());
        w.opt_leaf(&t, "EmailAddress", self.email_address.as_deref());
        w.opt_leaf(&t, "RoutingType", self.routing_type.as_deref());
        w.opt_leaf(&t, "MailboxType", self.mailbox_type.as_deref());
        if let Some(id) = &self.item_id {
            id.write(w, "ItemId");
        }
        w.end();
    }
}

/// `t:DistinguishedFolderId`: a well-known folder, optionally in another mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistinguishedFolderId {
    /// `Id`: `calendar`, `root`, `msgfolderroot`, `inbox`, …
    pub id: String,
    /// `ChangeKey`
    pub change_key: Option<String>,
    /// `t:Mailbox` (exchangelib always sends it).
    pub mailbox: Option<Mailbox>,
}

/// A folder reference: `t:FolderId` or `t:DistinguishedFolderId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FolderRef {
    /// `t:FolderId`
    FolderId(FolderId),
    /// `t:DistinguishedFolderId`
    Distinguished(DistinguishedFolderId),
}

impl FolderRef {
    /// `<t:DistinguishedFolderId Id="{id}"/>`.
    pub fn distinguished(id: impl Into<String>) -> FolderRef {
        FolderRef::Distinguished(DistinguishedFolderId {
            id: id.into(),
            change_key: None,
            mailbox: None,
        })
    }

    /// Reads one folder reference element, or `None` if `e` is not one.
    pub fn try_from_xml(e: &Element) -> Result<Option<FolderRef>, ParseError> {
        if e.is(&Ns::Types, "FolderId") {
            return Ok(Some(FolderRef::FolderId(ItemId::from_xml(e)?)));
        }
        if e.is(&Ns::Types, "DistinguishedFolderId") {
            return Ok(Some(FolderRef::Distinguished(DistinguishedFolderId {
                id: e.required_attr("Id")?.to_owned(),
                change_key: e.attr("ChangeKey").map(str::to_owned),
                mailbox: e
                    .child(&Ns::Types, "Mailbox")
                    .map(Mailbox::from_xml)
                    .transpose()?,
            })));
        }
        Ok(None)
    }

    /// Reads every folder reference among the children of `container`
    /// (`ParentFolderIds`, `FolderIds`, `SyncFolderId`, …); at least one is required.
    pub fn list_from_xml(container: &Element) -> Result<Vec<FolderRef>, ParseError> {
        let mut out = Vec::new();
        for c in &container.children {
            match FolderRef::try_from_xml(c)? {
                Some(f) => out.push(f),
                None => return Err(c.unexpected("t:FolderId or t:DistinguishedFolderId")),
            }
        }
        if out.is_empty() {
            return Err(ParseError::MissingElement {
                parent: container.qname(),
                expected: "t:FolderId or t:DistinguishedFolderId".into(),
                line: container.line,
                column: container.column,
            });
        }
        Ok(out)
    }

    /// Writes the reference.
    pub fn write(&self, w: &mut Writer) {
        match self {
            FolderRef::FolderId(id) => id.write(w, "FolderId"),
            FolderRef::Distinguished(d) => {
                let mut attrs = vec![("Id", d.id.as_str())];
                if let Some(ck) = &d.change_key {
                    attrs.push(("ChangeKey", ck));
                }
                w.start(&Ns::Types, "DistinguishedFolderId", &attrs);
                if let Some(m) = &d.mailbox {
                    m.write(w, "Mailbox");
                }
                w.end();
            }
        }
    }

    /// Writes `<m:{tag}>` around a list of references.
    pub fn write_list(w: &mut Writer, tag: &str, list: &[FolderRef]) {
        w.start(&Ns::Messages, tag, &[]);
        for f in list {
            f.write(w);
        }
        w.end();
    }
}

/// A reference to an item: a plain id, an occurrence of a series by index, or the master of
/// an occurrence (EWS.md §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemRef {
    /// `t:ItemId`
    ItemId(ItemId),
    /// `t:OccurrenceItemId RecurringMasterId InstanceIndex` (1-based).
    Occurrence {
        /// `RecurringMasterId`
        recurring_master_id: String,
        /// `ChangeKey`
        change_key: Option<String>,
        /// `InstanceIndex`, 1-based.
        instance_index: u32,
    },
    /// `t:RecurringMasterItemId OccurrenceId`.
    RecurringMaster {
        /// `OccurrenceId`
        occurrence_id: String,
        /// `ChangeKey`
        change_key: Option<String>,
    },
}

impl ItemRef {
    /// Reads one item reference, or `None` if `e` is not one.
    pub fn try_from_xml(e: &Element) -> Result<Option<ItemRef>, ParseError> {
        if e.ns != Ns::Types {
            return Ok(None);
        }
        Ok(Some(match e.name.as_str() {
            "ItemId" => ItemRef::ItemId(ItemId::from_xml(e)?),
            "OccurrenceItemId" => ItemRef::Occurrence {
                recurring_master_id: e.required_attr("RecurringMasterId")?.to_owned(),
                change_key: e.attr("ChangeKey").map(str::to_owned),
                instance_index: crate::value::required_attr_parsed(e, "InstanceIndex")?,
            },
            "RecurringMasterItemId" => ItemRef::RecurringMaster {
                occurrence_id: e.required_attr("OccurrenceId")?.to_owned(),
                change_key: e.attr("ChangeKey").map(str::to_owned),
            },
            _ => return Ok(None),
        }))
    }

    /// Reads every item reference among the children of `container`.
    pub fn list_from_xml(container: &Element) -> Result<Vec<ItemRef>, ParseError> {
        container
            .children
            .iter()
            .map(|c| {
                ItemRef::try_from_xml(c)?.ok_or_else(|| {
                    c.unexpected("t:ItemId, t:OccurrenceItemId or t:RecurringMasterItemId")
                })
            })
            .collect()
    }

    /// Writes the reference.
    pub fn write(&self, w: &mut Writer) {
        match self {
            ItemRef::ItemId(id) => id.write(w, "ItemId"),
            ItemRef::Occurrence {
                recurring_master_id,
                change_key,
                instance_index,
            } => {
                let idx = instance_index.to_string();
                let mut attrs = vec![("RecurringMasterId", recurring_master_id.as_str())];
                if let Some(ck) = change_key {
                    attrs.push(("ChangeKey", ck));
                }
                attrs.push(("InstanceIndex", &idx));
                w.empty(&Ns::Types, "OccurrenceItemId", &attrs);
            }
            ItemRef::RecurringMaster {
                occurrence_id,
                change_key,
            } => {
                let mut attrs = vec![("OccurrenceId", occurrence_id.as_str())];
                if let Some(ck) = change_key {
                    attrs.push(("ChangeKey", ck));
                }
                w.empty(&Ns::Types, "RecurringMasterItemId", &attrs);
            }
        }
    }
}

/// A property path: `t:FieldURI`, `t:IndexedFieldURI` or `t:ExtendedFieldURI`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropertyPath {
    /// `t:FieldURI FieldURI="calendar:Start"`
    Field(String),
    /// `t:IndexedFieldURI FieldURI FieldIndex`
    Indexed {
        /// `FieldURI`
        field_uri: String,
        /// `FieldIndex`
        field_index: String,
    },
    /// `t:ExtendedFieldURI` with its attributes kept as data (`PropertyTag`,
    /// `PropertySetId`, `PropertyName`, `PropertyType`, …).
    Extended(Vec<(String, String)>),
}

impl PropertyPath {
    /// Reads a path element, or `None` if `e` is not one.
    pub fn try_from_xml(e: &Element) -> Result<Option<PropertyPath>, ParseError> {
        if e.ns != Ns::Types {
            return Ok(None);
        }
        Ok(Some(match e.name.as_str() {
            "FieldURI" => PropertyPath::Field(e.required_attr("FieldURI")?.to_owned()),
            "IndexedFieldURI" => PropertyPath::Indexed {
                field_uri: e.required_attr("FieldURI")?.to_owned(),
                field_index: e.required_attr("FieldIndex")?.to_owned(),
            },
            "ExtendedFieldURI" => PropertyPath::Extended(e.attrs.clone()),
            _ => return Ok(None),
        }))
    }

    /// Writes the path element.
    pub fn write(&self, w: &mut Writer) {
        match self {
            PropertyPath::Field(uri) => w.empty(&Ns::Types, "FieldURI", &[("FieldURI", uri)]),
            PropertyPath::Indexed {
                field_uri,
                field_index,
            } => w.empty(
                &Ns::Types,
                "IndexedFieldURI",
                &[("FieldURI", field_uri), ("FieldIndex", field_index)],
            ),
            PropertyPath::Extended(attrs) => {
                let attrs: Vec<(&str, &str)> = attrs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                w.empty(&Ns::Types, "ExtendedFieldURI", &attrs);
            }
        }
    }
}

str_enum! {
    /// `t:BaseShape`.
    BaseShape {
        /// Ids only.
        IdOnly = "IdOnly",
        /// The default property set.
        Default = "Default",
        /// All properties.
        AllProperties = "AllProperties",
        /// People search (2013+).
        PcxPeopleSearch = "PcxPeopleSearch",
    }
}

/// `m:ItemShape` / `m:FolderShape`: base shape, body type, additional properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// `t:BaseShape`
    pub base_shape: BaseShape,
    /// `t:BodyType` (`Best`, `HTML`, `Text`).
    pub body_type: Option<String>,
    /// `t:AdditionalProperties`
    pub additional_properties: Vec<PropertyPath>,
}

impl Shape {
    /// A shape with only a base shape.
    pub fn base(base_shape: BaseShape) -> Shape {
        Shape {
            base_shape,
            body_type: None,
            additional_properties: Vec::new(),
        }
    }

    /// Reads an `ItemShape`/`FolderShape` element.
    pub fn from_xml(e: &Element) -> Result<Shape, ParseError> {
        let t = Ns::Types;
        let mut additional_properties = Vec::new();
        if let Some(ap) = e.child(&t, "AdditionalProperties") {
            for c in &ap.children {
                additional_properties.push(PropertyPath::try_from_xml(c)?.ok_or_else(|| {
                    c.unexpected("t:FieldURI, t:IndexedFieldURI or t:ExtendedFieldURI")
                })?);
            }
        }
        Ok(Shape {
            base_shape: e.parse_required_child(&t, "BaseShape")?,
            body_type: e.text_of(&t, "BodyType").map(str::to_owned),
            additional_properties,
        })
    }

    /// Writes it as `m:{tag}`.
    pub fn write(&self, w: &mut Writer, tag: &str) {
        let t = Ns::Types;
        w.start(&Ns::Messages, tag, &[]);
        w.leaf(&t, "BaseShape", self.base_shape.as_str());
        w.opt_leaf(&t, "BodyType", self.body_type.as_deref());
        if !self.additional_properties.is_empty() {
            w.start(&t, "AdditionalProperties", &[]);
            for p in &self.additional_properties {
                p.write(w);
            }
            w.end();
        }
        w.end();
    }
}

/// `t:Body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// `BodyType`: `HTML` or `Text`.
    pub body_type: String,
    /// The content, whitespace kept.
    pub text: String,
}

str_enum! {
    /// `t:LegacyFreeBusyType`.
    LegacyFreeBusyStatus {
        /// Free
        Free = "Free",
        /// Tentative
        Tentative = "Tentative",
        /// Busy
        Busy = "Busy",
        /// Out of office
        Oof = "OOF",
        /// Working elsewhere (2013+)
        WorkingElsewhere = "WorkingElsewhere",
        /// No data
        NoData = "NoData",
    }
}

str_enum! {
    /// `t:CalendarItemTypeType`.
    CalendarItemType {
        /// A non-recurring item.
        Single = "Single",
        /// An unmodified occurrence of a series.
        Occurrence = "Occurrence",
        /// A modified occurrence of a series.
        Exception = "Exception",
        /// The series itself.
        RecurringMaster = "RecurringMaster",
    }
}

str_enum! {
    /// `t:ResponseTypeType` (`MyResponseType`, attendee `ResponseType`).
    ResponseType {
        /// Unknown
        Unknown = "Unknown",
        /// Organizer
        Organizer = "Organizer",
        /// Tentative
        Tentative = "Tentative",
        /// Accept
        Accept = "Accept",
        /// Decline
        Decline = "Decline",
        /// No response received
        NoResponseReceived = "NoResponseReceived",
    }
}

str_enum! {
    /// `t:SensitivityChoicesType`.
    Sensitivity {
        /// Normal
        Normal = "Normal",
        /// Personal
        Personal = "Personal",
        /// Private
        Private = "Private",
        /// Confidential
        Confidential = "Confidential",
    }
}

/// `t:Attendee`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    /// `Mailbox`
    pub mailbox: Mailbox,
    /// `ResponseType`
    pub response_type: Option<ResponseType>,
    /// `LastResponseTime`
    pub last_response_time: Option<EwsDateTime>,
}

impl Attendee {
    fn from_xml(e: &Element) -> Result<Attendee, ParseError> {
        let t = Ns::Types;
        Ok(Attendee {
            mailbox: Mailbox::from_xml(e.required_child(&t, "Mailbox")?)?,
            response_type: e.parse_child(&t, "ResponseType")?,
            last_response_time: e.parse_child(&t, "LastResponseTime")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start(&t, "Attendee", &[]);
        self.mailbox.write(w, "Mailbox");
        opt(w, &t, "ResponseType", &self.response_type);
        opt(w, &t, "LastResponseTime", &self.last_response_time);
        w.end();
    }
}

fn attendees(e: &Element) -> Result<Vec<Attendee>, ParseError> {
    e.children_named(&Ns::Types, "Attendee")
        .map(Attendee::from_xml)
        .collect()
}

fn write_attendees(w: &mut Writer, tag: &str, list: &Option<Vec<Attendee>>) {
    if let Some(list) = list {
        w.start(&Ns::Types, tag, &[]);
        for a in list {
            a.write(w);
        }
        w.end();
    }
}

/// `t:CalendarItem` with the fields real clients use (EWS.md §3.5). Every field is
/// optional because shapes select properties and updates carry one field. Elements not
/// modelled here are kept in `other` and written back at their schema position.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct CalendarItem {
    pub item_id: Option<ItemId>,
    pub parent_folder_id: Option<FolderId>,
    pub item_class: Option<String>,
    pub subject: Option<String>,
    pub sensitivity: Option<Sensitivity>,
    pub body: Option<Body>,
    pub date_time_received: Option<EwsDateTime>,
    pub size: Option<u64>,
    pub categories: Option<Vec<String>>,
    pub importance: Option<String>,
    pub date_time_sent: Option<EwsDateTime>,
    pub date_time_created: Option<EwsDateTime>,
    pub reminder_due_by: Option<EwsDateTime>,
    pub reminder_is_set: Option<bool>,
    pub reminder_minutes_before_start: Option<i32>,
    pub has_attachments: Option<bool>,
    pub culture: Option<String>,
    pub last_modified_time: Option<EwsDateTime>,
    pub uid: Option<String>,
    pub recurrence_id: Option<EwsDateTime>,
    pub date_time_stamp: Option<EwsDateTime>,
    pub start: Option<EwsDateTime>,
    pub end: Option<EwsDateTime>,
    pub original_start: Option<EwsDateTime>,
    pub is_all_day_event: Option<bool>,
    pub legacy_free_busy_status: Option<LegacyFreeBusyStatus>,
    pub location: Option<String>,
    pub is_meeting: Option<bool>,
    pub is_cancelled: Option<bool>,
    pub is_recurring: Option<bool>,
    pub meeting_request_was_sent: Option<bool>,
    pub is_response_requested: Option<bool>,
    pub calendar_item_type: Option<CalendarItemType>,
    pub my_response_type: Option<ResponseType>,
    pub organizer: Option<Mailbox>,
    pub required_attendees: Option<Vec<Attendee>>,
    pub optional_attendees: Option<Vec<Attendee>>,
    pub resources: Option<Vec<Attendee>>,
    pub duration: Option<String>,
    /// 2007: display name of the creation zone.
    pub time_zone: Option<String>,
    pub appointment_sequence_number: Option<i32>,
    pub appointment_state: Option<i32>,
    pub recurrence: Option<Recurrence>,
    pub first_occurrence: Option<OccurrenceInfo>,
    pub last_occurrence: Option<OccurrenceInfo>,
    pub modified_occurrences: Option<Vec<OccurrenceInfo>>,
    /// `DeletedOccurrences/DeletedOccurrence/Start`.
    pub deleted_occurrences: Option<Vec<EwsDateTime>>,
    /// 2007 `MeetingTimeZone` (legacy zone block), kept as data.
    pub meeting_time_zone: Option<Element>,
    pub start_time_zone: Option<TimeZoneContext>,
    pub end_time_zone: Option<TimeZoneContext>,
    pub is_online_meeting: Option<bool>,
    pub start_time_zone_id: Option<String>,
    pub end_time_zone_id: Option<String>,
    pub intended_free_busy_status: Option<LegacyFreeBusyStatus>,
    pub is_organizer: Option<bool>,
    /// Elements not modelled above, in schema order (unknown names last, in document
    /// order).
    pub other: Vec<Element>,
}

/// The schema order of `t:CalendarItem` children (ItemType part, then CalendarItemType).
const CALENDAR_ITEM_ORDER: &[&str] = &[
    "MimeContent",
    "ItemId",
    "ParentFolderId",
    "ItemClass",
    "Subject",
    "Sensitivity",
    "Body",
    "Attachments",
    "DateTimeReceived",
    "Size",
    "Categories",
    "Importance",
    "InReplyTo",
    "IsSubmitted",
    "IsDraft",
    "IsFromMe",
    "IsResend",
    "IsUnmodified",
    "InternetMessageHeaders",
    "DateTimeSent",
    "DateTimeCreated",
    "ResponseObjects",
    "ReminderDueBy",
    "ReminderIsSet",
    "ReminderNextTime",
    "ReminderMinutesBeforeStart",
    "DisplayCc",
    "DisplayTo",
    "DisplayBcc",
    "HasAttachments",
    "ExtendedProperty",
    "Culture",
    "EffectiveRights",
    "LastModifiedName",
    "LastModifiedTime",
    "IsAssociated",
    "WebClientReadFormQueryString",
    "WebClientEditFormQueryString",
    "ConversationId",
    "UniqueBody",
    "Flag",
    "StoreEntryId",
    "InstanceKey",
    "NormalizedBody",
    "EntityExtractionResult",
    "PolicyTag",
    "ArchiveTag",
    "RetentionDate",
    "Preview",
    "RightsManagementLicenseData",
    "PredictedActionReasons",
    "IsClutter",
    "TextBody",
    "IconIndex",
    "SearchKey",
    "SortKey",
    "Hashtags",
    "Mentions",
    "MentionedMe",
    "MentionsPreview",
    "MentionsEx",
    "AppliedHashtags",
    "AppliedHashtagsPreview",
    "Likes",
    "LikesPreview",
    "PendingSocialActivityTagIds",
    "AtAllMention",
    "CanDelete",
    "InferenceClassification",
    "UID",
    "RecurrenceId",
    "DateTimeStamp",
    "Start",
    "End",
    "OriginalStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "When",
    "IsMeeting",
    "IsCancelled",
    "IsRecurring",
    "MeetingRequestWasSent",
    "IsResponseRequested",
    "CalendarItemType",
    "MyResponseType",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
    "Resources",
    "InboxReminders",
    "ConflictingMeetingCount",
    "AdjacentMeetingCount",
    "ConflictingMeetings",
    "AdjacentMeetings",
    "Duration",
    "TimeZone",
    "AppointmentReplyTime",
    "AppointmentSequenceNumber",
    "AppointmentState",
    "Recurrence",
    "FirstOccurrence",
    "LastOccurrence",
    "ModifiedOccurrences",
    "DeletedOccurrences",
    "MeetingTimeZone",
    "StartTimeZone",
    "EndTimeZone",
    "ConferenceType",
    "AllowNewTimeProposal",
    "IsOnlineMeeting",
    "MeetingWorkspaceUrl",
    "NetShowUrl",
    "EnhancedLocation",
    "StartWallClock",
    "EndWallClock",
    "StartTimeZoneId",
    "EndTimeZoneId",
    "IntendedFreeBusyStatus",
    "JoinOnlineMeetingUrl",
    "OnlineMeetingSettings",
    "IsOrganizer",
    "CalendarActivityData",
    "DoNotForwardMeeting",
];

/// Writes one modelled field of a [`CalendarItem`] if present.
type FieldWriter = fn(&CalendarItem, &mut Writer);

/// Every modelled `t:CalendarItem` field with its writer, in schema order (a subsequence of
/// [`CALENDAR_ITEM_ORDER`], checked by a test).
///
/// Writing walks this table directly instead of matching each of the 130 schema names
/// against the field names, which was most of the cost of writing an item.
const FIELD_WRITERS: &[(&str, FieldWriter)] = &[
    ("ItemId", |it, w| {
        if let Some(id) = &it.item_id {
            id.write(w, "ItemId");
        }
    }),
    ("ParentFolderId", |it, w| {
        if let Some(id) = &it.parent_folder_id {
            id.write(w, "ParentFolderId");
        }
    }),
    ("ItemClass", |it, w| {
        let t = Ns::Types;
        let name = "ItemClass";
        w.opt_leaf(&t, name, it.item_class.as_deref())
    }),
    ("Subject", |it, w| {
        let t = Ns::Types;
        let name = "Subject";
        w.opt_leaf(&t, name, it.subject.as_deref())
    }),
    ("Sensitivity", |it, w| {
        let t = Ns::Types;
        let name = "Sensitivity";
        opt(w, &t, name, &it.sensitivity)
    }),
    ("Body", |it, w| {
        let t = Ns::Types;
        let name = "Body";
        if let Some(b) = &it.body {
            w.leaf_with_attrs(&t, name, &[("BodyType", &b.body_type)], &b.text);
        }
    }),
    ("DateTimeReceived", |it, w| {
        let t = Ns::Types;
        let name = "DateTimeReceived";
        opt(w, &t, name, &it.date_time_received)
    }),
    ("Size", |it, w| {
        let t = Ns::Types;
        let name = "Size";
        opt(w, &t, name, &it.size)
    }),
    ("Categories", |it, w| {
        let t = Ns::Types;
        let name = "Categories";
        if let Some(cats) = &it.categories {
            w.start(&t, name, &[]);
            for c in cats {
                w.leaf(&t, "String", c);
            }
            w.end();
        }
    }),
    ("Importance", |it, w| {
        let t = Ns::Types;
        let name = "Importance";
        w.opt_leaf(&t, name, it.importance.as_deref())
    }),
    ("DateTimeSent", |it, w| {
        let t = Ns::Types;
        let name = "DateTimeSent";
        opt(w, &t, name, &it.date_time_sent)
    }),
    ("DateTimeCreated", |it, w| {
        let t = Ns::Types;
        let name = "DateTimeCreated";
        opt(w, &t, name, &it.date_time_created)
    }),
    ("ReminderDueBy", |it, w| {
        let t = Ns::Types;
        let name = "ReminderDueBy";
        opt(w, &t, name, &it.reminder_due_by)
    }),
    ("ReminderIsSet", |it, w| {
        let t = Ns::Types;
        let name = "ReminderIsSet";
        opt(w, &t, name, &it.reminder_is_set)
    }),
    ("ReminderMinutesBeforeStart", |it, w| {
        let t = Ns::Types;
        let name = "ReminderMinutesBeforeStart";
        opt(w, &t, name, &it.reminder_minutes_before_start)
    }),
    ("HasAttachments", |it, w| {
        let t = Ns::Types;
        let name = "HasAttachments";
        opt(w, &t, name, &it.has_attachments)
    }),
    ("Culture", |it, w| {
        let t = Ns::Types;
        let name = "Culture";
        w.opt_leaf(&t, name, it.culture.as_deref())
    }),
    ("LastModifiedTime", |it, w| {
        let t = Ns::Types;
        let name = "LastModifiedTime";
        opt(w, &t, name, &it.last_modified_time)
    }),
    ("UID", |it, w| {
        let t = Ns::Types;
        let name = "UID";
        w.opt_leaf(&t, name, it.uid.as_deref())
    }),
    ("RecurrenceId", |it, w| {
        let t = Ns::Types;
        let name = "RecurrenceId";
        opt(w, &t, name, &it.recurrence_id)
    }),
    ("DateTimeStamp", |it, w| {
        let t = Ns::Types;
        let name = "DateTimeStamp";
        opt(w, &t, name, &it.date_time_stamp)
    }),
    ("Start", |it, w| {
        let t = Ns::Types;
        let name = "Start";
        opt(w, &t, name, &it.start)
    }),
    ("End", |it, w| {
        let t = Ns::Types;
        let name = "End";
        opt(w, &t, name, &it.end)
    }),
    ("OriginalStart", |it, w| {
        let t = Ns::Types;
        let name = "OriginalStart";
        opt(w, &t, name, &it.original_start)
    }),
    ("IsAllDayEvent", |it, w| {
        let t = Ns::Types;
        let name = "IsAllDayEvent";
        opt(w, &t, name, &it.is_all_day_event)
    }),
    ("LegacyFreeBusyStatus", |it, w| {
        let t = Ns::Types;
        let name = "LegacyFreeBusyStatus";
        opt(w, &t, name, &it.legacy_free_busy_status)
    }),
    ("Location", |it, w| {
        let t = Ns::Types;
        let name = "Location";
        w.opt_leaf(&t, name, it.location.as_deref())
    }),
    ("IsMeeting", |it, w| {
        let t = Ns::Types;
        let name = "IsMeeting";
        opt(w, &t, name, &it.is_meeting)
    }),
    ("IsCancelled", |it, w| {
        let t = Ns::Types;
        let name = "IsCancelled";
        opt(w, &t, name, &it.is_cancelled)
    }),
    ("IsRecurring", |it, w| {
        let t = Ns::Types;
        let name = "IsRecurring";
        opt(w, &t, name, &it.is_recurring)
    }),
    ("MeetingRequestWasSent", |it, w| {
        let t = Ns::Types;
        let name = "MeetingRequestWasSent";
        opt(w, &t, name, &it.meeting_request_was_sent)
    }),
    ("IsResponseRequested", |it, w| {
        let t = Ns::Types;
        let name = "IsResponseRequested";
        opt(w, &t, name, &it.is_response_requested)
    }),
    ("CalendarItemType", |it, w| {
        let t = Ns::Types;
        let name = "CalendarItemType";
        opt(w, &t, name, &it.calendar_item_type)
    }),
    ("MyResponseType", |it, w| {
        let t = Ns::Types;
        let name = "MyResponseType";
        opt(w, &t, name, &it.my_response_type)
    }),
    ("Organizer", |it, w| {
        let t = Ns::Types;
        let name = "Organizer";
        if let Some(m) = &it.organizer {
            w.start(&t, name, &[]);
            m.write(w, "Mailbox");
            w.end();
        }
    }),
    ("RequiredAttendees", |it, w| {
        let name = "RequiredAttendees";
        write_attendees(w, name, &it.required_attendees)
    }),
    ("OptionalAttendees", |it, w| {
        let name = "OptionalAttendees";
        write_attendees(w, name, &it.optional_attendees)
    }),
    ("Resources", |it, w| {
        let name = "Resources";
        write_attendees(w, name, &it.resources)
    }),
    ("Duration", |it, w| {
        let t = Ns::Types;
        let name = "Duration";
        w.opt_leaf(&t, name, it.duration.as_deref())
    }),
    ("TimeZone", |it, w| {
        let t = Ns::Types;
        let name = "TimeZone";
        w.opt_leaf(&t, name, it.time_zone.as_deref())
    }),
    ("AppointmentSequenceNumber", |it, w| {
        let t = Ns::Types;
        let name = "AppointmentSequenceNumber";
        opt(w, &t, name, &it.appointment_sequence_number)
    }),
    ("AppointmentState", |it, w| {
        let t = Ns::Types;
        let name = "AppointmentState";
        opt(w, &t, name, &it.appointment_state)
    }),
    ("Recurrence", |it, w| {
        if let Some(r) = &it.recurrence {
            r.write(w);
        }
    }),
    ("FirstOccurrence", |it, w| {
        let name = "FirstOccurrence";
        if let Some(o) = &it.first_occurrence {
            o.write(w, name);
        }
    }),
    ("LastOccurrence", |it, w| {
        let name = "LastOccurrence";
        if let Some(o) = &it.last_occurrence {
            o.write(w, name);
        }
    }),
    ("ModifiedOccurrences", |it, w| {
        let t = Ns::Types;
        let name = "ModifiedOccurrences";
        if let Some(list) = &it.modified_occurrences {
            w.start(&t, name, &[]);
            for o in list {
                o.write(w, "Occurrence");
            }
            w.end();
        }
    }),
    ("DeletedOccurrences", |it, w| {
        let t = Ns::Types;
        let name = "DeletedOccurrences";
        if let Some(list) = &it.deleted_occurrences {
            w.start(&t, name, &[]);
            for d in list {
                w.start(&t, "DeletedOccurrence", &[]);
                w.leaf(&t, "Start", &d.to_string());
                w.end();
            }
            w.end();
        }
    }),
    ("MeetingTimeZone", |it, w| {
        if let Some(e) = &it.meeting_time_zone {
            w.element(e);
        }
    }),
    ("StartTimeZone", |it, w| {
        let t = Ns::Types;
        let name = "StartTimeZone";
        if let Some(z) = &it.start_time_zone {
            z.write_definition(w, &t, name);
        }
    }),
    ("EndTimeZone", |it, w| {
        let t = Ns::Types;
        let name = "EndTimeZone";
        if let Some(z) = &it.end_time_zone {
            z.write_definition(w, &t, name);
        }
    }),
    ("IsOnlineMeeting", |it, w| {
        let t = Ns::Types;
        let name = "IsOnlineMeeting";
        opt(w, &t, name, &it.is_online_meeting)
    }),
    ("StartTimeZoneId", |it, w| {
        let t = Ns::Types;
        let name = "StartTimeZoneId";
        w.opt_leaf(&t, name, it.start_time_zone_id.as_deref())
    }),
    ("EndTimeZoneId", |it, w| {
        let t = Ns::Types;
        let name = "EndTimeZoneId";
        w.opt_leaf(&t, name, it.end_time_zone_id.as_deref())
    }),
    ("IntendedFreeBusyStatus", |it, w| {
        let t = Ns::Types;
        let name = "IntendedFreeBusyStatus";
        opt(w, &t, name, &it.intended_free_busy_status)
    }),
    ("IsOrganizer", |it, w| {
        let t = Ns::Types;
        let name = "IsOrganizer";
        opt(w, &t, name, &it.is_organizer)
    }),
];

impl CalendarItem {
    /// The typed 2007 `MeetingTimeZone`, if present.
    pub fn meeting_time_zone(
        &self,
    ) -> Result<Option<crate::timezone::MeetingTimeZone>, ParseError> {
        self.meeting_time_zone
            .as_ref()
            .map(crate::timezone::MeetingTimeZone::from_xml)
            .transpose()
    }

    /// Reads `t:CalendarItem` (children in any order; unknown ones kept in `other`).
    pub fn from_xml(e: &Element) -> Result<CalendarItem, ParseError> {
        let t = Ns::Types;
        let mut it = CalendarItem::default();
        for c in &e.children {
            if c.ns != t {
                it.other.push(c.clone());
                continue;
            }
            match c.name.as_str() {
                "ItemId" => it.item_id = Some(ItemId::from_xml(c)?),
                "ParentFolderId" => it.parent_folder_id = Some(ItemId::from_xml(c)?),
                "ItemClass" => it.item_class = Some(c.text.clone()),
                "Subject" => it.subject = Some(c.text.clone()),
                "Sensitivity" => it.sensitivity = Some(c.parse_text()?),
                "Body" => {
                    it.body = Some(Body {
                        body_type: c.required_attr("BodyType")?.to_owned(),
                        text: c.text.clone(),
                    })
                }
                "DateTimeReceived" => it.date_time_received = Some(c.parse_text()?),
                "Size" => it.size = Some(c.parse_text()?),
                "Categories" => {
                    it.categories = Some(
                        c.children_named(&t, "String")
                            .map(|s| s.text.clone())
                            .collect(),
                    )
                }
                "Importance" => it.importance = Some(c.trimmed_text().to_owned()),
                "DateTimeSent" => it.date_time_sent = Some(c.parse_text()?),
                "DateTimeCreated" => it.date_time_created = Some(c.parse_text()?),
                "ReminderDueBy" => it.reminder_due_by = Some(c.parse_text()?),
                "ReminderIsSet" => it.reminder_is_set = Some(c.bool_text()?),
                "ReminderMinutesBeforeStart" => {
                    it.reminder_minutes_before_start = Some(c.parse_text()?)
                }
                "HasAttachments" => it.has_attachments = Some(c.bool_text()?),
                "Culture" => it.culture = Some(c.trimmed_text().to_owned()),
                "LastModifiedTime" => it.last_modified_time = Some(c.parse_text()?),
                "UID" => it.uid = Some(c.trimmed_text().to_owned()),
                "RecurrenceId" => it.recurrence_id = Some(c.parse_text()?),
                "DateTimeStamp" => it.date_time_stamp = Some(c.parse_text()?),
                "Start" => it.start = Some(c.parse_text()?),
                "End" => it.end = Some(c.parse_text()?),
                "OriginalStart" => it.original_start = Some(c.parse_text()?),
                "IsAllDayEvent" => it.is_all_day_event = Some(c.bool_text()?),
                "LegacyFreeBusyStatus" => it.legacy_free_busy_status = Some(c.parse_text()?),
                "Location" => it.location = Some(c.text.clone()),
                "IsMeeting" => it.is_meeting = Some(c.bool_text()?),
                "IsCancelled" => it.is_cancelled = Some(c.bool_text()?),
                "IsRecurring" => it.is_recurring = Some(c.bool_text()?),
                "MeetingRequestWasSent" => it.meeting_request_was_sent = Some(c.bool_text()?),
                "IsResponseRequested" => it.is_response_requested = Some(c.bool_text()?),
                "CalendarItemType" => it.calendar_item_type = Some(c.parse_text()?),
                "MyResponseType" => it.my_response_type = Some(c.parse_text()?),
                "Organizer" => {
                    it.organizer = Some(Mailbox::from_xml(c.required_child(&t, "Mailbox")?)?)
                }
                "RequiredAttendees" => it.required_attendees = Some(attendees(c)?),
                "OptionalAttendees" => it.optional_attendees = Some(attendees(c)?),
                "Resources" => it.resources = Some(attendees(c)?),
                "Duration" => it.duration = Some(c.trimmed_text().to_owned()),
                "TimeZone" => it.time_zone = Some(c.text.clone()),
                "AppointmentSequenceNumber" => {
                    it.appointment_sequence_number = Some(c.parse_text()?)
                }
                "AppointmentState" => it.appointment_state = Some(c.parse_text()?),
                "Recurrence" => it.recurrence = Some(Recurrence::from_xml(c)?),
                "FirstOccurrence" => it.first_occurrence = Some(OccurrenceInfo::from_xml(c)?),
                "LastOccurrence" => it.last_occurrence = Some(OccurrenceInfo::from_xml(c)?),
                "ModifiedOccurrences" => {
                    it.modified_occurrences = Some(
                        c.children_named(&t, "Occurrence")
                            .map(OccurrenceInfo::from_xml)
                            .collect::<Result<_, _>>()?,
                    )
                }
                "DeletedOccurrences" => {
                    it.deleted_occurrences = Some(
                        c.children_named(&t, "DeletedOccurrence")
                            .map(|d| d.parse_required_child(&t, "Start"))
                            .collect::<Result<_, _>>()?,
                    )
                }
                "MeetingTimeZone" => {
                    crate::timezone::MeetingTimeZone::from_xml(c)?;
                    it.meeting_time_zone = Some(c.clone())
                }
                "StartTimeZone" => it.start_time_zone = Some(TimeZoneContext::from_definition(c)?),
                "EndTimeZone" => it.end_time_zone = Some(TimeZoneContext::from_definition(c)?),
                "IsOnlineMeeting" => it.is_online_meeting = Some(c.bool_text()?),
                "StartTimeZoneId" => it.start_time_zone_id = Some(c.trimmed_text().to_owned()),
                "EndTimeZoneId" => it.end_time_zone_id = Some(c.trimmed_text().to_owned()),
                "IntendedFreeBusyStatus" => it.intended_free_busy_status = Some(c.parse_text()?),
                "IsOrganizer" => it.is_organizer = Some(c.bool_text()?),
                _ => it.other.push(c.clone()),
            }
        }
        // Keep `other` in the order it is written (schema order, unknown names last), so
        // parse -> write -> parse is the identity even for out-of-order input.
        it.other.sort_by_key(|o| {
            CALENDAR_ITEM_ORDER
                .iter()
                .position(|n| o.ns == t && *n == o.name)
                .unwrap_or(usize::MAX)
        });
        Ok(it)
    }

    /// Writes `t:CalendarItem` with every present field in schema order.
    pub fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start(&t, "CalendarItem", &[]);
        if self.other.is_empty() {
            for (_, write) in FIELD_WRITERS {
                write(self, w);
            }
            w.end();
            return;
        }
        for name in CALENDAR_ITEM_ORDER {
            self.write_field(w, name);
            for o in self.other.iter().filter(|o| o.ns == t && o.name == *name) {
                w.element(o);
            }
        }
        for o in &self.other {
            if o.ns != t || !CALENDAR_ITEM_ORDER.contains(&o.name.as_str()) {
                w.element(o);
            }
        }
        w.end();
    }

    fn write_field(&self, w: &mut Writer, name: &str) {
        if let Some((_, write)) = FIELD_WRITERS.iter().find(|(n, _)| *n == name) {
            write(self, w);
        }
    }
}

/// An item in `m:Items`, `t:Create`, `SetItemField`…: a calendar item, or any other item
/// kind kept as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    /// `t:CalendarItem`
    Calendar(Box<CalendarItem>),
    /// Any other item element (`t:Message`, `t:MeetingRequest`, …), kept as data.
    Other(Element),
}

impl Item {
    /// Reads one item element.
    pub fn from_xml(e: &Element) -> Result<Item, ParseError> {
        if e.is(&Ns::Types, "CalendarItem") {
            Ok(Item::Calendar(Box::new(CalendarItem::from_xml(e)?)))
        } else {
            Ok(Item::Other(e.clone()))
        }
    }

    /// Reads every child of `container` as an item.
    pub fn list_from_xml(container: &Element) -> Result<Vec<Item>, ParseError> {
        container.children.iter().map(Item::from_xml).collect()
    }

    /// Writes the item.
    pub fn write(&self, w: &mut Writer) {
        match self {
            Item::Calendar(c) => c.write(w),
            Item::Other(e) => w.element(e),
        }
    }

    /// Writes `<{ns}:{tag}>` around a list of items.
    pub fn write_list(w: &mut Writer, ns: &Ns, tag: &str, items: &[Item]) {
        w.start(ns, tag, &[]);
        for i in items {
            i.write(w);
        }
        w.end();
    }

    /// The calendar item, if this is one.
    pub fn as_calendar(&self) -> Option<&CalendarItem> {
        match self {
            Item::Calendar(c) => Some(c),
            Item::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Limits, parse};

    #[test]
    fn field_writers_follow_the_schema_order() {
        let mut order = CALENDAR_ITEM_ORDER.iter();
        for (name, _) in FIELD_WRITERS {
            assert!(
                order.any(|o| o == name),
                "{name} is out of schema order or not a CalendarItem element"
            );
        }
    }

    #[test]
    fn table_walk_writes_what_the_schema_walk_writes() {
        // Every field set: the sample with all of them, read into the typed form.
        let src = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/ews-samples/getitem-recurringmaster-response.xml"
        ))
        .unwrap();
        let tree = parse(&src, &Limits::default()).unwrap();
        fn find(e: &Element) -> Option<&Element> {
            if e.is(&Ns::Types, "CalendarItem") {
                return Some(e);
            }
            e.children.iter().find_map(find)
        }
        let mut item = CalendarItem::from_xml(find(&tree).unwrap()).unwrap();
        item.other.clear();
        item.subject = Some("S & <x>".into());
        item.is_online_meeting = Some(false);
        item.intended_free_busy_status = Some(LegacyFreeBusyStatus::Tentative);
        let mut fast = Writer::fragment();
        item.write(&mut fast);
        let fast = fast.into_string();
        // A kept element of an unknown name forces the schema walk; it is written last.
        item.other
            .push(Element::new(Ns::Other("urn:x".into()), "Extra"));
        let mut slow = Writer::fragment();
        item.write(&mut slow);
        let slow = slow.into_string();
        let cut = fast.len() - "</t:CalendarItem>".len();
        assert_eq!(
            slow,
            format!(
                "{}<ns0:Extra xmlns:ns0=\"urn:x\"/></t:CalendarItem>",
                &fast[..cut]
            )
        );
        assert!(fast.matches("<t:").count() > 20, "{fast}");
    }

    fn round_trip(xml: &str) -> (CalendarItem, CalendarItem) {
        let first =
            CalendarItem::from_xml(&parse(xml.as_bytes(), &Limits::default()).unwrap()).unwrap();
        let mut w = Writer::fragment();
        first.write(&mut w);
        let again =
            CalendarItem::from_xml(&parse(&w.into_bytes(), &Limits::default()).unwrap()).unwrap();
        (first, again)
    }

    #[test]
    fn unknown_and_out_of_order_elements_survive_a_round_trip() {
        // Found by the fuzz target: an unknown element between known ones moved to the end.
        let (first, again) = round_trip(
            r#"<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
                 <t:Start>2026-03-30T09:00:00Z</t:Start><t:Bogus>1</t:Bogus><t:DisplayTo/>
                 <t:ItemId Id="A"/><t:IsDraft>false</t:IsDraft></t:CalendarItem>"#,
        );
        assert_eq!(first, again);
        let names: Vec<&str> = first.other.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["IsDraft", "DisplayTo", "Bogus"]);
    }

    #[test]
    fn bad_values_name_the_element() {
        let xml = r#"<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:IsAllDayEvent>yes</t:IsAllDayEvent></t:CalendarItem>"#;
        let err = CalendarItem::from_xml(&parse(xml.as_bytes(), &Limits::default()).unwrap())
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("t:IsAllDayEvent: invalid value `yes`"),
            "{err}"
        );
    }
}
