//! Paper: what an A4 page printed at 100 % holds, how wide an Excel column prints, and how
//! many lines a text wraps to in it, measured with Times New Roman's own metrics.
//!
//! The workbook is written in Times New Roman, the font of party documents, and printed
//! without shrinking, so that its text is on paper the size the definition gives. Excel and
//! LibreOffice do not agree on a column's width (Excel counts 7 pixels per character of the
//! default font, LibreOffice 7⅓) nor grow a row to fit wrapped text the same way, so
//! neither is trusted: a page's width is judged with the wider reading, a text's lines
//! with the narrower, and every row is given the height its text needs.

mod metrics;

/// Which way up the paper is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub(crate) enum Orientation {
    Portrait,
    #[default]
    Landscape,
}

/// Margins in inches: left and right, top and bottom, and where the header and footer sit.
pub(crate) const MARGIN_SIDE: f64 = 0.5;
pub(crate) const MARGIN_TOP: f64 = 0.75;
pub(crate) const MARGIN_BOTTOM: f64 = 0.75;
pub(crate) const MARGIN_HEADER: f64 = 0.3;
pub(crate) const MARGIN_FOOTER: f64 = 0.3;

/// Excel's code for A4 paper.
pub(crate) const PAPER_A4: u8 = 9;

/// A4 in points, the short side first.
const A4: (f64, f64) = (595.28, 841.89);

/// What a page of A4 in `orientation` holds inside its margins, in points.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) width: f64,
    pub(crate) height: f64,
}

impl Page {
    pub(crate) fn a4(orientation: Orientation) -> Page {
        let (w, h) = match orientation {
            Orientation::Portrait => A4,
            Orientation::Landscape => (A4.1, A4.0),
        };
        Page { width: w - 72.0 * 2.0 * MARGIN_SIDE, height: h - 72.0 * (MARGIN_TOP + MARGIN_BOTTOM) }
    }
}

/// The width, in points, a column `width` characters wide prints at in the reader that
/// prints it widest (LibreOffice: 5.5 pt per character of Times New Roman 11, over the
/// width plus its 5-pixel padding as the file stores it).
pub(crate) fn column_points(width: f64) -> f64 {
    (width + 5.0 / 7.0) * 5.5
}

/// The room, in points, a text has in a column `width` characters wide in the reader that
/// prints it narrowest (Excel: 7 pixels per character and 5 of padding, at 0.75 pt a
/// pixel), less the cell's inner margins.
pub(crate) fn text_room(width: f64) -> f64 {
    ((7.0 * width + 5.0) * 0.75 - 4.0).max(1.0)
}

/// The height, in points, Excel gives a row of Times New Roman 11 it was not told about.
pub(crate) const DEFAULT_ROW: f64 = 15.0;

/// A font of the workbook: Times New Roman at a size, bold or not. Italic is measured as
/// upright, which is never narrower.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Font {
    pub(crate) size: f64,
    pub(crate) bold: bool,
}

impl Font {
    /// The printed width of `text` on one line, in points, with a little to spare for the
    /// readers' rounding.
    pub(crate) fn width(&self, text: &str) -> f64 {
        let units: f64 = text.chars().map(|c| self.advance(c)).sum();
        units / metrics::UNITS_PER_EM * self.size * 1.02
    }

    fn advance(&self, c: char) -> f64 {
        // The table starts with printable ASCII, a row a character: most letters of a text
        // are found where their code says, the others by searching.
        let at = (c as usize).wrapping_sub(' ' as usize);
        let found = match metrics::WIDTHS.get(at) {
            Some(&row) if row.0 == c => Some(row),
            _ => metrics::WIDTHS.binary_search_by_key(&c, |&(k, _, _)| k).ok().map(|i| metrics::WIDTHS[i]),
        };
        match found {
            Some((_, regular, bold)) => f64::from(if self.bold { bold } else { regular }),
            // A character the table lacks: as wide as a capital M, which few are wider than.
            None => self.advance('M'),
        }
    }

    /// How far apart the lines of a wrapped text are, in points.
    pub(crate) fn line_height(&self) -> f64 {
        self.size * 1.2
    }

    /// The lines `text` wraps to in `room` points: words fill a line while they fit, a
    /// word wider than a line is cut where it overflows (and one line more is counted when
    /// it holds a hyphen or a slash, where a reader may cut it sooner), and a line break in
    /// the text starts a line.
    pub(crate) fn lines(&self, text: &str, room: f64) -> usize {
        text.split('\n').map(|paragraph| self.paragraph_lines(paragraph, room)).sum::<usize>().max(1)
    }

    fn paragraph_lines(&self, paragraph: &str, room: f64) -> usize {
        let space = self.width(" ");
        let (mut lines, mut used, mut cut) = (1, 0.0, false);
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let width = self.width(word);
            if used > 0.0 && used + space + width <= room {
                used += space + width;
                continue;
            }
            if used > 0.0 {
                lines += 1;
            }
            used = width;
            while used > room {
                cut |= word.contains(['-', '/']);
                lines += 1;
                used -= room;
            }
        }
        lines + usize::from(cut)
    }

    /// The height, in points, of a row whose tallest cell holds `lines` lines of this font.
    pub(crate) fn row_height(&self, lines: usize) -> f64 {
        (lines as f64 * self.line_height() + 3.0).max(DEFAULT_ROW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_times_new_romans() {
        let font = Font { size: 10.0, bold: false };
        // Digits are half an em; a space a quarter.
        assert!((font.width("0123456789") / 1.02 - 50.0).abs() < 1e-9);
        assert!((font.width(" ") / 1.02 - 2.5).abs() < 1e-9);
        // Vietnamese letters measure as their base letters do, or wider (ơ, ư).
        assert!(font.width("ệ") >= font.width("e") && font.width("ư") > font.width("u"));
        assert!(Font { bold: true, ..font }.width("Đảng") > font.width("Đảng"));
    }

    #[test]
    fn every_character_of_the_table_has_its_own_width() {
        let (regular, bold) = (Font { size: 10.0, bold: false }, Font { size: 10.0, bold: true });
        for &(c, r, b) in metrics::WIDTHS {
            assert_eq!((regular.advance(c), bold.advance(c)), (f64::from(r), f64::from(b)), "{c:?}");
        }
        // One the table lacks is as wide as M.
        assert_eq!(regular.advance('\u{4E00}'), regular.advance('M'));
    }

    #[test]
    fn text_wraps_at_spaces_and_cuts_words_too_long_for_a_line() {
        let font = Font { size: 11.0, bold: false };
        assert_eq!(font.lines("Tổng cộng", 200.0), 1);
        let room = font.width("Kết nạp") + 1.0;
        assert_eq!(font.lines("Kết nạp Kết nạp", room), 2);
        assert_eq!(font.lines("Kết nạp Kết nạp Kết", room), 3);
        assert_eq!(font.lines("Kết nạp\nđảng viên", 500.0), 2);
        // A file name with no space is cut where the line ends; one with a hyphen may be
        // cut at it, a line sooner.
        let name = "bao_cao_thang_10_phuong_tran_hung_dao.xlsx";
        let width = font.width(name);
        assert_eq!(font.lines(name, width / 2.5), 3);
        let name = "bao_cao_thang_10-phuong_tran_hung_dao.xlsx";
        assert_eq!(font.lines(name, font.width(name) / 2.5), 3 + 1);
        assert_eq!(font.lines("", 10.0), 1);
    }

    #[test]
    fn a4_inside_its_margins() {
        let page = Page::a4(Orientation::Landscape);
        assert!((page.width - 769.89).abs() < 0.01 && (page.height - 487.28).abs() < 0.01);
        let page = Page::a4(Orientation::Portrait);
        assert!(page.width < page.height);
    }

    #[test]
    fn a_column_prints_wider_than_its_text_room() {
        for width in [5.0, 8.5, 34.0] {
            assert!(column_points(width) > text_room(width) + 4.0);
        }
        // As LibreOffice printed columns 5, 10, 20 and 40 characters wide.
        for (width, measured) in [(5.0, 31.4), (10.0, 58.8), (20.0, 113.9), (40.0, 223.9)] {
            assert!((column_points(width) - measured).abs() < 0.5, "{width}");
        }
    }
}
