//! Reading polars frames back into the values the stages compare and print.

use polars::prelude::*;

/// A string column as owned texts, nulls as empty.
pub(crate) fn text_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

/// A cell value as a person reads it.
pub(crate) fn any_text(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// The column of the figures frame saying what is known of a measure's figure for each
/// unit (`missing`, `incomplete`, `unknown`, null when whole).
pub(crate) fn status_column(measure: &str) -> String {
    format!("{measure}{STATUS}")
}

/// The measure whose status `column` is, when it is one.
pub(crate) fn status_of(column: &str) -> Option<&str> {
    column.strip_suffix(STATUS)
}

const STATUS: &str = "__status";

/// The column of the figures frame saying, for a reference measure, where its value is
/// the sum of the unit's children.
pub(crate) fn summed_column(measure: &str) -> String {
    format!("{measure}__summed")
}
