//! GetFolder, FindItem (CalendarView and IndexedPageItemView) and GetItem (EWS.md §3.1-§3.4).
//!
//! Access: the owner or a caller impersonating the owner reads everything; a delegate needs
//! Reviewer (or Editor) on the mailbox, anything less is `ErrorAccessDenied` per message.
//! Private items show no subject, location or body to anyone but the owner.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ews_proto::calendar::{
    FindItem, FindItemResult, GetItem, GetItemResponse, GetItemResult, ItemView, ItemsResult,
    RootFolder,
};
use ews_proto::error::{MessageValue, MessageXml};
use ews_proto::folder::{Folder, GetFolder, GetFolderResponse, GetFolderResult};
use ews_proto::response::{Payload, ResponseMessage, Responses, ResponsesWriter};
use ews_proto::{FolderRef, Item, ItemId, ItemRef, ResponseCode, ResponseStatus};

use crate::id::{self, FolderKind, IdTarget};
use crate::item::CalendarItem;
use crate::journal::Outcome;
use crate::ops::common::MsgError;
use crate::ops::{Ctx, Reply};
use crate::soap::open_response;
use crate::wire::{self, Reader};
use crate::world::{DelegateRight, Mailbox};

/// Exchange's default EWSFindCountLimit.
pub(crate) const FIND_COUNT_LIMIT: usize = 1000;

pub(crate) fn status(e: &MsgError) -> ResponseStatus {
    let s = ResponseStatus::error(ResponseCode::parse(&e.code), e.text.clone());
    if e.values.is_empty() {
        s
    } else {
        s.with_message_xml(MessageXml {
            values: e
                .values
                .iter()
                .map(|(k, v)| MessageValue {
                    name: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            other: Vec::new(),
        })
    }
}

/// Writes a typed response inside the envelope with `ServerVersionInfo`.
pub(crate) fn respond<T: Payload>(ctx: &Ctx<'_>, r: &Responses<T>) -> Reply {
    let mut w = open_response(ctx.server);
    r.write(&mut w);
    let outcome = r
        .messages
        .iter()
        .find(|m| !m.status.is_success())
        .and_then(|m| m.status.code.as_ref())
        .map_or(Outcome::Success, |c| Outcome::Error {
            code: c.as_str().to_owned(),
        });
    Reply::Body {
        bytes: w.into_bytes(),
        outcome,
    }
}

pub(crate) fn error_msg<T: Default>(e: &MsgError) -> ResponseMessage<T> {
    ResponseMessage {
        status: status(e),
        payload: T::default(),
    }
}

fn no_mailbox(smtp: &str) -> MsgError {
    MsgError::new(
        "ErrorNonExistentMailbox",
        "The SMTP address has no mailbox associated with it.",
    )
    .with_value("SmtpAddress", smtp)
}

fn access_denied() -> MsgError {
    MsgError::new(
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
}

/// Resolves a folder reference to (mailbox, folder), checking that the mailbox exists.
pub(crate) fn resolve_folder(
    ctx: &Ctx<'_>,
    f: &FolderRef,
) -> Result<(Arc<Mailbox>, FolderKind), MsgError> {
    match f {
        FolderRef::Distinguished(d) => {
            let kind = FolderKind::from_distinguished(d.id.trim()).ok_or_else(|| {
                MsgError::new(
                    "ErrorFolderNotFound",
                    "The specified folder could not be found in the store.",
                )
            })?;
            let address = d
                .mailbox
                .as_ref()
                .and_then(|m| m.email_address.clone())
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .or_else(|| ctx.acting_as.clone())
                .or_else(|| ctx.principal.mailbox.clone())
                .ok_or_else(|| {
                    MsgError::new(
                        "ErrorMissingEmailAddress",
                        "When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.",
                    )
                })?;
            let mb = ctx
                .store
                .read(|w| w.mailbox(&address).cloned())
                .ok_or_else(|| no_mailbox(&address))?;
            Ok((mb, kind))
        }
        FolderRef::FolderId(fid) => {
            let (serial, kind) = id::parse_folder_id(&fid.id)
                .ok_or_else(|| MsgError::new("ErrorInvalidIdMalformed", "Id is malformed."))?;
            let mb = ctx
                .store
                .read(|w| w.mailbox_by_serial(serial).cloned())
                .ok_or_else(|| {
                    MsgError::new(
                        "ErrorFolderNotFound",
                        "The specified folder could not be found in the store.",
                    )
                })?;
            Ok((mb, kind))
        }
    }
}

/// The caller's rights on a mailbox.
pub(crate) fn right_on(ctx: &Ctx<'_>, mb: &Mailbox) -> DelegateRight {
    ctx.store
        .read(|w| w.right(ctx.principal, ctx.acting_as.as_deref(), &mb.smtp))
}

/// How `ctx`'s caller reads `mb`, building everything.
pub(crate) fn reader(ctx: &Ctx<'_>, mb: &Mailbox) -> Reader {
    Reader {
        server: ctx.server,
        owner: right_on(ctx, mb) == DelegateRight::Owner,
        want: wire::Want::ALL,
    }
}

/// How `ctx`'s caller reads `mb` keeping `fields`, building only what those need.
pub(crate) fn fields_reader(ctx: &Ctx<'_>, mb: &Mailbox, fields: wire::Fields) -> Reader {
    Reader {
        want: wire::Want::of(fields),
        ..reader(ctx, mb)
    }
}

fn require(ctx: &Ctx<'_>, mb: &Mailbox, need: DelegateRight) -> Result<(), MsgError> {
    if right_on(ctx, mb) >= need {
        Ok(())
    } else {
        Err(access_denied())
    }
}

pub(crate) fn get_folder(ctx: &Ctx<'_>, req: &GetFolder) -> Reply {
    let messages = req
        .folder_ids
        .iter()
        .map(|f| {
            let (mb, kind) = match resolve_folder(ctx, f) {
                Ok(x) => x,
                Err(e) => return error_msg(&e),
            };
            // Binding a folder needs at least free/busy visibility of the mailbox.
            if let Err(e) = require(ctx, &mb, DelegateRight::FreeBusy) {
                return error_msg(&e);
            }
            let fid = ItemId::with_change_key(id::folder_id(mb.serial, kind), "AQAAABYAAAA=");
            let mut folder = Folder::calendar(fid, kind.display_name());
            match kind {
                FolderKind::Calendar => {
                    folder.total_count = u32::try_from(mb.items.len()).ok();
                    folder.child_folder_count = Some(0);
                }
                FolderKind::Root | FolderKind::MsgFolderRoot => {
                    folder.kind = "Folder".into();
                    folder.folder_class = None;
                    folder.total_count = Some(0);
                    folder.child_folder_count = Some(3);
                }
                FolderKind::Inbox | FolderKind::DeletedItems => {
                    folder.kind = "Folder".into();
                    folder.folder_class = Some("IPF.Note".into());
                    folder.total_count = Some(0);
                    folder.child_folder_count = Some(0);
                }
            }
            if kind != FolderKind::Root {
                folder.parent_folder_id = Some(ItemId::new(id::folder_id(
                    mb.serial,
                    if kind == FolderKind::MsgFolderRoot {
                        FolderKind::Root
                    } else {
                        FolderKind::MsgFolderRoot
                    },
                )));
            }
            ResponseMessage::success(GetFolderResult {
                folders: Some(vec![folder]),
            })
        })
        .collect();
    respond::<GetFolderResult>(ctx, &GetFolderResponse { messages })
}

fn empty_root() -> FindItemResult {
    FindItemResult {
        root_folder: Some(RootFolder {
            indexed_paging_offset: None,
            total_items_in_view: Some(0),
            includes_last_item_in_range: Some(true),
            items: Vec::new(),
        }),
    }
}

fn calendar_view(
    ctx: &Ctx<'_>,
    req: &FindItem,
    mb: &Mailbox,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: Option<u32>,
    out: &mut ResponsesWriter<'_>,
) -> Result<(), MsgError> {
    if end < start {
        return Err(MsgError::new(
            "ErrorCalendarEndDateIsEarlierThanStartDate",
            "EndDate is earlier than StartDate",
        ));
    }
    // "Two years" as Exchange counts it: 730 days, plus a leap day's slack.
    if end - start > Duration::days(731) {
        return Err(MsgError::new(
            "ErrorCalendarViewRangeTooBig",
            "The specified view range exceeds the maximum range of two years.",
        ));
    }
    let fields = wire::Fields::for_shape(&req.item_shape, true);
    let rd = fields_reader(ctx, mb, fields);
    // Usually about one entry per item (series add some, out-of-range items none).
    let mut entries = Vec::with_capacity(mb.items.len() + 8);
    for item in mb.items.values() {
        item.view_into(start, end, &mut entries);
    }
    entries.sort_by_key(|e| (e.start, e.end, e.item.key));
    let total = entries.len();
    let cut = max.map(|m| usize::try_from(m).unwrap_or(usize::MAX));
    let shown = cut.map_or(total, |m| m.min(total));
    if shown > FIND_COUNT_LIMIT {
        return Err(MsgError::new(
            "ErrorExceededFindCountLimit",
            "You have exceeded the maximum number of objects that can be returned for the find operation. Use paging to reduce the result size and try your request again.",
        )
        .with_value("PolicyLimit", FIND_COUNT_LIMIT.to_string()));
    }
    let entries = &entries[..shown];
    let root = RootFolder {
        indexed_paging_offset: None,
        total_items_in_view: u32::try_from(total).ok(),
        includes_last_item_in_range: Some(shown == total),
        items: Vec::new(),
    };
    // Common shapes are written straight from the store as the message is written; the
    // rest are built as wire items.
    if fields.streamable() {
        out.message(&ResponseStatus::success(), |w| {
            root.write_with(w, |w| {
                for e in entries {
                    wire::write_view_entry(w, mb, e, rd, fields);
                }
            });
        });
    } else {
        let items = entries
            .iter()
            .map(|e| {
                let mut item = Box::new(wire::entry_to_wire(mb, e, rd));
                fields.retain(&mut item);
                Item::Calendar(item)
            })
            .collect();
        let result = FindItemResult {
            root_folder: Some(RootFolder { items, ..root }),
        };
        out.message(&ResponseStatus::success(), |w| result.write(w));
    }
    Ok(())
}

fn indexed_view(
    ctx: &Ctx<'_>,
    req: &FindItem,
    mb: &Mailbox,
    offset: u32,
    from_end: bool,
    max: Option<u32>,
) -> FindItemResult {
    let fields = wire::Fields::for_shape(&req.item_shape, true);
    let rd = fields_reader(ctx, mb, fields);
    let mut items: Vec<&Arc<CalendarItem>> = mb.items.values().collect();
    items.sort_by_key(|i| (i.start, i.key));
    let total = items.len();
    let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
    let max = max.map_or(FIND_COUNT_LIMIT, |m| {
        usize::try_from(m)
            .unwrap_or(usize::MAX)
            .min(FIND_COUNT_LIMIT)
    });
    let (lo, hi) = if from_end {
        (total.saturating_sub(offset + max), total - offset)
    } else {
        (offset, (offset + max).min(total))
    };
    let page: Vec<Item> = items[lo..hi]
        .iter()
        .map(|i| {
            let full = if i.recurrence.is_some() {
                wire::master_to_wire(mb, i, rd)
            } else {
                let e = crate::item::ViewEntry {
                    item: i,
                    start: i.start,
                    end: i.end,
                    occurrence: None,
                };
                wire::entry_to_wire(mb, &e, rd)
            };
            let mut item = Box::new(full);
            fields.retain(&mut item);
            Item::Calendar(item)
        })
        .collect();
    let next = if from_end { total - lo } else { hi };
    FindItemResult {
        root_folder: Some(RootFolder {
            indexed_paging_offset: u32::try_from(next).ok(),
            total_items_in_view: u32::try_from(total).ok(),
            includes_last_item_in_range: Some(if from_end { lo == 0 } else { hi == total }),
            items: page,
        }),
    }
}

pub(crate) fn find_item(ctx: &Ctx<'_>, req: &FindItem) -> Reply {
    let mut w = open_response(ctx.server);
    let mut out = ResponsesWriter::open(&mut w, "FindItem");
    let mut outcome = Outcome::Success;
    for f in &req.parent_folder_ids {
        // A folder's message is written once it is known to succeed (its items straight
        // from the store); an error writes the error message instead.
        if let Err(e) = find_in_folder(ctx, req, f, &mut out) {
            let s = status(&e);
            if let (Outcome::Success, Some(code)) = (&outcome, &s.code) {
                outcome = Outcome::Error {
                    code: code.as_str().to_owned(),
                };
            }
            out.message(&s, |_| {});
        }
    }
    out.close();
    Reply::Body {
        bytes: w.into_bytes(),
        outcome,
    }
}

/// FindItem in one folder: writes the success message, or returns the error before
/// writing anything.
fn find_in_folder(
    ctx: &Ctx<'_>,
    req: &FindItem,
    f: &FolderRef,
    out: &mut ResponsesWriter<'_>,
) -> Result<(), MsgError> {
    let (mb, kind) = resolve_folder(ctx, f)?;
    require(ctx, &mb, DelegateRight::Reviewer)?;
    if kind != FolderKind::Calendar {
        if let Some(ItemView::Calendar(_)) = &req.view {
            return Err(MsgError::new(
                "ErrorCalendarFolderIsInvalidForCalendarView",
                "Cannot request CalendarView for the folder.",
            ));
        }
        let result = empty_root();
        out.message(&ResponseStatus::success(), |w| result.write(w));
        return Ok(());
    }
    let result = match &req.view {
        Some(ItemView::Calendar(v)) => {
            let tz = ctx.request_zone();
            let bad = |what: &str| {
                MsgError::new(
                    "ErrorInvalidRequest",
                    format!("The request is invalid: {what} is not a valid date-time."),
                )
            };
            let start = v
                .start_date
                .instant_in(&tz)
                .ok_or_else(|| bad("StartDate"))?;
            let end = v.end_date.instant_in(&tz).ok_or_else(|| bad("EndDate"))?;
            return calendar_view(ctx, req, &mb, start, end, v.max_entries_returned, out);
        }
        Some(ItemView::IndexedPage(v)) => indexed_view(
            ctx,
            req,
            &mb,
            v.offset,
            v.base_point.eq_ignore_ascii_case("End"),
            v.max_entries_returned,
        ),
        None => indexed_view(ctx, req, &mb, 0, false, None),
    };
    out.message(&ResponseStatus::success(), |w| result.write(w));
    Ok(())
}

/// What an item reference names after resolution.
pub(crate) enum Target {
    Item,
    Occurrence(DateTime<Utc>),
}

/// Resolves an item reference to (mailbox, stored item, what in it).
pub(crate) fn resolve_item(
    ctx: &Ctx<'_>,
    r: &ItemRef,
) -> Result<(Arc<Mailbox>, Arc<CalendarItem>, Target), MsgError> {
    let not_found = || {
        MsgError::new(
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    };
    let lookup = |raw: &str| -> Result<(Arc<Mailbox>, Arc<CalendarItem>, IdTarget), MsgError> {
        if raw.trim().is_empty() {
            return Err(MsgError::new("ErrorInvalidIdEmpty", "Id is empty."));
        }
        let t = id::parse_id(raw)
            .ok_or_else(|| MsgError::new("ErrorInvalidIdMalformed", "Id is malformed."))?;
        let (mb, item) = ctx
            .store
            .read(|w| {
                let mb = w.mailbox_by_serial(t.mailbox())?.clone();
                let item = mb.items.get(&t.key())?.clone();
                Some((mb, item))
            })
            .ok_or_else(not_found)?;
        Ok((mb, item, t))
    };
    match r {
        ItemRef::ItemId(i) => {
            let (mb, item, t) = lookup(&i.id)?;
            match t {
                IdTarget::Item { .. } => Ok((mb, item, Target::Item)),
                IdTarget::Occurrence { original_start, .. } => {
                    if item.deleted.contains(&original_start) {
                        return Err(MsgError::new(
                            "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                            "Occurrence with this index was previously deleted from the recurrence.",
                        ));
                    }
                    item.instance_at(original_start).ok_or_else(not_found)?;
                    Ok((mb, item, Target::Occurrence(original_start)))
                }
            }
        }
        ItemRef::Occurrence {
            recurring_master_id,
            instance_index,
            ..
        } => {
            let (mb, item, t) = lookup(recurring_master_id)?;
            if matches!(t, IdTarget::Occurrence { .. }) || item.recurrence.is_none() {
                return Err(MsgError::new(
                    "ErrorCalendarCannotUseIdForOccurrenceId",
                    "The Id of a non-recurring item or an occurrence cannot be used as a recurring master id.",
                ));
            }
            let series = item.series().ok_or_else(not_found)?;
            let occ = series.occurrence(*instance_index).ok_or_else(|| {
                MsgError::new(
                    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                    "Occurrence index is out of recurrence range.",
                )
            })?;
            if item.deleted.contains(&occ.start) {
                return Err(MsgError::new(
                    "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                    "Occurrence with this index was previously deleted from the recurrence.",
                ));
            }
            Ok((mb, item, Target::Occurrence(occ.start)))
        }
        ItemRef::RecurringMaster { occurrence_id, .. } => {
            // Either an occurrence id or the master's own id names the series.
            let (mb, item, _) = lookup(occurrence_id)?;
            if item.recurrence.is_none() {
                return Err(MsgError::new(
                    "ErrorCalendarCannotUseIdForRecurringMasterId",
                    "The Id of a single item cannot be used as an occurrence id.",
                ));
            }
            Ok((mb, item, Target::Item))
        }
    }
}

/// The full wire form of a resolved item.
pub(crate) fn to_wire(
    mb: &Mailbox,
    item: &CalendarItem,
    target: &Target,
    rd: Reader,
) -> Option<ews_proto::CalendarItem> {
    match target {
        Target::Item if item.recurrence.is_some() => Some(wire::master_to_wire(mb, item, rd)),
        Target::Item => Some(wire::entry_to_wire(
            mb,
            &crate::item::ViewEntry {
                item,
                start: item.start,
                end: item.end,
                occurrence: None,
            },
            rd,
        )),
        Target::Occurrence(original) => item
            .instance_at(*original)
            .map(|e| wire::entry_to_wire(mb, &e, rd)),
    }
}

pub(crate) fn get_item(ctx: &Ctx<'_>, req: &GetItem) -> Reply {
    let fields = wire::Fields::for_shape(&req.item_shape, false);
    let messages = req
        .item_ids
        .iter()
        .map(|r| {
            let result = (|| {
                let (mb, item, target) = resolve_item(ctx, r)?;
                require(ctx, &mb, DelegateRight::Reviewer)?;
                let mut full = to_wire(&mb, &item, &target, fields_reader(ctx, &mb, fields))
                    .ok_or_else(|| {
                        MsgError::new(
                            "ErrorItemNotFound",
                            "The specified object was not found in the store.",
                        )
                    })?;
                fields.retain(&mut full);
                Ok::<_, MsgError>(full)
            })();
            match result {
                Ok(w) => ResponseMessage::success(GetItemResult(ItemsResult {
                    items: Some(vec![Item::Calendar(Box::new(w))]),
                })),
                Err(e) => ResponseMessage {
                    status: status(&e),
                    payload: GetItemResult(ItemsResult {
                        items: Some(Vec::new()),
                    }),
                },
            }
        })
        .collect();
    respond::<GetItemResult>(ctx, &GetItemResponse { messages })
}
