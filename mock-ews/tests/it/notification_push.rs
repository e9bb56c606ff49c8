//! Push notifications to a listener in the test, on a paused tokio clock: delivery,
//! heartbeats, the retry schedule, dropping and Unsubscribe, with exact virtual timing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Duration, Utc};
use ews_clock::Clock;
use ews_proto::notification::{EventType, Notification, SendNotification};
use ews_proto::{Envelope, Limits};
use mock_ews::{MockEws, PushOutcome, Record};

use crate::notification::{BOB, ITEM_EVENTS, SVC, standup_spec, subscribe};
use crate::support::example;

fn t0() -> DateTime<Utc> {
    "2026-03-23T07:00:00Z".parse().expect("t0")
}

/// How the listener answers one POST.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Answer {
    Ok,
    Unsubscribe,
    Http500,
}

pub(crate) struct Listener {
    clock: Clock,
    script: Mutex<VecDeque<Answer>>,
    fallback: Answer,
    received: Mutex<Vec<(DateTime<Utc>, Notification)>>,
    /// Every body as posted, including error messages without a notification.
    raw: Mutex<Vec<String>>,
}

async fn receive(State(l): State<Arc<Listener>>, body: Bytes) -> (StatusCode, String) {
    l.raw
        .lock()
        .expect("lock")
        .push(String::from_utf8_lossy(&body).into_owned());
    let env = Envelope::parse(&body, &Limits::default()).expect("a SOAP envelope");
    assert_eq!(env.body.name, "SendNotification");
    let sn = SendNotification::from_xml(&env.body).expect("SendNotification");
    // Error pushes (ErrorReadEventsFailed) carry no notification.
    if let Some(n) = sn.messages[0].payload.notification.clone() {
        l.received.lock().expect("lock").push((l.clock.now(), n));
    }
    let answer = l
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(l.fallback);
    let status = match answer {
        Answer::Ok => "OK",
        Answer::Unsubscribe => "Unsubscribe",
        Answer::Http500 => return (StatusCode::INTERNAL_SERVER_ERROR, "boom".into()),
    };
    (
        StatusCode::OK,
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><SendNotificationResult xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><SubscriptionStatus>{status}</SubscriptionStatus></SendNotificationResult></s:Body></s:Envelope>"#
        ),
    )
}

/// Starts the mock on a running clock at t0 and a listener on another port.
pub(crate) async fn setup(script: &[Answer], fallback: Answer) -> (MockEws, Arc<Listener>, String) {
    let clock = Clock::starting_at(t0());
    let ews = MockEws::builder()
        .world(example("small-office.yaml"))
        .clock(clock.clone())
        .start()
        .await
        .expect("server starts");
    let listener = Arc::new(Listener {
        clock,
        script: Mutex::new(script.iter().copied().collect()),
        fallback,
        received: Mutex::new(Vec::new()),
        raw: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/listener", post(receive))
        .with_state(listener.clone());
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/listener", socket.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(socket, app).await });
    (ews, listener, url)
}

pub(crate) fn push_request(url: &str, minutes: u32) -> String {
    format!(
        r#"<m:PushSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds>{ITEM_EVENTS}<t:StatusFrequency>{minutes}</t:StatusFrequency><t:URL>{url}</t:URL></m:PushSubscriptionRequest>"#
    )
}

pub(crate) fn received(l: &Listener) -> Vec<(Duration, Notification)> {
    l.received
        .lock()
        .expect("lock")
        .iter()
        .map(|(at, n)| (*at - t0(), n.clone()))
        .collect()
}

fn kinds(n: &Notification) -> Vec<EventType> {
    n.events.iter().map(|e| e.kind).collect()
}

#[tokio::test(start_paused = true)]
async fn push_delivers_events_chains_watermarks_beats_and_stops_on_unsubscribe() {
    // OK, OK (heartbeat), then Unsubscribe on the third post.
    let (ews, listener, url) =
        setup(&[Answer::Ok, Answer::Ok, Answer::Unsubscribe], Answer::Ok).await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &push_request(&url, 5)).await;
    let wm = wm.expect("push subscriptions return a watermark");

    let created = ews
        .store()
        .create_item(BOB, &standup_spec("pushed"))
        .unwrap();
    // The first notification: three events of one change, chained from the subscribe watermark.
    ews.clock().sleep(Duration::seconds(1)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 1);
    let (at, n) = &got[0];
    assert_eq!(*at, Duration::zero());
    assert_eq!(n.subscription_id, id);
    assert_eq!(n.previous_watermark.as_deref(), Some(wm.as_str()));
    assert_eq!(
        kinds(n),
        [
            EventType::CreatedEvent,
            EventType::FreeBusyChangedEvent,
            EventType::ModifiedEvent
        ]
    );
    assert_eq!(n.events[0].item_id.as_ref().unwrap().id, created.item_id);
    let last = n.events[2].watermark.clone().unwrap();

    // Quiet for StatusFrequency (5 min) after the acknowledged post: a heartbeat.
    ews.clock().sleep(Duration::minutes(5)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].0, Duration::minutes(5));
    assert_eq!(kinds(&got[1].1), [EventType::StatusEvent]);
    assert_eq!(got[1].1.previous_watermark.as_deref(), Some(last.as_str()));

    // The third post is answered Unsubscribe: nothing more, ever.
    ews.clock().sleep(Duration::minutes(60)).await;
    let got = received(&listener);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].0, Duration::minutes(10));
    ews.store()
        .create_item(BOB, &standup_spec("after"))
        .unwrap();
    ews.clock().sleep(Duration::minutes(60)).await;
    assert_eq!(received(&listener).len(), 3);
    assert!(ews.notifications().active().is_empty());
    let journal = ews.notifications().journal();
    assert!(journal.iter().any(|e| e.record == Record::Unsubscribed));
}

#[tokio::test(start_paused = true)]
async fn a_failing_listener_is_retried_at_30_s_doubling_then_dropped() {
    let (ews, listener, url) = setup(&[], Answer::Http500).await;
    subscribe(&ews, SVC, Some(BOB), &push_request(&url, 30)).await;
    ews.store()
        .create_item(BOB, &standup_spec("unlucky"))
        .unwrap();
    ews.clock().sleep(Duration::hours(3)).await;
    let times: Vec<i64> = received(&listener)
        .iter()
        .map(|(at, _)| at.num_seconds())
        .collect();
    // First try at once, retries at 0:30, 1:00, 2:00, 4:00, 8:00, 16:00; 32:00 exceeds
    // StatusFrequency (30 min) after the first failure, so the subscription is dropped.
    assert_eq!(times, [0, 30, 60, 120, 240, 480, 960]);
    let journal = ews.notifications().journal();
    let dropped = journal
        .iter()
        .find(|e| matches!(e.record, Record::Dropped { .. }))
        .expect("dropped");
    assert_eq!(dropped.at - t0(), Duration::seconds(960));
    let attempts: Vec<u32> = journal
        .iter()
        .filter_map(|e| match &e.record {
            Record::Pushed {
                attempt,
                outcome: PushOutcome::Failed { .. },
                ..
            } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3, 4, 5, 6, 7]);
    assert!(ews.notifications().active().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_listener_that_recovers_gets_everything_from_the_same_watermark() {
    let (ews, listener, url) = setup(&[Answer::Http500, Answer::Http500], Answer::Ok).await;
    let (_, wm) = subscribe(&ews, SVC, Some(BOB), &push_request(&url, 30)).await;
    let wm = wm.unwrap();
    ews.store().create_item(BOB, &standup_spec("one")).unwrap();
    ews.clock().sleep(Duration::seconds(45)).await;
    // Raised while the listener was failing: comes with the next retry.
    ews.store().create_item(BOB, &standup_spec("two")).unwrap();
    ews.clock().sleep(Duration::minutes(2)).await;
    let got = received(&listener);
    let times: Vec<i64> = got.iter().map(|(at, _)| at.num_seconds()).collect();
    assert_eq!(times, [0, 30, 60]);
    for (_, n) in &got {
        assert_eq!(n.previous_watermark.as_deref(), Some(wm.as_str()));
    }
    assert_eq!(got[0].1.events.len(), 3);
    assert_eq!(got[2].1.events.len(), 6, "the retry carries both changes");
    assert_eq!(ews.notifications().active().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn push_ids_cannot_be_unsubscribed_or_polled_and_bad_urls_are_refused() {
    let (ews, _listener, url) = setup(&[], Answer::Ok).await;
    let (id, wm) = subscribe(&ews, SVC, Some(BOB), &push_request(&url, 30)).await;
    let call = |body: String| {
        let ews = &ews;
        async move {
            let r = crate::support::soap(
                ews,
                SVC,
                &crate::support::envelope("Exchange2010_SP2", Some(BOB), &body),
            )
            .await;
            crate::notification::code(&r.body)
        }
    };
    assert_eq!(
        call(format!(
            "<m:Unsubscribe><m:SubscriptionId>{id}</m:SubscriptionId></m:Unsubscribe>"
        ))
        .await,
        "ErrorInvalidPullSubscriptionId"
    );
    assert_eq!(
        call(format!(
            "<m:GetEvents><m:SubscriptionId>{id}</m:SubscriptionId><m:Watermark>{}</m:Watermark></m:GetEvents>",
            wm.unwrap()
        ))
        .await,
        "ErrorInvalidPullSubscriptionId"
    );
    assert_eq!(
        call(format!(
            "<m:Subscribe>{}</m:Subscribe>",
            push_request("ftp://x/", 30)
        ))
        .await,
        "ErrorInvalidPushSubscriptionUrl"
    );
}

#[tokio::test(start_paused = true)]
async fn an_early_expiry_pushes_error_read_events_failed_and_then_nothing() {
    let (ews, listener, url) = setup(&[], Answer::Ok).await;
    let (id, _) = subscribe(&ews, SVC, Some(BOB), &push_request(&url, 5)).await;
    ews.notifications()
        .faults()
        .add(mock_ews::NotifyFaultSpec::next(
            mock_ews::NotifyFault::ExpireEarly,
            1,
        ))
        .unwrap();
    ews.store()
        .create_item(BOB, &standup_spec("never"))
        .unwrap();
    ews.clock().sleep(Duration::minutes(30)).await;
    let raw = listener.raw.lock().unwrap().clone();
    assert_eq!(raw.len(), 1, "one error post, no heartbeats after it");
    let env = Envelope::parse(raw[0].as_bytes(), &Limits::default()).unwrap();
    let sn = SendNotification::from_xml(&env.body).unwrap();
    let status = &sn.messages[0].status;
    assert!(!status.is_success());
    assert_eq!(
        status.code.as_ref().map(|c| c.as_str()),
        Some("ErrorReadEventsFailed")
    );
    assert!(raw[0].contains(&id), "MessageXml names the subscription");
    assert!(ews.notifications().active().is_empty());
}
