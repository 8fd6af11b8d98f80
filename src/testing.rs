//! What the engine's unit tests share: a small pipeline defined inline, its registry, and
//! returns written in memory, so each stage's decisions are pinned in milliseconds.
//!
//! The pipeline has three levels (a province, two districts, three communes), a commune
//! return `r1` (cells with admissions, women among them, a total row, a rule and a
//! return-scope rule) and a district return `r2` (admission decisions, reconciled with
//! `r1`), targets and opening balances, and a units sheet.

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::Workbook;

use crate::definition::{self, Plan};
use crate::model::{Batch, Period};
use crate::registry::{Hierarchy, Registry};

pub(crate) const PIPELINE: &str = r#"
[pipeline]
name = "mini"
title = "Mini"
period = "month"
term = { start = "2023-01", end = "2027-12" }

[registry]
file = "units.csv"
levels = ["province", "district", "commune"]

[[references]]
id = "targets"
file = "targets.xlsx"
key = "code"
[references.table]
columns = [
  { field = "code", header = "Code", type = "text", required = true },
  { field = "plan", header = "Plan {year}", type = "count" },
]

[[references]]
id = "opening"
file = "opening.xlsx"
key = "code"
cutoff = { label = "As of" }
[references.table]
columns = [
  { field = "code", header = "Code", type = "text", required = true },
  { field = "admitted", header = "Admitted", type = "count", blank = "zero" },
]

[[returns]]
id = "r1"
title = "Return 1"
senders = ["commune"]
header = { unit = { label = "Unit" }, period = { label = "Period" }, date_marker = "dated" }
[[returns.tables]]
id = "cells"
header_rows = 2
total_row = { column = "name", label = "Total" }
unique = ["name"]
columns = [
  { field = "name", header = "Cell", type = "text", required = true },
  { field = "admitted", header = ["Admitted", "All"], type = "count", blank = "zero", required = true },
  { field = "female", header = ["Admitted", "Women"], type = "count", blank = "zero" },
]

[[returns]]
id = "r2"
title = "Return 2"
senders = ["district"]
header = { unit = { label = "Unit" }, period = { label = "Period" } }
[[returns.tables]]
id = "decisions"
columns = [
  { field = "unit_code", header = "Unit code", type = "text", required = true, unit_of = { kind = "commune", under_sender = true } },
  { field = "decided", header = "Decided", type = "count", required = true },
]

[[rules]]
id = "women-within-all"
table = "r1.cells"
severity = "error"
check = "female <= admitted"
cell = "female"
message = "{name}: {female} women of {admitted}"

[[rules]]
id = "few"
table = "r1.cells"
scope = "return"
severity = "warning"
check = "SUM(admitted) <= 20"
message = "many admitted"

[[merges]]
id = "decisions-match"
severity = "warning"
left = { table = "r2.decisions", unit = "unit_code", field = "decided" }
right = { table = "r1.cells", unit = "_unit", field = "admitted" }
message = "{unit}: {left} decided, {right} reported"

[[measures]]
id = "adm_month"
source = "r1.cells"
field = "admitted"
window = "month"

[[measures]]
id = "adm_year"
source = "r1.cells"
field = "admitted"
window = "year"

[[measures]]
id = "adm_term"
source = "r1.cells"
field = "admitted"
window = "term"
opening = "opening.admitted"

[[measures]]
id = "plan"
reference = "targets.plan"

[[measures]]
id = "pct_plan"
ratio = ["adm_year", "plan"]

[workbook]
file = "Mini_{period}.xlsx"
motto = "MOTTO"
date_line = "{place}, {day}/{month}/{year}"
period_line = "Month {month} of {year}"
severities = { error = "Error", warning = "Warning", info = "Info" }
print = { page_number = "Page {page} of {pages}", continued = "{title}, {period}" }

[[workbook.sheets]]
name = "Units"
title = "UNITS"
kind = "units"
level = "commune"
group_by = "district"
total = "province"
total_label = "All of {name}"
labels = { subtotal = "Sum of {name}" }
columns = [
  { label = "Code", value = "unit:code" },
  { label = "Unit", value = "unit:name" },
  { label = ["Admitted", "Month"], value = "measure:adm_month", format = "count" },
  { label = ["Admitted", "Term"], value = "measure:adm_term", format = "count" },
  { label = ["Plan", "Year"], value = "measure:plan", format = "count" },
  { label = ["Plan", "%"], value = "measure:pct_plan", format = "percent" },
]

[[workbook.sheets]]
name = "Findings"
kind = "findings"
columns = [
  { label = "Code", value = "finding:code" },
  { label = "Cell", value = "finding:cell" },
]
"#;

pub(crate) const REGISTRY: &str = "code,name,kind,parent,valid_from,valid_to,aliases
P,Province,province,,,,
D1,District One,district,P,,,
D2,District Two,district,P,,,
C11,Commune A,commune,D1,,,Đảng ủy xã A
C12,Commune B,commune,D1,,,
C21,Commune C,commune,D2,,,
C99,Commune Gone,commune,D2,2020-01,2022-12,
";

/// The mini pipeline, resolved.
pub(crate) fn plan() -> Plan {
    plan_with(PIPELINE)
}

/// A variant of the mini pipeline, resolved.
pub(crate) fn plan_with(text: &str) -> Plan {
    match definition::parse(Path::new("mini.toml"), text) {
        Ok(plan) => plan,
        Err(e) => panic!("{e}"),
    }
}

pub(crate) fn october() -> Period {
    period("2023-10")
}

pub(crate) fn period(text: &str) -> Period {
    text.parse().expect("a period")
}

/// The registry's hierarchy for `period`.
pub(crate) fn hierarchy(period: Period) -> Hierarchy {
    let levels = plan().registry.levels;
    let registry = Registry::parse(REGISTRY.as_bytes(), &levels).expect("the registry");
    registry.hierarchy(period, &levels).expect("a hierarchy")
}

/// A cell of a test workbook.
#[derive(Clone, Copy)]
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Blank,
}

/// A workbook with one sheet: the title lines, then the rows from the row under them.
pub(crate) fn workbook(lines: &[&[Cell]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in lines.iter().enumerate() {
        for (c, cell) in line.iter().enumerate() {
            match cell {
                Cell::Text(t) => sheet.write_string(r as u32, c as u16, *t).map(|_| ()),
                Cell::Number(n) => sheet.write_number(r as u32, c as u16, *n).map(|_| ()),
                Cell::Blank => Ok(()),
            }
            .expect("a cell");
        }
    }
    book.save_to_buffer().expect("a workbook")
}

/// A commune's `r1`: its title block (unit, period, date line) and one row per cell
/// `(name, admitted, women)`, then the total row.
pub(crate) fn r1(unit: &str, period: &str, dated: &str, cells: &[(&str, f64, f64)]) -> Vec<u8> {
    let date_line = format!("Place, dated {dated}");
    let mut lines: Vec<Vec<Cell>> = vec![
        vec![Cell::Text("Unit:"), Cell::Text(unit)],
        vec![Cell::Text("Period:"), Cell::Text(period)],
        vec![Cell::Text(&date_line)],
        vec![Cell::Text("Cell"), Cell::Text("Admitted")],
        vec![Cell::Blank, Cell::Text("All"), Cell::Text("Women")],
    ];
    for (name, admitted, women) in cells {
        lines.push(vec![Cell::Text(name), Cell::Number(*admitted), Cell::Number(*women)]);
    }
    let total: f64 = cells.iter().map(|c| c.1).sum();
    lines.push(vec![Cell::Text("Total"), Cell::Number(total)]);
    workbook(&lines.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

/// A district's `r2`: one row per decision `(unit code, decided)`.
pub(crate) fn r2(unit: &str, period: &str, decisions: &[(&str, f64)]) -> Vec<u8> {
    let mut lines: Vec<Vec<Cell>> = vec![
        vec![Cell::Text("Unit:"), Cell::Text(unit)],
        vec![Cell::Text("Period:"), Cell::Text(period)],
        vec![],
        vec![Cell::Text("Unit code"), Cell::Text("Decided")],
    ];
    for (code, decided) in decisions {
        lines.push(vec![Cell::Text(code), Cell::Number(*decided)]);
    }
    workbook(&lines.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

/// Files read as ingest reads an inbox, from memory.
pub(crate) fn ingested(plan: &Plan, files: &[(&str, Vec<u8>)]) -> Batch {
    crate::ingest::ingest_bytes(plan, files).expect("ingest")
}

/// Files through ingest and validate.
pub(crate) fn validated(plan: &Plan, files: &[(&str, Vec<u8>)]) -> Batch {
    crate::validate::validate(plan, &hierarchy(october()), october(), ingested(plan, files)).expect("validate")
}

/// A frame of text and whole-number columns, for tests that start after ingest.
pub(crate) fn frame(columns: &[(&str, &[&str])], counts: &[(&str, &[i64])]) -> DataFrame {
    let mut all: Vec<Column> = columns.iter().map(|(name, v)| Column::new((*name).into(), v.to_vec())).collect();
    all.extend(counts.iter().map(|(name, v)| Column::new((*name).into(), v.to_vec())));
    DataFrame::new_infer_height(all).expect("a frame")
}
