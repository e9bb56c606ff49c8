//! Run with: cargo run --release -p ews-proto --example wire_bench
//!
//! Prints how long parsing and writing a large calendar response take (a full CalendarView
//! page of 1,000 items, the EWSFindCountLimit), so the mock's and the engine's per-request
//! wire cost stays visible. Numbers, not assertions: the machine is shared.

use std::time::{Duration, Instant};

use ews_proto::calendar::{FindItemResponse, FindItemResult, RootFolder};
use ews_proto::item::{CalendarItemType, LegacyFreeBusyStatus};
use ews_proto::{
    CalendarItem, EwsDateTime, Headers, Item, ItemId, Limits, Mailbox, Message, Response,
    ResponseMessage, ServerVersionInfo,
};

fn time<T>(label: &str, runs: u32, mut f: impl FnMut() -> T) -> (T, Duration) {
    let start = Instant::now();
    let mut last = None;
    for _ in 0..runs {
        last = Some(std::hint::black_box(f()));
    }
    let per_run = start.elapsed() / runs;
    println!("{label:<52} {:>9.3} ms", per_run.as_secs_f64() * 1000.0);
    let value = match last {
        Some(value) => value,
        None => f(),
    };
    (value, per_run)
}

fn item(i: u32) -> Item {
    let day = i / 10;
    let start: EwsDateTime = format!("2026-03-{:02}T{:02}:00:00Z", 1 + day % 28, 8 + i % 10)
        .parse()
        .unwrap_or_else(|e| panic!("bench date: {e}"));
    let end: EwsDateTime = format!("2026-03-{:02}T{:02}:30:00Z", 1 + day % 28, 8 + i % 10)
        .parse()
        .unwrap_or_else(|e| panic!("bench date: {e}"));
    Item::Calendar(Box::new(CalendarItem {
        item_id: Some(ItemId::with_change_key(
            format!("AAMkADg4MTg2OTVjLTY5NzItNDliYS05NjRjLWE1Y2NkYmJhNTU4MQBGAAAAAAAnT{i:06}"),
            "DwAAABYAAAB4AcCri66ATqtSWLqPBV/jAAAMnbCE",
        )),
        subject: Some(format!("Team meeting {i} & follow-up <notes>")),
        start: Some(start),
        end: Some(end),
        is_all_day_event: Some(false),
        legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
        location: Some("Room 4.12".into()),
        calendar_item_type: Some(if i.is_multiple_of(3) {
            CalendarItemType::Occurrence
        } else {
            CalendarItemType::Single
        }),
        is_recurring: Some(i.is_multiple_of(3)),
        uid: Some(format!("040000008200E00074C5B7101A82E00800000000{i:08X}")),
        organizer: Some(Mailbox {
            name: Some("Desk".into()),
            email_address: Some("desk@contoso.test".into()),
            routing_type: Some("SMTP".into()),
            ..Mailbox::default()
        }),
        ..CalendarItem::default()
    }))
}

fn main() {
    let items: Vec<Item> = (0..1000).map(item).collect();
    let response = Response::FindItem(FindItemResponse {
        messages: vec![ResponseMessage::success(FindItemResult {
            root_folder: Some(RootFolder {
                indexed_paging_offset: None,
                total_items_in_view: Some(1000),
                includes_last_item_in_range: Some(true),
                items,
            }),
        })],
    });
    let headers = Headers::response(ServerVersionInfo {
        major_version: Some(15),
        minor_version: Some(1),
        ..ServerVersionInfo::default()
    });
    let (bytes, _) = time("write FindItem response, 1,000 calendar items", 20, || {
        response.write(&headers)
    });
    println!("{:<52} {:>9.1} KiB", "  size", bytes.len() as f64 / 1024.0);
    let (tree, _) = time("  xml::parse (element tree only)", 20, || {
        ews_proto::parse(&bytes, &Limits::default())
    });
    if let Err(e) = tree {
        panic!("bench input does not parse: {e}");
    }
    let (parsed, per) = time("  Message::parse (tree + typed)", 20, || {
        Message::parse(&bytes, &Limits::default())
    });
    match parsed {
        Ok(_) => println!(
            "{:<52} {:>9.1} MiB/s",
            "  parse throughput",
            bytes.len() as f64 / (1024.0 * 1024.0) / per.as_secs_f64()
        ),
        Err(e) => panic!("bench input does not parse: {e}"),
    }
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/ews-samples/getstreamingevents-multi-notification-response.xml"
    );
    if let Ok(stream) = std::fs::read(sample) {
        let _ = time(
            "parse a streaming notification envelope (sample)",
            2000,
            || Message::parse(&stream, &Limits::default()),
        );
    }
}
