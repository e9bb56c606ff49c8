//! SyncFolderItems: creates, updates and deletes since a SyncState, paging, bad states.

use ews_proto::sync::{SyncChange, SyncFolderItemsResult};
use ews_proto::{Limits, Response};

use crate::support::{envelope, office, soap};

fn request(state: Option<&str>, max: u32) -> String {
    let state = state
        .map(|s| format!("<m:SyncState>{s}</m:SyncState>"))
        .unwrap_or_default();
    format!(
        r#"<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>{state}<m:MaxChangesReturned>{max}</m:MaxChangesReturned></m:SyncFolderItems>"#
    )
}

async fn sync(
    ews: &mock_ews::MockEws,
    state: Option<&str>,
    max: u32,
) -> Result<SyncFolderItemsResult, String> {
    let r = soap(
        ews,
        ("svc-sync", "sync-pw"),
        &envelope(
            "Exchange2010_SP2",
            Some("alice@contoso.com"),
            &request(state, max),
        ),
    )
    .await;
    let Response::SyncFolderItems(s) = Response::parse_bytes(r.body.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("{e}: {}", r.body))
        .1
    else {
        panic!("{}", r.body)
    };
    let m = &s.messages[0];
    if m.status.is_success() {
        Ok(m.payload.clone())
    } else {
        Err(m
            .status
            .code
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default())
    }
}

fn kinds(r: &SyncFolderItemsResult) -> Vec<&'static str> {
    r.changes
        .iter()
        .flatten()
        .map(|c| match c {
            SyncChange::Create(_) => "create",
            SyncChange::Update(_) => "update",
            SyncChange::Delete(_) => "delete",
            SyncChange::ReadFlagChange { .. } => "read",
        })
        .collect()
}

#[tokio::test]
async fn changes_since_a_state_with_paging() {
    let ews = office().await;
    let first = sync(&ews, None, 2).await.unwrap();
    assert_eq!(kinds(&first), ["create", "create"]);
    assert_eq!(first.includes_last_item_in_range, Some(false));
    let second = sync(&ews, first.sync_state.as_deref(), 2).await.unwrap();
    assert_eq!(kinds(&second), ["create"]);
    assert_eq!(second.includes_last_item_in_range, Some(true));
    let state = second.sync_state.clone().unwrap();
    let idle = sync(&ews, Some(&state), 10).await.unwrap();
    assert!(kinds(&idle).is_empty());

    let items = ews
        .store()
        .world()
        .mailbox("alice@contoso.com")
        .unwrap()
        .items
        .clone();
    let mut ids = items
        .values()
        .map(|i| mock_ews::item_id(0, i.key, i.revision));
    let (a, b) = (ids.next().unwrap(), ids.next().unwrap());
    ews.store()
        .update_item(&a, None, |i| {
            i.subject = "Renamed".into();
            Ok(())
        })
        .unwrap();
    ews.store().delete_item(&b, None).unwrap();
    let after = sync(&ews, Some(&state), 10).await.unwrap();
    assert_eq!(kinds(&after), ["delete", "update"]);
    let SyncChange::Delete(gone) = &after.changes.as_ref().unwrap()[0] else {
        panic!()
    };
    assert_eq!(gone.id, b);
}

#[tokio::test]
async fn an_item_moved_to_deleted_items_is_a_delete_of_the_calendar_id() {
    let ews = office().await;
    let state = sync(&ews, None, 10).await.unwrap().sync_state.unwrap();
    let (serial, key, revision) = ews
        .store()
        .read(|w| {
            let mb = w.mailbox("alice@contoso.com")?;
            let item = mb.items.values().next()?;
            Some((mb.serial, item.key, item.revision))
        })
        .unwrap();
    let id = mock_ews::item_id(serial, key, revision);
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope(
            "Exchange2010_SP2",
            Some("alice@contoso.com"),
            &format!(r#"<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="{id}"/></m:ItemIds></m:DeleteItem>"#),
        ),
    )
    .await;
    assert!(r.body.contains("NoError"), "{}", r.body);
    let after = sync(&ews, Some(&state), 10).await.unwrap();
    assert_eq!(kinds(&after), ["delete"]);
    let SyncChange::Delete(gone) = &after.changes.as_ref().unwrap()[0] else {
        panic!()
    };
    assert_eq!(gone.id, id);
}

#[tokio::test]
async fn corrupt_or_foreign_states_are_invalid() {
    let ews = office().await;
    assert_eq!(
        sync(&ews, Some("H4sIAAAAAAAEAO29B2AcSZ"), 10)
            .await
            .unwrap_err(),
        "ErrorInvalidSyncStateData"
    );
    let r = soap(
        &ews,
        ("svc-sync", "sync-pw"),
        &envelope(
            "Exchange2010_SP2",
            Some("bob@contoso.com"),
            &request(None, 10),
        ),
    )
    .await;
    let bob_state = r
        .body
        .split("<m:SyncState>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        sync(&ews, Some(&bob_state), 10).await.unwrap_err(),
        "ErrorInvalidSyncStateData"
    );
    assert_eq!(
        sync(&ews, None, 0).await.unwrap_err(),
        "ErrorInvalidRequest"
    );
}
