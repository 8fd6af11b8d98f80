//! Blank returns for units to fill in, from the definition alone.
//!
//! A template is what ingest reads, laid out the board's way: the title block filled from
//! the registry and the period, the headers exactly as the pipeline matches them, data
//! validation on every data cell (whole numbers ≥ 0 for counts, the list for categories,
//! dates), the structure protected with only the data cells unlocked (rows may still be
//! inserted inside the table, and the totals' formulas take them in), and the total row
//! as formulas. A unit's table has as many rows as its last accepted return had, and
//! some to spare (`Options::rows`). `render` can also fill the data cells, which is how
//! tests round-trip it.

use std::collections::HashMap;

use anyhow::Context as _;
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, ProtectionOptions,
    Workbook, Worksheet,
};

use crate::definition::{Column, Header, Plan, Return, Table, TemplateSpec, ValueKind};
use crate::draw::{self, Canvas, Style};
use crate::period::Period;
use crate::project::Identity;
use crate::registry::{Hierarchy, Unit};
use crate::workbook::column_letters;

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

/// How blank returns are made beyond the definition.
#[derive(Default)]
pub struct Options<'a> {
    /// The board, for `{addressee}`, `{board}`, `{superior}` and `{place}` in the returns'
    /// footers.
    pub identity: Identity,
    /// Rows to give a unit's table, `(table name, unit code) -> rows`, at least the
    /// template's own count: what the unit's last accepted return held, and some to spare.
    pub rows: HashMap<(String, String), usize>,
    /// Values for the data cells (tests).
    pub fill: Option<Filler<'a>>,
}

/// Rows to spare beyond a unit's last return.
pub const SPARE_ROWS: usize = 5;

struct Styles {
    bold: Style,
    italic: Style,
    heading: Style,
    header: Style,
    fixed: Format,
    input: Format,
    input_date: Format,
    total: Format,
}

fn styles() -> Styles {
    let base = Format::new().set_font_name("Times New Roman").set_font_size(12);
    let boxed = base.clone().set_border(FormatBorder::Thin);
    let centred = |size, bold| Style::new(size, bold).with(|f| f.set_align(FormatAlign::Center));
    Styles {
        bold: centred(12.0, true),
        italic: centred(12.0, false).with(Format::set_italic),
        heading: centred(14.0, true),
        header: centred(12.0, true).with(|f| f.set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter)),
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
    plan: &Plan,
    ret: &Return,
    hierarchy: &Hierarchy,
    unit: &Unit,
    period: Period,
    options: &Options,
) -> anyhow::Result<Vec<u8>> {
    let template = ret
        .template
        .as_ref()
        .with_context(|| format!("return {} has no [returns.template] in the definition", ret.id))?;
    let mut book = Workbook::new();
    let created = ExcelDateTime::from_ymd(period.year as u16, period.first_month().month as u8, 1)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let form = Form {
        ret,
        template,
        unit,
        superior: hierarchy.unit(&unit.parent).map(|p| p.name.to_uppercase()).unwrap_or_default(),
        period,
        written: period.written(&plan.pipeline.quarter_words),
        options,
        s: styles(),
    };
    let mut lists: Vec<Vec<String>> = Vec::new();
    for &id in &ret.tables {
        let table = plan.table(id);
        let sheet = book.add_worksheet();
        sheet.set_name(table.sheet.as_deref().unwrap_or(&table.id))?;
        form.table_sheet(sheet, table, &mut lists)?;
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

/// One return being drawn: what every sheet of it shares.
struct Form<'a> {
    ret: &'a Return,
    template: &'a TemplateSpec,
    unit: &'a Unit,
    /// The superior committee's name, upper case, for the letterhead.
    superior: String,
    period: Period,
    /// The period as the return writes it (`10/2023`, `Quý III/2025`).
    written: String,
    options: &'a Options<'a>,
    s: Styles,
}

impl Form<'_> {
    fn table_sheet(&self, sheet: &mut Worksheet, table: &Table, lists: &mut Vec<Vec<String>>) -> anyhow::Result<()> {
        let width = table.columns.len().max(6) as u16;
        let mut canvas = Canvas::new(sheet);
        for (k, column) in table.columns.iter().enumerate() {
            canvas.set_width(k as u16, if column.kind == ValueKind::Text { 28.0 } else { 13.0 })?;
        }
        self.title_block(&mut canvas, width)?;
        // Headers exactly as reading matches them: a group over its sub-headers, single
        // headers spanning the header rows.
        let top = 8u32;
        let labels: Vec<&Header> = table.columns.iter().map(|c| &c.header).collect();
        let mut first = draw::headers(&mut canvas, &labels, top, table.header_rows as u32, &self.s.header)?;
        canvas.finish()?;
        if table.numbering_row {
            for k in 0..table.columns.len() {
                sheet.write_string_with_format(first, k as u16, format!("({})", k + 1), &self.s.fixed)?;
            }
            first += 1;
        }
        let last = self.options.rows.get(&(table.name.clone(), self.unit.code.clone()));
        let rows = last.copied().unwrap_or(0).max(self.template.rows) as u32;
        let last_row = first + rows - 1;
        for (k, column) in table.columns.iter().enumerate() {
            self.data_column(sheet, table, k, first, rows)?;
            if let Some(validation) = validation(column, lists)? {
                sheet.add_data_validation(first, k as u16, last_row, k as u16, &validation)?;
            }
        }
        let mut footer_row = last_row + 2;
        if table.total_row.is_some() {
            self.total_row(sheet, table, first, rows)?;
            footer_row += 1;
        }
        for (i, line) in self.template.footer_left.iter().enumerate() {
            sheet.write_string(footer_row + i as u32, 1, self.board(line))?;
        }
        for (i, line) in self.template.footer_right.iter().enumerate() {
            sheet.write_string(footer_row + i as u32, width.saturating_sub(3), self.board(line))?;
        }
        sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
        // Only the data cells are unlocked; a unit with more rows than the form inserts
        // them inside the table, and the totals' SUM ranges take them in.
        sheet.protect_with_options(&ProtectionOptions { insert_rows: true, ..ProtectionOptions::default() });
        Ok(())
    }

    /// A footer line with the board's names filled in.
    fn board(&self, line: &str) -> String {
        let identity = &self.options.identity;
        line.replace("{addressee}", &identity.addressee)
            .replace("{board}", &identity.board)
            .replace("{superior}", &identity.superior)
            .replace("{place}", &identity.place)
    }

    /// The letterhead, the form's code, heading and period, and the unit code and period
    /// beside their labels, as reading looks for them.
    fn title_block(&self, canvas: &mut Canvas, width: u16) -> anyhow::Result<()> {
        let s = &self.s;
        let committee = committee(self.unit);
        let date_line = self.period.fill(&self.template.date_line);
        let right = [(self.template.motto.as_str(), &s.bold), (date_line.as_str(), &s.italic)];
        draw::letterhead(canvas, width, &[self.superior.as_str(), committee.as_str(), "*"], &s.bold, &right)?;
        draw::across(canvas, 4, width, &self.template.heading, &s.heading)?;
        draw::across(canvas, 5, width, &self.period.fill(&self.template.period_line), &s.italic)?;
        let sheet = canvas.sheet()?;
        sheet.write_string(3, width - 1, &self.ret.title)?;
        sheet.write_string(6, 0, format!("{}:", self.ret.unit_label))?;
        sheet.write_string(6, 1, &self.unit.code)?;
        sheet.write_string(6, 4, format!("{}:", self.ret.period_label))?;
        sheet.write_string(6, 5, &self.written)?;
        Ok(())
    }

    /// Column `k`'s data cells: row numbers for an ignored column, else what the filler
    /// gives, or unlocked blanks.
    fn data_column(&self, sheet: &mut Worksheet, table: &Table, k: usize, first: u32, rows: u32) -> anyhow::Result<()> {
        let (s, column, col) = (&self.s, &table.columns[k], k as u16);
        for i in 0..rows {
            let row = first + i;
            match (column.ignore, self.filled(table, i as usize, column)) {
                (true, _) => sheet.write_number_with_format(row, col, (i + 1) as f64, &s.fixed)?,
                (false, Some(Fill::Text(t))) => sheet.write_string_with_format(row, col, t, &s.input)?,
                (false, Some(Fill::Number(n))) => sheet.write_number_with_format(row, col, n, &s.input)?,
                (false, None) if column.kind == ValueKind::Date => sheet.write_blank(row, col, &s.input_date)?,
                (false, None) => sheet.write_blank(row, col, &s.input)?,
            };
        }
        Ok(())
    }

    fn filled(&self, table: &Table, row: usize, column: &Column) -> Option<Fill> {
        self.options.fill.and_then(|f| f(&table.id, row, &column.field))
    }

    /// The total row under the data rows: its label, and a SUM formula per numeric column
    /// whose cached result is the true sum, so readers that do not recalculate see it.
    fn total_row(&self, sheet: &mut Worksheet, table: &Table, first: u32, rows: u32) -> anyhow::Result<()> {
        let Some(total) = &table.total_row else { return Ok(()) };
        let (s, row) = (&self.s, first + rows);
        for k in 0..table.columns.len() {
            sheet.write_blank(row, k as u16, &s.total)?;
        }
        sheet.write_string_with_format(row, total.column as u16, &total.label, &s.total)?;
        for (k, column) in table.columns.iter().enumerate() {
            if column.ignore || !matches!(column.kind, ValueKind::Count | ValueKind::Integer | ValueKind::Number) {
                continue;
            }
            let letter = column_letters(k);
            let sum: f64 = (0..rows as usize)
                .filter_map(|i| match self.filled(table, i, column) {
                    Some(Fill::Number(n)) => Some(n),
                    _ => None,
                })
                .sum();
            let formula = Formula::new(format!("=SUM({letter}{}:{letter}{})", first + 1, first + rows))
                .set_result(sum.to_string());
            sheet.write_formula_with_format(row, k as u16, formula, &s.total)?;
        }
        Ok(())
    }
}

/// The data validation of a column: what a clerk may type.
fn validation(column: &Column, lists: &mut Vec<Vec<String>>) -> anyhow::Result<Option<DataValidation>> {
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

/// The blank returns `code` must send for `period`, each with its file name.
pub fn for_unit(
    plan: &Plan,
    hierarchy: &Hierarchy,
    code: &str,
    period: Period,
    options: &Options,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let unit = hierarchy.unit(code).with_context(|| format!("unit {code} is not in the registry for {period}"))?;
    let mut forms = Vec::new();
    for ret in plan.returns.iter().filter(|r| r.senders.contains(&unit.kind)) {
        let bytes = render(plan, ret, hierarchy, unit, period, options)?;
        forms.push((format!("{}_{}_{}.xlsx", ret.id, unit.code.replace(['/', '\\'], "-"), period), bytes));
    }
    if forms.is_empty() {
        anyhow::bail!("unit {code} ({}) sends no return of this pipeline", unit.kind);
    }
    Ok(forms)
}

/// The blank returns of every unit expected to report in `period`.
pub fn for_all(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    options: &Options,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let senders = hierarchy.units.iter().filter(|u| plan.returns.iter().any(|r| r.senders.contains(&u.kind)));
    let mut forms = Vec::new();
    for unit in senders {
        forms.extend(for_unit(plan, hierarchy, &unit.code, period, options)?);
    }
    Ok(forms)
}
