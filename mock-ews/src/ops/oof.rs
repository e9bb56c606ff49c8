//! GetUserOofSettings / SetUserOofSettings (EWS.md §4), read and written with ews-proto's
//! OOF types: a single unwrapped `m:ResponseMessage`, `t:OofSettings`, `m:AllowExternalOof`.
//!
//! Only the mailbox owner (or a caller impersonating it) may read or set OOF; anyone else gets
//! an `ErrorAccessDenied` fault, as Exchange answers "User is not mailbox owner".

use chrono::{DateTime, Duration, Utc};
use ews_proto::oof::{
    ExternalAudience, GetUserOofSettings, GetUserOofSettingsResponse, OofDuration,
    OofSettings as WireOof, OofState as WireState, ReplyBody, SetUserOofSettings,
    SetUserOofSettingsResponse,
};
use ews_proto::{EwsDateTime, ResponseStatus, Writer};

use crate::journal::Outcome;
use crate::ops::calendar::status;
use crate::ops::common::MsgError;
use crate::ops::{Ctx, Reply};
use crate::soap::{SoapFault, open_response};
use crate::spec::{Audience, OofState};
use crate::world::{DelegateRight, OofSettings};

/// Checks that the caller owns the mailbox; returns its key, or the error message.
fn owner_check(ctx: &Ctx<'_>, address: &str) -> Result<String, Result<MsgError, SoapFault>> {
    let address = address.trim();
    if address.is_empty() {
        return Err(Err(SoapFault::new(
            "ErrorInvalidRequest",
            "The request is invalid: t:Mailbox/t:Address is empty.",
        )));
    }
    if ctx.store.read(|w| w.mailbox(address).is_none()) {
        return Err(Ok(MsgError::new(
            "ErrorNonExistentMailbox",
            "The SMTP address has no mailbox associated with it.",
        )
        .with_value("SmtpAddress", address)));
    }
    let right = ctx
        .store
        .read(|w| w.right(ctx.principal, ctx.acting_as.as_deref(), address));
    if right != DelegateRight::Owner {
        return Err(Err(SoapFault::new(
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again: user is not the mailbox owner.",
        )));
    }
    Ok(address.to_ascii_lowercase())
}

fn written(ctx: &Ctx<'_>, outcome: Outcome, write: impl FnOnce(&mut Writer)) -> Reply {
    let mut w = open_response(ctx.server);
    write(&mut w);
    Reply::Body {
        bytes: w.into_bytes(),
        outcome,
    }
}

fn outcome_of(s: &ResponseStatus) -> Outcome {
    match &s.code {
        Some(c) if !s.is_success() => Outcome::Error {
            code: c.as_str().to_owned(),
        },
        _ => Outcome::Success,
    }
}

fn to_wire(oof: &OofSettings, now: DateTime<Utc>) -> WireOof {
    // Exchange always returns a Duration; without a stored one it is "today".
    let start = oof.start.unwrap_or(now);
    let end = oof.end.unwrap_or(now + Duration::days(1));
    WireOof {
        oof_state: match oof.state {
            OofState::Disabled => WireState::Disabled,
            OofState::Enabled => WireState::Enabled,
            OofState::Scheduled => WireState::Scheduled,
        },
        external_audience: match oof.audience {
            Audience::None => ExternalAudience::None,
            Audience::Known => ExternalAudience::Known,
            Audience::All => ExternalAudience::All,
        },
        duration: Some(OofDuration {
            start_time: EwsDateTime::utc(start),
            end_time: EwsDateTime::utc(end),
        }),
        internal_reply: Some(ReplyBody {
            message: oof.internal.clone(),
            lang: None,
        }),
        external_reply: Some(ReplyBody {
            message: oof.external.clone(),
            lang: None,
        }),
        other: Vec::new(),
    }
}

pub(crate) fn get(ctx: &Ctx<'_>, req: &GetUserOofSettings) -> Reply {
    let key = match owner_check(ctx, &req.mailbox.address) {
        Ok(k) => k,
        Err(Err(fault)) => return Reply::Fault(fault),
        Err(Ok(e)) => {
            let resp = GetUserOofSettingsResponse {
                status: status(&e),
                oof_settings: None,
                allow_external_oof: None,
            };
            return written(ctx, outcome_of(&resp.status), |w| resp.write(w));
        }
    };
    let now = ctx.store.clock().now();
    let oof = ctx
        .store
        .read(|w| w.mailbox(&key).map(|m| m.oof.clone()))
        .unwrap_or_default();
    let resp = GetUserOofSettingsResponse {
        status: ResponseStatus::success(),
        oof_settings: Some(to_wire(&oof, now)),
        allow_external_oof: Some(ExternalAudience::All),
    };
    written(ctx, Outcome::Success, |w| resp.write(w))
}

/// The new settings; absent replies keep the current ones, zone-less times are read in
/// the request's zone.
fn from_wire(ctx: &Ctx<'_>, s: &WireOof, current: &OofSettings) -> Result<OofSettings, MsgError> {
    let tz = ctx.request_zone();
    let bad_time = |what: &str, t: &EwsDateTime| {
        MsgError::new(
            "ErrorInvalidScheduledOofDuration",
            format!("{what} {t} does not exist in the request's zone"),
        )
    };
    let (start, end) = match &s.duration {
        Some(d) => (
            Some(
                d.start_time
                    .instant_in(&tz)
                    .ok_or_else(|| bad_time("StartTime", &d.start_time))?,
            ),
            Some(
                d.end_time
                    .instant_in(&tz)
                    .ok_or_else(|| bad_time("EndTime", &d.end_time))?,
            ),
        ),
        None => (current.start, current.end),
    };
    let state = match s.oof_state {
        WireState::Disabled => OofState::Disabled,
        WireState::Enabled => OofState::Enabled,
        WireState::Scheduled => OofState::Scheduled,
    };
    if state == OofState::Scheduled {
        let now = ctx.store.clock().now();
        match (start, end) {
            (Some(s), Some(e)) if e > s && e > now => {}
            _ => {
                return Err(MsgError::new(
                    "ErrorInvalidScheduledOofDuration",
                    "The scheduled OOF duration is invalid: the end time is not greater than the start time, or the end time does not occur in the future.",
                ));
            }
        }
    }
    Ok(OofSettings {
        state,
        audience: match s.external_audience {
            ExternalAudience::None => Audience::None,
            ExternalAudience::Known => Audience::Known,
            ExternalAudience::All => Audience::All,
        },
        start,
        end,
        internal: s
            .internal_reply
            .as_ref()
            .map_or_else(|| current.internal.clone(), |r| r.message.clone()),
        external: s
            .external_reply
            .as_ref()
            .map_or_else(|| current.external.clone(), |r| r.message.clone()),
    })
}

pub(crate) fn set(ctx: &Ctx<'_>, req: &SetUserOofSettings) -> Reply {
    let key = match owner_check(ctx, &req.mailbox.address) {
        Ok(k) => k,
        Err(Err(fault)) => return Reply::Fault(fault),
        Err(Ok(e)) => {
            let resp = SetUserOofSettingsResponse { status: status(&e) };
            return written(ctx, outcome_of(&resp.status), |w| resp.write(w));
        }
    };
    let current = ctx
        .store
        .read(|w| w.mailbox(&key).map(|m| m.oof.clone()))
        .unwrap_or_default();
    let result = from_wire(ctx, &req.settings, &current)
        .and_then(|s| ctx.store.set_oof(&key, s).map_err(MsgError::from));
    let resp = SetUserOofSettingsResponse {
        status: match result {
            Ok(()) => ResponseStatus::success(),
            Err(e) => status(&e),
        },
    };
    written(ctx, outcome_of(&resp.status), |w| resp.write(w))
}
