//! Change notifications on virtual time: streaming, pull and push, lost subscriptions and
//! cut streams recovered by re-subscribing and resyncing, with no change lost.

use axum::body::Body;
use axum::http::Request;
use calendar_core::PresenceState;
use chrono::Duration;
use http_body_util::BodyExt;
use sync_engine::api;
use tower::ServiceExt;

use crate::support::{meeting, messages, t0, world};

fn subjects(w: &crate::support::World, mailbox: &str) -> Vec<String> {
    w.engine
        .appointments(mailbox)
        .unwrap()
        .into_iter()
        .filter_map(|a| a.subject)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn streaming_subscribes_before_fetching_and_applies_a_change() {
    let w = world("");
    let mut changes = w.engine.subscribe_presence();
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let log = messages(&w.engine);
    assert!(
        log.contains(&"Subscribing to availability: kim@contoso.test".to_string()),
        "{log:#?}"
    );
    // Subscribe came before the first fetch of each mailbox.
    let kim_ops: Vec<&str> = w
        .exchange
        .calls()
        .iter()
        .filter(|c| c.mailbox.as_deref() == Some("kim@contoso.test"))
        .map(|c| c.operation)
        .collect();
    assert_eq!(&kim_ops[..2], ["Subscribe", "CalendarView"]);
    // Both mailboxes share one streaming connection.
    assert_eq!(w.exchange.count("GetStreamingEvents"), 1);
    assert!(w.engine.status().mailboxes.iter().all(|m| m.subscribed));

    // A meeting booked now, starting at once, shows within the same instant.
    w.clock.sleep(Duration::minutes(5)).await;
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Escalation", 5, 30)]);
    w.clock.sleep(Duration::milliseconds(1)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Escalation"]);
    let mut meeting_at = None;
    while let Ok(e) = changes.try_recv() {
        if e.user == "kim@contoso.test" && e.presence.state == PresenceState::Meeting {
            meeting_at = Some(e.at);
        }
    }
    // Booked at 08:05:01 for 08:05: Meeting from the instant the change arrived.
    assert_eq!(
        meeting_at,
        Some(t0() + Duration::minutes(5) + Duration::seconds(1))
    );
}

#[tokio::test(start_paused = true)]
async fn a_cut_stream_is_resubscribed_and_resynced_without_losing_a_change() {
    let w = world("");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let subscribes = w.exchange.count("Subscribe");
    // The server forgets the subscription, then the calendar changes: the change can only
    // be found by the resync after re-subscribing.
    w.exchange.lose_subscriptions("kim@contoso.test");
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Moved", 60, 30)]);
    w.clock.sleep(Duration::seconds(1)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Moved"]);
    assert_eq!(w.exchange.count("Subscribe"), subscribes + 1);
    assert!(
        messages(&w.engine)
            .iter()
            .any(|m| m == "Subscription lost (GetStreamingEvents: subscription lost (ErrorSubscriptionNotFound)); re-subscribing and resyncing"),
        "{:#?}",
        messages(&w.engine)
    );

    w.exchange.cut_streams();
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Moved again", 90, 30)]);
    w.clock.sleep(Duration::seconds(1)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Moved again"]);
}

#[tokio::test(start_paused = true)]
async fn pull_mode_polls_get_events_and_recovers_a_lost_subscription() {
    let w = world("[notifications]\nmode = \"pull\"\npull_interval = \"1m\"\n");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Pulled", 60, 30)]);
    w.clock.sleep(Duration::seconds(30)).await;
    assert!(
        subjects(&w, "kim@contoso.test").is_empty(),
        "not before the poll"
    );
    w.clock.sleep(Duration::seconds(31)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Pulled"]);

    w.exchange.lose_subscriptions("kim@contoso.test");
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("After loss", 60, 30)]);
    w.clock.sleep(Duration::seconds(61)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["After loss"]);
    assert_eq!(w.exchange.subscription_ids("kim@contoso.test").len(), 1);
}

async fn post_push(engine: &sync_engine::Engine, body: String) -> String {
    let req = Request::builder()
        .method("POST")
        .uri("/ews/notify")
        .header("content-type", "text/xml")
        .body(Body::from(body))
        .unwrap();
    let resp = api::push_router(engine.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

fn push_sample(name: &str, id: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/ews-samples")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .or_else(|_| std::fs::read_to_string(format!("/work/shared/ews-samples/{name}")))
        .unwrap();
    text.replace("hKJETtoAdi9PPW0tZDQ4MThmMDoVYB", id)
        .replace("XXXXX=", id)
}

#[tokio::test(start_paused = true)]
async fn push_notifications_trigger_a_resync_and_silence_means_a_lost_subscription() {
    let w = world(
        "[notifications]\nmode = \"push\"\ncallback_url = \"http://engine.test:21020/ews/notify\"\nstatus_frequency = \"1m\"\n",
    );
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let id = w.exchange.subscription_ids("kim@contoso.test").remove(0);
    let ceo = w.exchange.subscription_ids("ceo@contoso.test").remove(0);

    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Pushed", 60, 30)]);
    let answer = post_push(
        &w.engine,
        push_sample("sendnotification-push-modified-request.xml", &id),
    )
    .await;
    assert!(
        answer.contains("<m:SubscriptionStatus>OK</m:SubscriptionStatus>"),
        "{answer}"
    );
    w.clock.sleep(Duration::milliseconds(1)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Pushed"]);

    // Status events keep it alive past the silence limit (2 x 1 min + 1 min).
    for _ in 0..4 {
        w.clock.sleep(Duration::minutes(1)).await;
        for sub in [&id, &ceo] {
            post_push(
                &w.engine,
                push_sample("sendnotification-push-status-request.xml", sub),
            )
            .await;
        }
    }
    assert_eq!(w.exchange.count("Subscribe"), 2, "one per mailbox so far");
    // Then silence: the subscription is taken as lost, re-created, and the mailbox resynced.
    w.exchange
        .set_appointments("kim@contoso.test", vec![meeting("Missed push", 60, 30)]);
    w.clock.sleep(Duration::minutes(4)).await;
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Missed push"]);
    assert!(
        messages(&w.engine)
            .iter()
            .any(|m| m.contains("no push notification for 180 s"))
    );

    // A notification for a subscription the engine does not hold is answered Unsubscribe.
    let answer = post_push(
        &w.engine,
        push_sample("sendnotification-push-status-request.xml", "stale"),
    )
    .await;
    assert!(answer.contains("Unsubscribe"), "{answer}");
}

#[tokio::test(start_paused = true)]
async fn repeated_quick_losses_back_off_instead_of_spinning() {
    let w = world("");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    for _ in 0..3 {
        w.exchange.lose_subscriptions("kim@contoso.test");
        w.clock.sleep(Duration::seconds(1)).await;
    }
    let log = messages(&w.engine);
    // 5 s scaled by the jitter factor in [0.5, 1.5).
    let waits: Vec<i64> = log
        .iter()
        .filter_map(|m| {
            m.strip_prefix("3 subscriptions in a row lost within 5 minutes; waiting ")?
                .strip_suffix(" s")?
                .parse()
                .ok()
        })
        .collect();
    assert!(waits.len() == 1 && (2..=7).contains(&waits[0]), "{log:#?}");
    assert_eq!(w.exchange.subscription_ids("kim@contoso.test").len(), 0);
    // It recovers after the wait.
    w.clock.sleep(Duration::seconds(8)).await;
    assert_eq!(w.exchange.subscription_ids("kim@contoso.test").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_subscription_that_lived_long_is_recreated_at_once_after_a_back_off() {
    let w = world("");
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    for _ in 0..4 {
        w.exchange.lose_subscriptions("kim@contoso.test");
        w.clock.sleep(Duration::seconds(1)).await;
    }
    // Backing off (5 s, then 10 s, jittered); once back, the subscription lives 10 min.
    w.clock.sleep(Duration::minutes(10)).await;
    assert_eq!(w.exchange.subscription_ids("kim@contoso.test").len(), 1);
    let before = messages(&w.engine).len();
    w.exchange.lose_subscriptions("kim@contoso.test");
    w.clock.sleep(Duration::milliseconds(10)).await;
    assert_eq!(w.exchange.subscription_ids("kim@contoso.test").len(), 1);
    let after = messages(&w.engine);
    assert!(
        after[before..].iter().all(|m| !m.contains("waiting")),
        "{:#?}",
        &after[before..]
    );
}

#[tokio::test(start_paused = true)]
async fn a_push_subscription_reported_dead_is_recreated_at_once() {
    let w = world(
        "[notifications]\nmode = \"push\"\ncallback_url = \"http://engine.test:21020/ews/notify\"\nstatus_frequency = \"30m\"\n",
    );
    let _tasks = w.engine.start();
    w.clock.sleep(Duration::seconds(1)).await;
    let id = w.exchange.subscription_ids("kim@contoso.test").remove(0);
    let subscribes = w.exchange.count("Subscribe");
    w.exchange.set_appointments(
        "kim@contoso.test",
        vec![meeting("Behind the failure", 60, 30)],
    );
    let dead = format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:SendNotification xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:SendNotificationResponseMessage ResponseClass="Error"><m:MessageText>Unable to read events.</m:MessageText><m:ResponseCode>ErrorReadEventsFailed</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:MessageXml><t:Value Name="SubscriptionId">{id}</t:Value></m:MessageXml></m:SendNotificationResponseMessage></m:ResponseMessages></m:SendNotification></soap:Body></soap:Envelope>"#
    );
    let answer = post_push(&w.engine, dead).await;
    assert!(answer.contains("Unsubscribe"), "{answer}");
    // Well before the 61-minute silence limit: re-subscribed and resynced.
    w.clock.sleep(Duration::seconds(1)).await;
    assert_eq!(w.exchange.count("Subscribe"), subscribes + 1);
    assert_eq!(subjects(&w, "kim@contoso.test"), ["Behind the failure"]);
}
