//! Stage 3, merge: one return per unit and return type, reconciled, and who is missing.
//!
//! When a unit sent the same return twice, the newest counts (by the date line of its
//! title block, then file time, then name) and the others are listed as superseded.
//! Merges of the definition compare, per unit, a figure of one source with another's.
//! Completeness lists every unit expected to send each return against what arrived.

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;

use crate::definition::{Definition, MergeSpec, Severity};
use crate::finding::{code, Finding};
use crate::ingest::FileRecord;
use crate::period::Period;
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

pub fn merge(def: &Definition, hierarchy: &Hierarchy, period: Period, validated: Batch) -> anyhow::Result<Batch> {
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
    let completeness = completeness(def, hierarchy, period, &files, &mut findings);

    name_units(def, hierarchy, &mut findings);
    Ok(Batch { files, tables: merged, placements, findings, completeness })
}

/// Every finding names its unit and, when the hierarchy has more than two levels, the
/// unit's group (its ancestor one level under the top).
pub fn name_units(def: &Definition, hierarchy: &Hierarchy, findings: &mut [Finding]) {
    let levels = &def.registry.levels;
    let group_level = if levels.len() > 2 { levels[1].as_str() } else { "" };
    for f in findings {
        if let Some(unit) = hierarchy.unit(&f.unit) {
            f.unit_name = unit.name.clone();
            f.group = hierarchy.ancestor_of_kind(&unit.code, group_level).map(|g| g.name.clone()).unwrap_or_default();
        }
    }
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
                Finding::builder(
                    def,
                    code::SUPERSEDED,
                    Severity::Info,
                    "{file} is replaced by the newer return {expected} of the same unit",
                )
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
    if left.height() == 0 {
        return Ok(vec![]);
    }
    let right = if right.height() == 0 {
        DataFrame::new_infer_height(vec![
            Column::new("unit".into(), Vec::<String>::new()),
            Column::new("right_value".into(), Vec::<i64>::new()),
            Column::new("right_file".into(), Vec::<String>::new()),
        ])?
    } else {
        right
    };
    // Every unit the left side names: either the right side disagrees, or it has no
    // return of that unit at all (a decision for a unit that did not report).
    let joined = left
        .lazy()
        .join(right.lazy(), [col("unit")], [col("unit")], JoinArgs::new(JoinType::Left))
        .filter(
            col("right_value").is_null().and(col("left_value").cast(DataType::Float64).neq(lit(0.0))).or(col(
                "left_value",
            )
            .cast(DataType::Float64)
            .neq(col("right_value").cast(DataType::Float64))),
        )
        .sort(["unit"], SortMultipleOptions::default())
        .collect()?;
    let units = text_column(&joined, "unit")?;
    let (left_files, right_files) = (text_column(&joined, "left_file")?, text_column(&joined, "right_file")?);
    let number = |name: &str| -> PolarsResult<Vec<Option<i64>>> {
        Ok(joined.column(name)?.cast(&DataType::Int64)?.i64()?.iter().collect())
    };
    let (lv, rv) = (number("left_value")?, number("right_value")?);
    let right_title = def.table(spec.right.table.get_ref()).map(|(r, _)| r.title.clone()).unwrap_or_default();
    Ok((0..joined.height())
        .map(|i| {
            let left = lv[i].unwrap_or(0).to_string();
            let Some(right) = rv[i] else {
                return Finding::builder(
                    def,
                    code::RECONCILE_MISSING,
                    spec.severity,
                    "{file} records {value} for unit {unit}, which sent no {return}",
                )
                .rule(&spec.id)
                .file(&left_files[i])
                .unit(&units[i])
                .value(left)
                .var("return", right_title.clone())
                .build();
            };
            Finding::builder(def, code::RECONCILE, spec.severity, &spec.message)
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
    def: &Definition,
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
    for ret in &def.returns {
        for unit in hierarchy.units.iter().filter(|u| ret.senders.contains(&u.kind)) {
            let theirs: Vec<&FileRecord> =
                by_sender.get(&(ret.id.as_str(), unit.code.as_str())).cloned().unwrap_or_default();
            let counting = theirs.iter().find(|f| f.status == "accepted");
            let status = match (counting, theirs.is_empty()) {
                (Some(_), _) => "accepted",
                (None, false) => "rejected",
                (None, true) => "missing",
            };
            if status == "missing" {
                findings.push(
                    Finding::builder(
                        def,
                        code::RETURN_MISSING,
                        Severity::Error,
                        "{unit} has not sent {value} for {expected}",
                    )
                    .unit(&unit.code)
                    .value(ret.title.clone())
                    .expected(period.to_string())
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

/// How many returns a group of units was expected to send, and what became of them.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub expected: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub superseded: u32,
    pub missing: u32,
}

impl Tally {
    fn add(&mut self, e: &Expectation) {
        self.expected += 1;
        self.superseded += e.superseded.len() as u32;
        match e.status.as_str() {
            "accepted" => self.accepted += 1,
            "rejected" => self.rejected += 1,
            _ => self.missing += 1,
        }
    }

    /// `expected`, `received`, `accepted`, `rejected`, `superseded`, `missing`, or `rate`
    /// (accepted / expected, a fraction; none when nothing was expected).
    pub fn value(&self, attribute: &str) -> Option<f64> {
        let n = |v: u32| Some(v as f64);
        match attribute {
            "expected" => n(self.expected),
            "received" => n(self.accepted + self.rejected),
            "accepted" => n(self.accepted),
            "rejected" => n(self.rejected),
            "superseded" => n(self.superseded),
            "missing" => n(self.missing),
            "rate" if self.expected > 0 => Some(self.accepted as f64 / self.expected as f64),
            _ => None,
        }
    }
}

/// The tally of each unit of `level` that was expected anything (registry order), and
/// the total: the reporting rate per district and for the province.
pub fn tally_by_group(
    hierarchy: &Hierarchy,
    completeness: &[Expectation],
    level: &str,
) -> (Vec<(String, Tally)>, Tally) {
    let mut groups: Vec<(String, Tally)> =
        hierarchy.of_kind(level).map(|g| (g.code.clone(), Tally::default())).collect();
    let mut total = Tally::default();
    for e in completeness {
        total.add(e);
        if let Some(g) = hierarchy.ancestor_of_kind(&e.unit, level) {
            if let Some((_, t)) = groups.iter_mut().find(|(c, _)| *c == g.code) {
                t.add(e);
            }
        }
    }
    groups.retain(|(_, t)| t.expected > 0);
    (groups, total)
}
