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
    /// `(return id, unit)`: the periods its return was expected and is missing or rejected.
    pub(crate) gaps: HashMap<(String, String), Vec<Period>>,
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
            self.gaps.entry((e.return_id.clone(), e.unit.clone())).or_default().push(period);
        }
        Ok(())
    }

    /// The periods from `first` to `last` whose return `return_id` of `unit` is missing.
    pub(crate) fn gaps(&self, return_id: &str, unit: &str, first: Period, last: Period) -> Vec<Period> {
        let key = (return_id.to_string(), unit.to_string());
        self.gaps
            .get(&key)
            .map_or_else(Vec::new, |g| g.iter().copied().filter(|p| (first..=last).contains(p)).collect())
    }
}
