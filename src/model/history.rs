//! What the periods a cumulative figure adds up hold.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::{Batch, Period, ReturnStatus};

/// Every merged row of each return table over the periods a run adds up, and the returns
/// expected in each of those periods that did not arrive valid.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// Rows per return table, by its qualified name.
    pub(crate) tables: BTreeMap<String, DataFrame>,
    /// By return id, then unit: the periods its return was expected and is missing or
    /// rejected. Nested, so that looking a unit up makes no key.
    pub(crate) gaps: HashMap<String, HashMap<String, Vec<Period>>>,
    /// The periods added, oldest first.
    pub(crate) periods: Vec<Period>,
}

impl History {
    /// Add one period's merged batch.
    pub(crate) fn add(&mut self, period: Period, batch: &Batch) -> PolarsResult<()> {
        self.periods.push(period);
        for (name, df) in &batch.tables {
            match self.tables.get_mut(name) {
                Some(rows) => {
                    rows.vstack_mut(df)?;
                }
                None => {
                    self.tables.insert(name.clone(), df.clone());
                }
            }
        }
        for e in batch.completeness.iter().filter(|e| e.status != ReturnStatus::Accepted) {
            self.add_gap(&e.return_id, &e.unit, period);
        }
        Ok(())
    }

    /// That `unit`'s return `return_id` was expected in `period` and is missing or rejected.
    pub(crate) fn add_gap(&mut self, return_id: &str, unit: &str, period: Period) {
        self.gaps.entry(return_id.to_string()).or_default().entry(unit.to_string()).or_default().push(period);
    }

    /// The periods from `first` to `last` whose return `return_id` of `unit` is missing.
    pub(crate) fn gaps(&self, return_id: &str, unit: &str, first: Period, last: Period) -> Vec<Period> {
        self.gaps
            .get(return_id)
            .and_then(|units| units.get(unit))
            .map_or_else(Vec::new, |g| g.iter().copied().filter(|p| (first..=last).contains(p)).collect())
    }
}
