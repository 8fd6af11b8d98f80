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
pub(crate) mod frame;
mod history;
mod references;
mod stage;

pub(crate) use batch::{Batch, FieldCells, FileRecord, FileStatus, Placement, TableSchemas, TitleLine};
pub(crate) use completeness::{status_json, status_text, tally_by_group, Expectation, ReturnStatus, Tally, Timeliness};
pub use completeness::{GroupCounts, NotAccepted, StatusJson};
pub use finding::unknown_keys;
pub(crate) use finding::{name_units, Finding, FindingBuilder, FindingCode, FINDINGS_SCHEMA};
pub(crate) use history::History;
pub(crate) use references::{LastYear, References};
pub use stage::{Stage, StageOutcome, StageRun};

pub(crate) use crate::definition::Severity;
pub use crate::period::{Period, PeriodKind};
