//! The board's reference tables as read for one period.

use std::collections::{HashMap, HashSet};

use polars::prelude::DataFrame;

use super::{Finding, Period};
use crate::registry::Hierarchy;

/// Targets, opening balances and whatever else the definition's `[[references]]` name,
/// read for one period (headers with `{year}` take its year).
#[derive(Debug, Default)]
pub(crate) struct References {
    /// One table per reference of the plan, by `ReferenceId::index`.
    pub(crate) tables: Vec<DataFrame>,
    /// Per table, the units whose row cannot be trusted (listed twice) or is missing though
    /// the table must cover them: their values, and every sum over them, are unknown.
    pub(crate) unknown: Vec<HashSet<String>>,
    /// Per table, the fields measures read that the sheet lacks: unknown for every unit.
    pub(crate) missing_fields: Vec<HashSet<String>>,
    /// The period the opening balances close, when the definition has them.
    pub(crate) cutoff: Option<Period>,
    pub(crate) findings: Vec<Finding>,
    /// What the same period a year earlier is made of, when a measure shows it.
    pub(crate) last_year: Option<LastYear>,
}

/// The same period a year earlier: last year's units, whether their returns are in the
/// inbox (else the board's published figures stand for them), and the units formed from
/// old ones since.
#[derive(Debug)]
pub(crate) struct LastYear {
    pub(crate) hierarchy: Hierarchy,
    pub(crate) from_inbox: bool,
    /// A new unit's predecessors, each with whether it merged whole: only when the
    /// reorganisation falls between last year's period and this one.
    pub(crate) successors: HashMap<String, Vec<(String, bool)>>,
}
