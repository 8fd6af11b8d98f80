//! The contract between the stages: what one stage hands the next, and the words they
//! share for it.
//!
//! A stage reads a `Batch` (the files of a period, their rows per table, where each field
//! was found, the findings so far, who was expected to report) and writes one; the store
//! saves and loads batches knowing nothing else. Statuses, severities, finding codes and
//! stages are enums whose serde spellings are the artifacts' words.

mod batch;
mod completeness;
mod finding;
pub mod frame;
mod references;
mod stage;

pub use batch::{Batch, FileRecord, FileStatus, Placement};
pub use completeness::{status_text, tally_by_group, Expectation, ReturnStatus, Tally};
pub use finding::{name_units, Finding, FindingBuilder, FindingCode, FINDINGS_SCHEMA};
pub use references::References;
pub use stage::{Stage, StageOutcome, StageRun};

pub use crate::definition::Severity;
pub use crate::period::{Period, PeriodKind};
