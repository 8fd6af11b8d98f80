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
    ChartType, ConditionalFormatCell, ConditionalFormatCellRule, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use crate::definition::{
    Attainment, CellFormat, Chart, CompletenessAttribute, CompletenessLayout, FindingAttribute, Header, Layout, Plan,
    RowValue, RowsLayout, Sheet, SheetColumn, UnitAttribute, UnitValue, UnitsLayout,
};
use crate::draw;
use crate::model::frame::{any_text, text_column};
use crate::model::{tally_by_group, Expectation, FileRecord, Finding, Period, ReturnStatus, Tally};
use crate::registry::{Hierarchy, Unit};

/// Everything the report draws from.
pub(crate) struct ReportInput<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) hierarchy: &'a Hierarchy,
    pub(crate) period: Period,
    pub(crate) figures: &'a DataFrame,
    /// The period's accepted rows per return table.
    pub(crate) tables: &'a BTreeMap<String, DataFrame>,
    pub(crate) findings: &'a [Finding],
    pub(crate) completeness: &'a [Expectation],
    pub(crate) files: &'a [FileRecord],
    /// Reference files with their size and SHA-256.
    pub(crate) inputs: &'a [(String, u64, String)],
    pub(crate) run_time: String,
    pub(crate) today: chrono::NaiveDate,
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
    /// A unit's cell when its return is missing: the mark's text, or its 0.
    missing_text: Format,
    missing_count: Format,
    /// A cumulative figure that lacks a period's return.
    incomplete_count: Format,
    incomplete_decimal: Format,
    incomplete_percent: Format,
    note: Format,
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
            missing_text: cell.clone().set_italic().set_font_color("7F7F7F").set_align(FormatAlign::Center),
            missing_count: cell.clone().set_italic().set_font_color("7F7F7F").set_num_format("#,##0"),
            incomplete_count: cell.clone().set_italic().set_background_color("FFF2CC").set_num_format("#,##0"),
            incomplete_decimal: cell.clone().set_italic().set_background_color("FFF2CC").set_num_format("#,##0.0"),
            incomplete_percent: cell.clone().set_italic().set_background_color("FFF2CC").set_num_format("0.0%"),
            note: Format::new().set_italic().set_font_name("Times New Roman"),
        }
    }
}

/// Write the workbook and return its bytes.
pub(crate) fn render(input: &ReportInput) -> anyhow::Result<Vec<u8>> {
    let formats = Formats::new();
    // The sheets are independent: draw them on both cores, then bind them in order.
    let sheets = input
        .plan
        .workbook
        .sheets
        .par_iter()
        .map(|spec| -> anyhow::Result<Worksheet> {
            let mut sheet = Worksheet::new();
            sheet.set_name(&spec.name).with_context(|| format!("bad sheet name {}", spec.name))?;
            sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
            let mut draw = Draw { sheet: &mut sheet, spec, input, f: &formats };
            match &spec.layout {
                Layout::Units(layout) => draw.units(layout)?,
                Layout::Rows(layout) => draw.rows(layout)?,
                Layout::Findings(columns) => draw.findings(columns)?,
                Layout::Completeness(layout) => draw.completeness(layout)?,
                Layout::Info => draw.info()?,
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

/// A value to write in a cell.
enum Written {
    Text(String),
    Number(f64),
    Blank,
}

/// What a figure's cell says of its completeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Whole,
    /// The unit sent no valid return for the period.
    Missing,
    /// A cumulative figure lacking a period's return.
    Incomplete,
    /// A figure an input it needs leaves unknown.
    Unknown,
}

/// Values of the figures frame by unit code.
struct Figures<'a> {
    df: &'a DataFrame,
    index: HashMap<String, usize>,
}

impl<'a> Figures<'a> {
    fn new(df: &'a DataFrame) -> anyhow::Result<Figures<'a>> {
        let codes = text_column(df, "code")?;
        Ok(Figures { df, index: codes.into_iter().enumerate().map(|(i, c)| (c, i)).collect() })
    }

    fn number(&self, code: &str, measure: &str) -> Option<f64> {
        let i = *self.index.get(code)?;
        let v = self.df.column(measure).ok()?.get(i).ok()?;
        v.extract::<f64>()
    }

    /// Whether a unit's figure is whole, or lacks a return.
    fn mark(&self, code: &str, measure: &str) -> Mark {
        let state = self.index.get(code).and_then(|&i| {
            let column = self.df.column(&format!("_state_{measure}")).ok()?;
            column.str().ok()?.get(i).map(str::to_string)
        });
        match state.as_deref() {
            Some("missing") => Mark::Missing,
            Some("incomplete") => Mark::Incomplete,
            Some("unknown") => Mark::Unknown,
            _ => Mark::Whole,
        }
    }
}

/// One sheet being drawn.
struct Draw<'a> {
    sheet: &'a mut Worksheet,
    spec: &'a Sheet,
    input: &'a ReportInput<'a>,
    f: &'a Formats,
}

impl Draw<'_> {
    /// The official title block and the sheet title; returns the first free row.
    fn title_block(&mut self, width: u16) -> anyhow::Result<u32> {
        let wb = &self.input.plan.workbook;
        let today = self.input.today;
        let date_line = wb
            .date_line
            .replace("{place}", &wb.place)
            .replace("{day}", &today.format("%d").to_string())
            .replace("{month}", &today.format("%m").to_string())
            .replace("{year}", &today.format("%Y").to_string());
        let right = [(wb.motto.as_str(), &self.f.bold), (date_line.as_str(), &self.f.italic)];
        let mut row =
            draw::letterhead(self.sheet, width, &[wb.superior.as_str(), wb.issuer.as_str()], &self.f.bold, &right)? + 1;
        if let Some(title) = &self.spec.title {
            draw::across(self.sheet, row, width, title, &self.f.title)?;
            row += 1;
        }
        draw::across(self.sheet, row, width, &self.input.period.fill(&wb.period_line), &self.f.subtitle)?;
        Ok(row + 2)
    }

    /// Column headers of one or two rows, the columns' widths, and header rows repeated on
    /// every printed page; returns the first data row.
    fn headers<V>(&mut self, columns: &[SheetColumn<V>], row: u32) -> anyhow::Result<u32> {
        let labels: Vec<&Header> = columns.iter().map(|c| &c.label).collect();
        let data = draw::headers(self.sheet, &labels, row, draw::depth_of(&labels), &self.f.header)?;
        for (k, column) in columns.iter().enumerate() {
            self.sheet.set_column_width(k as u16, column.width())?;
        }
        // Wrapped header text needs room: readers do not grow rows written without a height.
        let lines = |label: &str, width: f64| (label.chars().count() as f64 * 1.1 / width.max(1.0)).ceil().max(1.0);
        let deepest =
            columns.iter().map(|c| lines(c.label.parts().last().copied().unwrap_or(""), c.width())).fold(1.0, f64::max);
        self.sheet.set_row_height(data - 1, 15.0 * deepest.min(4.0))?;
        self.sheet.set_repeat_rows(row, data - 1)?;
        Ok(data)
    }

    /// Recipients on the left and the signatory on the right, two rows under `row`.
    fn signature(&mut self, row: u32, width: u16) -> anyhow::Result<()> {
        let signature = &self.input.plan.workbook.signature;
        let right = width.saturating_sub(width / 3).max(1);
        for (i, line) in signature.left.iter().enumerate() {
            let format = if i == 0 { &self.f.bold_left } else { &self.f.small };
            self.sheet.write_string_with_format(row + 2 + i as u32, 0, line, format)?;
        }
        for (i, line) in signature.right.iter().enumerate() {
            let r = row + 2 + i as u32;
            self.sheet.merge_range(r, right, r, width.max(right + 1) - 1, line, &self.f.bold)?;
        }
        Ok(())
    }

    fn write(&mut self, row: u32, col: u16, value: Written, format: CellFormat, total: bool) -> anyhow::Result<()> {
        self.write_marked(row, col, value, format, total, Mark::Whole)
    }

    fn write_marked(
        &mut self,
        row: u32,
        col: u16,
        value: Written,
        format: CellFormat,
        total: bool,
        mark: Mark,
    ) -> anyhow::Result<()> {
        let f = self.f;
        let (text_f, number_f) = match (mark, format, total) {
            (Mark::Missing | Mark::Unknown, _, _) => (&f.missing_text, &f.missing_count),
            (Mark::Incomplete, CellFormat::Percent, _) => (&f.text, &f.incomplete_percent),
            (Mark::Incomplete, CellFormat::Decimal, _) => (&f.text, &f.incomplete_decimal),
            (Mark::Incomplete, _, _) => (&f.text, &f.incomplete_count),
            (Mark::Whole, format, total) => plain_formats(f, format, total),
        };
        match value {
            Written::Text(t) => self.sheet.write_string_with_format(row, col, &t, text_f)?,
            Written::Number(n) => self.sheet.write_number_with_format(row, col, n, number_f)?,
            Written::Blank => self.sheet.write_blank(row, col, number_f)?,
        };
        Ok(())
    }

    fn units(&mut self, layout: &UnitsLayout) -> anyhow::Result<()> {
        let input = self.input;
        let figures = Figures::new(input.figures)?;
        let h = input.hierarchy;
        let width = layout.columns.len() as u16;
        let top = self.title_block(width)?;
        let first = self.headers(&layout.columns, top)?;
        let name_column = layout.name_column();
        let reporting = reporting(h, input.completeness);
        let mut row = first;
        let mut detail_rows = Vec::new();
        let mut incomplete = false;
        for (unit, kind) in unit_rows(h, layout) {
            let label = match kind {
                UnitRow::Detail => {
                    detail_rows.push(row);
                    None
                }
                UnitRow::Subtotal => Some(layout.subtotal_label.replace("{name}", &unit.name)),
                UnitRow::Total => Some(layout.total_label.replace("{name}", &unit.name)),
            };
            for (k, column) in layout.columns.iter().enumerate() {
                let (value, mark) = match (&label, Some(k) == name_column, column.value) {
                    (Some(l), true, _) => (Written::Text(l.clone()), Mark::Whole),
                    (_, _, UnitValue::Reporting) => {
                        let (sent, expected) = reporting.get(unit.code.as_str()).copied().unwrap_or_default();
                        (Written::Text(format!("{sent}/{expected}")), Mark::Whole)
                    }
                    _ => unit_value(input, &figures, &unit.code, column.value, column.format),
                };
                incomplete |= mark == Mark::Incomplete;
                self.write_marked(row, k as u16, value, column.format, label.is_some(), mark)?;
            }
            row += 1;
        }
        let last = row.saturating_sub(1).max(first);
        row = self.notes(row, width, incomplete)?;
        self.sheet.set_freeze_panes(first, name_column.map_or(1, |c| c as u16 + 1))?;
        self.sheet.autofilter(first - 1, 0, last, width.max(1) - 1)?;
        if let Some(attainment) = &layout.attainment {
            self.colour_attainment(layout, attainment, first, last)?;
        }
        let below = match (&layout.chart, name_column, detail_rows.first(), detail_rows.last()) {
            (Some(chart), Some(names), Some(&r0), Some(&r1)) => {
                self.bar_chart(layout, chart, names, (r0, r1), row + 1)?;
                // The chart takes about fifteen rows.
                row + 16
            }
            _ => row,
        };
        self.signature(below, width)
    }

    /// Under a table of units: the units that sent no valid return for the period, and
    /// what italics mean when some figure lacks a period. Returns the first row under them.
    fn notes(&mut self, row: u32, width: u16, incomplete: bool) -> anyhow::Result<u32> {
        let marks = &self.input.plan.workbook.marks;
        let h = self.input.hierarchy;
        let missing: Vec<String> = self
            .input
            .completeness
            .iter()
            .filter(|e| e.status != ReturnStatus::Accepted)
            .map(|e| match h.unit(&e.parent) {
                Some(parent) => format!("{} ({})", e.name, parent.name),
                None => e.name.clone(),
            })
            .collect();
        let mut lines = Vec::new();
        if !missing.is_empty() {
            lines.push(marks.missing_note.replace("{units}", &missing.join("; ")));
        }
        if incomplete {
            lines.push(marks.incomplete_note.clone());
        }
        for (i, line) in lines.iter().enumerate() {
            let r = row + 1 + i as u32;
            self.sheet.merge_range(r, 0, r, width.max(1) - 1, line, &self.f.note)?;
        }
        Ok(row + lines.len() as u32 + u32::from(!lines.is_empty()))
    }

    /// Percentages coloured by attainment: red below `low`, amber up to `high`, green from it.
    fn colour_attainment(
        &mut self,
        layout: &UnitsLayout,
        attainment: &Attainment,
        first: u32,
        last: u32,
    ) -> anyhow::Result<()> {
        let red = Format::new().set_background_color("F8CBAD").set_font_color("9C0006");
        let amber = Format::new().set_background_color("FFE699").set_font_color("7F6000");
        let green = Format::new().set_background_color("C6EFCE").set_font_color("006100");
        let (low, high) = (attainment.low / 100.0, attainment.high / 100.0);
        for (k, _) in layout.columns.iter().enumerate().filter(|(_, c)| c.format == CellFormat::Percent) {
            let k = k as u16;
            let rules = [
                (ConditionalFormatCellRule::LessThan(low), red.clone()),
                (ConditionalFormatCellRule::Between(low, high - 1e-9), amber.clone()),
                (ConditionalFormatCellRule::GreaterThanOrEqualTo(high), green.clone()),
            ];
            for (rule, format) in rules {
                let cf = ConditionalFormatCell::new().set_rule(rule).set_format(format);
                self.sheet.add_conditional_format(first, k, last, k, &cf)?;
            }
        }
        Ok(())
    }

    /// A bar chart of the chart's column over the detail rows `rows`, named by the
    /// column `names`, placed at row `at`.
    fn bar_chart(
        &mut self,
        layout: &UnitsLayout,
        chart: &Chart,
        names: usize,
        rows: (u32, u32),
        at: u32,
    ) -> anyhow::Result<()> {
        let column = &layout.columns[chart.column];
        let (sheet, values, names) = (self.spec.name.as_str(), chart.column as u16, names as u16);
        let mut bars = rust_xlsxwriter::Chart::new(ChartType::Bar);
        bars.add_series()
            .set_categories((sheet, rows.0, names, rows.1, names))
            .set_values((sheet, rows.0, values, rows.1, values))
            .set_name(column.label.display().as_str());
        bars.title().set_name(&chart.title);
        bars.legend().set_hidden();
        if column.format == CellFormat::Percent {
            // A bar chart's values run along its x axis; bars start at zero.
            bars.x_axis().set_num_format("0%").set_min(0.0);
        }
        self.sheet.insert_chart(at, 0, &bars)?;
        Ok(())
    }

    fn rows(&mut self, layout: &RowsLayout) -> anyhow::Result<()> {
        let input = self.input;
        let table = input.plan.table(layout.table);
        let width = layout.columns.len() as u16;
        let top = self.title_block(width)?;
        let first = self.headers(&layout.columns, top)?;
        let df = match input.tables.get(&table.name) {
            Some(df) if df.height() > 0 => df.sort(["_unit", "_file", "_row"], SortMultipleOptions::default())?,
            _ => DataFrame::empty(),
        };
        let units = if df.height() > 0 { text_column(&df, "_unit")? } else { vec![] };
        let mut sums = vec![0f64; layout.columns.len()];
        for (i, unit) in units.iter().enumerate() {
            let row = first + i as u32;
            for (k, column) in layout.columns.iter().enumerate() {
                let value = match &column.value {
                    RowValue::Unit(attribute) => Written::Text(unit_text(input.hierarchy, unit, *attribute)),
                    RowValue::Field(field) => {
                        let v = df.column(field)?.get(i)?;
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
                                let category = table.column(field).and_then(|c| c.values.iter().find(|x| x.id == text));
                                Written::Text(category.map_or(text, |x| x.label.clone()))
                            }
                        }
                    }
                };
                self.write(row, k as u16, value, column.format, false)?;
            }
        }
        let total_row = first + df.height() as u32;
        for (k, column) in layout.columns.iter().enumerate() {
            let value = match column.format {
                CellFormat::Count | CellFormat::Decimal => Written::Number(sums[k]),
                _ if k == 0 => Written::Text(layout.total_label.clone()),
                _ => Written::Blank,
            };
            self.write(total_row, k as u16, value, column.format, true)?;
        }
        self.sheet.set_freeze_panes(first, 0)?;
        self.sheet.autofilter(first - 1, 0, total_row.saturating_sub(1).max(first), width.max(1) - 1)?;
        self.signature(total_row, width)
    }

    fn findings(&mut self, columns: &[SheetColumn<FindingAttribute>]) -> anyhow::Result<()> {
        let top = self.title_block(columns.len() as u16)?;
        let first = self.headers(columns, top)?;
        let mut findings: Vec<&Finding> = self.input.findings.iter().collect();
        findings.sort_by(|a, b| {
            (&a.group, &a.unit, &a.file, a.row, &a.cell, a.code)
                .cmp(&(&b.group, &b.unit, &b.file, b.row, &b.cell, b.code))
        });
        for (i, finding) in findings.iter().enumerate() {
            for (k, column) in columns.iter().enumerate() {
                let text = match column.value {
                    FindingAttribute::Severity => self.input.plan.workbook.severity_name(finding.severity),
                    attribute => finding.get(attribute),
                };
                self.sheet.write_string_with_format(first + i as u32, k as u16, &text, &self.f.text)?;
            }
        }
        let last = first + findings.len().max(1) as u32 - 1;
        self.sheet.autofilter(first - 1, 0, last, columns.len().max(1) as u16 - 1)?;
        self.sheet.set_freeze_panes(first, 0)?;
        Ok(())
    }

    fn completeness(&mut self, layout: &CompletenessLayout) -> anyhow::Result<()> {
        let input = self.input;
        let h = input.hierarchy;
        let top = self.title_block(layout.columns.len().max(6) as u16)?;
        let first = self.headers(&layout.columns, top)?;
        let (tallies, total) = tally_by_group(h, input.completeness, &layout.group_by);
        let mut row = first;
        let groups =
            tallies.iter().map(|(code, t)| (h.unit(code).map(|u| u.name.clone()).unwrap_or_default(), t, false));
        for (name, tally, is_total) in groups.chain(std::iter::once((self.spec.label("total"), &total, true))) {
            for (k, column) in layout.columns.iter().enumerate() {
                let value = match column.value {
                    CompletenessAttribute::Group => Written::Text(name.clone()),
                    attribute => counted(tally, attribute),
                };
                self.write(row, k as u16, value, column.format, is_total)?;
            }
            row += 1;
        }
        row += 1;
        let Some(title) = &layout.missing_title else { return Ok(()) };
        self.sheet.write_string_with_format(row, 0, title, &self.f.bold)?;
        row += 1;
        let heads = ["list_group", "list_code", "list_name", "list_return", "list_status", "list_file"];
        for (k, key) in heads.iter().enumerate() {
            self.sheet.write_string_with_format(row, k as u16, self.spec.label(key), &self.f.header)?;
        }
        row += 1;
        let group = |e: &Expectation| h.ancestor_of_kind(&e.unit, &layout.group_by);
        let mut listed: Vec<&Expectation> =
            input.completeness.iter().filter(|e| e.status != ReturnStatus::Accepted).collect();
        listed.sort_by_cached_key(|e| (group(e).map(|g| g.code.clone()), e.unit.clone()));
        for e in listed {
            let cells = [
                group(e).map(|g| g.name.clone()).unwrap_or_default(),
                e.unit.clone(),
                e.name.clone(),
                input.plan.return_by_id(&e.return_id).map(|r| r.title.clone()).unwrap_or_default(),
                self.spec.label(&format!("status_{}", e.status.as_str())),
                e.file.clone(),
            ];
            for (k, text) in cells.iter().enumerate() {
                self.sheet.write_string_with_format(row, k as u16, text, &self.f.text)?;
            }
            row += 1;
        }
        Ok(())
    }

    fn info(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let spec = self.spec;
        let top = self.title_block(8)?;
        let read: u32 = input.files.iter().map(|x| x.rows_read).sum();
        let accepted: u32 = input.files.iter().map(|x| x.rows_accepted).sum();
        let rejected: u32 = input.files.iter().map(|x| x.rows_rejected).sum();
        let pipeline = &input.plan.pipeline;
        let facts = [
            (spec.label("pipeline"), format!("{} ({})", pipeline.title, pipeline.name)),
            (spec.label("period"), input.period.to_string()),
            (spec.label("run_time"), input.run_time.clone()),
            (spec.label("version"), format!("tonghop {}", env!("CARGO_PKG_VERSION"))),
            (spec.label("files"), input.files.len().to_string()),
            (spec.label("rows_read"), read.to_string()),
            (spec.label("rows_accepted"), accepted.to_string()),
            (spec.label("rows_rejected"), rejected.to_string()),
        ];
        let mut row = top;
        for (key, value) in &facts {
            self.sheet.write_string_with_format(row, 0, key, &self.f.total_text)?;
            self.sheet.write_string_with_format(row, 1, value, &self.f.text)?;
            row += 1;
        }
        row += 1;
        let heads =
            ["file", "return", "unit", "status", "rows_read", "rows_accepted", "rows_rejected", "size", "sha256"];
        for (k, key) in heads.iter().enumerate() {
            self.sheet.write_string_with_format(row, k as u16, spec.label(key), &self.f.header)?;
        }
        self.sheet.set_column_width(0, 40)?;
        self.sheet.set_column_width(8, 66)?;
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
                input.plan.return_by_id(&x.return_id).map(|r| r.title.clone()).unwrap_or_default(),
                x.unit.clone(),
                spec.label(&format!("status_{}", x.status.as_str())),
            ],
            counts: Some([x.rows_read, x.rows_accepted, x.rows_rejected]),
            size: x.size,
            sha256: x.sha256.clone(),
        });
        let references = input.inputs.iter().map(|(name, size, sha)| Line {
            texts: [name.clone(), spec.label("reference"), String::new(), String::new()],
            counts: None,
            size: *size,
            sha256: sha.clone(),
        });
        for line in returns.chain(references) {
            for (k, t) in line.texts.iter().enumerate() {
                self.sheet.write_string_with_format(row, k as u16, t, &self.f.text)?;
            }
            for (k, n) in line.counts.iter().flatten().enumerate() {
                self.sheet.write_number_with_format(row, 4 + k as u16, *n as f64, &self.f.count)?;
            }
            self.sheet.write_number_with_format(row, 7, line.size as f64, &self.f.count)?;
            self.sheet.write_string_with_format(row, 8, &line.sha256, &self.f.text)?;
            row += 1;
        }
        Ok(())
    }
}

/// The text and number formats of a cell of a column of `format`, in a total row or not.
fn plain_formats(f: &Formats, format: CellFormat, total: bool) -> (&Format, &Format) {
    match (format, total) {
        (CellFormat::Percent, false) => (&f.text, &f.percent),
        (CellFormat::Percent, true) => (&f.total_text, &f.total_percent),
        (CellFormat::Decimal, false) => (&f.text, &f.decimal),
        (CellFormat::Decimal, true) => (&f.total_text, &f.total_decimal),
        (_, false) => (&f.text, &f.count),
        (_, true) => (&f.total_text, &f.total_count),
    }
}

/// What a row of a units sheet is.
enum UnitRow {
    Detail,
    Subtotal,
    Total,
}

/// The rows of a units sheet in order: each unit of the level, grouped under its
/// `group_by` ancestor with the group's subtotal after them, then the total.
fn unit_rows<'a>(h: &'a Hierarchy, layout: &'a UnitsLayout) -> Vec<(&'a Unit, UnitRow)> {
    let mut rows = Vec::new();
    match &layout.group_by {
        Some(group) => {
            // Each unit's group, found once: not once per group and unit.
            let mut members: HashMap<&str, Vec<&Unit>> = HashMap::new();
            for u in h.of_kind(&layout.level) {
                if let Some(a) = h.ancestor_of_kind(&u.code, group) {
                    members.entry(a.code.as_str()).or_default().push(u);
                }
            }
            for g in h.of_kind(group) {
                let Some(members) = members.remove(g.code.as_str()) else { continue };
                rows.extend(members.into_iter().map(|u| (u, UnitRow::Detail)));
                rows.push((g, UnitRow::Subtotal));
            }
        }
        None => rows.extend(h.of_kind(&layout.level).map(|u| (u, UnitRow::Detail))),
    }
    if let Some(total) = &layout.total {
        rows.extend(h.of_kind(total).map(|u| (u, UnitRow::Total)));
    }
    rows
}

fn counted(tally: &Tally, attribute: CompletenessAttribute) -> Written {
    match tally.value(attribute) {
        Some(v) => Written::Number(v),
        None => Written::Blank,
    }
}

/// A unit's code, name, parent code or parent's name.
fn unit_text(hierarchy: &Hierarchy, code: &str, attribute: UnitAttribute) -> String {
    let unit = hierarchy.unit(code);
    match attribute {
        UnitAttribute::Code => code.to_string(),
        UnitAttribute::Name => unit.map(|u| u.name.clone()).unwrap_or_default(),
        UnitAttribute::Parent => unit.map(|u| u.parent.clone()).unwrap_or_default(),
        UnitAttribute::ParentName => {
            unit.and_then(|u| hierarchy.unit(&u.parent)).map(|p| p.name.clone()).unwrap_or_default()
        }
    }
}

/// A unit's cell of a units sheet and its mark: a figure, the missing mark where the
/// unit sent no valid return and its figure is left blank, a text.
fn unit_value(
    input: &ReportInput,
    figures: &Figures,
    code: &str,
    value: UnitValue,
    format: CellFormat,
) -> (Written, Mark) {
    let measure = |id| figures.number(code, &input.plan.measure(id).id);
    match value {
        UnitValue::Unit(attribute) => (Written::Text(unit_text(input.hierarchy, code, attribute)), Mark::Whole),
        UnitValue::Measure(id) => {
            let mark = figures.mark(code, &input.plan.measure(id).id);
            let written = match (measure(id), mark) {
                (Some(v), _) if format == CellFormat::Percent => Written::Number(v / 100.0),
                (Some(v), _) => Written::Number(v),
                (None, Mark::Missing) => Written::Text(input.plan.workbook.marks.missing.clone()),
                (None, Mark::Unknown) => Written::Text(input.plan.workbook.marks.unknown.clone()),
                (None, _) => Written::Blank,
            };
            (written, mark)
        }
        UnitValue::Fraction(a, b) => match (measure(a), measure(b)) {
            (Some(a), Some(b)) => (Written::Text(format!("{a}/{b}")), Mark::Whole),
            _ => (Written::Blank, Mark::Whole),
        },
        // Drawn by the sheet, which counts the returns once.
        UnitValue::Reporting => (Written::Blank, Mark::Whole),
    }
}

/// For every unit, the returns of the period that arrived valid from it and the units
/// under it, and how many were expected.
fn reporting<'a>(h: &'a Hierarchy, completeness: &[Expectation]) -> HashMap<&'a str, (u32, u32)> {
    let mut counts: HashMap<&str, (u32, u32)> = HashMap::new();
    for e in completeness {
        for unit in h.ancestors(&e.unit) {
            let count = counts.entry(unit.code.as_str()).or_default();
            count.0 += u32::from(e.status == ReturnStatus::Accepted);
            count.1 += 1;
        }
    }
    counts
}

fn iso_to_vn(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

#[cfg(test)]
mod tests;
