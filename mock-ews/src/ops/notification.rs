//! Subscribe, GetEvents, GetStreamingEvents and Unsubscribe (EWS.md §6.1, §6.4-§6.6) on top
//! of [`crate::notification::Notifications`]. GetStreamingEvents answers a
//! [`Reply::Stream`] whose body a task of [`streaming`] writes over the connection's life.
//!
//! Subscriptions watch one mailbox (all listed folders must be in it); only its owner or a
//! caller impersonating it may subscribe, delegates get
//! `ErrorSubscriptionDelegateAccessNotSupported` as on Exchange. Values outside the schema
//! ranges (Timeout 1-1440, StatusFrequency 1-1440) fail schema validation like any other
//! xs restriction.

use chrono::Duration;
use ews_proto::notification::{
    EventType, GetEvents, GetEventsResult, GetStreamingEvents, Subscribe, SubscribeResult,
    SubscriptionScope, Unsubscribe, UnsubscribeResult,
};
use ews_proto::response::{ResponseMessage, Responses};

use crate::id::FolderKind;
use crate::notification::events::Scope;
use crate::notification::streaming::{self, CONNECTION_MINUTES};
use crate::notification::{Kind, NewSubscription, NotifyError, Owner};
use crate::ops::calendar::{error_msg, resolve_folder, respond, right_on};
use crate::ops::common::MsgError;
use crate::ops::{Ctx, Reply};
use crate::soap::SoapFault;
use crate::world::DelegateRight;

/// Minutes allowed for pull `Timeout` and push `StatusFrequency`.
const MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;

impl From<&NotifyError> for MsgError {
    fn from(e: &NotifyError) -> Self {
        MsgError::new(e.response_code(), e.message_text())
    }
}

pub(crate) fn owner(ctx: &Ctx<'_>) -> Owner {
    Owner {
        user: ctx.principal.user.clone(),
        acting_as: ctx.acting_as.clone(),
    }
}

fn schema(text: String) -> Reply {
    Reply::Fault(SoapFault::new(
        "ErrorSchemaValidation",
        format!("The request failed schema validation: {text}"),
    ))
}

/// Resolves the folders of a request to one mailbox the caller owns.
fn resolve_scope(ctx: &Ctx<'_>, s: &SubscriptionScope) -> Result<Scope, MsgError> {
    let invalid = |why: &str| MsgError::from(&NotifyError::InvalidRequest(why.to_owned()));
    let types: Vec<EventType> = s
        .event_types
        .iter()
        .copied()
        .filter(|t| *t != EventType::StatusEvent)
        .collect();
    if types.is_empty() {
        return Err(invalid("no event types to subscribe to"));
    }
    let all_folders = s.subscribe_to_all_folders.unwrap_or(false);
    let mut mailbox = None;
    let mut folders = Vec::new();
    if all_folders {
        let address = ctx
            .acting_as
            .clone()
            .or_else(|| ctx.principal.mailbox.clone())
            .ok_or_else(|| invalid("the caller has no mailbox to subscribe to"))?;
        mailbox = ctx.store.read(|w| w.mailbox(&address).cloned());
        if mailbox.is_none() {
            return Err(invalid("the caller's mailbox does not exist"));
        }
    } else {
        let refs = s.folder_ids.as_deref().unwrap_or_default();
        if refs.is_empty() {
            return Err(invalid(
                "FolderIds is required unless SubscribeToAllFolders is true",
            ));
        }
        for f in refs {
            let (mb, kind) = resolve_folder(ctx, f)?;
            match &mailbox {
                Some(m) if m.serial != mb.serial => {
                    return Err(invalid(
                        "all folders of one subscription must be in one mailbox",
                    ));
                }
                _ => mailbox = Some(mb),
            }
            if !folders.contains(&kind) {
                folders.push(kind);
            }
        }
    }
    let Some(mb) = mailbox else {
        return Err(invalid("no folder to subscribe to"));
    };
    if right_on(ctx, &mb) != DelegateRight::Owner {
        return Err(MsgError::from(&NotifyError::DelegateAccess(
            mb.smtp.clone(),
        )));
    }
    Ok(Scope {
        mailbox: mb.smtp.to_ascii_lowercase(),
        serial: mb.serial,
        all_folders,
        folders: if all_folders {
            vec![FolderKind::Calendar]
        } else {
            folders
        },
        types,
    })
}

pub(crate) fn subscribe(ctx: &Ctx<'_>, r: &Subscribe) -> Reply {
    let now = ctx.store.clock().now();
    let (scope, kind, watermark) = match r {
        Subscribe::Pull {
            scope,
            watermark,
            timeout,
        } => {
            if !MINUTES.contains(timeout) {
                return schema(format!("Timeout {timeout} is outside 1..1440."));
            }
            let kind = Kind::Pull {
                timeout: Duration::minutes(i64::from(*timeout)),
                last_poll: now,
            };
            (scope, kind, watermark.clone())
        }
        Subscribe::Push {
            scope,
            watermark,
            status_frequency,
            url,
        } => {
            let minutes = status_frequency.unwrap_or(30);
            if !MINUTES.contains(&minutes) {
                return schema(format!("StatusFrequency {minutes} is outside 1..1440."));
            }
            let kind = Kind::Push {
                url: url.trim().to_owned(),
                status_frequency: Duration::minutes(i64::from(minutes)),
            };
            (scope, kind, watermark.clone())
        }
        Subscribe::Streaming { scope } => (
            scope,
            Kind::Streaming {
                open: 0,
                idle_since: now,
            },
            None,
        ),
    };
    let streaming = matches!(kind, Kind::Streaming { .. });
    let push = matches!(kind, Kind::Push { .. });
    let result = resolve_scope(ctx, scope).and_then(|scope| {
        ctx.notifications
            .subscribe(NewSubscription {
                scope,
                owner: owner(ctx),
                kind,
                watermark,
            })
            .map_err(|e| MsgError::from(&e))
    });
    let msg = match result {
        Ok((id, from)) => {
            if push {
                ctx.notifications.spawn_push(id.clone());
            }
            ResponseMessage::success(SubscribeResult {
                subscription_id: Some(id),
                watermark: (!streaming).then(|| from.encode()),
            })
        }
        Err(e) => error_msg(&e),
    };
    respond(ctx, &Responses::single(msg))
}

pub(crate) fn get_events(ctx: &Ctx<'_>, r: &GetEvents) -> Reply {
    let msg = match ctx
        .notifications
        .get_events(&owner(ctx), &r.subscription_id, &r.watermark)
    {
        Ok(n) => ResponseMessage::success(GetEventsResult {
            notification: Some(n),
        }),
        Err(e) => error_msg(&MsgError::from(&e)),
    };
    respond(ctx, &Responses::single(msg))
}

pub(crate) fn unsubscribe(ctx: &Ctx<'_>, r: &Unsubscribe) -> Reply {
    let msg = match ctx
        .notifications
        .unsubscribe(&owner(ctx), &r.subscription_id)
    {
        Ok(()) => ResponseMessage::success(UnsubscribeResult),
        Err(e) => error_msg(&MsgError::from(&e)),
    };
    respond(ctx, &Responses::single(msg))
}

pub(crate) fn get_streaming_events(ctx: &Ctx<'_>, r: &GetStreamingEvents) -> Reply {
    if !CONNECTION_MINUTES.contains(&r.connection_timeout) {
        return schema(format!(
            "ConnectionTimeout {} is outside 1..30.",
            r.connection_timeout
        ));
    }
    let (response, outcome) = streaming::open(ctx.notifications, &owner(ctx), ctx.server, r);
    Reply::Stream {
        response: Box::new(response),
        outcome,
    }
}
