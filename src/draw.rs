//! What the consolidated workbook and the blank returns draw alike: the letterhead of an
//! official document (the issuing body on the left, the motto and the date on the right)
//! and a table's column headers, a group label merged over its sub-labels.

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use crate::definition::Header;

/// The letterhead over `width` columns from row 0: `left` lines in the left half, `right`
/// lines (each with its format) in the right half. Returns the first row under it.
pub(crate) fn letterhead(
    sheet: &mut Worksheet,
    width: u16,
    left: &[&str],
    left_format: &Format,
    right: &[(&str, &Format)],
) -> Result<u32, XlsxError> {
    let width = width.max(4);
    let half = width / 2;
    for (row, text) in left.iter().enumerate() {
        sheet.merge_range(row as u32, 0, row as u32, half - 1, text, left_format)?;
    }
    for (row, (text, format)) in right.iter().enumerate() {
        sheet.merge_range(row as u32, half, row as u32, width - 1, text, format)?;
    }
    Ok(left.len().max(right.len()) as u32)
}

/// One line across `width` columns (a title, the period).
pub(crate) fn across(
    sheet: &mut Worksheet,
    row: u32,
    width: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    sheet.merge_range(row, 0, row, width.max(4) - 1, text, format)?;
    Ok(())
}

/// Column headers from row `top`, `depth` rows deep: consecutive labels of one group
/// share a merged group cell over their sub-labels; a label without a group spans the
/// depth. With a depth of 1 a joined label is written whole. Returns the first row under
/// the headers.
pub(crate) fn headers(
    sheet: &mut Worksheet,
    labels: &[&Header],
    top: u32,
    depth: u32,
    format: &Format,
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
            if end > c {
                sheet.merge_range(top, c as u16, top, end as u16, group, format)?;
            } else {
                sheet.write_string_with_format(top, c as u16, group, format)?;
            }
            for (k, label) in labels.iter().enumerate().take(end + 1).skip(c) {
                sheet.write_string_with_format(top + 1, k as u16, label.parts()[1..].join(" "), format)?;
            }
            c = end + 1;
        } else {
            let text = parts.join(" ");
            if depth > 1 {
                sheet.merge_range(top, c as u16, top + depth - 1, c as u16, &text, format)?;
            } else {
                sheet.write_string_with_format(top, c as u16, &text, format)?;
            }
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
