//! Stage 5, report: the consolidated workbook, laid out as the definition says.
//!
//! Every label comes from the definition. Figures are written as values, so any reader
//! sees them; percentages are fractions with a `0.0%` format. Text from returns is always
//! written as a string, never as a formula.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use polars::prelude::*;
use rayon::prelude::*;
use rust_xlsxwriter::{
    Chart, ChartType, ConditionalFormatCell, ConditionalFormatCellRule, Format, FormatAlign, FormatBorder, Workbook,
    Worksheet,
};

use crate::definition::{CellFormat, Definition, SheetColumn, SheetKind, SheetSpec};
use crate::finding::Finding;
use crate::ingest::FileRecord;
use crate::merge::{self, Expectation, Tally};
use crate::period::Period;
use crate::registry::{Hierarchy, Unit};
use crate::validate::any_text;

/// What a completeness sheet can show (`completeness:NAME`).
pub const COMPLETENESS_ATTRIBUTES: [&str; 8] =
    ["group", "expected", "received", "accepted", "rejected", "superseded", "missing", "rate"];

/// Everything the report draws from.
pub struct ReportInput<'a> {
    pub def: &'a Definition,
    pub hierarchy: &'a Hierarchy,
    pub period: Period,
    pub figures: &'a DataFrame,
    /// The month's accepted rows per return table.
    pub tables: &'a BTreeMap<String, DataFrame>,
    pub findings: &'a [Finding],
    pub completeness: &'a [Expectation],
    pub files: &'a [FileRecord],
    /// Reference files with their size and SHA-256.
    pub inputs: &'a [(String, u64, String)],
    pub run_time: String,
    pub today: chrono::NaiveDate,
}

struct Formats {
    title: Format,
    bold_left: Format,
    small: Format,
    subtitle: Format,
    bold: Format,
    italic: Format,
    header: Format,
    text: Format,
    count: Format,
    decimal: Format,
    percent: Format,
    total_text: Format,
    total_count: Format,
    total_decimal: Format,
    total_percent: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin).set_font_name("Times New Roman").set_font_size(11);
        let total = cell.clone().set_bold().set_background_color("F2F2F2");
        Formats {
            bold_left: Format::new().set_bold().set_italic().set_font_name("Times New Roman"),
            small: Format::new().set_font_name("Times New Roman").set_font_size(10),
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_font_name("Times New Roman")
                .set_align(FormatAlign::Center),
            subtitle: Format::new().set_italic().set_font_name("Times New Roman").set_align(FormatAlign::Center),
            bold: Format::new().set_bold().set_font_name("Times New Roman").set_align(FormatAlign::Center),
            italic: Format::new().set_italic().set_font_name("Times New Roman").set_align(FormatAlign::Center),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color("DDEBF7"),
            text: cell.clone().set_text_wrap(),
            count: cell.clone().set_num_format("#,##0"),
            decimal: cell.clone().set_num_format("#,##0.0"),
            percent: cell.clone().set_num_format("0.0%"),
            total_text: total.clone(),
            total_count: total.clone().set_num_format("#,##0"),
            total_decimal: total.clone().set_num_format("#,##0.0"),
            total_percent: total.set_num_format("0.0%"),
        }
    }
}

/// Write the workbook and return its bytes.
pub fn render(input: &ReportInput) -> anyhow::Result<Vec<u8>> {
    let formats = Formats::new();
    // The sheets are independent: draw them on both cores, then bind them in order.
    let sheets = input
        .def
        .workbook
        .sheets
        .par_iter()
        .map(|spec| -> anyhow::Result<Worksheet> {
            let mut sheet = Worksheet::new();
            sheet.set_name(&spec.name).with_context(|| format!("bad sheet name {}", spec.name))?;
            sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
            match spec.kind {
                SheetKind::Units => units_sheet(&mut sheet, spec, input, &formats)?,
                SheetKind::Rows => rows_sheet(&mut sheet, spec, input, &formats)?,
                SheetKind::Findings => findings_sheet(&mut sheet, spec, input, &formats)?,
                SheetKind::Completeness => completeness_sheet(&mut sheet, spec, input, &formats)?,
                SheetKind::Info => info_sheet(&mut sheet, spec, input, &formats)?,
            }
            Ok(sheet)
        })
        .collect::<anyhow::Result<Vec<Worksheet>>>()?;
    let mut book = Workbook::new();
    for sheet in sheets {
        book.push_worksheet(sheet);
    }
    Ok(book.save_to_buffer()?)
}

/// The official title block and the sheet title; returns the first free row.
fn title_block(
    sheet: &mut Worksheet,
    spec: &SheetSpec,
    input: &ReportInput,
    width: u16,
    f: &Formats,
) -> anyhow::Result<u32> {
    let wb = &input.def.workbook;
    let last = width.max(4) - 1;
    let split = last / 2;
    sheet.merge_range(0, 0, 0, split.saturating_sub(1).max(1), &wb.superior, &f.bold)?;
    sheet.merge_range(1, 0, 1, split.saturating_sub(1).max(1), &wb.issuer, &f.bold)?;
    sheet.merge_range(0, split + 1, 0, last, &wb.motto, &f.bold)?;
    let (day, month, year) = (input.today.format("%d"), input.today.format("%m"), input.today.format("%Y"));
    let date_line = wb
        .date_line
        .replace("{place}", &wb.place)
        .replace("{day}", &day.to_string())
        .replace("{month}", &month.to_string())
        .replace("{year}", &year.to_string());
    sheet.merge_range(1, split + 1, 1, last, &date_line, &f.italic)?;
    let mut row = 3;
    if let Some(title) = &spec.title {
        sheet.merge_range(row, 0, row, last, title, &f.title)?;
        row += 1;
    }
    let period_line = input.period.fill(&wb.period_line);
    sheet.merge_range(row, 0, row, last, &period_line, &f.subtitle)?;
    Ok(row + 2)
}

/// Recipients on the left and the signatory on the right, two rows under `row`.
fn signature_block(
    sheet: &mut Worksheet,
    input: &ReportInput,
    row: u32,
    width: u16,
    f: &Formats,
) -> anyhow::Result<()> {
    let signature = &input.def.workbook.signature;
    let right = width.saturating_sub(width / 3).max(1);
    for (i, line) in signature.left.iter().enumerate() {
        let format = if i == 0 { &f.bold_left } else { &f.small };
        sheet.write_string_with_format(row + 2 + i as u32, 0, line, format)?;
    }
    for (i, line) in signature.right.iter().enumerate() {
        sheet.merge_range(row + 2 + i as u32, right, row + 2 + i as u32, width.max(right + 1) - 1, line, &f.bold)?;
    }
    Ok(())
}

/// Column headers of one or two rows (a group label over its sub-labels); returns the first data row.
fn headers(sheet: &mut Worksheet, columns: &[SheetColumn], row: u32, f: &Formats) -> anyhow::Result<u32> {
    let two_rows = columns.iter().any(|c| c.label.parts().len() > 1);
    let mut c = 0usize;
    while c < columns.len() {
        let parts = columns[c].label.parts();
        let col = c as u16;
        if parts.len() > 1 {
            let group = parts[0];
            let mut end = c;
            while end + 1 < columns.len()
                && columns[end + 1].label.parts().first() == Some(&group)
                && columns[end + 1].label.parts().len() > 1
            {
                end += 1;
            }
            if end > c {
                sheet.merge_range(row, col, row, end as u16, group, &f.header)?;
            } else {
                sheet.write_string_with_format(row, col, group, &f.header)?;
            }
            for (k, column) in columns.iter().enumerate().take(end + 1).skip(c) {
                let sub = column.label.parts()[1..].join(" ");
                sheet.write_string_with_format(row + 1, k as u16, &sub, &f.header)?;
            }
            c = end + 1;
        } else {
            if two_rows {
                sheet.merge_range(row, col, row + 1, col, parts[0], &f.header)?;
            } else {
                sheet.write_string_with_format(row, col, parts[0], &f.header)?;
            }
            c += 1;
        }
    }
    for (k, column) in columns.iter().enumerate() {
        sheet.set_column_width(
            k as u16,
            column.width.unwrap_or(if column.format == CellFormat::Text { 24.0 } else { 11.0 }),
        )?;
    }
    let data = row + if two_rows { 2 } else { 1 };
    // Wrapped header text needs room: readers do not grow rows written without a height.
    let lines = |label: &str, width: f64| (label.chars().count() as f64 * 1.1 / width.max(1.0)).ceil().max(1.0);
    let width_of = |c: &SheetColumn| c.width.unwrap_or(if c.format == CellFormat::Text { 24.0 } else { 11.0 });
    let deepest =
        columns.iter().map(|c| lines(c.label.parts().last().copied().unwrap_or(""), width_of(c))).fold(1.0, f64::max);
    sheet.set_row_height(data - 1, 15.0 * deepest.min(4.0))?;
    sheet.set_repeat_rows(row, data - 1)?;
    Ok(data)
}

/// Values of the figures frame by unit code.
struct Figures<'a> {
    df: &'a DataFrame,
    index: HashMap<String, usize>,
}

impl<'a> Figures<'a> {
    fn new(df: &'a DataFrame) -> anyhow::Result<Figures<'a>> {
        let codes = crate::validate::text_column(df, "code")?;
        Ok(Figures { df, index: codes.into_iter().enumerate().map(|(i, c)| (c, i)).collect() })
    }

    fn number(&self, code: &str, measure: &str) -> Option<f64> {
        let i = *self.index.get(code)?;
        let v = self.df.column(measure).ok()?.get(i).ok()?;
        v.extract::<f64>()
    }
}

enum Written {
    Text(String),
    Number(f64),
    Blank,
}

/// `unit:code|name|parent|parent_name` of a unit.
fn unit_text(hierarchy: &Hierarchy, code: &str, attribute: &str) -> String {
    let unit = hierarchy.unit(code);
    match attribute {
        "code" => code.to_string(),
        "name" => unit.map(|u| u.name.clone()).unwrap_or_default(),
        "parent" => unit.map(|u| u.parent.clone()).unwrap_or_default(),
        _ => unit.and_then(|u| hierarchy.unit(&u.parent)).map(|p| p.name.clone()).unwrap_or_default(),
    }
}

fn unit_value(input: &ReportInput, figures: &Figures, code: &str, value: &str, format: CellFormat) -> Written {
    let (source, name) = value.split_once(':').unwrap_or(("", value));
    match source {
        "unit" => Written::Text(unit_text(input.hierarchy, code, name)),
        "measure" => match figures.number(code, name) {
            Some(v) if format == CellFormat::Percent => Written::Number(v / 100.0),
            Some(v) => Written::Number(v),
            None => Written::Blank,
        },
        "fraction" => {
            let (a, b) = name.split_once('/').unwrap_or((name, ""));
            match (figures.number(code, a), figures.number(code, b)) {
                (Some(a), Some(b)) => Written::Text(format!("{a}/{b}")),
                _ => Written::Blank,
            }
        }
        _ => Written::Blank,
    }
}

fn write_value(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: Written,
    format: CellFormat,
    total: bool,
    f: &Formats,
) -> anyhow::Result<()> {
    let (text_f, number_f) = match (format, total) {
        (CellFormat::Percent, false) => (&f.text, &f.percent),
        (CellFormat::Percent, true) => (&f.total_text, &f.total_percent),
        (CellFormat::Decimal, false) => (&f.text, &f.decimal),
        (CellFormat::Decimal, true) => (&f.total_text, &f.total_decimal),
        (_, false) => (&f.text, &f.count),
        (_, true) => (&f.total_text, &f.total_count),
    };
    match value {
        Written::Text(t) => sheet.write_string_with_format(row, col, &t, text_f)?,
        Written::Number(n) => sheet.write_number_with_format(row, col, n, number_f)?,
        Written::Blank => sheet.write_blank(row, col, number_f)?,
    };
    Ok(())
}

fn units_sheet(sheet: &mut Worksheet, spec: &SheetSpec, input: &ReportInput, f: &Formats) -> anyhow::Result<()> {
    let figures = Figures::new(input.figures)?;
    let h = input.hierarchy;
    let level = spec.level.as_ref().map(|l| l.get_ref().as_str()).unwrap_or("");
    let top = title_block(sheet, spec, input, spec.columns.len() as u16, f)?;
    let first = headers(sheet, &spec.columns, top, f)?;
    let mut row = first;
    let mut detail_rows = Vec::new();
    let name_column = spec.columns.iter().position(|c| c.value.get_ref() == "unit:name");
    let write_unit =
        |sheet: &mut Worksheet, row: u32, code: &str, label: Option<String>, total: bool| -> anyhow::Result<()> {
            for (k, column) in spec.columns.iter().enumerate() {
                let value = match (&label, Some(k) == name_column) {
                    (Some(l), true) => Written::Text(l.clone()),
                    _ => unit_value(input, &figures, code, column.value.get_ref(), column.format),
                };
                write_value(sheet, row, k as u16, value, column.format, total, f)?;
            }
            Ok(())
        };
    match &spec.group_by {
        Some(group) => {
            let subtotal = spec.labels.get("subtotal").cloned().unwrap_or_else(|| "{name}".into());
            // Each unit's group, found once: not once per group and unit.
            let mut members: HashMap<&str, Vec<&Unit>> = HashMap::new();
            for u in h.of_kind(level) {
                if let Some(a) = h.ancestor_of_kind(&u.code, group.get_ref()) {
                    members.entry(a.code.as_str()).or_default().push(u);
                }
            }
            for g in h.of_kind(group.get_ref()) {
                let Some(members) = members.remove(g.code.as_str()) else { continue };
                for u in members {
                    write_unit(sheet, row, &u.code, None, false)?;
                    detail_rows.push(row);
                    row += 1;
                }
                write_unit(sheet, row, &g.code, Some(subtotal.replace("{name}", &g.name)), true)?;
                row += 1;
            }
        }
        None => {
            for u in h.of_kind(level) {
                write_unit(sheet, row, &u.code, None, false)?;
                detail_rows.push(row);
                row += 1;
            }
        }
    }
    if let Some(total) = &spec.total {
        for u in h.of_kind(total.get_ref()) {
            let label = spec.total_label.clone().unwrap_or_else(|| "{name}".into()).replace("{name}", &u.name);
            write_unit(sheet, row, &u.code, Some(label), true)?;
            row += 1;
        }
    }
    let last = row.saturating_sub(1).max(first);
    sheet.set_freeze_panes(first, name_column.map_or(1, |c| c as u16 + 1))?;
    sheet.autofilter(first - 1, 0, last, spec.columns.len().max(1) as u16 - 1)?;
    let mut below = row;

    if let Some(attainment) = &spec.attainment {
        let red = Format::new().set_background_color("F8CBAD").set_font_color("9C0006");
        let amber = Format::new().set_background_color("FFE699").set_font_color("7F6000");
        let green = Format::new().set_background_color("C6EFCE").set_font_color("006100");
        for (k, _) in spec.columns.iter().enumerate().filter(|(_, c)| c.format == CellFormat::Percent) {
            let k = k as u16;
            let rules = [
                (ConditionalFormatCellRule::LessThan(attainment.low / 100.0), red.clone()),
                (
                    ConditionalFormatCellRule::Between(attainment.low / 100.0, attainment.high / 100.0 - 1e-9),
                    amber.clone(),
                ),
                (ConditionalFormatCellRule::GreaterThanOrEqualTo(attainment.high / 100.0), green.clone()),
            ];
            for (rule, format) in rules {
                let cf = ConditionalFormatCell::new().set_rule(rule).set_format(format);
                sheet.add_conditional_format(first, k, last, k, &cf)?;
            }
        }
    }
    if let (Some(chart_spec), Some(name_col)) = (&spec.chart, name_column) {
        if let (Some(value_col), Some(&r0), Some(&r1)) = (
            spec.columns.iter().position(|c| c.value.get_ref() == chart_spec.value.get_ref()),
            detail_rows.first(),
            detail_rows.last(),
        ) {
            let mut chart = Chart::new(ChartType::Bar);
            chart
                .add_series()
                .set_categories((spec.name.as_str(), r0, name_col as u16, r1, name_col as u16))
                .set_values((spec.name.as_str(), r0, value_col as u16, r1, value_col as u16))
                .set_name(spec.columns[value_col].label.display().as_str());
            chart.title().set_name(&chart_spec.title);
            chart.legend().set_hidden();
            if spec.columns[value_col].format == CellFormat::Percent {
                // A bar chart's values run along its x axis; bars start at zero.
                chart.x_axis().set_num_format("0%").set_min(0.0);
            }
            sheet.insert_chart(row + 1, 0, &chart)?;
            // The chart takes about fifteen rows.
            below = row + 16;
        }
    }
    signature_block(sheet, input, below, spec.columns.len() as u16, f)
}

fn rows_sheet(sheet: &mut Worksheet, spec: &SheetSpec, input: &ReportInput, f: &Formats) -> anyhow::Result<()> {
    let table_name = spec.table.as_ref().map(|t| t.get_ref().clone()).unwrap_or_default();
    let (_, table_spec) = input.def.table(&table_name).context("rows sheet without a table")?;
    let empty = DataFrame::empty();
    let df = input.tables.get(&table_name).unwrap_or(&empty);
    let top = title_block(sheet, spec, input, spec.columns.len() as u16, f)?;
    let first = headers(sheet, &spec.columns, top, f)?;
    let df =
        if df.height() > 0 { df.sort(["_unit", "_file", "_row"], SortMultipleOptions::default())? } else { df.clone() };
    let units = if df.height() > 0 { crate::validate::text_column(&df, "_unit")? } else { vec![] };
    let mut sums = vec![0f64; spec.columns.len()];
    for (i, unit) in units.iter().enumerate() {
        let row = first + i as u32;
        for (k, column) in spec.columns.iter().enumerate() {
            let (source, name) = column.value.get_ref().split_once(':').unwrap_or(("", ""));
            let value = match source {
                "unit" => Written::Text(unit_text(input.hierarchy, unit, name)),
                _ => {
                    let v = df.column(name)?.get(i)?;
                    match (&v, column.format) {
                        (AnyValue::Null, _) => Written::Blank,
                        (_, CellFormat::Count | CellFormat::Decimal | CellFormat::Percent) => {
                            match v.extract::<f64>() {
                                Some(n) => {
                                    sums[k] += n;
                                    Written::Number(n)
                                }
                                None => Written::Blank,
                            }
                        }
                        (_, CellFormat::Date) => Written::Text(iso_to_vn(&any_text(&v))),
                        _ => {
                            let text = any_text(&v);
                            let label = table_spec
                                .column(name)
                                .and_then(|c| c.values.iter().find(|x| x.id == text))
                                .map(|x| x.label.clone());
                            Written::Text(label.unwrap_or(text))
                        }
                    }
                }
            };
            write_value(sheet, row, k as u16, value, column.format, false, f)?;
        }
    }
    let total_row = first + df.height() as u32;
    for (k, column) in spec.columns.iter().enumerate() {
        let value = match column.format {
            CellFormat::Count | CellFormat::Decimal => Written::Number(sums[k]),
            _ if k == 0 => Written::Text(spec.total_label.clone().unwrap_or_default()),
            _ => Written::Blank,
        };
        write_value(sheet, total_row, k as u16, value, column.format, true, f)?;
    }
    sheet.set_freeze_panes(first, 0)?;
    sheet.autofilter(first - 1, 0, total_row.saturating_sub(1).max(first), spec.columns.len().max(1) as u16 - 1)?;
    signature_block(sheet, input, total_row, spec.columns.len() as u16, f)
}

fn iso_to_vn(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

fn findings_sheet(sheet: &mut Worksheet, spec: &SheetSpec, input: &ReportInput, f: &Formats) -> anyhow::Result<()> {
    let top = title_block(sheet, spec, input, spec.columns.len() as u16, f)?;
    let first = headers(sheet, &spec.columns, top, f)?;
    let mut findings: Vec<&Finding> = input.findings.iter().collect();
    findings.sort_by(|a, b| {
        (&a.group, &a.unit, &a.file, a.row, &a.cell, &a.code)
            .cmp(&(&b.group, &b.unit, &b.file, b.row, &b.cell, &b.code))
    });
    for (i, finding) in findings.iter().enumerate() {
        for (k, column) in spec.columns.iter().enumerate() {
            let attribute = column.value.get_ref().trim_start_matches("finding:");
            let mut text = finding.get(attribute);
            if attribute == "severity" {
                text = input.def.workbook.severities.get(&text).cloned().unwrap_or(text);
            }
            sheet.write_string_with_format(first + i as u32, k as u16, &text, &f.text)?;
        }
    }
    let last = first + findings.len().max(1) as u32 - 1;
    sheet.autofilter(first - 1, 0, last, spec.columns.len().max(1) as u16 - 1)?;
    sheet.set_freeze_panes(first, 0)?;
    Ok(())
}

fn completeness_sheet(sheet: &mut Worksheet, spec: &SheetSpec, input: &ReportInput, f: &Formats) -> anyhow::Result<()> {
    let h = input.hierarchy;
    let group_level = spec.group_by.as_ref().map(|g| g.get_ref().as_str()).unwrap_or("");
    let top = title_block(sheet, spec, input, spec.columns.len().max(6) as u16, f)?;
    let first = headers(sheet, &spec.columns, top, f)?;
    let (tallies, total) = merge::tally_by_group(h, input.completeness, group_level);
    let counted = |tally: &Tally, attribute: &str| match tally.value(attribute) {
        Some(v) => Written::Number(v),
        None => Written::Blank,
    };
    let mut row = first;
    let label = |key: &str| spec.labels.get(key).cloned().unwrap_or_else(|| key.to_string());
    for (code, tally) in &tallies {
        for (k, column) in spec.columns.iter().enumerate() {
            let attribute = column.value.get_ref().trim_start_matches("completeness:");
            let value = match attribute {
                "group" => Written::Text(h.unit(code).map(|u| u.name.clone()).unwrap_or_default()),
                other => counted(tally, other),
            };
            write_value(sheet, row, k as u16, value, column.format, false, f)?;
        }
        row += 1;
    }
    for (k, column) in spec.columns.iter().enumerate() {
        let attribute = column.value.get_ref().trim_start_matches("completeness:");
        let value = match attribute {
            "group" => Written::Text(label("total")),
            other => counted(&total, other),
        };
        write_value(sheet, row, k as u16, value, column.format, true, f)?;
    }
    row += 2;
    if let Some(title) = &spec.missing_title {
        sheet.write_string_with_format(row, 0, title, &f.bold)?;
        row += 1;
        let heads = ["list_group", "list_code", "list_name", "list_return", "list_status", "list_file"];
        for (k, key) in heads.iter().enumerate() {
            sheet.write_string_with_format(row, k as u16, label(key), &f.header)?;
        }
        row += 1;
        let mut listed: Vec<&Expectation> = input.completeness.iter().filter(|e| e.status != "accepted").collect();
        listed
            .sort_by_cached_key(|e| (h.ancestor_of_kind(&e.unit, group_level).map(|g| g.code.clone()), e.unit.clone()));
        for e in listed {
            let group = h.ancestor_of_kind(&e.unit, group_level).map(|g| g.name.clone()).unwrap_or_default();
            let ret = input.def.return_spec(&e.return_id).map(|r| r.title.clone()).unwrap_or_default();
            let cells =
                [group, e.unit.clone(), e.name.clone(), ret, label(&format!("status_{}", e.status)), e.file.clone()];
            for (k, text) in cells.iter().enumerate() {
                sheet.write_string_with_format(row, k as u16, text, &f.text)?;
            }
            row += 1;
        }
    }
    Ok(())
}

fn info_sheet(sheet: &mut Worksheet, spec: &SheetSpec, input: &ReportInput, f: &Formats) -> anyhow::Result<()> {
    let label = |key: &str| spec.labels.get(key).cloned().unwrap_or_else(|| key.to_string());
    let top = title_block(sheet, spec, input, 8, f)?;
    let read: u32 = input.files.iter().map(|x| x.rows_read).sum();
    let accepted: u32 = input.files.iter().map(|x| x.rows_accepted).sum();
    let rejected: u32 = input.files.iter().map(|x| x.rows_rejected).sum();
    let facts = [
        (label("pipeline"), format!("{} ({})", input.def.pipeline.title, input.def.pipeline.name)),
        (label("period"), input.period.to_string()),
        (label("run_time"), input.run_time.clone()),
        (label("version"), format!("tonghop {}", env!("CARGO_PKG_VERSION"))),
        (label("files"), input.files.len().to_string()),
        (label("rows_read"), read.to_string()),
        (label("rows_accepted"), accepted.to_string()),
        (label("rows_rejected"), rejected.to_string()),
    ];
    let mut row = top;
    for (key, value) in &facts {
        sheet.write_string_with_format(row, 0, key, &f.total_text)?;
        sheet.write_string_with_format(row, 1, value, &f.text)?;
        row += 1;
    }
    row += 1;
    let heads = ["file", "return", "unit", "status", "rows_read", "rows_accepted", "rows_rejected", "size", "sha256"];
    for (k, key) in heads.iter().enumerate() {
        sheet.write_string_with_format(row, k as u16, label(key), &f.header)?;
    }
    sheet.set_column_width(0, 40)?;
    sheet.set_column_width(8, 66)?;
    row += 1;
    /// One line of the file list; reference files have no row counts.
    struct Line {
        texts: [String; 4],
        counts: Option<[u32; 3]>,
        size: u64,
        sha256: String,
    }
    let returns = input.files.iter().map(|x| Line {
        texts: [
            x.file.clone(),
            input.def.return_spec(&x.return_id).map(|r| r.title.clone()).unwrap_or_default(),
            x.unit.clone(),
            label(&format!("status_{}", x.status)),
        ],
        counts: Some([x.rows_read, x.rows_accepted, x.rows_rejected]),
        size: x.size,
        sha256: x.sha256.clone(),
    });
    let references = input.inputs.iter().map(|(name, size, sha)| Line {
        texts: [name.clone(), label("reference"), String::new(), String::new()],
        counts: None,
        size: *size,
        sha256: sha.clone(),
    });
    for line in returns.chain(references) {
        for (k, t) in line.texts.iter().enumerate() {
            sheet.write_string_with_format(row, k as u16, t, &f.text)?;
        }
        for (k, n) in line.counts.iter().flatten().enumerate() {
            sheet.write_number_with_format(row, 4 + k as u16, *n as f64, &f.count)?;
        }
        sheet.write_number_with_format(row, 7, line.size as f64, &f.count)?;
        sheet.write_string_with_format(row, 8, &line.sha256, &f.text)?;
        row += 1;
    }
    Ok(())
}
