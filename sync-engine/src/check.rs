//! The connection test an admin runs during set-up: `sync-engine check --config FILE
//! --mailbox demo@contoso.com`.
//!
//! Each step says what it tried, what it found and, when it fails, the fix to try; a step
//! that cannot run because an earlier one failed is reported as skipped, naming the reason.

use std::fmt;
use std::time::Duration as StdDuration;

use chrono::Duration;
use ews_clock::Clock;
use serde::Serialize;

use crate::config::Config;
use crate::exchange::{Exchange, ExchangeError, SubscriptionKind};

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
    Skipped,
}

/// One step of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// What to try when the step failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub mailbox: String,
    pub steps: Vec<Step>,
}

impl Report {
    /// True when no step failed.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.outcome != Outcome::Failed)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Connection test for {}", self.mailbox)?;
        for (i, s) in self.steps.iter().enumerate() {
            let mark = match s.outcome {
                Outcome::Ok => "OK  ",
                Outcome::Failed => "FAIL",
                Outcome::Skipped => "SKIP",
            };
            writeln!(f, "{:>2}. [{mark}] {}: {}", i + 1, s.name, s.detail)?;
            if let Some(fix) = &s.fix {
                writeln!(f, "           fix: {fix}")?;
            }
        }
        let verdict = if self.passed() {
            "PASSED: the engine can serve this mailbox"
        } else {
            "FAILED: fix the first failing step and run the check again"
        };
        write!(f, "Verdict: {verdict}")
    }
}

/// Host and port of an http(s) URL.
fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit('@').next()?;
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after
            .strip_prefix(':')
            .map_or(Some(default), |p| p.parse().ok())?;
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((authority.to_string(), default)),
    }
}

fn ok(name: &'static str, detail: impl Into<String>) -> Step {
    Step {
        name,
        outcome: Outcome::Ok,
        detail: detail.into(),
        fix: None,
    }
}

fn failed(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Step {
    Step {
        name,
        outcome: Outcome::Failed,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

fn skipped(name: &'static str, why: impl Into<String>) -> Step {
    Step {
        name,
        outcome: Outcome::Skipped,
        detail: why.into(),
        fix: None,
    }
}

/// The fix to try for a failed mailbox operation.
fn mailbox_fix(e: &ExchangeError, username: &str, mailbox: &str) -> String {
    match e {
        ExchangeError::ImpersonationDenied { .. } => format!(
            "give the service account the ApplicationImpersonation role: \
             New-ManagementRoleAssignment -Role ApplicationImpersonation -User {username}"
        ),
        ExchangeError::MailboxNotFound { .. } => format!(
            "check that {mailbox} is the primary SMTP address of an existing mailbox"
        ),
        ExchangeError::AccessDenied { .. } => {
            "the service account may not read this mailbox: check impersonation rights and any management scope".into()
        }
        ExchangeError::ServerBusy { .. } => {
            "Exchange is throttling the service account: relax its throttling policy or try later".into()
        }
        ExchangeError::Timeout { .. } => "raise exchange.timeout or check the server load".into(),
        _ => "see the detail; run the check again with the server's EWS logs at hand".into(),
    }
}

/// Runs the connection test for `mailbox` with `exchange` (the real client in the binary).
pub async fn run(config: &Config, exchange: &dyn Exchange, mailbox: &str, clock: &Clock) -> Report {
    let url = &config.exchange.url;
    let mut steps = Vec::new();
    let report = |steps: Vec<Step>| Report {
        mailbox: mailbox.to_string(),
        steps,
    };

    // 1. Name resolution and TCP connect.
    const CONNECT: &str = "Name resolution and connect";
    let Some((host, port)) = host_port(url) else {
        steps.push(failed(
            CONNECT,
            format!("cannot read host and port from {url}"),
            "fix exchange.server or exchange.url",
        ));
        return report(steps);
    };
    let addrs: Vec<_> = match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(a) => a.collect(),
        Err(e) => {
            steps.push(failed(
                CONNECT,
                format!("cannot resolve {host}: {e}"),
                "check exchange.server and this host's DNS (or use the IP address)",
            ));
            return report(steps);
        }
    };
    let mut connected = None;
    let mut last_error = String::from("no address");
    for addr in &addrs {
        match tokio::time::timeout(
            StdDuration::from_secs(10),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(_)) => {
                connected = Some(*addr);
                break;
            }
            Ok(Err(e)) => last_error = e.to_string(),
            Err(_) => last_error = "no answer within 10 s".into(),
        }
    }
    match connected {
        Some(addr) => steps.push(ok(
            CONNECT,
            format!("{host} resolves to {addr}, TCP port {port} open"),
        )),
        None => {
            steps.push(failed(
                CONNECT,
                format!("cannot connect to {host}:{port}: {last_error}"),
                format!(
                    "check that port {port} is open from this host to Exchange (firewall, proxy)"
                ),
            ));
            return report(steps);
        }
    }

    // 2-4. TLS, authentication and the server version, all from the version probe.
    const TLS: &str = "TLS";
    const AUTH: &str = "Authentication";
    const VERSION: &str = "Server version";
    let https = url.starts_with("https://");
    if config.exchange.tls.danger_accept_invalid_certs {
        steps.push(ok(
            TLS,
            "certificate verification is DISABLED (danger_accept_invalid_certs): lab use only",
        ));
    }
    match exchange.server_version().await {
        Ok(v) => {
            if !config.exchange.tls.danger_accept_invalid_certs {
                steps.push(if https {
                    ok(TLS, "certificate verified")
                } else {
                    ok(TLS, "plain http: no TLS (test servers only)")
                });
            }
            steps.push(ok(AUTH, format!("{} accepted", config.exchange.username)));
            steps.push(ok(VERSION, format!("Connected to Exchange ({v})")));
        }
        Err(e @ ExchangeError::Tls { .. }) => {
            steps.push(failed(
                TLS,
                e.to_string(),
                "put the CA that issued the server certificate in exchange.tls.ca_bundle (PEM); \
                 check the certificate's name matches the server name",
            ));
            return report(steps);
        }
        Err(e @ ExchangeError::Unauthorized { .. }) => {
            steps.push(ok(
                TLS,
                if https {
                    "certificate verified"
                } else {
                    "plain http"
                },
            ));
            steps.push(failed(
                AUTH,
                e.to_string(),
                "check exchange.username (user@domain) and the password; Basic authentication must be enabled on the EWS virtual directory",
            ));
            return report(steps);
        }
        Err(e) => {
            steps.push(failed(
                VERSION,
                e.to_string(),
                "check that the URL is the EWS endpoint (https://NAME/EWS/Exchange.asmx)",
            ));
            return report(steps);
        }
    }

    // 5-7. Mailbox operations: each independent of the others.
    let now = clock.now();
    let username = config.exchange.username.as_str();
    const CALENDAR: &str = "Impersonation and calendar read";
    match exchange
        .calendar_view(mailbox, now, now + Duration::days(1))
        .await
    {
        Ok(items) => steps.push(ok(
            CALENDAR,
            format!("{} appointments in the next 24 hours", items.len()),
        )),
        Err(e) => steps.push(failed(
            CALENDAR,
            e.to_string(),
            mailbox_fix(&e, username, mailbox),
        )),
    }
    const FREE_BUSY: &str = "Free/busy read";
    match exchange
        .availability(mailbox, now, now + Duration::days(1))
        .await
    {
        Ok(items) => steps.push(ok(
            FREE_BUSY,
            format!("{} free/busy events in the next 24 hours", items.len()),
        )),
        Err(e) => steps.push(failed(
            FREE_BUSY,
            e.to_string(),
            mailbox_fix(&e, username, mailbox),
        )),
    }
    const OOF: &str = "OOF read";
    match exchange.oof(mailbox).await {
        Ok(oof) => steps.push(ok(
            OOF,
            format!("automatic replies {:?}", oof.state).to_lowercase(),
        )),
        Err(e) => steps.push(failed(
            OOF,
            e.to_string(),
            mailbox_fix(&e, username, mailbox),
        )),
    }
    // 8. A pull subscription and one GetEvents: the server answers with a status event,
    // which proves subscriptions work for this mailbox whatever the configured mode.
    const SUBSCRIBE: &str = "Subscribe and receive a test notification";
    let kind = SubscriptionKind::Pull {
        timeout_minutes: 10,
    };
    match exchange.subscribe(mailbox, &kind).await {
        Ok(sub) => match exchange.get_events(mailbox, &sub).await {
            Ok(_) => steps.push(ok(
                SUBSCRIBE,
                format!("subscription {} answered GetEvents", sub.id),
            )),
            Err(e) => steps.push(failed(
                SUBSCRIBE,
                e.to_string(),
                mailbox_fix(&e, username, mailbox),
            )),
        },
        Err(e) => steps.push(failed(
            SUBSCRIBE,
            e.to_string(),
            mailbox_fix(&e, username, mailbox),
        )),
    }
    if let crate::config::Notifications::Push { callback_url, .. } = &config.notifications {
        steps.push(skipped(
            "Push delivery",
            format!("Exchange must reach {callback_url}; check it from the Exchange server (firewall, proxy)"),
        ));
    }
    report(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_and_port_of_urls() {
        assert_eq!(
            host_port("https://ex01/EWS/Exchange.asmx"),
            Some(("ex01".into(), 443))
        );
        assert_eq!(
            host_port("http://127.0.0.1:8080/EWS"),
            Some(("127.0.0.1".into(), 8080))
        );
        assert_eq!(
            host_port("https://[::1]:8443/EWS"),
            Some(("::1".into(), 8443))
        );
        assert_eq!(host_port("ex01/EWS"), None);
    }
}
