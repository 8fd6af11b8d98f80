//! A look inside an `.xls` before calamine decodes it.
//!
//! calamine reserves cell buffers from a sheet's DIMENSIONS record and allocates the
//! rectangle spanned by its cells, so a 9 KB file claiming four billion rows asks for
//! gigabytes (the fuzz target found one). This walks the BIFF records of the workbook
//! stream, cheaply, and refuses a sheet whose declared or actual extent passes the cap.

use std::io::{Cursor, Read};

use super::{Caps, Unreadable};

/// Cell records, each starting with its row and column as u16.
const CELL_RECORDS: [u16; 8] = [0x0203, 0x0204, 0x00FD, 0x027E, 0x00BD, 0x0006, 0x0205, 0x00D6];
const BOF: u16 = 0x0809;
const DIMENSIONS: u16 = 0x0200;
const MULRK: u16 = 0x00BD;
const BOUNDSHEET: u16 = 0x0085;

fn u16_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u64)
}

fn u32_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
}

/// The extent of one sheet's cells.
#[derive(Default)]
struct Extent {
    rows: Option<(u64, u64)>,
    cols: Option<(u64, u64)>,
}

impl Extent {
    fn add(&mut self, row: u64, first_col: u64, last_col: u64) -> u64 {
        let (r0, r1) = self.rows.unwrap_or((row, row));
        let (c0, c1) = self.cols.unwrap_or((first_col, last_col));
        self.rows = Some((r0.min(row), r1.max(row)));
        self.cols = Some((c0.min(first_col), c1.max(last_col)));
        self.area()
    }

    fn area(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1).saturating_mul(c1 - c0 + 1),
            _ => 0,
        }
    }
}

/// Refuse an `.xls` whose sheets would not fit `caps.max_cells`.
pub(crate) fn check(bytes: &[u8], caps: Caps) -> Result<(), Unreadable> {
    let mut book = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Unreadable::Corrupt(e.to_string()))?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| book.is_stream(n))
        .ok_or_else(|| Unreadable::Corrupt("no workbook stream".into()))?;
    let mut stream = Vec::new();
    book.open_stream(name)
        .and_then(|mut s| s.read_to_end(&mut stream))
        .map_err(|e| Unreadable::Corrupt(e.to_string()))?;
    // calamine reads each sheet from the offset its BOUNDSHEET record gives, so walk the
    // stream from the start and again from every such offset.
    for offset in walk(&stream, 0, caps)? {
        walk(&stream, offset, caps)?;
    }
    Ok(())
}

/// The cells a DIMENSIONS record makes calamine reserve, computed as calamine does
/// (`xls.rs`, `parse_dimensions`): u32 rows and u16 columns, end inclusive, wrapping.
fn reserved_by_dimensions(data: &[u8]) -> u64 {
    let (first_row, last_row, first_col, last_col) = match data.len() {
        10 => (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4), u16_at(data, 6)),
        14 | 16 => (u32_at(data, 0), u32_at(data, 4), u16_at(data, 8), u16_at(data, 10)),
        _ => return 0,
    };
    let (Some(rf), Some(rl), Some(cf), Some(cl)) = (first_row, last_row, first_col, last_col) else { return 0 };
    let (rf, rl, mut cf, cl) = (rf as u32, rl as u32, cf as u32, cl as u32);
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    if rl < 1 || cl < 1 {
        return 1;
    }
    let rows = (rl - 1).wrapping_sub(rf).wrapping_add(1) as u64;
    let cols = (cl - 1).wrapping_sub(cf).wrapping_add(1) as u64;
    rows.saturating_mul(cols)
}

/// Walk the records from `at` to the end of the stream (or an EOF record after a BOF),
/// refusing what passes the cap; returns the sheet offsets of BOUNDSHEET records.
fn walk(stream: &[u8], mut at: usize, caps: Caps) -> Result<Vec<usize>, Unreadable> {
    let too_large = |n: u64| Unreadable::SheetTooLarge(String::new(), n);
    let mut offsets = Vec::new();
    let mut extent = Extent::default();
    while let (Some(kind), Some(len)) = (u16_at(stream, at), u16_at(stream, at + 2)) {
        let start = at + 4;
        let end = (start + len as usize).min(stream.len());
        let data = &stream[start..end];
        at = end;
        match kind as u16 {
            BOF => extent = Extent::default(),
            BOUNDSHEET => offsets.extend(u32_at(data, 0).map(|o| o as usize).filter(|&o| o < stream.len())),
            DIMENSIONS => {
                let reserved = reserved_by_dimensions(data);
                if reserved > caps.max_cells {
                    return Err(too_large(reserved));
                }
            }
            kind if CELL_RECORDS.contains(&kind) => {
                let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) else { continue };
                let last_col = if kind == MULRK {
                    data.len().checked_sub(2).and_then(|p| u16_at(data, p)).unwrap_or(col)
                } else {
                    col
                };
                let area = extent.add(row, col.min(last_col), col.max(last_col));
                if area > caps.max_cells {
                    return Err(too_large(area));
                }
            }
            _ => {}
        }
    }
    offsets.truncate(1024);
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal compound file holding a Workbook stream of the given BIFF records.
    fn xls(records: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut stream = Vec::new();
        for (kind, data) in records {
            stream.extend(kind.to_le_bytes());
            stream.extend((data.len() as u16).to_le_bytes());
            stream.extend(data);
        }
        let mut book = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        std::io::Write::write_all(&mut book.create_stream("/Workbook").unwrap(), &stream).unwrap();
        book.into_inner().into_inner()
    }

    fn dimensions(rows: u32, cols: u16) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend(0u32.to_le_bytes());
        d.extend(rows.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d.extend(cols.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d
    }

    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend(row.to_le_bytes());
        d.extend(col.to_le_bytes());
        d.extend([0u8; 10]);
        d
    }

    #[test]
    fn declared_and_actual_extents_are_capped() {
        let caps = Caps { max_cells: 10_000, ..Caps::default() };
        let small = xls(&[(BOF, vec![0; 16]), (DIMENSIONS, dimensions(20, 13)), (0x0203, number(19, 12))]);
        assert_eq!(check(&small, caps), Ok(()));
        let claims = xls(&[(BOF, vec![0; 16]), (DIMENSIONS, dimensions(u32::MAX, 256))]);
        assert!(matches!(check(&claims, caps), Err(Unreadable::SheetTooLarge(..))));
        // A first row after the last: calamine's arithmetic wraps to four billion rows.
        let mut backwards = dimensions(1, 10);
        backwards[0..4].copy_from_slice(&100u32.to_le_bytes());
        let wraps = xls(&[(BOF, vec![0; 16]), (DIMENSIONS, backwards)]);
        assert!(matches!(check(&wraps, caps), Err(Unreadable::SheetTooLarge(..))));
        let spread = xls(&[(BOF, vec![0; 16]), (0x0203, number(0, 0)), (0x0203, number(65_535, 255))]);
        assert!(matches!(check(&spread, caps), Err(Unreadable::SheetTooLarge(..))));
    }
}
