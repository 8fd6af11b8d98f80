//! `tonghop feedback`: what each unit must correct, as a small workbook to mail it. For
//! every unit of the definition's `[feedback] level` (a district), the findings of its
//! own returns and its units' (missing returns, rejected files and why, every finding at
//! its cell with the fix the definition gives); and for every sender with an error, its
//! own. The sheets, their words and columns are the definition's, drawn and set up for A4
//! like the consolidated workbook.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use polars::prelude::DataFrame;

use super::{up_to_merge, RunOptions, UpToMerge};
use crate::definition::{Plan, Severity};
use crate::error::Error;
use crate::model::Period;
use crate::project::Identity;
use crate::registry::{Hierarchy, Unit};
use crate::report::{self, ReportInput};
use crate::store;

/// The workbooks written for one period.
#[derive(Debug)]
pub struct FeedbackWritten {
    pub period: Period,
    /// Each unit's code and name, and its workbook.
    pub files: Vec<(String, String, PathBuf)>,
}

impl FeedbackWritten {
    /// What a person reads after the command.
    pub fn text(&self) -> String {
        let mut out = format!("tonghop feedback: {} workbook(s) for {}\n", self.files.len(), self.period);
        for (code, name, path) in &self.files {
            out.push_str(&format!("  {code:<8} {name}: {}\n", path.display()));
        }
        out
    }
}

/// Write the feedback workbooks of the period `opts` names (the newest by default) into
/// `dest` (default `OUT/feedback/<period>/`), after bringing the period up to merge.
pub fn feedback(plan: &Plan, opts: &RunOptions, dest: Option<&Path>) -> Result<FeedbackWritten, Error> {
    let Some(spec) = &plan.feedback else {
        return Err(anyhow::anyhow!("the pipeline has no [feedback] section (docs/definition.md)").into());
    };
    let UpToMerge { period, merged, hierarchy, .. } = up_to_merge(plan, opts)?;
    let dest = dest.map_or_else(|| opts.out.join("feedback").join(period.to_string()), Path::to_path_buf);
    let top = hierarchy.units.iter().find(|u| u.parent.is_empty()).map_or("", |u| u.name.as_str());
    let identity = opts.identity.clone().unwrap_or_else(|| Identity::of_top_unit(top));
    let today = opts.date.unwrap_or_else(|| chrono::Local::now().date_naive());

    let senders: HashSet<&str> = plan.returns.iter().flat_map(|r| r.senders.iter().map(String::as_str)).collect();
    let with_errors: HashSet<&str> =
        merged.findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.unit.as_str()).collect();
    let mut recipients: Vec<&Unit> = hierarchy.of_kind(&spec.level).collect();
    recipients.extend(hierarchy.units.iter().filter(|u| {
        senders.contains(u.kind.as_str()) && u.kind != spec.level && with_errors.contains(u.code.as_str())
    }));

    let mut written = Vec::new();
    for unit in recipients {
        let under = within(&hierarchy, unit);
        let findings: Vec<_> = merged.findings.iter().filter(|f| under.contains(f.unit.as_str())).cloned().collect();
        let completeness: Vec<_> =
            merged.completeness.iter().filter(|e| under.contains(e.unit.as_str())).cloned().collect();
        let files: Vec<_> = merged.files.iter().filter(|f| under.contains(f.unit.as_str())).cloned().collect();
        let mut identity = identity.clone();
        if !spec.recipients.is_empty() {
            identity.recipients = spec.recipients.iter().map(|r| r.replace("{name}", &unit.name)).collect();
        }
        let mut paper = plan.clone();
        paper.workbook.sheets = spec.sheets.clone();
        for sheet in &mut paper.workbook.sheets {
            sheet.title = sheet
                .title
                .as_ref()
                .map(|t| t.replace("{name}", &unit.name).replace("{NAME}", &unit.name.to_uppercase()));
        }
        let input = ReportInput {
            plan: &paper,
            identity: &identity,
            hierarchy: &hierarchy,
            period,
            figures: &DataFrame::empty(),
            tables: &merged.tables,
            findings: &findings,
            completeness: &completeness,
            files: &files,
            inputs: &[],
            run_time: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            today,
        };
        let bytes = report::render(&input).with_context(|| format!("the feedback of {}", unit.name))?;
        let name = spec.file.replace("{period}", &period.to_string()).replace("{code}", &unit.code);
        let path = dest.join(name);
        store::write_atomic(&path, &bytes)?;
        written.push((unit.code.clone(), unit.name.clone(), path));
    }
    Ok(FeedbackWritten { period, files: written })
}

/// The codes of `unit` and of every unit under it.
fn within<'a>(hierarchy: &'a Hierarchy, unit: &Unit) -> HashSet<&'a str> {
    let under = hierarchy.units.iter().filter(|u| hierarchy.ancestors(&u.code).iter().any(|a| a.code == unit.code));
    under.map(|u| u.code.as_str()).collect()
}
