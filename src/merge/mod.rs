//! Stage 3, merge: one return per unit and return type, reconciled, and who is missing.
//!
//! When a unit sent the same return twice, the newest counts (by the date line of its
//! title block, then file time, then name) and the others are listed as superseded.
//! Reconciliations of the definition compare, per unit, a figure of one source with
//! another's. Completeness lists every unit expected to send each return against what
//! arrived.

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;

use crate::definition::{Plan, Reconciliation, Side};
use crate::model::frame::text_column;
use crate::model::{
    name_units, Batch, Expectation, FileRecord, FileStatus, Finding, FindingCode, Period, ReturnStatus, Severity,
    Timeliness,
};
use crate::registry::Hierarchy;

pub(crate) fn merge(plan: &Plan, hierarchy: &Hierarchy, period: Period, validated: Batch) -> anyhow::Result<Batch> {
    let Batch { mut files, tables, mut findings, placements, titles, .. } = validated;

    let superseded = resolve_resubmissions(plan, &mut files, &mut findings);
    let mut merged = BTreeMap::new();
    for (name, df) in tables {
        let keep: Vec<bool> = text_column(&df, "_file")?.iter().map(|f| !superseded.contains(f)).collect();
        merged.insert(name, df.filter(&BooleanChunked::from_slice("keep".into(), &keep))?);
    }
    for reconciliation in &plan.reconciliations {
        findings.extend(reconcile(plan, reconciliation, &merged)?);
    }
    let completeness = completeness(plan, hierarchy, period, &files, &mut findings);

    name_units(hierarchy, &mut findings);
    Ok(Batch { files, tables: merged, placements, titles, findings, completeness })
}

/// Mark all but the newest accepted file of each (return, unit) as superseded.
fn resolve_resubmissions(plan: &Plan, files: &mut [FileRecord], findings: &mut Vec<Finding>) -> HashSet<String> {
    let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        if f.status == FileStatus::Accepted {
            groups.entry((f.return_id.as_str(), f.unit.as_str())).or_default().push(i);
        }
    }
    let groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    let mut superseded = HashSet::new();
    for mut group in groups {
        group.sort_by(|&a, &b| {
            let (fa, fb) = (&files[a], &files[b]);
            (&fa.dated, fa.modified, &fa.file).cmp(&(&fb.dated, fb.modified, &fb.file))
        });
        let Some((&newest, older)) = group.split_last() else { continue };
        let newest = files[newest].file.clone();
        for &i in older {
            let f = &mut files[i];
            findings.push(
                Finding::builder(plan, FindingCode::ReturnSuperseded, Severity::Info)
                    .file(&f.file)
                    .unit(&f.unit)
                    .value(f.dated.clone())
                    .expected(newest.clone())
                    .build(),
            );
            f.status = FileStatus::Superseded;
            f.rows_rejected = f.rows_read;
            f.rows_accepted = 0;
            superseded.insert(f.file.clone());
        }
    }
    superseded
}

/// One side of a reconciliation: per unit, the sum of the field and the first file.
fn side(plan: &Plan, side: &Side, tables: &BTreeMap<String, DataFrame>, prefix: &str) -> PolarsResult<DataFrame> {
    let (value, file) = (format!("{prefix}_value"), format!("{prefix}_file"));
    match tables.get(&plan.table(side.table).name).filter(|df| df.height() > 0) {
        Some(df) => df
            .clone()
            .lazy()
            .group_by([col(side.unit.as_str()).alias("unit")])
            .agg([col(side.field.as_str()).sum().alias(value), col("_file").first().alias(file)])
            .collect(),
        None => DataFrame::new_infer_height(vec![
            Column::new("unit".into(), Vec::<String>::new()),
            Column::new(value.into(), Vec::<i64>::new()),
            Column::new(file.into(), Vec::<String>::new()),
        ]),
    }
}

/// Per unit, the sum of `left.field` against the sum of `right.field`: every unit the
/// left side names either agrees with the right side, or disagrees, or has no return on
/// the right side at all (a decision for a unit that did not report).
fn reconcile(plan: &Plan, spec: &Reconciliation, tables: &BTreeMap<String, DataFrame>) -> anyhow::Result<Vec<Finding>> {
    let (left, right) = (side(plan, &spec.left, tables, "left")?, side(plan, &spec.right, tables, "right")?);
    if left.height() == 0 {
        return Ok(vec![]);
    }
    let as_float = |name: &str| col(name).cast(DataType::Float64);
    let joined = left
        .lazy()
        .join(right.lazy(), [col("unit")], [col("unit")], JoinArgs::new(JoinType::Left))
        .filter(
            col("right_value")
                .is_null()
                .and(as_float("left_value").neq(lit(0.0)))
                .or(as_float("left_value").neq(as_float("right_value"))),
        )
        .sort(["unit"], SortMultipleOptions::default())
        .collect()?;
    let units = text_column(&joined, "unit")?;
    let (left_files, right_files) = (text_column(&joined, "left_file")?, text_column(&joined, "right_file")?);
    let number = |name: &str| -> PolarsResult<Vec<Option<i64>>> {
        Ok(joined.column(name)?.cast(&DataType::Int64)?.i64()?.iter().collect())
    };
    let (lv, rv) = (number("left_value")?, number("right_value")?);
    let right_title = plan.return_of(spec.right.table).title.clone();
    Ok((0..joined.height())
        .map(|i| {
            let left = lv[i].unwrap_or(0).to_string();
            let Some(right) = rv[i] else {
                return Finding::builder(plan, FindingCode::ReconcileMissing, spec.severity)
                    .rule(&spec.id)
                    .file(&left_files[i])
                    .unit(&units[i])
                    .value(left)
                    .var("return", right_title.clone())
                    .build();
            };
            Finding::builder(plan, FindingCode::Reconcile, spec.severity)
                .template(&spec.message)
                .rule(&spec.id)
                .file(&left_files[i])
                .unit(&units[i])
                .value(left.clone())
                .expected(right.to_string())
                .var("left_file", left_files[i].clone())
                .var("right_file", right_files[i].clone())
                .var("left", left)
                .var("right", right.to_string())
                .build()
        })
        .collect())
}

/// Every unit valid in the period that must send each return, and what it sent.
fn completeness(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    files: &[FileRecord],
    findings: &mut Vec<Finding>,
) -> Vec<Expectation> {
    let mut by_sender: HashMap<(&str, &str), Vec<&FileRecord>> = HashMap::new();
    for f in files {
        by_sender.entry((f.return_id.as_str(), f.unit.as_str())).or_default().push(f);
    }
    let mut out = Vec::new();
    for ret in &plan.returns {
        for unit in hierarchy.units.iter().filter(|u| ret.senders.contains(&u.kind)) {
            let theirs = by_sender.get(&(ret.id.as_str(), unit.code.as_str())).map_or(&[][..], Vec::as_slice);
            let counting = theirs.iter().find(|f| f.status == FileStatus::Accepted);
            let status = match (counting, theirs.is_empty()) {
                (Some(_), _) => ReturnStatus::Accepted,
                (None, false) => ReturnStatus::Rejected,
                (None, true) => ReturnStatus::Missing,
            };
            if status == ReturnStatus::Missing {
                findings.push(
                    Finding::builder(plan, FindingCode::ReturnMissing, Severity::Error)
                        .unit(&unit.code)
                        .value(ret.title.clone())
                        .expected(period.to_string())
                        .build(),
                );
            }
            let timeliness = plan.pipeline.deadline.filter(|_| counting.is_some()).map(|deadline| {
                let due = deadline.of(period);
                let valid = theirs.iter().filter(|f| matches!(f.status, FileStatus::Accepted | FileStatus::Superseded));
                let dated = valid.filter_map(|f| chrono::NaiveDate::parse_from_str(&f.dated, "%Y-%m-%d").ok()).min();
                match dated {
                    Some(date) if date <= due => Timeliness::OnTime,
                    Some(_) => Timeliness::Late,
                    None => Timeliness::Undated,
                }
            });
            out.push(Expectation {
                timeliness,
                return_id: ret.id.clone(),
                unit: unit.code.clone(),
                name: unit.name.clone(),
                parent: unit.parent.clone(),
                status,
                file: counting.or(theirs.last()).map(|f| f.file.clone()).unwrap_or_default(),
                superseded: theirs
                    .iter()
                    .filter(|f| f.status == FileStatus::Superseded)
                    .map(|f| f.file.clone())
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::frame::text_column;
    use crate::testing::{self, hierarchy, october, r1, r2, validated};

    fn merged(files: &[(&str, Vec<u8>)], modified: &[i64]) -> Batch {
        let plan = testing::plan();
        let mut batch = validated(&plan, files);
        for (file, time) in batch.files.iter_mut().zip(modified) {
            file.modified = *time;
        }
        merge(&plan, &hierarchy(october()), october(), batch).unwrap()
    }

    fn status_of(batch: &Batch, file: &str) -> FileStatus {
        batch.files.iter().find(|f| f.file == file).map(|f| f.status).unwrap()
    }

    #[test]
    fn the_newest_return_of_a_unit_counts_by_its_date_line_then_file_time_then_name() {
        let corrected = r1("C11", "10/2023", "01/11/2023", &[("Cell 1", 5.0, 0.0)]);
        let first = r1("C11", "10/2023", "31/10/2023", &[("Cell 1", 3.0, 0.0)]);
        // The older file time does not matter: the date line says which is newer.
        let batch = merged(&[("z first.xlsx", first.clone()), ("a corrected.xlsx", corrected.clone())], &[20, 10]);
        assert_eq!(status_of(&batch, "z first.xlsx"), FileStatus::Superseded);
        assert_eq!(status_of(&batch, "a corrected.xlsx"), FileStatus::Accepted);
        assert_eq!(text_column(&batch.tables["r1.cells"], "_file").unwrap(), ["a corrected.xlsx"]);
        let superseded = batch.findings.iter().find(|f| f.code == FindingCode::ReturnSuperseded).unwrap();
        assert_eq!((superseded.file.as_str(), superseded.expected.as_str()), ("z first.xlsx", "a corrected.xlsx"));
        assert_eq!(superseded.unit_name, "Commune A", "findings name their unit");

        // Undated returns: the newer file, then the later name.
        let undated = r1("C11", "10/2023", "", &[("Cell 1", 1.0, 0.0)]);
        let batch = merged(&[("a.xlsx", undated.clone()), ("b.xlsx", undated.clone())], &[20, 10]);
        assert_eq!(status_of(&batch, "b.xlsx"), FileStatus::Superseded);
        let batch = merged(&[("a.xlsx", undated.clone()), ("b.xlsx", undated)], &[10, 10]);
        assert_eq!(status_of(&batch, "a.xlsx"), FileStatus::Superseded);
        let c11 = batch.completeness.iter().find(|e| e.unit == "C11" && e.return_id == "r1").unwrap();
        assert_eq!(
            (c11.status, c11.file.as_str(), c11.superseded.as_slice()),
            (ReturnStatus::Accepted, "b.xlsx", &["a.xlsx".to_string()][..])
        );
    }

    #[test]
    fn decisions_are_reconciled_with_the_units_own_returns() {
        let files = [
            ("c11.xlsx", r1("C11", "10/2023", "", &[("Cell 1", 2.0, 0.0)])),
            ("c12.xlsx", r1("C12", "10/2023", "", &[("Cell 1", 1.0, 0.0)])),
            ("d1.xlsx", r2("D1", "10/2023", &[("C11", 3.0), ("C12", 1.0)])),
        ];
        let batch = merged(&files, &[]);
        let found: Vec<_> = batch.findings.iter().filter(|f| f.rule == "decisions-match").collect();
        let [mismatch] = found.as_slice() else { panic!("{found:#?}") };
        assert_eq!(
            (mismatch.code, mismatch.unit.as_str(), mismatch.value.as_str(), mismatch.expected.as_str()),
            (FindingCode::Reconcile, "C11", "3", "2")
        );
        assert_eq!(mismatch.message, "C11: 3 decided, 2 reported");

        // A decision for a unit whose return is missing.
        let batch = merged(&[("d1.xlsx", r2("D1", "10/2023", &[("C12", 2.0)]))], &[]);
        let missing = batch.findings.iter().find(|f| f.rule == "decisions-match").unwrap();
        assert_eq!(
            (missing.code, missing.unit.as_str(), missing.file.as_str()),
            (FindingCode::ReconcileMissing, "C12", "d1.xlsx")
        );
        assert_eq!(
            missing.message,
            "d1.xlsx ghi 2 đảng viên được kết nạp cho đơn vị C12, nhưng đơn vị chưa gửi Return 1 hợp lệ."
        );
    }

    #[test]
    fn completeness_lists_every_expected_return_and_what_became_of_it() {
        let files = [
            ("c11.xlsx", r1("C11", "10/2023", "", &[("Cell 1", 2.0, 0.0)])),
            ("c12 september.xlsx", r1("C12", "09/2023", "", &[("Cell 1", 1.0, 0.0)])),
        ];
        let batch = merged(&files, &[]);
        let listed: Vec<_> = batch
            .completeness
            .iter()
            .map(|e| (e.return_id.as_str(), e.unit.as_str(), e.status, e.file.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("r1", "C11", ReturnStatus::Accepted, "c11.xlsx"),
                ("r1", "C12", ReturnStatus::Rejected, "c12 september.xlsx"),
                ("r1", "C21", ReturnStatus::Missing, ""),
                ("r2", "D1", ReturnStatus::Missing, ""),
                ("r2", "D2", ReturnStatus::Missing, ""),
            ]
        );
        let missing: Vec<_> =
            batch.findings.iter().filter(|f| f.code == FindingCode::ReturnMissing).map(|f| f.unit.as_str()).collect();
        assert_eq!(missing, ["C21", "D1", "D2"]);
        let c21 = batch.findings.iter().find(|f| f.unit == "C21").unwrap();
        assert_eq!(
            (c21.group.as_str(), c21.message.as_str()),
            ("District Two", "Đơn vị C21 chưa gửi Return 1 kỳ 2023-10.")
        );
    }
}
