//! ConvertId: clients use it as a version probe (exchangelib sends a dummy id and only
//! reads the `ServerVersionInfo` header), and occasionally to convert real ids.
//!
//! Formats: `EwsId`, `EwsLegacyId`, `EntryId` and `OwaId` are base64 of the same bytes here,
//! `HexEntryId` is their hex; `StoreId` is not supported (ErrorInvalidIdMalformed).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ews_proto::{Element, Ns};

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

fn convert(ctx: &Ctx<'_>, dest: &str, alt: &Element) -> Result<(String, String, String), MsgError> {
    let mailbox = alt.attr("Mailbox").unwrap_or_default().trim().to_owned();
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
    let format = alt.attr("Format").unwrap_or_default();
    let id = alt.attr("Id").unwrap_or_default();
    let malformed = || MsgError::new("ErrorInvalidIdMalformed", "Id is malformed.");
    let bytes = decode(format, id).ok_or_else(malformed)?;
    if crate::id::parse_id(&STANDARD.encode(&bytes)).is_none() {
        return Err(malformed());
    }
    let out = encode(dest, &bytes).ok_or_else(malformed)?;
    Ok((dest.to_owned(), out, mailbox))
}

pub(crate) fn convert_id(ctx: &Ctx<'_>) -> Reply {
    let body = &ctx.envelope.body;
    let dest = body.attr("DestinationFormat").unwrap_or("EwsId").to_owned();
    let mut out = Messages::new(ctx.server, "ConvertId");
    let ids: Vec<&Element> = body
        .child(&Ns::Messages, "SourceIds")
        .map(|s| s.children.iter().collect())
        .unwrap_or_default();
    if ids.is_empty() {
        out.error(
            &MsgError::new(
                "ErrorInvalidRequest",
                "The request is invalid: no SourceIds.",
            ),
            |_| {},
        );
    }
    for alt in ids {
        match convert(ctx, &dest, alt) {
            Ok((format, id, mailbox)) => out.success(|w| {
                w.empty(
                    &Ns::Messages,
                    "AlternateId",
                    &[
                        ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
                        ("xsi:type", "t:AlternateIdType"),
                        ("Format", &format),
                        ("Id", &id),
                        ("Mailbox", &mailbox),
                    ],
                );
            }),
            Err(e) => out.error(&e, |_| {}),
        }
    }
    out.finish()
}
