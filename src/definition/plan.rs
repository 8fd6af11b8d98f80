//! The resolved definition: what the stages read, in types that cannot hold what `check`
//! rejects.
//!
//! `check` turns the options a file states (`spec`) into a `Plan` once: tables, measures
//! and references are indexed (`TableId`, `MeasureId`, `ReferenceId`) instead of named
//! by strings to look up, SQL expressions are parsed, headers are folded, sheet values are
//! enums. A stage that holds a `Plan` never has to handle a definition that does not hold
//! together.

use std::collections::BTreeMap;

use polars::prelude::Expr;
use serde::Deserialize;

use crate::period::{Month, Period, PeriodKind};
use crate::print::Orientation;
use crate::text;

/// A whole pipeline, checked and resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    pub pipeline: Pipeline,
    pub registry: RegistryFile,
    pub(crate) references: Vec<Reference>,
    pub(crate) returns: Vec<Return>,
    /// Every table of every return, in definition order; a `TableId` indexes it.
    pub(crate) tables: Vec<Table>,
    /// The return each table belongs to, by `TableId`.
    pub(super) table_returns: Vec<usize>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) reconciliations: Vec<Reconciliation>,
    pub(crate) measures: Vec<Measure>,
    pub(crate) workbook: Workbook,
    /// Message templates for the engine's own finding codes, in the clerk's language.
    pub(crate) messages: BTreeMap<String, String>,
    /// A short title for each engine finding code, in the clerk's language.
    pub(crate) titles: BTreeMap<String, String>,
    /// Every label of a title block (the unit's, the period's, a cut-off's), folded: a
    /// cell that holds one is never the value of another.
    pub(crate) labels: Vec<String>,
    pub(crate) limits: Limits,
    pub(crate) policy: Policy,
    pub(crate) feedback: Option<Feedback>,
}

/// The workbooks `tonghop feedback` writes: for each unit of `level`, what its units must
/// do (and for each sender with errors, what it must); `{name}` in a sheet's title is the
/// unit's name.
#[derive(Debug, Clone)]
pub(crate) struct Feedback {
    /// File name; `{period}` and `{code}` are replaced.
    pub(crate) file: String,
    pub(crate) level: String,
    /// `Nơi nhận` under a signed sheet, `{name}` the unit's; the project's when empty.
    pub(crate) recipients: Vec<String>,
    /// What to do about a finding, by rule id or finding code.
    pub(crate) fixes: BTreeMap<String, String>,
    pub(crate) sheets: Vec<Sheet>,
}

impl Plan {
    /// What to do about a finding: its rule's fix, else its code's, else nothing.
    pub(crate) fn fix(&self, code: &str, rule: &str) -> String {
        let fixes = self.feedback.as_ref().map(|f| &f.fixes);
        fixes.and_then(|f| f.get(rule).or_else(|| f.get(code))).cloned().unwrap_or_default()
    }
}

/// A table of a return, by its place in `Plan::tables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TableId(pub(super) usize);

/// A measure, by its place in `Plan::measures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MeasureId(pub(super) usize);

/// A reference table, by its place in `Plan::references`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ReferenceId(pub(super) usize);

impl ReferenceId {
    pub(crate) fn index(self) -> usize {
        self.0
    }
}

impl Plan {
    /// The sums a sheet shows month by month (`months:`, a trend): the figures hold each
    /// month of the year to the period for them.
    pub(crate) fn monthly_sums(&self) -> Vec<MeasureId> {
        let mut ids = Vec::new();
        for sheet in &self.workbook.sheets {
            let Layout::Units(layout) = &sheet.layout else { continue };
            let months = layout.columns.iter().filter_map(|c| match c.value {
                UnitValue::Month(id, _) => Some(id),
                _ => None,
            });
            for id in months.chain(layout.trend.as_ref().map(|t| t.measure)) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids
    }

    /// The periods whose returns give the same period a year earlier of the measures that
    /// show it, oldest first: the months (or quarters) of last year to `period`'s.
    pub(crate) fn year_ago_periods(&self, period: Period) -> Vec<Period> {
        let before = period.year_before();
        let december = Period::containing(Month { year: before.year, month: 12 }, before.kind);
        let windows = self.measures.iter().filter_map(|m| match &m.kind {
            MeasureKind::YearAgo(y) => match &self.measure(y.of).kind {
                MeasureKind::Sum(_) if y.full_year => Some((before.year_start(), december)),
                MeasureKind::Sum(sum) if sum.window == Window::Year => Some((before.year_start(), before)),
                MeasureKind::Sum(_) => Some((before, before)),
                _ => None,
            },
            _ => None,
        });
        let (firsts, lasts): (Vec<Period>, Vec<Period>) = windows.unzip();
        match (firsts.into_iter().min(), lasts.into_iter().max()) {
            (Some(first), Some(last)) => first.through(last),
            _ => Vec::new(),
        }
    }

    pub(crate) fn table(&self, id: TableId) -> &Table {
        &self.tables[id.0]
    }

    /// Every return table with its handle.
    pub(crate) fn table_ids(&self) -> impl Iterator<Item = (TableId, &Table)> {
        self.tables.iter().enumerate().map(|(i, t)| (TableId(i), t))
    }

    /// The return a table belongs to.
    pub(crate) fn return_of(&self, table: TableId) -> &Return {
        &self.returns[self.table_returns[table.0]]
    }

    pub fn return_by_id(&self, id: &str) -> Option<&Return> {
        self.returns.iter().find(|r| r.id == id)
    }

    pub(crate) fn measure(&self, id: MeasureId) -> &Measure {
        &self.measures[id.0]
    }

    pub(crate) fn reference(&self, id: ReferenceId) -> &Reference {
        &self.references[id.0]
    }

    /// Every reference table with its handle.
    pub(crate) fn reference_ids(&self) -> impl Iterator<Item = (ReferenceId, &Reference)> {
        self.references.iter().enumerate().map(|(i, r)| (ReferenceId(i), r))
    }

    /// The fields of a reference table that measures read (as values or opening balances).
    pub(crate) fn fields_used(&self, id: ReferenceId) -> Vec<&str> {
        self.measures
            .iter()
            .flat_map(|m| match &m.kind {
                MeasureKind::Reference(field) => std::slice::from_ref(field),
                MeasureKind::Sum(sum) => sum.opening.as_slice(),
                MeasureKind::YearAgo(y) => y.published.as_deref().unwrap_or_default(),
                _ => &[],
            })
            .filter(|field| field.reference == id)
            .map(|field| field.field.as_str())
            .collect()
    }

    /// What a finding is about, in the clerk's words: its rule's or reconciliation's
    /// title, else the definition's title for its code, else the code itself.
    pub(crate) fn finding_title(&self, code: &str, rule: &str) -> String {
        let rule_title = self.rules.iter().find(|r| r.id == rule).and_then(|r| r.title.clone());
        let merge_title = || self.reconciliations.iter().find(|m| m.id == rule).and_then(|m| m.title.clone());
        rule_title.or_else(merge_title).or_else(|| self.titles.get(code).cloned()).unwrap_or_else(|| code.to_string())
    }

    /// The message template for an engine finding code, or the given default.
    pub(crate) fn message<'a>(&'a self, code: &str, default: &'a str) -> &'a str {
        self.messages.get(code).map(String::as_str).unwrap_or(default)
    }
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub(crate) name: String,
    pub(crate) title: String,
    /// What a return reports and a run consolidates.
    pub period: PeriodKind,
    /// The words returns write a quarter with, the first before its number (`Quý`, then
    /// `năm` for "year"): read around the number, and written by templates.
    pub(crate) quarter_words: Vec<String>,
    /// The first month of the term (nhiệm kỳ) that term-to-date figures accumulate over.
    pub(crate) term_start: Month,
    /// The day a period's returns are due.
    pub(crate) deadline: Option<Deadline>,
}

/// When a period's returns are due: `day` of the period's last month (`{ day = 25 }`), or
/// of the month after (`{ day = 5, month = "next" }`); a day past the month's end is its
/// last day.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub(crate) day: u32,
    #[serde(default)]
    pub(crate) month: DeadlineMonth,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeadlineMonth {
    #[default]
    Same,
    Next,
}

impl Deadline {
    /// The date the returns of `period` are due.
    pub(crate) fn of(self, period: Period) -> chrono::NaiveDate {
        let mut month = period.last_month();
        if self.month == DeadlineMonth::Next {
            month = month.next();
        }
        let first = chrono::NaiveDate::from_ymd_opt(month.year, month.month, 1).unwrap_or_default();
        let last = first + chrono::Months::new(1) - chrono::Days::new(1);
        chrono::Datelike::with_day(&first, self.day.clamp(1, chrono::Datelike::day(&last))).unwrap_or(last)
    }
}

/// The unit registry: a CSV relative to the data directory, and the unit kinds from the
/// top of the hierarchy down.
#[derive(Debug, Clone)]
pub struct RegistryFile {
    pub file: String,
    pub levels: Vec<String>,
    pub(crate) succession: Option<Succession>,
}

/// A reorganisation's table of successors (the shape of the official conversion table):
/// each row a new unit and one of the old units it was formed from, whole or in part.
/// A figure of a period before `from` is compared with a new unit's only when every
/// predecessor merged into it whole.
#[derive(Debug, Clone)]
pub struct Succession {
    /// A CSV relative to the data directory.
    pub(crate) file: String,
    /// The first month of the new units (`2025-07`).
    pub(crate) from: crate::period::Month,
    /// The headers of the new unit's code, the old unit's code, and how it merged.
    pub(crate) unit: String,
    pub(crate) predecessor: String,
    pub(crate) how: String,
    /// The text of `how` for a whole unit merged; anything else is a part.
    pub(crate) whole: String,
}

/// A table the board keeps itself (targets, opening balances), keyed by unit.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) file: String,
    /// The field holding the unit code.
    pub(crate) key: String,
    /// For opening balances: the label of the cell that holds the cut-off.
    pub(crate) cutoff: Option<String>,
    /// Registry levels every unit of which must have a row.
    pub(crate) covers: Vec<String>,
    pub(crate) table: Table,
    /// A table a board may not have (last year's published figures): without the file, or
    /// with one of another year, the figures from it are unknown and the run goes on.
    pub(crate) optional: bool,
}

/// A field of a reference table (`targets.year_plan`).
#[derive(Debug, Clone)]
pub(crate) struct ReferenceField {
    pub(crate) reference: ReferenceId,
    pub(crate) field: String,
}

/// A return type: a kind of workbook that units send, recognised by its content.
#[derive(Debug, Clone)]
pub struct Return {
    pub(crate) id: String,
    pub(crate) title: String,
    /// Registry kinds of the units that must send this return each period.
    pub(crate) senders: Vec<String>,
    /// The labels beside the unit code and the period in the title block.
    pub(crate) unit_label: String,
    pub(crate) period_label: String,
    /// A word that starts the date in the place/date line (`…, ngày 31 tháng 10 năm 2023`).
    pub(crate) date_marker: Option<String>,
    pub(crate) tables: Vec<TableId>,
    /// How `tonghop template` lays out a blank return of this type.
    pub(crate) template: Option<TemplateSpec>,
}

/// How to find a table by its header text and read its rows.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) id: String,
    /// `return.table` for a return's table, the reference's id for a reference table: the
    /// name artifacts and findings use.
    pub(crate) name: String,
    /// The sheet name a template gives this table (reading finds it on any sheet).
    pub(crate) sheet: Option<String>,
    /// How many rows the header spans.
    pub(crate) header_rows: usize,
    /// Skip a row of column numbers right under the header.
    pub(crate) numbering_row: bool,
    /// The total row: never data, checked against the sum of the rows above it.
    pub(crate) total_row: Option<TotalRow>,
    /// Texts that end the table when a row starts with them (the footer), folded.
    pub(crate) stop_at: Vec<String>,
    /// Columns whose values must not repeat within one return.
    pub(crate) unique: Vec<usize>,
    pub(crate) columns: Vec<Column>,
}

impl Table {
    pub(crate) fn column(&self, field: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    /// The table with `{year}` in its headers replaced by `year` (reference tables).
    /// `{last_year}` by the year before.
    pub(crate) fn for_year(&self, year: i32) -> Table {
        let (last, year) = ((year - 1).to_string(), year.to_string());
        let fill = |h: &Header| h.replace("{year}", &year).replace("{last_year}", &last);
        let mut table = self.clone();
        for column in &mut table.columns {
            column.header = fill(&column.header);
            column.aliases = column.aliases.iter().map(fill).collect();
            column.matches = Column::matches(&column.header, &column.aliases);
        }
        table
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TotalRow {
    /// The column whose cell holds the label.
    pub(crate) column: usize,
    /// The label a template writes.
    pub(crate) label: String,
    /// The label and its aliases, folded, and without marks, for the cells units type.
    pub(crate) folded: Vec<String>,
    pub(crate) bare: Vec<String>,
}

impl TotalRow {
    /// Whether a cell's text labels a total row: it starts with a label (folded), or is
    /// one typed without marks (`Tong cong`).
    pub(crate) fn labels(&self, cell: &str) -> bool {
        let folded = text::fold(cell);
        if folded.is_empty() {
            return false;
        }
        self.folded.iter().any(|l| folded.starts_with(l.as_str())) || self.bare.contains(&text::bare(cell))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) field: String,
    /// The header text; `[group, sub]` joins a group header with the sub-header under it.
    pub(crate) header: Header,
    /// Other header texts units use for this column.
    pub(crate) aliases: Vec<Header>,
    /// The header and aliases as `text::fold` gives them, group and sub-header joined.
    pub(crate) matches: Vec<String>,
    pub(crate) kind: ValueKind,
    /// The column must be present, and every row must have a value in it.
    pub(crate) required: bool,
    /// Read the column for location only; its values are not kept (row numbers).
    pub(crate) ignore: bool,
    /// What a blank cell (or `-`) means.
    pub(crate) blank: Blank,
    /// For `category` columns: the allowed values and the texts that mean them.
    pub(crate) values: Vec<Category>,
    /// The value is a unit code of this registry kind (and under the sender).
    pub(crate) unit_of: Option<UnitOf>,
}

impl Column {
    /// The header and aliases, folded, that a sheet's header may say.
    pub(super) fn matches(header: &Header, aliases: &[Header]) -> Vec<String> {
        std::iter::once(header).chain(aliases).map(|h| text::fold(&h.parts().join(" "))).collect()
    }
}

/// An allowed value of a `category` column.
#[derive(Debug, Clone)]
pub(crate) struct Category {
    pub(crate) id: String,
    pub(crate) label: String,
    /// The id, the label and the aliases, folded: what a cell may say.
    pub(crate) matches: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct UnitOf {
    pub(crate) kind: String,
    pub(crate) under_sender: bool,
}

/// A rule: a SQL expression over the fields of one table that must hold.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) table: TableId,
    pub(crate) severity: Severity,
    pub(crate) title: Option<String>,
    /// Message template: `{field_id}` is the row's value, `{label}` the column's header.
    pub(crate) message: String,
    pub(crate) kind: RuleKind,
}

#[derive(Debug, Clone)]
pub(crate) enum RuleKind {
    /// The checks hold on every row (one per `for_each` field, or one).
    Row(Vec<RowCheck>),
    /// An aggregate check (`SUM(…)`, `COUNT(…)`) holds over each return's rows.
    Return(Sql),
}

/// One check of a row rule and the field whose cell a failure points at.
#[derive(Debug, Clone)]
pub(crate) struct RowCheck {
    pub(crate) check: Sql,
    pub(crate) cell: String,
}

/// A SQL expression as written and as polars parsed it.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) expr: Expr,
    /// Where the definition writes it, `file:line:column`: what a failure at run time names.
    pub(crate) at: String,
}

impl Sql {
    /// A failure to evaluate this expression at run time, as the definition's author reads it:
    /// the expression, its place, and the first line of polars' reason (never a query plan).
    pub(crate) fn failed(&self, what: &str, e: impl std::fmt::Display) -> anyhow::Error {
        let reason = e.to_string();
        let reason = reason.lines().next().unwrap_or_default().to_string();
        anyhow::anyhow!("{what} `{}` ({}) could not be evaluated: {reason}", self.text, self.at)
    }
}

/// Reconciliation between two sources: per unit, the sum of one field against another.
#[derive(Debug, Clone)]
pub(crate) struct Reconciliation {
    pub(crate) id: String,
    pub(crate) title: Option<String>,
    pub(crate) severity: Severity,
    pub(crate) left: Side,
    pub(crate) right: Side,
    pub(crate) message: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Side {
    pub(crate) table: TableId,
    /// The field naming the unit; `_unit` is the unit that sent the return.
    pub(crate) unit: String,
    pub(crate) field: String,
}

/// How a figure per unit is computed.
#[derive(Debug, Clone)]
pub(crate) struct Measure {
    pub(crate) id: String,
    pub(crate) kind: MeasureKind,
}

#[derive(Debug, Clone)]
pub(crate) enum MeasureKind {
    /// Sum of `field` (or count of rows) of a return table over `window`, plus the
    /// `opening` balance for cumulative windows; rolled up the hierarchy.
    Sum(Sum),
    /// A reference value: a unit without a row of its own gets the sum of its children.
    Reference(ReferenceField),
    /// An expression over other measures, evaluated for the units of `level`, then rolled up.
    Expr { expr: Sql, level: String },
    /// `numerator / denominator × scale`, computed after the roll-up, never summed.
    Ratio { numerator: MeasureId, denominator: MeasureId, scale: f64 },
    /// A sum's figure for the same period a year earlier.
    YearAgo(YearAgo),
    /// `plan - done` where positive, else 0: what of a plan was not done (last year's
    /// shortfall carried over), computed after the roll-up.
    Shortfall { plan: MeasureId, done: MeasureId },
}

/// The same period a year earlier, of a sum over a month, a quarter or the year to date:
/// from last year's returns when the inbox holds every period it needs, else from the
/// figures the board published last year.
#[derive(Debug, Clone)]
pub(crate) struct YearAgo {
    /// The sum whose figure it is.
    pub(crate) of: MeasureId,
    /// Of a year's sum: the whole of last year rather than its year to date.
    pub(crate) full_year: bool,
    /// Last year's published figure of each month, January first: a reference's fields.
    pub(crate) published: Option<Vec<ReferenceField>>,
}

/// A measure that adds up a return table's rows.
#[derive(Debug, Clone)]
pub(crate) struct Sum {
    pub(crate) source: TableId,
    /// The field summed; none counts the rows.
    pub(crate) field: Option<String>,
    /// Which rows count.
    pub(crate) filter: Option<Sql>,
    pub(crate) window: Window,
    /// The balance at the cut-off, for windows that start before it.
    pub(crate) opening: Option<ReferenceField>,
    /// The field holds decimals (`number`): the sum keeps them.
    pub(crate) decimal: bool,
}

/// The consolidated workbook.
#[derive(Debug, Clone)]
pub(crate) struct Workbook {
    /// File name; `{period}` is replaced by `YYYY-MM` (or `YYYY-Qn`).
    pub(crate) file: String,
    /// The title block's right: the motto over the date line. (Its left, the board, and
    /// the signature are the project's `Identity`: one pipeline serves every province.)
    pub(crate) motto: String,
    /// `{place}`, `{day}`, `{month}`, `{year}` are replaced.
    pub(crate) date_line: String,
    /// `{month}`, `{quarter}`, `{year}` are replaced.
    pub(crate) period_line: String,
    /// Severity names as the clerk reads them.
    pub(crate) severities: BTreeMap<String, String>,
    pub(crate) marks: Marks,
    pub(crate) print: Print,
    pub(crate) sheets: Vec<Sheet>,
}

/// How the workbook prints: the body text's and the titles' sizes in points, the page
/// number in the footer (`{page}`, `{pages}`), and the header of the pages after a sheet's
/// first (`{title}`, `{period}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Print {
    #[serde(default = "Print::body_size")]
    pub(crate) font_size: f64,
    #[serde(default = "Print::title_size")]
    pub(crate) title_size: f64,
    pub(crate) page_number: String,
    pub(crate) continued: String,
}

impl Print {
    fn body_size() -> f64 {
        11.0
    }

    fn title_size() -> f64 {
        14.0
    }
}

/// How the workbook marks figures that are not whole, in the clerk's words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Marks {
    /// In a unit's cells when it sent no valid return for the period.
    pub(crate) missing: String,
    /// Under a table of units when some sent nothing; `{units}` lists them.
    pub(crate) missing_note: String,
    /// After the first units the note lists, for the rest: `{count}` of them.
    pub(crate) missing_more: String,
    /// Under a table holding cumulative figures that lack a period's return.
    pub(crate) incomplete_note: String,
    /// In a cell whose figure is unknown: an input it needs is missing or not to be
    /// trusted (the findings say which).
    pub(crate) unknown: String,
    /// In a cell comparing a unit with last year's when it was formed from parts of old
    /// units.
    pub(crate) not_comparable: String,
}

impl Default for Marks {
    fn default() -> Self {
        Marks {
            missing: "not sent".into(),
            missing_note: "No valid return: {units}.".into(),
            missing_more: "and {count} more".into(),
            incomplete_note: "Figures in italics lack the return of at least one period they add up.".into(),
            unknown: "unknown".into(),
            not_comparable: "not comparable".into(),
        }
    }
}

impl Workbook {
    /// A severity as the clerk reads it.
    pub(crate) fn severity_name(&self, severity: Severity) -> String {
        self.severities.get(severity.as_str()).cloned().unwrap_or_else(|| severity.as_str().to_string())
    }
}

/// One sheet of the consolidated workbook.
#[derive(Debug, Clone)]
pub(crate) struct Sheet {
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    /// Fixed texts the engine writes on this sheet (statuses, info keys).
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) layout: Layout,
    pub(crate) print: SheetPrint,
    /// The recipients and signature under it (a findings sheet is not signed unless so).
    pub(crate) signed: bool,
}

/// How a sheet prints: on A4 in `orientation`, its first `repeat` columns on every page,
/// then each block of columns on pages of its own. Columns after the last block are not
/// printed. A sheet whose columns the engine lays out (`info`) has no blocks.
#[derive(Debug, Clone)]
pub(crate) struct SheetPrint {
    pub(crate) orientation: Orientation,
    pub(crate) repeat: usize,
    pub(crate) blocks: Vec<std::ops::Range<usize>>,
}

impl Sheet {
    /// The sheet's text for `key`, or the key itself.
    pub(crate) fn label(&self, key: &str) -> String {
        self.labels.get(key).cloned().unwrap_or_else(|| key.to_string())
    }
}

/// What fills a sheet.
#[derive(Debug, Clone)]
pub(crate) enum Layout {
    /// One row per unit of a level, figures from measures.
    Units(UnitsLayout),
    /// Every accepted row of a return table, with totals.
    Rows(RowsLayout),
    /// Every finding of the period.
    Findings(Vec<SheetColumn<FindingAttribute>>),
    /// Expected against received returns, per group unit.
    Completeness(CompletenessLayout),
    /// Run metadata, input files and row counts.
    Info,
}

#[derive(Debug, Clone)]
pub(crate) struct UnitsLayout {
    /// One row per unit of this level.
    pub(crate) level: String,
    /// Rows grouped under their ancestor of this level, a subtotal row each.
    pub(crate) group_by: Option<String>,
    /// The label of a subtotal row; `{name}` is the group's name.
    pub(crate) subtotal_label: String,
    /// A last row for the unit(s) of this level (the province).
    pub(crate) total: Option<String>,
    pub(crate) total_label: String,
    /// Colour percentage cells by attainment thresholds.
    pub(crate) attainment: Option<Attainment>,
    pub(crate) chart: Option<Chart>,
    pub(crate) trend: Option<Box<Trend>>,
    /// Only the units behind the plan's pace, each group shown when one of its is.
    pub(crate) behind: Option<Box<Pace>>,
    pub(crate) columns: Vec<SheetColumn<UnitValue>>,
}

/// The plan's pace: a unit is behind when its year to date `done` is below `plan` times
/// the share due by the period's last month.
#[derive(Debug, Clone)]
pub(crate) struct Pace {
    pub(crate) done: MeasureId,
    pub(crate) plan: MeasureId,
    /// The cumulative share due by the end of each month, January first.
    pub(crate) schedule: [f64; 12],
}

impl Pace {
    /// What of `plan` is due by the end of `period`.
    pub(crate) fn due(&self, plan: f64, period: Period) -> f64 {
        plan * self.schedule[period.last_month().month as usize - 1]
    }
}

/// What a sheet with `behind` can show of a unit's pace (`pace:NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PaceValue {
    /// The plan's share due by now.
    Due,
    /// What is missing of it.
    Short,
}

/// A line chart of the top unit's cumulative figure, month by month, against the year's
/// plan at an even pace.
#[derive(Debug, Clone)]
pub(crate) struct Trend {
    pub(crate) title: String,
    pub(crate) measure: MeasureId,
    pub(crate) plan: MeasureId,
    pub(crate) labels: [String; 2],
}

impl UnitsLayout {
    /// The column holding the unit's name, where subtotal and total labels go.
    pub(crate) fn name_column(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.value == UnitValue::Unit(UnitAttribute::Name))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RowsLayout {
    pub(crate) table: TableId,
    pub(crate) total_label: String,
    pub(crate) columns: Vec<SheetColumn<RowValue>>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompletenessLayout {
    /// The level whose units are the groups.
    pub(crate) group_by: String,
    /// Heading of the list of units whose return is missing or rejected.
    pub(crate) missing_title: Option<String>,
    pub(crate) columns: Vec<SheetColumn<CompletenessAttribute>>,
}

/// A bar chart of one column of a units sheet.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub(crate) title: String,
    pub(crate) column: usize,
    /// The attainment bands' names, low to high, when the bars are coloured by band.
    pub(crate) legend: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SheetColumn<V> {
    pub(crate) label: Header,
    pub(crate) value: V,
    pub(crate) format: CellFormat,
    pub(crate) width: Option<f64>,
}

impl<V> SheetColumn<V> {
    /// The column's width, or the default for its format.
    pub(crate) fn width(&self) -> f64 {
        self.width.unwrap_or(self.format.default_width())
    }
}

/// What a column of a units sheet shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UnitValue {
    Unit(UnitAttribute),
    /// The returns of the unit and the units under it that arrived valid, of those
    /// expected for the period (`17/18`).
    Reporting,
    Measure(MeasureId),
    /// `A/B` as text (`356/541`).
    Fraction(MeasureId, MeasureId),
    /// A sum over a month, for the month of the period's year numbered so (1-12); blank
    /// after the period.
    Month(MeasureId, u32),
    Pace(PaceValue),
}

/// What a column of a rows sheet shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RowValue {
    Unit(UnitAttribute),
    Field(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitAttribute {
    Code,
    Name,
    Parent,
    ParentName,
}

impl UnitAttribute {
    pub(super) fn parse(name: &str) -> Option<UnitAttribute> {
        Some(match name {
            "code" => UnitAttribute::Code,
            "name" => UnitAttribute::Name,
            "parent" => UnitAttribute::Parent,
            "parent_name" => UnitAttribute::ParentName,
            _ => return None,
        })
    }
}

/// What a findings sheet can show of a finding (`finding:NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::EnumIter, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum FindingAttribute {
    Code,
    /// What the finding is about, in the clerk's words (`Plan::finding_title`).
    Title,
    Severity,
    Rule,
    Unit,
    UnitName,
    Group,
    File,
    Sheet,
    Cell,
    Row,
    Value,
    Expected,
    Message,
    Table,
    /// What to do about it (`[feedback] fixes`).
    Fix,
}

/// What a completeness sheet can show of a group's returns (`completeness:NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::EnumIter, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum CompletenessAttribute {
    Group,
    Expected,
    Received,
    Accepted,
    Rejected,
    Superseded,
    Missing,
    Rate,
    /// Accepted, the earliest of its valid returns dated on or before the deadline.
    OnTime,
    /// Accepted, dated after the deadline.
    Late,
    /// Accepted, no valid return of it with a date line that reads.
    Undated,
    /// On time of those expected, a fraction.
    OnTimeRate,
}

// ------------------------------------------------------------ values a definition states as they are

/// Caps against hostile or broken files; a file past one is a finding, never an
/// out-of-memory. The defaults are generous for anything a unit types.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Limits {
    pub(crate) max_file_mb: u64,
    /// Cell slots one sheet may hold.
    pub(crate) max_cells: u64,
    /// What the entries of one .xlsx/.ods may inflate to, all together.
    pub(crate) max_unzipped_mb: u64,
    /// How many times smaller than its content a zip entry may be.
    pub(crate) max_zip_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_mb: 20, max_cells: 4_000_000, max_unzipped_mb: 200, max_zip_ratio: 200 }
    }
}

/// Which severities reject what. A finding about one row (a cell, a row rule) rejects
/// the row when its severity is in `reject_row`; a finding about a whole file rejects
/// the file when in `reject_file`. Everything else only informs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Policy {
    pub(crate) reject_row: Vec<Severity>,
    pub(crate) reject_file: Vec<Severity>,
    /// What a unit's own figures show for a period it sent no valid return for.
    pub(crate) missing: Missing,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { reject_row: vec![Severity::Error], reject_file: vec![Severity::Error], missing: Missing::Blank }
    }
}

/// How a figure of a unit that sent no valid return shows: no number (the workbook says
/// the return is missing), or 0, marked as missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Missing {
    #[default]
    Blank,
    Zero,
}

/// The parts of a blank return that reading it does not need but people do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateSpec {
    /// The title of the form, over the table.
    pub(crate) heading: String,
    /// The right-hand line over the date line.
    pub(crate) motto: String,
    /// `{month}` and `{year}` are replaced.
    pub(crate) period_line: String,
    /// The place/date line; `{month}` and `{year}` are replaced, the rest left to fill.
    pub(crate) date_line: String,
    /// Blank data rows per table.
    #[serde(default = "TemplateSpec::fifteen")]
    pub(crate) rows: usize,
    /// Lines under the table, left (recipients) and right (signature).
    #[serde(default)]
    pub(crate) footer_left: Vec<String>,
    #[serde(default)]
    pub(crate) footer_right: Vec<String>,
}

impl TemplateSpec {
    fn fifteen() -> usize {
        15
    }
}

/// Below `low` is red, from `low` to below `high` amber, `high` and over green.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attainment {
    pub(crate) low: f64,
    pub(crate) high: f64,
}

/// A header: one text, or a group header joined with the sub-header under it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum Header {
    One(String),
    Joined(Vec<String>),
}

impl Header {
    pub(crate) fn parts(&self) -> Vec<&str> {
        match self {
            Header::One(s) => vec![s.as_str()],
            Header::Joined(v) => v.iter().map(String::as_str).collect(),
        }
    }

    /// The label as a person reads it, group and sub-header joined.
    pub(crate) fn display(&self) -> String {
        self.parts().join(" - ")
    }

    /// The header with `from` replaced by `to` in each part.
    pub(crate) fn replace(&self, from: &str, to: &str) -> Header {
        match self {
            Header::One(s) => Header::One(s.replace(from, to)),
            Header::Joined(parts) => Header::Joined(parts.iter().map(|s| s.replace(from, to)).collect()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ValueKind {
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
pub(crate) enum Blank {
    /// A blank cell is a missing value.
    #[default]
    Missing,
    /// A blank cell or `-` is zero.
    Zero,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub(crate) enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RuleScope {
    #[default]
    Row,
    Return,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Window {
    /// The run's period, in a monthly pipeline.
    Month,
    /// The run's period, in a quarterly pipeline.
    Quarter,
    Year,
    Term,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CellFormat {
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

impl CellFormat {
    /// The width of a column of this format that the definition gives none.
    pub(crate) fn default_width(self) -> f64 {
        if self == CellFormat::Text {
            24.0
        } else {
            11.0
        }
    }
}

#[cfg(test)]
mod deadline_tests {
    use super::*;

    fn due(day: u32, month: DeadlineMonth, period: &str) -> String {
        Deadline { day, month }.of(period.parse().unwrap()).to_string()
    }

    #[test]
    fn a_deadline_is_a_day_of_the_periods_last_month_or_the_next() {
        assert_eq!(due(30, DeadlineMonth::Same, "2023-10"), "2023-10-30");
        assert_eq!(due(5, DeadlineMonth::Next, "2023-12"), "2024-01-05");
        assert_eq!(due(30, DeadlineMonth::Same, "2024-02"), "2024-02-29", "past the month's end: its last day");
        assert_eq!(due(10, DeadlineMonth::Next, "2025-Q3"), "2025-10-10");
    }
}
