//! Who was expected to send which return, what became of it, and the tallies per group
//! that the completeness sheet and `tonghop status` show.

use serde::{Deserialize, Serialize};

use super::Period;
use crate::definition::{CompletenessAttribute, CompletenessLayout, Layout, Plan, Sheet};
use crate::registry::Hierarchy;

/// What became of an expected return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub(crate) enum ReturnStatus {
    Accepted,
    Rejected,
    Missing,
}

impl ReturnStatus {
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One expected (unit, return) pair and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Expectation {
    pub(crate) return_id: String,
    pub(crate) unit: String,
    pub(crate) name: String,
    pub(crate) parent: String,
    pub(crate) status: ReturnStatus,
    /// The file that counts (or the last rejected one).
    pub(crate) file: String,
    /// Superseded files of the unit, in the order they arrived.
    pub(crate) superseded: Vec<String>,
    /// For an accepted return when the definition has a deadline: whether it came in time.
    #[serde(default)]
    pub(crate) timeliness: Option<Timeliness>,
}

/// Whether a return came in time, by the earliest date line of the unit's valid returns
/// for the period (its first version sent, the file times never: they change with every
/// copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Timeliness {
    OnTime,
    Late,
    /// No date line that reads: counted neither on time nor late.
    Undated,
}

/// How many returns a group of units was expected to send, and what became of them.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Tally {
    pub(crate) expected: u32,
    pub(crate) accepted: u32,
    pub(crate) rejected: u32,
    pub(crate) superseded: u32,
    pub(crate) missing: u32,
    pub(crate) on_time: u32,
    pub(crate) late: u32,
    pub(crate) undated: u32,
}

impl Tally {
    fn add(&mut self, e: &Expectation) {
        self.expected += 1;
        self.superseded += e.superseded.len() as u32;
        match e.status {
            ReturnStatus::Accepted => self.accepted += 1,
            ReturnStatus::Rejected => self.rejected += 1,
            ReturnStatus::Missing => self.missing += 1,
        }
        match e.timeliness {
            Some(Timeliness::OnTime) => self.on_time += 1,
            Some(Timeliness::Late) => self.late += 1,
            Some(Timeliness::Undated) => self.undated += 1,
            None => {}
        }
    }

    /// A count, or the rate (accepted / expected, a fraction; none when nothing was
    /// expected). `Group` is the group's name, not a number: none.
    pub(crate) fn value(&self, attribute: CompletenessAttribute) -> Option<f64> {
        use CompletenessAttribute as A;
        let n = |v: u32| Some(v as f64);
        match attribute {
            A::Expected => n(self.expected),
            A::Received => n(self.accepted + self.rejected),
            A::Accepted => n(self.accepted),
            A::Rejected => n(self.rejected),
            A::Superseded => n(self.superseded),
            A::Missing => n(self.missing),
            A::Rate if self.expected > 0 => Some(self.accepted as f64 / self.expected as f64),
            A::OnTime => n(self.on_time),
            A::Late => n(self.late),
            A::Undated => n(self.undated),
            A::OnTimeRate if self.expected > 0 => Some(self.on_time as f64 / self.expected as f64),
            A::Rate | A::OnTimeRate | A::Group => None,
        }
    }
}

/// The tally of each unit of `level` that was expected anything (registry order), and
/// the total: the reporting rate per district and for the province.
pub(crate) fn tally_by_group(
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

/// What `tonghop status --json` prints (`tonghop.status/1`; docs/json.md has every field).
#[derive(Debug, serde::Serialize)]
pub struct StatusJson {
    pub schema: &'static str,
    pub pipeline: String,
    pub period: String,
    /// The registry level the returns are counted by (`district`).
    pub group_level: String,
    pub groups: Vec<GroupCounts>,
    pub total: GroupCounts,
    /// Every expected return not accepted: missing, or rejected.
    pub not_accepted: Vec<NotAccepted>,
    /// Consolidated periods whose inputs changed since.
    pub stale: Vec<String>,
    /// The exit code of `tonghop run` up to merge: 0, or 1 when returns are missing or rejected.
    pub exit_code: u8,
}

#[derive(Debug, serde::Serialize)]
pub struct GroupCounts {
    /// The group unit's code; empty for the total.
    pub code: String,
    pub name: String,
    pub expected: u32,
    pub received: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub superseded: u32,
    pub missing: u32,
    /// accepted / expected, a fraction; null when nothing was expected.
    pub rate: Option<f64>,
    /// With a deadline in the definition: accepted returns dated on or before it, after
    /// it, and without a date line that reads; on time / expected.
    pub on_time: u32,
    pub late: u32,
    pub undated: u32,
    pub on_time_rate: Option<f64>,
}

#[derive(Debug, serde::Serialize)]
pub struct NotAccepted {
    pub group: String,
    pub unit: String,
    pub name: String,
    #[serde(rename = "return")]
    pub return_id: String,
    /// `missing` or `rejected`.
    pub status: &'static str,
    /// The file rejected, or null.
    pub file: Option<String>,
}

impl GroupCounts {
    fn of(code: &str, name: &str, t: &Tally) -> GroupCounts {
        GroupCounts {
            code: code.to_string(),
            name: name.to_string(),
            expected: t.expected,
            received: t.accepted + t.rejected,
            accepted: t.accepted,
            rejected: t.rejected,
            superseded: t.superseded,
            missing: t.missing,
            rate: t.value(CompletenessAttribute::Rate),
            on_time: t.on_time,
            late: t.late,
            undated: t.undated,
            on_time_rate: t.value(CompletenessAttribute::OnTimeRate),
        }
    }
}

/// The status of a period for scripts: the counts per group and who is not accepted.
pub(crate) fn status_json(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    completeness: &[Expectation],
    stale: &[Period],
    exit_code: u8,
) -> StatusJson {
    let level = status_level(plan);
    let (groups, total) = tally_by_group(hierarchy, completeness, &level);
    let name = |code: &str| hierarchy.unit(code).map(|u| u.name.clone()).unwrap_or_default();
    let not_accepted = completeness
        .iter()
        .filter(|e| e.status != ReturnStatus::Accepted)
        .map(|e| NotAccepted {
            group: hierarchy.ancestor_of_kind(&e.unit, &level).map(|g| g.code.clone()).unwrap_or_default(),
            unit: e.unit.clone(),
            name: e.name.clone(),
            return_id: e.return_id.clone(),
            status: e.status.as_str(),
            file: Some(e.file.clone()).filter(|f| !f.is_empty()),
        })
        .collect();
    StatusJson {
        schema: "tonghop.status/1",
        pipeline: plan.pipeline.name.clone(),
        period: period.to_string(),
        groups: groups.iter().map(|(code, t)| GroupCounts::of(code, &name(code), t)).collect(),
        total: GroupCounts::of("", "", &total),
        group_level: level,
        not_accepted,
        stale: stale.iter().map(Period::to_string).collect(),
        exit_code,
    }
}

/// The definition's completeness sheet, if it has one: its labels and grouping are the
/// status's too.
fn completeness_sheet(plan: &Plan) -> Option<(&Sheet, &CompletenessLayout)> {
    plan.workbook.sheets.iter().find_map(|s| match &s.layout {
        Layout::Completeness(layout) => Some((s, layout)),
        _ => None,
    })
}

/// The level a status counts returns by: the completeness sheet's, else the registry's second.
fn status_level(plan: &Plan) -> String {
    match completeness_sheet(plan) {
        Some((_, layout)) => layout.group_by.clone(),
        None => plan.registry.levels.get(1).cloned().unwrap_or_default(),
    }
}

/// What `tonghop status` prints: the completeness sheet's table as text (its columns and
/// labels, or every attribute when the workbook has no such sheet), the units missing or
/// rejected, and the consolidated periods that are `stale`.
pub(crate) fn status_text(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    completeness: &[Expectation],
    stale: &[Period],
) -> String {
    use strum::IntoEnumIterator;
    let sheet = completeness_sheet(plan);
    let level = status_level(plan);
    let label = |key: &str| sheet.map_or_else(|| key.to_string(), |(s, _)| s.label(key));
    let columns: Vec<(String, CompletenessAttribute)> = match sheet {
        // A column under a group header is named by its own label: a terminal is narrow.
        Some((_, layout)) => {
            let own = |c: &crate::definition::SheetColumn<CompletenessAttribute>| {
                c.label.parts().last().map_or_else(String::new, |l| l.to_string())
            };
            layout.columns.iter().map(|c| (own(c), c.value)).collect()
        }
        None => CompletenessAttribute::iter().map(|a| (<&str>::from(a).to_string(), a)).collect(),
    };
    let (groups, total) = tally_by_group(hierarchy, completeness, &level);
    let cell = |tally: &Tally, attribute: CompletenessAttribute| match (attribute, tally.value(attribute)) {
        (CompletenessAttribute::Rate | CompletenessAttribute::OnTimeRate, Some(r)) => format!("{:.1}%", r * 100.0),
        (_, Some(v)) => format!("{v}"),
        _ => String::new(),
    };
    let mut rows = vec![columns.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>()];
    let named = groups.iter().map(|(code, t)| (hierarchy.unit(code).map(|u| u.name.clone()).unwrap_or_default(), t));
    for (name, tally) in named.chain(std::iter::once((label("total"), &total))) {
        rows.push(
            columns
                .iter()
                .map(|&(_, a)| if a == CompletenessAttribute::Group { name.clone() } else { cell(tally, a) })
                .collect(),
        );
    }
    let mut text = format!("{} {}\n", plan.pipeline.title, period);
    text.push_str(&aligned(&rows));
    let listed: Vec<_> = completeness.iter().filter(|e| e.status != ReturnStatus::Accepted).collect();
    if !listed.is_empty() {
        let title = sheet.and_then(|(_, l)| l.missing_title.clone()).unwrap_or_else(|| "missing or rejected".into());
        text.push_str(&format!("\n{title}:\n"));
        for e in listed {
            let group = hierarchy.ancestor_of_kind(&e.unit, &level).map(|g| g.name.clone()).unwrap_or_default();
            let ret = plan.return_by_id(&e.return_id).map(|r| r.title.clone()).unwrap_or_default();
            let status = label(&format!("status_{}", e.status.as_str()));
            text.push_str(format!("  {group} | {} {} | {ret} | {status} {}", e.unit, e.name, e.file).trim_end());
            text.push('\n');
        }
    }
    if let (Some(first), Some(last)) = (stale.first(), stale.last()) {
        let list: Vec<String> = stale.iter().map(Period::to_string).collect();
        text.push_str(&format!(
            "\nstale: {} (their inputs changed since they were consolidated; tonghop run --period {first}..{last})\n",
            list.join(", "),
        ));
    }
    text
}

/// Rows as text columns: the first left-aligned, the others right-aligned.
fn aligned(rows: &[Vec<String>]) -> String {
    let width = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..width).map(|k| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(k, v)| {
                let pad = " ".repeat(widths[k] - v.chars().count());
                if k == 0 {
                    format!("{v}{pad}")
                } else {
                    format!("{pad}{v}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
