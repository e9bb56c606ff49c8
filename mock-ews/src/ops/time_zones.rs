//! GetServerTimeZones: Windows zone definitions built from the IANA data by ews-proto
//! (exchangelib calls it before every availability request).

use ews_proto::response::ResponseMessage;
use ews_proto::time_zones::{
    GetServerTimeZones, GetServerTimeZonesResponse, GetServerTimeZonesResult,
};
use ews_proto::timezone::{TimeZoneDefinition, server_time_zones};

use crate::ops::calendar::{error_msg, respond};
use crate::ops::common::MsgError;
use crate::ops::{Ctx, Reply};

pub(crate) fn get_server_time_zones(ctx: &Ctx<'_>, req: &GetServerTimeZones) -> Reply {
    let message = match server_time_zones(req.ids.as_deref()) {
        Ok(defs) => {
            let full = req.return_full_time_zone_data.unwrap_or(true);
            let definitions = if full {
                defs
            } else {
                defs.into_iter()
                    .map(|d| {
                        let mut short = TimeZoneDefinition::id_only(d.id.clone());
                        short.name = d.name.clone();
                        short
                    })
                    .collect()
            };
            ResponseMessage::success(GetServerTimeZonesResult {
                definitions: Some(definitions),
            })
        }
        Err(e) => error_msg(&MsgError::new(
            "ErrorInvalidRequest",
            format!("The request is invalid: {e}"),
        )),
    };
    respond::<GetServerTimeZonesResult>(ctx, &GetServerTimeZonesResponse::single(message))
}
