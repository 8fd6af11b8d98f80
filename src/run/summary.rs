//! What a run did, for people and for scripts (`--json`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Batch, FileStatus, Finding, Period, ReturnStatus, Severity, StageOutcome, StageRun};

/// What `tonghop run --json` prints for a period (`tonghop.summary/1`; docs/json.md has
/// every field).
#[derive(Debug, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub pipeline: String,
    pub period: String,
    /// 0: consolidated, no error; 1: consolidated, but returns were rejected or are missing.
    pub exit_code: u8,
    pub files: FileCounts,
    pub rows: RowCounts,
    /// Findings by severity (`error`, `warning`, `info`).
    pub findings: BTreeMap<String, usize>,
    pub returns_missing: usize,
    pub stages: Vec<StageRun>,
    /// The files this run wrote.
    pub outputs: Vec<String>,
    /// The files a run before wrote that stand as they are: the report was unchanged.
    pub kept: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct FileCounts {
    pub read: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub superseded: usize,
    pub ignored: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

impl Summary {
    /// The summary of a period from what its last stage knows: the files and rows of
    /// `merged`, its findings and the references' (`more`).
    pub(crate) fn of(
        pipeline: &str,
        period: Period,
        merged: &Batch,
        more: &[Finding],
        stages: Vec<StageRun>,
        outputs: Vec<String>,
    ) -> Summary {
        let mut files = FileCounts::default();
        let mut rows = RowCounts::default();
        for f in &merged.files {
            files.read += 1;
            *match f.status {
                FileStatus::Accepted => &mut files.accepted,
                FileStatus::Rejected => &mut files.rejected,
                FileStatus::Superseded => &mut files.superseded,
                FileStatus::Ignored => &mut files.ignored,
            } += 1;
            rows.read += f.rows_read as u64;
            rows.accepted += f.rows_accepted as u64;
            rows.rejected += f.rows_rejected as u64;
        }
        let mut findings: BTreeMap<String, usize> =
            [Severity::Error, Severity::Warning, Severity::Info].iter().map(|s| (s.as_str().to_string(), 0)).collect();
        for f in merged.findings.iter().chain(more) {
            *findings.entry(f.severity.as_str().to_string()).or_default() += 1;
        }
        let returns_missing = merged.completeness.iter().filter(|e| e.status == ReturnStatus::Missing).count();
        let rejected_anything = files.rejected > 0 || files.ignored > 0 || rows.rejected > 0;
        let exit_code = u8::from(rejected_anything || returns_missing > 0);
        Summary {
            schema: "tonghop.summary/1",
            pipeline: pipeline.to_string(),
            period: period.to_string(),
            exit_code,
            files,
            rows,
            findings,
            returns_missing,
            stages,
            outputs,
            kept: Vec::new(),
        }
    }

    /// The short text people read after a run.
    pub fn human(&self) -> String {
        let mut lines = vec![format!("tonghop: {} {}", self.pipeline, self.period)];
        let f = &self.files;
        lines.push(format!(
            "  files: {} read, {} accepted, {} rejected, {} superseded, {} not returns",
            f.read, f.accepted, f.rejected, f.superseded, f.ignored
        ));
        let r = &self.rows;
        lines.push(format!("  rows:  {} read = {} accepted + {} rejected", r.read, r.accepted, r.rejected));
        let n = |k: &str| self.findings.get(k).copied().unwrap_or(0);
        lines.push(format!(
            "  findings: {} errors, {} warnings, {} info; {} returns missing",
            n("error"),
            n("warning"),
            n("info"),
            self.returns_missing
        ));
        let count = |outcome| self.stages.iter().filter(|s| s.outcome == outcome).count();
        let (ran, unchanged, unselected) =
            (count(StageOutcome::Ran), count(StageOutcome::Unchanged), count(StageOutcome::NotSelected));
        lines.push(format!("  stages: {ran} ran"));
        if unchanged > 0 {
            lines.push(format!("  {unchanged} stage(s) unchanged since they ran, not redone (--force redoes them)"));
        }
        if unselected > 0 {
            lines.push(format!("  {unselected} stage(s) before the selection, checked up to date and used"));
        }
        for o in &self.outputs {
            lines.push(format!("  wrote {o}"));
        }
        for o in self.kept.iter().filter(|o| o.ends_with(".xlsx")) {
            lines.push(format!("  unchanged: {o} (its figures, date and board are as when it was drawn)"));
        }
        match (self.exit_code, self.outputs.is_empty() && self.kept.is_empty()) {
            (1, false) => lines.push("  some returns were rejected or are missing: the workbook lists them".into()),
            (1, true) => lines.push("  some returns were rejected or are missing: tonghop status lists them".into()),
            _ => {}
        }
        lines.join("\n")
    }
}
