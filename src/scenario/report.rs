//! The outcome of playing one scenario file, for people (`ews-kit play`) and for tests.

use std::fmt;

use chrono::{DateTime, Utc};

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// 1-based position of the step in the file.
    pub step: usize,
    /// The step's line in the file.
    pub line: u64,
    /// The virtual time when it was checked.
    pub at: DateTime<Utc>,
    /// What was checked, e.g. `presence of kim@contoso.com`.
    pub what: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} (line {}, at {}): {}\n      expected: {}\n      actual:   {}",
            self.step,
            self.line,
            self.at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.what,
            self.expected,
            self.actual.replace('\n', "\n                "),
        )
    }
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// Some did not.
    Failed(Vec<StepFailure>),
    /// Failed, but the file declares a `known_issue`: reported, not a failure.
    KnownIssue {
        issue: String,
        failures: Vec<StepFailure>,
    },
    /// The file declares a `known_issue` but every expectation held: the bug is fixed and
    /// the marker should go. Reported loudly but not a failure: the fix usually lands from
    /// another crate, whose own checks do not play scenarios, and must not break main.
    KnownIssueFixed { issue: String },
    /// The scenario could not be played (bad file, mock would not start, an action failed).
    Error(String),
}

/// The report of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub name: String,
    pub origin: String,
    pub outcome: Outcome,
    /// Steps played.
    pub steps: usize,
    /// Expectations checked.
    pub checks: usize,
    /// Virtual time covered, from the world's `now` to the last step.
    pub virtual_start: Option<DateTime<Utc>>,
    pub virtual_end: Option<DateTime<Utc>>,
}

impl Report {
    /// Whether this outcome lets a test run (and `ews-kit play`) succeed.
    pub fn ok(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Passed | Outcome::KnownIssue { .. } | Outcome::KnownIssueFixed { .. }
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = match (self.virtual_start, self.virtual_end) {
            (Some(a), Some(b)) => {
                let d = b - a;
                format!(
                    ", {}d {:02}h{:02}m virtual",
                    d.num_days(),
                    d.num_hours() % 24,
                    d.num_minutes() % 60
                )
            }
            _ => String::new(),
        };
        let head = |f: &mut fmt::Formatter<'_>, verdict: &str| {
            writeln!(
                f,
                "{verdict} {} ({}): {} steps, {} checks{span}",
                self.name, self.origin, self.steps, self.checks
            )
        };
        match &self.outcome {
            Outcome::Passed => head(f, "PASS"),
            Outcome::Failed(failures) => {
                head(f, "FAIL")?;
                for x in failures {
                    writeln!(f, "   {x}")?;
                }
                Ok(())
            }
            Outcome::KnownIssue { issue, failures } => {
                head(f, "KNOWN")?;
                writeln!(f, "   known issue: {issue}")?;
                for x in failures {
                    writeln!(f, "   {x}")?;
                }
                Ok(())
            }
            Outcome::KnownIssueFixed { issue } => {
                head(f, "FIXED")?;
                writeln!(
                    f,
                    "   every expectation holds although the file declares the known issue \
                     \"{issue}\": remove `known_issue`"
                )
            }
            Outcome::Error(e) => {
                head(f, "ERROR")?;
                writeln!(f, "   {e}")
            }
        }
    }
}
