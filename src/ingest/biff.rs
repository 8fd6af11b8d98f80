//! A look inside an `.xls` before calamine decodes it.
//!
//! calamine reserves cell buffers from a sheet's DIMENSIONS record and allocates the
//! rectangle spanned by its cells, so a 9 KB file claiming four billion rows asks for
//! gigabytes (the fuzz target found one). This walks the BIFF records of the workbook
//! stream, cheaply, and refuses a sheet whose declared or actual extent passes the cap.

use std::io::{Cursor, Read};

use super::workbook::{Caps, Unreadable};

/// Cell records, each starting with its row and column as u16.
const CELL_RECORDS: [u16; 8] = [0x0203, 0x0204, 0x00FD, 0x027E, 0x00BD, 0x0006, 0x0205, 0x00D6];
const BOF: u16 = 0x0809;
const DIMENSIONS: u16 = 0x0200;
const MULRK: u16 = 0x00BD;

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
pub fn check(bytes: &[u8], caps: Caps) -> Result<(), Unreadable> {
    let mut book = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| Unreadable::Corrupt(e.to_string()))?;
    let name = ["/Workbook", "/Book"].into_iter().find(|n| book.is_stream(n)).ok_or_else(|| Unreadable::Corrupt("no workbook stream".into()))?;
    let mut stream = Vec::new();
    book.open_stream(name)
        .and_then(|mut s| s.read_to_end(&mut stream))
        .map_err(|e| Unreadable::Corrupt(e.to_string()))?;
    let too_large = |n: u64| Unreadable::SheetTooLarge(String::new(), n);
    let mut extent = Extent::default();
    let mut at = 0usize;
    while let (Some(kind), Some(len)) = (u16_at(&stream, at), u16_at(&stream, at + 2)) {
        let start = at + 4;
        let end = (start + len as usize).min(stream.len());
        let data = &stream[start..end];
        at = end;
        match kind as u16 {
            BOF => extent = Extent::default(),
            DIMENSIONS => {
                // BIFF8: first row, last row + 1 (u32), first col, last col + 1 (u16).
                let declared = match (u32_at(data, 0), u32_at(data, 4), u16_at(data, 8), u16_at(data, 10)) {
                    (Some(r0), Some(r1), Some(c0), Some(c1)) if data.len() >= 14 => r1.saturating_sub(r0).saturating_mul(c1.saturating_sub(c0)),
                    _ => 0,
                };
                if declared > caps.max_cells {
                    return Err(too_large(declared));
                }
            }
            kind if CELL_RECORDS.contains(&kind) => {
                let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) else { continue };
                let last_col = if kind == MULRK { data.len().checked_sub(2).and_then(|p| u16_at(data, p)).unwrap_or(col) } else { col };
                let area = extent.add(row, col.min(last_col), col.max(last_col));
                if area > caps.max_cells {
                    return Err(too_large(area));
                }
            }
            _ => {}
        }
    }
    Ok(())
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
        let spread = xls(&[(BOF, vec![0; 16]), (0x0203, number(0, 0)), (0x0203, number(65_535, 255))]);
        assert!(matches!(check(&spread, caps), Err(Unreadable::SheetTooLarge(..))));
    }
}
