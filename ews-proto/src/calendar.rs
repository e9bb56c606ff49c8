//! Calendar operations: FindItem (CalendarView or IndexedPageItemView), GetItem,
//! CreateItem, UpdateItem, DeleteItem (EWS.md §3.1, §3.4, §3.10).

use serde::{Deserialize, Serialize};

use crate::item::{FolderRef, Item, ItemRef, PropertyPath, Shape};
use crate::response::{Payload, Responses};
use crate::value::{EwsDateTime, str_enum};
use crate::xml::{Element, Ns, ParseError, Writer};

str_enum! {
    /// `FindItem/@Traversal`.
    Traversal {
        /// Direct children.
        Shallow = "Shallow",
        /// Soft-deleted items.
        SoftDeleted = "SoftDeleted",
        /// Associated (hidden) items.
        Associated = "Associated",
    }
}

/// `m:CalendarView`: expand occurrences in a window (no paging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarView {
    /// `MaxEntriesReturned`
    pub max_entries_returned: Option<u32>,
    /// `StartDate`
    pub start_date: EwsDateTime,
    /// `EndDate`
    pub end_date: EwsDateTime,
}

/// `m:IndexedPageItemView`: paging without expansion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedPageView {
    /// `MaxEntriesReturned`
    pub max_entries_returned: Option<u32>,
    /// `Offset`
    pub offset: u32,
    /// `BasePoint` (`Beginning` or `End`).
    pub base_point: String,
}

/// The view of a FindItem request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemView {
    /// `m:CalendarView`
    Calendar(CalendarView),
    /// `m:IndexedPageItemView`
    IndexedPage(IndexedPageView),
}

/// `m:FindItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindItem {
    /// `Traversal`
    pub traversal: Traversal,
    /// `m:ItemShape`
    pub item_shape: Shape,
    /// The view, if any (without one Exchange returns everything, unexpanded).
    pub view: Option<ItemView>,
    /// `GroupBy`, `Restriction`, `SortOrder`, `QueryString`, kept as data and written
    /// back at their schema positions.
    pub other: Vec<Element>,
    /// `m:ParentFolderIds`
    pub parent_folder_ids: Vec<FolderRef>,
}

impl FindItem {
    /// Reads `m:FindItem`.
    pub fn from_xml(e: &Element) -> Result<FindItem, ParseError> {
        let m = Ns::Messages;
        let mut view = None;
        let mut other = Vec::new();
        for c in &e.children {
            if c.is(&m, "CalendarView") {
                view = Some(ItemView::Calendar(CalendarView {
                    max_entries_returned: c.parse_attr("MaxEntriesReturned")?,
                    start_date: crate::value::required_attr_parsed(c, "StartDate")?,
                    end_date: crate::value::required_attr_parsed(c, "EndDate")?,
                }));
            } else if c.is(&m, "IndexedPageItemView") {
                view = Some(ItemView::IndexedPage(IndexedPageView {
                    max_entries_returned: c.parse_attr("MaxEntriesReturned")?,
                    offset: crate::value::required_attr_parsed(c, "Offset")?,
                    base_point: c.required_attr("BasePoint")?.to_owned(),
                }));
            } else if !c.is(&m, "ItemShape") && !c.is(&m, "ParentFolderIds") {
                other.push(c.clone());
            }
        }
        // QueryString is written after ParentFolderIds; keep `other` in written order.
        other.sort_by_key(|o| o.is(&m, "QueryString"));
        Ok(FindItem {
            traversal: crate::value::required_attr_parsed(e, "Traversal")?,
            item_shape: Shape::from_xml(e.required_child(&m, "ItemShape")?)?,
            view,
            other,
            parent_folder_ids: FolderRef::list_from_xml(e.required_child(&m, "ParentFolderIds")?)?,
        })
    }

    /// Writes `m:FindItem` in schema order.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(
            &m,
            "FindItem",
            &[("Traversal", self.traversal.as_str())],
            &[Ns::Types],
        );
        self.item_shape.write(w, "ItemShape");
        match &self.view {
            Some(ItemView::Calendar(v)) => {
                let max = v.max_entries_returned.map(|n| n.to_string());
                let (start, end) = (v.start_date.to_string(), v.end_date.to_string());
                let mut attrs = Vec::new();
                if let Some(max) = &max {
                    attrs.push(("MaxEntriesReturned", max.as_str()));
                }
                attrs.push(("StartDate", &start));
                attrs.push(("EndDate", &end));
                w.empty(&m, "CalendarView", &attrs);
            }
            Some(ItemView::IndexedPage(v)) => {
                let max = v.max_entries_returned.map(|n| n.to_string());
                let offset = v.offset.to_string();
                let mut attrs = Vec::new();
                if let Some(max) = &max {
                    attrs.push(("MaxEntriesReturned", max.as_str()));
                }
                attrs.push(("Offset", &offset));
                attrs.push(("BasePoint", &v.base_point));
                w.empty(&m, "IndexedPageItemView", &attrs);
            }
            None => {}
        }
        // GroupBy, Restriction and SortOrder precede ParentFolderIds; QueryString follows it.
        let is_query = |o: &&Element| o.is(&m, "QueryString");
        for o in self.other.iter().filter(|o| !is_query(o)) {
            w.element(o);
        }
        FolderRef::write_list(w, "ParentFolderIds", &self.parent_folder_ids);
        for o in self.other.iter().filter(is_query) {
            w.element(o);
        }
        w.end();
    }
}

/// `m:RootFolder` of a FindItem response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFolder {
    /// `IndexedPagingOffset` (never on calendar views).
    pub indexed_paging_offset: Option<u32>,
    /// `TotalItemsInView`
    pub total_items_in_view: Option<u32>,
    /// `IncludesLastItemInRange`
    pub includes_last_item_in_range: Option<bool>,
    /// `t:Items`
    pub items: Vec<Item>,
}

impl RootFolder {
    /// Writes `m:RootFolder` with its attributes, and `write_items` writing the content of
    /// `t:Items` (instead of [`RootFolder::items`], for a server writing items straight
    /// from its store).
    pub fn write_with(&self, w: &mut Writer, write_items: impl FnOnce(&mut Writer)) {
        let off = self.indexed_paging_offset.map(|v| v.to_string());
        let total = self.total_items_in_view.map(|v| v.to_string());
        let last = self.includes_last_item_in_range.map(|v| v.to_string());
        let mut attrs = Vec::with_capacity(3);
        if let Some(v) = &off {
            attrs.push(("IndexedPagingOffset", v.as_str()));
        }
        if let Some(v) = &total {
            attrs.push(("TotalItemsInView", v.as_str()));
        }
        if let Some(v) = &last {
            attrs.push(("IncludesLastItemInRange", v.as_str()));
        }
        w.start(&Ns::Messages, "RootFolder", &attrs);
        w.start(&Ns::Types, "Items", &[]);
        write_items(w);
        w.end();
        w.end();
    }
}

/// The payload of a `FindItemResponseMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FindItemResult {
    /// `m:RootFolder` (absent on errors).
    pub root_folder: Option<RootFolder>,
}

impl Payload for FindItemResult {
    const OPERATION: &'static str = "FindItem";

    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        let Some(root) = msg.child(&Ns::Messages, "RootFolder") else {
            return Ok(FindItemResult::default());
        };
        Ok(FindItemResult {
            root_folder: Some(RootFolder {
                indexed_paging_offset: root.parse_attr("IndexedPagingOffset")?,
                total_items_in_view: root.parse_attr("TotalItemsInView")?,
                includes_last_item_in_range: root.bool_attr("IncludesLastItemInRange")?,
                items: match root.child(&Ns::Types, "Items") {
                    Some(items) => Item::list_from_xml(items)?,
                    None => Vec::new(),
                },
            }),
        })
    }

    fn write(&self, w: &mut Writer) {
        if let Some(r) = &self.root_folder {
            r.write_with(w, |w| {
                for item in &r.items {
                    item.write(w);
                }
            });
        }
    }
}

/// `m:FindItemResponse`.
pub type FindItemResponse = Responses<FindItemResult>;

/// `m:GetItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetItem {
    /// `m:ItemShape`
    pub item_shape: Shape,
    /// `m:ItemIds`
    pub item_ids: Vec<ItemRef>,
}

impl GetItem {
    /// Reads `m:GetItem`.
    pub fn from_xml(e: &Element) -> Result<GetItem, ParseError> {
        let m = Ns::Messages;
        Ok(GetItem {
            item_shape: Shape::from_xml(e.required_child(&m, "ItemShape")?)?,
            item_ids: ItemRef::list_from_xml(e.required_child(&m, "ItemIds")?)?,
        })
    }

    /// Writes `m:GetItem`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "GetItem", &[], &[Ns::Types]);
        self.item_shape.write(w, "ItemShape");
        w.start(&m, "ItemIds", &[]);
        for id in &self.item_ids {
            id.write(w);
        }
        w.end();
        w.end();
    }
}

/// The payload `m:Items` (GetItem, CreateItem).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemsResult {
    /// `m:Items` (absent or empty on errors).
    pub items: Option<Vec<Item>>,
}

fn read_items(msg: &Element) -> Result<Option<Vec<Item>>, ParseError> {
    msg.child(&Ns::Messages, "Items")
        .map(Item::list_from_xml)
        .transpose()
}

fn write_items(w: &mut Writer, items: &Option<Vec<Item>>) {
    if let Some(items) = items {
        Item::write_list(w, &Ns::Messages, "Items", items);
    }
}

/// `GetItemResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetItemResult(pub ItemsResult);

impl Payload for GetItemResult {
    const OPERATION: &'static str = "GetItem";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(GetItemResult(ItemsResult {
            items: read_items(msg)?,
        }))
    }
    fn write(&self, w: &mut Writer) {
        write_items(w, &self.0.items);
    }
}

/// `m:GetItemResponse`.
pub type GetItemResponse = Responses<GetItemResult>;

/// `CreateItemResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateItemResult(pub ItemsResult);

impl Payload for CreateItemResult {
    const OPERATION: &'static str = "CreateItem";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(CreateItemResult(ItemsResult {
            items: read_items(msg)?,
        }))
    }
    fn write(&self, w: &mut Writer) {
        write_items(w, &self.0.items);
    }
}

/// `m:CreateItemResponse`.
pub type CreateItemResponse = Responses<CreateItemResult>;

/// `m:CreateItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateItem {
    /// `MessageDisposition`
    pub message_disposition: Option<String>,
    /// `SendMeetingInvitations` (required for calendar items).
    pub send_meeting_invitations: Option<String>,
    /// `m:SavedItemFolderId`
    pub saved_item_folder_id: Option<FolderRef>,
    /// `m:Items`
    pub items: Vec<Item>,
}

impl CreateItem {
    /// Reads `m:CreateItem`.
    pub fn from_xml(e: &Element) -> Result<CreateItem, ParseError> {
        let m = Ns::Messages;
        Ok(CreateItem {
            message_disposition: e.attr("MessageDisposition").map(str::to_owned),
            send_meeting_invitations: e.attr("SendMeetingInvitations").map(str::to_owned),
            saved_item_folder_id: saved_folder(e)?,
            items: Item::list_from_xml(e.required_child(&m, "Items")?)?,
        })
    }

    /// Writes `m:CreateItem`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        let mut attrs = Vec::new();
        if let Some(v) = &self.message_disposition {
            attrs.push(("MessageDisposition", v.as_str()));
        }
        if let Some(v) = &self.send_meeting_invitations {
            attrs.push(("SendMeetingInvitations", v.as_str()));
        }
        w.start_declaring(&m, "CreateItem", &attrs, &[Ns::Types]);
        write_saved_folder(w, &self.saved_item_folder_id);
        Item::write_list(w, &m, "Items", &self.items);
        w.end();
    }
}

fn saved_folder(e: &Element) -> Result<Option<FolderRef>, ParseError> {
    match e.child(&Ns::Messages, "SavedItemFolderId") {
        Some(s) => Ok(FolderRef::list_from_xml(s)?.into_iter().next()),
        None => Ok(None),
    }
}

fn write_saved_folder(w: &mut Writer, f: &Option<FolderRef>) {
    if let Some(f) = f {
        FolderRef::write_list(w, "SavedItemFolderId", std::slice::from_ref(f));
    }
}

/// One change inside `t:Updates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemUpdate {
    /// `t:SetItemField`: the path and an item carrying the new value.
    Set {
        /// The property.
        path: PropertyPath,
        /// The item holding the value.
        item: Item,
    },
    /// `t:AppendToItemField`.
    Append {
        /// The property.
        path: PropertyPath,
        /// The item holding the value.
        item: Item,
    },
    /// `t:DeleteItemField`.
    Delete {
        /// The property.
        path: PropertyPath,
    },
}

/// `t:ItemChange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemChange {
    /// The target (an occurrence target turns it into an exception).
    pub item: ItemRef,
    /// `t:Updates`
    pub updates: Vec<ItemUpdate>,
}

/// `m:UpdateItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateItem {
    /// `MessageDisposition`
    pub message_disposition: Option<String>,
    /// `ConflictResolution` (`NeverOverwrite`, `AutoResolve`, `AlwaysOverwrite`).
    pub conflict_resolution: Option<String>,
    /// `SendMeetingInvitationsOrCancellations`
    pub send_meeting_invitations_or_cancellations: Option<String>,
    /// `m:SavedItemFolderId`
    pub saved_item_folder_id: Option<FolderRef>,
    /// `m:ItemChanges`
    pub item_changes: Vec<ItemChange>,
}

fn path_of(e: &Element) -> Result<(PropertyPath, Option<&Element>), ParseError> {
    let mut path = None;
    let mut item = None;
    for c in &e.children {
        match PropertyPath::try_from_xml(c)? {
            Some(p) => path = Some(p),
            None => item = Some(c),
        }
    }
    let path = path.ok_or_else(|| ParseError::MissingElement {
        parent: e.qname(),
        expected: "t:FieldURI, t:IndexedFieldURI or t:ExtendedFieldURI".into(),
        line: e.line,
        column: e.column,
    })?;
    Ok((path, item))
}

fn required_item<'a>(e: &'a Element, item: Option<&'a Element>) -> Result<&'a Element, ParseError> {
    item.ok_or_else(|| ParseError::MissingElement {
        parent: e.qname(),
        expected: "an item element (e.g. t:CalendarItem)".into(),
        line: e.line,
        column: e.column,
    })
}

impl UpdateItem {
    /// Reads `m:UpdateItem`.
    pub fn from_xml(e: &Element) -> Result<UpdateItem, ParseError> {
        let (m, t) = (Ns::Messages, Ns::Types);
        let mut item_changes = Vec::new();
        for ch in e
            .required_child(&m, "ItemChanges")?
            .children_named(&t, "ItemChange")
        {
            let mut target = None;
            for c in &ch.children {
                if let Some(r) = ItemRef::try_from_xml(c)? {
                    target = Some(r);
                }
            }
            let item = target.ok_or_else(|| ParseError::MissingElement {
                parent: ch.qname(),
                expected: "t:ItemId, t:OccurrenceItemId or t:RecurringMasterItemId".into(),
                line: ch.line,
                column: ch.column,
            })?;
            let mut updates = Vec::new();
            for u in &ch.required_child(&t, "Updates")?.children {
                let (path, item) = path_of(u)?;
                updates.push(match (u.ns == t, u.name.as_str()) {
                    (true, "SetItemField") => ItemUpdate::Set {
                        path,
                        item: Item::from_xml(required_item(u, item)?)?,
                    },
                    (true, "AppendToItemField") => ItemUpdate::Append {
                        path,
                        item: Item::from_xml(required_item(u, item)?)?,
                    },
                    (true, "DeleteItemField") => ItemUpdate::Delete { path },
                    _ => {
                        return Err(u.unexpected(
                            "t:SetItemField, t:AppendToItemField or t:DeleteItemField",
                        ));
                    }
                });
            }
            item_changes.push(ItemChange { item, updates });
        }
        Ok(UpdateItem {
            message_disposition: e.attr("MessageDisposition").map(str::to_owned),
            conflict_resolution: e.attr("ConflictResolution").map(str::to_owned),
            send_meeting_invitations_or_cancellations: e
                .attr("SendMeetingInvitationsOrCancellations")
                .map(str::to_owned),
            saved_item_folder_id: saved_folder(e)?,
            item_changes,
        })
    }

    /// Writes `m:UpdateItem`.
    pub fn write(&self, w: &mut Writer) {
        let (m, t) = (Ns::Messages, Ns::Types);
        let mut attrs = Vec::new();
        if let Some(v) = &self.message_disposition {
            attrs.push(("MessageDisposition", v.as_str()));
        }
        if let Some(v) = &self.conflict_resolution {
            attrs.push(("ConflictResolution", v.as_str()));
        }
        if let Some(v) = &self.send_meeting_invitations_or_cancellations {
            attrs.push(("SendMeetingInvitationsOrCancellations", v.as_str()));
        }
        w.start_declaring(&m, "UpdateItem", &attrs, &[Ns::Types]);
        write_saved_folder(w, &self.saved_item_folder_id);
        w.start(&m, "ItemChanges", &[]);
        for ch in &self.item_changes {
            w.start(&t, "ItemChange", &[]);
            ch.item.write(w);
            w.start(&t, "Updates", &[]);
            for u in &ch.updates {
                match u {
                    ItemUpdate::Set { path, item } => {
                        w.start(&t, "SetItemField", &[]);
                        path.write(w);
                        item.write(w);
                    }
                    ItemUpdate::Append { path, item } => {
                        w.start(&t, "AppendToItemField", &[]);
                        path.write(w);
                        item.write(w);
                    }
                    ItemUpdate::Delete { path } => {
                        w.start(&t, "DeleteItemField", &[]);
                        path.write(w);
                    }
                }
                w.end();
            }
            w.end();
            w.end();
        }
        w.end();
        w.end();
    }
}

/// `UpdateItemResponseMessage` payload: the item with its new ChangeKey and the number of
/// conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateItemResult {
    /// `m:Items`
    pub items: Option<Vec<Item>>,
    /// `m:ConflictResults/t:Count`
    pub conflict_count: Option<u32>,
}

impl Payload for UpdateItemResult {
    const OPERATION: &'static str = "UpdateItem";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(UpdateItemResult {
            items: read_items(msg)?,
            conflict_count: match msg.child(&Ns::Messages, "ConflictResults") {
                Some(c) => c.parse_child(&Ns::Types, "Count")?,
                None => None,
            },
        })
    }
    fn write(&self, w: &mut Writer) {
        write_items(w, &self.items);
        if let Some(n) = self.conflict_count {
            w.start(&Ns::Messages, "ConflictResults", &[]);
            w.leaf(&Ns::Types, "Count", &n.to_string());
            w.end();
        }
    }
}

/// `m:UpdateItemResponse`.
pub type UpdateItemResponse = Responses<UpdateItemResult>;

/// `m:DeleteItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteItem {
    /// `DeleteType` (`HardDelete`, `SoftDelete`, `MoveToDeletedItems`).
    pub delete_type: String,
    /// `SendMeetingCancellations` (required for calendar items).
    pub send_meeting_cancellations: Option<String>,
    /// `AffectedTaskOccurrences`
    pub affected_task_occurrences: Option<String>,
    /// `m:ItemIds`
    pub item_ids: Vec<ItemRef>,
}

impl DeleteItem {
    /// Reads `m:DeleteItem`.
    pub fn from_xml(e: &Element) -> Result<DeleteItem, ParseError> {
        Ok(DeleteItem {
            delete_type: e.required_attr("DeleteType")?.to_owned(),
            send_meeting_cancellations: e.attr("SendMeetingCancellations").map(str::to_owned),
            affected_task_occurrences: e.attr("AffectedTaskOccurrences").map(str::to_owned),
            item_ids: ItemRef::list_from_xml(e.required_child(&Ns::Messages, "ItemIds")?)?,
        })
    }

    /// Writes `m:DeleteItem`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        let mut attrs = vec![("DeleteType", self.delete_type.as_str())];
        if let Some(v) = &self.send_meeting_cancellations {
            attrs.push(("SendMeetingCancellations", v.as_str()));
        }
        if let Some(v) = &self.affected_task_occurrences {
            attrs.push(("AffectedTaskOccurrences", v.as_str()));
        }
        w.start_declaring(&m, "DeleteItem", &attrs, &[Ns::Types]);
        w.start(&m, "ItemIds", &[]);
        for id in &self.item_ids {
            id.write(w);
        }
        w.end();
        w.end();
    }
}

/// `DeleteItemResponseMessage` has no payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeleteItemResult;

impl Payload for DeleteItemResult {
    const OPERATION: &'static str = "DeleteItem";
    fn from_message(_msg: &Element) -> Result<Self, ParseError> {
        Ok(DeleteItemResult)
    }
    fn write(&self, _w: &mut Writer) {}
}

/// `m:DeleteItemResponse`.
pub type DeleteItemResponse = Responses<DeleteItemResult>;
