//! The control API: world, snapshots, clock, items and OOF through the same store paths.

use serde_json::Value;

use crate::support::{http, office};

async fn json(ews: &mock_ews::MockEws, method: &str, path: &str, body: &str) -> (u16, Value) {
    let r = http(
        ews,
        method,
        &format!("/mock{path}"),
        &[("Content-Type", "application/json".into())],
        body.as_bytes(),
    )
    .await;
    let v = if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
    };
    (r.status, v)
}

#[tokio::test]
async fn world_summary_load_and_reset() {
    let ews = office().await;
    let (s, v) = json(&ews, "GET", "/world", "").await;
    assert_eq!(s, 200);
    assert_eq!(v["mailboxes"].as_array().unwrap().len(), 2);
    assert_eq!(v["serverVersionInfo"]["majorBuild"], 181);
    let r = http(
        &ews,
        "PUT",
        "/mock/world",
        &[("Content-Type", "application/yaml".into())],
        b"server: 2019\nmailboxes:\n  - smtp: solo@x.com\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, v) = json(&ews, "GET", "/world", "").await;
    assert_eq!(v["server"], "2019");
    assert_eq!(v["mailboxes"][0]["smtp"], "solo@x.com");
    let r = http(
        &ews,
        "PUT",
        "/mock/world",
        &[],
        b"mailboxes:\n  - smtp: a@x\n    zone: Nowhere/Land\n",
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Nowhere/Land"), "{}", r.body);
    let (_, v) = json(&ews, "GET", "/world", "").await;
    assert_eq!(
        v["mailboxes"][0]["smtp"], "solo@x.com",
        "a rejected world changes nothing"
    );
}

#[tokio::test]
async fn items_create_patch_delete_and_snapshot_restore() {
    let ews = office().await;
    let (s, snap) = json(&ews, "POST", "/snapshots", "").await;
    let at_snapshot = ews.store().world();
    assert_eq!(s, 200);
    let (s, created) = json(
        &ews,
        "POST",
        "/mailboxes/bob@contoso.com/items",
        r#"{"subject":"Review","start":"2026-03-25 10:00","duration":"45m"}"#,
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["itemId"].as_str().unwrap().to_owned();
    let (s, patched) = json(
        &ews,
        "PATCH",
        &format!("/items/{id}"),
        r#"{"subject":"Review v2","duration":"1h"}"#,
    )
    .await;
    assert_eq!(s, 200, "{patched}");
    assert_ne!(patched["itemId"], created["itemId"], "ids change on update");
    let (_, items) = json(&ews, "GET", "/mailboxes/bob@contoso.com/items", "").await;
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"]["subject"] == "Review v2")
        .unwrap();
    assert_eq!(item["item"]["start"], "2026-03-25 10:00:00");
    assert_eq!(item["item"]["end"], "2026-03-25 11:00:00");
    // A stale change key is a conflict.
    let stale = format!(
        r#"{{"subject":"x","changeKey":"{}"}}"#,
        created["changeKey"].as_str().unwrap()
    );
    let (s, _) = json(&ews, "PATCH", &format!("/items/{id}"), &stale).await;
    assert_eq!(s, 409);
    let (s, _) = json(
        &ews,
        "DELETE",
        &format!("/items/{}", patched["itemId"].as_str().unwrap()),
        "",
    )
    .await;
    assert_eq!(s, 204);
    let (_, changes) = json(&ews, "GET", "/changes?after=0", "").await;
    let kinds: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "modified", "deleted"]);
    let (s, _) = json(
        &ews,
        "POST",
        &format!("/snapshots/{}/restore", snap["id"]),
        "",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(ews.store().world().mailboxes, at_snapshot.mailboxes);
    assert_eq!(ews.store().world().item_count(), 5);
    let (_, changes) = json(&ews, "GET", "/changes?after=3", "").await;
    assert_eq!(changes[0]["kind"], "worldReplaced");
}

#[tokio::test]
async fn occurrences_move_through_the_control_api() {
    let ews = office().await;
    let w = ews.store().world();
    let alice = w.mailbox("alice@contoso.com").unwrap();
    let standup = alice
        .items
        .values()
        .find(|i| i.subject == "Standup")
        .unwrap();
    let third = standup.instance_by_index(3).unwrap().start;
    let occ = mock_ews::occurrence_id(alice.serial, standup.key, standup.revision, third);
    let (s, v) = json(
        &ews,
        "PATCH",
        &format!("/items/{occ}"),
        r#"{"subject":"Moved","start":"2026-03-23 16:00"}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, item, _) = ews.store().resolve(v["itemId"].as_str().unwrap()).unwrap();
    let inst = item.instance_by_index(3).unwrap();
    assert_eq!(inst.subject(), "Moved");
    assert_eq!(inst.start.to_rfc3339(), "2026-03-23T15:00:00+00:00");
    assert_eq!(inst.end - inst.start, chrono::Duration::minutes(15));
}

#[tokio::test]
async fn clock_and_oof_follow_each_other() {
    let ews = office().await;
    let (_, v) = json(&ews, "GET", "/mailboxes/alice@contoso.com/oof", "").await;
    assert_eq!(v["active"], false);
    let (s, c) = json(&ews, "POST", "/clock/advance", r#"{"by":"7d"}"#).await;
    assert_eq!(s, 200);
    assert_eq!(c["now"], "2026-03-30T07:00:00Z");
    assert_eq!(c["mode"], "frozen");
    let (_, v) = json(&ews, "GET", "/mailboxes/alice@contoso.com/oof", "").await;
    assert_eq!(
        v["active"], true,
        "the scheduled window switched on as the clock crossed it"
    );
    let (s, _) = json(&ews, "PUT", "/clock", r#"{"now":"2026-04-03T00:00:00Z"}"#).await;
    assert_eq!(s, 200);
    let (_, v) = json(&ews, "GET", "/mailboxes/alice@contoso.com/oof", "").await;
    assert_eq!(v["active"], false);
    let (s, v) = json(
        &ews,
        "PUT",
        "/mailboxes/alice@contoso.com/oof",
        r#"{"state":"enabled","internal":"now"}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["active"], true);
    let (s, _) = json(&ews, "POST", "/clock/advance", r#"{"by":"-1h"}"#).await;
    assert_eq!(s, 400);
    let (s, _) = json(
        &ews,
        "PUT",
        "/mailboxes/nobody@x/oof",
        r#"{"state":"enabled"}"#,
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn journal_is_readable_and_clearable() {
    let ews = office().await;
    http(&ews, "POST", "/EWS/Exchange.asmx", &[], b"").await;
    let (_, j) = json(&ews, "GET", "/journal", "").await;
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert_eq!(j[0]["outcome"]["status"], 401);
    let (s, _) = json(&ews, "DELETE", "/journal", "").await;
    assert_eq!(s, 204);
    assert!(ews.journal().is_empty());
}
