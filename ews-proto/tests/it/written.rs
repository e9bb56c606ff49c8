//! Snapshots of what we write: every sample parsed and written back, and messages built in
//! code. The XML is indented one element per line (by `pretty`) so a diff shows element
//! order and prefixes.

use ews_proto::calendar::{CalendarView, FindItem, ItemView, Traversal};
use ews_proto::item::BaseShape;
use ews_proto::notification::{Event, EventType, GetStreamingEventsResult, Notification};
use ews_proto::{
    ConnectingSid, EwsDateTime, ExchangeVersion, FolderRef, Headers, ItemId, Limits, Mailbox,
    Message, MessageXml, Request, Response, ResponseCode, ResponseMessage, Responses,
    ServerVersionInfo, Shape, SoapFault, TimeZoneContext,
};

/// One tag per line, leaf text kept on its tag's line.
fn pretty(xml: &[u8]) -> String {
    let xml = String::from_utf8(xml.to_vec()).unwrap();
    let mut out = String::new();
    let mut depth: usize = 0;
    let mut last_was_open = false;
    for piece in xml.split('<').skip(1) {
        if let Some(close) = piece.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            if !last_was_open {
                out.push('\n');
                out.push_str(&"  ".repeat(depth));
            }
            out.push_str("</");
            out.push_str(close);
            last_was_open = false;
        } else {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&"  ".repeat(depth));
            out.push('<');
            out.push_str(piece);
            let self_closing = piece.trim_end().ends_with("/>") || piece.starts_with('?');
            if self_closing {
                last_was_open = false;
            } else {
                depth += 1;
                last_was_open = true;
            }
        }
    }
    out
}

#[test]
fn every_sample_written_back() {
    for (name, bytes) in crate::samples::samples() {
        let msg = Message::parse(&bytes, &Limits::default()).unwrap();
        let name = name.trim_end_matches(".xml").to_owned();
        insta::assert_snapshot!(name, pretty(&msg.write()));
    }
}

fn t(s: &str) -> EwsDateTime {
    s.parse().unwrap()
}

#[test]
fn calendar_view_request_built_in_code() {
    let headers = Headers {
        request_server_version: Some(ExchangeVersion::Exchange2013_SP1),
        time_zone_context: Some(TimeZoneContext::id("W. Europe Standard Time")),
        impersonation: Some(ConnectingSid::PrimarySmtpAddress(
            "desk@contoso.test".into(),
        )),
        ..Headers::default()
    };
    let mut folder = FolderRef::distinguished("calendar");
    if let FolderRef::Distinguished(d) = &mut folder {
        d.mailbox = Some(Mailbox::smtp("desk@contoso.test"));
    }
    let req = Request::FindItem(FindItem {
        traversal: Traversal::Shallow,
        item_shape: Shape::base(BaseShape::IdOnly),
        view: Some(ItemView::Calendar(CalendarView {
            max_entries_returned: Some(100),
            start_date: t("2026-03-30T00:00:00Z"),
            end_date: t("2026-04-06T00:00:00Z"),
        })),
        other: Vec::new(),
        parent_folder_ids: vec![folder],
    });
    insta::assert_snapshot!(pretty(&req.write(&headers)));
}

#[test]
fn server_busy_fault_and_message_built_in_code() {
    let fault = Response::Fault(
        SoapFault::new(
            ResponseCode::ErrorServerBusy,
            "The server cannot service this request right now. Try again later.",
        )
        .with_message_xml(MessageXml::value("BackOffMilliseconds", "5000")),
    );
    insta::assert_snapshot!("fault", pretty(&fault.write(&Headers::default())));
    let status = ews_proto::ResponseStatus::error(
        ResponseCode::ErrorItemNotFound,
        "The specified object was not found in the store.",
    );
    let resp = Response::GetItem(Responses {
        messages: vec![ResponseMessage {
            status,
            payload: ews_proto::calendar::GetItemResult(ews_proto::calendar::ItemsResult {
                items: Some(Vec::new()),
            }),
        }],
    });
    let headers = Headers::response(ServerVersionInfo {
        major_version: Some(15),
        minor_version: Some(1),
        major_build_number: Some(2507),
        minor_build_number: Some(57),
        version: Some(ExchangeVersion::V2017_07_11),
    });
    insta::assert_snapshot!("item_not_found", pretty(&resp.write(&headers)));
}

#[test]
fn streaming_notification_built_in_code() {
    let mut created = Event::new(EventType::CreatedEvent);
    created.time_stamp = Some(t("2026-03-30T09:00:00Z"));
    created.item_id = Some(ItemId::with_change_key("AAMkAD1", "DwAAAA=="));
    created.parent_folder_id = Some(ItemId::with_change_key("AAMkCAL", "AQAAAA=="));
    let resp = Response::GetStreamingEvents(Responses::single(ResponseMessage::success(
        GetStreamingEventsResult {
            notifications: Some(vec![Notification {
                subscription_id: "JgBzdWI=".into(),
                previous_watermark: None,
                more_events: None,
                events: vec![created],
            }]),
            error_subscription_ids: None,
            connection_status: None,
        },
    )));
    let headers = Headers::response(ServerVersionInfo {
        major_version: Some(15),
        version: Some(ExchangeVersion::V2017_07_11),
        ..ServerVersionInfo::default()
    });
    insta::assert_snapshot!(pretty(&resp.write(&headers)));
}
