//! Months: the period of a return and of a run.

use std::fmt;
use std::str::FromStr;

/// A calendar month, ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a month (expected YYYY-MM)")]
pub struct BadMonth(pub String);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then_some(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    pub fn january(self) -> Month {
        Month { year: self.year, month: 1 }
    }

    /// Every month from `self` to `last`, both included.
    pub fn through(self, last: Month) -> Vec<Month> {
        let mut months = Vec::new();
        let mut m = self;
        while m <= last {
            months.push(m);
            m = m.next();
        }
        months
    }

    /// Reads `MM/YYYY`, `M/YYYY`, `MM-YYYY` or `YYYY-MM`, as returns write it.
    pub fn parse_loose(text: &str) -> Option<Month> {
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

/// `YYYY-MM` or `YYYY-MM..YYYY-MM`: the months a command runs for, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub first: Month,
    pub last: Month,
}

impl FromStr for MonthRange {
    type Err = BadMonth;
    fn from_str(s: &str) -> Result<MonthRange, BadMonth> {
        let (first, last) = match s.split_once("..") {
            Some((a, b)) => (a.parse()?, b.parse()?),
            None => {
                let m: Month = s.parse()?;
                (m, m)
            }
        };
        if first > last {
            return Err(BadMonth(s.to_string()));
        }
        Ok(MonthRange { first, last })
    }
}

impl FromStr for Month {
    type Err = BadMonth;
    fn from_str(s: &str) -> Result<Month, BadMonth> {
        let bad = || BadMonth(s.to_string());
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
    fn month_ranges() {
        let r: MonthRange = "2023-01..2023-10".parse().unwrap();
        assert_eq!(r.first.through(r.last).len(), 10);
        let one: MonthRange = "2023-10".parse().unwrap();
        assert_eq!(one.first, one.last);
        assert!("2023-10..2023-01".parse::<MonthRange>().is_err());
    }

    #[test]
    fn ranges_cross_years() {
        let months = Month::new(2022, 11).unwrap().through(Month::new(2023, 2).unwrap());
        let shown: Vec<_> = months.iter().map(|m| m.to_string()).collect();
        assert_eq!(shown, ["2022-11", "2022-12", "2023-01", "2023-02"]);
    }
}
