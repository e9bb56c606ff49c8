//! Plays a scenario: `mock-ews` and `sync-engine` in one process on one [`Clock`], under a
//! paused current-thread tokio runtime, talking real EWS over HTTP on 127.0.0.1.
//!
//! Under a paused runtime tokio jumps to the next timer whenever every task waits, so a
//! simulated week costs only the work done in it. Two kinds of waiting are used:
//! - moving the clock (`at`, `advance`) sleeps on the shared clock: every engine timer due on
//!   the way fires at its own instant, in order;
//! - settling after a move or an action yields (which polls sockets without moving time)
//!   until the engine and the mock stop making progress, so expectations at `T` see
//!   everything that was due at `T` without time moving past it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use calendar_core::{BusyItem, NoSlotReason, PresenceInput, PresenceReason, SlotReport};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use ews_clock::Clock;
use mock_ews::{
    MockEws, OofSettings, OofState as MockOofState, Outcome as Answer, Sensitivity, When, item_id,
};
use sync_engine::config::RawConfig;
use sync_engine::ews::EwsClient;
use sync_engine::{Appointment, Config, Engine, LogQuery, OverrideRequest, Tasks};

use super::format::{
    AppointmentExpect, AppointmentsExpect, ConvergedExpect, Expectation, ItemSelector,
    JournalExpect, OracleExpect, PresenceExpect, Scenario, SlotsExpect, StatusExpect, Step,
    UpdateAction,
};
use super::report::{Outcome, Report, StepFailure};

/// Yields per settle batch, and how many quiet batches mean "nothing is happening".
const SETTLE_BATCH: usize = 32;
const QUIET_BATCHES: usize = 3;
/// An upper bound on yields per settle, so a busy loop in a bug cannot hang the player.
const SETTLE_MAX_YIELDS: usize = 200_000;
/// How long virtual time may run while waiting for the engine's first (or a forced) sync,
/// which may include the server's back-offs.
const SYNC_WAIT: i64 = 3600;
/// Default bound of `converged`.
const CONVERGED_DEFAULT_SECS: i64 = 60;

/// Parses and plays one file. Never panics on bad input: problems become the report.
pub fn play_file(path: &Path) -> Report {
    match Scenario::from_file(path) {
        Ok(s) => play_scenario(&s),
        Err(e) => Report {
            name: path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            origin: path.display().to_string(),
            outcome: Outcome::Error(e.to_string()),
            steps: 0,
            checks: 0,
            virtual_start: None,
            virtual_end: None,
        },
    }
}

/// Plays a parsed scenario on its own paused runtime.
pub fn play_scenario(scenario: &Scenario) -> Report {
    let mut report = Report {
        name: scenario.name.clone(),
        origin: scenario.origin.clone(),
        outcome: Outcome::Passed,
        steps: 0,
        checks: 0,
        virtual_start: None,
        virtual_end: None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report.outcome = Outcome::Error(format!("cannot build a tokio runtime: {e}"));
            return report;
        }
    };
    let result = runtime.block_on(play(scenario, &mut report));
    let failures = match result {
        Ok(failures) => failures,
        Err(e) => {
            report.outcome = Outcome::Error(e);
            return report;
        }
    };
    report.outcome = match (&scenario.file.known_issue, failures.is_empty()) {
        (None, true) => Outcome::Passed,
        (None, false) => Outcome::Failed(failures),
        (Some(issue), true) => Outcome::KnownIssueFixed {
            issue: issue.trim().to_string(),
        },
        (Some(issue), false) => Outcome::KnownIssue {
            issue: issue.trim().to_string(),
            failures,
        },
    };
    report
}

async fn play(scenario: &Scenario, report: &mut Report) -> Result<Vec<StepFailure>, String> {
    let start = scenario
        .file
        .world
        .now
        .and_then(|w| w.to_utc(scenario.zone))
        .ok_or_else(|| "`world.now` is not a valid instant".to_string())?;
    let clock = Clock::starting_at(start);
    report.virtual_start = Some(start);
    let mock = MockEws::builder()
        .world(scenario.file.world.clone())
        .clock(clock.clone())
        .start()
        .await
        .map_err(|e| format!("mock-ews does not start: {e}"))?;
    let mut raw = scenario.file.engine.clone();
    let push = if raw.notifications.mode.as_deref() == Some("push") {
        // The engine's push listener: a free port on loopback, named in the callback URL.
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot bind a push listener: {e}"))?;
        let addr = probe
            .local_addr()
            .map_err(|e| format!("cannot bind a push listener: {e}"))?;
        raw.notifications.listen = Some(addr.to_string());
        if raw.notifications.callback_url.is_none() {
            raw.notifications.callback_url = Some(format!("http://{addr}/ews/notify"));
        }
        Some(probe)
    } else {
        None
    };
    let config = engine_config(&raw, scenario, &mock.ews_url())?;
    let mut player = Player {
        scenario,
        clock: clock.clone(),
        engine: new_engine(&config, &clock)?,
        config,
        tasks: None,
        mock,
        failures: Vec::new(),
        checks: 0,
        step: 0,
        line: 0,
        push: None,
    };
    if let Some(listener) = push {
        player.serve_push(listener);
    }
    player.start_engine().await;
    for (i, step) in scenario.file.steps.iter().enumerate() {
        player.step = i + 1;
        player.line = step.referenced.line();
        player
            .play_step(&step.value)
            .await
            .map_err(|e| format!("step {} (line {}): {e}", i + 1, player.line))?;
        report.steps = i + 1;
    }
    report.checks = player.checks;
    report.virtual_end = Some(player.clock.now());
    if let Some(mut t) = player.tasks.take() {
        t.abort();
    }
    if let Some((_, task)) = player.push.take() {
        task.abort();
    }
    let failures = std::mem::take(&mut player.failures);
    player.mock.shutdown().await;
    Ok(failures)
}

/// The engine configuration of a scenario: its `engine` section pointed at the mock.
fn engine_config(raw: &RawConfig, scenario: &Scenario, ews_url: &str) -> Result<Config, String> {
    let mut raw = raw.clone();
    raw.exchange.server = None;
    raw.exchange.url = Some(ews_url.to_string());
    let first = scenario.file.world.accounts.first();
    if raw.exchange.username.is_none() {
        raw.exchange.username = first.map(|a| a.user.clone());
    }
    if raw.exchange.password.is_none() {
        raw.exchange.password = first.map(|a| a.password.clone());
    }
    Config::from_raw(raw).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        format!("invalid `engine` section: {}", list.join("; "))
    })
}

fn new_engine(config: &Config, clock: &Clock) -> Result<Engine, String> {
    let client = EwsClient::new(&config.exchange, clock.clone())
        .map_err(|e| format!("cannot build the EWS client: {e}"))?;
    Ok(Engine::new(config.clone(), clock.clone(), Arc::new(client)))
}

struct Player<'a> {
    scenario: &'a Scenario,
    clock: Clock,
    mock: MockEws,
    config: Config,
    engine: Engine,
    tasks: Option<Tasks>,
    failures: Vec<StepFailure>,
    checks: usize,
    step: usize,
    line: u64,
    /// The engine's push listener (push mode): its address and server task.
    push: Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>,
}

impl Player<'_> {
    /// Serves the current engine's push notification route on `listener`.
    fn serve_push(&mut self, listener: tokio::net::TcpListener) {
        let Ok(addr) = listener.local_addr() else {
            return;
        };
        let router = sync_engine::api::push_router(self.engine.clone());
        let task = tokio::spawn(async move {
            // Serving ends only when the task is aborted (restart or end of scenario).
            let _ = axum::serve(listener, router).await;
        });
        self.push = Some((addr, task));
    }
    fn zone(&self) -> Tz {
        self.scenario.zone
    }

    fn instant(&self, when: When) -> Result<DateTime<Utc>, String> {
        when.to_utc(self.zone())
            .ok_or_else(|| format!("`{when}` does not exist in {}", self.zone()))
    }

    /// Local display of an instant in the scenario zone.
    fn show(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Starts the engine's tasks and waits for its start-up sync.
    async fn start_engine(&mut self) {
        self.tasks = Some(self.engine.start());
        let engine = self.engine.clone();
        self.settle_until(move || engine.state().connection.full_syncs >= 1)
            .await;
    }

    /// A fingerprint of visible progress: requests served, log lines written, syncs done.
    fn progress(&self) -> (usize, usize, u64) {
        (
            self.mock.journal().len(),
            self.engine.log().lines(&LogQuery::default()).len(),
            self.engine.state().connection.full_syncs,
        )
    }

    /// Lets every task run without moving time until nothing changes any more.
    async fn settle(&self) {
        let mut last = self.progress();
        let mut quiet = 0;
        let mut yields = 0;
        while quiet < QUIET_BATCHES && yields < SETTLE_MAX_YIELDS {
            for _ in 0..SETTLE_BATCH {
                tokio::task::yield_now().await;
            }
            yields += SETTLE_BATCH;
            let now = self.progress();
            if now == last {
                quiet += 1;
            } else {
                quiet = 0;
                last = now;
            }
        }
    }

    /// Settles; if `done` still does not hold (the engine waits on a timer, e.g. a
    /// back-off), lets virtual time run a second at a time for at most an hour.
    async fn settle_until(&self, done: impl Fn() -> bool) -> bool {
        self.settle().await;
        let deadline = self.clock.now() + Duration::seconds(SYNC_WAIT);
        while !done() && self.clock.now() < deadline {
            self.clock.sleep(Duration::seconds(1)).await;
            self.settle().await;
        }
        done()
    }

    async fn play_step(&mut self, step: &Step) -> Result<(), String> {
        if let Some(at) = step.at {
            let t = self.instant(at)?;
            if t < self.clock.now() {
                return Err(format!(
                    "`at: {at}` is before the clock ({}); use `set_time` to go back",
                    self.show(self.clock.now())
                ));
            }
            self.clock.sleep_until(t).await;
        } else if let Some(span) = step.advance {
            self.clock.sleep(span.0).await;
        } else if let Some(to) = step.set_time {
            let t = self.instant(to)?;
            self.clock.set(t);
        }
        self.settle().await;
        self.act(step).await?;
        for e in &step.expect {
            self.checks += 1;
            self.check(e).await;
        }
        Ok(())
    }

    async fn act(&mut self, step: &Step) -> Result<(), String> {
        let store = self.mock.store().clone();
        if let Some(c) = &step.create {
            store
                .create_item(&c.mailbox, &c.item)
                .map_err(|e| format!("create in {}: {e}", c.mailbox))?;
        } else if let Some(u) = &step.update {
            self.update(u)?;
        } else if let Some(d) = &step.delete {
            let (id, original) = self.select(d)?;
            match original {
                Some(o) => store.delete_occurrence(&id, o).map(|_| ()),
                None => store
                    .delete_item_as(&id, None, d.delete_type.unwrap_or_default())
                    .map(|_| ()),
            }
            .map_err(|e| format!("delete `{}` in {}: {e}", d.subject, d.mailbox))?;
        } else if let Some(o) = &step.set_oof {
            let tz = store
                .read(|w| w.mailbox(&o.mailbox).map(|m| m.tz))
                .ok_or_else(|| format!("set_oof: no mailbox {}", o.mailbox))?;
            let settings = OofSettings::from_spec(&o.oof, tz)
                .map_err(|e| format!("set_oof {}: {e}", o.mailbox))?;
            store
                .set_oof(&o.mailbox, settings)
                .map_err(|e| format!("set_oof {}: {e}", o.mailbox))?;
        } else if let Some(f) = &step.fault {
            self.mock
                .faults()
                .add(f.clone())
                .map_err(|e| format!("fault: {e}"))?;
        } else if step.clear_faults {
            self.mock.faults().clear();
            self.mock.notifications().faults().clear();
        } else if let Some(f) = &step.notify_fault {
            self.mock
                .notifications()
                .faults()
                .add(f.clone())
                .map_err(|e| format!("notify_fault: {e}"))?;
        } else if let Some(o) = &step.set_override {
            let expires = o.expires.map(|w| self.instant(w)).transpose()?;
            self.engine
                .set_override(
                    &o.user,
                    OverrideRequest {
                        state: o.state,
                        message: o.message.clone(),
                        expires,
                    },
                )
                .map_err(|e| format!("override: {e}"))?;
        } else if let Some(user) = &step.clear_override {
            self.engine
                .clear_override(user)
                .map_err(|e| format!("clear_override: {e}"))?;
        } else if step.restart_engine {
            if let Some(mut t) = self.tasks.take() {
                t.abort();
            }
            self.settle().await;
            self.engine = new_engine(&self.config, &self.clock)?;
            if let Some((addr, task)) = self.push.take() {
                // The push listener goes down with the old engine and comes back on the same
                // port (the callback URL Exchange knows) with the new one.
                task.abort();
                let _ = task.await;
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot re-bind the push listener {addr}: {e}"))?;
                self.serve_push(listener);
            }
            self.tasks = Some(self.engine.start());
        } else if step.sync {
            let before = self.engine.state().connection.full_syncs;
            self.engine.force_sync();
            let engine = self.engine.clone();
            if !self
                .settle_until(move || engine.state().connection.full_syncs > before)
                .await
            {
                return Err("the forced full sync did not finish within an hour".into());
            }
        }
        self.settle().await;
        Ok(())
    }

    /// Finds an item by mailbox and subject: its id and, for an occurrence, its original start.
    fn select(&self, s: &ItemSelector) -> Result<(String, Option<DateTime<Utc>>), String> {
        self.mock.store().read(|w| {
            let mb = w
                .mailbox(&s.mailbox)
                .ok_or_else(|| format!("no mailbox {}", s.mailbox))?;
            let found: Vec<_> = mb
                .items
                .values()
                .filter(|i| i.subject == s.subject)
                .collect();
            let item = match found.as_slice() {
                [one] => *one,
                [] => return Err(format!("no item `{}` in {}", s.subject, s.mailbox)),
                _ => {
                    return Err(format!(
                        "{} items are called `{}` in {}: subjects must be unique to be named",
                        found.len(),
                        s.subject,
                        s.mailbox
                    ));
                }
            };
            let id = item_id(mb.serial, item.key, item.revision);
            let original = match s.occurrence {
                None => None,
                Some(when) => {
                    let local_time = item.start.with_timezone(&item.tz).time();
                    let t = match when {
                        When::Date(d) => {
                            calendar_core::local_to_utc(item.tz, d.and_time(local_time))
                        }
                        other => other.to_utc(item.tz),
                    }
                    .ok_or_else(|| format!("occurrence `{when}` does not exist in {}", item.tz))?;
                    if item.instance_at(t).is_none() {
                        return Err(format!(
                            "`{}` has no occurrence starting {when} (series zone {})",
                            s.subject, item.tz
                        ));
                    }
                    Some(t)
                }
            };
            Ok((id, original))
        })
    }

    fn update(&self, u: &UpdateAction) -> Result<(), String> {
        let sel = ItemSelector {
            mailbox: u.mailbox.clone(),
            subject: u.subject.clone(),
            occurrence: u.occurrence,
            delete_type: None,
        };
        let (id, original) = self.select(&sel)?;
        let tz = self
            .mock
            .store()
            .resolve(&id)
            .map(|(_, item, _)| item.tz)
            .map_err(|e| e.to_string())?;
        let at = |w: When| {
            w.to_utc(tz)
                .ok_or_else(|| format!("`{w}` does not exist in {tz}"))
        };
        let new_start = u.start.map(at).transpose()?;
        let new_end = u.end.map(at).transpose()?;
        let times = move |start: DateTime<Utc>, end: DateTime<Utc>| {
            let s = new_start.unwrap_or(start);
            let e = match (new_end, u.duration) {
                (Some(e), _) => e,
                (None, Some(d)) => s + d.0,
                (None, None) => s + (end - start),
            };
            (s, e)
        };
        let what =
            |e: mock_ews::StoreError| format!("update `{}` in {}: {e}", u.subject, u.mailbox);
        let store = self.mock.store();
        match original {
            Some(o) => {
                if u.cancelled.is_some() {
                    return Err("`cancelled` applies to a whole item, not one occurrence".into());
                }
                store
                    .update_occurrence(&id, o, None, |ov| {
                        (ov.start, ov.end) = times(ov.start, ov.end);
                        if let Some(s) = &u.retitle {
                            ov.subject = Some(s.clone());
                        }
                        if let Some(l) = &u.location {
                            ov.location = Some(l.clone());
                        }
                        if let Some(st) = u.status {
                            ov.status = Some(st);
                        }
                        Ok(())
                    })
                    .map_err(what)?;
            }
            None => {
                store
                    .update_item(&id, None, |item| {
                        (item.start, item.end) = times(item.start, item.end);
                        if let Some(s) = &u.retitle {
                            item.subject = s.clone();
                        }
                        if let Some(l) = &u.location {
                            item.location = l.clone();
                        }
                        if let Some(st) = u.status {
                            item.status = st;
                        }
                        if let Some(c) = u.cancelled {
                            item.cancelled = c;
                        }
                        Ok(())
                    })
                    .map_err(what)?;
            }
        }
        Ok(())
    }

    fn fail(&mut self, what: String, expected: String, actual: String) {
        self.failures.push(StepFailure {
            step: self.step,
            line: self.line,
            at: self.clock.now(),
            what,
            expected,
            actual,
        });
    }

    async fn check(&mut self, e: &Expectation) {
        match e {
            Expectation::Presence(p) => self.check_presence(p),
            Expectation::Slots(s) => self.check_slots(s),
            Expectation::Appointments(a) => self.check_appointments(a),
            Expectation::Log(text) => {
                let lines = self.engine.log().lines(&LogQuery::default());
                if !lines.iter().any(|l| l.to_string().contains(text.as_str())) {
                    self.fail(
                        "engine log".into(),
                        format!("a line containing \"{text}\""),
                        tail(&lines),
                    );
                }
            }
            Expectation::LogLacks(text) => {
                let lines = self.engine.log().lines(&LogQuery::default());
                if let Some(l) = lines.iter().find(|l| l.to_string().contains(text.as_str())) {
                    self.fail(
                        "engine log".into(),
                        format!("no line containing \"{text}\""),
                        l.to_string(),
                    );
                }
            }
            Expectation::Converged(c) => self.check_converged(c).await,
            Expectation::Journal(j) => self.check_journal(j),
            Expectation::Status(x) => self.check_status(x),
            Expectation::Oracle(o) => self.check_oracle(o),
        }
    }

    fn check_presence(&mut self, p: &PresenceExpect) {
        let what = format!("presence of {}", p.user);
        let up = match self.engine.presence(&p.user) {
            Ok(up) => up,
            Err(e) => return self.fail(what, format!("{:?}", p.status), format!("error: {e}")),
        };
        let got = &up.presence;
        let kind = reason_kind(&got.reason);
        let item = reason_item(&got.reason);
        let next = got
            .next_change
            .map_or_else(|| "never".to_string(), |t| self.show(t));
        let actual = format!(
            "{:?}, message {:?}, reason {kind}{}, next change {next}",
            got.state,
            got.message,
            item.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(),
        );
        let mut wrong = Vec::new();
        if got.state != p.status {
            wrong.push(format!("status {:?}", p.status));
        }
        if let Some(m) = &p.message
            && got.message.as_deref() != Some(m.as_str())
        {
            wrong.push(format!("message {m:?}"));
        }
        if p.no_message && got.message.is_some() {
            wrong.push("no message".into());
        }
        if let Some(r) = &p.reason
            && !r.eq_ignore_ascii_case(&kind)
        {
            wrong.push(format!("reason {r}"));
        }
        if let Some(s) = &p.item
            && item.as_deref() != Some(s.as_str())
        {
            wrong.push(format!("item {s:?}"));
        }
        if let Some(n) = &p.next_change {
            let expected = if n == "never" {
                Some("never".to_string())
            } else {
                n.parse::<When>()
                    .ok()
                    .and_then(|w| w.to_utc(self.zone()))
                    .map(|t| self.show(t))
            };
            if expected.as_deref() != Some(next.as_str()) {
                wrong.push(format!("next change {n}"));
            }
        }
        if !wrong.is_empty() {
            self.fail(what, wrong.join(", "), actual);
        }
    }

    fn check_slots(&mut self, s: &SlotsExpect) {
        let (from, to, single) = match (s.date, s.from, s.to) {
            (Some(d), _, _) => (d, d, true),
            (None, Some(f), Some(t)) => (f, t, false),
            _ => return,
        };
        let what = if single {
            format!("slots of {} on {from}", s.counter)
        } else {
            format!("slots of {} from {from} to {to}", s.counter)
        };
        let report = match self.engine.slots(&s.counter, from, to) {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                if let Some(want) = &s.error
                    && msg.contains(want.as_str())
                {
                    return;
                }
                let expected = s.error.as_ref().map_or_else(
                    || "slots".to_string(),
                    |w| format!("an error containing \"{w}\""),
                );
                return self.fail(what, expected, format!("error: {msg}"));
            }
        };
        if let Some(want) = &s.error {
            return self.fail(
                what,
                format!("an error containing \"{want}\""),
                summarize_slots(&report, single),
            );
        }
        let starts = slot_starts(&report, single);
        let reason = if single {
            report.days.first().and_then(|d| d.reason.as_ref())
        } else {
            report.reason.as_ref()
        }
        .map(no_slot_kind);
        let mut wrong = Vec::new();
        if let Some(want) = &s.starts
            && want != &starts
        {
            wrong.push(format!("starts [{}]", want.join(", ")));
        }
        if let Some(n) = s.count
            && n != starts.len()
        {
            wrong.push(format!("{n} slots"));
        }
        if let Some(r) = &s.reason
            && reason.as_deref() != Some(r.as_str())
        {
            wrong.push(format!("reason {r}"));
        }
        if !wrong.is_empty() {
            self.fail(what, wrong.join(", "), summarize_slots(&report, single));
        }
    }

    fn check_appointments(&mut self, a: &AppointmentsExpect) {
        let what = format!("appointments of {}", a.user);
        let got = match self.engine.appointments(&a.user) {
            Ok(g) => g,
            Err(e) => return self.fail(what, "appointments".into(), format!("error: {e}")),
        };
        let listing = || {
            if got.is_empty() {
                "none".to_string()
            } else {
                got.iter()
                    .map(|x| self.show_appointment(x))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        let mut wrong = Vec::new();
        if let Some(n) = a.count
            && n != got.len()
        {
            wrong.push(format!("{n} appointments"));
        }
        if let Some(list) = &a.exactly {
            let same =
                list.len() == got.len() && list.iter().zip(&got).all(|(e, g)| self.matches(e, g));
            if !same {
                wrong.push(format!(
                    "exactly [{}]",
                    list.iter()
                        .map(|e| self.show_expected(e))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
        if let Some(list) = &a.includes {
            for e in list {
                if !got.iter().any(|g| self.matches(e, g)) {
                    wrong.push(format!("one like {}", self.show_expected(e)));
                }
            }
        }
        if let Some(s) = &a.excludes_subject
            && got.iter().any(|g| g.subject.as_deref() == Some(s.as_str()))
        {
            wrong.push(format!("none called {s:?}"));
        }
        if a.no_subjects
            && got
                .iter()
                .any(|g| g.subject.is_some() || g.location.is_some())
        {
            wrong.push("no subjects or locations".into());
        }
        if !wrong.is_empty() {
            let actual = listing();
            self.fail(what, wrong.join(", "), actual);
        }
    }

    fn matches(&self, e: &AppointmentExpect, g: &Appointment) -> bool {
        let at = |w: Option<When>| w.map(|w| w.to_utc(self.zone()));
        e.subject
            .as_ref()
            .is_none_or(|s| g.subject.as_deref() == Some(s.as_str()))
            && at(e.start).is_none_or(|t| t == Some(g.start))
            && at(e.end).is_none_or(|t| t == Some(g.end))
            && e.status.is_none_or(|s| s == g.status)
            && e.cancelled.is_none_or(|c| c == g.cancelled)
            && e.all_day.is_none_or(|c| c == g.all_day)
    }

    fn show_appointment(&self, a: &Appointment) -> String {
        format!(
            "{} - {} {:?} {:?}{}{}",
            self.show(a.start),
            self.show(a.end),
            a.status,
            a.subject.as_deref().unwrap_or("(no subject)"),
            if a.cancelled { " cancelled" } else { "" },
            if a.all_day { " all-day" } else { "" },
        )
    }

    fn show_expected(&self, e: &AppointmentExpect) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &e.subject {
            parts.push(format!("{s:?}"));
        }
        if let Some(s) = e.start {
            parts.push(format!("start {s}"));
        }
        if let Some(s) = e.end {
            parts.push(format!("end {s}"));
        }
        if let Some(s) = e.status {
            parts.push(format!("{s:?}"));
        }
        if let Some(c) = e.cancelled {
            parts.push(format!("cancelled {c}"));
        }
        if let Some(c) = e.all_day {
            parts.push(format!("all-day {c}"));
        }
        parts.join(" ")
    }

    /// The difference between the engine's appointments and the mock's calendar views over
    /// each synced mailbox's window, or `None` when they agree.
    fn divergence(&self) -> Option<String> {
        let state = self.engine.state();
        let mut diffs = Vec::new();
        for (email, mb) in &state.mailboxes {
            let Some(window) = mb.sync.window else {
                diffs.push(format!("{email}: never synced"));
                continue;
            };
            let truth: Option<Vec<Key>> = self.mock.store().read(|w| {
                w.mailbox(email).map(|m| {
                    let mut v: Vec<Key> = m
                        .items
                        .values()
                        .flat_map(|i| i.view(window.start, window.end))
                        .map(|e| Key {
                            start: e.start,
                            end: e.end,
                            // Privacy mode reads free/busy, where a cancelled meeting
                            // left on the calendar is served as Free.
                            status: format!(
                                "{:?}",
                                if mb.privacy && e.item.cancelled {
                                    calendar_core::FreeBusyStatus::Free
                                } else {
                                    served(e.status(), w.server)
                                }
                            ),
                            // The engine never keeps a private item's subject (nor any
                            // subject in privacy mode), so neither does the truth.
                            subject: (!mb.privacy
                                && !matches!(
                                    e.item.sensitivity,
                                    Sensitivity::Private | Sensitivity::Confidential
                                ))
                            .then(|| e.subject().to_string()),
                        })
                        .collect();
                    v.sort();
                    v
                })
            });
            let Some(truth) = truth else {
                diffs.push(format!("{email}: not a mailbox of the mock"));
                continue;
            };
            let mut known: Vec<Key> = mb
                .appointments
                .iter()
                .map(|a| Key {
                    start: a.start,
                    end: a.end,
                    status: format!("{:?}", a.status),
                    // A private item's subject must be absent: compared as it is, so a
                    // leak shows as a difference.
                    subject: if mb.privacy {
                        None
                    } else if a.private {
                        a.subject.clone()
                    } else {
                        Some(a.subject.clone().unwrap_or_default())
                    },
                })
                .collect();
            known.sort();
            let mut count: BTreeMap<&Key, i64> = BTreeMap::new();
            for k in &truth {
                *count.entry(k).or_default() += 1;
            }
            for k in &known {
                *count.entry(k).or_default() -= 1;
            }
            for (k, n) in count {
                if n > 0 {
                    diffs.push(format!("{email}: engine lacks {}", self.show_key(k)));
                } else if n < 0 {
                    diffs.push(format!("{email}: engine has extra {}", self.show_key(k)));
                }
            }
        }
        (!diffs.is_empty()).then(|| diffs.join("\n"))
    }

    fn show_key(&self, k: &Key) -> String {
        format!(
            "{} - {} {} {}",
            self.show(k.start),
            self.show(k.end),
            k.status,
            k.subject
                .as_deref()
                .map_or("(private)".to_string(), |s| format!("{s:?}"))
        )
    }

    async fn check_converged(&mut self, c: &ConvergedExpect) {
        let bound = c
            .within
            .map_or(Duration::seconds(CONVERGED_DEFAULT_SECS), |s| s.0);
        let deadline = self.clock.now() + bound;
        loop {
            let Some(diff) = self.divergence() else {
                return;
            };
            if self.clock.now() >= deadline {
                let what = format!("engine equals the mock within {}s", bound.num_seconds());
                return self.fail(what, "no difference".into(), diff);
            }
            self.clock.sleep(Duration::seconds(1)).await;
            self.settle().await;
        }
    }

    /// The mock's truth for `email` over the engine's window, as calendar-core inputs:
    /// busy items, OOF settings and the mailbox zone. `Err` when it cannot be compared.
    fn truth(&self, email: &str, privacy: bool) -> Result<Truth, String> {
        let state = self.engine.state();
        let window = state
            .mailboxes
            .get(email)
            .and_then(|m| m.sync.window)
            .ok_or_else(|| format!("{email}: the engine has not synced it"))?;
        self.mock.store().read(|w| {
            let m = w
                .mailbox(email)
                .ok_or_else(|| format!("{email}: not a mailbox of the mock"))?;
            let items = m
                .items
                .values()
                .flat_map(|i| i.view(window.start, window.end))
                .map(|e| BusyItem {
                    id: None,
                    start: e.start,
                    end: e.end,
                    status: served(e.status(), w.server),
                    cancelled: e.item.cancelled,
                    private: matches!(
                        e.item.sensitivity,
                        Sensitivity::Private | Sensitivity::Confidential
                    ),
                    subject: (!privacy).then(|| e.subject().to_string()),
                    all_day: e.item.all_day,
                    time_zone: Some(e.item.tz),
                })
                .collect();
            let o = &m.oof;
            let oof = calendar_core::OofSettings {
                state: match o.state {
                    MockOofState::Disabled => calendar_core::OofState::Disabled,
                    MockOofState::Enabled => calendar_core::OofState::Enabled,
                    MockOofState::Scheduled => calendar_core::OofState::Scheduled,
                },
                window: o
                    .start
                    .zip(o.end)
                    .map(|(start, end)| calendar_core::OofWindow { start, end }),
                internal_reply: o.internal.clone(),
                external_reply: o.external.clone(),
            };
            Ok(Truth {
                items,
                oof,
                zone: m.tz,
            })
        })
    }

    fn check_oracle(&mut self, o: &OracleExpect) {
        let now = self.clock.now();
        let state = self.engine.state();
        let users: Vec<_> = self
            .config
            .users
            .iter()
            .filter(|u| u.calendar_integration)
            .filter_map(|u| u.email.clone().map(|e| (e, u.privacy)))
            .collect();
        for (email, privacy) in users {
            let what = format!("presence of {email} against calendar-core on the mock's truth");
            if !synced(&state, &email) {
                // Nothing to compare: the status expectation covers unsynced mailboxes.
                continue;
            }
            let truth = match self.truth(&email, privacy) {
                Ok(t) => t,
                Err(e) => {
                    self.fail(what, "a comparable mailbox".into(), e);
                    continue;
                }
            };
            let input = PresenceInput {
                items: truth.items,
                oof: truth.oof,
                manual: state.overrides.get(&email).cloned(),
                time_zone: Some(truth.zone),
            };
            let want = calendar_core::presence(&input, &self.config.presence, now);
            let got = match self.engine.presence(&email) {
                Ok(p) => p.presence,
                Err(e) => {
                    self.fail(what, self.show_presence(&want), format!("error: {e}"));
                    continue;
                }
            };
            if presence_key(&got) != presence_key(&want) {
                let (w, g) = (self.show_presence(&want), self.show_presence(&got));
                self.fail(what, w, g);
            }
        }
        let days = i64::from(o.days.unwrap_or(3).max(1));
        let counters: Vec<_> = self
            .config
            .counters
            .iter()
            .filter_map(|c| c.email.clone().map(|e| (c.clone(), e)))
            .collect();
        for (counter, email) in counters {
            let from = now.with_timezone(&counter.slots.time_zone).date_naive();
            let to = from + Duration::days(days - 1);
            let what = format!(
                "slots of {} from {from} to {to} against calendar-core on the mock's truth",
                counter.id
            );
            if !synced(&state, &email) {
                continue;
            }
            let truth = match self.truth(&email, counter.privacy) {
                Ok(t) => t,
                Err(e) => {
                    self.fail(what, "a comparable mailbox".into(), e);
                    continue;
                }
            };
            let mut settings = counter.slots.clone();
            settings.mailbox = email.clone();
            let want = match calendar_core::free_slots(&settings, &truth.items, from, to, now) {
                Ok(r) => r,
                Err(e) => {
                    self.fail(what, "slots".into(), format!("oracle error: {e}"));
                    continue;
                }
            };
            match self.engine.slots(&counter.id, from, to) {
                Ok(got) if same_slots(&got, &want) => {}
                Ok(got) => {
                    let (w, g) = (summarize_slots(&want, false), summarize_slots(&got, false));
                    self.fail(what, w, g);
                }
                Err(e) => {
                    let w = summarize_slots(&want, false);
                    self.fail(what, w, format!("error: {e}"));
                }
            }
        }
    }

    fn show_presence(&self, p: &calendar_core::Presence) -> String {
        format!(
            "{:?}, message {:?}, reason {}{}, next change {}",
            p.state,
            p.message,
            reason_kind(&p.reason),
            reason_item(&p.reason)
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            p.next_change
                .map_or_else(|| "never".to_string(), |t| self.show(t))
        )
    }

    fn check_status(&mut self, x: &StatusExpect) {
        let status = self.engine.status();
        let health = serde_json::to_value(status.health)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut wrong = Vec::new();
        if let Some(h) = &x.health
            && !h.eq_ignore_ascii_case(&health)
        {
            wrong.push(format!("health {h}"));
        }
        if let Some(r) = &x.reason
            && !status.reason.contains(r.as_str())
        {
            wrong.push(format!("reason containing \"{r}\""));
        }
        let mut actual = format!("health {health} ({})", status.reason);
        if let Some(m) = &x.mailbox {
            match status
                .mailboxes
                .iter()
                .find(|b| b.email.eq_ignore_ascii_case(m))
            {
                None => wrong.push(format!("a mailbox {m}")),
                Some(b) => {
                    let error = b
                        .sync
                        .error
                        .as_ref()
                        .map_or_else(|| "none".to_string(), |e| e.kind.clone());
                    let synced = b.sync.calendar_synced_at.is_some();
                    actual.push_str(&format!(
                        "; {m}: error {error}{}, subscribed {}, synced {synced}",
                        b.sync
                            .error
                            .as_ref()
                            .map(|e| format!(" ({}: {})", e.operation, e.message))
                            .unwrap_or_default(),
                        b.subscribed
                    ));
                    if let Some(e) = &x.error
                        && e != &error
                    {
                        wrong.push(format!("{m} error {e}"));
                    }
                    if let Some(sub) = x.subscribed
                        && sub != b.subscribed
                    {
                        wrong.push(format!("{m} subscribed {sub}"));
                    }
                    if let Some(sy) = x.synced
                        && sy != synced
                    {
                        wrong.push(format!("{m} synced {sy}"));
                    }
                }
            }
        }
        if !wrong.is_empty() {
            self.fail("engine status".into(), wrong.join(", "), actual);
        }
    }

    fn check_journal(&mut self, j: &JournalExpect) {
        let backoff = self.mock.journal().waited_at_least_backoff();
        let entries = self.mock.journal().entries();
        if j.waited_backoff
            && let Err(violations) = backoff
        {
            let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
            self.fail(
                "journal: back-off honoured".into(),
                "every retry waited as asked".into(),
                list.join("\n"),
            );
        }
        if let Some(m) = &j.resumed_from_watermark {
            let v = self.mock.notifications().resume_violations(m);
            if !v.is_empty() {
                let list: Vec<String> = v
                    .iter()
                    .map(|x| {
                        format!(
                            "{} subscription {} started from {} instead of {}",
                            self.show(x.at),
                            x.subscription_id,
                            x.got.as_deref().unwrap_or("nothing (fresh)"),
                            x.expected
                        )
                    })
                    .collect();
                self.fail(
                    format!("journal: {m} resumed from its last watermark"),
                    "every re-subscription resumes".into(),
                    list.join("\n"),
                );
            }
        }
        if let Some(m) = &j.no_event_lost {
            let lost = self.mock.notifications().lost_events(m);
            if !lost.is_empty() {
                let list: Vec<String> = lost
                    .iter()
                    .map(|x| format!("event {} ({}) at {}", x.seq, x.kind, self.show(x.at)))
                    .collect();
                self.fail(
                    format!("journal: no change event of {m} lost"),
                    "every event handed out".into(),
                    list.join("\n"),
                );
            }
        }
        if j.operation.is_none() && j.min.is_none() && j.max.is_none() {
            return;
        }
        let n = entries
            .iter()
            .filter(|e| {
                // Some operations' body elements end in `Request`
                // (`GetUserOofSettingsRequest`): either name matches.
                j.operation.as_ref().is_none_or(|o| {
                    e.operation == *o || e.operation.strip_suffix("Request") == Some(o.as_str())
                })
            })
            .filter(|e| {
                j.mailbox.as_ref().is_none_or(|m| {
                    e.impersonated
                        .as_ref()
                        .is_some_and(|i| i.eq_ignore_ascii_case(m))
                })
            })
            .filter(|e| {
                j.code.as_ref().is_none_or(|c| match &e.outcome {
                    Answer::Success => c == "NoError",
                    other => other.code() == Some(c.as_str()),
                })
            })
            .count();
        let min_ok = j.min.is_none_or(|m| n >= m);
        let max_ok = j.max.is_none_or(|m| n <= m);
        if !(min_ok && max_ok) {
            let what = format!(
                "journal: {}{}{}",
                j.operation.as_deref().unwrap_or("requests"),
                j.mailbox
                    .as_ref()
                    .map(|m| format!(" for {m}"))
                    .unwrap_or_default(),
                j.code
                    .as_ref()
                    .map(|c| format!(" answered {c}"))
                    .unwrap_or_default(),
            );
            let expected = match (j.min, j.max) {
                (Some(a), Some(b)) if a == b => format!("exactly {a}"),
                (Some(a), Some(b)) => format!("{a} to {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => String::new(),
            };
            self.fail(what, expected, format!("{n}"));
        }
    }
}

/// The mock's truth of one mailbox as calendar-core inputs.
struct Truth {
    items: Vec<BusyItem>,
    oof: calendar_core::OofSettings,
    zone: Tz,
}

/// A status as the mock's server version serves it: Exchange 2010 predates WorkingElsewhere
/// and shows such items as Busy, so that is the truth a 2010 client can and must see.
fn served(
    s: calendar_core::FreeBusyStatus,
    server: mock_ews::ServerVersion,
) -> calendar_core::FreeBusyStatus {
    match s {
        calendar_core::FreeBusyStatus::WorkingElsewhere if !server.has_working_elsewhere() => {
            calendar_core::FreeBusyStatus::Busy
        }
        other => other,
    }
}

/// Whether the engine has read this mailbox's calendar at least once.
fn synced(state: &sync_engine::State, email: &str) -> bool {
    state
        .mailboxes
        .get(email)
        .is_some_and(|m| m.sync.window.is_some())
}

/// What the oracle comparison looks at: everything but item ids (the engine's are EWS ids).
#[derive(Debug, PartialEq, Eq)]
struct PresenceKey {
    state: calendar_core::PresenceState,
    message: Option<String>,
    reason: String,
    item: Option<(Option<String>, DateTime<Utc>, DateTime<Utc>)>,
    next_change: Option<DateTime<Utc>>,
}

fn presence_key(p: &calendar_core::Presence) -> PresenceKey {
    let item = match &p.reason {
        PresenceReason::OofItem { item } | PresenceReason::Meeting { item } => {
            Some((item.subject.clone(), item.start, item.end))
        }
        _ => None,
    };
    PresenceKey {
        state: p.state,
        message: p.message.clone(),
        reason: reason_kind(&p.reason),
        item,
        next_change: p.next_change,
    }
}

/// Slot reports agree on every day's slots (times and availability) and no-slot reasons.
/// Item references inside reasons are not compared: the engine's carry EWS ids.
fn same_slots(a: &SlotReport, b: &SlotReport) -> bool {
    a.days.len() == b.days.len()
        && a.days.iter().zip(&b.days).all(|(x, y)| {
            x.date == y.date
                && x.slots == y.slots
                && x.reason.as_ref().map(no_slot_kind) == y.reason.as_ref().map(no_slot_kind)
        })
}

/// What convergence compares of one appointment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// `FreeBusyStatus` is not `Ord`; its name is.
    status: String,
    subject: Option<String>,
}

fn tail(lines: &[sync_engine::LogLine]) -> String {
    let skip = lines.len().saturating_sub(8);
    let shown: Vec<String> = lines[skip..].iter().map(ToString::to_string).collect();
    format!("last lines:\n{}", shown.join("\n"))
}

fn reason_kind(r: &PresenceReason) -> String {
    match r {
        PresenceReason::Override { .. } => "override",
        PresenceReason::OofSettings { .. } => "oofSettings",
        PresenceReason::OofItem { .. } => "oofItem",
        PresenceReason::Meeting { .. } => "meeting",
        PresenceReason::NoBlockingItem => "noBlockingItem",
    }
    .to_string()
}

fn reason_item(r: &PresenceReason) -> Option<String> {
    match r {
        PresenceReason::OofItem { item } | PresenceReason::Meeting { item } => {
            Some(item.subject.clone().unwrap_or_default())
        }
        _ => None,
    }
}

fn no_slot_kind(r: &NoSlotReason) -> String {
    match r {
        NoSlotReason::Closed { .. } => "closed",
        NoSlotReason::FullyBooked => "fullyBooked",
        NoSlotReason::Vacation { .. } => "vacation",
        NoSlotReason::OutsideHorizon { .. } => "outsideHorizon",
        NoSlotReason::MinimumNotice { .. } => "minimumNotice",
    }
    .to_string()
}

fn slot_starts(report: &SlotReport, single: bool) -> Vec<String> {
    let format = if single { "%H:%M" } else { "%Y-%m-%d %H:%M" };
    report
        .days
        .iter()
        .flat_map(|d| d.slots.iter())
        .map(|s| s.local_start.format(format).to_string())
        .collect()
}

fn summarize_slots(report: &SlotReport, single: bool) -> String {
    let starts = slot_starts(report, single);
    let mut s = format!("{} slots [{}]", starts.len(), starts.join(", "));
    let reasons: Vec<String> = report
        .days
        .iter()
        .filter_map(|d| {
            d.reason
                .as_ref()
                .map(|r| format!("{}: {}", d.date, no_slot_kind(r)))
        })
        .collect();
    if !reasons.is_empty() {
        s.push_str(&format!("; no slot on {}", reasons.join(", ")));
    }
    if let Some(r) = &report.reason {
        s.push_str(&format!("; range reason {}", no_slot_kind(r)));
    }
    s
}
