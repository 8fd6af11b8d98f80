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
    Attainment, Blank, CellFormat, Header, Limits, Policy, RuleScope, Severity, Signature, TemplateSpec, ValueKind,
    Window,
};
use crate::period::PeriodKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DefinitionSpec {
    pub pipeline: PipelineSpec,
    pub registry: RegistrySpec,
    #[serde(default)]
    pub references: Vec<ReferenceSpec>,
    pub returns: Vec<ReturnSpec>,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub merges: Vec<MergeSpec>,
    #[serde(default)]
    pub measures: Vec<MeasureSpec>,
    pub workbook: WorkbookSpec,
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub policy: Policy,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PipelineSpec {
    pub name: String,
    pub title: String,
    pub period: PeriodKind,
    #[serde(default)]
    pub quarter_words: Vec<String>,
    pub term: TermSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TermSpec {
    pub start: Spanned<String>,
    pub end: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegistrySpec {
    pub file: String,
    pub levels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReferenceSpec {
    pub id: String,
    pub file: String,
    pub key: Spanned<String>,
    pub cutoff: Option<LabelledField>,
    pub table: TableSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReturnSpec {
    pub id: String,
    pub title: String,
    pub senders: Vec<String>,
    pub header: TitleBlockSpec,
    pub tables: Vec<TableSpec>,
    pub template: Option<TemplateSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TitleBlockSpec {
    pub unit: LabelledField,
    pub period: LabelledField,
    pub date_marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelledField {
    pub label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TableSpec {
    #[serde(default = "TableSpec::default_id")]
    pub id: String,
    pub sheet: Option<String>,
    #[serde(default = "TableSpec::one")]
    pub header_rows: usize,
    #[serde(default)]
    pub numbering_row: bool,
    pub total_row: Option<TotalRowSpec>,
    #[serde(default)]
    pub stop_at: Vec<String>,
    #[serde(default)]
    pub unique: Vec<Spanned<String>>,
    pub columns: Vec<ColumnSpec>,
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
    pub column: Spanned<String>,
    pub label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ColumnSpec {
    pub field: Spanned<String>,
    pub header: Header,
    #[serde(default)]
    pub aliases: Vec<Header>,
    #[serde(rename = "type")]
    pub kind: ValueKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub ignore: bool,
    #[serde(default)]
    pub blank: Blank,
    #[serde(default)]
    pub values: Vec<CategorySpec>,
    pub unit_of: Option<UnitOfSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CategorySpec {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitOfSpec {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub under_sender: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleSpec {
    pub id: String,
    pub table: Spanned<String>,
    pub severity: Severity,
    #[serde(default)]
    pub scope: RuleScope,
    pub check: Spanned<String>,
    #[serde(default)]
    pub for_each: Vec<Spanned<String>>,
    pub cell: Option<Spanned<String>>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MergeSpec {
    pub id: String,
    pub severity: Severity,
    pub left: MergeSideSpec,
    pub right: MergeSideSpec,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MergeSideSpec {
    pub table: Spanned<String>,
    pub unit: Spanned<String>,
    pub field: Spanned<String>,
}

/// Exactly one of `source`, `reference`, `expr` or `ratio` says what the measure is;
/// `check` enforces that and resolves it into a `Measure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MeasureSpec {
    pub id: Spanned<String>,
    pub source: Option<Spanned<String>>,
    pub field: Option<Spanned<String>>,
    pub filter: Option<Spanned<String>>,
    pub window: Option<Spanned<Window>>,
    pub opening: Option<Spanned<String>>,
    pub reference: Option<Spanned<String>>,
    pub expr: Option<Spanned<String>>,
    pub level: Option<Spanned<String>>,
    pub ratio: Option<Vec<Spanned<String>>>,
    pub scale: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkbookSpec {
    pub file: String,
    pub superior: String,
    pub issuer: String,
    pub motto: String,
    pub place: String,
    pub date_line: String,
    pub period_line: String,
    pub severities: BTreeMap<String, String>,
    #[serde(default)]
    pub signature: Signature,
    pub sheets: Vec<SheetSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SheetSpec {
    pub name: Spanned<String>,
    pub title: Option<String>,
    pub kind: SheetKind,
    pub level: Option<Spanned<String>>,
    pub group_by: Option<Spanned<String>>,
    pub total: Option<Spanned<String>>,
    pub total_label: Option<String>,
    pub table: Option<Spanned<String>>,
    pub attainment: Option<Attainment>,
    pub chart: Option<ChartSpec>,
    pub missing_title: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub columns: Vec<SheetColumnSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    pub label: Header,
    pub value: Spanned<String>,
    #[serde(default)]
    pub format: CellFormat,
    pub width: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChartSpec {
    pub title: String,
    pub value: Spanned<String>,
}
