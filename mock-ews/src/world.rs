//! The runtime world: server profile, mailboxes with calendars and OOF, accounts and rights.
//!
//! A [`World`] is a persistent value: mailboxes sit behind `Arc`s and items inside a mailbox
//! too, so cloning a world (a snapshot) copies a map of pointers and a change copies only the
//! mailbox it touches (`Arc::make_mut`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::WorldError;
use crate::item::CalendarItem;
use crate::spec::{Audience, ImpersonationSpec, OofSpec, OofState, WorldSpec, weekdays};
use crate::zone::parse_zone;

/// The Exchange version the mock pretends to be. Behaviour follows the profile where
/// Exchange differs (2010 has no WorkingElsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ServerVersion {
    #[serde(rename = "2010sp2", alias = "Exchange2010_SP2")]
    Exchange2010Sp2,
    #[default]
    #[serde(rename = "2010sp3", alias = "Exchange2010_SP3")]
    Exchange2010Sp3,
    #[serde(rename = "2013", alias = "Exchange2013")]
    Exchange2013,
    #[serde(rename = "2016", alias = "Exchange2016")]
    Exchange2016,
    #[serde(rename = "2019", alias = "Exchange2019")]
    Exchange2019,
}

/// The numbers of a `ServerVersionInfo` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub major: u32,
    pub minor: u32,
    pub major_build: u32,
    pub minor_build: u32,
    /// The `Version` attribute as observed from real servers of that build.
    pub version: &'static str,
}

impl ServerVersion {
    /// Observed builds (EWS.md §1.3).
    pub fn info(self) -> VersionInfo {
        let (major, minor, major_build, minor_build, version) = match self {
            ServerVersion::Exchange2010Sp2 => (14, 2, 390, 3, "Exchange2010_SP2"),
            ServerVersion::Exchange2010Sp3 => (14, 3, 181, 6, "Exchange2010_SP2"),
            ServerVersion::Exchange2013 => (15, 0, 1076, 9, "V2_22"),
            ServerVersion::Exchange2016 => (15, 1, 2507, 57, "V2017_07_11"),
            ServerVersion::Exchange2019 => (15, 2, 2562, 17, "V2017_07_11"),
        };
        VersionInfo {
            major,
            minor,
            major_build,
            minor_build,
            version,
        }
    }

    /// Exchange 2010 maps WorkingElsewhere (a 2013 addition) to Busy.
    pub fn has_working_elsewhere(self) -> bool {
        !matches!(
            self,
            ServerVersion::Exchange2010Sp2 | ServerVersion::Exchange2010Sp3
        )
    }
}

/// EWS `Sensitivity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    #[default]
    #[serde(alias = "Normal")]
    Normal,
    #[serde(alias = "Personal")]
    Personal,
    #[serde(alias = "Private")]
    Private,
    #[serde(alias = "Confidential")]
    Confidential,
}

/// What a caller may see or do in someone else's calendar without impersonation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DelegateRight {
    #[default]
    #[serde(alias = "None")]
    None,
    /// Free/busy times only (`FreeBusyTimeOnly`).
    #[serde(alias = "FreeBusyTimeOnly")]
    FreeBusy,
    /// Free/busy with subject and location (`FreeBusyTimeAndSubjectAndLocation`).
    #[serde(
        alias = "free-busy+subject+location",
        alias = "FreeBusyTimeAndSubjectAndLocation"
    )]
    FreeBusySubjectLocation,
    /// Read the calendar folder (`Reviewer`).
    #[serde(alias = "Reviewer")]
    Reviewer,
    /// Read and write the calendar folder (`Editor`).
    #[serde(alias = "Editor")]
    Editor,
    /// The mailbox owner, or a caller impersonating it. Not writable in world files.
    #[serde(skip_deserializing)]
    Owner,
}

/// Working hours in the mailbox zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours {
            days: weekdays(),
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

/// Stored OOF settings; [`OofSettings::active_at`] applies a Scheduled window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OofSettings {
    pub state: OofState,
    pub audience: Audience,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub internal: String,
    pub external: String,
}

impl OofSettings {
    /// Builds settings from a spec; local times are read in `tz`.
    pub fn from_spec(spec: &OofSpec, tz: Tz) -> Result<Self, String> {
        let start = spec
            .start
            .map(|w| w.to_utc(tz).ok_or("OOF start does not exist in the zone"))
            .transpose()?;
        let end = spec
            .end
            .map(|w| w.to_utc(tz).ok_or("OOF end does not exist in the zone"))
            .transpose()?;
        if spec.state == OofState::Scheduled {
            match (start, end) {
                (Some(s), Some(e)) if e > s => {}
                (Some(_), Some(_)) => return Err("OOF end is not after its start".into()),
                _ => return Err("a scheduled OOF needs `start` and `end`".into()),
            }
        }
        Ok(OofSettings {
            state: spec.state,
            audience: spec.audience,
            start,
            end,
            internal: spec.internal.clone(),
            external: spec.external.clone(),
        })
    }

    /// Whether replies are sent at `now`: Enabled, or Scheduled with `start <= now < end`.
    /// The window switches on and off as the clock crosses it; nothing is stored.
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        match self.state {
            OofState::Disabled => false,
            OofState::Enabled => true,
            OofState::Scheduled => match (self.start, self.end) {
                (Some(s), Some(e)) => s <= now && now < e,
                _ => false,
            },
        }
    }
}

/// A mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Mailbox {
    /// Position in the world; part of item ids.
    pub serial: u32,
    pub smtp: String,
    pub name: String,
    pub tz: Tz,
    pub password: Option<String>,
    pub working_hours: WorkingHours,
    pub oof: OofSettings,
    pub items: BTreeMap<u64, Arc<CalendarItem>>,
}

/// Which mailboxes an account may impersonate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Impersonation {
    #[default]
    None,
    All,
    Only(BTreeSet<String>),
}

/// A login that is not (only) a mailbox owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    pub password: String,
    pub impersonation: Impersonation,
    /// Keyed by lower-case SMTP address.
    pub delegate: BTreeMap<String, DelegateRight>,
}

/// Who is calling, after Basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The login name as configured.
    pub user: String,
    /// The caller's own mailbox (lower-case SMTP), when the login is a mailbox owner.
    pub mailbox: Option<String>,
}

/// Why a caller may not act as a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("the SMTP address {0} has no mailbox associated with it")]
    NonExistentMailbox(String),
    #[error("the account {user} does not have permission to impersonate {mailbox}")]
    ImpersonateUserDenied { user: String, mailbox: String },
}

impl AccessError {
    pub fn response_code(&self) -> &'static str {
        match self {
            AccessError::NonExistentMailbox(_) => "ErrorNonExistentMailbox",
            AccessError::ImpersonateUserDenied { .. } => "ErrorImpersonateUserDenied",
        }
    }
}

/// The whole world.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub server: ServerVersion,
    /// Keyed by lower-case SMTP address.
    pub mailboxes: BTreeMap<String, Arc<Mailbox>>,
    /// Lower-case SMTP address by mailbox serial.
    pub by_serial: Arc<Vec<String>>,
    /// Keyed by lower-case user name.
    pub accounts: Arc<BTreeMap<String, Account>>,
    /// The next item key to hand out.
    pub next_key: u64,
}

impl Default for World {
    fn default() -> Self {
        World {
            server: ServerVersion::default(),
            mailboxes: BTreeMap::new(),
            by_serial: Arc::new(Vec::new()),
            accounts: Arc::new(BTreeMap::new()),
            next_key: 1,
        }
    }
}

impl World {
    /// Builds and validates a world; `now` stamps item creation times.
    pub fn from_spec(spec: &WorldSpec, now: DateTime<Utc>) -> Result<Self, WorldError> {
        let mut world = World {
            server: spec.server,
            ..World::default()
        };
        let mut serials = Vec::with_capacity(spec.mailboxes.len());
        for (serial, mb) in spec.mailboxes.iter().enumerate() {
            let key = mb.smtp.trim().to_ascii_lowercase();
            if !key.contains('@') {
                return Err(WorldError::Mailbox {
                    mailbox: mb.smtp.clone(),
                    what: "`smtp` is not an address".into(),
                });
            }
            if world.mailboxes.contains_key(&key) {
                return Err(WorldError::DuplicateMailbox(mb.smtp.clone()));
            }
            let tz = match &mb.zone {
                Some(z) => parse_zone(z).ok_or_else(|| WorldError::UnknownZone {
                    mailbox: mb.smtp.clone(),
                    zone: z.clone(),
                })?,
                None => chrono_tz::UTC,
            };
            let working_hours = match &mb.working_hours {
                Some(w) if w.end.0 <= w.start.0 => {
                    return Err(WorldError::Mailbox {
                        mailbox: mb.smtp.clone(),
                        what: "working hours end before they start".into(),
                    });
                }
                Some(w) => WorkingHours {
                    days: w.days.clone(),
                    start: w.start.0,
                    end: w.end.0,
                },
                None => WorkingHours::default(),
            };
            let oof = match &mb.oof {
                Some(o) => OofSettings::from_spec(o, tz).map_err(|what| WorldError::Mailbox {
                    mailbox: mb.smtp.clone(),
                    what,
                })?,
                None => OofSettings::default(),
            };
            let mut items = BTreeMap::new();
            for (index, spec) in mb.calendar.iter().enumerate() {
                let key_n = world.next_key;
                world.next_key += 1;
                let item =
                    CalendarItem::from_spec(spec, key_n, &mb.smtp, tz, now).map_err(|source| {
                        WorldError::Item {
                            mailbox: mb.smtp.clone(),
                            index: index + 1,
                            subject: spec.subject.clone(),
                            source,
                        }
                    })?;
                items.insert(key_n, Arc::new(item));
            }
            let serial = u32::try_from(serial).map_err(|_| WorldError::Mailbox {
                mailbox: mb.smtp.clone(),
                what: "too many mailboxes".into(),
            })?;
            serials.push(key.clone());
            world.mailboxes.insert(
                key,
                Arc::new(Mailbox {
                    serial,
                    smtp: mb.smtp.trim().to_owned(),
                    name: mb.name.clone().unwrap_or_else(|| display_name(&mb.smtp)),
                    tz,
                    password: mb.password.clone(),
                    working_hours,
                    oof,
                    items,
                }),
            );
        }
        world.by_serial = Arc::new(serials);
        let mut accounts = BTreeMap::new();
        for acc in &spec.accounts {
            let user = acc.user.trim().to_ascii_lowercase();
            if accounts.contains_key(&user) {
                return Err(WorldError::DuplicateAccount(acc.user.clone()));
            }
            let known = |smtp: &str, what: &'static str| {
                let k = smtp.trim().to_ascii_lowercase();
                if world.mailboxes.contains_key(&k) {
                    Ok(k)
                } else {
                    Err(WorldError::UnknownMailboxRef {
                        account: acc.user.clone(),
                        what,
                        mailbox: smtp.to_owned(),
                    })
                }
            };
            let impersonation = match &acc.impersonation {
                ImpersonationSpec::None => Impersonation::None,
                ImpersonationSpec::All => Impersonation::All,
                ImpersonationSpec::Only(list) => Impersonation::Only(
                    list.iter()
                        .map(|s| known(s, "impersonation"))
                        .collect::<Result<_, _>>()?,
                ),
            };
            let delegate = acc
                .delegate
                .iter()
                .map(|(smtp, right)| Ok((known(smtp, "delegate")?, *right)))
                .collect::<Result<_, WorldError>>()?;
            accounts.insert(
                user,
                Account {
                    user: acc.user.trim().to_owned(),
                    password: acc.password.clone(),
                    impersonation,
                    delegate,
                },
            );
        }
        world.accounts = Arc::new(accounts);
        Ok(world)
    }

    pub fn mailbox(&self, smtp: &str) -> Option<&Arc<Mailbox>> {
        self.mailboxes.get(&smtp.trim().to_ascii_lowercase())
    }

    pub fn mailbox_by_serial(&self, serial: u32) -> Option<&Arc<Mailbox>> {
        let key = self.by_serial.get(usize::try_from(serial).ok()?)?;
        self.mailboxes.get(key)
    }

    /// Checks Basic-auth credentials: an account, or a mailbox with a password.
    pub fn authenticate(&self, user: &str, password: &str) -> Option<Principal> {
        let key = user.trim().to_ascii_lowercase();
        if let Some(acc) = self.accounts.get(&key) {
            return (acc.password == password).then(|| Principal {
                user: acc.user.clone(),
                mailbox: self.mailboxes.contains_key(&key).then(|| key.clone()),
            });
        }
        let mb = self.mailboxes.get(&key)?;
        (mb.password.as_deref() == Some(password)).then(|| Principal {
            user: mb.smtp.clone(),
            mailbox: Some(key),
        })
    }

    /// Resolves an `ExchangeImpersonation` header: the lower-case SMTP of the mailbox the
    /// caller now acts as.
    pub fn impersonate(&self, who: &Principal, smtp: &str) -> Result<String, AccessError> {
        let key = smtp.trim().to_ascii_lowercase();
        if !self.mailboxes.contains_key(&key) {
            return Err(AccessError::NonExistentMailbox(smtp.trim().to_owned()));
        }
        if who.mailbox.as_deref() == Some(key.as_str()) {
            return Ok(key);
        }
        let allowed = self
            .accounts
            .get(&who.user.to_ascii_lowercase())
            .is_some_and(|acc| match &acc.impersonation {
                Impersonation::None => false,
                Impersonation::All => true,
                Impersonation::Only(set) => set.contains(&key),
            });
        if allowed {
            Ok(key)
        } else {
            Err(AccessError::ImpersonateUserDenied {
                user: who.user.clone(),
                mailbox: smtp.trim().to_owned(),
            })
        }
    }

    /// The rights a caller acting as `acting_as` (itself when `None`) has on `target`.
    pub fn right(&self, who: &Principal, acting_as: Option<&str>, target: &str) -> DelegateRight {
        let target = target.trim();
        // Checked on every request: compare without building lower-case copies.
        let me = acting_as.or(who.mailbox.as_deref());
        if me.is_some_and(|me| me.eq_ignore_ascii_case(target)) {
            return DelegateRight::Owner;
        }
        let target = target.to_ascii_lowercase();
        if acting_as.is_some() {
            // Acting as another mailbox, the caller has that mailbox's rights, which the mock
            // models as free/busy only (the org default for other users).
            return DelegateRight::FreeBusy;
        }
        // Exchange's calendar "Default" permission gives every authenticated user free/busy
        // times; a world file can lower it to `none` per account and mailbox.
        self.accounts
            .get(&who.user.to_ascii_lowercase())
            .and_then(|acc| acc.delegate.get(&target).copied())
            .unwrap_or(DelegateRight::FreeBusy)
    }

    /// Number of stored calendar items (masters count once).
    pub fn item_count(&self) -> usize {
        self.mailboxes.values().map(|m| m.items.len()).sum()
    }
}

fn display_name(smtp: &str) -> String {
    let local = smtp.split('@').next().unwrap_or(smtp);
    local
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::WorldSpec;
    use chrono::TimeZone;

    const WORLD: &str = r#"
server: 2016
mailboxes:
  - smtp: Alice.Smith@contoso.com
    zone: W. Europe Standard Time
    password: alice-pw
    oof: { state: scheduled, start: 2026-03-10 00:00, end: 2026-03-12 00:00, internal: away }
  - smtp: bob@contoso.com
accounts:
  - user: svc-sync
    password: s3cret
    impersonation: [alice.smith@contoso.com]
    delegate: { bob@contoso.com: reviewer }
  - user: svc-all
    password: x
    impersonation: all
"#;

    fn world() -> World {
        let spec = WorldSpec::from_yaml(WORLD, "t.yaml").unwrap();
        World::from_spec(&spec, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()).unwrap()
    }

    #[test]
    fn loads_mailboxes_accounts_and_profile() {
        let w = world();
        assert_eq!(w.server, ServerVersion::Exchange2016);
        let alice = w.mailbox("ALICE.smith@contoso.com").unwrap();
        assert_eq!(alice.name, "Alice Smith");
        assert_eq!(alice.tz, chrono_tz::Europe::Berlin);
        assert_eq!(w.mailbox_by_serial(1).unwrap().smtp, "bob@contoso.com");
        assert_eq!(ServerVersion::default().info().major_build, 181);
    }

    #[test]
    fn scheduled_oof_follows_the_clock() {
        let w = world();
        let oof = &w.mailbox("alice.smith@contoso.com").unwrap().oof;
        let at = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        assert!(
            !oof.active_at(at(9, 22)),
            "before: Berlin midnight is 23:00 UTC"
        );
        assert!(oof.active_at(at(9, 23)));
        assert!(oof.active_at(at(11, 22)));
        assert!(!oof.active_at(at(11, 23)), "end is exclusive");
    }

    #[test]
    fn authentication_and_impersonation() {
        let w = world();
        assert!(w.authenticate("svc-sync", "wrong").is_none());
        assert!(w.authenticate("nobody", "x").is_none());
        let svc = w.authenticate("SVC-SYNC", "s3cret").unwrap();
        assert_eq!(
            w.impersonate(&svc, "alice.smith@contoso.com"),
            Ok("alice.smith@contoso.com".into())
        );
        assert_eq!(
            w.impersonate(&svc, "bob@contoso.com")
                .unwrap_err()
                .response_code(),
            "ErrorImpersonateUserDenied"
        );
        assert_eq!(
            w.impersonate(&svc, "ghost@contoso.com")
                .unwrap_err()
                .response_code(),
            "ErrorNonExistentMailbox"
        );
        let all = w.authenticate("svc-all", "x").unwrap();
        assert!(w.impersonate(&all, "bob@contoso.com").is_ok());
        let alice = w
            .authenticate("alice.smith@contoso.com", "alice-pw")
            .unwrap();
        assert_eq!(
            w.right(&alice, None, "alice.smith@contoso.com"),
            DelegateRight::Owner
        );
        assert_eq!(
            w.right(&alice, None, "bob@contoso.com"),
            DelegateRight::FreeBusy
        );
        assert_eq!(
            w.right(&svc, None, "bob@contoso.com"),
            DelegateRight::Reviewer
        );
        assert_eq!(
            w.right(&all, None, "bob@contoso.com"),
            DelegateRight::FreeBusy,
            "org default"
        );
        assert_eq!(
            w.right(
                &svc,
                Some("alice.smith@contoso.com"),
                "alice.smith@contoso.com"
            ),
            DelegateRight::Owner
        );
    }

    #[test]
    fn bad_references_are_named() {
        let bad = "mailboxes: [{ smtp: a@x }]\naccounts: [{ user: s, password: p, delegate: { b@x: editor } }]\n";
        let spec = WorldSpec::from_yaml(bad, "t.yaml").unwrap();
        let err = World::from_spec(&spec, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("b@x"), "{err}");
        let dup = "mailboxes: [{ smtp: a@x }, { smtp: A@X }]\n";
        let spec = WorldSpec::from_yaml(dup, "t.yaml").unwrap();
        assert!(
            World::from_spec(&spec, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()).is_err()
        );
    }
}
