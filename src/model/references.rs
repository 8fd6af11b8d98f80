//! The board's reference tables as read for one period.

use std::collections::HashSet;

use polars::prelude::DataFrame;

use super::{Finding, Period};

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
}
