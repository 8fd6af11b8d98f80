//! Reading workbooks: any format the board receives, as a grid of cells per sheet, and
//! the tables in it.
//!
//! `read` opens a workbook; `locate` finds a table by its header text; `table` reads its
//! rows into typed values (`coerce`) with findings at their cells; `reference` reads the
//! board's own tables. Ingest reads returns with it, the run reads reference tables.
//!
//! The format is sniffed from the first bytes, never taken from the extension: portals
//! save HTML pages as `.xls`, and units rename files. Whatever cannot be read is a
//! `Unreadable` with a reason the clerk understands; this module never panics on purpose,
//! and the caller isolates it with `catch_unwind` for the panics of the readers.

mod biff;
pub(crate) mod coerce;
mod formula;
pub(crate) mod locate;
pub(crate) mod reference;
pub(crate) mod table;

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, DataRef, Ods, Reader, SheetVisible, Xls, XlsOptions, Xlsx};
use chrono::NaiveDate;

use crate::definition::Limits;

/// One cell, reduced to what coercion needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
    /// An error value such as `#REF!`.
    Error(String),
    /// A formula saved without its result (files written by scripts): its text, `=` first.
    Formula(String),
}

impl Cell {
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, for labels and messages.
    pub(crate) fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Error(e) | Cell::Formula(e) => e.clone(),
        }
    }
}

/// A sheet as a grid indexed from A1.
#[derive(Debug, Clone)]
pub struct Grid {
    pub name: String,
    pub hidden: bool,
    pub rows: Vec<Vec<Cell>>,
}

static EMPTY: Cell = Cell::Empty;

impl Grid {
    pub(crate) fn get(&self, row: usize, col: usize) -> &Cell {
        self.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&EMPTY)
    }
}

/// Limits that keep one hostile file from exhausting the machine. A return is a few
/// hundred cells; these are generous for anything a unit types and stop what is not.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_file_bytes: u64,
    /// Cell slots held for one sheet (a row holds slots up to its last used cell).
    pub max_cells: u64,
    /// Bytes the zip entries of an .xlsx/.ods may inflate to, all together.
    pub max_unzipped_bytes: u64,
    /// How much smaller than its content a zip entry may be: a bomb is all repetition.
    pub max_zip_ratio: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps::from(&Limits::default())
    }
}

impl From<&Limits> for Caps {
    fn from(limits: &Limits) -> Caps {
        Caps {
            max_file_bytes: limits.max_file_mb.saturating_mul(1024 * 1024),
            max_cells: limits.max_cells,
            max_unzipped_bytes: limits.max_unzipped_mb.saturating_mul(1024 * 1024),
            max_zip_ratio: limits.max_zip_ratio,
        }
    }
}

/// Why a file is not a workbook we can read. The variant is the finding's cause.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum Unreadable {
    #[error("the file is an HTML or XML page saved under a spreadsheet name")]
    Html,
    #[error("the workbook is protected by a password")]
    Encrypted,
    #[error("the file is not a spreadsheet (unknown content)")]
    UnknownFormat,
    #[error("the file is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("the file is empty")]
    Empty,
    #[error("the file is too large ({0} bytes)")]
    TooLarge(u64),
    #[error("sheet `{0}` is too large ({1} cells)")]
    SheetTooLarge(String, u64),
    #[error("the workbook has no sheet with any content")]
    NoContent,
    #[error("the compressed file would inflate to {0} bytes")]
    Bomb(u64),
}

impl Unreadable {
    /// The definition's message key for this reason and the English default; `{detail}`
    /// stands for `detail()`.
    pub(crate) fn key(&self) -> (&'static str, &'static str) {
        match self {
            Unreadable::Html => ("reason-html", "the file is an HTML or XML page saved under a spreadsheet name"),
            Unreadable::Encrypted => ("reason-encrypted", "the workbook is protected by a password"),
            Unreadable::UnknownFormat => ("reason-unknown", "the file is not a spreadsheet"),
            Unreadable::Corrupt(_) => ("reason-corrupt", "the file is damaged or truncated ({detail})"),
            Unreadable::Empty => ("reason-empty", "the file is empty"),
            Unreadable::TooLarge(_) => ("reason-too-large", "the file is too large ({detail} bytes)"),
            Unreadable::SheetTooLarge(..) => ("reason-sheet-too-large", "a sheet is too large ({detail})"),
            Unreadable::NoContent => ("reason-no-content", "the workbook has no sheet with any content"),
            Unreadable::Bomb(_) => ("reason-bomb", "the file would inflate to {detail} bytes, far more than a return"),
        }
    }

    pub(crate) fn detail(&self) -> String {
        match self {
            Unreadable::Corrupt(d) => d.clone(),
            Unreadable::TooLarge(n) | Unreadable::Bomb(n) => n.to_string(),
            Unreadable::SheetTooLarge(name, cells) => format!("{name}: {cells}"),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    Ole,
}

fn sniff(bytes: &[u8]) -> Result<Format, Unreadable> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let head = &bytes[start..];
    if bytes.is_empty() {
        Err(Unreadable::Empty)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Ok(Format::Zip)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Ok(Format::Ole)
    } else if head.starts_with(b"<") || bytes.starts_with(&[0xEF, 0xBB, 0xBF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        Err(Unreadable::Html)
    } else {
        Err(Unreadable::UnknownFormat)
    }
}

/// Read every sheet of a workbook held in memory.
pub fn read(bytes: &[u8], caps: Caps) -> Result<Vec<Grid>, Unreadable> {
    if bytes.len() as u64 > caps.max_file_bytes {
        return Err(Unreadable::TooLarge(bytes.len() as u64));
    }
    let sheets = match sniff(bytes)? {
        Format::Zip => read_zip(bytes, caps)?,
        Format::Ole => read_ole(bytes, caps)?,
    };
    if sheets.iter().all(|s| s.rows.iter().all(|r| r.iter().all(Cell::is_empty))) {
        return Err(Unreadable::NoContent);
    }
    Ok(sheets)
}

/// Refuse a zip whose entries would inflate beyond the caps, before any reader inflates them.
fn check_zip(bytes: &[u8], caps: Caps) -> Result<(), Unreadable> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| Unreadable::Corrupt(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| Unreadable::Corrupt(e.to_string()))?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if total > caps.max_unzipped_bytes || (size > 1024 * 1024 && size / packed > caps.max_zip_ratio) {
            return Err(Unreadable::Bomb(total.max(size)));
        }
    }
    Ok(())
}

fn read_zip(bytes: &[u8], caps: Caps) -> Result<Vec<Grid>, Unreadable> {
    check_zip(bytes, caps)?;
    let is_ods = bytes.windows(39).take(200).any(|w| w == b"mimetypeapplication/vnd.oasis.opendocum");
    if is_ods {
        let mut book: Ods<_> = open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e: calamine::OdsError| Unreadable::Corrupt(e.to_string()))?;
        return grids(&mut book, caps);
    }
    match open_workbook_from_rs::<Xlsx<_>, _>(Cursor::new(bytes)) {
        Ok(mut book) => xlsx_grids(&mut book, caps),
        Err(e) => match open_workbook_from_rs::<Ods<_>, _>(Cursor::new(bytes)) {
            Ok(mut book) => grids(&mut book, caps),
            Err(_) => Err(Unreadable::Corrupt(e.to_string())),
        },
    }
}

/// An .xlsx sheet cell by cell: `worksheet_range` would allocate the whole rectangle up
/// to the last used cell, which one stray cell in XFD1048576 makes ~550 GB.
fn xlsx_grids<RS: std::io::Read + std::io::Seek>(book: &mut Xlsx<RS>, caps: Caps) -> Result<Vec<Grid>, Unreadable> {
    let sheets = book.sheets_metadata().to_vec();
    let mut out = Vec::with_capacity(sheets.len());
    for sheet in sheets {
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let mut slots: u64 = 0;
        let mut reader = book.worksheet_cells_reader(&sheet.name).map_err(|e| Unreadable::Corrupt(e.to_string()))?;
        while let Some(cell) = reader.next_cell_with_formula().map_err(|e| Unreadable::Corrupt(e.to_string()))? {
            let value = match (convert_ref(&cell.value), cell.formula) {
                (Cell::Empty, Some(formula)) if !formula.trim().is_empty() => {
                    Cell::Formula(format!("={}", formula.trim_start_matches('=')))
                }
                (value, _) => value,
            };
            if value == Cell::Empty {
                continue;
            }
            let (r, c) = cell.pos;
            let (r, c) = (r as usize, c as usize);
            if rows.len() <= r {
                rows.resize_with(r + 1, Vec::new);
            }
            let row = &mut rows[r];
            if row.len() <= c {
                slots += (c + 1 - row.len()) as u64;
                if slots > caps.max_cells {
                    return Err(Unreadable::SheetTooLarge(sheet.name, slots));
                }
                row.resize(c + 1, Cell::Empty);
            }
            row[c] = value;
        }
        out.push(Grid { name: sheet.name, hidden: sheet.visible != SheetVisible::Visible, rows });
    }
    Ok(out)
}

fn convert_ref(data: &DataRef) -> Cell {
    match data {
        DataRef::SharedString(s) => Cell::Text(s.to_string()),
        other => convert(&Data::from(other.clone())),
    }
}

fn read_ole(bytes: &[u8], caps: Caps) -> Result<Vec<Grid>, Unreadable> {
    // An encrypted .xlsx is an OLE container holding an `EncryptedPackage` stream.
    let marker: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
        return Err(Unreadable::Encrypted);
    }
    biff::check(bytes, caps)?;
    let open = |codepage: Option<u16>| -> Result<Vec<Grid>, Unreadable> {
        let mut options = XlsOptions::default();
        options.force_codepage = codepage;
        let mut book = Xls::new_with_options(Cursor::new(bytes), options).map_err(|e| {
            let text = e.to_string();
            if text.to_lowercase().contains("password") || text.to_lowercase().contains("encrypt") {
                Unreadable::Encrypted
            } else {
                Unreadable::Corrupt(text)
            }
        })?;
        grids(&mut book, caps)
    };
    let sheets = open(None)?;
    // Files declaring code page 1258 (Vietnamese) can decode as NUL-filled text; their
    // strings are UTF-16 in fact, so read them again as such.
    let garbled =
        sheets.iter().flat_map(|s| s.rows.iter().flatten()).any(|c| matches!(c, Cell::Text(t) if t.contains('\0')));
    if garbled {
        return open(Some(1200));
    }
    Ok(sheets)
}

fn grids<R, RS>(book: &mut R, caps: Caps) -> Result<Vec<Grid>, Unreadable>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let sheets = book.sheets_metadata().to_vec();
    let mut out = Vec::with_capacity(sheets.len());
    for sheet in sheets {
        let range = book.worksheet_range(&sheet.name).map_err(|e| Unreadable::Corrupt(e.to_string()))?;
        let (height, width) = range.get_size();
        let cells = height as u64 * width as u64;
        // .xls and .ods are decoded whole on open; the file-size cap bounded that.
        if cells > caps.max_cells {
            return Err(Unreadable::SheetTooLarge(sheet.name, cells));
        }
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let mut rows = vec![Vec::new(); row0 as usize];
        for source in range.rows() {
            let mut row = vec![Cell::Empty; col0 as usize];
            row.extend(source.iter().map(convert));
            while row.last().is_some_and(|c| *c == Cell::Empty) {
                row.pop();
            }
            rows.push(row);
        }
        out.push(Grid { name: sheet.name, hidden: sheet.visible != SheetVisible::Visible, rows });
    }
    Ok(out)
}

fn convert(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if dt.is_datetime() => Cell::Date(d.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(s) => match NaiveDate::parse_from_str(&s[..s.len().min(10)], "%Y-%m-%d") {
            Ok(d) => Cell::Date(d),
            Err(_) => Cell::Text(s.clone()),
        },
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(format!("{e:?}")),
    }
}

/// The A1 name of a 0-based cell.
pub(crate) fn a1(row: usize, col: usize) -> String {
    format!("{}{}", column_letters(col), row + 1)
}

pub(crate) fn column_letters(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_names() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(9, 25), "Z10");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(0, 16383), "XFD1");
    }

    #[test]
    fn a_stray_cell_far_away_does_not_allocate_the_rectangle() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "STT").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let grids = read(&bytes, Caps::default()).unwrap();
        assert_eq!(grids[0].get(0, 0), &Cell::Text("STT".into()));
        assert_eq!(grids[0].get(1_048_575, 16_383), &Cell::Text("x".into()));
        let tight = Caps { max_cells: 1000, ..Caps::default() };
        assert!(matches!(read(&bytes, tight), Err(Unreadable::SheetTooLarge(..))));
    }

    #[test]
    fn sniffing_rejects_what_is_not_a_workbook() {
        assert_eq!(read(b"", Caps::default()).unwrap_err(), Unreadable::Empty);
        assert_eq!(read(b"  <html><body>", Caps::default()).unwrap_err(), Unreadable::Html);
        assert_eq!(read(b"\x89PNG\r\n", Caps::default()).unwrap_err(), Unreadable::UnknownFormat);
        assert!(matches!(read(b"PK\x03\x04garbage", Caps::default()), Err(Unreadable::Corrupt(_))));
    }
}
