//! The EWS client: [`Exchange`] over HTTP with reqwest and rustls (ring).
//!
//! One request is one attempt: retries, the concurrency bound and the server's back-off are
//! the engine's ([`crate::Engine::call`]), so they apply the same to every implementation.
//! What this layer owns is the transport: TLS (custom CA bundle, or the loudly logged
//! opt-out), Basic auth, the per-request timeout, `X-AnchorMailbox`, and turning HTTP
//! answers into [`ExchangeError`]s - a 503's `Retry-After` (seconds or an HTTP date, read
//! against the engine's clock) becomes a `ServerBusy` back-off like `ErrorServerBusy`'s.

use std::sync::Once;

use calendar_core::OofSettings;
use chrono::{DateTime, Duration, Utc};
use ews_clock::Clock;

use crate::config::ExchangeConfig;
use crate::ews::wire;
use tokio::sync::mpsc::UnboundedSender;

use crate::exchange::{
    Appointment, BoxFuture, Events, Exchange, ExchangeError, FetchedItem, ServerVersion,
    StreamEvent, Subscription, SubscriptionKind,
};

/// Items per CalendarView page (Exchange's find limit is 1000).
pub const PAGE_SIZE: u32 = 500;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read CA bundle {path}: {source}")]
    ReadCaBundle {
        path: String,
        source: std::io::Error,
    },
    #[error("CA bundle {path} holds no usable PEM certificate: {message}")]
    BadCaBundle { path: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// The EWS client.
pub struct EwsClient {
    http: reqwest::Client,
    url: String,
    username: String,
    password: String,
    version: String,
    timeout: Duration,
    clock: Clock,
}

fn install_ring_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client with the ring provider installed: the one way the engine builds one.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    install_ring_provider();
    reqwest::Client::builder()
}

impl EwsClient {
    /// A client for `config`; `clock` reads HTTP-date `Retry-After` values.
    pub fn new(config: &ExchangeConfig, clock: Clock) -> Result<EwsClient, ClientError> {
        let mut builder = http_client_builder()
            .timeout(
                config
                    .timeout
                    .to_std()
                    .unwrap_or(std::time::Duration::from_secs(30)),
            )
            .connect_timeout(std::time::Duration::from_secs(10))
            .pool_max_idle_per_host(config.max_concurrency);
        if let Some(path) = &config.tls.ca_bundle {
            let pem = std::fs::read(path).map_err(|source| ClientError::ReadCaBundle {
                path: path.display().to_string(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::BadCaBundle {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?;
            if certs.is_empty() {
                return Err(ClientError::BadCaBundle {
                    path: path.display().to_string(),
                    message: "no CERTIFICATE block".into(),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        if config.tls.danger_accept_invalid_certs {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(EwsClient {
            http,
            url: config.url.clone(),
            username: config.username.clone(),
            password: config.password.clone(),
            version: config.request_server_version.clone(),
            timeout: config.timeout,
            clock,
        })
    }

    /// Posts one SOAP request; answers the body of a 200 or 500 (faults travel as 500).
    async fn post(
        &self,
        operation: &'static str,
        mailbox: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ExchangeError> {
        let mut request = self
            .http
            .post(&self.url)
            .basic_auth(&self.username, Some(&self.password))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("Accept", "text/xml")
            .body(body);
        if let Some(mailbox) = mailbox {
            request = request.header("X-AnchorMailbox", mailbox);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(operation, &e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(operation, &e))?;
        match status {
            200 | 500 => Ok(bytes.to_vec()),
            401 => Err(ExchangeError::Unauthorized { operation }),
            503 => Err(ExchangeError::ServerBusy {
                operation,
                back_off: retry_after
                    .as_deref()
                    .and_then(|v| retry_after_delay(v, self.clock.now()))
                    .unwrap_or(Duration::milliseconds(wire::DEFAULT_BUSY_BACK_OFF_MS)),
            }),
            _ => Err(ExchangeError::Http {
                operation,
                status,
                message: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
            }),
        }
    }

    fn transport_error(&self, operation: &'static str, e: &reqwest::Error) -> ExchangeError {
        if e.is_timeout() {
            return ExchangeError::Timeout {
                operation,
                after: self.timeout,
            };
        }
        // The whole source chain: reqwest's own message is just "error sending request".
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        let lower = message.to_ascii_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            ExchangeError::Tls {
                operation,
                url: self.url.clone(),
                message,
            }
        } else {
            ExchangeError::Connect {
                operation,
                url: self.url.clone(),
                message,
            }
        }
    }

    /// Every item of the view, following `IncludesLastItemInRange="false"` pages: a
    /// CalendarView has no offset, so the next page starts at the last item's start and
    /// items already seen (same id and start) are skipped.
    async fn calendar_view_all(
        &self,
        mailbox: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, ExchangeError> {
        let mut all: Vec<Appointment> = Vec::new();
        let mut from = start;
        loop {
            let body = wire::find_item_calendar_view(&self.version, mailbox, from, end, PAGE_SIZE);
            let bytes = self.post("FindItem", Some(mailbox), body).await?;
            let (page, complete) = wire::parse_calendar_view(mailbox, &bytes)?;
            let last_start = page.iter().map(|a| a.start).max();
            let mut added = 0;
            for item in page {
                let seen = all
                    .iter()
                    .any(|a| a.id == item.id && a.start == item.start && a.end == item.end);
                if !seen {
                    all.push(item);
                    added += 1;
                }
            }
            if complete {
                return Ok(all);
            }
            match last_start {
                Some(next) if added > 0 && next >= from => from = next,
                _ => {
                    return Err(ExchangeError::Malformed {
                        operation: "FindItem",
                        message: format!(
                            "CalendarView page from {from} is truncated but brings nothing new; cannot page on"
                        ),
                    });
                }
            }
        }
    }
}

/// A `Retry-After` value as a delay from `now`: delta-seconds or an HTTP date.
pub fn retry_after_delay(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return (seconds >= 0).then(|| Duration::seconds(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).max(Duration::zero()))
}

impl Exchange for EwsClient {
    fn server_version(&self) -> BoxFuture<'_, Result<ServerVersion, ExchangeError>> {
        Box::pin(async move {
            let bytes = self
                .post("ConvertId", None, wire::convert_id_probe(&self.version))
                .await?;
            wire::parse_probe(&bytes)
        })
    }

    fn calendar_view<'a>(
        &'a self,
        mailbox: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Appointment>, ExchangeError>> {
        Box::pin(self.calendar_view_all(mailbox, start, end))
    }

    fn get_items<'a>(
        &'a self,
        mailbox: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<FetchedItem>, ExchangeError>> {
        Box::pin(async move {
            let body = wire::get_item(&self.version, mailbox, ids);
            let bytes = self.post("GetItem", Some(mailbox), body).await?;
            wire::parse_get_item(mailbox, ids, &bytes)
        })
    }

    fn availability<'a>(
        &'a self,
        mailbox: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Appointment>, ExchangeError>> {
        Box::pin(async move {
            let body = wire::get_user_availability(&self.version, mailbox, start, end);
            let bytes = self
                .post("GetUserAvailability", Some(mailbox), body)
                .await?;
            wire::parse_availability(mailbox, &bytes)
        })
    }

    fn oof<'a>(&'a self, mailbox: &'a str) -> BoxFuture<'a, Result<OofSettings, ExchangeError>> {
        Box::pin(async move {
            let body = wire::get_user_oof_settings(&self.version, mailbox);
            let bytes = self.post("GetUserOofSettings", Some(mailbox), body).await?;
            wire::parse_oof(mailbox, &bytes)
        })
    }

    fn subscribe<'a>(
        &'a self,
        mailbox: &'a str,
        kind: &'a SubscriptionKind,
    ) -> BoxFuture<'a, Result<Subscription, ExchangeError>> {
        Box::pin(async move {
            let body = wire::subscribe(&self.version, mailbox, kind);
            let bytes = self.post("Subscribe", Some(mailbox), body).await?;
            wire::parse_subscribe(mailbox, &bytes)
        })
    }

    fn get_events<'a>(
        &'a self,
        mailbox: &'a str,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Events, ExchangeError>> {
        Box::pin(async move {
            let body = wire::get_events(&self.version, mailbox, subscription);
            let bytes = self.post("GetEvents", Some(mailbox), body).await?;
            wire::parse_get_events(mailbox, &bytes)
        })
    }

    fn stream_events<'a>(
        &'a self,
        anchor: &'a str,
        ids: &'a [String],
        lifetime_minutes: u32,
        events: UnboundedSender<StreamEvent>,
    ) -> BoxFuture<'a, Result<(), ExchangeError>> {
        Box::pin(self.stream(anchor, ids, lifetime_minutes, events))
    }
}

impl EwsClient {
    /// Holds one GetStreamingEvents connection, reading envelope after envelope.
    async fn stream(
        &self,
        mailbox: &str,
        ids: &[String],
        lifetime_minutes: u32,
        events: UnboundedSender<StreamEvent>,
    ) -> Result<(), ExchangeError> {
        const OP: &str = "GetStreamingEvents";
        let body = wire::get_streaming_events(&self.version, mailbox, ids, lifetime_minutes);
        let mut response = self
            .http
            .post(&self.url)
            .basic_auth(&self.username, Some(&self.password))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("X-AnchorMailbox", mailbox)
            // The connection lives for its lifetime; the client's per-request timeout would cut it.
            .timeout(std::time::Duration::from_secs(
                u64::from(lifetime_minutes) * 60 + 300,
            ))
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(OP, &e))?;
        match response.status().as_u16() {
            200 => {}
            401 => return Err(ExchangeError::Unauthorized { operation: OP }),
            503 => {
                return Err(ExchangeError::ServerBusy {
                    operation: OP,
                    back_off: Duration::milliseconds(wire::DEFAULT_BUSY_BACK_OFF_MS),
                });
            }
            500 => {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| self.transport_error(OP, &e))?;
                wire::parse_stream_chunk(mailbox, &bytes)?;
                return Err(ExchangeError::Malformed {
                    operation: OP,
                    message: "HTTP 500 without a SOAP fault".into(),
                });
            }
            status => {
                return Err(ExchangeError::Http {
                    operation: OP,
                    status,
                    message: "unexpected status for a streaming connection".into(),
                });
            }
        }
        let mut buffer = Vec::new();
        loop {
            // Exchange sends a heartbeat at least every minute or so; silence this long is a
            // dead connection.
            let chunk = tokio::time::timeout(STREAM_IDLE_LIMIT, response.chunk())
                .await
                .map_err(|_| ExchangeError::Timeout {
                    operation: OP,
                    after: Duration::from_std(STREAM_IDLE_LIMIT).unwrap_or(Duration::minutes(3)),
                })?
                .map_err(|e| self.transport_error(OP, &e))?;
            let Some(chunk) = chunk else {
                // The body ended without ConnectionStatus Closed: the stream was cut.
                return Err(ExchangeError::Connect {
                    operation: OP,
                    url: self.url.clone(),
                    message: "streaming connection ended without ConnectionStatus Closed".into(),
                });
            };
            buffer.extend_from_slice(&chunk);
            for envelope in wire::split_envelopes(&mut buffer) {
                let parsed = wire::parse_stream_chunk(mailbox, &envelope)?;
                for (id, changes) in parsed.changed {
                    let _ = events.send(StreamEvent::Changed { id, changes });
                }
                for (id, reason) in parsed.lost {
                    let _ = events.send(StreamEvent::Lost { id, reason });
                }
                if let Some(ids) = parsed.missed {
                    let _ = events.send(StreamEvent::Missed(ids));
                }
                if parsed.closed {
                    return Ok(());
                }
            }
            if buffer.len() > MAX_STREAM_BUFFER {
                return Err(ExchangeError::Malformed {
                    operation: OP,
                    message: format!("no complete envelope in {} bytes of stream", buffer.len()),
                });
            }
        }
    }
}

/// Silence on a streaming connection after which it counts as cut.
const STREAM_IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(180);
/// Largest incomplete envelope accepted on a stream.
const MAX_STREAM_BUFFER: usize = 8 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::Config;

    fn config(tls: &str) -> Config {
        Config::parse(
            "t",
            &format!("[exchange]\nserver = \"ex01\"\nusername = \"u\"\npassword = \"p\"\n[exchange.tls]\n{tls}"),
            |_| None,
        )
        .unwrap()
    }

    #[test]
    fn a_missing_or_empty_ca_bundle_is_a_clear_error() {
        let clock = Clock::frozen_at(chrono::DateTime::UNIX_EPOCH);
        let missing = config("ca_bundle = \"/nonexistent/ca.pem\"\n");
        let err = EwsClient::new(&missing.exchange, clock.clone())
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("cannot read CA bundle /nonexistent/ca.pem"),
            "{err}"
        );
        let dir = std::env::temp_dir().join(format!("engine-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let bad = config(&format!("ca_bundle = \"{}\"\n", junk.display()));
        let err = EwsClient::new(&bad.exchange, clock).err().unwrap();
        assert!(
            err.to_string().contains("holds no usable PEM certificate"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_insecure_opt_out_builds_a_client() {
        let clock = Clock::frozen_at(chrono::DateTime::UNIX_EPOCH);
        let c = config("danger_accept_invalid_certs = true\n");
        assert!(EwsClient::new(&c.exchange, clock).is_ok());
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates_against_the_clock() {
        let now = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
        assert_eq!(retry_after_delay("120", now), Some(Duration::seconds(120)));
        assert_eq!(
            retry_after_delay("Mon, 30 Mar 2026 08:00:45 GMT", now),
            Some(Duration::seconds(45))
        );
        assert_eq!(
            retry_after_delay("Mon, 30 Mar 2026 07:00:00 GMT", now),
            Some(Duration::zero())
        );
        assert_eq!(retry_after_delay("soon", now), None);
        assert_eq!(retry_after_delay("-5", now), None);
    }
}
