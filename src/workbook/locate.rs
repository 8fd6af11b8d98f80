//! Finding a table in a sheet by its header text, and the title-block values above it.
//!
//! Units move the title block up or down, add a blank column, reorder columns and retype
//! headers. So a table is found where a run of rows holds its header labels (folded, see
//! `text::fold`), wherever that is, and each column is mapped by its label, not its letter.

use super::{Cell, Grid};
use crate::definition::{Column, Table};
use crate::text;

/// How far down a sheet a header may start.
const HEADER_SEARCH_ROWS: usize = 60;

/// A table found in a sheet.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// 0-based row of the first header row.
    pub(crate) header_row: usize,
    /// 0-based row of the first row after the header (and numbering row).
    pub(crate) data_row: usize,
    /// For each column of the spec, its sheet column when present.
    pub(crate) columns: Vec<Option<usize>>,
    /// How many of the spec's columns were found.
    pub(crate) matched: usize,
    /// Columns of the spec whose header the sheet has twice: the column and both places.
    pub(crate) twice: Vec<(usize, usize, usize)>,
}

impl Located {
    /// Fields of required columns that the sheet lacks.
    pub(crate) fn missing_required<'a>(&self, spec: &'a Table) -> Vec<&'a Column> {
        spec.columns.iter().zip(&self.columns).filter(|(c, at)| c.required && at.is_none()).map(|(c, _)| c).collect()
    }
}

/// The folded text of the top of a sheet, where headers can be: folded once per sheet,
/// not once per candidate row and table.
pub(crate) struct FoldedTop {
    rows: Vec<Vec<String>>,
}

impl FoldedTop {
    pub(crate) fn of(grid: &Grid, deepest_header: usize) -> FoldedTop {
        let depth = (HEADER_SEARCH_ROWS + deepest_header).min(grid.rows.len());
        FoldedTop {
            rows: grid.rows[..depth]
                .iter()
                .map(|row| {
                    row.iter().map(|c| if c.is_empty() { String::new() } else { text::fold(&c.text()) }).collect()
                })
                .collect(),
        }
    }

    fn get(&self, row: usize, col: usize) -> &str {
        self.rows.get(row).and_then(|r| r.get(col)).map_or("", String::as_str)
    }
}

/// The folded label of every column of a header that starts at `row` and spans `height`
/// rows. A group header (a cell whose row below has sub-headers) extends rightwards over
/// blank cells, as its merge does on screen; labels join top to bottom.
fn header_labels(top: &FoldedTop, row: usize, height: usize) -> Vec<String> {
    let width = (row..row + height).map(|r| top.rows.get(r).map_or(0, Vec::len)).max().unwrap_or(0);
    let mut groups: Vec<Option<&str>> = vec![None; height];
    (0..width)
        .map(|col| {
            let mut parts: Vec<&str> = Vec::new();
            for level in 0..height {
                let cell = top.get(row + level, col);
                let below_filled = level + 1 < height && !top.get(row + level + 1, col).is_empty();
                if !cell.is_empty() {
                    groups[level] = below_filled.then_some(cell);
                    for g in groups.iter_mut().skip(level + 1) {
                        *g = None;
                    }
                    parts.push(cell);
                } else if let Some(group) = groups[level].filter(|_| below_filled) {
                    parts.push(group);
                }
            }
            parts.join(" ")
        })
        .collect()
}

/// Map the table's columns onto header labels by their folded headers.
fn match_columns(table: &Table, labels: &[String]) -> Vec<Option<usize>> {
    table.columns.iter().map(|c| labels.iter().position(|l| !l.is_empty() && c.matches.contains(l))).collect()
}

/// Kept columns of the table whose header is there twice: which of the two holds the
/// figures, only the unit can say.
fn headers_twice(table: &Table, labels: &[String], columns: &[Option<usize>]) -> Vec<(usize, usize, usize)> {
    let mut twice = Vec::new();
    for (i, (column, first)) in table.columns.iter().zip(columns).enumerate() {
        let Some(first) = *first else { continue };
        let again =
            labels.iter().enumerate().skip(first + 1).find(|(_, l)| !l.is_empty() && column.matches.contains(l));
        if let (false, Some((second, _))) = (column.ignore, again) {
            twice.push((i, first, second));
        }
    }
    twice
}

/// Find the table of `spec` in `grid` (whose top `top` holds, folded): the header
/// position that matches the most columns, if it matches at least half of them (and two
/// at least).
pub(crate) fn locate(grid: &Grid, top: &FoldedTop, spec: &Table) -> Option<Located> {
    let needed = spec.columns.len().div_ceil(2).max(2.min(spec.columns.len()));
    let mut best: Option<Located> = None;
    for row in 0..grid.rows.len().min(HEADER_SEARCH_ROWS) {
        let labels = header_labels(top, row, spec.header_rows);
        let columns = match_columns(spec, &labels);
        let matched = columns.iter().filter(|c| c.is_some()).count();
        if matched >= needed && best.as_ref().is_none_or(|b| matched > b.matched) {
            let mut data_row = row + spec.header_rows;
            if spec.numbering_row && is_numbering_row(grid, data_row) {
                data_row += 1;
            }
            let twice = headers_twice(spec, &labels, &columns);
            best = Some(Located { header_row: row, data_row, columns, matched, twice });
        }
    }
    best
}

/// A row of column numbers: every non-empty cell is a short number or letter, possibly
/// in parentheses, such as `(1)`, `2`, `A`, `(B)`.
fn is_numbering_row(grid: &Grid, row: usize) -> bool {
    let Some(cells) = grid.rows.get(row) else { return false };
    let filled: Vec<&Cell> = cells.iter().filter(|c| !c.is_empty()).collect();
    filled.len() >= 2
        && filled.iter().all(|c| {
            let t = c.text();
            let core = t.trim().trim_start_matches('(').trim_end_matches(')');
            (1..=3).contains(&core.len()) && core.chars().all(|ch| ch.is_ascii_alphanumeric())
        })
}

/// The value next to a label in the rows above `before_row`: the rest of the label's cell
/// after a colon, or else the next non-empty cell to its right, unless that cell is itself
/// one of `labels` (folded): a blank beside the label is no value, and the next label is
/// never taken for one. Returns it with its 0-based position.
pub(crate) fn labelled_value(
    grid: &Grid,
    label: &str,
    before_row: usize,
    labels: &[String],
) -> Option<(Cell, usize, usize)> {
    let wanted = text::fold(label);
    for (r, row) in grid.rows.iter().enumerate().take(before_row) {
        for (c, cell) in row.iter().enumerate() {
            let Cell::Text(t) = cell else { continue };
            if !text::starts_with_folded(t, &wanted) {
                continue;
            }
            if let Some((_, rest)) = t.split_once(':') {
                if !rest.trim().is_empty() {
                    return Some((Cell::Text(rest.trim().to_string()), r, c));
                }
            }
            let (offset, next) = row.iter().enumerate().skip(c + 1).find(|(_, x)| !x.is_empty())?;
            if labels.iter().any(|l| text::starts_with_folded(&next.text(), l)) {
                return None;
            }
            return Some((next.clone(), r, offset));
        }
    }
    None
}

/// Every non-empty text of the rows above `before_row`, with its A1 cell.
pub(crate) fn title_texts(grid: &Grid, before_row: usize) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    for (r, row) in grid.rows.iter().enumerate().take(before_row) {
        for (c, cell) in row.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            texts.push((super::a1(r, c), cell.text()));
        }
    }
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&[&str]]) -> Grid {
        Grid {
            name: "S".into(),
            hidden: false,
            rows: rows
                .iter()
                .map(|r| r.iter().map(|t| if t.is_empty() { Cell::Empty } else { Cell::Text(t.to_string()) }).collect())
                .collect(),
        }
    }

    #[test]
    fn group_headers_join_their_sub_headers() {
        let g = grid(&[&["STT", "Chi bộ", "Đảng viên kết nạp", "", "Ghi chú"], &["", "", "Tổng số", "Nữ", ""]]);
        let labels = header_labels(&FoldedTop::of(&g, 2), 0, 2);
        assert_eq!(labels[0], text::fold("STT"));
        assert_eq!(labels[2], text::fold("Đảng viên kết nạp Tổng số"));
        assert_eq!(labels[3], text::fold("Đảng viên kết nạp Nữ"));
        assert_eq!(labels[4], text::fold("Ghi chú"));
    }

    #[test]
    fn labelled_values_beside_or_after_a_colon() {
        let labels = [text::fold("Mã đơn vị"), text::fold("Kỳ báo cáo")];
        let g = grid(&[&["Mã đơn vị:", "", "13456"], &["Kỳ báo cáo: 10/2023"], &["STT"]]);
        assert_eq!(labelled_value(&g, "Mã đơn vị", 2, &labels).map(|v| v.0.text()), Some("13456".into()));
        assert_eq!(labelled_value(&g, "Kỳ báo cáo", 2, &labels).map(|v| v.0.text()), Some("10/2023".into()));
        assert!(labelled_value(&g, "Kỳ báo cáo", 1, &labels).is_none());
    }

    #[test]
    fn a_label_is_never_the_value_of_the_label_before_it() {
        let labels = [text::fold("Mã đơn vị"), text::fold("Kỳ báo cáo")];
        let g = grid(&[&["Mã đơn vị:", "", "", "Kỳ báo cáo:", "10/2023"], &["STT"]]);
        assert!(labelled_value(&g, "Mã đơn vị", 1, &labels).is_none());
        assert_eq!(
            labelled_value(&g, "Kỳ báo cáo", 1, &labels).map(|v| (v.0.text(), v.2)),
            Some(("10/2023".into(), 4))
        );
    }

    #[test]
    fn numbering_rows_are_recognised() {
        let g = grid(&[&["(1)", "(2)", "(3)"], &["A", "B", "1"], &["1", "Chi bộ thôn 1", "2"]]);
        assert!(is_numbering_row(&g, 0));
        assert!(is_numbering_row(&g, 1));
        assert!(!is_numbering_row(&g, 2));
    }
}
