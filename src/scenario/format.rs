//! The scenario file as written. Plain serde types read with serde-saphyr, so every syntax or
//! type error names the file, line and column; meaning errors (a step with two time moves, an
//! unknown zone) name the step and its line.
//!
//! Times in steps and expectations are written as in world files ([`When`]): a wall time
//! (`2026-03-23 09:00`) is read in the scenario's `zone`, an instant ends in `Z` or an offset.

use std::path::Path;

use calendar_core::{FreeBusyStatus, PresenceState};
use chrono::NaiveDate;
use chrono_tz::Tz;
use mock_ews::{DeleteMode, FaultSpec, ItemSpec, NotifyFaultSpec, OofSpec, Span, When, WorldSpec};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sync_engine::config::RawConfig;

/// Why a scenario file cannot be played at all.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        origin: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{origin}: import_ics {file}:{line}: {message}")]
    Ics {
        origin: String,
        file: String,
        line: usize,
        message: String,
    },
    #[error("{origin}: import_ics {file}: cannot read: {source}")]
    IcsRead {
        origin: String,
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{line}: {message}")]
    Invalid {
        origin: String,
        line: u64,
        message: String,
    },
}

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Shown in reports; default the file name.
    #[serde(default)]
    pub name: Option<String>,
    /// What situation this is, in the integrator's words.
    #[serde(default)]
    pub description: Option<String>,
    /// The zone in which wall times of steps and expectations are read (default UTC).
    #[serde(default)]
    pub zone: Option<String>,
    /// A real bug in mock or engine makes this scenario fail: the player reports the failure
    /// but does not fail on it (and says so when the scenario starts passing).
    #[serde(default)]
    pub known_issue: Option<String>,
    /// The mock's world, exactly as `mock-ews/WORLD.md` documents it; `now` is required: it
    /// is where the virtual clock starts.
    pub world: WorldSpec,
    /// Calendars imported from `.ics` exports into mailboxes of the world before it is
    /// loaded (see [`crate::scenario::ics`]).
    #[serde(default)]
    pub import_ics: Vec<Spanned<IcsImport>>,
    /// The engine's configuration in the keys of its TOML file (`engine.example.toml`),
    /// written in YAML. The player fills `exchange.url` and, when absent, `username` and
    /// `password` from the world's first account.
    #[serde(default)]
    pub engine: RawConfig,
    /// The timeline.
    #[serde(default)]
    pub steps: Vec<Spanned<Step>>,
}

/// `import_ics: [{ mailbox: kim@contoso.com, file: ics/customer.ics }]`: the file's path is
/// relative to the scenario file; its VEVENTs are appended to the mailbox's calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcsImport {
    pub mailbox: String,
    pub file: String,
}

/// One step: optionally move the clock, then do the actions, then check the expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A free-text label shown in reports.
    #[serde(default)]
    pub note: Option<String>,
    /// Let virtual time run until this instant (all timers fire in order on the way).
    #[serde(default)]
    pub at: Option<When>,
    /// Let virtual time run this long.
    #[serde(default)]
    pub advance: Option<Span>,
    /// Jump the clock to this instant at once (timers jumped over fire late, at the new time).
    #[serde(default)]
    pub set_time: Option<When>,
    /// Create a calendar item in the mock.
    #[serde(default)]
    pub create: Option<CreateAction>,
    /// Change an item or one occurrence (move, retitle, cancel, show-as).
    #[serde(default)]
    pub update: Option<UpdateAction>,
    /// Delete an item or one occurrence (`delete_type: MoveToDeletedItems` deletes as
    /// Outlook does, see [`ItemSelector::delete_type`]).
    #[serde(default)]
    pub delete: Option<ItemSelector>,
    /// Replace a mailbox's out-of-office settings.
    #[serde(default)]
    pub set_oof: Option<OofAction>,
    /// Install a mock fault rule (mock-ews `FaultSpec`: `fault: { kind: serverBusy,
    /// backOffMs: 2000 }`, optional `operation`, `mailbox`, `times` or `rate` + `seed`).
    #[serde(default)]
    pub fault: Option<FaultSpec>,
    /// Remove every fault rule (EWS and notification faults).
    #[serde(default)]
    pub clear_faults: bool,
    /// Install a mock notification fault rule (mock-ews `NotifyFaultSpec`: `fault: { kind:
    /// streamCut }`, optional `channel`, `mailbox`, `times` or `rate` + `seed`).
    #[serde(default)]
    pub notify_fault: Option<NotifyFaultSpec>,
    /// Set a user's manual presence override in the engine.
    #[serde(default, rename = "override")]
    pub set_override: Option<OverrideAction>,
    /// Clear a user's override.
    #[serde(default)]
    pub clear_override: Option<String>,
    /// Stop the engine (losing its memory) and start a fresh one on the same configuration.
    /// Its start-up sync runs without moving time; if it must wait (a back-off), it goes on
    /// during the next time move, so a second restart can land mid-sync.
    #[serde(default)]
    pub restart_engine: bool,
    /// Ask the engine for a full sync now ("force now") and wait until it finished.
    #[serde(default)]
    pub sync: bool,
    /// What must hold after the actions.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// `create: { mailbox: ..., item: { ... } }`: `item` is a world-file calendar item.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAction {
    pub mailbox: String,
    pub item: ItemSpec,
}

/// Names an item by mailbox and subject, and optionally one occurrence of a series by its
/// original start (a wall time in the series' zone, or a date).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSelector {
    pub mailbox: String,
    pub subject: String,
    #[serde(default)]
    pub occurrence: Option<When>,
    /// How `delete` deletes, as EWS's `DeleteType`: `HardDelete` (the default, what the step
    /// always did), `SoftDelete`, or `MoveToDeletedItems` (Outlook's delete: the engine sees
    /// a `MovedEvent` to Deleted Items instead of a `DeletedEvent`). One occurrence is a
    /// change of its series whatever the type.
    #[serde(default)]
    pub delete_type: Option<DeleteMode>,
}

/// `update`: the item, then what changes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAction {
    pub mailbox: String,
    pub subject: String,
    #[serde(default)]
    pub occurrence: Option<When>,
    /// New start (wall time in the item's zone); the duration is kept unless `end` or
    /// `duration` is given.
    #[serde(default)]
    pub start: Option<When>,
    #[serde(default)]
    pub end: Option<When>,
    #[serde(default)]
    pub duration: Option<Span>,
    /// A new subject (retitle).
    #[serde(default)]
    pub retitle: Option<String>,
    #[serde(default)]
    pub status: Option<FreeBusyStatus>,
    #[serde(default)]
    pub location: Option<String>,
    /// Mark the meeting cancelled (EWS `IsCancelled`); not for single occurrences.
    #[serde(default)]
    pub cancelled: Option<bool>,
}

/// `set_oof: { mailbox: ..., oof: { state: scheduled, ... } }` with a world-file OOF block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OofAction {
    pub mailbox: String,
    pub oof: OofSpec,
}

/// `override: { user: ..., state: absent, message: ..., expires: ... }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideAction {
    pub user: String,
    pub state: PresenceState,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub expires: Option<When>,
}

/// One expectation, written as a one-key map (`- presence: {...}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    Presence(PresenceExpect),
    Slots(SlotsExpect),
    Appointments(AppointmentsExpect),
    /// The engine's log has a line containing this text.
    Log(String),
    /// No line of the engine's log contains this text.
    LogLacks(String),
    Converged(ConvergedExpect),
    Journal(JournalExpect),
    Status(StatusExpect),
    Oracle(OracleExpect),
}

/// The engine's presence of every calendar user and the slots of every counter equal what
/// calendar-core (the oracle) computes from the mock's truth over the engine's window.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleExpect {
    /// Days of slots compared per counter, from today in the counter's zone (default 3).
    #[serde(default)]
    pub days: Option<u32>,
}

/// The engine's status document (what the products' status page shows).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusExpect {
    /// `online`, `degraded` or `offline`.
    #[serde(default)]
    pub health: Option<String>,
    /// The health reason contains this text.
    #[serde(default)]
    pub reason: Option<String>,
    /// Check one mailbox: ...
    #[serde(default)]
    pub mailbox: Option<String>,
    /// ... its error kind (`impersonationDenied`, `serverBusy`, ...) or `none`,
    #[serde(default)]
    pub error: Option<String>,
    /// ... whether it has a live change subscription,
    #[serde(default)]
    pub subscribed: Option<bool>,
    /// ... whether its calendar was synced at least once.
    #[serde(default)]
    pub synced: Option<bool>,
}

/// The engine's presence of a user now.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceExpect {
    pub user: String,
    pub status: PresenceState,
    /// The message must equal this.
    #[serde(default)]
    pub message: Option<String>,
    /// There must be no message.
    #[serde(default)]
    pub no_message: bool,
    /// The deciding rule: `override`, `oofSettings`, `oofItem`, `meeting`, `noBlockingItem`.
    #[serde(default)]
    pub reason: Option<String>,
    /// The subject of the item that decided (`meeting` / `oofItem`).
    #[serde(default)]
    pub item: Option<String>,
    /// When presence changes next (`never` for none).
    #[serde(default)]
    pub next_change: Option<String>,
}

/// Free slots of a counter on one `date`, or `from` .. `to` (inclusive).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotsExpect {
    pub counter: String,
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// The exact slot starts, local to the counter: `09:00` for one date, `2026-03-24 09:00`
    /// for a range.
    #[serde(default)]
    pub starts: Option<Vec<String>>,
    /// The number of slots.
    #[serde(default)]
    pub count: Option<usize>,
    /// Why there is no slot: the day's reason for one date, else the range's reason
    /// (`fullyBooked`, `vacation`, `closed`, `minimumNotice`, `outsideHorizon`).
    #[serde(default)]
    pub reason: Option<String>,
    /// The engine refuses; its error message contains this text.
    #[serde(default)]
    pub error: Option<String>,
}

/// The appointments the engine knows for a user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentsExpect {
    pub user: String,
    #[serde(default)]
    pub count: Option<usize>,
    /// Exactly these, in order of start.
    #[serde(default)]
    pub exactly: Option<Vec<AppointmentExpect>>,
    /// At least these.
    #[serde(default)]
    pub includes: Option<Vec<AppointmentExpect>>,
    /// None with this subject.
    #[serde(default)]
    pub excludes_subject: Option<String>,
    /// No appointment carries a subject or location (privacy mode).
    #[serde(default)]
    pub no_subjects: bool,
}

/// One appointment; fields left out are not compared.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentExpect {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub start: Option<When>,
    #[serde(default)]
    pub end: Option<When>,
    #[serde(default)]
    pub status: Option<FreeBusyStatus>,
    #[serde(default)]
    pub cancelled: Option<bool>,
    #[serde(default)]
    pub all_day: Option<bool>,
}

/// The engine's appointments equal the mock's truth for every synced mailbox, at the latest
/// after `within` of virtual time (checked every virtual second).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergedExpect {
    #[serde(default)]
    pub within: Option<Span>,
}

/// What the mock's journal of requests shows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalExpect {
    /// Every retry after a back-off answer waited at least as long as asked.
    #[serde(default)]
    pub waited_backoff: bool,
    /// Count requests of this operation (with `min` / `max`).
    #[serde(default)]
    pub operation: Option<String>,
    /// Only requests impersonating this mailbox.
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub min: Option<usize>,
    #[serde(default)]
    pub max: Option<usize>,
    /// Only requests answered with this response code (`NoError`, `ErrorServerBusy`, ...).
    #[serde(default)]
    pub code: Option<String>,
    /// Every re-subscription of this mailbox resumed from the last watermark it was given.
    #[serde(default)]
    pub resumed_from_watermark: Option<String>,
    /// Every change event of this mailbox was handed out to one of its subscriptions.
    #[serde(default)]
    pub no_event_lost: Option<String>,
}

/// A parsed, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where it came from (the path, or `inline`), for messages.
    pub origin: String,
    pub name: String,
    pub zone: Tz,
    pub file: ScenarioFile,
}

impl Scenario {
    /// Parses scenario text; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile =
            serde_saphyr::from_str(text).map_err(|err| parse_error(origin, &err))?;
        let invalid = |line: u64, message: String| ScenarioError::Invalid {
            origin: origin.to_string(),
            line,
            message,
        };
        let zone = match &file.zone {
            None => Tz::UTC,
            Some(z) => mock_ews::parse_zone(z)
                .ok_or_else(|| invalid(1, format!("unknown zone `{z}` in `zone`")))?,
        };
        if file.world.now.is_none() {
            return Err(invalid(
                1,
                "`world.now` is required: it is where the virtual clock starts".into(),
            ));
        }
        for step in &file.steps {
            let line = step.referenced.line();
            let s = &step.value;
            let moves = [s.at.is_some(), s.advance.is_some(), s.set_time.is_some()];
            if moves.iter().filter(|m| **m).count() > 1 {
                return Err(invalid(
                    line,
                    "a step moves the clock once: give only one of `at`, `advance`, `set_time`"
                        .into(),
                ));
            }
            let actions = [
                s.create.is_some(),
                s.update.is_some(),
                s.delete.is_some(),
                s.set_oof.is_some(),
                s.fault.is_some(),
                s.clear_faults,
                s.notify_fault.is_some(),
                s.set_override.is_some(),
                s.clear_override.is_some(),
                s.restart_engine,
                s.sync,
            ];
            if actions.iter().filter(|a| **a).count() > 1 {
                return Err(invalid(
                    line,
                    "one action per step (create, update, delete, set_oof, fault, clear_faults, \
                     notify_fault, override, clear_override, restart_engine, sync): split it into several steps"
                        .into(),
                ));
            }
            for e in &s.expect {
                if let Expectation::Slots(x) = e {
                    let single = x.date.is_some();
                    let range = x.from.is_some() && x.to.is_some();
                    if single == range || (x.from.is_some() != x.to.is_some()) {
                        return Err(invalid(
                            line,
                            format!(
                                "slots of `{}`: give either `date` or both `from` and `to`",
                                x.counter
                            ),
                        ));
                    }
                }
            }
        }
        let mut file = file;
        import_calendars(&mut file, origin)?;
        let name = file.name.clone().unwrap_or_else(|| {
            Path::new(origin)
                .file_stem()
                .map_or_else(|| origin.to_string(), |s| s.to_string_lossy().into_owned())
        });
        Ok(Scenario {
            origin: origin.to_string(),
            name,
            zone,
            file,
        })
    }

    /// Reads and parses a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }
}

/// Reads every `import_ics` file (relative to the scenario's directory) into its mailbox.
fn import_calendars(file: &mut ScenarioFile, origin: &str) -> Result<(), ScenarioError> {
    let dir = Path::new(origin).parent().unwrap_or(Path::new(""));
    for import in &file.import_ics {
        let line = import.referenced.line();
        let imp = &import.value;
        let path = dir.join(&imp.file);
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| ScenarioError::IcsRead {
            origin: origin.to_string(),
            file: shown.clone(),
            source,
        })?;
        let items = super::ics::read_events(&text).map_err(|e| ScenarioError::Ics {
            origin: origin.to_string(),
            file: shown.clone(),
            line: e.line,
            message: e.message,
        })?;
        let Some(mailbox) = file
            .world
            .mailboxes
            .iter_mut()
            .find(|m| m.smtp.eq_ignore_ascii_case(&imp.mailbox))
        else {
            return Err(ScenarioError::Invalid {
                origin: origin.to_string(),
                line,
                message: format!(
                    "import_ics: mailbox `{}` is not in the world's mailboxes",
                    imp.mailbox
                ),
            });
        };
        mailbox.calendar.extend(items);
    }
    Ok(())
}

fn parse_error(origin: &str, err: &serde_saphyr::Error) -> ScenarioError {
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let text = err.to_string();
    let message = text.lines().next().unwrap_or_default().to_string();
    ScenarioError::Parse {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        "world:\n  now: 2026-03-23T07:00:00Z\n  mailboxes: [{ smtp: a@contoso.com }]\n";

    #[test]
    fn minimal_scenario_parses_with_defaults() {
        let s = Scenario::from_yaml(MINIMAL, "scenarios/minimal.yaml").unwrap();
        assert_eq!(s.name, "minimal");
        assert_eq!(s.zone, Tz::UTC);
        assert!(s.file.steps.is_empty());
    }

    #[test]
    fn steps_keep_their_lines() {
        let text = format!(
            "{MINIMAL}steps:\n  - advance: 1h\n  - at: 2026-03-23 10:00\n    expect:\n      - log: synced\n"
        );
        let s = Scenario::from_yaml(&text, "x.yaml").unwrap();
        let lines: Vec<u64> = s.file.steps.iter().map(|s| s.referenced.line()).collect();
        assert_eq!(lines, vec![5, 6]);
        assert!(matches!(
            s.file.steps[1].value.expect[0],
            Expectation::Log(ref t) if t == "synced"
        ));
    }

    #[test]
    fn type_errors_name_line_and_column() {
        let text = format!("{MINIMAL}steps:\n  - advance: soon\n");
        let err = Scenario::from_yaml(&text, "bad.yaml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.yaml:5:"), "{msg}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = format!("{MINIMAL}steps:\n  - advnce: 1h\n");
        let err = Scenario::from_yaml(&text, "bad.yaml").unwrap_err();
        assert!(err.to_string().contains("advnce"), "{err}");
    }

    #[test]
    fn two_clock_moves_in_one_step_are_refused_with_the_line() {
        let text = format!("{MINIMAL}steps:\n  - advance: 1h\n    at: 2026-03-23 10:00\n");
        let err = Scenario::from_yaml(&text, "bad.yaml").unwrap_err();
        assert!(
            err.to_string().starts_with("bad.yaml:5: a step moves"),
            "{err}"
        );
    }

    #[test]
    fn world_without_now_is_refused() {
        let err = Scenario::from_yaml("world: { mailboxes: [] }\n", "w.yaml").unwrap_err();
        assert!(err.to_string().contains("world.now"), "{err}");
    }

    #[test]
    fn slots_need_date_or_range() {
        let text = format!(
            "{MINIMAL}steps:\n  - expect:\n      - slots: {{ counter: c, from: 2026-03-23 }}\n"
        );
        let err = Scenario::from_yaml(&text, "s.yaml").unwrap_err();
        assert!(err.to_string().contains("either `date`"), "{err}");
    }

    #[test]
    fn import_ics_fills_the_mailbox_and_errors_name_both_files() {
        let dir = std::env::temp_dir().join(format!("ews-kit-ics-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("ics")).unwrap();
        let scenario = dir.join("s.yaml");
        let text =
            format!("{MINIMAL}import_ics:\n  - {{ mailbox: A@contoso.com, file: ics/c.ics }}\n");
        let good = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Call\r\nDTSTART:20260323T090000Z\r\nDURATION:PT30M\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        std::fs::write(dir.join("ics/c.ics"), good).unwrap();
        let origin = scenario.display().to_string();
        let s = Scenario::from_yaml(&text, &origin).unwrap();
        assert_eq!(s.file.world.mailboxes[0].calendar.len(), 1);
        assert_eq!(s.file.world.mailboxes[0].calendar[0].subject, "Call");

        std::fs::write(dir.join("ics/c.ics"), good.replace("PT30M", "PT30X")).unwrap();
        let err = Scenario::from_yaml(&text, &origin).unwrap_err().to_string();
        assert!(err.starts_with(&origin), "{err}");
        assert!(err.contains("c.ics:5:"), "{err}");

        std::fs::write(dir.join("ics/c.ics"), good).unwrap();
        let other = text.replace("A@contoso.com", "b@contoso.com");
        let err = Scenario::from_yaml(&other, &origin)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":5: import_ics: mailbox `b@contoso.com`"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
