//! Scenario files: a world, an engine configuration and a timeline of steps with
//! expectations, played end to end against a real `mock-ews` and a real `sync-engine` on one
//! virtual clock. `scenarios/README.md` documents the format with examples.
//!
//! - [`format`]: the file as written (serde types) and parsing with file:line:column errors.
//! - [`ics`]: the iCalendar reader behind `import_ics`.
//! - [`player`]: runs a scenario under a paused tokio runtime and reports every step.
//! - [`report`]: the outcome of one file, readable by people (`ews-kit play`) and tests.

pub mod format;
pub mod ics;
pub mod player;
pub mod report;

pub use format::{Scenario, ScenarioError};
pub use player::{play_file, play_scenario};
pub use report::{Outcome, Report, StepFailure};

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why `play_paths` could not run.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error("{path}: {source}")]
    List {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("no scenario files (*.yaml) under {0}")]
    Empty(String),
    #[error("cannot write the report: {0}")]
    Write(#[source] io::Error),
}

/// The scenario files named by `paths`: files as given, directories searched recursively
/// for `*.yaml` / `*.yml` (skipping `worlds/` directories, which hold plain world files), in
/// name order.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PlayError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            collect(p, &mut found)?;
            if found.is_empty() {
                return Err(PlayError::Empty(p.display().to_string()));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PlayError> {
    let list = |source| PlayError::List {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(list)? {
        let path = entry.map_err(list)?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "worlds") {
                collect(&path, out)?;
            }
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Plays every scenario named by `paths`, writes each report and a summary to `out`, and
/// returns whether all passed (known issues count as passed, see [`Report::ok`]).
pub fn play_paths(paths: &[PathBuf], out: &mut impl Write) -> Result<bool, PlayError> {
    let files = scenario_files(paths)?;
    // Monotonic time for the summary only; the scenarios themselves run on virtual time.
    let started = std::time::Instant::now();
    let (mut passed, mut known, mut fixed, mut failed) = (0, 0, 0, 0);
    let mut virtual_secs = 0i64;
    for f in &files {
        let report = play_file(f);
        write!(out, "{report}").map_err(PlayError::Write)?;
        match &report.outcome {
            Outcome::Passed => passed += 1,
            Outcome::KnownIssue { .. } => known += 1,
            Outcome::KnownIssueFixed { .. } => fixed += 1,
            _ => failed += 1,
        }
        if let (Some(a), Some(b)) = (report.virtual_start, report.virtual_end) {
            virtual_secs += (b - a).num_seconds();
        }
    }
    writeln!(
        out,
        "\n{} scenarios: {passed} passed, {known} known issues, {fixed} fixed known issues, \
         {failed} failed \
         ({:.1} virtual days in {:.2} s)",
        files.len(),
        virtual_secs as f64 / 86_400.0,
        started.elapsed().as_secs_f64()
    )
    .map_err(PlayError::Write)?;
    Ok(failed == 0)
}
