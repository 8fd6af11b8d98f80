//! Findings: what is wrong with an input, where, and what the clerk should do about it.
//!
//! Every rejected file, rejected row and doubtful value becomes a `Finding` with a stable
//! code, so the workbook, `findings.json` and scripts can all rely on the same names.

use polars::prelude::*;
use serde::Serialize;

use crate::definition::{Definition, Severity};

/// Stable finding codes of the engine; `docs/findings.md` describes each.
pub mod code {
    pub const FILE_UNREADABLE: &str = "file-unreadable";
    pub const FILE_LOCK: &str = "file-lock";
    pub const NOT_A_RETURN: &str = "not-a-return";
    pub const COLUMN_MISSING: &str = "column-missing";
    pub const TABLE_MISSING: &str = "table-missing";
    pub const UNIT_MISSING: &str = "unit-missing";
    pub const UNIT_BY_NAME: &str = "unit-by-name";
    pub const UNIT_AMBIGUOUS: &str = "unit-ambiguous";
    pub const UNIT_UNKNOWN: &str = "unit-unknown";
    pub const UNIT_NOT_VALID: &str = "unit-not-valid";
    pub const UNIT_WRONG_KIND: &str = "unit-wrong-kind";
    pub const PERIOD_MISSING: &str = "period-missing";
    pub const PERIOD_OTHER: &str = "period-other";
    pub const SUPERSEDED: &str = "return-superseded";
    pub const CELL_TYPE: &str = "cell-type";
    pub const CELL_NOT_WHOLE: &str = "cell-not-whole";
    pub const CELL_NEGATIVE: &str = "cell-negative";
    pub const CELL_REQUIRED: &str = "cell-required";
    pub const CELL_DATE: &str = "cell-date";
    pub const CELL_VALUE: &str = "cell-value";
    pub const TOTAL_MISMATCH: &str = "total-mismatch";
    pub const RULE: &str = "rule";
    pub const DUPLICATE: &str = "duplicate-key";
    pub const UNIT_NOT_UNDER: &str = "unit-not-under";
    pub const RECONCILE: &str = "reconcile";
    pub const RECONCILE_MISSING: &str = "reconcile-missing";
    pub const RETURN_MISSING: &str = "return-missing";
    pub const OPENING_MISSING: &str = "opening-missing";
}

/// What a sheet of findings can show (`finding:NAME`).
pub const ATTRIBUTES: [&str; 14] = [
    "code",
    "severity",
    "rule",
    "unit",
    "unit_name",
    "group",
    "file",
    "sheet",
    "cell",
    "row",
    "value",
    "expected",
    "message",
    "table",
];

/// One thing found wrong (or worth knowing) in the inputs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Finding {
    pub code: String,
    pub severity: String,
    /// The rule id for definition rules, else the code.
    pub rule: String,
    pub unit: String,
    pub unit_name: String,
    /// The unit's ancestor of the level findings are grouped by (a district), filled at merge.
    pub group: String,
    /// The file name as it lies in the inbox.
    pub file: String,
    pub sheet: String,
    /// `return.table` the row belongs to, empty for file-level findings.
    pub table: String,
    /// 1-based sheet row, 0 for file-level findings.
    pub row: u32,
    pub cell: String,
    pub value: String,
    pub expected: String,
    pub message: String,
}

impl Finding {
    /// A finding with its message rendered from the definition's template for `code`
    /// (or `default`), with `{value}`, `{expected}`, `{cell}`, `{sheet}`, `{file}` and
    /// the extra `vars` filled in.
    pub fn builder(def: &Definition, code: &str, severity: Severity, default: &str) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                code: code.to_string(),
                severity: severity.as_str().to_string(),
                rule: code.to_string(),
                ..Finding::default()
            },
            template: def.message(code, default).to_string(),
            vars: Vec::new(),
        }
    }

    pub fn severity(&self) -> Severity {
        match self.severity.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            _ => Severity::Info,
        }
    }

    pub fn get(&self, attribute: &str) -> String {
        match attribute {
            "code" => self.code.clone(),
            "severity" => self.severity.clone(),
            "rule" => self.rule.clone(),
            "unit" => self.unit.clone(),
            "unit_name" => self.unit_name.clone(),
            "group" => self.group.clone(),
            "file" => self.file.clone(),
            "sheet" => self.sheet.clone(),
            "table" => self.table.clone(),
            "row" => {
                if self.row > 0 {
                    self.row.to_string()
                } else {
                    String::new()
                }
            }
            "cell" => self.cell.clone(),
            "value" => self.value.clone(),
            "expected" => self.expected.clone(),
            "message" => self.message.clone(),
            _ => String::new(),
        }
    }
}

pub struct FindingBuilder {
    finding: Finding,
    template: String,
    vars: Vec<(String, String)>,
}

impl FindingBuilder {
    pub fn file(mut self, file: &str) -> Self {
        self.finding.file = file.to_string();
        self
    }
    pub fn unit(mut self, unit: &str) -> Self {
        self.finding.unit = unit.to_string();
        self
    }
    pub fn rule(mut self, rule: &str) -> Self {
        self.finding.rule = rule.to_string();
        self
    }
    /// The sheet and A1 cell, and the table and row the cell belongs to (row 0: none).
    pub fn at(mut self, sheet: &str, cell: &str) -> Self {
        self.finding.sheet = sheet.to_string();
        self.finding.cell = cell.to_string();
        self
    }
    pub fn row(mut self, table: &str, row: u32) -> Self {
        self.finding.table = table.to_string();
        self.finding.row = row;
        self
    }
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.finding.value = value.into();
        self
    }
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.finding.expected = expected.into();
        self
    }
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.push((name.to_string(), value.into()));
        self
    }
    pub fn vars(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.vars.extend(vars);
        self
    }

    pub fn build(mut self) -> Finding {
        let f = &self.finding;
        let mut vars = vec![
            ("value".to_string(), f.value.clone()),
            ("expected".to_string(), f.expected.clone()),
            ("cell".to_string(), f.cell.clone()),
            ("sheet".to_string(), f.sheet.clone()),
            ("file".to_string(), f.file.clone()),
            ("unit".to_string(), f.unit.clone()),
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

/// Findings as a table (the artifact form).
pub fn to_frame(findings: &[Finding]) -> PolarsResult<DataFrame> {
    let text = |f: fn(&Finding) -> &str| -> Vec<&str> { findings.iter().map(f).collect() };
    DataFrame::new_infer_height(vec![
        Column::new("code".into(), text(|f| &f.code)),
        Column::new("severity".into(), text(|f| &f.severity)),
        Column::new("rule".into(), text(|f| &f.rule)),
        Column::new("unit".into(), text(|f| &f.unit)),
        Column::new("unit_name".into(), text(|f| &f.unit_name)),
        Column::new("group".into(), text(|f| &f.group)),
        Column::new("file".into(), text(|f| &f.file)),
        Column::new("sheet".into(), text(|f| &f.sheet)),
        Column::new("table".into(), text(|f| &f.table)),
        Column::new("row".into(), findings.iter().map(|f| f.row).collect::<Vec<u32>>()),
        Column::new("cell".into(), text(|f| &f.cell)),
        Column::new("value".into(), text(|f| &f.value)),
        Column::new("expected".into(), text(|f| &f.expected)),
        Column::new("message".into(), text(|f| &f.message)),
    ])
}

/// Findings back from their table.
pub fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Finding>> {
    let text = |name: &str| -> PolarsResult<Vec<String>> {
        Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
    };
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
    Ok((0..df.height())
        .map(|i| Finding {
            code: code[i].clone(),
            severity: severity[i].clone(),
            rule: rule[i].clone(),
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
        .collect())
}
