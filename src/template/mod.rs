//! Blank returns for units to fill in, from the definition alone.
//!
//! A template is what ingest reads, laid out the board's way: the title block filled from
//! the registry and the period, the headers exactly as the pipeline matches them, data
//! validation on every data cell (whole numbers ≥ 0 for counts, the list for categories,
//! dates), the structure protected with only the data cells unlocked, and the total row
//! as formulas. `render` can also fill the data cells, which is how tests round-trip it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet,
};

use crate::definition::{Definition, ReturnSpec, TableSpec, TemplateSpec, ValueKind};
use crate::ingest::workbook::column_letters;
use crate::period::Period;
use crate::registry::{Hierarchy, Unit};
use crate::store;

/// A value a test (or a future pre-fill) puts into a data cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    Text(String),
    Number(f64),
}

/// What goes into the data cells: `(table id, data row index, field) -> value`.
pub type Filler<'a> = &'a dyn Fn(&str, usize, &str) -> Option<Fill>;

/// The sheet holding category lists for validation (lists over 255 characters cannot be inline).
const LISTS_SHEET: &str = "lists";

struct Styles {
    bold: Format,
    italic: Format,
    heading: Format,
    header: Format,
    fixed: Format,
    input: Format,
    input_date: Format,
    total: Format,
}

fn styles() -> Styles {
    let base = Format::new().set_font_name("Times New Roman").set_font_size(12);
    let boxed = base.clone().set_border(FormatBorder::Thin);
    Styles {
        bold: base.clone().set_bold().set_align(FormatAlign::Center),
        italic: base.clone().set_italic().set_align(FormatAlign::Center),
        heading: base.clone().set_bold().set_font_size(14).set_align(FormatAlign::Center),
        header: boxed
            .clone()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        fixed: boxed.clone(),
        input: boxed.clone().set_unlocked(),
        input_date: boxed.clone().set_unlocked().set_num_format("dd/mm/yyyy"),
        total: boxed.set_bold(),
    }
}

/// The committee that signs for a unit: its first alias (`Đảng ủy xã Liêm Cần`) or its name.
fn committee(unit: &Unit) -> String {
    unit.aliases.first().unwrap_or(&unit.name).to_uppercase()
}

/// One blank (or filled) return of type `ret` for `unit`, as workbook bytes.
pub fn render(
    def: &Definition,
    ret: &ReturnSpec,
    hierarchy: &Hierarchy,
    unit: &Unit,
    period: Period,
    fill: Option<Filler>,
) -> anyhow::Result<Vec<u8>> {
    let template = ret
        .template
        .as_ref()
        .with_context(|| format!("return {} has no [returns.template] in the definition", ret.id))?;
    let s = styles();
    let mut book = Workbook::new();
    let created = ExcelDateTime::from_ymd(period.year as u16, period.first_month().month as u8, 1)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let mut lists: Vec<Vec<String>> = Vec::new();
    let written = period.written(&def.pipeline.quarter_words);
    for table in &ret.tables {
        let sheet = book.add_worksheet();
        sheet.set_name(table.sheet.as_deref().unwrap_or(&table.id))?;
        table_sheet(sheet, ret, template, table, hierarchy, unit, period, &written, fill, &mut lists, &s)?;
    }
    if !lists.is_empty() {
        let sheet = book.add_worksheet();
        sheet.set_name(LISTS_SHEET)?;
        for (c, list) in lists.iter().enumerate() {
            for (r, value) in list.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, value)?;
            }
        }
        sheet.set_hidden(true);
    }
    Ok(book.save_to_buffer()?)
}

#[allow(clippy::too_many_arguments)]
fn table_sheet(
    sheet: &mut Worksheet,
    ret: &ReturnSpec,
    template: &TemplateSpec,
    table: &TableSpec,
    hierarchy: &Hierarchy,
    unit: &Unit,
    period: Period,
    written: &str,
    fill: Option<Filler>,
    lists: &mut Vec<Vec<String>>,
    s: &Styles,
) -> anyhow::Result<()> {
    let width = table.columns.len().max(6) as u16;
    let last = width - 1;
    let half = width / 2;
    let superior = hierarchy.unit(&unit.parent).map(|p| p.name.to_uppercase()).unwrap_or_default();
    sheet.merge_range(0, 0, 0, half - 1, &superior, &s.bold)?;
    sheet.merge_range(1, 0, 1, half - 1, &committee(unit), &s.bold)?;
    sheet.merge_range(2, 0, 2, half - 1, "*", &s.bold)?;
    sheet.merge_range(0, half, 0, last, &template.motto, &s.bold)?;
    sheet.merge_range(1, half, 1, last, &period.fill(&template.date_line), &s.italic)?;
    sheet.write_string(3, last, &ret.title)?;
    sheet.merge_range(4, 0, 4, last, &template.heading, &s.heading)?;
    sheet.merge_range(5, 0, 5, last, &period.fill(&template.period_line), &s.italic)?;
    sheet.write_string(6, 0, format!("{}:", ret.header.unit.label))?;
    sheet.write_string(6, 1, &unit.code)?;
    sheet.write_string(6, 4, format!("{}:", ret.header.period.label))?;
    sheet.write_string(6, 5, written)?;

    // Headers exactly as reading matches them: a group over its sub-headers, single
    // headers spanning the header rows.
    let top = 8u32;
    let depth = table.header_rows.max(1) as u32;
    let mut c = 0;
    while c < table.columns.len() {
        let parts = table.columns[c].header.parts();
        if parts.len() > 1 && depth > 1 {
            let mut end = c;
            while end + 1 < table.columns.len()
                && table.columns[end + 1].header.parts().first() == parts.first()
                && table.columns[end + 1].header.parts().len() > 1
            {
                end += 1;
            }
            if end > c {
                sheet.merge_range(top, c as u16, top, end as u16, parts[0], &s.header)?;
            } else {
                sheet.write_string_with_format(top, c as u16, parts[0], &s.header)?;
            }
            for (k, column) in table.columns.iter().enumerate().take(end + 1).skip(c) {
                sheet.write_string_with_format(top + 1, k as u16, column.header.parts()[1..].join(" "), &s.header)?;
            }
            c = end + 1;
        } else {
            let text = parts.join(" ");
            if depth > 1 {
                sheet.merge_range(top, c as u16, top + depth - 1, c as u16, &text, &s.header)?;
            } else {
                sheet.write_string_with_format(top, c as u16, &text, &s.header)?;
            }
            c += 1;
        }
    }
    sheet.set_row_height(top + depth - 1, 48)?;
    let mut first = top + depth;
    if table.numbering_row {
        for k in 0..table.columns.len() {
            sheet.write_string_with_format(first, k as u16, format!("({})", k + 1), &s.fixed)?;
        }
        first += 1;
    }
    let rows = template.rows as u32;
    let last_row = first + rows - 1;
    for (k, column) in table.columns.iter().enumerate() {
        let col = k as u16;
        sheet.set_column_width(col, if column.kind == ValueKind::Text { 28 } else { 13 })?;
        for i in 0..rows {
            let row = first + i;
            let value = fill.and_then(|f| f(&table.id, i as usize, column.field.get_ref()));
            match (column.ignore, value) {
                (true, _) => sheet.write_number_with_format(row, col, (i + 1) as f64, &s.fixed)?,
                (false, Some(Fill::Text(t))) => sheet.write_string_with_format(row, col, t, &s.input)?,
                (false, Some(Fill::Number(n))) => sheet.write_number_with_format(row, col, n, &s.input)?,
                (false, None) if column.kind == ValueKind::Date => sheet.write_blank(row, col, &s.input_date)?,
                (false, None) => sheet.write_blank(row, col, &s.input)?,
            };
        }
        if let Some(validation) = validation(column, lists)? {
            sheet.add_data_validation(first, col, last_row, col, &validation)?;
        }
    }

    let mut footer_row = last_row + 2;
    if let Some(total) = &table.total_row {
        let total_row = last_row + 1;
        let label_col =
            table.columns.iter().position(|c| c.field.get_ref() == total.column.get_ref()).unwrap_or(0) as u16;
        for k in 0..table.columns.len() {
            sheet.write_blank(total_row, k as u16, &s.total)?;
        }
        sheet.write_string_with_format(total_row, label_col, &total.label, &s.total)?;
        for (k, column) in table.columns.iter().enumerate() {
            if column.ignore || !matches!(column.kind, ValueKind::Count | ValueKind::Integer | ValueKind::Number) {
                continue;
            }
            let letter = column_letters(k);
            let sum: f64 = (0..rows as usize)
                .filter_map(|i| match fill.and_then(|f| f(&table.id, i, column.field.get_ref())) {
                    Some(Fill::Number(n)) => Some(n),
                    _ => None,
                })
                .sum();
            // The cached result is the true sum, so readers that do not recalculate see it.
            let formula = Formula::new(format!("=SUM({letter}{}:{letter}{})", first + 1, last_row + 1))
                .set_result(sum.to_string());
            sheet.write_formula_with_format(total_row, k as u16, formula, &s.total)?;
        }
        footer_row += 1;
    }
    for (i, line) in template.footer_left.iter().enumerate() {
        sheet.write_string(footer_row + i as u32, 1, line)?;
    }
    for (i, line) in template.footer_right.iter().enumerate() {
        sheet.write_string(footer_row + i as u32, last.saturating_sub(2), line)?;
    }
    sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
    sheet.protect();
    Ok(())
}

/// The data validation of a column: what a clerk may type.
fn validation(
    column: &crate::definition::ColumnSpec,
    lists: &mut Vec<Vec<String>>,
) -> anyhow::Result<Option<DataValidation>> {
    let label = column.header.display();
    let v = match column.kind {
        ValueKind::Count => DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0)),
        ValueKind::Integer => {
            DataValidation::new().allow_whole_number(DataValidationRule::Between(-1_000_000_000, 1_000_000_000))
        }
        ValueKind::Number => DataValidation::new().allow_decimal_number(DataValidationRule::Between(-1e12, 1e12)),
        ValueKind::Date => DataValidation::new().allow_date(DataValidationRule::Between(
            ExcelDateTime::from_ymd(1950, 1, 1)?,
            ExcelDateTime::from_ymd(2100, 12, 31)?,
        )),
        ValueKind::Category => {
            let values: Vec<String> = column.values.iter().map(|v| v.label.clone()).collect();
            let col = column_letters(lists.len());
            let range = format!("={LISTS_SHEET}!${col}$1:${col}${}", values.len().max(1));
            lists.push(values);
            DataValidation::new().allow_list_formula(Formula::new(range))
        }
        ValueKind::Text | ValueKind::Month => return Ok(None),
    };
    Ok(Some(v.set_error_title(label.chars().take(32).collect::<String>())?))
}

/// Write the templates of every return `code` must send for `period` into `out`.
pub fn write_unit(
    def: &Definition,
    hierarchy: &Hierarchy,
    code: &str,
    period: Period,
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let unit = hierarchy.unit(code).with_context(|| format!("unit {code} is not in the registry for {period}"))?;
    let mut written = Vec::new();
    for ret in def.returns.iter().filter(|r| r.senders.contains(&unit.kind)) {
        let bytes = render(def, ret, hierarchy, unit, period, None)?;
        let name = format!("{}_{}_{}.xlsx", ret.id, unit.code.replace(['/', '\\'], "-"), period);
        let path = out.join(name);
        store::write_atomic(&path, &bytes)?;
        written.push(path);
    }
    if written.is_empty() {
        anyhow::bail!("unit {code} ({}) sends no return of this pipeline", unit.kind);
    }
    Ok(written)
}

/// Every expected unit's templates for `period`.
pub fn write_all(def: &Definition, hierarchy: &Hierarchy, period: Period, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let senders: Vec<&Unit> =
        hierarchy.units.iter().filter(|u| def.returns.iter().any(|r| r.senders.contains(&u.kind))).collect();
    let mut written = Vec::new();
    for unit in senders {
        written.extend(write_unit(def, hierarchy, &unit.code, period, out)?);
    }
    Ok(written)
}
