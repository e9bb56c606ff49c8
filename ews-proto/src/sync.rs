//! SyncFolderItems (EWS.md §3.9): changes since a sync state, unexpanded (masters and
//! singles only).

use serde::{Deserialize, Serialize};

use crate::item::{FolderRef, Item, ItemId, Shape};
use crate::response::{Payload, Responses};
use crate::value::opt;
use crate::xml::{Element, Ns, ParseError, Writer};

/// `m:SyncFolderItems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFolderItems {
    /// `m:ItemShape`
    pub item_shape: Shape,
    /// `m:SyncFolderId`
    pub sync_folder_id: FolderRef,
    /// `m:SyncState` (omitted on the first call).
    pub sync_state: Option<String>,
    /// `m:Ignore/t:ItemId`
    pub ignore: Option<Vec<ItemId>>,
    /// `m:MaxChangesReturned` (1..512).
    pub max_changes_returned: u32,
    /// `m:SyncScope`: `NormalItems` or `NormalAndAssociatedItems`.
    pub sync_scope: Option<String>,
}

impl SyncFolderItems {
    /// Reads `m:SyncFolderItems`.
    pub fn from_xml(e: &Element) -> Result<SyncFolderItems, ParseError> {
        let m = Ns::Messages;
        let folder = e.required_child(&m, "SyncFolderId")?;
        let sync_folder_id = FolderRef::list_from_xml(folder)?
            .into_iter()
            .next()
            .ok_or_else(|| folder.invalid("", "no folder"))?;
        Ok(SyncFolderItems {
            item_shape: Shape::from_xml(e.required_child(&m, "ItemShape")?)?,
            sync_folder_id,
            sync_state: e.text_of(&m, "SyncState").map(str::to_owned),
            ignore: e
                .child(&m, "Ignore")
                .map(|i| {
                    i.children_named(&Ns::Types, "ItemId")
                        .map(ItemId::from_xml)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
            max_changes_returned: e.parse_required_child(&m, "MaxChangesReturned")?,
            sync_scope: e.text_of(&m, "SyncScope").map(str::to_owned),
        })
    }

    /// Writes `m:SyncFolderItems` in schema order.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "SyncFolderItems", &[], &[Ns::Types]);
        self.item_shape.write(w, "ItemShape");
        FolderRef::write_list(
            w,
            "SyncFolderId",
            std::slice::from_ref(&self.sync_folder_id),
        );
        w.opt_leaf(&m, "SyncState", self.sync_state.as_deref());
        if let Some(ids) = &self.ignore {
            w.start(&m, "Ignore", &[]);
            for id in ids {
                id.write(w, "ItemId");
            }
            w.end();
        }
        w.leaf(
            &m,
            "MaxChangesReturned",
            &self.max_changes_returned.to_string(),
        );
        w.opt_leaf(&m, "SyncScope", self.sync_scope.as_deref());
        w.end();
    }
}

/// One entry of `m:Changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncChange {
    /// `t:Create` with the item.
    Create(Item),
    /// `t:Update` with the item.
    Update(Item),
    /// `t:Delete/t:ItemId`
    Delete(ItemId),
    /// `t:ReadFlagChange`
    ReadFlagChange {
        /// `t:ItemId`
        item_id: ItemId,
        /// `t:IsRead`
        is_read: bool,
    },
}

/// `SyncFolderItemsResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncFolderItemsResult {
    /// `m:SyncState` (empty on errors).
    pub sync_state: Option<String>,
    /// `m:IncludesLastItemInRange`
    pub includes_last_item_in_range: Option<bool>,
    /// `m:Changes`
    pub changes: Option<Vec<SyncChange>>,
}

fn single_item(e: &Element) -> Result<Item, ParseError> {
    let first = e.first_child().ok_or_else(|| ParseError::MissingElement {
        parent: e.qname(),
        expected: "an item element".into(),
        line: e.line,
        column: e.column,
    })?;
    Item::from_xml(first)
}

impl Payload for SyncFolderItemsResult {
    const OPERATION: &'static str = "SyncFolderItems";

    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        let (m, t) = (Ns::Messages, Ns::Types);
        let changes = match msg.child(&m, "Changes") {
            Some(c) => {
                let mut out = Vec::new();
                for ch in &c.children {
                    if ch.ns != t {
                        return Err(
                            ch.unexpected("t:Create, t:Update, t:Delete or t:ReadFlagChange")
                        );
                    }
                    out.push(match ch.name.as_str() {
                        "Create" => SyncChange::Create(single_item(ch)?),
                        "Update" => SyncChange::Update(single_item(ch)?),
                        "Delete" => {
                            SyncChange::Delete(ItemId::from_xml(ch.required_child(&t, "ItemId")?)?)
                        }
                        "ReadFlagChange" => SyncChange::ReadFlagChange {
                            item_id: ItemId::from_xml(ch.required_child(&t, "ItemId")?)?,
                            is_read: ch.required_bool_child(&t, "IsRead")?,
                        },
                        _ => {
                            return Err(
                                ch.unexpected("t:Create, t:Update, t:Delete or t:ReadFlagChange")
                            );
                        }
                    });
                }
                Some(out)
            }
            None => None,
        };
        Ok(SyncFolderItemsResult {
            sync_state: msg
                .child(&m, "SyncState")
                .map(|s| s.trimmed_text().to_owned()),
            includes_last_item_in_range: msg.bool_child(&m, "IncludesLastItemInRange")?,
            changes,
        })
    }

    fn write(&self, w: &mut Writer) {
        let (m, t) = (Ns::Messages, Ns::Types);
        w.opt_leaf(&m, "SyncState", self.sync_state.as_deref());
        opt(
            w,
            &m,
            "IncludesLastItemInRange",
            &self.includes_last_item_in_range,
        );
        if let Some(changes) = &self.changes {
            w.start(&m, "Changes", &[]);
            for c in changes {
                match c {
                    SyncChange::Create(item) => {
                        w.start(&t, "Create", &[]);
                        item.write(w);
                        w.end();
                    }
                    SyncChange::Update(item) => {
                        w.start(&t, "Update", &[]);
                        item.write(w);
                        w.end();
                    }
                    SyncChange::Delete(id) => {
                        w.start(&t, "Delete", &[]);
                        id.write(w, "ItemId");
                        w.end();
                    }
                    SyncChange::ReadFlagChange { item_id, is_read } => {
                        w.start(&t, "ReadFlagChange", &[]);
                        item_id.write(w, "ItemId");
                        w.leaf(&t, "IsRead", &is_read.to_string());
                        w.end();
                    }
                }
            }
            w.end();
        }
    }
}

/// `m:SyncFolderItemsResponse`.
pub type SyncFolderItemsResponse = Responses<SyncFolderItemsResult>;
