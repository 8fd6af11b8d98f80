//! Cells to typed values, as Vietnamese clerks type them.
//!
//! Counts arrive as numbers, as text (`"12"`, `" 3 "`, `"1.234"` with `.` grouping
//! thousands), as `-` or blank for zero. Dates arrive as date cells, serial numbers or
//! `dd/mm/yyyy` text. Anything else is a `Refusal` naming what was expected.

use chrono::{Datelike, Duration, NaiveDate};

use super::Cell;
use crate::definition::{Blank, Column, ValueKind};
use crate::model::FindingCode;
use crate::period::Month;
use crate::text;

/// A typed value of one cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Missing,
    Int(i64),
    Float(f64),
    /// Text, ISO dates (`YYYY-MM-DD`), months (`YYYY-MM`) and category ids.
    Text(String),
}

/// Why a cell could not be read as its column's type: a finding code, and what was
/// expected as a message key of the definition (`expect-…`) with its English default.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub(crate) code: FindingCode,
    pub(crate) expected: Expected,
}

/// What a cell should have held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    Value,
    Number,
    Whole,
    Count,
    Date,
    Month,
    Listed,
    /// A formula's result.
    Computed,
}

impl Expected {
    /// The definition's message key and the English default.
    pub(crate) fn key(self) -> (&'static str, &'static str) {
        match self {
            Expected::Value => ("expect-value", "a value"),
            Expected::Number => ("expect-number", "a number"),
            Expected::Whole => ("expect-whole", "a whole number"),
            Expected::Count => ("expect-count", "a whole number ≥ 0"),
            Expected::Date => ("expect-date", "a date (dd/mm/yyyy)"),
            Expected::Month => ("expect-month", "a month (mm/yyyy)"),
            Expected::Listed => ("expect-listed", "one of the listed values"),
            Expected::Computed => ("expect-computed", "a value: the formula was saved without its result"),
        }
    }
}

const ZERO_MARKS: [&str; 4] = ["-", "–", "—", "_"];

fn refuse(code: FindingCode, expected: Expected) -> Result<Value, Refusal> {
    Err(Refusal { code, expected })
}

/// The value of `cell` for `column`.
pub(crate) fn coerce(cell: &Cell, column: &Column) -> Result<Value, Refusal> {
    let blank = match cell {
        Cell::Empty => true,
        Cell::Text(t) => {
            let t = t.trim();
            t.is_empty() || (column.blank == Blank::Zero && ZERO_MARKS.contains(&t))
        }
        _ => false,
    };
    if blank {
        return match (column.blank, column.kind) {
            (Blank::Zero, ValueKind::Count | ValueKind::Integer) => Ok(Value::Int(0)),
            (Blank::Zero, ValueKind::Number) => Ok(Value::Float(0.0)),
            _ if column.required => refuse(FindingCode::CellRequired, Expected::Value),
            _ => Ok(Value::Missing),
        };
    }
    match column.kind {
        ValueKind::Text => Ok(Value::Text(text::clean(&cell.text()))),
        ValueKind::Count => whole(cell, false),
        ValueKind::Integer => whole(cell, true),
        ValueKind::Number => number(cell).map(Value::Float),
        ValueKind::Date => date(cell).map(|d| Value::Text(d.format("%Y-%m-%d").to_string())),
        ValueKind::Month => month(cell).map(|m| Value::Text(m.to_string())),
        ValueKind::Category => category(cell, column),
    }
}

fn whole(cell: &Cell, negative_allowed: bool) -> Result<Value, Refusal> {
    let expected = if negative_allowed { Expected::Whole } else { Expected::Count };
    let n = match number(cell) {
        Ok(n) => n,
        Err(_) => return refuse(FindingCode::CellType, expected),
    };
    if n.fract() != 0.0 {
        refuse(FindingCode::CellNotWhole, expected)
    } else if n < 0.0 && !negative_allowed {
        refuse(FindingCode::CellNegative, expected)
    } else if n.abs() > 1e15 {
        refuse(FindingCode::CellType, expected)
    } else {
        Ok(Value::Int(n as i64))
    }
}

fn number(cell: &Cell) -> Result<f64, Refusal> {
    match cell {
        Cell::Number(n) if n.is_finite() => Ok(*n),
        Cell::Text(t) => parse_number(t).ok_or(Refusal { code: FindingCode::CellType, expected: Expected::Number }),
        _ => Err(Refusal { code: FindingCode::CellType, expected: Expected::Number }),
    }
}

/// Numbers as typed in Vietnamese: `.` groups thousands (`1.234`), `,` is the decimal
/// mark (`2,5`); a plain `12.5` is read as a decimal. Spaces inside are ignored.
pub(crate) fn parse_number(raw: &str) -> Option<f64> {
    let t: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(&t)),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return None;
    }
    let grouped = |sep: char| {
        let parts: Vec<&str> = digits.split(sep).collect();
        parts.len() > 1
            && (1..=3).contains(&parts[0].len())
            && parts[1..].iter().all(|p| p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))
    };
    let plain = if grouped('.') && !digits.contains(',') {
        digits.replace('.', "")
    } else if digits.contains(',') && !digits.contains('.') && !grouped(',') {
        digits.replace(',', ".")
    } else if grouped(',') && !digits.contains('.') {
        digits.replace(',', "")
    } else if digits.contains('.') && digits.contains(',') {
        // `1.234,5`: dots group, the comma is decimal.
        let (int, frac) = digits.rsplit_once(',')?;
        format!("{}.{}", int.replace('.', ""), frac)
    } else {
        digits.to_string()
    };
    plain.parse::<f64>().ok().filter(|n| n.is_finite()).map(|n| sign * n)
}

fn date(cell: &Cell) -> Result<NaiveDate, Refusal> {
    let refusal = Refusal { code: FindingCode::CellDate, expected: Expected::Date };
    match cell {
        Cell::Date(d) => Ok(*d),
        // An Excel serial typed into a cell not formatted as a date.
        Cell::Number(n) if (1.0..2_958_466.0).contains(n) && n.fract() == 0.0 => {
            let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).ok_or(refusal.clone())?;
            Ok(epoch + Duration::days(*n as i64))
        }
        Cell::Text(t) => parse_date(t).ok_or(refusal),
        _ => Err(refusal),
    }
}

/// `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy` or ISO `yyyy-mm-dd`.
pub(crate) fn parse_date(raw: &str) -> Option<NaiveDate> {
    let t = raw.trim();
    let parts: Vec<&str> = t.split(['/', '-', '.']).map(str::trim).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let n: Vec<i64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let (y, m, d) = if parts[0].len() == 4 { (n[0], n[1], n[2]) } else { (n[2], n[1], n[0]) };
    if !(1900..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
}

fn month(cell: &Cell) -> Result<Month, Refusal> {
    let refusal = Refusal { code: FindingCode::CellDate, expected: Expected::Month };
    match cell {
        Cell::Date(d) => Month::new(d.year(), d.month()).ok_or(refusal),
        Cell::Text(t) => Month::parse_loose(t).ok_or(refusal),
        _ => Err(refusal),
    }
}

fn category(cell: &Cell, column: &Column) -> Result<Value, Refusal> {
    let folded = text::fold(&cell.text());
    column
        .values
        .iter()
        .find(|v| v.matches.contains(&folded))
        .map(|v| Value::Text(v.id.clone()))
        .ok_or(Refusal { code: FindingCode::CellValue, expected: Expected::Listed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::Header;

    fn column(kind: ValueKind, blank: Blank) -> Column {
        Column {
            field: "f".into(),
            header: Header::One("F".into()),
            aliases: vec![],
            matches: vec!["f".into()],
            kind,
            required: false,
            ignore: false,
            blank,
            values: vec![],
            unit_of: None,
        }
    }

    fn count(cell: Cell) -> Result<Value, Refusal> {
        coerce(&cell, &column(ValueKind::Count, Blank::Zero))
    }

    #[test]
    fn counts_as_clerks_type_them() {
        assert_eq!(count(Cell::Number(12.0)), Ok(Value::Int(12)));
        assert_eq!(count(Cell::Text(" 3 ".into())), Ok(Value::Int(3)));
        assert_eq!(count(Cell::Text("1.234".into())), Ok(Value::Int(1234)));
        assert_eq!(count(Cell::Text("-".into())), Ok(Value::Int(0)));
        assert_eq!(count(Cell::Empty), Ok(Value::Int(0)));
        assert_eq!(count(Cell::Text("3 đv".into())).unwrap_err().code, FindingCode::CellType);
        assert_eq!(count(Cell::Number(2.5)).unwrap_err().code, FindingCode::CellNotWhole);
        assert_eq!(count(Cell::Text("2,5".into())).unwrap_err().code, FindingCode::CellNotWhole);
        assert_eq!(count(Cell::Number(-1.0)).unwrap_err().code, FindingCode::CellNegative);
    }

    #[test]
    fn blank_is_missing_unless_the_column_says_zero() {
        let c = column(ValueKind::Count, Blank::Missing);
        assert_eq!(coerce(&Cell::Empty, &c), Ok(Value::Missing));
        assert_eq!(coerce(&Cell::Text("-".into()), &c).unwrap_err().code, FindingCode::CellType);
    }

    #[test]
    fn dates_from_cells_serials_and_text() {
        let c = column(ValueKind::Date, Blank::Missing);
        let iso = |s: &str| Ok(Value::Text(s.into()));
        assert_eq!(coerce(&Cell::Date(NaiveDate::from_ymd_opt(2023, 10, 5).unwrap()), &c), iso("2023-10-05"));
        assert_eq!(coerce(&Cell::Number(45204.0), &c), iso("2023-10-05"));
        assert_eq!(coerce(&Cell::Text("05/10/2023".into()), &c), iso("2023-10-05"));
        assert_eq!(coerce(&Cell::Text("5/10/2023".into()), &c), iso("2023-10-05"));
        assert_eq!(coerce(&Cell::Text("31/02/2023".into()), &c).unwrap_err().code, FindingCode::CellDate);
    }
}
