//! Stage 3, merge: one return per unit and return type, reconciled, and who is missing.
//!
//! When a unit sent the same return twice, the newest counts (by the date line of its
//! title block, then file time, then name) and the others are listed as superseded.
//! Merges of the definition compare, per unit, a figure of one source with another's.
//! Completeness lists every unit expected to send each return against what arrived.

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;

use crate::definition::{Definition, MergeSpec, Severity};
use crate::finding::{code, fill, Finding};
use crate::ingest::FileRecord;
use crate::period::Month;
use crate::registry::Hierarchy;
use crate::store::Batch;
use crate::validate::text_column;

/// One expected (unit, return) pair and what became of it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Expectation {
    pub return_id: String,
    pub unit: String,
    pub name: String,
    pub parent: String,
    /// `accepted`, `rejected` or `missing`.
    pub status: String,
    /// The file that counts (or the last rejected one).
    pub file: String,
    /// Superseded files of the unit, in the order they arrived.
    pub superseded: Vec<String>,
}

pub fn merge(def: &Definition, hierarchy: &Hierarchy, month: Month, validated: Batch) -> anyhow::Result<Batch> {
    let Batch { mut files, tables, mut findings, placements, .. } = validated;

    let superseded = resolve_resubmissions(def, &mut files, &mut findings);
    let mut merged = BTreeMap::new();
    for (name, df) in tables {
        let keep: Vec<bool> = text_column(&df, "_file")?.iter().map(|f| !superseded.contains(f)).collect();
        merged.insert(name, df.filter(&BooleanChunked::from_slice("keep".into(), &keep))?);
    }
    for spec in &def.merges {
        findings.extend(reconcile(def, spec, &merged)?);
    }
    let completeness = completeness(def, hierarchy, month, &files, &mut findings);

    // Every finding names its unit and the unit's group (its ancestor one level under the top).
    let group_level = def.registry.levels.get(1).cloned().unwrap_or_default();
    for f in &mut findings {
        if let Some(unit) = hierarchy.unit(&f.unit) {
            f.unit_name = unit.name.clone();
            f.group = hierarchy.ancestor_of_kind(&unit.code, &group_level).map(|g| g.name.clone()).unwrap_or_default();
        }
    }
    Ok(Batch { files, tables: merged, placements, findings, completeness })
}

/// Mark all but the newest accepted file of each (return, unit) as superseded.
fn resolve_resubmissions(def: &Definition, files: &mut [FileRecord], findings: &mut Vec<Finding>) -> HashSet<String> {
    let mut groups: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        if f.status == "accepted" {
            groups.entry((f.return_id.clone(), f.unit.clone())).or_default().push(i);
        }
    }
    let mut superseded = HashSet::new();
    let mut keys: Vec<_> = groups.into_iter().filter(|(_, v)| v.len() > 1).collect();
    keys.sort();
    for (_, mut group) in keys {
        group.sort_by(|&a, &b| {
            let (fa, fb) = (&files[a], &files[b]);
            (&fa.dated, fa.modified, &fa.file).cmp(&(&fb.dated, fb.modified, &fb.file))
        });
        let newest = files[*group.last().expect("a group has files")].file.clone();
        for &i in &group[..group.len() - 1] {
            let f = &mut files[i];
            findings.push(
                Finding::builder(def, code::SUPERSEDED, Severity::Info, "{file} is replaced by the newer return {expected} of the same unit")
                    .file(&f.file)
                    .unit(&f.unit)
                    .value(f.dated.clone())
                    .expected(newest.clone())
                    .build(),
            );
            f.status = "superseded".into();
            f.rows_rejected = f.rows_read;
            f.rows_accepted = 0;
            superseded.insert(f.file.clone());
        }
    }
    superseded
}

/// Per unit, the sum of `left.field` against the sum of `right.field`, where both sources
/// have the unit.
fn reconcile(def: &Definition, spec: &MergeSpec, tables: &BTreeMap<String, DataFrame>) -> anyhow::Result<Vec<Finding>> {
    let side = |s: &crate::definition::MergeSide, prefix: &str| -> anyhow::Result<DataFrame> {
        let df = tables.get(s.table.get_ref()).cloned().unwrap_or_default();
        if df.height() == 0 {
            return Ok(DataFrame::empty());
        }
        Ok(df
            .lazy()
            .group_by([col(s.unit.get_ref().as_str()).alias("unit")])
            .agg([
                col(s.field.get_ref().as_str()).sum().alias(format!("{prefix}_value")),
                col("_file").first().alias(format!("{prefix}_file")),
            ])
            .collect()?)
    };
    let (left, right) = (side(&spec.left, "left")?, side(&spec.right, "right")?);
    if left.height() == 0 || right.height() == 0 {
        return Ok(vec![]);
    }
    let joined = left
        .lazy()
        .join(right.lazy(), [col("unit")], [col("unit")], JoinArgs::new(JoinType::Inner))
        .filter(col("left_value").neq(col("right_value")))
        .sort(["unit"], SortMultipleOptions::default())
        .collect()?;
    let units = text_column(&joined, "unit")?;
    let (left_files, right_files) = (text_column(&joined, "left_file")?, text_column(&joined, "right_file")?);
    let number = |name: &str| -> PolarsResult<Vec<i64>> {
        Ok(joined.column(name)?.cast(&DataType::Int64)?.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let (lv, rv) = (number("left_value")?, number("right_value")?);
    Ok((0..joined.height())
        .map(|i| {
            let vars = [
                ("left_file".to_string(), left_files[i].clone()),
                ("right_file".to_string(), right_files[i].clone()),
                ("left".to_string(), lv[i].to_string()),
                ("right".to_string(), rv[i].to_string()),
            ];
            let mut f = Finding::builder(def, code::RECONCILE, spec.severity, &spec.message)
                .rule(&spec.id)
                .file(&left_files[i])
                .unit(&units[i])
                .value(lv[i].to_string())
                .expected(rv[i].to_string())
                .build();
            f.message = fill(&f.message, &vars);
            f
        })
        .collect())
}

/// Every unit valid for the month that must send each return, and what it sent.
fn completeness(def: &Definition, hierarchy: &Hierarchy, month: Month, files: &[FileRecord], findings: &mut Vec<Finding>) -> Vec<Expectation> {
    let mut out = Vec::new();
    for ret in &def.returns {
        for unit in hierarchy.units.iter().filter(|u| ret.senders.contains(&u.kind)) {
            let theirs: Vec<&FileRecord> = files.iter().filter(|f| f.return_id == ret.id && f.unit == unit.code).collect();
            let counting = theirs.iter().find(|f| f.status == "accepted");
            let status = match (counting, theirs.is_empty()) {
                (Some(_), _) => "accepted",
                (None, false) => "rejected",
                (None, true) => "missing",
            };
            if status == "missing" {
                findings.push(
                    Finding::builder(def, code::RETURN_MISSING, Severity::Error, "{unit} has not sent {value} for {expected}")
                        .unit(&unit.code)
                        .value(ret.title.clone())
                        .expected(month.to_string())
                        .build(),
                );
            }
            out.push(Expectation {
                return_id: ret.id.clone(),
                unit: unit.code.clone(),
                name: unit.name.clone(),
                parent: unit.parent.clone(),
                status: status.into(),
                file: counting.or(theirs.last()).map(|f| f.file.clone()).unwrap_or_default(),
                superseded: theirs.iter().filter(|f| f.status == "superseded").map(|f| f.file.clone()).collect(),
            });
        }
    }
    out
}
