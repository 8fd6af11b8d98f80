//! The five stages and what became of each in a run.

use serde::{Deserialize, Serialize};

use super::Period;

/// The five stages, in order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Stage {
    Ingest,
    Validate,
    Merge,
    Aggregate,
    Report,
}

impl Stage {
    /// The stage's name in folders, manifests and logs.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// What became of a stage in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageOutcome {
    Ran,
    /// Its inputs had not changed since it ran: its artifacts were used.
    Unchanged,
    /// Before the stages selected (`--from`, `--only`): checked unchanged and used.
    NotSelected,
}

/// One stage of one period in a run, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct StageRun {
    #[serde(serialize_with = "display")]
    pub period: Period,
    pub stage: Stage,
    pub outcome: StageOutcome,
}

/// Serialize a value by its `Display` (a period as `2023-10`).
fn display<T: std::fmt::Display, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}
