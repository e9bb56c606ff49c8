//! The engine's configuration: one TOML file plus environment overrides.
//!
//! The file is read into [`RawConfig`] (serde, unknown keys rejected so a typo is an error and
//! not a silently ignored setting), environment variables are laid over it, and
//! [`Config::from_raw`] validates everything at once into the typed [`Config`] the engine
//! runs on. Each validation error names the key (`exchange.server`, `counters[2].slotMinutes`)
//! and what is wrong with it, because the person reading it is an admin with the file open.
//!
//! A user or counter without an email address is *not* a configuration error: the products
//! this engine serves keep such entries in their directory, so the engine reports them per
//! mailbox in its log and status and keeps serving everyone else.
//!
//! The documented example is `sync-engine/engine.example.toml`; a test parses it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use calendar_core::{Counter, PresenceRules};
use chrono::Duration;
use serde::Deserialize;

/// The default port of the push notification listener (the products' convention).
pub const DEFAULT_PUSH_PORT: u16 = 21020;

/// Environment variables laid over the file, in the order they are applied.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("EWS_ENGINE_SERVER", "exchange.server"),
    ("EWS_ENGINE_URL", "exchange.url"),
    ("EWS_ENGINE_USERNAME", "exchange.username"),
    ("EWS_ENGINE_PASSWORD", "exchange.password"),
    ("EWS_ENGINE_CA_BUNDLE", "exchange.tls.ca_bundle"),
    (
        "EWS_ENGINE_DANGER_ACCEPT_INVALID_CERTS",
        "exchange.tls.danger_accept_invalid_certs",
    ),
    ("EWS_ENGINE_NOTIFICATIONS", "notifications.mode"),
    ("EWS_ENGINE_CALLBACK_URL", "notifications.callback_url"),
    ("EWS_ENGINE_API_LISTEN", "api.listen"),
];

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: invalid configuration:\n{}", format_problems(.problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

/// One invalid setting: the key as written in the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// The file as written.

/// The file's shape, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub exchange: RawExchange,
    #[serde(default)]
    pub notifications: RawNotifications,
    #[serde(default)]
    pub sync: RawSync,
    #[serde(default)]
    pub api: RawApi,
    /// calendar-core's presence rules, in their own serde form.
    #[serde(default)]
    pub presence: PresenceRules,
    #[serde(default)]
    pub users: Vec<RawUser>,
    #[serde(default)]
    pub counters: Vec<RawCounter>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExchange {
    pub server: Option<String>,
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub request_server_version: Option<String>,
    pub timeout: Option<String>,
    pub max_concurrency: Option<u32>,
    pub max_retries: Option<u32>,
    pub retry_seed: Option<u64>,
    #[serde(default)]
    pub tls: RawTls,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub ca_bundle: Option<PathBuf>,
    #[serde(default)]
    pub danger_accept_invalid_certs: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifications {
    pub mode: Option<String>,
    pub callback_url: Option<String>,
    pub listen: Option<String>,
    pub pull_interval: Option<String>,
    pub streaming_lifetime: Option<String>,
    pub status_frequency: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    pub window_days: Option<u32>,
    pub resync_period: Option<String>,
    pub oof_poll_interval: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    pub listen: Option<String>,
    pub log_capacity: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    #[serde(default)]
    pub email: Option<String>,
    /// A display name for the log when the email is missing.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub calendar_integration: bool,
    #[serde(default)]
    pub privacy: bool,
    /// The user's IANA zone (`Europe/Berlin`), from the directory: the days on which
    /// all-day items fall for presence.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// A counter: `id`, optional `privacy`, and the rest is calendar-core's `Counter` in its own
/// serde form (`mailbox`, `timeZone`, `openingHours`, `slotMinutes`, ...).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawCounter {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub privacy: bool,
    #[serde(flatten)]
    pub settings: toml::Table,
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------------------------------------
// The validated configuration.

/// Everything the engine runs on, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub exchange: ExchangeConfig,
    pub notifications: Notifications,
    pub sync: SyncConfig,
    pub api: ApiConfig,
    pub presence: PresenceRules,
    pub users: Vec<UserConfig>,
    pub counters: Vec<CounterConfig>,
}

/// How to reach and authenticate to Exchange.
#[derive(Clone)]
pub struct ExchangeConfig {
    /// `https://NAME/EWS/Exchange.asmx` from `server`, or `url` as given.
    pub url: String,
    pub username: String,
    pub password: String,
    /// The `RequestServerVersion` sent with every request (default `Exchange2010_SP2`).
    pub request_server_version: String,
    pub timeout: Duration,
    /// Requests in flight at once, over all mailboxes.
    pub max_concurrency: usize,
    /// Retries of one request after a transient failure (busy server, 503, timeout).
    pub max_retries: u32,
    /// Seed of the retry jitter, so a run is reproducible.
    pub retry_seed: u64,
    pub tls: TlsConfig,
}

impl fmt::Debug for ExchangeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password never appears in a log or a panic message.
        f.debug_struct("ExchangeConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("request_server_version", &self.request_server_version)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("max_retries", &self.max_retries)
            .field("retry_seed", &self.retry_seed)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Certificate verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Extra root certificates (PEM), for a private CA or a self-signed server certificate.
    pub ca_bundle: Option<PathBuf>,
    /// Accept any certificate. Logged as a warning at start-up and on every connect.
    pub danger_accept_invalid_certs: bool,
}

/// How the engine learns about calendar changes between full syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notifications {
    /// Exchange calls `callback_url`; the engine listens on `listen`.
    Push {
        callback_url: String,
        listen: SocketAddr,
        /// How often Exchange sends a status event when nothing happens; a subscription
        /// silent for twice this (plus a minute) is taken as lost.
        status_frequency: Duration,
    },
    /// One long-lived GetStreamingEvents connection, renewed after `lifetime`.
    Streaming { lifetime: Duration },
    /// GetEvents every `interval`.
    Pull { interval: Duration },
}

impl Notifications {
    /// The mode's name as written in the file.
    pub fn mode(&self) -> &'static str {
        match self {
            Notifications::Push { .. } => "push",
            Notifications::Streaming { .. } => "streaming",
            Notifications::Pull { .. } => "pull",
        }
    }
}

/// Sync timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// How many days ahead of now a sync fetches (default 7).
    pub window_days: u32,
    /// Time between full resyncs of every mailbox (default one week).
    pub resync_period: Duration,
    /// Time between OOF polls (default 15 minutes): OOF changes do not notify.
    pub oof_poll_interval: Duration,
}

/// The engine's own HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Lines the event log keeps.
    pub log_capacity: usize,
}

/// One telephony user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConfig {
    /// Lower-cased; `None` when the directory entry has none (reported, not fatal).
    pub email: Option<String>,
    /// How the log names the user when the email is missing.
    pub label: String,
    pub calendar_integration: bool,
    /// Subjects are never requested, stored, logged or served: free/busy only.
    pub privacy: bool,
    /// The user's zone, if configured: all-day items are laid on its days.
    pub time_zone: Option<chrono_tz::Tz>,
}

/// One service counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterConfig {
    pub id: String,
    /// Lower-cased copy of `slots.mailbox`; `None` when missing (reported, not fatal).
    pub email: Option<String>,
    pub privacy: bool,
    /// calendar-core's slot settings (its `mailbox` is the raw value from the file).
    pub slots: Counter,
}

impl Config {
    /// Reads `path`, applies the process environment and validates.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&path.display().to_string(), &text, |k| {
            std::env::var(k).ok()
        })
    }

    /// Parses `text` (named `origin` in errors), lays the variables `env` returns over it
    /// (see [`ENV_OVERRIDES`]) and validates.
    pub fn parse(
        origin: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut problems = Vec::new();
        apply_env(&mut raw, &env, &mut problems);
        match Config::from_raw(raw) {
            Ok(config) if problems.is_empty() => Ok(config),
            Ok(_) => Err(ConfigError::Invalid {
                origin: origin.to_string(),
                problems,
            }),
            Err(more) => {
                problems.extend(more);
                Err(ConfigError::Invalid {
                    origin: origin.to_string(),
                    problems,
                })
            }
        }
    }

    /// Validates a raw configuration, collecting every problem rather than the first.
    pub fn from_raw(raw: RawConfig) -> Result<Config, Vec<Problem>> {
        let mut p = Problems::default();
        let exchange = exchange(&raw.exchange, &mut p);
        let notifications = notifications(&raw.notifications, &mut p);
        let sync = sync(&raw.sync, &mut p);
        let api = api(&raw.api, &mut p);
        let users = users(&raw.users, &mut p);
        let counters = counters(&raw.counters, &mut p);
        if p.0.is_empty() {
            Ok(Config {
                exchange,
                notifications,
                sync,
                api,
                presence: raw.presence,
                users,
                counters,
            })
        } else {
            Err(p.0)
        }
    }

    /// Every mailbox the engine syncs, each once, with its privacy mode: a mailbox is private
    /// if any user or counter on it asks for privacy.
    pub fn mailboxes(&self) -> BTreeMap<String, bool> {
        let mut out: BTreeMap<String, bool> = BTreeMap::new();
        for u in self.users.iter().filter(|u| u.calendar_integration) {
            if let Some(email) = &u.email {
                *out.entry(email.clone()).or_default() |= u.privacy;
            }
        }
        for c in &self.counters {
            if let Some(email) = &c.email {
                *out.entry(email.clone()).or_default() |= c.privacy;
            }
        }
        out
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }
}

fn apply_env(
    raw: &mut RawConfig,
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    for (var, key) in ENV_OVERRIDES {
        let Some(value) = env(var) else { continue };
        let ex = &mut raw.exchange;
        match *key {
            "exchange.server" => ex.server = Some(value),
            "exchange.url" => ex.url = Some(value),
            "exchange.username" => ex.username = Some(value),
            "exchange.password" => ex.password = Some(value),
            "exchange.tls.ca_bundle" => ex.tls.ca_bundle = Some(PathBuf::from(value)),
            "exchange.tls.danger_accept_invalid_certs" => match parse_bool(&value) {
                Some(b) => ex.tls.danger_accept_invalid_certs = b,
                None => problems.push(Problem {
                    key: (*var).to_string(),
                    message: format!("`{value}` is not a boolean (true/false/1/0)"),
                }),
            },
            "notifications.mode" => raw.notifications.mode = Some(value),
            "notifications.callback_url" => raw.notifications.callback_url = Some(value),
            "api.listen" => raw.api.listen = Some(value),
            _ => {}
        }
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

fn exchange(raw: &RawExchange, p: &mut Problems) -> ExchangeConfig {
    let url = match (non_empty(&raw.server), non_empty(&raw.url)) {
        (Some(_), Some(_)) => {
            p.push(
                "exchange.url",
                "give either exchange.server or exchange.url, not both",
            );
            String::new()
        }
        (Some(server), None) => {
            if server.contains('/') || server.contains(char::is_whitespace) {
                p.push(
                    "exchange.server",
                    format!(
                        "`{server}` is not a host name or IP address (use exchange.url for a full URL)"
                    ),
                );
            }
            ews_url_for_server(server)
        }
        (None, Some(url)) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                p.push(
                    "exchange.url",
                    format!("`{url}` must start with https:// (or http:// for a test server)"),
                );
            }
            url.to_string()
        }
        (None, None) => {
            p.push(
                "exchange.server",
                "missing: set exchange.server (host name or IP) or exchange.url",
            );
            String::new()
        }
    };
    let username = non_empty(&raw.username).unwrap_or_default().to_string();
    if username.is_empty() {
        p.push(
            "exchange.username",
            "missing: the service account, e.g. svc-presence@contoso.com",
        );
    }
    let password = raw.password.clone().unwrap_or_default();
    if password.is_empty() {
        p.push(
            "exchange.password",
            "missing: set it in the file or in EWS_ENGINE_PASSWORD",
        );
    }
    let timeout = duration_or(&raw.timeout, "exchange.timeout", Duration::seconds(30), p);
    let max_concurrency = match raw.max_concurrency {
        Some(0) => {
            p.push("exchange.max_concurrency", "must be at least 1");
            1
        }
        Some(n) => n as usize,
        None => 8,
    };
    let tls = TlsConfig {
        ca_bundle: raw.tls.ca_bundle.clone(),
        danger_accept_invalid_certs: raw.tls.danger_accept_invalid_certs,
    };
    if let Some(path) = &tls.ca_bundle
        && path.as_os_str().is_empty()
    {
        p.push("exchange.tls.ca_bundle", "is empty: give a PEM file path");
    }
    ExchangeConfig {
        url,
        username,
        password,
        request_server_version: non_empty(&raw.request_server_version)
            .unwrap_or("Exchange2010_SP2")
            .to_string(),
        timeout,
        max_concurrency,
        max_retries: raw.max_retries.unwrap_or(5),
        retry_seed: raw.retry_seed.unwrap_or(0x5eed),
        tls,
    }
}

/// The EWS URL of a server given by name or IP: `https://NAME/EWS/Exchange.asmx`.
pub fn ews_url_for_server(server: &str) -> String {
    format!("https://{server}/EWS/Exchange.asmx")
}

fn notifications(raw: &RawNotifications, p: &mut Problems) -> Notifications {
    let mode = non_empty(&raw.mode).unwrap_or("streaming");
    match mode {
        "push" => {
            let listen = match non_empty(&raw.listen) {
                Some(s) => socket_addr(s, "notifications.listen", p),
                None => SocketAddr::from(([0, 0, 0, 0], DEFAULT_PUSH_PORT)),
            };
            let callback_url = match non_empty(&raw.callback_url) {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    url.to_string()
                }
                Some(url) => {
                    p.push(
                        "notifications.callback_url",
                        format!("`{url}` is not an http(s) URL"),
                    );
                    String::new()
                }
                None => {
                    p.push(
                        "notifications.callback_url",
                        format!(
                            "missing: push mode needs the URL Exchange calls back, e.g. http://engine.contoso.com:{DEFAULT_PUSH_PORT}/ews/notify"
                        ),
                    );
                    String::new()
                }
            };
            let status_frequency = duration_or(
                &raw.status_frequency,
                "notifications.status_frequency",
                Duration::minutes(1),
                p,
            );
            if status_frequency < Duration::minutes(1) || status_frequency > Duration::minutes(1440)
            {
                p.push(
                    "notifications.status_frequency",
                    "must be whole minutes between 1m and 1440m (Exchange's StatusFrequency)",
                );
            }
            Notifications::Push {
                callback_url,
                listen,
                status_frequency,
            }
        }
        "streaming" => Notifications::Streaming {
            lifetime: duration_or(
                &raw.streaming_lifetime,
                "notifications.streaming_lifetime",
                Duration::minutes(30),
                p,
            ),
        },
        "pull" => Notifications::Pull {
            interval: duration_or(
                &raw.pull_interval,
                "notifications.pull_interval",
                Duration::minutes(1),
                p,
            ),
        },
        other => {
            p.push(
                "notifications.mode",
                format!("`{other}` is not one of push, streaming, pull"),
            );
            Notifications::Pull {
                interval: Duration::minutes(1),
            }
        }
    }
}

fn sync(raw: &RawSync, p: &mut Problems) -> SyncConfig {
    let window_days = raw.window_days.unwrap_or(7);
    if !(1..=365).contains(&window_days) {
        p.push(
            "sync.window_days",
            format!("{window_days} is out of range 1..=365"),
        );
    }
    SyncConfig {
        window_days,
        resync_period: duration_or(
            &raw.resync_period,
            "sync.resync_period",
            Duration::weeks(1),
            p,
        ),
        oof_poll_interval: duration_or(
            &raw.oof_poll_interval,
            "sync.oof_poll_interval",
            Duration::minutes(15),
            p,
        ),
    }
}

fn api(raw: &RawApi, p: &mut Problems) -> ApiConfig {
    let listen = match non_empty(&raw.listen) {
        Some(s) => socket_addr(s, "api.listen", p),
        None => SocketAddr::from(([127, 0, 0, 1], 8021)),
    };
    let log_capacity = raw.log_capacity.unwrap_or(10_000);
    if log_capacity == 0 {
        p.push("api.log_capacity", "must be at least 1");
    }
    ApiConfig {
        listen,
        log_capacity: log_capacity.max(1),
    }
}

fn users(raw: &[RawUser], p: &mut Problems) -> Vec<UserConfig> {
    let mut seen = BTreeMap::new();
    raw.iter()
        .enumerate()
        .map(|(i, u)| {
            let email = non_empty(&u.email).map(|e| e.to_ascii_lowercase());
            if let Some(e) = &email {
                if !looks_like_email(e) {
                    p.push(
                        format!("users[{i}].email"),
                        format!("`{e}` is not an email address"),
                    );
                }
                if let Some(j) = seen.insert(e.clone(), i) {
                    p.push(
                        format!("users[{i}].email"),
                        format!("`{e}` is already users[{j}]"),
                    );
                }
            }
            let label = email
                .clone()
                .or_else(|| non_empty(&u.name).map(str::to_string))
                .unwrap_or_else(|| format!("users[{i}]"));
            let time_zone = match non_empty(&u.time_zone) {
                None => None,
                Some(name) => match name.parse::<chrono_tz::Tz>() {
                    Ok(tz) => Some(tz),
                    Err(_) => {
                        p.push(
                            format!("users[{i}].time_zone"),
                            format!("`{name}` is not an IANA time zone such as Europe/Berlin"),
                        );
                        None
                    }
                },
            };
            UserConfig {
                email,
                label,
                calendar_integration: u.calendar_integration,
                privacy: u.privacy,
                time_zone,
            }
        })
        .collect()
}

fn counters(raw: &[RawCounter], p: &mut Problems) -> Vec<CounterConfig> {
    let mut ids = BTreeMap::new();
    let mut out = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let id = match non_empty(&c.id) {
            Some(id) => id.to_string(),
            None => {
                p.push(format!("counters[{i}].id"), "missing");
                continue;
            }
        };
        if let Some(j) = ids.insert(id.clone(), i) {
            p.push(
                format!("counters[{i}].id"),
                format!("`{id}` is already counters[{j}]"),
            );
        }
        let mut table = c.settings.clone();
        let email = table
            .get("mailbox")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase);
        table
            .entry("mailbox")
            .or_insert_with(|| toml::Value::String(String::new()));
        let slots: Counter = match toml::Value::Table(table).try_into() {
            Ok(counter) => counter,
            Err(e) => {
                p.push(
                    format!("counters[{i}]"),
                    e.to_string().trim().replace('\n', " "),
                );
                continue;
            }
        };
        // calendar-core checks the slot settings themselves (lengths, ranges, capacity).
        if let Err(e) = slots.validate() {
            p.push(format!("counters[{i}]"), e.to_string());
        }
        if let Some(e) = &email
            && !looks_like_email(e)
        {
            p.push(
                format!("counters[{i}].mailbox"),
                format!("`{e}` is not an email address"),
            );
        }
        out.push(CounterConfig {
            id,
            email,
            privacy: c.privacy,
            slots,
        });
    }
    out
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn socket_addr(s: &str, key: &str, p: &mut Problems) -> SocketAddr {
    match s.parse() {
        Ok(addr) => addr,
        Err(_) => {
            p.push(
                key,
                format!("`{s}` is not an address:port such as 127.0.0.1:8021"),
            );
            SocketAddr::from(([127, 0, 0, 1], 0))
        }
    }
}

fn duration_or(raw: &Option<String>, key: &str, default: Duration, p: &mut Problems) -> Duration {
    match non_empty(raw) {
        None => default,
        Some(s) => match parse_duration(s) {
            Ok(d) => d,
            Err(message) => {
                p.push(key, message);
                default
            }
        },
    }
}

/// Parses `90s`, `15m`, `1h30m`, `7d`, `1w` (units s, m, h, d, w, combinable) or the word
/// `weekly` / `daily` / `hourly`. Zero is rejected: every duration here paces a loop.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    let named = match text {
        "weekly" => Some(Duration::weeks(1)),
        "daily" => Some(Duration::days(1)),
        "hourly" => Some(Duration::hours(1)),
        _ => None,
    };
    if let Some(d) = named {
        return Ok(d);
    }
    let mut total = Duration::zero();
    let mut digits = String::new();
    let mut any = false;
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| {
            format!("`{s}` is not a duration: expected a number before `{ch}` (e.g. 15m, 7d)")
        })?;
        digits.clear();
        let part = match ch {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => {
                return Err(format!(
                    "`{s}` is not a duration: unknown unit `{ch}` (use s, m, h, d, w)"
                ));
            }
        }
        .ok_or_else(|| format!("`{s}` is too long"))?;
        total += part;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(format!(
            "`{s}` is not a duration: give a unit (e.g. 30s, 15m, 1h, 7d, 1w)"
        ));
    }
    if total <= Duration::zero() {
        return Err(format!("`{s}` must be longer than zero"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[exchange]
server = "ex01.contoso.local"
username = "svc@contoso.local"
password = "secret"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse("test.toml", text, |_| None)
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Err(ConfigError::Invalid { problems, .. }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn derives_the_ews_url_from_a_server_name_and_applies_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(
            c.exchange.url,
            "https://ex01.contoso.local/EWS/Exchange.asmx"
        );
        assert_eq!(c.sync.window_days, 7);
        assert_eq!(c.sync.resync_period, Duration::weeks(1));
        assert_eq!(c.exchange.request_server_version, "Exchange2010_SP2");
        assert_eq!(c.notifications.mode(), "streaming");
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = Config::parse("t", MINIMAL, |k| match k {
            "EWS_ENGINE_PASSWORD" => Some("from-env".into()),
            "EWS_ENGINE_URL" => Some("http://127.0.0.1:9/EWS/Exchange.asmx".into()),
            "EWS_ENGINE_SERVER" => Some(String::new()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.exchange.password, "from-env");
        assert_eq!(c.exchange.url, "http://127.0.0.1:9/EWS/Exchange.asmx");
    }

    #[test]
    fn push_mode_defaults_its_listener_to_port_21020() {
        let c = parse(&format!(
            "{MINIMAL}\n[notifications]\nmode = \"push\"\ncallback_url = \"http://engine:21020/ews/notify\"\n"
        ))
        .unwrap();
        assert_eq!(
            c.notifications,
            Notifications::Push {
                callback_url: "http://engine:21020/ews/notify".into(),
                listen: "0.0.0.0:21020".parse().unwrap(),
                status_frequency: Duration::minutes(1),
            }
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let got = problems(
            r#"
[exchange]
server = "ex01"
url = "https://ex01/EWS/Exchange.asmx"
[notifications]
mode = "push"
[sync]
window_days = 0
oof_poll_interval = "5 minutes"
"#,
        );
        let keys: Vec<&str> = got
            .iter()
            .map(|p| p.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            keys,
            [
                "exchange.url",
                "exchange.username",
                "exchange.password",
                "notifications.callback_url",
                "sync.window_days",
                "sync.oof_poll_interval"
            ],
            "{got:#?}"
        );
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = parse(&format!("{MINIMAL}\n[sync]\nwindow_dayz = 3\n")).unwrap_err();
        assert!(err.to_string().contains("window_dayz"), "{err}");
    }

    #[test]
    fn a_user_without_email_is_kept_for_reporting() {
        let c = parse(&format!(
            "{MINIMAL}\n[[users]]\nname = \"Kim\"\n[[users]]\nemail = \"Bo@Contoso.com\"\nprivacy = true\n"
        ))
        .unwrap();
        assert_eq!(c.users[0].email, None);
        assert_eq!(c.users[0].label, "Kim");
        assert_eq!(c.users[1].email.as_deref(), Some("bo@contoso.com"));
        assert_eq!(
            c.mailboxes().into_iter().collect::<Vec<_>>(),
            [("bo@contoso.com".into(), true)]
        );
    }

    #[test]
    fn counters_reuse_calendar_core_settings_and_its_validation() {
        let counter = r#"
[[counters]]
id = "desk-1"
mailbox = "desk1@contoso.com"
timeZone = "Europe/Berlin"
slotMinutes = 30
stepMinutes = 30
openingHours = [{ days = ["Mon", "Tue"], ranges = ["09:00-12:00"] }]
"#;
        let c = parse(&format!("{MINIMAL}{counter}")).unwrap();
        assert_eq!(c.counters[0].slots.slot_minutes, 30);
        assert_eq!(c.counters[0].email.as_deref(), Some("desk1@contoso.com"));
        let bad = counter.replace("slotMinutes = 30", "slotMinutes = 0");
        let got = problems(&format!("{MINIMAL}{bad}"));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("counters[0]"), "{got:?}");
    }

    #[test]
    fn durations_parse_with_units_and_reject_nonsense() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("weekly"), Ok(Duration::weeks(1)));
        assert_eq!(parse_duration("2w"), Ok(Duration::days(14)));
        assert!(parse_duration("15").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3y").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let c = parse(MINIMAL).unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }
}
