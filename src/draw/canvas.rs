//! A worksheet being drawn that knows how tall each row must be: every text is measured as
//! it is written, in the width of its column or of the cells merged for it, and each row is
//! given the height of its tallest cell. No reader is trusted to grow a row: LibreOffice does
//! not grow a row for wrapped text it did not lay out, and Excel grows it only on screen.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use crate::print::{text_room, Font, DEFAULT_ROW};

/// A cell format with the font it is printed in, which `rust_xlsxwriter` cannot tell.
#[derive(Clone)]
pub(crate) struct Style {
    pub(crate) format: Format,
    pub(crate) font: Font,
}

impl Style {
    /// A format in Times New Roman at `size`, bold or not, that wraps its text.
    pub(crate) fn new(size: f64, bold: bool) -> Style {
        let format = Format::new().set_font_name("Times New Roman").set_font_size(size).set_text_wrap();
        let format = if bold { format.set_bold() } else { format };
        Style { format, font: Font { size, bold } }
    }

    /// The same style in bold.
    pub(crate) fn bold(&self) -> Style {
        Style { format: self.format.clone().set_bold(), font: Font { bold: true, ..self.font } }
    }

    /// The same style with `change` made to its format.
    pub(crate) fn with(&self, change: impl FnOnce(Format) -> Format) -> Style {
        Style { format: change(self.format.clone()), font: self.font }
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
    pub(crate) sheet: &'a mut Worksheet,
    widths: BTreeMap<u16, f64>,
    /// The height each row needs, in points.
    rows: BTreeMap<u32, f64>,
    /// Cells merged over several rows: the rows and the height they need together.
    tall: Vec<(u32, u32, f64)>,
    /// The last row written in each column.
    reach: BTreeMap<u16, u32>,
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
        Canvas { sheet, widths: BTreeMap::new(), rows: BTreeMap::new(), tall: Vec::new(), reach: BTreeMap::new() }
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
        self.sheet.write_string_with_format(row, col, text, &style.format)?;
        self.measure(row, col, col, text, style);
        Ok(())
    }

    pub(crate) fn number(&mut self, row: u32, col: u16, value: f64, style: &Style) -> Result<(), XlsxError> {
        self.sheet.write_number_with_format(row, col, value, &style.format)?;
        self.reached(row, col, col);
        self.need(row, style.font.row_height(1));
        Ok(())
    }

    pub(crate) fn blank(&mut self, row: u32, col: u16, style: &Style) -> Result<(), XlsxError> {
        self.sheet.write_blank(row, col, &style.format)?;
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
        self.sheet.merge_range(first, col, last, col, text, &style.format)?;
        self.reached(last, col, col);
        let lines = style.font.lines(text, self.room(col, col));
        self.tall.push((first, last, style.font.row_height(lines)));
        Ok(())
    }

    /// Give every row the height its text needs.
    pub(crate) fn finish(mut self) -> Result<Laid, XlsxError> {
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
}
