//! ConvertId: clients use it as a version probe (exchangelib sends a dummy id and only
//! reads the `ServerVersionInfo` header), and occasionally to convert real ids.
//!
//! Formats: `EwsId`, `EwsLegacyId`, `EntryId` and `OwaId` are base64 of the same bytes here,
//! `HexEntryId` is their hex; `StoreId` is not supported (ErrorInvalidIdMalformed).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ews_proto::Payload as _;
use ews_proto::convert_id::{AlternateId, ConvertId, ConvertIdResult};

use crate::ops::common::{Messages, MsgError};
use crate::ops::{Ctx, Reply};

fn decode(format: &str, id: &str) -> Option<Vec<u8>> {
    match format {
        "EwsId" | "EwsLegacyId" | "EntryId" | "OwaId" => STANDARD.decode(id.trim()).ok(),
        "HexEntryId" => {
            let s = id.trim();
            if !s.len().is_multiple_of(2) {
                return None;
            }
            (0..s.len())
                .step_by(2)
                .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect()
        }
        _ => None,
    }
}

fn encode(format: &str, bytes: &[u8]) -> Option<String> {
    match format {
        "EwsId" | "EwsLegacyId" | "EntryId" | "OwaId" => Some(STANDARD.encode(bytes)),
        "HexEntryId" => Some(bytes.iter().map(|b| format!("{b:02X}")).collect()),
        _ => None,
    }
}

fn convert(ctx: &Ctx<'_>, dest: &str, alt: &AlternateId) -> Result<AlternateId, MsgError> {
    let mailbox = alt.mailbox.trim().to_owned();
    if !mailbox.contains('@') {
        return Err(MsgError::new(
            "ErrorInvalidSmtpAddress",
            "The SMTP address format is invalid.",
        ));
    }
    if ctx.store.read(|w| w.mailbox(&mailbox).is_none()) {
        return Err(MsgError::new(
            "ErrorNonExistentMailbox",
            "The SMTP address has no mailbox associated with it.",
        )
        .with_value("SmtpAddress", mailbox));
    }
    let malformed = || MsgError::new("ErrorInvalidIdMalformed", "Id is malformed.");
    let bytes = decode(&alt.format, &alt.id).ok_or_else(malformed)?;
    if crate::id::parse_id(&STANDARD.encode(&bytes)).is_none() {
        return Err(malformed());
    }
    let id = encode(dest, &bytes).ok_or_else(malformed)?;
    Ok(AlternateId {
        format: dest.to_owned(),
        id,
        mailbox,
        is_archive: None,
    })
}

/// Answers with ews-proto's `ConvertIdResult`, whose `m:AlternateId` carries the
/// `xsi:type="t:AlternateIdType"` Exchange writes (the EWS Managed API dispatches on it).
pub(crate) fn convert_id(ctx: &Ctx<'_>, request: &ConvertId) -> Reply {
    let dest = request.destination_format.trim();
    let mut out = Messages::new(ctx.server, "ConvertId");
    if request.source_ids.is_empty() {
        out.error(
            &MsgError::new(
                "ErrorInvalidRequest",
                "The request is invalid: no SourceIds.",
            ),
            |_| {},
        );
    }
    for alt in &request.source_ids {
        match convert(ctx, dest, alt) {
            Ok(converted) => out.success(|w| {
                ConvertIdResult {
                    alternate_id: Some(converted),
                }
                .write(w)
            }),
            Err(e) => out.error(&e, |_| {}),
        }
    }
    out.finish()
}
