//! Fault injection: throttling, server errors, HTTP 503, delays and broken transports, by
//! schedule (the next N matching requests) or by a seeded rate.
//!
//! Rules are checked in the order they were added after a request is authenticated and
//! parsed and before it touches the store, so an injected fault never changes state.
//!
//! JSON / YAML form (control API `POST /mock/faults`, builder `.fault(...)`):
//!
//! ```json
//! { "fault": { "kind": "serverBusy", "backOffMs": 5000, "form": "fault" },
//!   "operation": "FindItem", "mailbox": "alice@contoso.com", "times": 2 }
//! { "fault": { "kind": "unavailable", "retryAfterS": 30 }, "rate": 0.1, "seed": 7 }
//! ```
//!
//! `kind` is `serverBusy` (`form` `fault` = HTTP 500 SOAP fault, `message` = HTTP 200
//! per-message error; both carry BackOffMilliseconds), `tooManyObjectsOpened`,
//! `internalServerError` (optional `innerCode`), `timeoutExpired`, `unavailable` (HTTP 503
//! with Retry-After), `delay` (`ms`, then the normal answer), `connectionReset`,
//! `emptyReply`, `truncatedBody`. Without `times` or `rate` a rule fires on every match.

use serde::{Deserialize, Serialize};

use crate::rule::{Active, RuleSpec, Rules};

/// How ErrorServerBusy is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BusyForm {
    /// HTTP 500 SOAP fault with `t:MessageXml` (the front-door form).
    #[default]
    Fault,
    /// HTTP 200 with an error response message and `m:MessageXml` (Exchange Online form).
    Message,
}

fn default_backoff() -> u64 {
    5000
}

fn default_retry_after() -> u64 {
    30
}

/// What to inject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum FaultKind {
    ServerBusy {
        #[serde(default = "default_backoff")]
        back_off_ms: u64,
        #[serde(default)]
        form: BusyForm,
    },
    TooManyObjectsOpened,
    InternalServerError {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inner_code: Option<String>,
    },
    TimeoutExpired,
    /// HTTP 503 with `Retry-After` seconds.
    Unavailable {
        #[serde(default = "default_retry_after")]
        retry_after_s: u64,
    },
    /// Answer normally after this many (real) milliseconds.
    Delay {
        ms: u64,
    },
    /// Close the connection with a TCP reset instead of answering.
    ConnectionReset,
    /// Close the connection without sending a byte.
    EmptyReply,
    /// Send the headers and half of the body, then close.
    TruncatedBody,
}

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    pub fault: FaultKind,
    /// Operation to match (`FindItem`; the `...Request` suffix is optional); any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Mailbox to match (impersonated, X-AnchorMailbox, or the caller's own); any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    /// Fire on the next N matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Fire on each matching request with this probability (0..=1), from `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl FaultSpec {
    /// A rule firing on the next `times` requests of any operation.
    pub fn next(fault: FaultKind, times: u32) -> Self {
        FaultSpec {
            fault,
            operation: None,
            mailbox: None,
            times: Some(times),
            rate: None,
            seed: None,
        }
    }

    pub fn for_operation(mut self, op: impl Into<String>) -> Self {
        self.operation = Some(op.into());
        self
    }

    pub fn for_mailbox(mut self, smtp: impl Into<String>) -> Self {
        self.mailbox = Some(smtp.into());
        self
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(r) = self.rate
            && !(0.0..=1.0).contains(&r)
        {
            return Err(format!("rate {r} is not between 0 and 1"));
        }
        if self.times.is_some() && self.rate.is_some() {
            return Err("give `times` or `rate`, not both".into());
        }
        Ok(())
    }
}

/// A rule as installed, with what is left of it.
pub type ActiveFault = Active<FaultSpec>;

impl RuleSpec for FaultSpec {
    type Fault = FaultKind;
    fn fault(&self) -> &FaultKind {
        &self.fault
    }
    fn times_mut(&mut self) -> &mut Option<u32> {
        &mut self.times
    }
    fn rate(&self) -> Option<f64> {
        self.rate
    }
    fn seed(&self) -> Option<u64> {
        self.seed
    }
}

/// The installed rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Rules<FaultSpec>,
}

fn op_matches(rule: &str, op: &str) -> bool {
    let strip = |s: &str| s.trim().trim_end_matches("Request").to_ascii_lowercase();
    strip(rule) == strip(op)
}

impl Faults {
    /// Installs a rule; returns its id.
    pub fn add(&self, spec: FaultSpec) -> Result<u64, String> {
        spec.validate()?;
        Ok(self.rules.insert(spec))
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.rules.list()
    }

    pub fn remove(&self, id: u64) -> bool {
        self.rules.remove(id)
    }

    pub fn clear(&self) {
        self.rules.clear();
    }

    /// The fault to inject for this request, if any; consumes scheduled counts.
    pub fn check(&self, operation: &str, mailbox: Option<&str>) -> Option<FaultKind> {
        self.rules.fire(|spec| {
            spec.operation
                .as_deref()
                .is_none_or(|o| op_matches(o, operation))
                && spec.mailbox.as_deref().is_none_or(|m| {
                    mailbox.is_some_and(|x| x.trim().eq_ignore_ascii_case(m.trim()))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> FaultKind {
        FaultKind::ServerBusy {
            back_off_ms: 100,
            form: BusyForm::Fault,
        }
    }

    #[test]
    fn scheduled_rules_fire_n_times_for_matching_requests() {
        let f = Faults::default();
        f.add(
            FaultSpec::next(busy(), 2)
                .for_operation("FindItem")
                .for_mailbox("a@x"),
        )
        .unwrap();
        assert_eq!(f.check("GetItem", Some("a@x")), None);
        assert_eq!(f.check("FindItem", Some("b@x")), None);
        assert_eq!(f.check("FindItem", None), None);
        assert_eq!(f.check("FindItem", Some("A@X")), Some(busy()));
        assert_eq!(f.check("finditem", Some("a@x")), Some(busy()));
        assert_eq!(f.check("FindItem", Some("a@x")), None);
        assert_eq!(f.list()[0].fired, 2);
    }

    #[test]
    fn request_suffix_is_optional() {
        let f = Faults::default();
        f.add(FaultSpec::next(FaultKind::TimeoutExpired, 1).for_operation("GetUserOofSettings"))
            .unwrap();
        assert!(f.check("GetUserOofSettingsRequest", None).is_some());
    }

    #[test]
    fn seeded_rates_are_reproducible_and_about_right() {
        let run = |seed| {
            let f = Faults::default();
            f.add(FaultSpec {
                rate: Some(0.25),
                seed: Some(seed),
                times: None,
                ..FaultSpec::next(FaultKind::EmptyReply, 0)
            })
            .unwrap();
            (0..4000)
                .map(|_| f.check("GetItem", None).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|h| **h).count();
        assert!((850..1150).contains(&hits), "{hits} of 4000 at 25%");
    }

    #[test]
    fn bad_rules_are_refused_and_parse_from_json() {
        let f = Faults::default();
        let mut spec = FaultSpec::next(busy(), 1);
        spec.rate = Some(0.5);
        assert!(f.add(spec).is_err());
        let spec: FaultSpec = serde_json::from_str(
            r#"{"fault":{"kind":"unavailable","retryAfterS":12},"operation":"FindItem","times":1}"#,
        )
        .unwrap();
        assert_eq!(spec.fault, FaultKind::Unavailable { retry_after_s: 12 });
        let spec: FaultSpec =
            serde_json::from_str(r#"{"fault":{"kind":"serverBusy","form":"message"}}"#).unwrap();
        assert_eq!(
            spec.fault,
            FaultKind::ServerBusy {
                back_off_ms: 5000,
                form: BusyForm::Message
            }
        );
        assert!(serde_json::from_str::<FaultSpec>(r#"{"fault":{"kind":"meteor"}}"#).is_err());
    }
}
