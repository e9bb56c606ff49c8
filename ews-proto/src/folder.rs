//! Folders: GetFolder (how clients bind the calendar, EWS.md §3.2) and the FindFolder
//! response (seen in throttling traces).

use serde::{Deserialize, Serialize};

use crate::item::{FolderId, FolderRef, ItemId, Shape};
use crate::response::{Payload, Responses};
use crate::xml::{Element, Ns, ParseError, Writer};

/// A folder element (`t:Folder`, `t:CalendarFolder`, …) with the common properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The element name: `Folder`, `CalendarFolder`, `ContactsFolder`, `SearchFolder`,
    /// `TasksFolder`.
    pub kind: String,
    /// `FolderId`
    pub folder_id: Option<FolderId>,
    /// `ParentFolderId`
    pub parent_folder_id: Option<FolderId>,
    /// `FolderClass`, e.g. `IPF.Appointment`.
    pub folder_class: Option<String>,
    /// `DisplayName`
    pub display_name: Option<String>,
    /// `TotalCount`
    pub total_count: Option<u32>,
    /// `ChildFolderCount`
    pub child_folder_count: Option<u32>,
    /// Other children (EffectiveRights, PermissionSet, …), written after the above.
    pub other: Vec<Element>,
}

const FOLDER_KINDS: [&str; 5] = [
    "Folder",
    "CalendarFolder",
    "ContactsFolder",
    "SearchFolder",
    "TasksFolder",
];

impl Folder {
    /// A calendar folder with an id and display name.
    pub fn calendar(id: FolderId, display_name: impl Into<String>) -> Folder {
        Folder {
            kind: "CalendarFolder".into(),
            folder_id: Some(id),
            parent_folder_id: None,
            folder_class: Some("IPF.Appointment".into()),
            display_name: Some(display_name.into()),
            total_count: None,
            child_folder_count: None,
            other: Vec::new(),
        }
    }

    /// Reads a folder element.
    pub fn from_xml(e: &Element) -> Result<Folder, ParseError> {
        let t = Ns::Types;
        if e.ns != t || !FOLDER_KINDS.contains(&e.name.as_str()) {
            return Err(e.unexpected("t:Folder or t:CalendarFolder"));
        }
        let known = [
            "FolderId",
            "ParentFolderId",
            "FolderClass",
            "DisplayName",
            "TotalCount",
            "ChildFolderCount",
        ];
        Ok(Folder {
            kind: e.name.clone(),
            folder_id: e.child(&t, "FolderId").map(ItemId::from_xml).transpose()?,
            parent_folder_id: e
                .child(&t, "ParentFolderId")
                .map(ItemId::from_xml)
                .transpose()?,
            folder_class: e.text_of(&t, "FolderClass").map(str::to_owned),
            display_name: e.child(&t, "DisplayName").map(|c| c.text.clone()),
            total_count: e.parse_child(&t, "TotalCount")?,
            child_folder_count: e.parse_child(&t, "ChildFolderCount")?,
            other: e
                .children
                .iter()
                .filter(|c| c.ns != t || !known.contains(&c.name.as_str()))
                .cloned()
                .collect(),
        })
    }

    /// Writes the folder element.
    pub fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start(&t, &self.kind, &[]);
        if let Some(id) = &self.folder_id {
            id.write(w, "FolderId");
        }
        if let Some(id) = &self.parent_folder_id {
            id.write(w, "ParentFolderId");
        }
        w.opt_leaf(&t, "FolderClass", self.folder_class.as_deref());
        w.opt_leaf(&t, "DisplayName", self.display_name.as_deref());
        crate::value::opt(w, &t, "TotalCount", &self.total_count);
        crate::value::opt(w, &t, "ChildFolderCount", &self.child_folder_count);
        for o in &self.other {
            w.element(o);
        }
        w.end();
    }
}

/// `m:GetFolder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetFolder {
    /// `m:FolderShape`
    pub folder_shape: Shape,
    /// `m:FolderIds`
    pub folder_ids: Vec<FolderRef>,
}

impl GetFolder {
    /// Reads `m:GetFolder`.
    pub fn from_xml(e: &Element) -> Result<GetFolder, ParseError> {
        let m = Ns::Messages;
        Ok(GetFolder {
            folder_shape: Shape::from_xml(e.required_child(&m, "FolderShape")?)?,
            folder_ids: FolderRef::list_from_xml(e.required_child(&m, "FolderIds")?)?,
        })
    }

    /// Writes `m:GetFolder`.
    pub fn write(&self, w: &mut Writer) {
        let m = Ns::Messages;
        w.start_declaring(&m, "GetFolder", &[], &[Ns::Types]);
        self.folder_shape.write(w, "FolderShape");
        FolderRef::write_list(w, "FolderIds", &self.folder_ids);
        w.end();
    }
}

fn read_folders(msg: &Element) -> Result<Option<Vec<Folder>>, ParseError> {
    msg.child(&Ns::Messages, "Folders")
        .map(|f| f.children.iter().map(Folder::from_xml).collect())
        .transpose()
}

fn write_folders(w: &mut Writer, ns: &Ns, folders: &Option<Vec<Folder>>) {
    if let Some(list) = folders {
        w.start(ns, "Folders", &[]);
        for f in list {
            f.write(w);
        }
        w.end();
    }
}

/// `GetFolderResponseMessage` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetFolderResult {
    /// `m:Folders` (empty on errors).
    pub folders: Option<Vec<Folder>>,
}

impl Payload for GetFolderResult {
    const OPERATION: &'static str = "GetFolder";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        Ok(GetFolderResult {
            folders: read_folders(msg)?,
        })
    }
    fn write(&self, w: &mut Writer) {
        write_folders(w, &Ns::Messages, &self.folders);
    }
}

/// `m:GetFolderResponse`.
pub type GetFolderResponse = Responses<GetFolderResult>;

/// `FindFolderResponseMessage` payload: `m:RootFolder` with `t:Folders`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FindFolderResult {
    /// `IncludesLastItemInRange` of the root folder.
    pub includes_last_item_in_range: Option<bool>,
    /// `TotalItemsInView` of the root folder.
    pub total_items_in_view: Option<u32>,
    /// The folders, `None` when there is no `m:RootFolder` (errors).
    pub folders: Option<Vec<Folder>>,
}

impl Payload for FindFolderResult {
    const OPERATION: &'static str = "FindFolder";
    fn from_message(msg: &Element) -> Result<Self, ParseError> {
        let Some(root) = msg.child(&Ns::Messages, "RootFolder") else {
            return Ok(FindFolderResult::default());
        };
        Ok(FindFolderResult {
            includes_last_item_in_range: root.bool_attr("IncludesLastItemInRange")?,
            total_items_in_view: root.parse_attr("TotalItemsInView")?,
            folders: Some(match root.child(&Ns::Types, "Folders") {
                Some(f) => f
                    .children
                    .iter()
                    .map(Folder::from_xml)
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            }),
        })
    }
    fn write(&self, w: &mut Writer) {
        if self.folders.is_none() {
            return;
        }
        let total = self.total_items_in_view.map(|v| v.to_string());
        let last = self.includes_last_item_in_range.map(|v| v.to_string());
        let mut attrs = Vec::new();
        if let Some(v) = &total {
            attrs.push(("TotalItemsInView", v.as_str()));
        }
        if let Some(v) = &last {
            attrs.push(("IncludesLastItemInRange", v.as_str()));
        }
        w.start(&Ns::Messages, "RootFolder", &attrs);
        write_folders(w, &Ns::Types, &self.folders);
        w.end();
    }
}

/// `m:FindFolderResponse`.
pub type FindFolderResponse = Responses<FindFolderResult>;
