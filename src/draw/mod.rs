//! What the consolidated workbook and the blank returns draw alike: the letterhead of an
//! official document (the issuing body on the left, the motto and the date on the right)
//! and a table's column headers, a group label merged over its sub-labels, on a `Canvas`
//! that gives every row the height its text needs.

mod canvas;

pub(crate) use canvas::{Canvas, Laid, Style};
use rust_xlsxwriter::XlsxError;

use crate::definition::Header;

/// The letterhead over `width` columns from row 0: `left` lines in the left half, `right`
/// lines (each with its format) in the right half. Returns the first row under it.
pub(crate) fn letterhead(
    canvas: &mut Canvas,
    width: u16,
    left: &[&str],
    left_style: &Style,
    right: &[(&str, &Style)],
) -> Result<u32, XlsxError> {
    let width = width.max(4);
    let half = width / 2;
    for (row, text) in left.iter().enumerate() {
        canvas.across(row as u32, 0, half - 1, text, left_style)?;
    }
    for (row, (text, style)) in right.iter().enumerate() {
        canvas.across(row as u32, half, width - 1, text, style)?;
    }
    Ok(left.len().max(right.len()) as u32)
}

/// One line across `width` columns (a title, the period).
pub(crate) fn across(canvas: &mut Canvas, row: u32, width: u16, text: &str, style: &Style) -> Result<(), XlsxError> {
    canvas.across(row, 0, width.max(4) - 1, text, style)
}

/// Column headers from row `top`, `depth` rows deep: consecutive labels of one group
/// share a merged group cell over their sub-labels; a label without a group spans the
/// depth. With a depth of 1 a joined label is written whole. Returns the first row under
/// the headers.
pub(crate) fn headers(
    canvas: &mut Canvas,
    labels: &[&Header],
    top: u32,
    depth: u32,
    style: &Style,
) -> Result<u32, XlsxError> {
    let depth = depth.max(1);
    let mut c = 0;
    while c < labels.len() {
        let parts = labels[c].parts();
        if parts.len() > 1 && depth > 1 {
            let group = parts[0];
            let mut end = c;
            while labels.get(end + 1).is_some_and(|l| l.parts().len() > 1 && l.parts()[0] == group) {
                end += 1;
            }
            canvas.across(top, c as u16, end as u16, group, style)?;
            for (k, label) in labels.iter().enumerate().take(end + 1).skip(c) {
                canvas.text(top + 1, k as u16, &label.parts()[1..].join(" "), style)?;
            }
            c = end + 1;
        } else {
            canvas.down(top, top + depth - 1, c as u16, &parts.join(" "), style)?;
            c += 1;
        }
    }
    Ok(top + depth)
}

/// How many header rows labels need: two when any has a group.
pub(crate) fn depth_of(labels: &[&Header]) -> u32 {
    if labels.iter().any(|l| l.parts().len() > 1) {
        2
    } else {
        1
    }
}
