//! Stage 4, aggregate: the figures of every unit at every level, for the run's month.
//!
//! Measures come from the definition. Sums run over a window of months (the month, the
//! year to date, the term to date) and add the opening balance of cumulative windows;
//! they are computed for each unit from its own returns, then rolled up the hierarchy
//! valid for the month. Reference values (targets) come from the board's tables, a unit
//! without a row getting the sum of its children. Ratios are computed last, from the
//! rolled-up counts, never summed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context as _};
use polars::prelude::*;

use crate::definition::{Definition, Header, MeasureKind, Severity, TableSpec, ValueKind, Window};
use crate::finding::{code, Finding};
use crate::ingest::{self, workbook::Cell};
use crate::period::{Month, Period};
use crate::registry::Hierarchy;

/// The board's reference tables, read for one period.
#[derive(Debug, Default)]
pub struct References {
    pub tables: HashMap<String, DataFrame>,
    /// The period the opening balances close, when the definition has them.
    pub cutoff: Option<Period>,
    pub findings: Vec<Finding>,
}

/// A table spec with `{year}` in its headers replaced by the period's year.
fn for_year(spec: &TableSpec, year: i32) -> TableSpec {
    let mut spec = spec.clone();
    spec.folded_headers = Default::default();
    let replace = |h: &mut Header| match h {
        Header::One(s) => *s = s.replace("{year}", &year.to_string()),
        Header::Joined(parts) => parts.iter_mut().for_each(|s| *s = s.replace("{year}", &year.to_string())),
    };
    for column in &mut spec.columns {
        replace(&mut column.header);
        column.aliases.iter_mut().for_each(replace);
    }
    spec
}

pub fn load_references(def: &Definition, data: &Path, period: Period) -> anyhow::Result<References> {
    let mut refs = References::default();
    for spec in &def.references {
        let path = data.join(&spec.file);
        let table = for_year(&spec.table, period.year);
        let (df, cutoff, findings) =
            ingest::read_reference(def, &path, &table, spec.cutoff.as_ref().map(|c| c.label.as_str()))?;
        refs.findings.extend(findings);
        if let Some(label) = &spec.cutoff {
            // `06/2025` (a month that ends a period of the pipeline) or the period itself.
            let kind = def.pipeline.period;
            let text = cutoff.as_ref().map(Cell::text).unwrap_or_default();
            let month = match &cutoff {
                Some(Cell::Date(d)) => Month::new(chrono::Datelike::year(d), chrono::Datelike::month(d)),
                _ => Month::parse_loose(&text),
            };
            let closed = match month {
                Some(m) => Some(Period::ending_with(m, kind).with_context(|| {
                    format!(
                        "{}: the opening balances are at {m}, which does not end a period ({})",
                        path.display(),
                        kind.pattern()
                    )
                })?),
                None => Period::parse_loose(&text, kind, &def.pipeline.quarter_words),
            };
            let closed = closed.with_context(|| format!("{}: no period next to `{}`", path.display(), label.label))?;
            if closed >= period {
                bail!("{}: the opening balances are at {closed}, not before {period}", path.display());
            }
            refs.cutoff = Some(closed);
        }
        refs.tables.insert(spec.id.clone(), df);
    }
    Ok(refs)
}

/// The first period a window covers, and whether the opening balance is added to it.
fn window_start(
    def: &Definition,
    window: Window,
    period: Period,
    cutoff: Option<Period>,
) -> anyhow::Result<(Period, bool)> {
    let base = match window {
        Window::Month | Window::Quarter => return Ok((period, false)),
        Window::Year => period.year_start(),
        Window::Term => Period::containing(def.pipeline.term.start.get_ref().parse::<Month>()?, period.kind),
    };
    Ok(match cutoff {
        Some(c) if c >= base => (c.next(), true),
        _ => (base, false),
    })
}

/// Every period whose returns the figures of `period` need, oldest first.
pub fn periods_needed(def: &Definition, period: Period, cutoff: Option<Period>) -> anyhow::Result<Vec<Period>> {
    let mut first = period;
    for m in &def.measures {
        if let Some(MeasureKind::Sum { window, .. }) = m.kind() {
            first = first.min(window_start(def, window, period, cutoff)?.0);
        }
    }
    Ok(first.through(period))
}

/// The figures of every unit of `hierarchy` for `period`: one row per unit, in registry
/// order, with `code, name, kind, parent, _order`, a column per measure and, for
/// reference measures, `_summed_<id>` (true where the value is the sum of the children).
pub fn aggregate(
    def: &Definition,
    hierarchy: &Hierarchy,
    period: Period,
    history: &BTreeMap<String, DataFrame>,
    refs: &References,
) -> anyhow::Result<DataFrame> {
    let units = hierarchy.frame()?;
    let mut own = units.clone().lazy().select([col("code"), col("kind").alias("_kind")]);
    let mut additive = Vec::new();
    for m in &def.measures {
        let Some(kind) = m.kind() else { bail!("measure {} is not well defined", m.id) };
        match kind {
            MeasureKind::Sum { source, field, filter, window, opening } => {
                let (first, with_opening) = window_start(def, window, period, refs.cutoff)?;
                let mut rows =
                    history.get(source).cloned().with_context(|| format!("no rows of {source}"))?.lazy().filter(
                        col("_period").gt_eq(lit(first.to_string())).and(col("_period").lt_eq(lit(period.to_string()))),
                    );
                if let Some(filter) = filter {
                    rows = rows.filter(polars::sql::sql_expr(filter)?);
                }
                // Counts stay whole; `number` fields (areas, tonnes) keep their decimals.
                let decimal = field.is_some_and(|f| {
                    def.table(source).and_then(|(_, t)| t.column(f)).is_some_and(|c| c.kind == ValueKind::Number)
                });
                let dtype = if decimal { DataType::Float64 } else { DataType::Int64 };
                let value = match field {
                    Some(f) => col(f).sum(),
                    None => len(),
                };
                let per_unit =
                    rows.group_by([col("_unit").alias("code")]).agg([value.cast(dtype).alias(m.id.as_str())]);
                own = own
                    .join(per_unit, [col("code")], [col("code")], JoinArgs::new(JoinType::Left))
                    .with_column(col(m.id.as_str()).fill_null(lit(0i64)));
                if let (true, Some(opening)) = (with_opening, opening) {
                    // A unit that sends the source return and has no opening balance has
                    // no known cumulative figure: null, never its months alone.
                    let balance = reference_column(def, refs, opening, "_opening")?;
                    let sends = senders_of(def, source)
                        .iter()
                        .fold(lit(false), |any, kind| any.or(col("_kind").eq(lit(kind.as_str()))));
                    let known_opening =
                        when(sends).then(col("_opening")).otherwise(col("_opening").fill_null(lit(0i64)));
                    own = own
                        .join(balance.lazy(), [col("code")], [col("code")], JoinArgs::new(JoinType::Left))
                        .with_column((col(m.id.as_str()) + known_opening).alias(m.id.as_str()))
                        .drop(Selector::ByName { names: Arc::new(["_opening".into()]), strict: true });
                }
                additive.push(m.id.as_str());
            }
            MeasureKind::Expr { expr, level } => {
                let value = polars::sql::sql_expr(expr)?;
                // Unknown inputs make an unknown result, whatever the expression does with nulls.
                let unknown = value
                    .clone()
                    .meta()
                    .root_names()
                    .into_iter()
                    .fold(lit(false), |any, name| any.or(col(name).is_null()));
                let value = when(unknown).then(lit(NULL).cast(DataType::Int64)).otherwise(value.cast(DataType::Int64));
                own = own.with_column(
                    when(col("_kind").eq(lit(level))).then(value).otherwise(lit(0i64)).alias(m.id.as_str()),
                );
                additive.push(m.id.as_str());
            }
            MeasureKind::Reference(_) | MeasureKind::Ratio { .. } => {}
        }
    }

    let rolled = hierarchy
        .rollup_pairs()?
        .lazy()
        .join(own, [col("unit")], [col("code")], JoinArgs::new(JoinType::Inner))
        .group_by([col("ancestor").alias("code")])
        // A total with an unknown part is unknown, not the sum of the known ones.
        .agg(
            additive
                .iter()
                .map(|id| when(col(*id).null_count().gt(lit(0))).then(lit(NULL)).otherwise(col(*id).sum()).alias(*id))
                .collect::<Vec<_>>(),
        );
    // Every unit pairs with itself, so every unit has a rolled-up row.
    let mut figures = units
        .lazy()
        .join(rolled, [col("code")], [col("code")], JoinArgs::new(JoinType::Left))
        .sort(["_order"], SortMultipleOptions::default())
        .collect()?;

    for m in &def.measures {
        match m.kind() {
            Some(MeasureKind::Reference(reference)) => {
                let (values, summed) = reference_values(def, refs, hierarchy, reference)?;
                figures.with_column(Column::new(m.id.as_str().into(), values))?;
                figures.with_column(Column::new(format!("_summed_{}", m.id).into(), summed))?;
            }
            Some(MeasureKind::Ratio { numerator, denominator, scale }) => {
                figures = figures
                    .lazy()
                    .with_column(
                        when(col(denominator).cast(DataType::Float64).gt(lit(0.0)))
                            .then(
                                col(numerator).cast(DataType::Float64) * lit(scale)
                                    / col(denominator).cast(DataType::Float64),
                            )
                            .otherwise(lit(NULL).cast(DataType::Float64))
                            .alias(m.id.as_str()),
                    )
                    .collect()?;
            }
            _ => {}
        }
    }
    Ok(figures)
}

/// The unit kinds that send the return a `return.table` belongs to.
fn senders_of<'a>(def: &'a Definition, qualified: &str) -> &'a [String] {
    def.table(qualified).map_or(&[], |(ret, _)| ret.senders.as_slice())
}

/// A finding for every unit that sends the return a cumulative measure adds up and has
/// no row in that measure's opening balances (one per unit and reference table). Its
/// cumulative figures stay unknown: the tool does not derive a merged unit's history
/// from its parts, since a part merged in pieces cannot be split.
pub fn missing_openings(
    def: &Definition,
    refs: &References,
    hierarchy: &Hierarchy,
    period: Period,
) -> anyhow::Result<Vec<Finding>> {
    let mut wanted: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for m in &def.measures {
        if let Some(MeasureKind::Sum { source, window, opening: Some(opening), .. }) = m.kind() {
            if !window_start(def, window, period, refs.cutoff)?.1 {
                continue;
            }
            let (id, _) = opening.split_once('.').with_context(|| format!("`{opening}` is not reference.field"))?;
            wanted.entry(id).or_default().extend(senders_of(def, source));
        }
    }
    let mut findings = Vec::new();
    for (id, kinds) in wanted {
        let spec = def.reference(id).with_context(|| format!("unknown reference {id}"))?;
        let df = refs.tables.get(id).with_context(|| format!("reference {id} was not read"))?;
        let present: HashSet<String> = crate::validate::text_column(df, spec.key.get_ref())?.into_iter().collect();
        let file = Path::new(&spec.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let cutoff = refs.cutoff.map(|c| c.written(&def.pipeline.quarter_words)).unwrap_or_default();
        for unit in hierarchy.units.iter().filter(|u| kinds.contains(&&u.kind) && !present.contains(&u.code)) {
            findings.push(
                Finding::builder(def, code::OPENING_MISSING, Severity::Error, "{file} has no opening balance for unit {unit} ({name}) at {cutoff}; its cumulative figures are left blank")
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

/// `code` and one field of a reference table, as `alias`.
fn reference_column(def: &Definition, refs: &References, qualified: &str, alias: &str) -> anyhow::Result<DataFrame> {
    let (id, field) = qualified.split_once('.').with_context(|| format!("`{qualified}` is not reference.field"))?;
    let spec = def.reference(id).with_context(|| format!("unknown reference {id}"))?;
    let df = refs.tables.get(id).with_context(|| format!("reference {id} was not read"))?;
    Ok(df
        .clone()
        .lazy()
        .select([col(spec.key.get_ref().as_str()).alias("code"), col(field).cast(DataType::Int64).alias(alias)])
        .filter(col(alias).is_not_null())
        .group_by([col("code")])
        .agg([col(alias).sum()])
        .collect()?)
}

/// A reference value per unit of the hierarchy (in its order): the unit's own, or else
/// the sum of its children's, flagged as summed. `None` where neither exists.
fn reference_values(
    def: &Definition,
    refs: &References,
    hierarchy: &Hierarchy,
    qualified: &str,
) -> anyhow::Result<(Vec<Option<i64>>, Vec<bool>)> {
    let table = reference_column(def, refs, qualified, "_value")?;
    let codes = crate::validate::text_column(&table, "code")?;
    let values = table.column("_value")?.i64()?.clone();
    let own: HashMap<String, i64> =
        codes.into_iter().zip(values.iter()).filter_map(|(c, v)| v.map(|v| (c, v))).collect();
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for unit in &hierarchy.units {
        children.entry(unit.parent.as_str()).or_default().push(unit.code.as_str());
    }
    fn value(
        code: &str,
        own: &HashMap<String, i64>,
        children: &HashMap<&str, Vec<&str>>,
        depth: usize,
    ) -> (Option<i64>, bool) {
        if let Some(v) = own.get(code) {
            return (Some(*v), false);
        }
        if depth > 16 {
            return (None, false);
        }
        let sum = children
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|c| value(c, own, children, depth + 1).0)
            .reduce(|a, b| a + b);
        (sum, sum.is_some())
    }
    Ok(hierarchy.units.iter().map(|u| value(&u.code, &own, &children, 0)).unzip())
}
