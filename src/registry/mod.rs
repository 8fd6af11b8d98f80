//! The unit registry: who exists, under whom, and when.
//!
//! Units are keyed by code and validity interval (a merged unit keeps the code of one of
//! its parts, so a code alone does not name a territory over time). A run uses the
//! `Hierarchy` valid in its month: only the units that exist then, under the parents
//! they had then.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use polars::prelude::*;

use crate::period::{Month, Period};
use crate::text;

/// A unit as the registry lists it.
#[derive(Debug, Clone)]
pub struct Unit {
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
}

/// Every unit of the registry file, in file order.
#[derive(Debug, Clone)]
pub struct Registry {
    pub(crate) units: Vec<Unit>,
}

const COLUMNS: [&str; 7] = ["code", "name", "kind", "parent", "valid_from", "valid_to", "aliases"];

impl Registry {
    /// Read `code,name,kind,parent,valid_from,valid_to,aliases` (UTF-8 CSV).
    pub fn load(path: &Path) -> anyhow::Result<Registry> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the registry {}", path.display()))?;
        Registry::parse(&bytes, path)
    }

    /// The registry in CSV `bytes`; `path` only names it in messages.
    pub(crate) fn parse(bytes: &[u8], path: &Path) -> anyhow::Result<Registry> {
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| anyhow::anyhow!("cannot read the registry {}: {e}", path.display()))?;
        for column in COLUMNS {
            if df.column(column).is_err() {
                bail!("the registry {} has no column `{column}` (expected {})", path.display(), COLUMNS.join(","));
            }
        }
        let text_of = |name: &str| -> anyhow::Result<Vec<String>> {
            Ok(df.column(name)?.str()?.iter().map(|v| text::clean(v.unwrap_or(""))).collect())
        };
        let [code, name, kind, parent, from, to, aliases] = COLUMNS.map(text_of);
        let (code, name, kind, parent, from, to, aliases) = (code?, name?, kind?, parent?, from?, to?, aliases?);
        let month = |row: usize, text: &str| -> anyhow::Result<Option<Month>> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<Month>()
                .map(Some)
                .with_context(|| format!("{} line {}: `{text}` is not a month (YYYY-MM)", path.display(), row + 2))
        };
        let mut units = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            if code[i].is_empty() {
                bail!("{} line {}: the unit has no code", path.display(), i + 2);
            }
            units.push(Unit {
                code: code[i].clone(),
                name: name[i].clone(),
                kind: kind[i].clone(),
                parent: parent[i].clone(),
                valid_from: month(i, &from[i])?,
                valid_to: month(i, &to[i])?,
                aliases: aliases[i].split(';').map(text::clean).filter(|a| !a.is_empty()).collect(),
            });
        }
        Ok(Registry { units })
    }

    /// The hierarchy of the units valid in `period`: in its last month, for a quarter.
    pub fn hierarchy(&self, period: Period, levels: &[String]) -> anyhow::Result<Hierarchy> {
        let month = period.last_month();
        let units: Vec<Unit> = self.units.iter().filter(|u| u.valid_in(month)).cloned().collect();
        let mut by_code = HashMap::new();
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
        let hierarchy = Hierarchy { units, by_code, other_times, levels: levels.to_vec() };
        for unit in &hierarchy.units {
            if hierarchy.ancestors(&unit.code).len() > levels.len() {
                bail!("the registry's parents of unit {} form a loop", unit.code);
            }
        }
        Ok(hierarchy)
    }
}

/// The units valid in one month, with their parents.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub(crate) units: Vec<Unit>,
    by_code: HashMap<String, usize>,
    /// Units of the registry not valid in the month, by code: a return from one of them is
    /// from a unit that no longer (or does not yet) exist, not from an unknown code.
    other_times: HashMap<String, Vec<Unit>>,
    pub(crate) levels: Vec<String>,
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
        let folded: Vec<String> = lines.iter().map(|l| text::fold(l)).collect();
        let named = |unit: &Unit| {
            std::iter::once(&unit.name).chain(&unit.aliases).map(|n| text::fold(n)).find_map(|n| {
                let suffix = format!(" {n}");
                folded.iter().position(|l| !n.is_empty() && (*l == n || l.ends_with(&suffix)))
            })
        };
        let candidates: Vec<(&Unit, usize)> =
            self.units.iter().filter(|u| kinds.contains(&u.kind)).filter_map(|u| Some((u, named(u)?))).collect();
        if candidates.len() > 1 {
            let narrowed: Vec<(&Unit, usize)> = candidates
                .iter()
                .copied()
                .filter(|(u, _)| self.unit(&u.parent).is_some_and(|p| named(p).is_some()))
                .collect();
            if !narrowed.is_empty() {
                return narrowed;
            }
        }
        candidates
    }

    /// `code, name, kind, parent, _order`: the units as a frame, in registry order.
    pub(crate) fn frame(&self) -> PolarsResult<DataFrame> {
        let col = |f: fn(&Unit) -> &str| self.units.iter().map(f).collect::<Vec<_>>();
        DataFrame::new_infer_height(vec![
            Column::new("code".into(), col(|u| &u.code)),
            Column::new("name".into(), col(|u| &u.name)),
            Column::new("kind".into(), col(|u| &u.kind)),
            Column::new("parent".into(), col(|u| &u.parent)),
            Column::new("_order".into(), (0..self.units.len() as u32).collect::<Vec<_>>()),
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
