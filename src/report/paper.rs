//! How each sheet prints: A4 at 100 % in the definition's orientation, the columns in the
//! definition's blocks (the leading columns repeated on each), the header rows on every
//! page, page breaks that keep a district's units on one page where they fit one, the page
//! number in every footer, and the report's title and period over every page but a sheet's
//! first, which has the letterhead.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use anyhow::Context as _;
use rayon::prelude::*;
use rust_xlsxwriter::Worksheet;
use zip::write::SimpleFileOptions;

use super::{Printed, ReportInput};
use crate::definition::Sheet;
use crate::draw::Laid;
use crate::print::{
    Orientation, Page, DEFAULT_ROW, MARGIN_BOTTOM, MARGIN_FOOTER, MARGIN_HEADER, MARGIN_SIDE, MARGIN_TOP, PAPER_A4,
};

/// The most page breaks Excel takes on a sheet, in each direction.
const MAX_BREAKS: usize = 1023;

/// The deflate level the workbook is first written with, before `first_pages_plain`
/// writes it again: the least work, as it is undone at once.
pub(super) const FIRST_PASS_LEVEL: u8 = 1;

/// The deflate level of the workbook as written: 2 % larger than zlib's usual 6 on the
/// sheets of ten thousand units, in 60 % of the time.
const FINAL_LEVEL: i64 = 5;

/// A page is filled to this share of its height at most, for the readers' rounding of row
/// heights: a page that overflowed would push a row onto a page of its own.
const FILL: f64 = 0.96;

pub(super) fn set_up(
    sheet: &mut Worksheet,
    spec: &Sheet,
    input: &ReportInput,
    printed: &Printed,
    laid: &Laid,
) -> anyhow::Result<()> {
    let print = &spec.print;
    let paper = &input.plan.workbook.print;
    sheet.set_paper_size(PAPER_A4);
    match print.orientation {
        Orientation::Portrait => sheet.set_portrait(),
        Orientation::Landscape => sheet.set_landscape(),
    };
    sheet.set_margins(MARGIN_SIDE, MARGIN_SIDE, MARGIN_TOP, MARGIN_BOTTOM, MARGIN_HEADER, MARGIN_FOOTER);
    sheet.set_print_scale(100);
    if let Some((first, last)) = printed.heads {
        sheet.set_repeat_rows(first, last)?;
    }
    let columns: Vec<u32> = printed.blocks.iter().skip(1).map(|b| b.start as u32).collect();
    if !columns.is_empty() {
        sheet.set_vertical_page_breaks(&columns)?;
    }
    let printed_columns = printed.blocks.last().map_or(printed.columns, |b| b.end).max(1);
    sheet.set_print_area(0, 0, printed.last_row, printed_columns as u16 - 1)?;
    let rows = page_breaks(&laid.heights, printed, Page::a4(print.orientation).height * FILL);
    // Every page break is set here and every page holds what it is given, so the sheet's
    // pages are known, and each sheet is numbered on its own: "page N of this sheet's M".
    // Past the 1,023 breaks Excel allows a sheet, the readers paginate it themselves and
    // say how many pages there are.
    let pages = if rows.len() <= MAX_BREAKS {
        if !rows.is_empty() {
            sheet.set_page_breaks(&rows)?;
        }
        pages(&rows, printed, laid).to_string()
    } else {
        tracing::info!(sheet = %spec.name, pages = rows.len() + 1, "too many pages to break by hand: the reader paginates");
        "&N".to_string()
    };
    let size = paper.font_size.round() as u32;
    let number = escape(&paper.page_number).replace("{page}", "&P").replace("{pages}", &pages);
    sheet.set_footer(format!("&C&\"Times New Roman,Regular\"&{size}{number}"));
    sheet.set_print_first_page_number(1);
    let title = spec.title.clone().unwrap_or_else(|| spec.name.clone());
    let period = input.period.fill(&input.plan.workbook.period_line);
    let continued = paper.continued.replace("{title}", &title).replace("{period}", &period);
    sheet.set_header(format!("&C&\"Times New Roman,Italic\"&{size}{}", escape(&continued)));
    Ok(())
}

/// How many pages print: each block's pages down to the last row written in its columns
/// (the notes and the signature under the table are only in the first block's; a page
/// with nothing on it is not printed).
fn pages(breaks: &[u32], printed: &Printed, laid: &Laid) -> usize {
    let pages = printed.blocks.iter().map(|block| {
        let reach = block.clone().filter_map(|c| laid.reach.get(&(c as u16)).copied()).max().unwrap_or(0);
        1 + breaks.iter().filter(|&&b| b <= reach).count()
    });
    pages.sum::<usize>().max(1)
}

/// A text for a header or footer, where `&` starts a code.
fn escape(text: &str) -> String {
    text.replace('&', "&&")
}

/// The rows that start a printed page: rows flow down pages `room` points high, the header
/// rows repeated at the top of each; a run of rows to keep together that does not fit
/// what is left of a page starts the next one, when it fits a page at all (of runs that
/// start on one row, the longest that fits a page).
fn page_breaks(heights: &BTreeMap<u32, f64>, printed: &Printed, room: f64) -> Vec<u32> {
    let height = |row: u32| heights.get(&row).copied().unwrap_or(DEFAULT_ROW);
    let head: f64 = printed.heads.map_or(0.0, |(a, b)| (a..=b).map(height).sum());
    let mut breaks = Vec::new();
    let mut used = 0.0;
    for row in 0..=printed.last_row {
        // Of the runs starting here, the longest that fits a page.
        let whole = |&(first, last): &(u32, u32)| -> f64 { (first..=last).map(height).sum() };
        let runs = printed.keep.iter().filter(|(first, _)| *first == row).map(whole);
        if let Some(whole) = runs.filter(|w| head + w <= room).reduce(f64::max) {
            if used + whole > room && used > head {
                breaks.push(row);
                used = head;
            }
        }
        let h = height(row);
        if used + h > room && used > head && breaks.last() != Some(&row) {
            breaks.push(row);
            used = head;
        }
        used += h;
    }
    breaks
}

/// The workbook with every sheet's first page free of the running header (it has the
/// letterhead) but still numbered. `rust_xlsxwriter` cannot say "different first page",
/// so the flag and the first page's footer are added to each sheet's XML. The workbook
/// comes here compressed fast (`FIRST_PASS_LEVEL`); every part is compressed again at
/// `FINAL_LEVEL`, on both cores (a part to an archive of its own, then copied as it is),
/// so the file mailed is about as small as at the usual level.
pub(super) fn first_pages_plain(bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    let parts = (0..archive.len())
        .into_par_iter()
        .map(|i| -> anyhow::Result<Vec<u8>> {
            let mut archive = archive.clone();
            let mut file = archive.by_index(i)?;
            let name = file.name()?.to_string();
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(FINAL_LEVEL))
                .last_modified_time(file.last_modified().unwrap_or_default());
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            drop(file);
            if name.starts_with("xl/worksheets/sheet") && name.ends_with(".xml") {
                bytes = different_first(&bytes).with_context(|| format!("{name} has no page footer"))?;
            }
            let mut part = zip::ZipWriter::new(Cursor::new(Vec::new()));
            part.start_file(&name, options)?;
            part.write_all(&bytes)?;
            Ok(part.finish()?.into_inner())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for part in parts {
        let mut part = zip::ZipArchive::new(Cursor::new(part))?;
        out.raw_copy_file(part.by_index(0)?)?;
    }
    Ok(out.finish()?.into_inner())
}

/// A sheet's XML with its header and footer marked different on the first page, which
/// has the same footer and no header. The header and footer come last but for a drawing:
/// they are looked for from the end, and the megabytes of rows before are copied as they are.
fn different_first(xml: &[u8]) -> Option<Vec<u8>> {
    const START: &[u8] = b"<headerFooter>";
    let at = xml.windows(START.len()).rposition(|w| w == START)?;
    let tail = std::str::from_utf8(&xml[at..]).ok()?;
    let footer = tail.split("<oddFooter>").nth(1)?.split("</oddFooter>").next()?;
    let first = format!("<firstFooter>{footer}</firstFooter></headerFooter>");
    let tail = tail.replacen("<headerFooter>", "<headerFooter differentFirst=\"1\">", 1).replacen(
        "</headerFooter>",
        &first,
        1,
    );
    Some([&xml[..at], tail.as_bytes()].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_page_keeps_its_footer_and_loses_the_header() {
        let xml =
            "<x><headerFooter><oddHeader>&amp;CT</oddHeader><oddFooter>&amp;CP &amp;P</oddFooter></headerFooter></x>";
        assert_eq!(
            String::from_utf8(different_first(xml.as_bytes()).unwrap()).unwrap(),
            "<x><headerFooter differentFirst=\"1\"><oddHeader>&amp;CT</oddHeader><oddFooter>&amp;CP &amp;P</oddFooter>\
             <firstFooter>&amp;CP &amp;P</firstFooter></headerFooter></x>"
        );
        assert_eq!(different_first(b"<x/>"), None);
    }

    #[test]
    fn a_group_that_does_not_fit_the_rest_of_a_page_starts_the_next() {
        // Rows of 10 points on pages of 100: a title of 3 rows, a header row, then a
        // group of 5 rows at rows 4-8 and one of 8 rows at 9-16.
        let heights = BTreeMap::from_iter((0..40).map(|r| (r, 10.0)));
        let printed = Printed {
            heads: Some((3, 3)),
            keep: vec![(4, 8), (9, 16)],
            last_row: 30,
            columns: 3,
            blocks: std::iter::once(0..3).collect(),
        };
        let breaks = page_breaks(&heights, &printed, 100.0);
        // Page 1: rows 0-8 (90 points); the 8-row group does not fit there: page 2 is the
        // header, the group and row 17 (100 points), page 3 the header and rows 18-26.
        assert_eq!(breaks, [9, 18, 27]);
    }

    #[test]
    fn of_two_runs_from_one_row_the_longest_that_fits_a_page_is_kept() {
        let heights = BTreeMap::from_iter((0..40).map(|r| (r, 10.0)));
        // A chart (rows 6-9) and the chart with the signature (6-12); then a run too tall.
        let printed = Printed {
            heads: Some((0, 0)),
            keep: vec![(6, 9), (6, 12), (13, 30)],
            last_row: 30,
            columns: 3,
            blocks: std::iter::once(0..3).collect(),
        };
        // Page 1: rows 0-5, as the chart and signature (70 points) do not fit after them;
        // page 2: the header, rows 6-12, then rows 13 and 14 of the run too tall to keep.
        assert_eq!(page_breaks(&heights, &printed, 100.0), [6, 15, 24]);
    }

    #[test]
    fn a_group_taller_than_a_page_is_split_where_the_page_ends() {
        let heights = BTreeMap::from_iter((0..40).map(|r| (r, 10.0)));
        let printed = Printed {
            heads: Some((0, 0)),
            keep: vec![(2, 20)],
            last_row: 20,
            columns: 3,
            blocks: std::iter::once(0..3).collect(),
        };
        assert_eq!(page_breaks(&heights, &printed, 100.0), [10, 19]);
    }
}
