//! The board's reference tables as read for one period.

use polars::prelude::DataFrame;

use super::{Finding, Period};

/// Targets, opening balances and whatever else the definition's `[[references]]` name,
/// read for one period (headers with `{year}` take its year).
#[derive(Debug, Default)]
pub(crate) struct References {
    /// One table per reference of the plan, by `ReferenceId::index`.
    pub(crate) tables: Vec<DataFrame>,
    /// The period the opening balances close, when the definition has them.
    pub(crate) cutoff: Option<Period>,
    pub(crate) findings: Vec<Finding>,
}
