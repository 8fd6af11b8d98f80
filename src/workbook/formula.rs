//! The value of a formula saved without its result, when it is plain arithmetic over the
//! sheet's own cells.
//!
//! Workbooks written by scripts (openpyxl, some portals) keep formulas but no results, and
//! every reader but a spreadsheet sees them as blank. A return's total row, or a column
//! adding up others, is almost always `=SUM(E12:E23)` or `=E12+E13-2`: those are worked out
//! here. Anything else (another sheet, another function, a comparison) is left unknown, and
//! the caller reports the cell: a guessed value would be a wrong figure.

use super::coerce::parse_number;
use super::{Cell, Grid};

/// How deep formulas may refer to formulas (a cycle ends here too).
const DEPTH: usize = 8;

/// Cells one formula may add up: a `SUM` over a whole column is not a return's arithmetic.
const MAX_CELLS: usize = 100_000;

/// The formula's value over `grid`, if it is `+`, `-`, numbers, cell references and `SUM`
/// of cells and ranges; a blank cell counts 0, a number typed as text its number.
pub(crate) fn evaluate(formula: &str, grid: &Grid) -> Option<f64> {
    evaluate_at(formula, grid, 0)
}

fn evaluate_at(formula: &str, grid: &Grid, depth: usize) -> Option<f64> {
    if depth > DEPTH {
        return None;
    }
    let mut parser = Parser { text: formula.trim().trim_start_matches('=').as_bytes(), at: 0, grid, depth, cells: 0 };
    let value = parser.sum()?;
    parser.skip_spaces();
    (parser.at == parser.text.len() && value.is_finite()).then_some(value)
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    grid: &'a Grid,
    depth: usize,
    /// Cells read so far.
    cells: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self.text.get(self.at).is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_spaces();
        let found = self.text.get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }

    /// `term (('+' | '-') term)*`
    fn sum(&mut self) -> Option<f64> {
        let mut value = self.term()?;
        loop {
            if self.eat(b'+') {
                value += self.term()?;
            } else if self.eat(b'-') {
                value -= self.term()?;
            } else {
                return Some(value);
            }
        }
    }

    /// A signed number, a cell, `SUM(…)` or a bracketed sum.
    fn term(&mut self) -> Option<f64> {
        self.skip_spaces();
        if self.eat(b'-') {
            return self.term().map(|v| -v);
        }
        if self.eat(b'+') {
            return self.term();
        }
        if self.eat(b'(') {
            let value = self.sum()?;
            return self.eat(b')').then_some(value);
        }
        match self.text.get(self.at)? {
            b'0'..=b'9' | b'.' => self.number(),
            _ => {
                let start = self.at;
                if let Some(value) = self.function() {
                    return Some(value);
                }
                self.at = start;
                let (row, col) = self.reference()?;
                self.cell(row, col)
            }
        }
    }

    fn number(&mut self) -> Option<f64> {
        let start = self.at;
        while self.text.get(self.at).is_some_and(|b| b.is_ascii_digit() || *b == b'.') {
            self.at += 1;
        }
        std::str::from_utf8(&self.text[start..self.at]).ok()?.parse().ok()
    }

    /// `SUM(arg, …)` where each argument is a range or a sum.
    fn function(&mut self) -> Option<f64> {
        let start = self.at;
        while self.text.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
            self.at += 1;
        }
        if !self.text[start..self.at].eq_ignore_ascii_case(b"SUM") || !self.eat(b'(') {
            return None;
        }
        let mut total = 0.0;
        if self.eat(b')') {
            return Some(total);
        }
        loop {
            total += self.argument()?;
            if self.eat(b')') {
                return Some(total);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// A range `A1:B2` (every cell added) or a sum.
    fn argument(&mut self) -> Option<f64> {
        self.skip_spaces();
        let start = self.at;
        if let Some(first) = self.reference() {
            if self.eat(b':') {
                let last = self.reference()?;
                return self.range(first, last);
            }
        }
        self.at = start;
        self.sum()
    }

    fn range(&mut self, (r0, c0): (usize, usize), (r1, c1): (usize, usize)) -> Option<f64> {
        let (rows, cols) = (r0.min(r1)..=r0.max(r1), c0.min(c1)..=c0.max(c1));
        if rows.clone().count().saturating_mul(cols.clone().count()) > MAX_CELLS {
            return None;
        }
        let mut total = 0.0;
        for r in rows {
            for c in cols.clone() {
                total += self.cell(r, c)?;
            }
        }
        Some(total)
    }

    /// A cell reference `E12` or `$E$12`, 0-based.
    fn reference(&mut self) -> Option<(usize, usize)> {
        self.skip_spaces();
        self.eat(b'$');
        let start = self.at;
        while self.text.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
            self.at += 1;
        }
        let letters = &self.text[start..self.at];
        if letters.is_empty() || letters.len() > 3 {
            return None;
        }
        self.eat(b'$');
        let digits = self.at;
        while self.text.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let row: usize = std::str::from_utf8(&self.text[digits..self.at]).ok()?.parse().ok()?;
        let col =
            letters.iter().try_fold(0usize, |acc, b| Some(acc * 26 + (b.to_ascii_uppercase() - b'A') as usize + 1))?;
        // Not a reference but a name or another sheet's cell.
        if row == 0 || self.text.get(self.at).is_some_and(|b| *b == b'!' || b.is_ascii_alphanumeric()) {
            return None;
        }
        Some((row - 1, col - 1))
    }

    /// A referenced cell's value: blank counts 0, text must be a number.
    fn cell(&mut self, row: usize, col: usize) -> Option<f64> {
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return None;
        }
        match self.grid.get(row, col) {
            Cell::Empty => Some(0.0),
            Cell::Number(n) => Some(*n),
            Cell::Text(t) if t.trim().is_empty() => Some(0.0),
            Cell::Text(t) => parse_number(t),
            Cell::Formula(f) => evaluate_at(f, self.grid, self.depth + 1),
            Cell::Date(_) | Cell::Bool(_) | Cell::Error(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let n = Cell::Number;
        let rows = vec![
            vec![n(1.0), n(2.0), Cell::Text(" 3 ".into())],
            vec![n(4.0), Cell::Empty, Cell::Formula("=A1+B1".into())],
            vec![Cell::Formula("=C3".into()), Cell::Text("ba".into()), Cell::Formula("=A3".into())],
        ];
        Grid { name: "S".into(), hidden: false, rows }
    }

    #[test]
    fn plain_arithmetic_over_the_sheet_is_worked_out() {
        let g = grid();
        for (formula, value) in [
            ("=1+2", 3.0),
            ("=SUM(A1:C1)", 6.0),
            ("=sum(A1:A2, 10) - B2", 15.0),
            ("=$A$1+B$1-(C1-1)", 1.0),
            ("=C2*1", f64::NAN),
            ("=-A2", -4.0),
            ("=SUM()", 0.0),
            ("=C2+1", 4.0),
        ] {
            let got = evaluate(formula, &g);
            if value.is_nan() {
                assert_eq!(got, None, "{formula}");
            } else {
                assert_eq!(got, Some(value), "{formula}");
            }
        }
    }

    #[test]
    fn anything_else_stays_unknown() {
        let g = grid();
        for formula in ["=AVERAGE(A1:B1)", "=Sheet2!A1", "=B3+1", "=A3", "=SUM(A1:XFD1048576)", "=A1+", "=IF(A1>0,1,0)"]
        {
            assert_eq!(evaluate(formula, &g), None, "{formula}");
        }
    }
}
