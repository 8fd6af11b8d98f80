//! A worksheet being drawn that knows how tall each row must be: every text is measured as
//! it is written, in the width of its column or of the cells merged for it, and each row is
//! given the height of its tallest cell. No reader is trusted to grow a row: LibreOffice does
//! not grow a row for wrapped text it did not lay out, and Excel grows it only on screen.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use crate::print::{text_room, Font, DEFAULT_ROW};

/// A cell format with the font it is printed in, which `rust_xlsxwriter` cannot tell.
#[derive(Clone)]
pub(crate) struct Style {
    pub(crate) format: Format,
    pub(crate) font: Font,
    /// Who this style is: each one made has its own, its copies share it (the format cannot
    /// be changed afterwards). The canvas knows a style by it without hashing its format.
    id: u32,
}

/// The id the next style made takes.
static NEXT_STYLE: AtomicU32 = AtomicU32::new(0);

impl Style {
    /// A format in Times New Roman at `size`, bold or not, that wraps its text.
    pub(crate) fn new(size: f64, bold: bool) -> Style {
        let format = Format::new().set_font_name("Times New Roman").set_font_size(size).set_text_wrap();
        let format = if bold { format.set_bold() } else { format };
        Style::of(format, Font { size, bold })
    }

    fn of(format: Format, font: Font) -> Style {
        Style { format, font, id: NEXT_STYLE.fetch_add(1, Ordering::Relaxed) }
    }

    /// The same style in bold.
    pub(crate) fn bold(&self) -> Style {
        Style::of(self.format.clone().set_bold(), Font { bold: true, ..self.font })
    }

    /// The same style with `change` made to its format.
    pub(crate) fn with(&self, change: impl FnOnce(Format) -> Format) -> Style {
        Style::of(change(self.format.clone()), self.font)
    }
}

/// The most characters a cell holds.
const CELL_CHARACTERS: usize = 32_767;

/// `text` as a cell can hold it: a text longer than Excel allows (a value a return typed,
/// quoted in a finding) is cut, and says so with an ellipsis.
fn within_a_cell(text: &str) -> std::borrow::Cow<'_, str> {
    // Excel counts UTF-16 units; a character is one or two.
    if text.len() <= CELL_CHARACTERS || text.encode_utf16().count() <= CELL_CHARACTERS {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut cut = String::new();
    let mut units = 0;
    for c in text.chars() {
        units += c.len_utf16();
        if units >= CELL_CHARACTERS {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    std::borrow::Cow::Owned(cut)
}

/// The width Excel gives a column the sheet does not size.
const DEFAULT_WIDTH: f64 = 8.43;

pub(crate) struct Canvas<'a> {
    sheet: &'a mut Worksheet,
    widths: BTreeMap<u16, f64>,
    /// The height each row needs, in points.
    rows: BTreeMap<u32, f64>,
    /// Cells merged over several rows: the rows and the height they need together.
    tall: Vec<(u32, u32, f64)>,
    /// The last row written in each column.
    reach: BTreeMap<u16, u32>,
    /// Cells written but not formatted yet: in each column, the last rows written one
    /// under the other in the same style. `rust_xlsxwriter` looks a format up by hashing
    /// all of it, a fifth of drawing a large sheet when done for each cell; a run of cells
    /// is formatted with one look-up.
    runs: HashMap<u16, Run>,
    /// The formats of the styles in `runs`, by style id.
    formats: HashMap<u32, Format>,
}

/// Rows `first..=last` of a column, written in the style `style`.
struct Run {
    first: u32,
    last: u32,
    style: u32,
}

/// A drawn sheet's rows and columns as they print.
pub(crate) struct Laid {
    /// Each row's height in points; rows not listed are `DEFAULT_ROW` high.
    pub(crate) heights: BTreeMap<u32, f64>,
    /// The last row written in each column.
    pub(crate) reach: BTreeMap<u16, u32>,
}

impl<'a> Canvas<'a> {
    pub(crate) fn new(sheet: &'a mut Worksheet) -> Canvas<'a> {
        Canvas {
            sheet,
            widths: BTreeMap::new(),
            rows: BTreeMap::new(),
            tall: Vec::new(),
            reach: BTreeMap::new(),
            runs: HashMap::new(),
            formats: HashMap::new(),
        }
    }

    /// The worksheet, every cell written so far formatted.
    pub(crate) fn sheet(&mut self) -> Result<&mut Worksheet, XlsxError> {
        self.settle()?;
        Ok(self.sheet)
    }

    /// That cell `row`, `col` is to have `style`'s format: it joins the run of cells above
    /// it when it has the same style, else the run is formatted and a new one begins.
    fn styled(&mut self, row: u32, col: u16, style: &Style) -> Result<(), XlsxError> {
        self.formats.entry(style.id).or_insert_with(|| style.format.clone());
        if let Some(run) = self.runs.get_mut(&col) {
            if run.style == style.id && run.last.checked_add(1) == Some(row) {
                run.last = row;
                return Ok(());
            }
        }
        match self.runs.insert(col, Run { first: row, last: row, style: style.id }) {
            Some(run) => self.format(col, &run),
            None => Ok(()),
        }
    }

    fn format(&mut self, col: u16, run: &Run) -> Result<(), XlsxError> {
        self.sheet.set_range_format(run.first, col, run.last, col, &self.formats[&run.style])?;
        Ok(())
    }

    /// Format every cell written so far.
    fn settle(&mut self) -> Result<(), XlsxError> {
        for (col, run) in std::mem::take(&mut self.runs) {
            self.format(col, &run)?;
        }
        Ok(())
    }

    /// Format the cells written so far in columns `first..=last`, before something else
    /// is written over them.
    fn settle_columns(&mut self, first: u16, last: u16) -> Result<(), XlsxError> {
        for col in first..=last {
            if let Some(run) = self.runs.remove(&col) {
                self.format(col, &run)?;
            }
        }
        Ok(())
    }

    pub(crate) fn set_width(&mut self, col: u16, width: f64) -> Result<(), XlsxError> {
        self.sheet.set_column_width(col, width)?;
        self.widths.insert(col, width);
        Ok(())
    }

    /// A column's width in characters.
    pub(crate) fn width(&self, col: u16) -> f64 {
        self.widths.get(&col).copied().unwrap_or(DEFAULT_WIDTH)
    }

    /// The room a text has across columns `first..=last`, in points.
    fn room(&self, first: u16, last: u16) -> f64 {
        // Merged columns also lend the text their padding: the width of one wide column.
        let width: f64 = (first..=last).map(|c| self.width(c)).sum::<f64>() + f64::from(last - first) * 5.0 / 7.0;
        text_room(width)
    }

    /// That cells `first..=last` of `row` hold something.
    fn reached(&mut self, row: u32, first: u16, last: u16) {
        for col in first..=last {
            let reach = self.reach.entry(col).or_insert(row);
            *reach = (*reach).max(row);
        }
    }

    /// That row `row` needs `height` points at least.
    pub(crate) fn need(&mut self, row: u32, height: f64) {
        let need = self.rows.entry(row).or_insert(DEFAULT_ROW);
        *need = need.max(height);
    }

    fn measure(&mut self, row: u32, first: u16, last: u16, text: &str, style: &Style) {
        self.reached(row, first, last);
        let lines = style.font.lines(text, self.room(first, last));
        self.need(row, style.font.row_height(lines));
    }

    pub(crate) fn text(&mut self, row: u32, col: u16, text: &str, style: &Style) -> Result<(), XlsxError> {
        let text = &*within_a_cell(text);
        self.sheet.write_string(row, col, text)?;
        self.styled(row, col, style)?;
        self.measure(row, col, col, text, style);
        Ok(())
    }

    pub(crate) fn number(&mut self, row: u32, col: u16, value: f64, style: &Style) -> Result<(), XlsxError> {
        self.sheet.write_number(row, col, value)?;
        self.styled(row, col, style)?;
        self.reached(row, col, col);
        self.need(row, style.font.row_height(1));
        Ok(())
    }

    pub(crate) fn blank(&mut self, row: u32, col: u16, style: &Style) -> Result<(), XlsxError> {
        // A blank is a format on an empty cell: whatever was written there goes.
        self.sheet.clear_cell(row, col);
        self.styled(row, col, style)?;
        self.reached(row, col, col);
        self.need(row, style.font.row_height(1));
        Ok(())
    }

    /// `text` across columns `first..=last` of one row (one cell when they are the same).
    pub(crate) fn across(
        &mut self,
        row: u32,
        first: u16,
        last: u16,
        text: &str,
        style: &Style,
    ) -> Result<(), XlsxError> {
        let text = &*within_a_cell(text);
        self.settle_columns(first, last)?;
        if last > first {
            self.sheet.merge_range(row, first, row, last, text, &style.format)?;
        } else {
            self.sheet.write_string_with_format(row, first, text, &style.format)?;
        }
        self.measure(row, first, last, text, style);
        Ok(())
    }

    /// `text` down rows `first..=last` of one column.
    pub(crate) fn down(&mut self, first: u32, last: u32, col: u16, text: &str, style: &Style) -> Result<(), XlsxError> {
        let text = &*within_a_cell(text);
        if last == first {
            return self.text(first, col, text, style);
        }
        self.settle_columns(col, col)?;
        self.sheet.merge_range(first, col, last, col, text, &style.format)?;
        self.reached(last, col, col);
        let lines = style.font.lines(text, self.room(col, col));
        self.tall.push((first, last, style.font.row_height(lines)));
        Ok(())
    }

    /// Give every row the height its text needs.
    pub(crate) fn finish(mut self) -> Result<Laid, XlsxError> {
        self.settle()?;
        for (first, last, need) in std::mem::take(&mut self.tall) {
            let have: f64 = (first..=last).map(|r| self.rows.get(&r).copied().unwrap_or(DEFAULT_ROW)).sum();
            if have < need {
                let last_height = self.rows.get(&last).copied().unwrap_or(DEFAULT_ROW);
                self.rows.insert(last, last_height + need - have);
            }
        }
        for (&row, &height) in &self.rows {
            // Excel's tallest row.
            self.sheet.set_row_height(row, height.min(409.0))?;
        }
        Ok(Laid { heights: self.rows, reach: self.reach })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_a_cell_holds_is_cut_and_says_so() {
        let long = "Đ".repeat(40_000);
        let cut = within_a_cell(&long);
        assert_eq!(cut.encode_utf16().count(), CELL_CHARACTERS);
        assert!(cut.ends_with('…'));
        assert_eq!(within_a_cell("Xã An Nội"), "Xã An Nội");
    }

    /// The cells of a workbook's first sheet: reference, format index, type and value.
    fn cells(mut book: rust_xlsxwriter::Workbook) -> Vec<(String, String, String, String)> {
        use std::io::Read;
        let bytes = book.save_to_buffer().unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
        let attr = |cell: &str, name: &str| {
            cell.split(&format!(" {name}=\"")).nth(1).and_then(|v| v.split('"').next()).unwrap_or("").to_string()
        };
        xml.split("<c ")
            .skip(1)
            .map(|cell| {
                let cell = format!(" {}", cell.split("</c>").next().unwrap());
                let cell = cell.as_str();
                let value = cell.split("<v>").nth(1).and_then(|v| v.split("</v>").next()).unwrap_or("");
                (attr(cell, "r"), attr(cell, "s"), attr(cell, "t"), value.to_string())
            })
            .collect()
    }

    #[test]
    fn cells_are_formatted_as_if_each_were_written_with_its_format() {
        let plain = Style::new(11.0, false);
        let bold = plain.bold();
        let percent = plain.with(|f| f.set_num_format("0.0%"));
        let mut book = rust_xlsxwriter::Workbook::new();
        let mut canvas = Canvas::new(book.add_worksheet());
        // A run down a column, broken by another style, and a cell of it written again.
        canvas.text(0, 0, "a", &plain).unwrap();
        canvas.text(1, 0, "b", &plain).unwrap();
        canvas.number(2, 0, 1.0, &bold).unwrap();
        canvas.number(3, 0, 2.0, &bold).unwrap();
        canvas.blank(4, 0, &plain).unwrap();
        canvas.text(1, 0, "c", &percent).unwrap();
        // A blank over a text, a text over a blank.
        canvas.text(5, 1, "d", &plain).unwrap();
        canvas.blank(5, 1, &bold).unwrap();
        canvas.blank(6, 1, &plain).unwrap();
        canvas.text(6, 1, "e", &percent).unwrap();
        // Cells merged over what was written.
        canvas.number(7, 2, 5.0, &plain).unwrap();
        canvas.across(7, 2, 3, "f", &bold).unwrap();
        canvas.text(8, 2, "g", &plain).unwrap();
        canvas.down(8, 9, 2, "h", &percent).unwrap();
        // Written on the sheet itself, unformatted, over a cell of the canvas.
        canvas.text(10, 0, "i", &bold).unwrap();
        canvas.sheet().unwrap().write_string(10, 0, "j").unwrap();
        canvas.finish().unwrap();
        let drawn = cells(book);

        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let (p, b, c) = (&plain.format, &bold.format, &percent.format);
        sheet.write_string_with_format(0, 0, "a", p).unwrap();
        sheet.write_string_with_format(1, 0, "b", p).unwrap();
        sheet.write_number_with_format(2, 0, 1.0, b).unwrap();
        sheet.write_number_with_format(3, 0, 2.0, b).unwrap();
        sheet.write_blank(4, 0, p).unwrap();
        sheet.write_string_with_format(1, 0, "c", c).unwrap();
        sheet.write_string_with_format(5, 1, "d", p).unwrap();
        sheet.write_blank(5, 1, b).unwrap();
        sheet.write_blank(6, 1, p).unwrap();
        sheet.write_string_with_format(6, 1, "e", c).unwrap();
        sheet.write_number_with_format(7, 2, 5.0, p).unwrap();
        sheet.merge_range(7, 2, 7, 3, "f", b).unwrap();
        sheet.write_string_with_format(8, 2, "g", p).unwrap();
        sheet.merge_range(8, 2, 9, 2, "h", c).unwrap();
        sheet.write_string_with_format(10, 0, "i", b).unwrap();
        sheet.write_string(10, 0, "j").unwrap();
        let direct = cells(book);

        // The same cells with the same values; formats may be numbered otherwise, but a
        // cell has a format of its own exactly where it had one, shared with the same cells.
        assert_eq!(drawn.len(), direct.len());
        let mut numbering = BTreeMap::new();
        for (d, w) in drawn.iter().zip(&direct) {
            assert_eq!((&d.0, &d.2, &d.3), (&w.0, &w.2, &w.3));
            assert_eq!(d.1.is_empty(), w.1.is_empty(), "{} formatted otherwise", d.0);
            assert_eq!(
                numbering.entry(d.1.clone()).or_insert_with(|| w.1.clone()),
                &w.1,
                "{} formatted otherwise",
                d.0
            );
        }
        let distinct: std::collections::BTreeSet<_> = numbering.values().collect();
        assert_eq!(distinct.len(), numbering.len());
        assert_eq!(drawn.iter().find(|c| c.0 == "B6").map(|c| c.3.as_str()), Some(""), "a blank clears the cell");
    }
}
