//! Stage 5, report: the consolidated workbook, laid out as the definition says, readable on
//! screen and on paper.
//!
//! Every label comes from the definition. Figures are written as values, so any reader
//! sees them; percentages are fractions with a `0.0%` format. Text from returns is always
//! written as a string, never as a formula. Every row is as tall as its text needs and every
//! sheet is set up to print on A4 at 100 %, in blocks of columns that fit the page
//! (`paper`).

mod chart;
mod paper;
mod sheets;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use anyhow::Context as _;
use foldhash::HashMap;
use polars::prelude::*;
use rayon::prelude::*;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use crate::definition::{CellFormat, Header, Layout, Plan, Sheet, SheetColumn};
use crate::draw::{self, Canvas, Style};
use crate::model::frame::text_column;
use crate::model::{Expectation, FileRecord, Finding, Period};
use crate::project::Identity;
use crate::registry::Hierarchy;

/// Everything the report draws from.
pub(crate) struct ReportInput<'a> {
    pub(crate) plan: &'a Plan,
    /// Who the board is: the letterhead, the date line's place, the signature.
    pub(crate) identity: &'a Identity,
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
    /// The date of the date line.
    pub(crate) today: chrono::NaiveDate,
}

/// The workbook's cell styles, in Times New Roman at the definition's sizes.
struct Styles {
    /// The letterhead's issuing bodies and motto.
    letterhead: Style,
    date: Style,
    title: Style,
    subtitle: Style,
    header: Style,
    text: Style,
    /// A text that reads as a figure (`17/18`), centred.
    figure_text: Style,
    total_figure_text: Style,
    count: Style,
    decimal: Style,
    percent: Style,
    total_text: Style,
    total_count: Style,
    total_decimal: Style,
    total_percent: Style,
    /// A unit's cell when its return is missing: the mark's text, or its 0.
    missing_text: Style,
    missing_count: Style,
    /// A cumulative figure that lacks a period's return.
    incomplete_count: Style,
    incomplete_decimal: Style,
    incomplete_percent: Style,
    note: Style,
    /// A heading over a list under a table.
    list_title: Style,
    /// The signature block: "Nơi nhận:", the recipients, the signer.
    recipients_title: Style,
    recipients: Style,
    signer: Style,
}

impl Styles {
    fn new(plan: &Plan) -> Styles {
        let print = &plan.workbook.print;
        let (body, title) = (print.font_size, print.title_size);
        let centred = |f: Format| f.set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter);
        let cell =
            Style::new(body, false).with(|f| f.set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter));
        let total = cell.bold().with(|f| f.set_background_color("F2F2F2"));
        let numbers = |style: &Style, format: &str| style.with(|f| f.set_num_format(format));
        let incomplete = cell.with(|f| f.set_italic().set_background_color("FFF2CC"));
        let missing = cell.with(|f| f.set_italic().set_font_color("595959"));
        Styles {
            letterhead: Style::new(body, true).with(centred),
            date: Style::new(body, false).with(|f| centred(f).set_italic()),
            title: Style::new(title, true).with(centred),
            subtitle: Style::new(body, false).with(|f| centred(f).set_italic()),
            header: Style::new(body, true)
                .with(|f| centred(f).set_border(FormatBorder::Thin).set_background_color("DDEBF7")),
            text: cell.clone(),
            figure_text: cell.with(|f| f.set_align(FormatAlign::Center)),
            count: numbers(&cell, "#,##0"),
            decimal: numbers(&cell, "#,##0.0"),
            percent: numbers(&cell, "0.0%"),
            total_text: total.clone(),
            total_figure_text: total.with(|f| f.set_align(FormatAlign::Center)),
            total_count: numbers(&total, "#,##0"),
            total_decimal: numbers(&total, "#,##0.0"),
            total_percent: numbers(&total, "0.0%"),
            missing_text: missing.with(|f| f.set_align(FormatAlign::Center)),
            missing_count: numbers(&missing, "#,##0"),
            incomplete_count: numbers(&incomplete, "#,##0"),
            incomplete_decimal: numbers(&incomplete, "#,##0.0"),
            incomplete_percent: numbers(&incomplete, "0.0%"),
            note: Style::new(body, false).with(Format::set_italic),
            list_title: Style::new(body, true),
            recipients_title: Style::new(body, true).with(Format::set_italic),
            recipients: Style::new((body - 1.0).max(10.0), false),
            signer: Style::new(body, true).with(centred),
        }
    }
}

/// Write the workbook and return its bytes.
pub(crate) fn render(input: &ReportInput) -> anyhow::Result<Vec<u8>> {
    let started = std::time::Instant::now();
    let elapsed_ms = || started.elapsed().as_millis() as u64;
    let styles = Styles::new(input.plan);
    let default = default_format();
    // The sheets are independent: draw them on both cores, the largest first (the others
    // fill the other core meanwhile), then bind them in order.
    let specs = &input.plan.workbook.sheets;
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cells(&specs[i], input)));
    let shared = Shared::default();
    let mut drawn = order
        .into_par_iter()
        .map(|i| -> anyhow::Result<(usize, Worksheet)> {
            let spec = &specs[i];
            let mut sheet = Worksheet::new();
            sheet.set_default_format(&default, DEFAULT_ROW_PIXELS, DEFAULT_COLUMN_PIXELS)?;
            sheet.set_name(&spec.name).with_context(|| format!("bad sheet name {}", spec.name))?;
            let mut draw = Draw::new(&mut sheet, spec, input, &styles, &shared);
            draw.sheet()?;
            let Draw { canvas, printed, .. } = draw;
            let laid = canvas.finish()?;
            paper::set_up(&mut sheet, spec, input, &printed, &laid)?;
            Ok((i, sheet))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    drawn.sort_by_key(|(i, _)| *i);
    tracing::debug!(elapsed_ms = elapsed_ms(), "sheets drawn");
    let sheets = drawn.into_iter().map(|(_, sheet)| sheet);
    let mut book = Workbook::new();
    book.set_default_format(&default, DEFAULT_ROW_PIXELS, DEFAULT_COLUMN_PIXELS)?;
    book.set_zip_compression_level(paper::FIRST_PASS_LEVEL);
    for sheet in sheets {
        book.push_worksheet(sheet);
    }
    let bytes = book.save_to_buffer()?;
    tracing::debug!(elapsed_ms = elapsed_ms(), "workbook saved");
    // Freeing a workbook of ten thousand rows takes a tenth of drawing it: on the side.
    std::thread::spawn(move || drop(book));
    let bytes = paper::first_pages_plain(bytes)?;
    tracing::debug!(elapsed_ms = elapsed_ms(), "first pages made plain");
    Ok(bytes)
}

/// About how many cells a sheet holds: a row per unit of its level, per row of its
/// table, per finding, per expected return or per file read, times its columns.
fn cells(spec: &Sheet, input: &ReportInput) -> usize {
    let (rows, columns) = match &spec.layout {
        Layout::Units(layout) => {
            let units = input.hierarchy.units.iter().filter(|u| u.kind == layout.level).count();
            (units, layout.columns.len())
        }
        Layout::Rows(layout) => {
            let table = input.tables.get(&input.plan.table(layout.table).name);
            (table.map_or(0, |df| df.height()), layout.columns.len())
        }
        Layout::Findings(columns) => (input.findings.len(), columns.len()),
        Layout::Completeness(layout) => (input.completeness.len(), layout.columns.len()),
        Layout::Info => (input.files.len(), sheets::INFO_WIDTHS.len()),
    };
    rows * columns
}

/// A row of Times New Roman 11 is 20 pixels high and a column of it 64 wide, as Excel
/// makes them for that font.
const DEFAULT_ROW_PIXELS: u32 = 20;
const DEFAULT_COLUMN_PIXELS: u32 = 64;

/// The workbook's own font: Times New Roman 11, which column widths are counted in.
fn default_format() -> Format {
    Format::new().set_font_name("Times New Roman").set_font_size(11)
}

/// A value to write in a cell.
enum Written {
    Text(String),
    /// A text that reads as a figure (`17/18`).
    Figure(String),
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
    /// A unit compared with last year's that was formed from parts of old units, or did
    /// not exist.
    NotComparable,
}

/// Values of the figures frame by unit code.
struct Figures<'a> {
    df: &'a DataFrame,
    index: HashMap<String, usize>,
    /// Each measure's status column by the measure's name: a sheet asks for one per cell.
    statuses: HashMap<&'a str, &'a StringChunked>,
}

impl<'a> Figures<'a> {
    fn new(df: &'a DataFrame) -> anyhow::Result<Figures<'a>> {
        let codes = text_column(df, "code")?;
        let statuses = df
            .columns()
            .iter()
            .filter_map(|c| Some((crate::model::frame::status_of(c.name())?, c.str().ok()?)))
            .collect();
        Ok(Figures { df, index: codes.into_iter().enumerate().map(|(i, c)| (c, i)).collect(), statuses })
    }

    fn number(&self, code: &str, measure: &str) -> Option<f64> {
        let i = *self.index.get(code)?;
        let v = self.df.column(measure).ok()?.get(i).ok()?;
        v.extract::<f64>()
    }

    /// Whether a unit's figure is whole, or lacks a return.
    fn mark(&self, code: &str, measure: &str) -> Mark {
        let state = self.index.get(code).and_then(|&i| self.statuses.get(measure)?.get(i));
        match state {
            Some("missing") => Mark::Missing,
            Some("incomplete") => Mark::Incomplete,
            Some("unknown") => Mark::Unknown,
            Some("not_comparable") => Mark::NotComparable,
            _ => Mark::Whole,
        }
    }
}

/// What a sheet's drawing tells its page set-up.
#[derive(Debug, Default)]
struct Printed {
    /// The column header rows, repeated at the top of every printed page.
    heads: Option<(u32, u32)>,
    /// Runs of rows printed on one page when they fit one (a district's units and their
    /// subtotal, the notes and signature, a chart).
    keep: Vec<(u32, u32)>,
    /// The last row drawn.
    last_row: u32,
    /// How many columns are drawn.
    columns: usize,
    /// The drawn columns each printed block shows, side by side; columns after the last
    /// are not printed.
    blocks: Vec<std::ops::Range<usize>>,
}

/// One sheet being drawn.
struct Draw<'a, 'c> {
    canvas: Canvas<'c>,
    spec: &'a Sheet,
    input: &'a ReportInput<'a>,
    s: &'a Styles,
    shared: &'a Shared<'a>,
    printed: Printed,
}

/// What several sheets read alike, made once for the workbook by the first that needs it.
#[derive(Default)]
struct Shared<'a> {
    figures: OnceLock<Result<Figures<'a>, String>>,
    /// Per unit, the returns of the period that arrived valid from it and the units under
    /// it, and how many were expected.
    reporting: OnceLock<HashMap<&'a str, (u32, u32)>>,
}

impl<'a, 'c> Draw<'a, 'c> {
    fn new(
        sheet: &'c mut Worksheet,
        spec: &'a Sheet,
        input: &'a ReportInput<'a>,
        s: &'a Styles,
        shared: &'a Shared<'a>,
    ) -> Draw<'a, 'c> {
        Draw { canvas: Canvas::new(sheet), spec, input, s, shared, printed: Printed::default() }
    }

    fn figures(&self) -> anyhow::Result<&'a Figures<'a>> {
        let made = self.shared.figures.get_or_init(|| Figures::new(self.input.figures).map_err(|e| format!("{e:#}")));
        made.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn reporting(&self) -> &'a HashMap<&'a str, (u32, u32)> {
        self.shared.reporting.get_or_init(|| sheets::reporting(self.input.hierarchy, self.input.completeness))
    }

    /// The columns as drawn, with their widths set: with several printed blocks, the
    /// repeated columns (codes, names) are drawn again before each block after the first,
    /// so that each block prints alone with them. (A printer's repeated columns would also
    /// repeat whatever the title block, the notes and the signature write over them, cut.)
    /// Returns the drawn columns and, for each, the definition's column it shows.
    fn columns<V: Clone>(&mut self, defined: &[SheetColumn<V>]) -> anyhow::Result<(Vec<SheetColumn<V>>, Vec<usize>)> {
        let print = &self.spec.print;
        let mut origin: Vec<usize> = Vec::new();
        let mut blocks = Vec::new();
        if print.blocks.len() > 1 {
            for block in &print.blocks {
                let start = origin.len();
                origin.extend(0..print.repeat);
                origin.extend(block.clone());
                blocks.push(start..origin.len());
            }
            origin.extend(print.blocks.last().map_or(0, |b| b.end)..defined.len());
        } else {
            origin.extend(0..defined.len());
            blocks.push(0..print.blocks.first().map_or(defined.len(), |b| b.end));
        }
        let drawn: Vec<SheetColumn<V>> = origin.iter().map(|&c| defined[c].clone()).collect();
        for (k, column) in drawn.iter().enumerate() {
            self.canvas.set_width(k as u16, column.width())?;
        }
        self.printed.blocks = blocks;
        self.printed.columns = drawn.len();
        Ok((drawn, origin))
    }

    /// How many columns the first printed page shows: the letterhead, the title, the
    /// notes and the signature span them.
    fn first_page_width(&self) -> u16 {
        self.printed.blocks.first().map_or(self.printed.columns, |b| b.end).max(1) as u16
    }

    /// The official title block and the sheet title over the first `width` columns;
    /// returns the first free row.
    fn title_block(&mut self, width: u16) -> anyhow::Result<u32> {
        let wb = &self.input.plan.workbook;
        let today = self.input.today;
        let date_line = wb
            .date_line
            .replace("{place}", &self.input.identity.place)
            .replace("{day}", &today.format("%d").to_string())
            .replace("{month}", &today.format("%m").to_string())
            .replace("{year}", &today.format("%Y").to_string());
        let s = self.s;
        let right = [(wb.motto.as_str(), &s.letterhead), (date_line.as_str(), &s.date)];
        let left = [self.input.identity.superior.as_str(), self.input.identity.board.as_str()];
        let mut row = draw::letterhead(&mut self.canvas, width, &left, &s.letterhead, &right)? + 1;
        if let Some(title) = &self.spec.title {
            draw::across(&mut self.canvas, row, width, title, &s.title)?;
            row += 1;
        }
        draw::across(&mut self.canvas, row, width, &self.input.period.fill(&wb.period_line), &s.subtitle)?;
        Ok(row + 2)
    }

    /// The columns' headers of one or two rows from `row`, repeated on every printed page;
    /// returns the first data row.
    fn headers<V>(&mut self, columns: &[SheetColumn<V>], row: u32) -> anyhow::Result<u32> {
        let labels: Vec<&Header> = columns.iter().map(|c| &c.label).collect();
        let data = draw::headers(&mut self.canvas, &labels, row, draw::depth_of(&labels), &self.s.header)?;
        self.printed.heads = Some((row, data - 1));
        Ok(data)
    }

    /// Recipients on the left and the signatory on the right from the row under `row`,
    /// over the first `width` columns, printed on one page with the rows from `keep_from`
    /// (a signature never stands alone on a page: the table's last rows go with it).
    /// Returns the row under them.
    fn signature(&mut self, row: u32, width: u16, keep_from: u32) -> anyhow::Result<u32> {
        let identity = self.input.identity;
        let width = width.max(2);
        let half = width / 2;
        let first = row + 1;
        for (i, line) in identity.recipients.iter().enumerate() {
            let style = if i == 0 { &self.s.recipients_title } else { &self.s.recipients };
            self.canvas.across(first + i as u32, 0, half - 1, line, style)?;
        }
        for (i, line) in identity.signer.iter().enumerate() {
            self.canvas.across(first + i as u32, half, width - 1, line, &self.s.signer)?;
        }
        let last = first + identity.recipients.len().max(identity.signer.len()).max(1) as u32 - 1;
        self.printed.keep.push((keep_from.min(row), last));
        self.printed.last_row = self.printed.last_row.max(last);
        Ok(last + 1)
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
        let s = self.s;
        let (text_style, number_style) = match (mark, format, total) {
            (Mark::Missing | Mark::Unknown | Mark::NotComparable, _, _) => (&s.missing_text, &s.missing_count),
            (Mark::Incomplete, CellFormat::Percent, _) => (&s.text, &s.incomplete_percent),
            (Mark::Incomplete, CellFormat::Decimal, _) => (&s.text, &s.incomplete_decimal),
            (Mark::Incomplete, _, _) => (&s.text, &s.incomplete_count),
            (Mark::Whole, format, total) => plain_styles(s, format, total),
        };
        let figure_style = if total { &s.total_figure_text } else { &s.figure_text };
        match value {
            Written::Text(t) => self.canvas.text(row, col, &t, text_style)?,
            Written::Figure(t) => self.canvas.text(row, col, &t, figure_style)?,
            Written::Number(n) => self.canvas.number(row, col, n, number_style)?,
            Written::Blank => self.canvas.blank(row, col, number_style)?,
        };
        self.printed.last_row = self.printed.last_row.max(row);
        Ok(())
    }
}

/// The text and number styles of a cell of a column of `format`, in a total row or not.
fn plain_styles(s: &Styles, format: CellFormat, total: bool) -> (&Style, &Style) {
    match (format, total) {
        (CellFormat::Percent, false) => (&s.text, &s.percent),
        (CellFormat::Percent, true) => (&s.total_text, &s.total_percent),
        (CellFormat::Decimal, false) => (&s.text, &s.decimal),
        (CellFormat::Decimal, true) => (&s.total_text, &s.total_decimal),
        (_, false) => (&s.text, &s.count),
        (_, true) => (&s.total_text, &s.total_count),
    }
}

#[cfg(test)]
mod tests;
