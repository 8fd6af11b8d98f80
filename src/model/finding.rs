//! Findings: what is wrong with an input, where, and what the clerk should do about it.
//!
//! Every rejected file, rejected row and doubtful value becomes a `Finding` with a stable
//! code, so the workbook, `findings.json` and scripts can all rely on the same names.

use polars::prelude::*;
use serde::Serialize;

use super::Severity;
use crate::definition::{FindingAttribute, Plan};
use crate::registry::Hierarchy;

/// The version of `findings.json`'s layout; bump it when a field changes meaning.
pub(crate) const FINDINGS_SCHEMA: &str = "tonghop.findings/1";

/// The engine's finding codes; `docs/findings.md` describes each. The spelling is the
/// code on disk, in the workbook and in the definition's `[messages]`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub(crate) enum FindingCode {
    FileUnreadable,
    FileLock,
    FileHidden,
    NotAReturn,
    ColumnMissing,
    ColumnTwice,
    TableMissing,
    TableTwice,
    UnitMissing,
    UnitByName,
    UnitMismatch,
    UnitAmbiguous,
    UnitUnknown,
    UnitNotValid,
    UnitWrongKind,
    PeriodMissing,
    PeriodOther,
    DateImplausible,
    ReturnSuperseded,
    CellType,
    CellNotWhole,
    CellNegative,
    CellRequired,
    CellDate,
    CellValue,
    CellFormula,
    TotalMismatch,
    TotalUnlabelled,
    RowAfterTotal,
    Rule,
    DuplicateKey,
    UnitNotUnder,
    Reconcile,
    ReconcileMissing,
    ReturnMissing,
    OpeningMissing,
    FigureTooLarge,
    ReferenceColumnMissing,
    ReferenceUnavailable,
    ReferenceDuplicate,
    ReferenceMissing,
    ReferenceUnknownUnit,
    ReferenceCodePadded,
}

impl FindingCode {
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }

    /// The English message used when the definition's `[messages]` has none for the code.
    pub(crate) fn default_message(self) -> &'static str {
        use FindingCode::*;
        match self {
            FileUnreadable => "The file {file} cannot be read: {value}",
            FileLock => "{file} is a temporary lock file left by Excel or LibreOffice; it is ignored",
            FileHidden => "{file} is a hidden or system file, not a return; it is ignored",
            NotAReturn => "{file} is not one of the returns of this pipeline (no known table header found)",
            ColumnMissing => "{file}: required column(s) {value} missing in sheet {sheet}",
            TableMissing => "{file}: the table `{value}` was not found in any sheet",
            ColumnTwice => {
                "{file}: the header `{value}` is there twice in sheet {sheet}, in columns {expected} and {column}; the return is not counted until one is removed"
            }
            TableTwice => {
                "{file}: the sheets {sheet} and {expected} both hold the table `{value}`; the return is not counted until one is removed"
            }
            UnitMissing => "{file}: the return does not give its unit code",
            UnitByName => "{file}: the code `{code}` names no unit that sends this return; the title block names {expected} at {sheet}!{cell}",
            UnitMismatch => {
                "{file}: the code {value} at {sheet}!{cell} is {name}, but the title block names {named} at {named_cell}"
            }
            UnitAmbiguous => "{file} gives no unit code and its title block could be any of: {value}",
            UnitUnknown => "{file}: unit code {value} at {sheet}!{cell} is not in the registry for {period}",
            UnitNotValid => "{file}: unit {value} ({name}) exists in the registry for {validity}, not in {period}",
            UnitWrongKind => "{file}: unit {value} ({name}) is a {kind}, which does not send {return}",
            PeriodMissing => "{file}: the title block gives no period this pipeline reads (`{value}`); expected {expected}",
            PeriodOther => "{file}: the return is for {value}, not for {expected}",
            DateImplausible => {
                "{file}: the date line {value} at {sheet}!{cell} cannot be that of a return for {expected}; it does not decide which return of the unit is the newest"
            }
            ReturnSuperseded => "{file} is replaced by the newer return {expected} of the same unit",
            CellType | CellNotWhole | CellNegative | CellRequired | CellDate | CellValue | CellFormula => {
                "{sheet}!{cell}: `{value}` in column {column}, expected {expected}"
            }
            TotalMismatch => "{sheet}!{cell}: the total row says {value} for {column}, the rows add up to {expected}",
            TotalUnlabelled => {
                "{sheet}!{cell}: the last row adds up the rows above it; it is taken for the total row, not a party cell"
            }
            RowAfterTotal => {
                "{sheet}!{cell}: a figure ({value}) under the total row (row {total}); the return is not counted until the unit says whether the row belongs to the table"
            }
            Rule => "{sheet}!{cell}: the rule {rule} does not hold",
            DuplicateKey => "{sheet}!{cell}: `{value}` in column {column} already appears in row {first}",
            UnitNotUnder => {
                "{sheet}!{cell}: `{value}` is not a {kind} under {sender} in the registry for the period {found}"
            }
            Reconcile => "unit {unit}: {left_file} says {left}, {right_file} says {right}",
            ReconcileMissing => "{file} records {value} for unit {unit}, which sent no {return}",
            ReturnMissing => "{unit} has not sent {value} for {expected}",
            ReferenceColumnMissing => "{file}: no column headed `{value}` in sheet {sheet}; the figures it gives are unknown",
            ReferenceUnavailable => "{file} cannot be used: {value}; the figures that come from it are unknown",
            ReferenceDuplicate => "{file} {sheet}!{cell}: unit {value} is already listed in row {first}; its figures are unknown",
            ReferenceMissing => "{file} has no row for unit {value} ({name}); its figures and every total over it are unknown",
            ReferenceUnknownUnit => "{file} {sheet}!{cell}: the registry has no unit {value}; the row is not used",
            ReferenceCodePadded => "{file} {sheet}!{cell}: the code {value} is read as {expected}, the only unit it can be",
            FigureTooLarge => "{unit}: the figure {measure} adds up to {value}, too large to be a count; it is left blank",
            OpeningMissing => {
                "{file} has no opening balance for unit {unit} ({name}) at {cutoff}; its cumulative figures are left blank"
            }
        }
    }
}

/// One thing found wrong (or worth knowing) in the inputs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Finding {
    pub(crate) code: FindingCode,
    pub(crate) severity: Severity,
    /// The rule id for definition rules, else the code.
    pub(crate) rule: String,
    pub(crate) unit: String,
    pub(crate) unit_name: String,
    /// The unit's ancestor of the level findings are grouped by (a district), filled at merge.
    pub(crate) group: String,
    /// The file name as it lies in the inbox.
    pub(crate) file: String,
    pub(crate) sheet: String,
    /// `return.table` the row belongs to, empty for file-level findings.
    pub(crate) table: String,
    /// 1-based sheet row, 0 for file-level findings.
    pub(crate) row: u32,
    pub(crate) cell: String,
    pub(crate) value: String,
    pub(crate) expected: String,
    pub(crate) message: String,
}

impl Finding {
    /// A finding whose message is the definition's template for `code` (or the English
    /// default), with `{value}`, `{expected}`, `{cell}`, `{sheet}`, `{file}`, `{unit}` and
    /// the builder's `var`s filled in.
    pub(crate) fn builder(plan: &Plan, code: FindingCode, severity: Severity) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                code,
                severity,
                rule: code.as_str().to_string(),
                unit: String::new(),
                unit_name: String::new(),
                group: String::new(),
                file: String::new(),
                sheet: String::new(),
                table: String::new(),
                row: 0,
                cell: String::new(),
                value: String::new(),
                expected: String::new(),
                message: String::new(),
            },
            template: plan.message(code.as_str(), code.default_message()).to_string(),
            vars: Vec::new(),
        }
    }

    /// One attribute as a findings sheet shows it (`row` blank for file-level findings).
    pub(crate) fn get(&self, attribute: FindingAttribute) -> String {
        use FindingAttribute as A;
        match attribute {
            // The report gives the definition's title; without a plan, the code.
            A::Code | A::Title => self.code.as_str().to_string(),
            A::Severity => self.severity.as_str().to_string(),
            A::Rule => self.rule.clone(),
            A::Unit => self.unit.clone(),
            A::UnitName => self.unit_name.clone(),
            A::Group => self.group.clone(),
            A::File => self.file.clone(),
            A::Sheet => self.sheet.clone(),
            A::Table => self.table.clone(),
            A::Row if self.row > 0 => self.row.to_string(),
            A::Row => String::new(),
            A::Cell => self.cell.clone(),
            A::Value => self.value.clone(),
            A::Expected => self.expected.clone(),
            A::Message => self.message.clone(),
            // The definition's, which the report gives.
            A::Fix => String::new(),
        }
    }
}

pub(crate) struct FindingBuilder {
    finding: Finding,
    template: String,
    vars: Vec<(String, String)>,
}

impl FindingBuilder {
    /// The message template of a definition's rule or reconciliation, instead of the code's.
    pub(crate) fn template(mut self, template: &str) -> Self {
        self.template = template.to_string();
        self
    }
    pub(crate) fn file(mut self, file: &str) -> Self {
        self.finding.file = file.to_string();
        self
    }
    pub(crate) fn unit(mut self, unit: &str) -> Self {
        self.finding.unit = unit.to_string();
        self
    }
    pub(crate) fn rule(mut self, rule: &str) -> Self {
        self.finding.rule = rule.to_string();
        self
    }
    /// The sheet and A1 cell.
    pub(crate) fn at(mut self, sheet: &str, cell: &str) -> Self {
        self.finding.sheet = sheet.to_string();
        self.finding.cell = cell.to_string();
        self
    }
    /// The table and row the cell belongs to (row 0: none).
    pub(crate) fn row(mut self, table: &str, row: u32) -> Self {
        self.finding.table = table.to_string();
        self.finding.row = row;
        self
    }
    pub(crate) fn value(mut self, value: impl Into<String>) -> Self {
        self.finding.value = value.into();
        self
    }
    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Self {
        self.finding.expected = expected.into();
        self
    }
    pub(crate) fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.push((name.to_string(), value.into()));
        self
    }
    pub(crate) fn vars(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.vars.extend(vars);
        self
    }

    pub(crate) fn build(mut self) -> Finding {
        let f = &self.finding;
        let mut vars = vec![
            ("value".to_string(), f.value.clone()),
            ("expected".to_string(), f.expected.clone()),
            ("cell".to_string(), f.cell.clone()),
            ("sheet".to_string(), f.sheet.clone()),
            ("file".to_string(), f.file.clone()),
            ("unit".to_string(), f.unit.clone()),
            ("rule".to_string(), f.rule.clone()),
        ];
        vars.append(&mut self.vars);
        self.finding.message = fill(&self.template, &vars);
        self.finding
    }
}

/// Replace `{name}` in a template by its value.
fn fill(template: &str, vars: &[(String, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Every finding names its unit and, when the hierarchy has more than two levels, the
/// unit's group (its ancestor one level under the top).
pub(crate) fn name_units(hierarchy: &Hierarchy, findings: &mut [Finding]) {
    let levels = &hierarchy.levels;
    let group_level = if levels.len() > 2 { levels[1].as_str() } else { "" };
    for f in findings {
        if let Some(unit) = hierarchy.unit(&f.unit) {
            f.unit_name = unit.name.clone();
            f.group = hierarchy.ancestor_of_kind(&unit.code, group_level).map(|g| g.name.clone()).unwrap_or_default();
        }
    }
}

/// The keys of the definition's `[titles]`, `[messages]` and `[feedback] fixes` that are
/// neither a finding code nor a rule's or merge's id: words nothing will ever show.
pub fn unknown_keys(plan: &Plan) -> Vec<String> {
    let known = |key: &str| {
        key.parse::<FindingCode>().is_ok()
            || plan.rules.iter().any(|r| r.id == key)
            || plan.reconciliations.iter().any(|m| m.id == key)
    };
    let fixes = plan.feedback.iter().flat_map(|f| f.fixes.keys().map(|k| ("feedback.fixes", k)));
    let titles = plan.titles.keys().map(|k| ("titles", k));
    // `reason-…` and `expect-…` messages are parts of a finding's text: why a file cannot
    // be read, what a cell should hold.
    let part = |k: &&String| k.starts_with("reason-") || k.starts_with("expect-");
    let messages = plan.messages.keys().filter(|k| !part(k)).map(|k| ("messages", k));
    titles
        .chain(messages)
        .chain(fixes)
        .filter(|(_, k)| !known(k))
        .map(|(section, k)| format!("[{section}] `{k}`"))
        .collect()
}

impl Finding {
    /// Findings as a table (the artifact form): what a finding does not have (a row, a
    /// cell, a rule) is null, not empty.
    pub(crate) fn to_frame(findings: &[Finding]) -> PolarsResult<DataFrame> {
        let text = |f: fn(&Finding) -> &str| -> Vec<Option<&str>> {
            findings.iter().map(|finding| Some(f(finding)).filter(|t| !t.is_empty())).collect()
        };
        DataFrame::new_infer_height(vec![
            Column::new("code".into(), text(|f| f.code.as_str())),
            Column::new("severity".into(), text(|f| f.severity.as_str())),
            // An engine check's rule is its code: null, as the export writes it.
            Column::new(
                "rule".into(),
                findings
                    .iter()
                    .map(|f| Some(f.rule.as_str()).filter(|r| !r.is_empty() && *r != f.code.as_str()))
                    .collect::<Vec<_>>(),
            ),
            Column::new("unit".into(), text(|f| &f.unit)),
            Column::new("unit_name".into(), text(|f| &f.unit_name)),
            Column::new("group".into(), text(|f| &f.group)),
            Column::new("file".into(), text(|f| &f.file)),
            Column::new("sheet".into(), text(|f| &f.sheet)),
            Column::new("table".into(), text(|f| &f.table)),
            Column::new("row".into(), findings.iter().map(|f| Some(f.row).filter(|r| *r > 0)).collect::<Vec<_>>()),
            Column::new("cell".into(), text(|f| &f.cell)),
            Column::new("value".into(), text(|f| &f.value)),
            Column::new("expected".into(), text(|f| &f.expected)),
            Column::new("message".into(), text(|f| &f.message)),
        ])
    }

    /// Findings back from their table; a code or severity the engine does not know is an error.
    pub(crate) fn from_frame(df: &DataFrame) -> anyhow::Result<Vec<Finding>> {
        let text = |name: &str| super::frame::text_column(df, name);
        let (code, severity, rule, unit, unit_name, group) =
            (text("code")?, text("severity")?, text("rule")?, text("unit")?, text("unit_name")?, text("group")?);
        let (file, sheet, table, cell, value, expected, message) = (
            text("file")?,
            text("sheet")?,
            text("table")?,
            text("cell")?,
            text("value")?,
            text("expected")?,
            text("message")?,
        );
        let row: Vec<u32> = df.column("row")?.u32()?.iter().map(|v| v.unwrap_or(0)).collect();
        (0..df.height())
            .map(|i| {
                Ok(Finding {
                    code: code[i].parse().map_err(|_| anyhow::anyhow!("unknown finding code `{}`", code[i]))?,
                    severity: severity[i].parse().map_err(|_| anyhow::anyhow!("unknown severity `{}`", severity[i]))?,
                    rule: if rule[i].is_empty() { code[i].clone() } else { rule[i].clone() },
                    unit: unit[i].clone(),
                    unit_name: unit_name[i].clone(),
                    group: group[i].clone(),
                    file: file[i].clone(),
                    sheet: sheet[i].clone(),
                    table: table[i].clone(),
                    row: row[i],
                    cell: cell[i].clone(),
                    value: value[i].clone(),
                    expected: expected[i].clone(),
                    message: message[i].clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::FindingCode;

    #[test]
    fn every_finding_code_is_in_the_clerks_catalogue() {
        let catalogue = include_str!("../../docs/findings.md");
        let missing: Vec<&str> = FindingCode::iter()
            .map(FindingCode::as_str)
            .filter(|c| !catalogue.contains(&format!("| `{c}` |")))
            .collect();
        assert!(missing.is_empty(), "docs/findings.md lacks {missing:?}");
    }

    #[test]
    fn every_definition_gives_every_finding_code_a_title() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // The shipped definitions state no titles of their own, nor does the small harvest one:
        // the base gives every code one.
        let harvest = "tests/fixtures/harvest/harvest.toml";
        for pipeline in
            ["pipelines/ptdv_monthly.toml", "pipelines/ptdv_ninh_binh.toml", "pipelines/dang_vien_quy.toml", harvest]
        {
            let plan = crate::definition::load(&root.join(pipeline)).unwrap();
            let untitled: Vec<&str> =
                FindingCode::iter().map(FindingCode::as_str).filter(|c| !plan.titles.contains_key(*c)).collect();
            assert!(untitled.is_empty(), "{pipeline} has no title for {untitled:?}");
        }
    }
}
