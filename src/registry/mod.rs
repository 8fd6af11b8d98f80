//! The unit registry: who exists, under whom, and when.
//!
//! Units are keyed by code and validity interval (a merged unit keeps the code of one of
//! its parts, so a code alone does not name a territory over time). A run uses the
//! `Hierarchy` valid in its month: only the units that exist then, under the parents
//! they had then.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use polars::prelude::*;

use crate::period::{Month, Period};
use crate::text;

/// A unit as the registry lists it.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The line of the registry file.
    pub(crate) line: usize,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent: String,
    pub valid_from: Option<Month>,
    pub valid_to: Option<Month>,
    pub aliases: Vec<String>,
}

impl Unit {
    /// `mm/yyyy–mm/yyyy`, as a clerk writes a span of months; an open end is `…`.
    pub fn validity(&self) -> String {
        let end = |m: Option<Month>| m.map_or("…".to_string(), |m| format!("{:02}/{}", m.month, m.year));
        format!("{}–{}", end(self.valid_from), end(self.valid_to))
    }

    pub(crate) fn valid_in(&self, month: Month) -> bool {
        self.valid_from.is_none_or(|f| f <= month) && self.valid_to.is_none_or(|t| month <= t)
    }

    /// Whether two rows share a month of validity.
    fn overlaps(&self, other: &Unit) -> bool {
        let starts_before_end = |a: &Unit, b: &Unit| match (a.valid_from, b.valid_to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        };
        starts_before_end(self, other) && starts_before_end(other, self)
    }
}

/// Every unit of the registry file, in file order.
#[derive(Debug, Clone)]
pub struct Registry {
    pub(crate) units: Vec<Unit>,
}

const COLUMNS: [&str; 7] = ["code", "name", "kind", "parent", "valid_from", "valid_to", "aliases"];

/// A registry that cannot be used: every problem found, each with its line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.iter().map(|p| format!("error: {}: {p}", .path.display())).collect::<Vec<_>>().join("\n"))]
pub struct RegistryError {
    pub(crate) path: PathBuf,
    pub(crate) problems: Vec<String>,
}

impl Registry {
    /// Read `code,name,kind,parent,valid_from,valid_to,aliases` (UTF-8 CSV) and check that it
    /// holds together for the pipeline's `levels`: every unit has a code and months, every
    /// unit of a level but the top a parent of a higher level valid over all of its own
    /// validity, and no code names two units at once. A registry kept over years may list
    /// kinds of other times' hierarchies (districts before 2025); the hierarchy of a period
    /// refuses a unit of a kind the pipeline does not know.
    pub fn load(path: &Path, levels: &[String]) -> Result<Registry, RegistryError> {
        let error = |problems| RegistryError { path: path.to_path_buf(), problems };
        let bytes = std::fs::read(path).map_err(|e| error(vec![format!("cannot read it: {e}")]))?;
        Registry::parse(&bytes, levels).map_err(error)
    }

    /// The registry in CSV `bytes`, or its problems.
    pub(crate) fn parse(bytes: &[u8], levels: &[String]) -> Result<Registry, Vec<String>> {
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| vec![format!("not a CSV file: {e}")])?;
        let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| df.column(c).is_err()).collect();
        if !missing.is_empty() {
            return Err(vec![format!("no column {} (the header is {})", missing.join(", "), COLUMNS.join(","))]);
        }
        let text_of = |name: &str| -> Vec<String> {
            let column = df.column(name).ok().and_then(|c| c.str().ok().cloned());
            column.map_or_else(Vec::new, |c| c.iter().map(|v| text::clean(v.unwrap_or(""))).collect())
        };
        let [code, name, kind, parent, from, to, aliases] = COLUMNS.map(text_of);
        let mut problems = Vec::new();
        let mut month = |line: usize, text: &str| -> Option<Month> {
            let parsed = text.parse::<Month>().ok();
            if parsed.is_none() && !text.is_empty() {
                problems.push(format!("line {line}: `{text}` is not a month (YYYY-MM)"));
            }
            parsed
        };
        let mut units = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            // A blank line (an editor leaves one at the end) or a row of empty cells is no unit.
            if [&code, &name, &kind, &parent, &from, &to, &aliases].iter().all(|column| column[i].is_empty()) {
                continue;
            }
            units.push(Unit {
                line: i + 2,
                code: code[i].clone(),
                name: name[i].clone(),
                kind: kind[i].clone(),
                parent: parent[i].clone(),
                valid_from: month(i + 2, &from[i]),
                valid_to: month(i + 2, &to[i]),
                aliases: aliases[i].split(';').map(text::clean).filter(|a| !a.is_empty()).collect(),
            });
        }
        let registry = Registry { units };
        problems.extend(registry.check(levels));
        if problems.is_empty() {
            Ok(registry)
        } else {
            Err(problems)
        }
    }

    /// What keeps the registry from giving a hierarchy for every month.
    fn check(&self, levels: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        if self.units.is_empty() {
            problems.push("the registry lists no unit".to_string());
        }
        let level = |kind: &str| levels.iter().position(|l| l == kind);
        let mut by_code: HashMap<&str, Vec<&Unit>> = HashMap::new();
        for u in &self.units {
            by_code.entry(u.code.as_str()).or_default().push(u);
        }
        for u in &self.units {
            let at = format!("line {} (unit {})", u.line, u.code);
            if u.code.is_empty() {
                problems.push(format!("line {}: the unit has no code", u.line));
                continue;
            }
            if let (Some(from), Some(to)) = (u.valid_from, u.valid_to) {
                if from > to {
                    problems.push(format!("{at}: valid from {from} to {to}, which ends before it starts"));
                }
            }
            if let Some(other) = by_code[u.code.as_str()].iter().find(|o| o.line < u.line && o.overlaps(u)) {
                problems.push(format!("{at}: the code is also line {}'s over the same months", other.line));
            }
            let own = level(&u.kind);
            match (own, u.parent.as_str()) {
                (Some(0), "") | (None, "") => {}
                (Some(0), parent) => {
                    problems.push(format!("{at}: a {} has no parent, but the registry gives {parent}", u.kind))
                }
                (Some(_), "") => {
                    problems.push(format!("{at}: a {} needs a parent; its figures would add up nowhere", u.kind))
                }
                (_, parent) => {
                    let parents: Vec<&Unit> = by_code.get(parent).map_or_else(Vec::new, |p| p.to_vec());
                    let lower = |p: &&Unit| matches!((level(&p.kind), own), (Some(l), Some(o)) if l >= o);
                    if parents.iter().any(lower) {
                        problems.push(format!("{at}: its parent {parent} is not of a higher level"));
                    } else if !covered(u, &parents) {
                        let validity = u.validity();
                        problems
                            .push(format!("{at}: its parent {parent} is not in the registry for all of {validity}"));
                    }
                }
            }
        }
        problems
    }

    /// The hierarchy of the units valid in `period`: in its last month, for a quarter.
    pub fn hierarchy(&self, period: Period, levels: &[String]) -> anyhow::Result<Hierarchy> {
        let month = period.last_month();
        let units: Vec<Unit> = self.units.iter().filter(|u| u.valid_in(month)).cloned().collect();
        let mut by_code = foldhash::HashMap::default();
        for (i, unit) in units.iter().enumerate() {
            if by_code.insert(unit.code.clone(), i).is_some() {
                bail!("the registry lists unit {} twice for {month}", unit.code);
            }
            if !levels.contains(&unit.kind) {
                bail!(
                    "unit {} has kind `{}`, which is not a level of this pipeline ({})",
                    unit.code,
                    unit.kind,
                    levels.join(", ")
                );
            }
        }
        for unit in &units {
            if !unit.parent.is_empty() && !by_code.contains_key(&unit.parent) {
                bail!("unit {} names parent {}, which the registry does not have for {month}", unit.code, unit.parent);
            }
        }
        let mut other_times: HashMap<String, Vec<Unit>> = HashMap::new();
        for unit in self.units.iter().filter(|u| !u.valid_in(month)) {
            other_times.entry(unit.code.clone()).or_default().push(unit.clone());
        }
        let hierarchy =
            Hierarchy { units, by_code, other_times, levels: levels.to_vec(), names: std::sync::OnceLock::new() };
        for unit in &hierarchy.units {
            if hierarchy.ancestors(&unit.code).len() > levels.len() {
                bail!("the registry's parents of unit {} form a loop", unit.code);
            }
        }
        Ok(hierarchy)
    }
}

/// Whether the rows `parents` cover every month `unit` is valid in.
fn covered(unit: &Unit, parents: &[&Unit]) -> bool {
    let mut intervals: Vec<(Option<Month>, Option<Month>)> =
        parents.iter().map(|p| (p.valid_from, p.valid_to)).collect();
    // Open starts first.
    intervals.sort_by_key(|i| i.0);
    let mut next = unit.valid_from;
    loop {
        let Some((_, end)) = intervals.iter().find(|(from, to)| {
            let starts = match (from, next) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(f), Some(n)) => *f <= n,
            };
            starts && to.is_none_or(|t| next.is_none_or(|n| n <= t))
        }) else {
            return false;
        };
        match (end, unit.valid_to) {
            (None, _) => return true,
            (Some(e), Some(t)) if *e >= t => return true,
            (Some(e), _) => next = Some(e.next()),
        }
    }
}

/// The units valid in one month, with their parents.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub(crate) units: Vec<Unit>,
    /// A unit's index by its code; looked up for every cell of a sheet of units.
    by_code: foldhash::HashMap<String, usize>,
    /// Units of the registry not valid in the month, by code: a return from one of them is
    /// from a unit that no longer (or does not yet) exist, not from an unknown code.
    other_times: HashMap<String, Vec<Unit>>,
    pub(crate) levels: Vec<String>,
    /// Each unit's folded name and aliases → `(unit index, the name's rank: 0 for the
    /// name, then the aliases)`, made the first time a title block is looked up.
    names: std::sync::OnceLock<HashMap<String, Vec<(usize, usize)>>>,
}

impl Hierarchy {
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.by_code.get(code).map(|&i| &self.units[i])
    }

    /// The registry's units with this code that are not valid in the hierarchy's month.
    pub(crate) fn other_times(&self, code: &str) -> &[Unit] {
        self.other_times.get(code).map_or(&[], Vec::as_slice)
    }

    /// The unit and its ancestors, the unit first. Stops at a loop.
    pub(crate) fn ancestors(&self, code: &str) -> Vec<&Unit> {
        let mut chain = Vec::new();
        let mut next = self.unit(code);
        while let Some(unit) = next {
            if chain.len() > self.levels.len() {
                break;
            }
            chain.push(unit);
            next = self.unit(&unit.parent);
        }
        chain
    }

    /// The ancestor (or the unit itself) of kind `level`.
    pub(crate) fn ancestor_of_kind(&self, code: &str, level: &str) -> Option<&Unit> {
        self.ancestors(code).into_iter().find(|u| u.kind == level)
    }

    pub(crate) fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Unit> + 'a {
        self.units.iter().filter(move |u| u.kind == kind)
    }

    /// The units of `kinds` that a title block names, each with the index of the first
    /// line that names it: a line equal to the unit's name or alias, or ending with it
    /// (`ĐẢNG ỦY XÃ LIÊM CẦN` names `Xã Liêm Cần`). When several match, those whose parent
    /// the block names too (the superior committee line).
    pub(crate) fn named_in<'a>(&'a self, lines: &[&str], kinds: &[String]) -> Vec<(&'a Unit, usize)> {
        let names = self.names.get_or_init(|| {
            let mut names: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
            for (u, unit) in self.units.iter().enumerate() {
                for (rank, name) in std::iter::once(&unit.name).chain(&unit.aliases).enumerate() {
                    let folded = text::fold(name);
                    if !folded.is_empty() {
                        names.entry(folded).or_default().push((u, rank));
                    }
                }
            }
            names
        });
        // Every unit a line names: the line whole, or its end after a space. For each, the
        // first of its names (the name, then its aliases) that a line gives, and the first
        // line that gives that one.
        let mut named: HashMap<usize, (usize, usize)> = HashMap::new();
        for (i, line) in lines.iter().map(|l| text::fold(l)).enumerate() {
            let ends = std::iter::once(0).chain(line.match_indices(' ').map(|(at, _)| at + 1));
            for end in ends.map(|at| &line[at..]) {
                for &(u, rank) in names.get(end).into_iter().flatten() {
                    let best = named.entry(u).or_insert((rank, i));
                    *best = (*best).min((rank, i));
                }
            }
        }
        let mut candidates: Vec<(&Unit, usize)> = named
            .iter()
            .map(|(&u, &(_, line))| (&self.units[u], line))
            .filter(|(unit, _)| kinds.contains(&unit.kind))
            .collect();
        candidates.sort_by_key(|(unit, _)| self.by_code.get(&unit.code).copied());
        if candidates.len() > 1 {
            let is_named = |code: &str| self.by_code.get(code).is_some_and(|i| named.contains_key(i));
            let narrowed: Vec<(&Unit, usize)> =
                candidates.iter().copied().filter(|(u, _)| is_named(&u.parent)).collect();
            if !narrowed.is_empty() {
                return narrowed;
            }
        }
        candidates
    }

    /// `code, name, kind, parent, order`: the units as a frame, in registry order; the
    /// top unit's `parent` is null.
    pub(crate) fn frame(&self) -> PolarsResult<DataFrame> {
        let col = |f: fn(&Unit) -> &str| self.units.iter().map(f).collect::<Vec<_>>();
        DataFrame::new_infer_height(vec![
            Column::new("code".into(), col(|u| &u.code)),
            Column::new("name".into(), col(|u| &u.name)),
            Column::new("kind".into(), col(|u| &u.kind)),
            Column::new(
                "parent".into(),
                self.units.iter().map(|u| Some(u.parent.as_str()).filter(|p| !p.is_empty())).collect::<Vec<_>>(),
            ),
            Column::new("order".into(), (0..self.units.len() as u32).collect::<Vec<_>>()),
        ])
    }

    /// `unit, ancestor`: every unit paired with itself and each of its ancestors, the
    /// frame a roll-up joins through.
    pub(crate) fn rollup_pairs(&self) -> PolarsResult<DataFrame> {
        let mut unit = Vec::new();
        let mut ancestor = Vec::new();
        for u in &self.units {
            for a in self.ancestors(&u.code) {
                unit.push(u.code.as_str());
                ancestor.push(a.code.as_str());
            }
        }
        DataFrame::new_infer_height(vec![Column::new("unit".into(), unit), Column::new("ancestor".into(), ancestor)])
    }
}

/// A reorganisation's successors from its conversion table (CSV, a row per new unit and
/// old unit): each new unit's predecessors, with whether each merged into it whole (its
/// `how` reads `whole`). `headers` name the new code's, the old code's and `how`'s columns.
pub(crate) fn successors(
    path: &Path,
    headers: [&str; 3],
    whole: &str,
) -> anyhow::Result<HashMap<String, Vec<(String, bool)>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| anyhow::anyhow!("{} is not a CSV file: {e}", path.display()))?;
    let column = |name: &str| -> anyhow::Result<Vec<String>> {
        let c = df.column(name).map_err(|_| anyhow::anyhow!("{} has no column `{name}`", path.display()))?;
        Ok(c.str()?.iter().map(|v| text::clean(v.unwrap_or(""))).collect())
    };
    let [unit, old, how] = [column(headers[0])?, column(headers[1])?, column(headers[2])?];
    let mut out: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    for ((unit, old), how) in unit.into_iter().zip(old).zip(how) {
        if !unit.is_empty() && !old.is_empty() {
            out.entry(unit).or_default().push((old, how == text::clean(whole)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [&str; 3] = ["province", "district", "commune"];

    fn problems(csv: &str) -> Vec<String> {
        let levels: Vec<String> = LEVELS.iter().map(|l| l.to_string()).collect();
        match Registry::parse(format!("code,name,kind,parent,valid_from,valid_to,aliases\n{csv}").as_bytes(), &levels) {
            Ok(_) => vec![],
            Err(problems) => problems,
        }
    }

    #[test]
    fn a_registry_holds_together_or_says_every_line_that_does_not() {
        assert_eq!(problems(""), ["the registry lists no unit"]);
        let good = "P,Province,province,,,,\nD,District,district,P,,,\nC,Commune,commune,D,2020-01,,\n";
        assert!(problems(good).is_empty());
        let bad = "P,Province,province,,,,
D,District,district,P,2021-01,2024-12,
C,Commune,commune,,2021-01,,
E,Commune E,commune,D,2020-01,2025-06,
F,Commune F,ward,,,,
G,Commune G,commune,C,,,
D,District again,district,P,2024-01,,
H,Commune H,commune,D,2023-05,2022-01,
";
        assert_eq!(
            problems(bad),
            [
                "line 4 (unit C): a commune needs a parent; its figures would add up nowhere",
                "line 5 (unit E): its parent D is not in the registry for all of 01/2020–06/2025",
                "line 7 (unit G): its parent C is not of a higher level",
                "line 8 (unit D): the code is also line 3's over the same months",
                "line 9 (unit H): valid from 2023-05 to 2022-01, which ends before it starts",
            ]
        );
    }

    #[test]
    fn blank_lines_are_no_units_and_the_lines_after_them_keep_their_numbers() {
        let csv = "P,Province,province,,,,\n\n,,,,,,\nD,District,district,P,,,\nC,Commune,commune,,,,\n\n\n";
        assert_eq!(problems(csv), ["line 6 (unit C): a commune needs a parent; its figures would add up nowhere"]);
    }

    #[test]
    fn a_parent_may_be_two_rows_that_follow_each_other() {
        let csv = "P,Province,province,,,,\nD,District,district,P,,2022-12,\nD,District,district,P,2023-01,,\nC,Commune,commune,D,2020-01,,\n";
        assert!(problems(csv).is_empty(), "{:?}", problems(csv));
    }
}
