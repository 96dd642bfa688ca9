//! Importers, one module per source format.

pub mod attachments;
pub mod disqus;
pub mod html;
pub mod wordpress;
pub mod wxr;

use std::collections::BTreeMap;
use std::fmt;

/// How an import treats what it finds (`broadsheet import wordpress` flags).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Roll everything back at the end and report what would have happened.
    pub dry_run: bool,
    /// Replace rows edited in broadsheet since their last import (recording a
    /// revision and bumping the version) instead of listing them as conflicts.
    pub overwrite: bool,
}

/// Where a long import reports how far it got, phase by phase (the CLI draws
/// a progress bar on a terminal and prints plain lines otherwise).
pub trait Progress {
    /// A phase of `total` steps begins (`writing`: one step per record read).
    fn phase(&mut self, name: &'static str, total: u64);
    /// `n` more steps of the current phase are done.
    fn advance(&mut self, n: u64);
    /// The last phase is over.
    fn finish(&mut self) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&mut self, _name: &'static str, _total: u64) {}
    fn advance(&mut self, _n: u64) {}
}

/// What an import did, by record kind (`articles`, `authors`, `media`, …).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Rows created, by kind.
    pub created: BTreeMap<&'static str, usize>,
    /// Existing rows (from an earlier import) updated, by kind.
    pub updated: BTreeMap<&'static str, usize>,
    /// Existing rows that the export does not change, by kind.
    pub unchanged: BTreeMap<&'static str, usize>,
    /// Rows edited in broadsheet since their last import, kept as they are
    /// (one line each); `--overwrite` replaces them instead.
    pub conflicts: Vec<String>,
    /// Entries not imported, by reason (`menu items`, `trashed posts`, `bad entries`, …).
    pub skipped: BTreeMap<String, usize>,
    /// One line per problem that did not stop the import.
    pub warnings: Vec<String>,
    /// Whether everything was rolled back at the end (`--dry-run`).
    pub dry_run: bool,
}

impl Summary {
    pub(crate) fn saved(&mut self, kind: &'static str, created: bool) {
        let map = if created { &mut self.created } else { &mut self.updated };
        *map.entry(kind).or_default() += 1;
    }

    pub(crate) fn unchanged(&mut self, kind: &'static str) {
        *self.unchanged.entry(kind).or_default() += 1;
    }

    pub(crate) fn conflict(&mut self, message: impl Into<String>) {
        self.conflicts.push(message.into());
    }

    pub(crate) fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    pub(crate) fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |m: &BTreeMap<&'static str, usize>| {
            if m.is_empty() {
                "nothing".to_owned()
            } else {
                m.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
            }
        };
        if self.dry_run {
            writeln!(f, "dry run: nothing was written")?;
        }
        writeln!(f, "created: {}", list(&self.created))?;
        writeln!(f, "updated: {}", list(&self.updated))?;
        writeln!(f, "unchanged: {}", list(&self.unchanged))?;
        let skipped = if self.skipped.is_empty() {
            "nothing".to_owned()
        } else {
            self.skipped.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        };
        writeln!(f, "skipped: {skipped}")?;
        writeln!(f, "conflicts: {}", self.conflicts.len())?;
        for c in &self.conflicts {
            writeln!(f, "  - {c}")?;
        }
        writeln!(f, "warnings: {}", self.warnings.len())?;
        for w in &self.warnings {
            writeln!(f, "  - {w}")?;
        }
        Ok(())
    }
}
