//! The pipeline definition: everything the engine knows about a domain comes from here.
//!
//! A definition is a TOML file (`pipelines/*.toml`) read with serde. Every struct denies
//! unknown fields, so a misspelt key is an error with its line and column, not silence.
//! Names the engine must check against each other (fields, tables, measures) are kept
//! `Spanned`, so `check` can point at the place that is wrong.

mod check;

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub use check::{load, parse, DefinitionError, Problem};

/// A whole pipeline definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub pipeline: Pipeline,
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
    /// Message templates for the engine's own finding codes, in the clerk's language.
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
    /// Caps on what one input file may cost to read.
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub policy: Policy,
}

/// Caps against hostile or broken files; a file past one is a finding, never an
/// out-of-memory. The defaults are generous for anything a unit types.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_file_mb: u64,
    /// Cell slots one sheet may hold.
    pub max_cells: u64,
    /// What the entries of one .xlsx/.ods may inflate to, all together.
    pub max_unzipped_mb: u64,
    /// How many times smaller than its content a zip entry may be.
    pub max_zip_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_mb: 20, max_cells: 4_000_000, max_unzipped_mb: 200, max_zip_ratio: 200 }
    }
}

impl Limits {
    pub fn caps(&self) -> crate::ingest::workbook::Caps {
        crate::ingest::workbook::Caps {
            max_file_bytes: self.max_file_mb.saturating_mul(1024 * 1024),
            max_cells: self.max_cells,
            max_unzipped_bytes: self.max_unzipped_mb.saturating_mul(1024 * 1024),
            max_zip_ratio: self.max_zip_ratio,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    pub name: String,
    pub title: String,
    /// `month` or `quarter`: what a return reports and a run consolidates.
    pub period: PeriodKind,
    /// The words returns write a quarter with, the first before its number (`Quý`, then
    /// `năm` for "year"): read around the number, and written by templates.
    #[serde(default)]
    pub quarter_words: Vec<String>,
    pub term: Term,
}

pub use crate::period::PeriodKind;

/// The term (nhiệm kỳ) that term-to-date figures accumulate over.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub start: Spanned<String>,
    pub end: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySpec {
    /// CSV with `code,name,kind,parent,valid_from,valid_to,aliases`, relative to the data directory.
    pub file: String,
    /// Unit kinds from the top of the hierarchy down, e.g. province, district, grassroots.
    pub levels: Vec<String>,
}

/// A reference table the board keeps itself (targets, opening balances), keyed by unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub id: String,
    pub file: String,
    /// The field holding the unit code.
    pub key: Spanned<String>,
    /// For opening balances: the label of the cell that holds the cut-off month.
    pub cutoff: Option<LabelledField>,
    pub table: TableSpec,
}

/// A return type: a kind of workbook that units send, recognised by its content.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnSpec {
    pub id: String,
    pub title: String,
    /// Registry kinds of the units that must send this return each period.
    pub senders: Vec<String>,
    pub header: TitleBlock,
    pub tables: Vec<TableSpec>,
    /// How `tonghop template` lays out a blank return of this type.
    pub template: Option<TemplateSpec>,
}

/// The parts of a blank return that reading it does not need but people do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The title of the form, over the table.
    pub heading: String,
    /// The right-hand line over the date line.
    pub motto: String,
    /// `{month}` and `{year}` are replaced.
    pub period_line: String,
    /// The place/date line; `{month}` and `{year}` are replaced, the rest left to fill.
    pub date_line: String,
    /// Blank data rows per table.
    #[serde(default = "TemplateSpec::fifteen")]
    pub rows: usize,
    /// Lines under the table, left (recipients) and right (signature).
    #[serde(default)]
    pub footer_left: Vec<String>,
    #[serde(default)]
    pub footer_right: Vec<String>,
}

impl TemplateSpec {
    fn fifteen() -> usize {
        15
    }
}

/// Where the title block of a return says who sent it and for which period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleBlock {
    pub unit: LabelledField,
    pub period: LabelledField,
    /// A word that starts the date in the place/date line (`…, ngày 31 tháng 10 năm 2023`).
    pub date_marker: Option<String>,
}

/// A value found next to a label: in the cells to its right, or after a colon in the same cell.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledField {
    pub label: String,
}

/// How to find a table by its header text and read its rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    #[serde(default = "TableSpec::default_id")]
    pub id: String,
    /// The sheet name a template gives this table (reading finds it on any sheet).
    pub sheet: Option<String>,
    /// How many rows the header spans; group headers of the upper rows join the ones below.
    #[serde(default = "TableSpec::one")]
    pub header_rows: usize,
    /// Skip a row of column numbers (`(1) (2) …`, `A B 1 2 …`) right under the header.
    #[serde(default)]
    pub numbering_row: bool,
    /// The total row: never data, checked against the sum of the rows above it.
    pub total_row: Option<TotalRow>,
    /// Texts that end the table when a row starts with them (the footer).
    #[serde(default)]
    pub stop_at: Vec<String>,
    /// Fields whose values must not repeat within one return (a second occurrence is
    /// rejected with a finding).
    #[serde(default)]
    pub unique: Vec<Spanned<String>>,
    pub columns: Vec<ColumnSpec>,
    /// Each column's header and aliases, folded: computed once, used for every sheet.
    #[serde(skip)]
    pub folded_headers: std::sync::OnceLock<Vec<Vec<String>>>,
}

impl TableSpec {
    fn default_id() -> String {
        "table".to_string()
    }
    fn one() -> usize {
        1
    }

    pub fn column(&self, field: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.field.get_ref() == field)
    }

    /// Each column's header and aliases as `text::fold` gives them, group and sub-header joined.
    pub fn folded_headers(&self) -> &[Vec<String>] {
        self.folded_headers.get_or_init(|| {
            self.columns
                .iter()
                .map(|c| {
                    std::iter::once(&c.header)
                        .chain(&c.aliases)
                        .map(|h| crate::text::fold(&h.parts().join(" ")))
                        .collect()
                })
                .collect()
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotalRow {
    /// The field whose cell holds the total label.
    pub column: Spanned<String>,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub field: Spanned<String>,
    /// The header text; a list joins a group header with the sub-header under it.
    pub header: Header,
    /// Other header texts units use for this column.
    #[serde(default)]
    pub aliases: Vec<Header>,
    #[serde(rename = "type")]
    pub kind: ValueKind,
    /// The column must be present, and every row must have a value in it.
    #[serde(default)]
    pub required: bool,
    /// Read the column for location only; its values are not kept (row numbers).
    #[serde(default)]
    pub ignore: bool,
    /// What a blank cell (or `-`) means.
    #[serde(default)]
    pub blank: Blank,
    /// For `category` columns: the allowed values and the texts that mean them.
    #[serde(default)]
    pub values: Vec<CategoryValue>,
    /// The value is a unit code: of this registry kind, valid in the period, and (with
    /// `under_sender`) under the unit that sent the return.
    pub unit_of: Option<UnitOf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitOf {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub under_sender: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Header {
    One(String),
    Joined(Vec<String>),
}

impl Header {
    pub fn parts(&self) -> Vec<&str> {
        match self {
            Header::One(s) => vec![s.as_str()],
            Header::Joined(v) => v.iter().map(String::as_str).collect(),
        }
    }

    /// The label as a person reads it, group and sub-header joined.
    pub fn display(&self) -> String {
        self.parts().join(" - ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    Text,
    /// A whole number, any sign.
    Integer,
    /// A whole number ≥ 0.
    Count,
    Number,
    Date,
    /// A month, `MM/YYYY` text or a date cell.
    Month,
    Category,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Blank {
    /// A blank cell is a missing value.
    #[default]
    Missing,
    /// A blank cell or `-` is zero.
    Zero,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryValue {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule: a SQL expression over the fields of one table that must hold, for each row
/// or for each return as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    /// `return.table`, e.g. `mau01.cells`.
    pub table: Spanned<String>,
    pub severity: Severity,
    /// `row` (the default): the check holds on every row. `return`: an aggregate check
    /// (`SUM(…)`, `COUNT(…)`) holds over each return's rows.
    #[serde(default)]
    pub scope: RuleScope,
    /// The condition that must be true; `{field}` stands for each field of `for_each`.
    pub check: Spanned<String>,
    /// Apply the rule once per field listed, substituting `{field}` in `check`.
    #[serde(default)]
    pub for_each: Vec<Spanned<String>>,
    /// The field whose cell the finding points at (defaults to the `for_each` field).
    pub cell: Option<Spanned<String>>,
    /// Message template: `{field_id}` is the row's value, `{label}` the column's header.
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleScope {
    #[default]
    Row,
    Return,
}

/// Which severities reject what. A finding about one row (a cell, a row rule) rejects
/// the row when its severity is in `reject_row`; a finding about a whole file rejects
/// the file when in `reject_file`. Everything else only informs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub reject_row: Vec<Severity>,
    pub reject_file: Vec<Severity>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { reject_row: vec![Severity::Error], reject_file: vec![Severity::Error] }
    }
}

/// Reconciliation between two sources: per unit, the sum of one field against another.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeSpec {
    pub id: String,
    pub severity: Severity,
    pub left: MergeSide,
    pub right: MergeSide,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeSide {
    pub table: Spanned<String>,
    /// The field naming the unit; `_unit` is the unit that sent the return.
    pub unit: Spanned<String>,
    pub field: Spanned<String>,
}

/// How a figure per unit is computed. Exactly one of `source`, `reference`, `expr` or
/// `ratio` says which kind it is; `check` enforces that.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    pub id: String,
    /// Sum of `field` (or count of rows) of a return table over `window`, plus the
    /// `opening` balance (`reference.field`) for cumulative windows; rolled up the hierarchy.
    pub source: Option<Spanned<String>>,
    pub field: Option<Spanned<String>>,
    pub filter: Option<Spanned<String>>,
    pub window: Option<Window>,
    pub opening: Option<Spanned<String>>,
    /// `reference.field`: a unit without a row of its own gets the sum of its children.
    pub reference: Option<Spanned<String>>,
    /// An expression over other measures, evaluated for the units of `level`, then rolled up.
    pub expr: Option<Spanned<String>>,
    pub level: Option<Spanned<String>>,
    /// `[numerator, denominator]`, times `scale`, computed after the roll-up, never summed.
    pub ratio: Option<Vec<Spanned<String>>>,
    pub scale: Option<f64>,
}

/// The kind of a checked measure, borrowed from its spec.
pub enum MeasureKind<'a> {
    Sum { source: &'a str, field: Option<&'a str>, filter: Option<&'a str>, window: Window, opening: Option<&'a str> },
    Reference(&'a str),
    Expr { expr: &'a str, level: &'a str },
    Ratio { numerator: &'a str, denominator: &'a str, scale: f64 },
}

impl MeasureSpec {
    /// The measure's kind; `None` only for a definition that `check` rejects.
    pub fn kind(&self) -> Option<MeasureKind<'_>> {
        fn s(v: &Option<Spanned<String>>) -> Option<&str> {
            v.as_ref().map(|x| x.get_ref().as_str())
        }
        match (&self.source, &self.reference, &self.expr, &self.ratio) {
            (Some(source), None, None, None) => Some(MeasureKind::Sum {
                source: source.get_ref(),
                field: s(&self.field),
                filter: s(&self.filter),
                window: self.window?,
                opening: s(&self.opening),
            }),
            (None, Some(r), None, None) => Some(MeasureKind::Reference(r.get_ref())),
            (None, None, Some(e), None) => Some(MeasureKind::Expr { expr: e.get_ref(), level: s(&self.level)? }),
            (None, None, None, Some(r)) if r.len() == 2 => Some(MeasureKind::Ratio {
                numerator: r[0].get_ref(),
                denominator: r[1].get_ref(),
                scale: self.scale.unwrap_or(100.0),
            }),
            _ => None,
        }
    }

    /// Measures that add up the hierarchy (everything but ratios).
    pub fn is_additive(&self) -> bool {
        self.ratio.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// The run's period, in a monthly pipeline.
    Month,
    /// The run's period, in a quarterly pipeline.
    Quarter,
    Year,
    Term,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkbookSpec {
    /// File name; `{period}` is replaced by `YYYY-MM` (or `YYYY-Qn`).
    pub file: String,
    /// The title block: superior body and issuing body on the left.
    pub superior: String,
    pub issuer: String,
    pub motto: String,
    /// Place for the place/date line.
    pub place: String,
    /// `{day}`, `{month}`, `{year}` are replaced.
    pub date_line: String,
    /// `{month}`, `{year}` are replaced.
    pub period_line: String,
    /// Severity names as the clerk reads them.
    pub severities: BTreeMap<String, String>,
    /// Under the tables people sign: recipients on the left, the signatory on the right.
    #[serde(default)]
    pub signature: Signature,
    pub sheets: Vec<SheetSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    #[serde(default)]
    pub left: Vec<String>,
    #[serde(default)]
    pub right: Vec<String>,
}

/// One sheet of the consolidated workbook. `kind` says what fills it; the other keys
/// belong to some kinds only, and `check` says which.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetSpec {
    pub name: String,
    pub title: Option<String>,
    pub kind: SheetKind,
    /// units: one row per unit of this level.
    pub level: Option<Spanned<String>>,
    /// units: rows grouped under their ancestor of this level, a subtotal row each;
    /// completeness: the level whose units are the groups.
    pub group_by: Option<Spanned<String>>,
    /// units: a last row for the unit of this level (the province).
    pub total: Option<Spanned<String>>,
    /// Label of a subtotal or total row; `{name}` is the unit's name.
    pub total_label: Option<String>,
    /// rows: the return table listed.
    pub table: Option<Spanned<String>>,
    /// units: colour percentage cells by attainment thresholds.
    pub attainment: Option<Attainment>,
    /// units: a bar chart of one column.
    pub chart: Option<ChartSpec>,
    /// completeness: heading of the list of units whose return is missing or rejected.
    pub missing_title: Option<String>,
    /// Labels of fixed texts the engine writes on this sheet (statuses, info keys).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub columns: Vec<SheetColumn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SheetKind {
    /// One row per unit of a level, figures from measures.
    Units,
    /// Every accepted row of a return table, with totals.
    Rows,
    /// Every finding of the period.
    Findings,
    /// Expected against received returns, per group unit.
    Completeness,
    /// Run metadata, input files and row counts.
    Info,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetColumn {
    pub label: Header,
    /// What fills the column: `measure:ID`, `field:ID`, `unit:code|name|parent`,
    /// `fraction:A/B`, or a finding/completeness attribute.
    pub value: Spanned<String>,
    #[serde(default)]
    pub format: CellFormat,
    pub width: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellFormat {
    #[default]
    Text,
    /// A whole number with thousands separators.
    Count,
    /// A number with one decimal.
    Decimal,
    /// A percentage with one decimal (the measure holds percent points).
    Percent,
    Date,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attainment {
    /// Below `low` is red, from `low` to below `high` amber, `high` and over green.
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    pub title: String,
    /// The value of the sheet column to chart (`measure:ID`).
    pub value: Spanned<String>,
}

impl Definition {
    pub fn return_spec(&self, id: &str) -> Option<&ReturnSpec> {
        self.returns.iter().find(|r| r.id == id)
    }

    /// A return table by its `return.table` name.
    pub fn table(&self, qualified: &str) -> Option<(&ReturnSpec, &TableSpec)> {
        let (ret, table) = qualified.split_once('.')?;
        let spec = self.return_spec(ret)?;
        spec.tables.iter().find(|t| t.id == table).map(|t| (spec, t))
    }

    pub fn reference(&self, id: &str) -> Option<&ReferenceSpec> {
        self.references.iter().find(|r| r.id == id)
    }

    pub fn measure(&self, id: &str) -> Option<&MeasureSpec> {
        self.measures.iter().find(|m| m.id == id)
    }

    /// The message template for an engine finding code, or the given default.
    pub fn message<'a>(&'a self, code: &str, default: &'a str) -> &'a str {
        self.messages.get(code).map(String::as_str).unwrap_or(default)
    }
}

/// All `return.table` names of the definition, in definition order.
pub fn table_names(def: &Definition) -> Vec<String> {
    def.returns.iter().flat_map(|r| r.tables.iter().map(move |t| format!("{}.{}", r.id, t.id))).collect()
}
