//! GetUserOofSettings / SetUserOofSettings (EWS.md §4): a single unwrapped
//! `m:ResponseMessage`, `t:OofSettings` in the types namespace, `m:AllowExternalOof` after it.
//!
//! Only the mailbox owner (or a caller impersonating it) may read or set OOF; anyone else gets
//! an `ErrorAccessDenied` fault, as Exchange answers "User is not mailbox owner".

use chrono::{DateTime, Duration, Utc};
use ews_proto::{Element, Ns, Writer};

use crate::ops::common::{Messages, MsgError};
use crate::ops::time::{format_utc, parse_datetime};
use crate::ops::{Ctx, Reply};
use crate::soap::SoapFault;
use crate::spec::{Audience, OofState};
use crate::world::{DelegateRight, OofSettings};

fn mailbox_address(body: &Element) -> Option<String> {
    body.child(&Ns::Types, "Mailbox")
        .and_then(|m| m.text_of(&Ns::Types, "Address"))
        .map(|s| s.trim().to_owned())
}

/// Checks that the caller owns the mailbox; returns its key.
fn owner_check(ctx: &Ctx<'_>, address: Option<String>, op: &'static str) -> Result<String, Reply> {
    let Some(address) = address.filter(|a| !a.is_empty()) else {
        return Err(Reply::Fault(SoapFault::new(
            "ErrorInvalidRequest",
            format!("The request is invalid: {op} needs t:Mailbox/t:Address."),
        )));
    };
    let exists = ctx.store.read(|w| w.mailbox(&address).is_some());
    if !exists {
        let mut out = Messages::unwrapped(ctx.server, op);
        out.error(
            &MsgError::new(
                "ErrorNonExistentMailbox",
                "The SMTP address has no mailbox associated with it.",
            )
            .with_value("SmtpAddress", address),
            |_| {},
        );
        return Err(out.finish());
    }
    let right = ctx
        .store
        .read(|w| w.right(ctx.principal, ctx.acting_as.as_deref(), &address));
    if right != DelegateRight::Owner {
        return Err(Reply::Fault(SoapFault::new(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again: user is not the mailbox owner.",
        )));
    }
    Ok(address.to_ascii_lowercase())
}

fn state_str(s: OofState) -> &'static str {
    match s {
        OofState::Disabled => "Disabled",
        OofState::Enabled => "Enabled",
        OofState::Scheduled => "Scheduled",
    }
}

fn audience_str(a: Audience) -> &'static str {
    match a {
        Audience::None => "None",
        Audience::Known => "Known",
        Audience::All => "All",
    }
}

fn write_settings(w: &mut Writer, oof: &OofSettings, now: DateTime<Utc>) {
    w.start(&Ns::Types, "OofSettings", &[]);
    w.leaf(&Ns::Types, "OofState", state_str(oof.state));
    w.leaf(&Ns::Types, "ExternalAudience", audience_str(oof.audience));
    // Exchange always returns a Duration; without a stored one it is "today".
    let start = oof.start.unwrap_or(now);
    let end = oof.end.unwrap_or(now + Duration::days(1));
    w.start(&Ns::Types, "Duration", &[]);
    w.leaf(&Ns::Types, "StartTime", &format_utc(start));
    w.leaf(&Ns::Types, "EndTime", &format_utc(end));
    w.end();
    for (name, text) in [
        ("InternalReply", &oof.internal),
        ("ExternalReply", &oof.external),
    ] {
        w.start(&Ns::Types, name, &[]);
        w.leaf(&Ns::Types, "Message", text);
        w.end();
    }
    w.end();
}

pub(crate) fn get(ctx: &Ctx<'_>) -> Reply {
    let op = "GetUserOofSettings";
    let key = match owner_check(ctx, mailbox_address(&ctx.envelope.body), op) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let now = ctx.store.clock().now();
    let Some(oof) = ctx.store.read(|w| w.mailbox(&key).map(|m| m.oof.clone())) else {
        return Reply::Fault(SoapFault::new(
            "ErrorNonExistentMailbox",
            "The SMTP address has no mailbox associated with it.",
        ));
    };
    let mut out = Messages::unwrapped(ctx.server, op);
    out.success(|_| {});
    let w = out.after_messages();
    write_settings(w, &oof, now);
    w.leaf(&Ns::Messages, "AllowExternalOof", "All");
    out.finish()
}

fn parse_settings(
    ctx: &Ctx<'_>,
    e: &Element,
    current: &OofSettings,
) -> Result<OofSettings, MsgError> {
    let invalid = |what: String| MsgError::new("ErrorInvalidUserOofSettings", what);
    let state = match e.text_of(&Ns::Types, "OofState").map(str::trim) {
        Some("Disabled") => OofState::Disabled,
        Some("Enabled") => OofState::Enabled,
        Some("Scheduled") => OofState::Scheduled,
        other => {
            return Err(invalid(format!(
                "OofState {other:?} is not Disabled, Enabled or Scheduled"
            )));
        }
    };
    let audience = match e.text_of(&Ns::Types, "ExternalAudience").map(str::trim) {
        Some("None") => Audience::None,
        Some("Known") => Audience::Known,
        Some("All") | None => Audience::All,
        Some(other) => {
            return Err(invalid(format!(
                "ExternalAudience {other} is not None, Known or All"
            )));
        }
    };
    let tz = ctx.request_zone();
    let (start, end) = match e.child(&Ns::Types, "Duration") {
        Some(d) => {
            let parse = |name: &str| -> Result<Option<DateTime<Utc>>, MsgError> {
                d.text_of(&Ns::Types, name)
                    .map(|t| {
                        parse_datetime(t, tz).ok_or_else(|| {
                            MsgError::new(
                                "ErrorInvalidScheduledOofDuration",
                                format!("{name} `{}` is not an xs:dateTime", t.trim()),
                            )
                        })
                    })
                    .transpose()
            };
            (parse("StartTime")?, parse("EndTime")?)
        }
        None => (current.start, current.end),
    };
    let reply = |name: &str, keep: &String| {
        e.child(&Ns::Types, name)
            .map(|r| {
                r.text_of(&Ns::Types, "Message")
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| keep.clone())
    };
    let settings = OofSettings {
        state,
        audience,
        start,
        end,
        internal: reply("InternalReply", &current.internal),
        external: reply("ExternalReply", &current.external),
    };
    if state == OofState::Scheduled {
        let now = ctx.store.clock().now();
        match (start, end) {
            (Some(s), Some(en)) if en > s && en > now => {}
            _ => {
                return Err(MsgError::new(
                    "ErrorInvalidScheduledOofDuration",
                    "The scheduled OOF duration is invalid: the end time is not greater than the start time, or the end time does not occur in the future.",
                ));
            }
        }
    }
    Ok(settings)
}

pub(crate) fn set(ctx: &Ctx<'_>) -> Reply {
    let op = "SetUserOofSettings";
    let body = &ctx.envelope.body;
    let key = match owner_check(ctx, mailbox_address(body), op) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Some(current) = ctx.store.read(|w| w.mailbox(&key).map(|m| m.oof.clone())) else {
        return Reply::Fault(SoapFault::new(
            "ErrorNonExistentMailbox",
            "The SMTP address has no mailbox associated with it.",
        ));
    };
    let mut out = Messages::unwrapped(ctx.server, op);
    let result = body
        .child(&Ns::Types, "UserOofSettings")
        .ok_or_else(|| {
            MsgError::new(
                "ErrorInvalidUserOofSettings",
                "t:UserOofSettings is missing",
            )
        })
        .and_then(|e| parse_settings(ctx, e, &current))
        .and_then(|s| ctx.store.set_oof(&key, s).map_err(MsgError::from));
    match result {
        Ok(()) => out.success(|_| {}),
        Err(e) => out.error(&e, |_| {}),
    }
    out.finish()
}
