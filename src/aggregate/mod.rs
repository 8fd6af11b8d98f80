//! Stage 4, aggregate: the figures of every unit at every level, for the run's period.
//!
//! Measures come from the definition. Sums run over a window of periods (the period, the
//! year to date, the term to date) and add the opening balance of cumulative windows;
//! they are computed for each unit from its own returns, then rolled up the hierarchy
//! valid for the period. Reference values (targets) come from the board's tables, a unit
//! without a row getting the sum of its children. Ratios are computed last, from the
//! rolled-up counts, never summed.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
// Maps keyed by unit codes, filled and read for every unit and measure.
use foldhash::{HashMap, HashSet};
use polars::prelude::*;

use crate::definition::{MeasureKind, Missing, Plan, ReferenceField, Sum, TableId, Window, YearAgo};
use crate::model::frame::{status_column, summed_column, text_column};
use crate::model::{Finding, FindingCode, History, Period, References, Severity};
use crate::registry::Hierarchy;

/// The first period a window covers, and whether the opening balance is added to it.
fn window_start(plan: &Plan, window: Window, period: Period, cutoff: Option<Period>) -> (Period, bool) {
    let base = match window {
        Window::Month | Window::Quarter => return (period, false),
        Window::Year => period.year_start(),
        Window::Term => Period::containing(plan.pipeline.term_start, period.kind),
    };
    match cutoff {
        Some(c) if c >= base => (c.next(), true),
        _ => (base, false),
    }
}

/// Every period whose returns the figures of `period` need, oldest first.
pub(crate) fn periods_needed(plan: &Plan, period: Period, cutoff: Option<Period>) -> Vec<Period> {
    let first = plan
        .measures
        .iter()
        .filter_map(|m| match &m.kind {
            MeasureKind::Sum(sum) => Some(window_start(plan, sum.window, period, cutoff).0),
            _ => None,
        })
        .fold(period, Period::min);
    first.through(period)
}

/// The figures of every unit of `hierarchy` for `period`: one row per unit, in registry
/// order, with `code, name, kind, parent, order`, a column per measure (ratios as
/// fractions), for reference measures `<id>__summed` (true where the value is the sum of
/// the children), and for sums and ratios `<id>__status`: `missing` where the unit sent no valid return for the
/// period, `incomplete` where a cumulative figure lacks one of its periods. Totals add up
/// the units that reported. Also the findings: units without an opening balance, figures
/// too large to add up exactly.
pub(crate) fn aggregate(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    history: &History,
    refs: &References,
) -> anyhow::Result<(DataFrame, Vec<Finding>)> {
    let units = hierarchy.frame()?;
    let mut own = units.clone().lazy().select([col("code"), col("kind").alias("_kind")]);
    let monthly = month_by_month(plan, period);
    let sums = plan.measures.iter().filter_map(|m| match &m.kind {
        MeasureKind::Sum(sum) => Some((m.id.as_str(), sum, period)),
        _ => None,
    });
    let months = monthly.iter().filter(|(.., month)| history.periods.contains(month));
    let sums: Vec<_> = sums.chain(months.map(|(name, sum, month)| (name.as_str(), sum, *month))).collect();
    let mut summed = own_rows_summed(plan, &sums, &history.tables, refs)?;
    let mut additive = Vec::new();
    for m in &plan.measures {
        let id = m.id.as_str();
        own = match &m.kind {
            MeasureKind::Sum(sum) => with_own_sum(plan, id, sum, period, refs, own, summed.remove(id))?,
            MeasureKind::Expr { expr, level } => {
                let computed = own.with_column(expression(&expr.expr, level).alias(id)).collect();
                computed.map_err(|e| expr.failed(&format!("measure `{id}`"), e))?.lazy()
            }
            MeasureKind::Reference(_)
            | MeasureKind::Ratio { .. }
            | MeasureKind::YearAgo(_)
            | MeasureKind::Shortfall { .. } => continue,
        };
        additive.push(m);
    }
    for (name, sum, month) in &monthly {
        own = match history.periods.contains(month) {
            true => with_own_sum(plan, name, sum, *month, refs, own, summed.remove(name.as_str()))?,
            // A month before the opening balances' cut-off: only its year to date is known.
            false => own.with_column(lit(NULL).cast(DataType::Float64).alias(name)),
        };
    }
    let mut ids: Vec<&str> = additive.iter().map(|m| m.id.as_str()).collect();
    ids.extend(monthly.iter().map(|(name, ..)| name.as_str()));
    let mut figures = roll_up(hierarchy, units, own, &ids)?;
    let mut findings = missing_openings(plan, refs, hierarchy, period)?;
    for m in &additive {
        let whole = !matches!(&m.kind, MeasureKind::Sum(sum) if sum.decimal);
        findings.extend(exact(plan, hierarchy, &mut figures, &m.id, whole)?);
    }
    for (name, sum, month) in &monthly {
        findings.extend(exact(plan, hierarchy, &mut figures, name, !sum.decimal)?);
        let states = match history.periods.contains(month) {
            true => states(plan, hierarchy, *month, history, refs, sum),
            false => vec![Some(UNKNOWN); hierarchy.units.len()],
        };
        mark(plan, &mut figures, name, states)?;
    }
    for m in &plan.measures {
        match &m.kind {
            MeasureKind::Sum(sum) => {
                let mut states = states(plan, hierarchy, period, history, refs, sum);
                // A figure left blank (an opening balance missing, a sum too large) is unknown.
                let values = figures.column(&m.id)?.as_materialized_series().clone();
                for (state, value) in states.iter_mut().zip(values.iter()) {
                    if value.is_null() && state.is_none() {
                        *state = Some(UNKNOWN);
                    }
                }
                mark(plan, &mut figures, &m.id, states)?;
            }
            MeasureKind::Reference(reference) => {
                let reference = reference_values(plan, refs, hierarchy, reference)?;
                figures.with_column(Column::new(m.id.as_str().into(), reference.values))?;
                figures.with_column(Column::new(summed_column(&m.id).into(), reference.summed))?;
                let states: Vec<Option<&str>> = reference.unknown.iter().map(|u| u.then_some(UNKNOWN)).collect();
                figures.with_column(Column::new(status_column(&m.id).into(), states))?;
            }
            MeasureKind::Ratio { numerator, denominator, .. } => {
                let (numerator, denominator) = (&plan.measure(*numerator).id, &plan.measure(*denominator).id);
                figures = figures.lazy().with_column(ratio(numerator, denominator).alias(&m.id)).collect()?;
                let states = worst_state(&figures, &[numerator, denominator])?;
                mark(plan, &mut figures, &m.id, states)?;
            }
            MeasureKind::Shortfall { plan: p, done } => {
                let (p, done) = (&plan.measure(*p).id, &plan.measure(*done).id);
                figures = figures.lazy().with_column(shortfall(p, done).alias(&m.id)).collect()?;
                let states = worst_state(&figures, &[p, done])?;
                mark(plan, &mut figures, &m.id, states)?;
            }
            MeasureKind::YearAgo(year_ago) => {
                let (values, states) = self::year_ago(plan, hierarchy, period, history, refs, year_ago)?;
                figures.with_column(Column::new(m.id.as_str().into(), values))?;
                figures.with_column(Column::new(status_column(&m.id).into(), states))?;
            }
            MeasureKind::Expr { .. } => {}
        }
    }
    Ok((figures, findings))
}

/// The columns a sheet shows month by month: for each such sum, each month of the
/// period's year to the period, `<measure>__<YYYY-MM>`, summed over that month alone.
fn month_by_month(plan: &Plan, period: Period) -> Vec<(String, Sum, Period)> {
    if period.kind != crate::model::PeriodKind::Month {
        return Vec::new();
    }
    let mut out = Vec::new();
    for id in plan.monthly_sums() {
        let measure = plan.measure(id);
        let MeasureKind::Sum(sum) = &measure.kind else { continue };
        let sum = Sum { window: Window::Month, opening: None, ..sum.clone() };
        for month in period.year_start().through(period) {
            out.push((format!("{}__{month}", measure.id), sum.clone(), month));
        }
    }
    out
}

/// A year-ago measure for every unit of `hierarchy`, in its order, and its state: from
/// last year's returns, or the published figures, for the unit as it was a year earlier
/// or the units it was formed from whole; not comparable for a unit made of parts of old
/// units or that did not exist.
fn year_ago(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    history: &History,
    refs: &References,
    year_ago: &YearAgo,
) -> anyhow::Result<(Vec<Option<i64>>, Vec<State>)> {
    let n = hierarchy.units.len();
    let (MeasureKind::Sum(sum), Some(last)) = (&plan.measure(year_ago.of).kind, &refs.last_year) else {
        return Ok((vec![None; n], vec![Some(UNKNOWN); n]));
    };
    let mut before = period.year_before();
    if year_ago.full_year {
        before =
            Period::containing(crate::period::Month::new(before.year, 12).unwrap_or(before.last_month()), before.kind);
    }
    let first = if sum.window == Window::Year { before.year_start() } else { before };
    let (old, incomplete) = if last.from_inbox {
        last_years_returns(plan, &last.hierarchy, sum, (first, before), history)?
    } else if let Some(fields) = &year_ago.published {
        let months = first.first_month().month as usize - 1..before.last_month().month as usize;
        (published(plan, refs, &last.hierarchy, &fields[months])?, HashSet::default())
    } else {
        (HashMap::default(), HashSet::default())
    };
    let state = |codes: &[&str]| codes.iter().any(|c| incomplete.contains(*c)).then_some(INCOMPLETE);
    let mut values = Vec::with_capacity(n);
    let mut states = Vec::with_capacity(n);
    for unit in &hierarchy.units {
        let (value, status) = match last.successors.get(&unit.code) {
            Some(predecessors) if predecessors.iter().all(|(_, whole)| *whole) => {
                let codes: Vec<&str> = predecessors.iter().map(|(c, _)| c.as_str()).collect();
                let parts: Option<Vec<i64>> = codes.iter().map(|c| old.get(*c).copied().flatten()).collect();
                match parts {
                    Some(parts) => (Some(parts.iter().sum()), state(&codes)),
                    None => (None, Some(UNKNOWN)),
                }
            }
            Some(_) => (None, Some(NOT_COMPARABLE)),
            None => match old.get(&unit.code) {
                Some(Some(v)) => (Some(*v), state(&[unit.code.as_str()])),
                Some(None) => (None, Some(UNKNOWN)),
                None if last.hierarchy.unit(&unit.code).is_none() => (None, Some(NOT_COMPARABLE)),
                None => (None, Some(UNKNOWN)),
            },
        };
        values.push(value);
        states.push(status);
    }
    Ok((values, states))
}

/// Last year's figures of a sum from last year's returns: each of last year's units with
/// its own rows and its descendants' over `window`, and the units whose figure lacks a
/// return of it.
fn last_years_returns(
    plan: &Plan,
    hierarchy: &Hierarchy,
    sum: &Sum,
    (first, last): (Period, Period),
    history: &History,
) -> anyhow::Result<(OldFigures, HashSet<String>)> {
    // Without opening balances, the window runs from `first`: January, or `last` itself.
    let units = hierarchy.frame()?.lazy().select([col("code"), col("kind").alias("_kind")]);
    let without_opening = Sum { opening: None, ..sum.clone() };
    let refs = References::default();
    let own = sum_of_own_rows(plan, "_value", &without_opening, last, &history.tables, &refs, units)?.collect()?;
    let codes = text_column(&own, "code")?;
    let mut totals: HashMap<String, i64> = hierarchy.units.iter().map(|u| (u.code.clone(), 0)).collect();
    for (code, value) in codes.iter().zip(own.column("_value")?.f64()?.iter()) {
        for ancestor in hierarchy.ancestors(code) {
            if let Some(total) = totals.get_mut(&ancestor.code) {
                *total += value.unwrap_or(0.0) as i64;
            }
        }
    }
    let ret = plan.return_of(sum.source);
    let mut incomplete = HashSet::default();
    for unit in hierarchy.units.iter().filter(|u| ret.senders.contains(&u.kind)) {
        if !history.gaps(&ret.id, &unit.code, first, last).is_empty() {
            incomplete.extend(hierarchy.ancestors(&unit.code).into_iter().map(|a| a.code.clone()));
        }
    }
    Ok((totals.into_iter().map(|(c, v)| (c, Some(v))).collect(), incomplete))
}

/// Last year's published figures of each of last year's units, added over `fields` (one
/// a month): a unit without a row of its own has its children's sum; unknown where any
/// month is.
fn published(
    plan: &Plan,
    refs: &References,
    hierarchy: &Hierarchy,
    fields: &[ReferenceField],
) -> anyhow::Result<OldFigures> {
    // In the hierarchy's order, as each month's values are.
    let mut out: Vec<Option<i64>> = vec![Some(0); hierarchy.units.len()];
    for field in fields {
        let month = reference_values(plan, refs, hierarchy, field)?;
        for ((total, value), unknown) in out.iter_mut().zip(&month.values).zip(&month.unknown) {
            *total = match (*total, value, unknown) {
                (Some(t), Some(v), false) => Some(t + v),
                _ => None,
            };
        }
    }
    Ok(hierarchy.units.iter().map(|u| u.code.clone()).zip(out).collect())
}

/// What is known of a sum for each unit (in hierarchy order): its return missing for the
/// period, or for an earlier period of a cumulative window; `None` when whole.
fn states(
    plan: &Plan,
    hierarchy: &Hierarchy,
    period: Period,
    history: &History,
    refs: &References,
    sum: &Sum,
) -> Vec<Option<&'static str>> {
    let ret = plan.return_of(sum.source);
    let (first, _) = window_start(plan, sum.window, period, refs.cutoff);
    let cumulative = matches!(sum.window, Window::Year | Window::Term);
    hierarchy
        .units
        .iter()
        .map(|u| {
            if !ret.senders.contains(&u.kind) {
                return None;
            }
            let gaps = history.gaps(&ret.id, &u.code, first, period);
            match (gaps.contains(&period), gaps.is_empty(), cumulative) {
                (true, _, false) => Some(MISSING),
                (_, false, _) => Some(INCOMPLETE),
                _ => None,
            }
        })
        .collect()
}

const MISSING: &str = "missing";
const INCOMPLETE: &str = "incomplete";
const UNKNOWN: &str = "unknown";

/// What is known of a unit's figure: `None` when whole, else `MISSING`, `INCOMPLETE`,
/// `UNKNOWN` or `NOT_COMPARABLE`.
type State = Option<&'static str>;

/// Last year's figure of each of last year's units, by code: `None` where unknown.
type OldFigures = HashMap<String, Option<i64>>;
/// A unit compared with last year's when it was formed from parts of old units, or did
/// not exist.
const NOT_COMPARABLE: &str = "not_comparable";

/// A ratio's state per unit: unknown when a part is, else missing, else incomplete.
fn worst_state(figures: &DataFrame, parts: &[&str]) -> PolarsResult<Vec<Option<&'static str>>> {
    let mut states = vec![None; figures.height()];
    for part in parts {
        let Ok(column) = figures.column(&status_column(part)) else { continue };
        for (state, part) in states.iter_mut().zip(column.str()?.iter()) {
            *state = match (*state, part) {
                (Some(UNKNOWN), _) | (_, Some(UNKNOWN)) => Some(UNKNOWN),
                (Some(NOT_COMPARABLE), _) | (_, Some(NOT_COMPARABLE)) => Some(NOT_COMPARABLE),
                (Some(MISSING), _) | (_, Some(MISSING)) => Some(MISSING),
                (Some(INCOMPLETE), _) | (_, Some(INCOMPLETE)) => Some(INCOMPLETE),
                _ => None,
            };
        }
    }
    Ok(states)
}

/// Record each unit's state of a measure (`<id>__status`) and, when the policy leaves the
/// figures of missing returns blank, blank them: the unit's own cells, never a total's.
fn mark(plan: &Plan, figures: &mut DataFrame, id: &str, states: Vec<Option<&'static str>>) -> PolarsResult<()> {
    if plan.policy.missing == Missing::Blank {
        let missing: Vec<bool> = states.iter().map(|s| *s == Some(MISSING)).collect();
        let mask = BooleanChunked::from_slice("missing".into(), &missing).into_series();
        let values = figures.column(id)?.as_materialized_series().clone();
        let blank = Series::full_null(id.into(), values.len(), values.dtype());
        let kept = blank.zip_with(&mask.bool()?.clone(), &values)?;
        figures.with_column(kept.with_name(id.into()).into_column())?;
    }
    figures.with_column(Column::new(status_column(id).into(), states))?;
    Ok(())
}

/// Sums are added as floating point: exact up to 2^53, far above any count of people.
/// A figure past that is not trusted: a finding, and the figure blank. Counts go back to
/// whole numbers.
fn exact(
    plan: &Plan,
    hierarchy: &Hierarchy,
    figures: &mut DataFrame,
    id: &str,
    whole: bool,
) -> anyhow::Result<Vec<Finding>> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let values: Vec<Option<f64>> = figures.column(id)?.cast(&DataType::Float64)?.f64()?.iter().collect();
    let mut findings = Vec::new();
    let checked: Vec<Option<f64>> = values
        .iter()
        .zip(&hierarchy.units)
        .map(|(v, unit)| match v {
            Some(v) if !v.is_finite() || v.abs() >= EXACT => {
                findings.push(
                    Finding::builder(plan, FindingCode::FigureTooLarge, Severity::Error)
                        .unit(&unit.code)
                        .value(format!("{v:e}"))
                        .var("measure", id)
                        .build(),
                );
                None
            }
            other => *other,
        })
        .collect();
    let column = Column::new(id.into(), checked);
    let column = if whole { column.cast(&DataType::Int64)? } else { column };
    figures.with_column(column)?;
    Ok(findings)
}

/// `own` with the column `id`: each unit's sum over its own rows of the window, plus its
/// opening balance where the window starts before the cut-off.
fn sum_of_own_rows(
    plan: &Plan,
    id: &str,
    sum: &Sum,
    period: Period,
    history: &BTreeMap<String, DataFrame>,
    refs: &References,
    own: LazyFrame,
) -> anyhow::Result<LazyFrame> {
    let mut summed = own_rows_summed(plan, &[(id, sum, period)], history, refs)?;
    with_own_sum(plan, id, sum, period, refs, own, summed.remove(id))
}

/// Each sum's rows added up per unit (`code` and the sum's id), by id: one pass over a
/// table's rows for all the sums over the same rows (the table, the window, the filter).
fn own_rows_summed(
    plan: &Plan,
    sums: &[(&str, &Sum, Period)],
    history: &BTreeMap<String, DataFrame>,
    refs: &References,
) -> anyhow::Result<HashMap<String, DataFrame>> {
    // The rows a sum adds up: its table, its window's first and last period, its filter.
    type Rows<'a> = (&'a str, Period, Period, Option<&'a str>);
    let mut same_rows: Vec<(Rows, Vec<(&str, &Sum)>)> = Vec::new();
    for &(id, sum, period) in sums {
        let first = window_start(plan, sum.window, period, refs.cutoff).0;
        let rows = (plan.table(sum.source).name.as_str(), first, period, sum.filter.as_ref().map(|f| f.text.as_str()));
        match same_rows.iter_mut().find(|(r, _)| *r == rows) {
            Some((_, ids)) => ids.push((id, sum)),
            None => same_rows.push((rows, vec![(id, sum)])),
        }
    }
    let mut out = HashMap::default();
    for ((name, first, period, _), ids) in same_rows {
        let in_window = col("_period").gt_eq(lit(first.to_string())).and(col("_period").lt_eq(lit(period.to_string())));
        let mut rows =
            history.get(name).cloned().with_context(|| format!("no rows of {name}"))?.lazy().filter(in_window);
        if let Some(filter) = &ids[0].1.filter {
            // Collected here so that a filter that cannot be evaluated is named, not a query plan.
            let kept = rows.filter(filter.expr.clone()).collect();
            let id = ids[0].0;
            rows = kept.map_err(|e| filter.failed(&format!("the filter of measure `{id}`"), e))?.lazy();
        }
        // Added as floating point, checked and made whole again after the roll-up (`exact`):
        // an integer sum would wrap silently.
        let value = |sum: &Sum| sum.field.as_deref().map_or_else(len, |f| col(f).cast(DataType::Float64).sum());
        let values: Vec<Expr> = ids.iter().map(|(id, sum)| value(sum).cast(DataType::Float64).alias(*id)).collect();
        let per_unit = rows.group_by([col("_unit").alias("code")]).agg(values).collect()?;
        for (id, _) in ids {
            out.insert(id.to_string(), per_unit.select(["code", id])?);
        }
    }
    Ok(out)
}

/// `own` with a sum's column: the unit's own rows added up (`per_unit`, from
/// `own_rows_summed`), 0 for a unit without any, plus its opening balance when the window
/// starts before the balances' cut-off.
fn with_own_sum(
    plan: &Plan,
    id: &str,
    sum: &Sum,
    period: Period,
    refs: &References,
    own: LazyFrame,
    per_unit: Option<DataFrame>,
) -> anyhow::Result<LazyFrame> {
    let per_unit = per_unit.with_context(|| format!("measure `{id}` was not added up"))?;
    let with_opening = window_start(plan, sum.window, period, refs.cutoff).1;
    let own = own
        .join(per_unit.lazy(), [col("code")], [col("code")], JoinArgs::new(JoinType::Left))
        .with_column(col(id).fill_null(lit(0.0)));
    let (true, Some(opening)) = (with_opening, &sum.opening) else { return Ok(own) };
    // A unit that sends the source return and has no opening balance has no known
    // cumulative figure: null, never its periods alone.
    let balance = reference_column(plan, refs, opening, "_opening")?;
    let sends =
        senders_of(plan, sum.source).iter().fold(lit(false), |any, kind| any.or(col("_kind").eq(lit(kind.as_str()))));
    let opening = col("_opening").cast(DataType::Float64);
    let known = when(sends).then(opening.clone()).otherwise(opening.fill_null(lit(0.0)));
    Ok(own
        .join(balance.lazy(), [col("code")], [col("code")], JoinArgs::new(JoinType::Left))
        .with_column((col(id) + known).alias(id))
        .drop(Selector::ByName { names: Arc::new(["_opening".into()]), strict: true }))
}

/// An expression over earlier measures for the units of `level`, 0 for the others.
/// Unknown inputs make an unknown result, whatever the expression does with nulls.
fn expression(expr: &Expr, level: &str) -> Expr {
    let unknown =
        expr.clone().meta().root_names().into_iter().fold(lit(false), |any, name| any.or(col(name).is_null()));
    let value = when(unknown).then(lit(NULL).cast(DataType::Float64)).otherwise(expr.clone().cast(DataType::Float64));
    when(col("_kind").eq(lit(level))).then(value).otherwise(lit(0.0))
}

/// Every unit's additive measures summed over itself and its descendants, in registry
/// order. A total with an unknown part is unknown, not the sum of the known ones.
fn roll_up(hierarchy: &Hierarchy, units: DataFrame, own: LazyFrame, additive: &[&str]) -> anyhow::Result<DataFrame> {
    let sums = additive
        .iter()
        .map(|id| when(col(*id).null_count().gt(lit(0))).then(lit(NULL)).otherwise(col(*id).sum()).alias(*id));
    let rolled = hierarchy
        .rollup_pairs()?
        .lazy()
        .join(own, [col("unit")], [col("code")], JoinArgs::new(JoinType::Inner))
        .group_by([col("ancestor").alias("code")])
        .agg(sums.collect::<Vec<_>>());
    // Every unit pairs with itself, so every unit has a rolled-up row.
    Ok(units
        .lazy()
        .join(rolled, [col("code")], [col("code")], JoinArgs::new(JoinType::Left))
        .sort(["order"], SortMultipleOptions::default())
        .collect()?)
}

/// `plan - done` where positive, else 0; unknown where either is.
fn shortfall(plan: &str, done: &str) -> Expr {
    let as_float = |name: &str| col(name).cast(DataType::Float64);
    when(as_float(plan).gt(as_float(done))).then(as_float(plan) - as_float(done)).otherwise(
        when(as_float(plan).is_null().or(as_float(done).is_null()))
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(lit(0.0)),
    )
}

/// `numerator / denominator` as a fraction, unknown where the denominator is not
/// positive. The ratio's `scale` is how it is shown, not what is stored.
fn ratio(numerator: &str, denominator: &str) -> Expr {
    let as_float = |name: &str| col(name).cast(DataType::Float64);
    when(as_float(denominator).gt(lit(0.0)))
        .then(as_float(numerator) / as_float(denominator))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The unit kinds that send the return a table belongs to.
fn senders_of(plan: &Plan, table: TableId) -> &[String] {
    &plan.return_of(table).senders
}

/// A finding for every unit that sends the return a cumulative measure adds up and has
/// no row in that measure's opening balances (one per unit and reference table). Its
/// cumulative figures stay unknown: the tool does not derive a merged unit's history
/// from its parts, since a part merged in pieces cannot be split.
fn missing_openings(
    plan: &Plan,
    refs: &References,
    hierarchy: &Hierarchy,
    period: Period,
) -> anyhow::Result<Vec<Finding>> {
    let mut wanted: BTreeMap<_, Vec<&String>> = BTreeMap::new();
    for m in &plan.measures {
        if let MeasureKind::Sum(Sum { source, window, opening: Some(opening), .. }) = &m.kind {
            if window_start(plan, *window, period, refs.cutoff).1 {
                wanted.entry(opening.reference).or_default().extend(senders_of(plan, *source));
            }
        }
    }
    let mut findings = Vec::new();
    for (id, kinds) in wanted {
        let spec = plan.reference(id);
        // A unit listed twice is reported as such, not as missing.
        let mut present: HashSet<String> = text_column(&refs.tables[id.index()], &spec.key)?.into_iter().collect();
        present.extend(refs.unknown[id.index()].iter().cloned());
        let file = Path::new(&spec.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let cutoff = refs.cutoff.map(|c| c.written(&plan.pipeline.quarter_words)).unwrap_or_default();
        for unit in hierarchy.units.iter().filter(|u| kinds.contains(&&u.kind) && !present.contains(&u.code)) {
            findings.push(
                Finding::builder(plan, FindingCode::OpeningMissing, Severity::Error)
                    .file(&file)
                    .unit(&unit.code)
                    .value(unit.code.clone())
                    .var("name", unit.name.clone())
                    .var("cutoff", cutoff.clone())
                    .build(),
            );
        }
    }
    Ok(findings)
}

/// `code` and one field of a reference table, as `alias`, for the units whose row can be
/// trusted (a unit listed twice has none).
fn reference_column(plan: &Plan, refs: &References, field: &ReferenceField, alias: &str) -> PolarsResult<DataFrame> {
    let spec = plan.reference(field.reference);
    let unknown = &refs.unknown[field.reference.index()];
    let table = refs.tables[field.reference.index()]
        .clone()
        .lazy()
        .select([col(spec.key.as_str()).alias("code"), col(field.field.as_str()).cast(DataType::Int64).alias(alias)])
        .filter(col(alias).is_not_null())
        .collect()?;
    if unknown.is_empty() {
        return Ok(table);
    }
    let codes = table.column("code")?.str()?;
    let trusted: Vec<bool> = codes.iter().map(|c| !unknown.contains(c.unwrap_or(""))).collect();
    table.filter(&BooleanChunked::from_slice("trusted".into(), &trusted))
}

/// A reference value per unit of the hierarchy (in its order): the unit's own, or else
/// the sum of its children's, flagged as summed; `None` where neither exists. A unit whose
/// row cannot be trusted or is missing from a table that must cover it, and every sum over
/// it, is unknown.
fn reference_values(
    plan: &Plan,
    refs: &References,
    hierarchy: &Hierarchy,
    field: &ReferenceField,
) -> anyhow::Result<ReferenceValues> {
    if refs.missing_fields[field.reference.index()].contains(&field.field) {
        let n = hierarchy.units.len();
        return Ok(ReferenceValues { values: vec![None; n], summed: vec![false; n], unknown: vec![true; n] });
    }
    let table = reference_column(plan, refs, field, "_value")?;
    let codes = table.column("code")?.str()?;
    let values = table.column("_value")?.i64()?;
    let own: HashMap<&str, i64> =
        codes.iter().zip(values.iter()).filter_map(|(c, v)| v.map(|v| (c.unwrap_or(""), v))).collect();
    let unknown = &refs.unknown[field.reference.index()];
    let mut children: HashMap<&str, Vec<&str>> = HashMap::default();
    for unit in &hierarchy.units {
        children.entry(unit.parent.as_str()).or_default().push(unit.code.as_str());
    }
    let lookup = Lookup { own: &own, unknown, children: &children };
    let mut out = ReferenceValues::default();
    for unit in &hierarchy.units {
        let (value, summed, unknown) = lookup.value(&unit.code, 0);
        out.values.push(value);
        out.summed.push(summed);
        out.unknown.push(unknown);
    }
    Ok(out)
}

/// A reference measure for every unit of the hierarchy, in its order.
#[derive(Default)]
struct ReferenceValues {
    values: Vec<Option<i64>>,
    /// The value is the sum of the unit's children.
    summed: Vec<bool>,
    /// The value is unknown: the unit's row, or a row under it, is missing or not trusted.
    unknown: Vec<bool>,
}

/// A reference table's values and the hierarchy, for summing children.
struct Lookup<'a> {
    own: &'a HashMap<&'a str, i64>,
    unknown: &'a std::collections::HashSet<String>,
    children: &'a HashMap<&'a str, Vec<&'a str>>,
}

impl Lookup<'_> {
    /// A unit's value, whether it is its children's sum, and whether it is unknown.
    fn value(&self, code: &str, depth: usize) -> (Option<i64>, bool, bool) {
        if self.unknown.contains(code) {
            return (None, false, true);
        }
        if let Some(v) = self.own.get(code) {
            return (Some(*v), false, false);
        }
        if depth > 16 {
            return (None, false, false);
        }
        let parts: Vec<_> = self.children.get(code).into_iter().flatten().map(|c| self.value(c, depth + 1)).collect();
        if parts.iter().any(|p| p.2) {
            return (None, false, true);
        }
        let sum = parts.iter().filter_map(|p| p.0).reduce(|a, b| a + b);
        (sum, sum.is_some(), false)
    }
}

#[cfg(test)]
mod tests;
