//! The rule registry that request faults ([`crate::Faults`]) and notification faults
//! ([`crate::NotifyFaults`]) share.
//!
//! A rule fires on the next N matches (`times`), on each match with a seeded probability
//! (`rate`, reproducible from `seed`), or, with neither, on every match. Rules are tried in
//! the order they were added and the first that fires wins, so a scenario can stack a
//! one-off fault on top of a background rate. What a rule matches (an operation and mailbox,
//! a notification channel and mailbox) is the caller's business: [`Rules::fire`] takes it as
//! a predicate.

use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// What the registry needs of a rule.
pub(crate) trait RuleSpec: Clone {
    /// What the rule injects when it fires.
    type Fault: Clone;

    fn fault(&self) -> &Self::Fault;
    /// Matches left before the rule stops firing; `None`: no count.
    fn times_mut(&mut self) -> &mut Option<u32>;
    /// Probability of firing on each match; only used without a count.
    fn rate(&self) -> Option<f64>;
    fn seed(&self) -> Option<u64>;
}

/// A rule as installed, with what is left of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Active<S> {
    pub id: u64,
    pub spec: S,
    /// How often it fired.
    pub fired: u64,
    #[serde(skip)]
    rng: u64,
}

/// The installed rules, in the order they were added.
#[derive(Debug)]
pub(crate) struct Rules<S> {
    /// The last id handed out, and the rules.
    inner: Mutex<(u64, Vec<Active<S>>)>,
}

impl<S> Default for Rules<S> {
    fn default() -> Self {
        Rules {
            inner: Mutex::new((0, Vec::new())),
        }
    }
}

impl<S: RuleSpec> Rules<S> {
    fn lock(&self) -> MutexGuard<'_, (u64, Vec<Active<S>>)> {
        // A panic elsewhere while holding the lock leaves the rules consistent (every
        // mutation below is a single step), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs a rule (the caller has validated it); returns its id. Without a seed, the
    /// id seeds the rule's random sequence, so a fresh world replays the same faults.
    pub(crate) fn insert(&self, spec: S) -> u64 {
        let mut g = self.lock();
        g.0 += 1;
        let id = g.0;
        let rng = spec.seed().unwrap_or(id);
        g.1.push(Active {
            id,
            spec,
            fired: 0,
            rng,
        });
        id
    }

    pub(crate) fn list(&self) -> Vec<Active<S>> {
        self.lock().1.clone()
    }

    /// Removes a rule; false if there was none with this id.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut g = self.lock();
        let before = g.1.len();
        g.1.retain(|f| f.id != id);
        g.1.len() != before
    }

    pub(crate) fn clear(&self) {
        self.lock().1.clear();
    }

    /// The fault of the first rule that `matches` and fires now, if any; consumes counts
    /// and advances the random sequences of the rules it tries.
    pub(crate) fn fire(&self, matches: impl Fn(&S) -> bool) -> Option<S::Fault> {
        let mut g = self.lock();
        for f in g.1.iter_mut() {
            if !matches(&f.spec) {
                continue;
            }
            let rate = f.spec.rate();
            let fire = match f.spec.times_mut() {
                Some(0) => false,
                Some(n) => {
                    *n -= 1;
                    true
                }
                None => rate.is_none_or(|rate| next_random(&mut f.rng) < rate),
            };
            if fire {
                f.fired += 1;
                return Some(f.spec.fault().clone());
            }
        }
        None
    }
}

/// splitmix64: small, seedable, good enough to spread faults.
pub(crate) fn next_random(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // 53 random bits into [0, 1).
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Spec {
        name: &'static str,
        times: Option<u32>,
        rate: Option<f64>,
    }

    impl RuleSpec for Spec {
        type Fault = &'static str;
        fn fault(&self) -> &&'static str {
            &self.name
        }
        fn times_mut(&mut self) -> &mut Option<u32> {
            &mut self.times
        }
        fn rate(&self) -> Option<f64> {
            self.rate
        }
        fn seed(&self) -> Option<u64> {
            None
        }
    }

    fn spec(name: &'static str, times: Option<u32>, rate: Option<f64>) -> Spec {
        Spec { name, times, rate }
    }

    #[test]
    fn the_first_rule_that_fires_wins_and_counts_run_out() {
        let rules = Rules::default();
        let once = rules.insert(spec("once", Some(1), None));
        rules.insert(spec("always", None, None));
        assert_eq!(rules.fire(|_| true), Some("once"));
        assert_eq!(rules.fire(|_| true), Some("always"));
        assert_eq!(rules.fire(|s| s.name == "once"), None);
        let fired: Vec<u64> = rules.list().iter().map(|a| a.fired).collect();
        assert_eq!(fired, [1, 1]);
        assert!(rules.remove(once));
        assert!(!rules.remove(once));
        rules.clear();
        assert_eq!(rules.fire(|_| true), None);
    }

    #[test]
    fn a_rate_never_fires_at_zero_and_always_at_one() {
        let rules = Rules::default();
        rules.insert(spec("never", None, Some(0.0)));
        rules.insert(spec("always", None, Some(1.0)));
        for _ in 0..100 {
            assert_eq!(rules.fire(|_| true), Some("always"));
        }
    }
}
