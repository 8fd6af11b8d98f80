//! Months, and periods: what a return reports and a run consolidates, a month or a
//! quarter as the pipeline says.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// A calendar month, ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub(crate) year: i32,
    pub(crate) month: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a period (expected YYYY-MM for a month, YYYY-Qn for a quarter)")]
pub struct BadPeriod(pub String);

impl Month {
    pub(crate) fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then_some(Month { year, month })
    }

    pub(crate) fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    /// Reads `MM/YYYY`, `M/YYYY`, `MM-YYYY` or `YYYY-MM`, as returns write it.
    pub(crate) fn parse_loose(text: &str) -> Option<Month> {
        let t = text.trim();
        let (a, b) = t.split_once(['/', '-', '.'])?;
        let (a, b) = (a.trim(), b.trim());
        let number = |s: &str| s.parse::<i64>().ok().filter(|_| s.chars().all(|c| c.is_ascii_digit()));
        match (a.len(), b.len()) {
            (1 | 2, 4) => Month::new(number(b)? as i32, number(a)? as u32),
            (4, 1 | 2) => Month::new(number(a)? as i32, number(b)? as u32),
            _ => None,
        }
    }
}

/// How long a pipeline's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Month,
    Quarter,
}

impl PeriodKind {
    fn months(self) -> u32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
        }
    }

    /// How the command line and folder names write it.
    pub(crate) fn pattern(self) -> &'static str {
        match self {
            PeriodKind::Month => "YYYY-MM",
            PeriodKind::Quarter => "YYYY-Qn",
        }
    }
}

/// One period of a pipeline: month `index` (1-12) or quarter `index` (1-4) of `year`.
/// Written `2023-10` or `2025-Q3` in folders, artifacts and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub(crate) kind: PeriodKind,
    pub(crate) year: i32,
    pub(crate) index: u32,
}

const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];

impl Period {
    pub(crate) fn of_month(month: Month) -> Period {
        Period { kind: PeriodKind::Month, year: month.year, index: month.month }
    }

    /// The period of `kind` that `month` falls in.
    pub(crate) fn containing(month: Month, kind: PeriodKind) -> Period {
        Period { kind, year: month.year, index: (month.month - 1) / kind.months() + 1 }
    }

    /// The same period a year earlier.
    pub(crate) fn year_before(self) -> Period {
        Period { year: self.year - 1, ..self }
    }

    pub(crate) fn first_month(self) -> Month {
        Month { year: self.year, month: (self.index - 1) * self.kind.months() + 1 }
    }

    pub(crate) fn last_month(self) -> Month {
        Month { year: self.year, month: self.index * self.kind.months() }
    }

    pub(crate) fn next(self) -> Period {
        Period::containing(self.last_month().next(), self.kind)
    }

    /// The first period of the same year.
    pub(crate) fn year_start(self) -> Period {
        Period { index: 1, ..self }
    }

    /// Every period from `self` to `last`, both included.
    /// The period before this one, of its kind.
    pub(crate) fn previous(self) -> Period {
        let first = self.first_month();
        let before =
            if first.month == 1 { Month::new(first.year - 1, 12) } else { Month::new(first.year, first.month - 1) };
        Period::containing(before.expect("a month of the calendar"), self.kind)
    }

    /// The period of `kind` holding today's date.
    pub fn current(kind: PeriodKind) -> Period {
        let today = chrono::Local::now().date_naive();
        let month = Month::new(chrono::Datelike::year(&today), chrono::Datelike::month(&today))
            .expect("a month of the calendar");
        Period::containing(month, kind)
    }

    pub fn through(self, last: Period) -> Vec<Period> {
        let mut periods = Vec::new();
        let mut p = self;
        while p <= last {
            periods.push(p);
            p = p.next();
        }
        periods
    }

    /// `{month}`, `{quarter}` (Roman, as Vietnamese reports write it) and `{year}` filled in.
    pub(crate) fn fill(self, text: &str) -> String {
        let quarter = ROMAN[((self.last_month().month - 1) / 3) as usize];
        text.replace("{month}", &self.last_month().month.to_string())
            .replace("{quarter}", quarter)
            .replace("{year}", &self.year.to_string())
    }

    /// As a return writes it: `08/2025`; a quarter with the pipeline's first quarter word
    /// (`Quý III/2025` with `quarter_words = ["Quý", "năm"]`), or `Q3/2025` without.
    pub(crate) fn written(self, quarter_words: &[String]) -> String {
        match (self.kind, quarter_words.first()) {
            (PeriodKind::Month, _) => format!("{:02}/{}", self.index, self.year),
            (PeriodKind::Quarter, Some(word)) => format!("{word} {}/{}", ROMAN[self.index as usize - 1], self.year),
            (PeriodKind::Quarter, None) => format!("Q{}/{}", self.index, self.year),
        }
    }

    /// The period of `kind` ending with `month`, if one does (`06/2025` ends Q2).
    pub(crate) fn ending_with(month: Month, kind: PeriodKind) -> Option<Period> {
        let p = Period::containing(month, kind);
        (p.last_month() == month).then_some(p)
    }

    /// What a return writes for its period: for months as `Month::parse_loose`; for
    /// quarters a Roman or Arabic quarter number and the year (`III/2025`, `3-2025`,
    /// `Q3/2025`, `2025-Q3`), with any of the pipeline's `quarter_words` around them
    /// (`Quý III/2025`, `Quý 3 năm 2025`). Any other word makes it no quarter: `tháng
    /// 3/2025` is a month written in the wrong return.
    pub(crate) fn parse_loose(text: &str, kind: PeriodKind, quarter_words: &[String]) -> Option<Period> {
        match kind {
            PeriodKind::Month => Month::parse_loose(text).map(Period::of_month),
            PeriodKind::Quarter => parse_quarter(text, quarter_words),
        }
    }

    /// An error unless the period is of `kind`: a month given to a quarterly pipeline.
    pub fn expect_kind(self, kind: PeriodKind) -> anyhow::Result<()> {
        if self.kind != kind {
            anyhow::bail!("`{self}` is not a period of this pipeline, whose periods are written {}", kind.pattern());
        }
        Ok(())
    }
}

fn parse_quarter(text: &str, words: &[String]) -> Option<Period> {
    let words: Vec<String> = words.iter().map(|w| crate::text::fold(w)).collect();
    let folded = crate::text::fold(text);
    let tokens: Vec<&str> = folded
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | '-' | '.'))
        .filter(|t| !t.is_empty() && !words.iter().any(|w| w == t))
        .collect();
    let number = |t: &str| match t {
        "1" | "i" | "q1" => Some(1),
        "2" | "ii" | "q2" => Some(2),
        "3" | "iii" | "q3" => Some(3),
        "4" | "iv" | "q4" => Some(4),
        _ => None,
    };
    let year = |t: &str| t.parse::<i32>().ok().filter(|_| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()));
    let (index, year) = match tokens.as_slice() {
        [y, q] if q.starts_with('q') => (number(q)?, year(y)?),
        [q, y] => (number(q)?, year(y)?),
        _ => return None,
    };
    Month::new(year, 1)?;
    Some(Period { kind: PeriodKind::Quarter, year, index })
}

impl FromStr for Period {
    type Err = BadPeriod;
    /// `YYYY-MM` or `YYYY-Qn`.
    fn from_str(s: &str) -> Result<Period, BadPeriod> {
        if let Some((y, q)) = s.split_once("-Q") {
            let bad = || BadPeriod(s.to_string());
            let index: u32 = q.parse().map_err(|_| bad())?;
            if y.len() != 4 || q.len() != 1 || !(1..=4).contains(&index) {
                return Err(bad());
            }
            let month = Month::new(y.parse().map_err(|_| bad())?, 1).ok_or_else(bad)?;
            return Ok(Period { kind: PeriodKind::Quarter, year: month.year, index });
        }
        s.parse::<Month>().map(Period::of_month)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(f, "{:04}-{:02}", self.year, self.index),
            PeriodKind::Quarter => write!(f, "{:04}-Q{}", self.year, self.index),
        }
    }
}

/// A period or periods in order, `A` or `A..B`, both of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodRange {
    pub first: Period,
    pub last: Period,
}

impl FromStr for PeriodRange {
    type Err = BadPeriod;
    fn from_str(s: &str) -> Result<PeriodRange, BadPeriod> {
        let (first, last) = match s.split_once("..") {
            Some((a, b)) => (a.parse()?, b.parse()?),
            None => {
                let p: Period = s.parse()?;
                (p, p)
            }
        };
        if first > last || first.kind != last.kind {
            return Err(BadPeriod(s.to_string()));
        }
        Ok(PeriodRange { first, last })
    }
}

impl FromStr for Month {
    type Err = BadPeriod;
    fn from_str(s: &str) -> Result<Month, BadPeriod> {
        let bad = || BadPeriod(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_returns_write() {
        let oct = Month::new(2023, 10).unwrap();
        for text in ["10/2023", " 10/2023 ", "2023-10", "10-2023", "10.2023"] {
            assert_eq!(Month::parse_loose(text), Some(oct), "{text}");
        }
        assert_eq!(Month::parse_loose("1/2023"), Month::new(2023, 1));
        assert_eq!(Month::parse_loose("13/2023"), None);
        assert_eq!(Month::parse_loose("tháng 10"), None);
    }

    #[test]
    fn period_ranges() {
        let r: PeriodRange = "2023-01..2023-10".parse().unwrap();
        assert_eq!(r.first.through(r.last).len(), 10);
        let one: PeriodRange = "2023-10".parse().unwrap();
        assert_eq!(one.first, one.last);
        assert!("2023-10..2023-01".parse::<PeriodRange>().is_err());
        let q: PeriodRange = "2024-Q4..2025-Q2".parse().unwrap();
        let shown: Vec<_> = q.first.through(q.last).iter().map(|p| p.to_string()).collect();
        assert_eq!(shown, ["2024-Q4", "2025-Q1", "2025-Q2"]);
        assert!("2025-Q1..2025-06".parse::<PeriodRange>().is_err(), "one kind");
        assert!("2025-Q5".parse::<Period>().is_err());
    }

    #[test]
    fn quarters_as_returns_write_them() {
        let q3 = Period { kind: PeriodKind::Quarter, year: 2025, index: 3 };
        let words = ["Quý".to_string(), "năm".to_string()];
        for text in [
            "Quý III/2025",
            "quý 3/2025",
            "Quý III năm 2025",
            "QUÝ 3 - 2025",
            "Q3/2025",
            "III/2025",
            "2025-Q3",
            " Quý  III / 2025 ",
        ] {
            assert_eq!(Period::parse_loose(text, PeriodKind::Quarter, &words), Some(q3), "{text}");
        }
        for text in ["Quý V/2025", "08/2025", "03/2025", "Quý III", "tháng 3/2025", "2025-3"] {
            assert_eq!(Period::parse_loose(text, PeriodKind::Quarter, &words), None, "{text}");
        }
        assert_eq!(
            Period::parse_loose("Quý III/2025", PeriodKind::Quarter, &[]),
            None,
            "a word the pipeline does not name"
        );
        assert_eq!(Period::parse_loose("Q3/2025", PeriodKind::Quarter, &[]), Some(q3));
        assert_eq!(q3.written(&words), "Quý III/2025");
        assert_eq!(q3.written(&[]), "Q3/2025");
        assert_eq!(q3.fill("Quý {quarter} năm {year}"), "Quý III năm 2025");
        assert_eq!((q3.first_month().to_string(), q3.last_month().to_string()), ("2025-07".into(), "2025-09".into()));
        assert_eq!(q3.year_start().to_string(), "2025-Q1");
        assert_eq!(
            Period::containing(Month::new(2025, 12).unwrap(), PeriodKind::Quarter).next().to_string(),
            "2026-Q1"
        );
        assert_eq!(
            Period::ending_with(Month::new(2025, 6).unwrap(), PeriodKind::Quarter).map(|p| p.to_string()),
            Some("2025-Q2".into())
        );
        assert_eq!(Period::ending_with(Month::new(2025, 5).unwrap(), PeriodKind::Quarter), None);
    }

    #[test]
    fn ranges_cross_years() {
        let (first, last) = ("2022-11".parse::<Period>().unwrap(), "2023-02".parse::<Period>().unwrap());
        let shown: Vec<_> = first.through(last).iter().map(|m| m.to_string()).collect();
        assert_eq!(shown, ["2022-11", "2022-12", "2023-01", "2023-02"]);
    }
}
