//! What a definition file says, as serde reads it: the options before they are checked.
//!
//! Every struct denies unknown fields, so a misspelt key is an error with its line and
//! column, not silence. Names that must be checked against each other (fields, tables,
//! measures, sheet values) are kept `Spanned`, so `check` can point at the place that is
//! wrong. Nothing outside `definition` reads these types: `check` resolves them into the
//! `Plan` the stages use.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::plan::{
    Attainment, Blank, CellFormat, Header, Limits, Marks, Policy, Print, RuleScope, Severity, TemplateSpec, ValueKind,
    Window,
};
use crate::period::PeriodKind;
use crate::print::Orientation;

/// The whole file. Its sections are read one by one (`check::read_spec`), so each one's
/// errors are reported.
#[derive(Debug)]
pub(super) struct DefinitionSpec {
    pub(crate) pipeline: PipelineSpec,
    pub(crate) registry: RegistrySpec,
    pub(crate) references: Vec<ReferenceSpec>,
    pub(crate) returns: Vec<ReturnSpec>,
    pub(crate) rules: Vec<RuleSpec>,
    pub(crate) merges: Vec<MergeSpec>,
    pub(crate) measures: Vec<MeasureSpec>,
    pub(crate) workbook: WorkbookSpec,
    pub(crate) messages: BTreeMap<String, String>,
    pub(crate) titles: BTreeMap<String, String>,
    pub(crate) limits: Limits,
    pub(crate) policy: Policy,
    pub(crate) feedback: Option<FeedbackSpec>,
}

/// `[feedback]`: the workbooks `tonghop feedback` writes to units.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FeedbackSpec {
    /// File name; `{period}` and `{code}` (the unit's) are replaced.
    pub(crate) file: String,
    /// One workbook per unit of this level, for its units; and one per sender with errors.
    pub(crate) level: Spanned<String>,
    /// `Nơi nhận` under a signed sheet, `{name}` the unit's name; the project's when none.
    #[serde(default)]
    pub(crate) recipients: Vec<String>,
    /// What to do about a finding, by rule id or finding code, in the clerk's words.
    #[serde(default)]
    pub(crate) fixes: BTreeMap<Spanned<String>, String>,
    pub(crate) sheets: Vec<SheetSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PipelineSpec {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) period: PeriodKind,
    #[serde(default)]
    pub(crate) quarter_words: Vec<String>,
    pub(crate) term: TermSpec,
    pub(crate) deadline: Option<crate::definition::Deadline>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TermSpec {
    pub(crate) start: Spanned<String>,
    pub(crate) end: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegistrySpec {
    pub(crate) file: String,
    pub(crate) levels: Vec<String>,
    pub(crate) succession: Option<SuccessionSpec>,
}

/// `[registry.succession]`: see `plan::Succession`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuccessionSpec {
    pub(crate) file: String,
    pub(crate) from: Spanned<String>,
    pub(crate) unit: String,
    pub(crate) predecessor: String,
    pub(crate) how: String,
    pub(crate) whole: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReferenceSpec {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) optional: bool,
    pub(crate) file: String,
    pub(crate) key: Spanned<String>,
    pub(crate) cutoff: Option<LabelledField>,
    /// Registry levels every unit of which must have a row.
    #[serde(default)]
    pub(crate) covers: Vec<Spanned<String>>,
    pub(crate) table: TableSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReturnSpec {
    pub(crate) id: Spanned<String>,
    pub(crate) title: String,
    pub(crate) senders: Vec<Spanned<String>>,
    pub(crate) header: TitleBlockSpec,
    pub(crate) tables: Vec<TableSpec>,
    pub(crate) template: Option<TemplateSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TitleBlockSpec {
    pub(crate) unit: LabelledField,
    pub(crate) period: LabelledField,
    pub(crate) date_marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelledField {
    pub(crate) label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TableSpec {
    #[serde(default = "TableSpec::default_id")]
    pub(crate) id: String,
    pub(crate) sheet: Option<String>,
    #[serde(default = "TableSpec::one")]
    pub(crate) header_rows: usize,
    #[serde(default)]
    pub(crate) numbering_row: bool,
    pub(crate) total_row: Option<TotalRowSpec>,
    #[serde(default)]
    pub(crate) stop_at: Vec<String>,
    #[serde(default)]
    pub(crate) unique: Vec<Spanned<String>>,
    pub(crate) columns: Vec<ColumnSpec>,
}

impl TableSpec {
    fn default_id() -> String {
        "table".to_string()
    }
    fn one() -> usize {
        1
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TotalRowSpec {
    pub(crate) column: Spanned<String>,
    pub(crate) label: String,
    #[serde(default)]
    pub(crate) aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ColumnSpec {
    pub(crate) field: Spanned<String>,
    pub(crate) header: Header,
    #[serde(default)]
    pub(crate) aliases: Vec<Header>,
    #[serde(rename = "type")]
    pub(crate) kind: ValueKind,
    #[serde(default)]
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) ignore: bool,
    #[serde(default)]
    pub(crate) blank: Blank,
    #[serde(default)]
    pub(crate) values: Vec<CategorySpec>,
    pub(crate) unit_of: Option<UnitOfSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CategorySpec {
    pub(crate) id: String,
    pub(crate) label: String,
    #[serde(default)]
    pub(crate) aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitOfSpec {
    pub(crate) kind: Spanned<String>,
    #[serde(default)]
    pub(crate) under_sender: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleSpec {
    pub(crate) id: Spanned<String>,
    pub(crate) table: Spanned<String>,
    pub(crate) severity: Severity,
    #[serde(default)]
    pub(crate) scope: RuleScope,
    pub(crate) check: Spanned<String>,
    #[serde(default)]
    pub(crate) for_each: Vec<Spanned<String>>,
    pub(crate) cell: Option<Spanned<String>>,
    /// What the rule asks, in the clerk's words: the findings sheet shows it.
    pub(crate) title: Option<String>,
    pub(crate) message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MergeSpec {
    pub(crate) id: Spanned<String>,
    pub(crate) title: Option<String>,
    pub(crate) severity: Severity,
    pub(crate) left: MergeSideSpec,
    pub(crate) right: MergeSideSpec,
    pub(crate) message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MergeSideSpec {
    pub(crate) table: Spanned<String>,
    pub(crate) unit: Spanned<String>,
    pub(crate) field: Spanned<String>,
}

/// Exactly one of `source`, `reference`, `expr` or `ratio` says what the measure is;
/// `check` enforces that and resolves it into a `Measure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MeasureSpec {
    pub(crate) id: Spanned<String>,
    pub(crate) source: Option<Spanned<String>>,
    pub(crate) field: Option<Spanned<String>>,
    pub(crate) filter: Option<Spanned<String>>,
    pub(crate) window: Option<Spanned<Window>>,
    pub(crate) opening: Option<Spanned<String>>,
    pub(crate) reference: Option<Spanned<String>>,
    pub(crate) expr: Option<Spanned<String>>,
    pub(crate) level: Option<Spanned<String>>,
    pub(crate) ratio: Option<Vec<Spanned<String>>>,
    pub(crate) scale: Option<f64>,
    pub(crate) year_ago: Option<Spanned<String>>,
    /// With `year_ago` of a year's sum: the whole of last year, not its year to date.
    #[serde(default)]
    pub(crate) full_year: bool,
    /// `[plan, done]`: what of a plan was not done, never below zero.
    pub(crate) shortfall: Option<Vec<Spanned<String>>>,
    /// With `year_ago`: last year's published figures, `reference.field` with `{month}`.
    pub(crate) published: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkbookSpec {
    pub(crate) file: String,
    pub(crate) motto: String,
    pub(crate) date_line: String,
    pub(crate) period_line: String,
    pub(crate) severities: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) marks: Marks,
    pub(crate) print: Print,
    pub(crate) sheets: Vec<SheetSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SheetSpec {
    pub(crate) name: Spanned<String>,
    pub(crate) title: Option<String>,
    pub(crate) kind: SheetKind,
    pub(crate) level: Option<Spanned<String>>,
    pub(crate) group_by: Option<Spanned<String>>,
    pub(crate) total: Option<Spanned<String>>,
    pub(crate) total_label: Option<String>,
    pub(crate) table: Option<Spanned<String>>,
    pub(crate) attainment: Option<Attainment>,
    pub(crate) chart: Option<ChartSpec>,
    pub(crate) trend: Option<TrendSpec>,
    pub(crate) behind: Option<PaceSpec>,
    pub(crate) missing_title: Option<String>,
    /// The board's recipients and signature under the sheet (a findings sheet sent out).
    #[serde(default)]
    pub(crate) signed: bool,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) columns: Vec<SheetColumnSpec>,
    pub(crate) print: Option<Spanned<SheetPrintSpec>>,
}

/// How a sheet prints: the paper's orientation, the leading columns repeated on every
/// printed block, and the blocks, each a list of column groups (a group label, or the
/// label of a column without one) printed side by side on its own pages. Columns after the
/// last block are shown on screen only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SheetPrintSpec {
    #[serde(default)]
    pub(crate) orientation: Orientation,
    #[serde(default)]
    pub(crate) repeat: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) blocks: Vec<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub(super) enum SheetKind {
    Units,
    Rows,
    Findings,
    Completeness,
    Info,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SheetColumnSpec {
    pub(crate) label: Header,
    pub(crate) value: Spanned<String>,
    #[serde(default)]
    pub(crate) format: CellFormat,
    pub(crate) width: Option<f64>,
}

/// Only the units whose year to date is below the plan's pace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PaceSpec {
    pub(crate) done: Spanned<String>,
    pub(crate) plan: Spanned<String>,
    /// The share of the year's plan due by the end of each month, January first; by
    /// default an even pace (1/12, 2/12…).
    pub(crate) schedule: Option<Spanned<Vec<f64>>>,
}

/// A line chart of the year's cumulative figure against the plan's even pace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TrendSpec {
    pub(crate) title: String,
    /// A sum over the month.
    pub(crate) measure: Spanned<String>,
    /// The year's plan.
    pub(crate) plan: Spanned<String>,
    /// The two lines' names: the figure to date, the plan's even pace.
    pub(crate) labels: [String; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChartSpec {
    pub(crate) title: String,
    pub(crate) value: Spanned<String>,
    /// The names of the attainment bands, low to high: the bars are coloured by band and
    /// the legend names them.
    pub(crate) legend: Option<Spanned<Vec<String>>>,
}
