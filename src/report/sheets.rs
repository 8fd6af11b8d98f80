//! The kinds of sheet: units with their figures, the rows of a return table, the findings,
//! who has reported, and what the run read.

use std::cmp::Reverse;
use std::collections::HashMap;

use polars::prelude::*;
use rust_xlsxwriter::{ConditionalFormatCell, ConditionalFormatCellRule, Format};

use super::{chart, Draw, Figures, Mark, Written};
use crate::definition::{
    Attainment, CellFormat, CompletenessAttribute, CompletenessLayout, FindingAttribute, Layout, MeasureId,
    MeasureKind, Pace, PaceValue, RowValue, RowsLayout, SheetColumn, UnitAttribute, UnitValue, UnitsLayout,
};
use crate::model::frame::{any_text, text_column};
use crate::model::{tally_by_group, Expectation, Finding, ReturnStatus, Tally};
use crate::registry::{Hierarchy, Unit};

impl Draw<'_, '_> {
    pub(super) fn sheet(&mut self) -> anyhow::Result<()> {
        let spec = self.spec;
        match &spec.layout {
            Layout::Units(layout) => self.units(layout),
            Layout::Rows(layout) => self.rows(layout),
            Layout::Findings(columns) => self.findings(columns),
            Layout::Completeness(layout) => self.completeness(layout),
            Layout::Info => self.info(),
        }
    }

    fn units(&mut self, layout: &UnitsLayout) -> anyhow::Result<()> {
        let input = self.input;
        let figures = self.figures()?;
        let h = input.hierarchy;
        let (columns, origin) = self.columns(&layout.columns)?;
        let width = self.first_page_width();
        let top = self.title_block(width)?;
        let first = self.headers(&columns, top)?;
        let name_of = layout.name_column();
        let name_column = origin.iter().position(|&c| Some(c) == name_of);
        let reporting = self.reporting();
        let mut row = first;
        let mut detail_rows = Vec::new();
        let mut chart_values = Vec::new();
        let mut incomplete = false;
        let mut group_start = first;
        // A sheet of the units behind the plan's pace lists those alone.
        let shown = |u: &Unit| layout.behind.as_ref().is_none_or(|pace| short(input, figures, pace, &u.code) > 0.0);
        for (unit, kind) in unit_rows(h, layout, &shown) {
            let label = match kind {
                UnitRow::Detail => {
                    detail_rows.push(row);
                    None
                }
                UnitRow::Subtotal => Some(layout.subtotal_label.replace("{name}", &unit.name)),
                UnitRow::Total => Some(layout.total_label.replace("{name}", &unit.name)),
            };
            for (k, column) in columns.iter().enumerate() {
                let (value, mark) = match (&label, Some(origin[k]) == name_of, column.value) {
                    (Some(l), true, _) => (Written::Text(l.clone()), Mark::Whole),
                    (_, _, UnitValue::Reporting) => {
                        let (sent, expected) = reporting.get(unit.code.as_str()).copied().unwrap_or_default();
                        (Written::Figure(format!("{sent}/{expected}")), Mark::Whole)
                    }
                    _ => {
                        unit_value(input, figures, &unit.code, (column.value, column.format), layout.behind.as_deref())
                    }
                };
                incomplete |= mark == Mark::Incomplete;
                let charted =
                    layout.chart.as_ref().is_some_and(|c| origin.iter().position(|&o| o == c.column) == Some(k));
                if label.is_none() && charted {
                    let number = if let Written::Number(n) = value { Some(n) } else { None };
                    chart_values.push(number);
                }
                self.write_marked(row, k as u16, value, column.format, label.is_some(), mark)?;
            }
            if matches!(kind, UnitRow::Subtotal) {
                // A district's units and its subtotal print on one page when they fit one.
                self.printed.keep.push((group_start, row));
            }
            row += 1;
            if !matches!(kind, UnitRow::Detail) {
                group_start = row;
            }
        }
        let last = row.saturating_sub(1).max(first);
        let under = row;
        row = self.notes(row, width, incomplete)?;
        self.canvas.sheet()?.set_freeze_panes(first, name_column.map_or(1, |c| c as u16 + 1))?;
        self.canvas.sheet()?.autofilter(first - 1, 0, last, columns.len().max(1) as u16 - 1)?;
        if let Some(attainment) = &layout.attainment {
            self.colour_attainment(&columns, attainment, first, last)?;
        }
        // The signature goes with the notes under the table, or the table's last row, or
        // the chart.
        let mut keep_from = if row > under { under } else { last };
        if let (Some(chart), Some(names), Some(&r0), Some(&r1)) =
            (&layout.chart, name_column, detail_rows.first(), detail_rows.last())
        {
            let values = origin.iter().position(|&c| c == chart.column).unwrap_or(chart.column);
            let rows = chart::bars(self, layout, chart, (names, values), (r0, r1), &chart_values, row + 1)?;
            self.printed.keep.push((row + 1, row + rows));
            keep_from = row + 1;
            row += rows + 1;
        }
        if let Some(trend) = &layout.trend {
            // The months in the sheet's own month columns of the trend's measure, when it
            // has all twelve side by side; else in the twelve after the names.
            let label = name_column.unwrap_or(0) as u16;
            let of_month = |m: u32| columns.iter().position(|c| c.value == UnitValue::Month(trend.measure, m));
            let found: Option<Vec<u16>> = (1..=12).map(|m| of_month(m).map(|k| k as u16)).collect();
            // Their header's last row names the months for the chart.
            let (months, named) = match found {
                Some(ks) if ks.windows(2).all(|w| w[1] == w[0] + 1) => (ks, Some(first - 1)),
                _ => ((1..=12).map(|m| label + m).collect(), None),
            };
            let months: [u16; 12] = months.try_into().unwrap_or([0; 12]);
            let rows = chart::trend(self, trend, (label, months), named, row + 1)?;
            self.printed.keep.push((row + 1, row + rows));
            keep_from = row + 1;
            row += rows + 1;
        }
        self.signature(row, width, keep_from)?;
        Ok(())
    }

    /// Under a table of units: the units that sent no valid return for the period, and
    /// what italics mean when some figure lacks a period. Returns the first row under them.
    fn notes(&mut self, row: u32, width: u16, incomplete: bool) -> anyhow::Result<u32> {
        let marks = &self.input.plan.workbook.marks;
        let h = self.input.hierarchy;
        let missing: Vec<String> = self
            .input
            .completeness
            .iter()
            .filter(|e| e.status != ReturnStatus::Accepted)
            .map(|e| match h.unit(&e.parent) {
                Some(parent) => format!("{} ({})", e.name, parent.name),
                None => e.name.clone(),
            })
            .collect();
        let mut lines = Vec::new();
        if !missing.is_empty() {
            // The first units by name; the completeness sheet lists every one.
            let mut listed = missing.iter().take(NOTED_UNITS).cloned().collect::<Vec<_>>().join("; ");
            if missing.len() > NOTED_UNITS {
                let more = missing.len() - NOTED_UNITS;
                listed = format!("{listed}; {}", marks.missing_more.replace("{count}", &more.to_string()));
            }
            lines.push(marks.missing_note.replace("{units}", &listed));
        }
        if incomplete {
            lines.push(marks.incomplete_note.clone());
        }
        for (i, line) in lines.iter().enumerate() {
            let r = row + 1 + i as u32;
            self.canvas.across(r, 0, width.max(1) - 1, line, &self.s.note)?;
            self.printed.last_row = self.printed.last_row.max(r);
        }
        Ok(row + lines.len() as u32 + u32::from(!lines.is_empty()))
    }

    /// Percentages coloured by attainment: red below `low`, amber up to `high`, green from it.
    fn colour_attainment(
        &mut self,
        columns: &[SheetColumn<UnitValue>],
        attainment: &Attainment,
        first: u32,
        last: u32,
    ) -> anyhow::Result<()> {
        let (low, high) = (attainment.low / 100.0, attainment.high / 100.0);
        for (k, _) in columns.iter().enumerate().filter(|(_, c)| c.format == CellFormat::Percent) {
            let k = k as u16;
            let rules = [
                (ConditionalFormatCellRule::LessThan(low), chart::LOW),
                (ConditionalFormatCellRule::Between(low, high - 1e-9), chart::MIDDLE),
                (ConditionalFormatCellRule::GreaterThanOrEqualTo(high), chart::HIGH),
            ];
            for (rule, band) in rules {
                let format = Format::new().set_background_color(band.fill).set_font_color(band.text);
                let cf = ConditionalFormatCell::new().set_rule(rule).set_format(format);
                self.canvas.sheet()?.add_conditional_format(first, k, last, k, &cf)?;
            }
        }
        Ok(())
    }

    fn rows(&mut self, layout: &RowsLayout) -> anyhow::Result<()> {
        let input = self.input;
        let table = input.plan.table(layout.table);
        let (columns, _) = self.columns(&layout.columns)?;
        let width = self.first_page_width();
        let top = self.title_block(width)?;
        let first = self.headers(&columns, top)?;
        let df = match input.tables.get(&table.name) {
            Some(df) if df.height() > 0 => df.sort(["_unit", "_file", "_row"], SortMultipleOptions::default())?,
            _ => DataFrame::empty(),
        };
        let units = if df.height() > 0 { text_column(&df, "_unit")? } else { vec![] };
        let mut sums = vec![0f64; columns.len()];
        for (i, unit) in units.iter().enumerate() {
            let row = first + i as u32;
            for (k, column) in columns.iter().enumerate() {
                let value = match &column.value {
                    RowValue::Unit(attribute) => Written::Text(unit_text(input.hierarchy, unit, *attribute)),
                    RowValue::Field(field) => {
                        let v = df.column(field)?.get(i)?;
                        match (&v, column.format) {
                            (AnyValue::Null, _) => Written::Blank,
                            (_, CellFormat::Count | CellFormat::Decimal | CellFormat::Percent) => {
                                match v.extract::<f64>() {
                                    Some(n) => {
                                        sums[k] += n;
                                        Written::Number(n)
                                    }
                                    None => Written::Blank,
                                }
                            }
                            (_, CellFormat::Date) => Written::Text(iso_to_vn(&any_text(&v))),
                            _ => {
                                let text = any_text(&v);
                                let category = table.column(field).and_then(|c| c.values.iter().find(|x| x.id == text));
                                Written::Text(category.map_or(text, |x| x.label.clone()))
                            }
                        }
                    }
                };
                self.write(row, k as u16, value, column.format, false)?;
            }
        }
        let total_row = first + df.height() as u32;
        for (k, column) in columns.iter().enumerate() {
            let value = match column.format {
                CellFormat::Count | CellFormat::Decimal => Written::Number(sums[k]),
                _ if k == 0 => Written::Text(layout.total_label.clone()),
                _ => Written::Blank,
            };
            self.write(total_row, k as u16, value, column.format, true)?;
        }
        self.canvas.sheet()?.set_freeze_panes(first, 0)?;
        let last_column = columns.len().max(1) as u16 - 1;
        self.canvas.sheet()?.autofilter(first - 1, 0, total_row.saturating_sub(1).max(first), last_column)?;
        self.signature(total_row + 1, width, total_row)?;
        Ok(())
    }

    /// Every finding, as a clerk chases them: by district in the registry's order (files
    /// no unit could be found for last), unit, then errors before warnings before notes.
    fn findings(&mut self, defined: &[SheetColumn<FindingAttribute>]) -> anyhow::Result<()> {
        let (columns, _) = self.columns(defined)?;
        let width = self.first_page_width();
        let top = self.title_block(width)?;
        let first = self.headers(&columns, top)?;
        let h = self.input.hierarchy;
        let mut order: HashMap<&str, usize> = HashMap::new();
        for (i, unit) in h.units.iter().enumerate() {
            order.entry(unit.name.as_str()).or_insert(i);
        }
        let mut findings: Vec<&Finding> = self.input.findings.iter().collect();
        findings.sort_by_cached_key(|f| {
            let group = order.get(f.group.as_str()).copied().unwrap_or(usize::MAX);
            (
                f.unit.is_empty(),
                group,
                f.unit.clone(),
                Reverse(f.severity),
                f.file.clone(),
                f.row,
                f.cell.clone(),
                f.code,
            )
        });
        let plan = self.input.plan;
        for (i, finding) in findings.iter().enumerate() {
            for (k, column) in columns.iter().enumerate() {
                let text = match column.value {
                    FindingAttribute::Severity => plan.workbook.severity_name(finding.severity),
                    FindingAttribute::Title => plan.finding_title(finding.code.as_str(), &finding.rule),
                    FindingAttribute::Fix => plan.fix(finding.code.as_str(), &finding.rule),
                    attribute => finding.get(attribute),
                };
                self.write(first + i as u32, k as u16, Written::Text(text), CellFormat::Text, false)?;
            }
        }
        let last = first + findings.len().max(1) as u32 - 1;
        self.canvas.sheet()?.autofilter(first - 1, 0, last, columns.len().max(1) as u16 - 1)?;
        self.canvas.sheet()?.set_freeze_panes(first, 0)?;
        let mut row = last + 1;
        // Nothing to correct: said, not left as an empty table.
        if let (true, Some(none)) = (findings.is_empty(), self.spec.labels.get("none")) {
            self.canvas.across(first, 0, width.max(1) - 1, none, &self.s.note)?;
            row = first + 1;
        }
        if self.spec.signed {
            self.signature(row, width, row)?;
        }
        Ok(())
    }

    fn completeness(&mut self, layout: &CompletenessLayout) -> anyhow::Result<()> {
        let input = self.input;
        let h = input.hierarchy;
        let (columns, _) = self.columns(&layout.columns)?;
        let width = self.first_page_width();
        let top = self.title_block(width.max(6))?;
        let first = self.headers(&columns, top)?;
        let (tallies, total) = tally_by_group(h, input.completeness, &layout.group_by);
        let mut row = first;
        let groups =
            tallies.iter().map(|(code, t)| (h.unit(code).map(|u| u.name.clone()).unwrap_or_default(), t, false));
        for (name, tally, is_total) in groups.chain(std::iter::once((self.spec.label("total"), &total, true))) {
            for (k, column) in columns.iter().enumerate() {
                let value = match column.value {
                    CompletenessAttribute::Group => Written::Text(name.clone()),
                    attribute => counted(tally, attribute),
                };
                self.write(row, k as u16, value, column.format, is_total)?;
            }
            row += 1;
        }
        row += 1;
        let Some(title) = &layout.missing_title else { return Ok(()) };
        self.canvas.across(row, 0, width.max(1) - 1, title, &self.s.list_title)?;
        row += 1;
        // The list's six fields over the table's columns: the name, the return and the
        // file over two columns each where the table has eight or more.
        let spans: Vec<(u16, u16)> = if width >= 8 {
            vec![(0, 0), (1, 1), (2, 3), (4, 4), (5, 5), (6, width.max(8) - 1)]
        } else {
            (0..6).map(|k| (k, k)).collect()
        };
        let heads = ["list_group", "list_code", "list_name", "list_return", "list_status", "list_file"];
        for (&(c0, c1), key) in spans.iter().zip(heads) {
            self.canvas.across(row, c0, c1, &self.spec.label(key), &self.s.header)?;
        }
        self.printed.heads.get_or_insert((row, row));
        row += 1;
        let group = |e: &Expectation| h.ancestor_of_kind(&e.unit, &layout.group_by);
        let mut listed: Vec<&Expectation> =
            input.completeness.iter().filter(|e| e.status != ReturnStatus::Accepted).collect();
        listed.sort_by_cached_key(|e| (group(e).map(|g| g.code.clone()), e.unit.clone()));
        for e in listed {
            let cells = [
                group(e).map(|g| g.name.clone()).unwrap_or_default(),
                e.unit.clone(),
                e.name.clone(),
                input.plan.return_by_id(&e.return_id).map(|r| r.title.clone()).unwrap_or_default(),
                self.spec.label(&format!("status_{}", e.status.as_str())),
                e.file.clone(),
            ];
            for (&(c0, c1), text) in spans.iter().zip(&cells) {
                self.canvas.across(row, c0, c1, text, &self.s.text)?;
            }
            self.printed.last_row = row;
            row += 1;
        }
        Ok(())
    }

    fn info(&mut self) -> anyhow::Result<()> {
        let input = self.input;
        let spec = self.spec;
        let s = self.s;
        // File, return, unit, status, three row counts and size print on an A4 landscape
        // page; the SHA-256, for checking a file on disk, is shown on screen only.
        for (k, width) in INFO_WIDTHS.into_iter().enumerate() {
            self.canvas.set_width(k as u16, width)?;
        }
        self.printed.columns = INFO_WIDTHS.len();
        self.printed.blocks = std::iter::once(0..8).collect();
        let top = self.title_block(8)?;
        let read: u32 = input.files.iter().map(|x| x.rows_read).sum();
        let accepted: u32 = input.files.iter().map(|x| x.rows_accepted).sum();
        let rejected: u32 = input.files.iter().map(|x| x.rows_rejected).sum();
        let pipeline = &input.plan.pipeline;
        let facts = [
            (spec.label("pipeline"), format!("{} ({})", pipeline.title, pipeline.name)),
            (spec.label("period"), input.period.to_string()),
            (spec.label("run_time"), input.run_time.clone()),
            (spec.label("version"), format!("tonghop {}", env!("CARGO_PKG_VERSION"))),
            (spec.label("files"), input.files.len().to_string()),
            (spec.label("rows_read"), read.to_string()),
            (spec.label("rows_accepted"), accepted.to_string()),
            (spec.label("rows_rejected"), rejected.to_string()),
        ];
        let mut row = top;
        for (key, value) in &facts {
            self.canvas.text(row, 0, key, &s.total_text)?;
            self.canvas.across(row, 1, 7, value, &s.text)?;
            row += 1;
        }
        row += 1;
        let heads =
            ["file", "return", "unit", "status", "rows_read", "rows_accepted", "rows_rejected", "size", "sha256"];
        for (k, key) in heads.iter().enumerate() {
            self.canvas.text(row, k as u16, &spec.label(key), &s.header)?;
        }
        self.printed.heads = Some((row, row));
        row += 1;
        /// One line of the file list; reference files have no row counts.
        struct Line {
            texts: [String; 4],
            counts: Option<[u32; 3]>,
            size: u64,
            sha256: String,
        }
        let returns = input.files.iter().map(|x| Line {
            texts: [
                x.file.clone(),
                input.plan.return_by_id(&x.return_id).map(|r| r.title.clone()).unwrap_or_default(),
                x.unit.clone(),
                spec.label(&format!("status_{}", x.status.as_str())),
            ],
            counts: Some([x.rows_read, x.rows_accepted, x.rows_rejected]),
            size: x.size,
            sha256: x.sha256.clone(),
        });
        let references = input.inputs.iter().map(|(name, size, sha)| Line {
            texts: [name.clone(), spec.label("reference"), String::new(), String::new()],
            counts: None,
            size: *size,
            sha256: sha.clone(),
        });
        for line in returns.chain(references) {
            for (k, t) in line.texts.iter().enumerate() {
                self.canvas.text(row, k as u16, t, &s.text)?;
            }
            for k in 0..3 {
                match line.counts {
                    Some(counts) => self.canvas.number(row, 4 + k, f64::from(counts[k as usize]), &s.count)?,
                    None => self.canvas.blank(row, 4 + k, &s.count)?,
                }
            }
            self.canvas.number(row, 7, line.size as f64, &s.count)?;
            self.canvas.text(row, 8, &line.sha256, &s.text)?;
            row += 1;
        }
        self.printed.last_row = row.saturating_sub(1);
        Ok(())
    }
}

/// The widths of the info sheet's columns: file, return, unit, status, three row counts,
/// size, SHA-256.
pub(super) const INFO_WIDTHS: [f64; 9] = [40.0, 16.0, 9.0, 14.0, 8.0, 8.0, 8.0, 11.0, 72.0];

/// How many units the note under a table of units names before counting the rest.
const NOTED_UNITS: usize = 30;

/// What a row of a units sheet is.
enum UnitRow {
    Detail,
    Subtotal,
    Total,
}

/// The rows of a units sheet in order: each unit of the level that is `shown`, grouped
/// under its `group_by` ancestor with the group's subtotal after them (a group none of
/// whose units is shown left out), then the total.
fn unit_rows<'a>(h: &'a Hierarchy, layout: &'a UnitsLayout, shown: &dyn Fn(&Unit) -> bool) -> Vec<(&'a Unit, UnitRow)> {
    let mut rows = Vec::new();
    match &layout.group_by {
        Some(group) => {
            // Each unit's group, found once: not once per group and unit.
            let mut members: HashMap<&str, Vec<&Unit>> = HashMap::new();
            for u in h.of_kind(&layout.level).filter(|u| shown(u)) {
                if let Some(a) = h.ancestor_of_kind(&u.code, group) {
                    members.entry(a.code.as_str()).or_default().push(u);
                }
            }
            for g in h.of_kind(group) {
                let Some(members) = members.remove(g.code.as_str()) else { continue };
                rows.extend(members.into_iter().map(|u| (u, UnitRow::Detail)));
                rows.push((g, UnitRow::Subtotal));
            }
        }
        None => rows.extend(h.of_kind(&layout.level).filter(|u| shown(u)).map(|u| (u, UnitRow::Detail))),
    }
    if let Some(total) = &layout.total {
        rows.extend(h.of_kind(total).map(|u| (u, UnitRow::Total)));
    }
    rows
}

fn counted(tally: &Tally, attribute: CompletenessAttribute) -> Written {
    match tally.value(attribute) {
        Some(v) => Written::Number(v),
        None => Written::Blank,
    }
}

/// A unit's code, name, parent code or parent's name.
fn unit_text(hierarchy: &Hierarchy, code: &str, attribute: UnitAttribute) -> String {
    let unit = hierarchy.unit(code);
    match attribute {
        UnitAttribute::Code => code.to_string(),
        UnitAttribute::Name => unit.map(|u| u.name.clone()).unwrap_or_default(),
        UnitAttribute::Parent => unit.map(|u| u.parent.clone()).unwrap_or_default(),
        UnitAttribute::ParentName => {
            unit.and_then(|u| hierarchy.unit(&u.parent)).map(|p| p.name.clone()).unwrap_or_default()
        }
    }
}

/// A unit's cell of a units sheet and its mark: a figure, the missing mark where the
/// unit sent no valid return and its figure is left blank, a text.
fn unit_value(
    input: &super::ReportInput,
    figures: &Figures,
    code: &str,
    (value, format): (UnitValue, CellFormat),
    pace: Option<&Pace>,
) -> (Written, Mark) {
    let measure = |id| figures.number(code, &input.plan.measure(id).id);
    match value {
        UnitValue::Unit(attribute) => (Written::Text(unit_text(input.hierarchy, code, attribute)), Mark::Whole),
        UnitValue::Measure(id) => {
            let mark = figures.mark(code, &input.plan.measure(id).id);
            // A ratio is held as a fraction, which a percentage's format shows as it is and
            // any other format at its scale; other measures hold percent points.
            let scale = match input.plan.measure(id).kind {
                MeasureKind::Ratio { scale, .. } => Some(scale),
                _ => None,
            };
            let written = match (measure(id), mark) {
                (Some(v), _) => Written::Number(match (format == CellFormat::Percent, scale) {
                    (true, Some(_)) => v,
                    (true, None) => v / 100.0,
                    (false, Some(scale)) => v * scale,
                    (false, None) => v,
                }),
                (None, Mark::Missing) => Written::Text(input.plan.workbook.marks.missing.clone()),
                (None, Mark::Unknown) => Written::Text(input.plan.workbook.marks.unknown.clone()),
                (None, Mark::NotComparable) => Written::Text(input.plan.workbook.marks.not_comparable.clone()),
                (None, _) => Written::Blank,
            };
            (written, mark)
        }
        UnitValue::Fraction(a, b) => match (measure(a), measure(b)) {
            (Some(a), Some(b)) => (Written::Figure(format!("{a}/{b}")), Mark::Whole),
            _ => (Written::Blank, Mark::Whole),
        },
        // Drawn by the sheet, which counts the returns once.
        UnitValue::Reporting => (Written::Blank, Mark::Whole),
        UnitValue::Pace(value) => {
            let Some(pace) = pace else { return (Written::Blank, Mark::Whole) };
            let plan = figures.number(code, &input.plan.measure(pace.plan).id);
            let written = match (value, plan) {
                (PaceValue::Due, Some(plan)) => Written::Number(pace.due(plan, input.period)),
                (PaceValue::Short, Some(_)) => Written::Number(short(input, figures, pace, code).max(0.0)),
                (_, None) => Written::Text(input.plan.workbook.marks.unknown.clone()),
            };
            (written, Mark::Whole)
        }
        // The months after the period are still to come.
        UnitValue::Month(_, month) if month > input.period.last_month().month => (Written::Blank, Mark::Whole),
        UnitValue::Month(id, month) => {
            let column = month_column(input, id, month);
            let mark = figures.mark(code, &column);
            let written = match (figures.number(code, &column), mark) {
                (Some(v), _) => Written::Number(v),
                (None, Mark::Missing) => Written::Text(input.plan.workbook.marks.missing.clone()),
                (None, _) => Written::Text(input.plan.workbook.marks.unknown.clone()),
            };
            (written, mark)
        }
    }
}

/// For every unit, the returns of the period that arrived valid from it and the units
/// under it, and how many were expected.
pub(super) fn reporting<'a>(h: &'a Hierarchy, completeness: &[Expectation]) -> foldhash::HashMap<&'a str, (u32, u32)> {
    let mut counts: foldhash::HashMap<&str, (u32, u32)> = foldhash::HashMap::default();
    for e in completeness {
        for unit in h.ancestors(&e.unit) {
            let count = counts.entry(unit.code.as_str()).or_default();
            count.0 += u32::from(e.status == ReturnStatus::Accepted);
            count.1 += 1;
        }
    }
    counts
}

fn iso_to_vn(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

/// The figures' column of a sum over `month` (1-12) of the period's year.
pub(super) fn month_column(input: &super::ReportInput, id: MeasureId, month: u32) -> String {
    let period = crate::model::Period { kind: crate::model::PeriodKind::Month, year: input.period.year, index: month };
    format!("{}__{period}", input.plan.measure(id).id)
}

/// What `unit` lacks of the plan's share due by the period's end: positive when behind;
/// 0 when its figures are not known (a unit that did not report is listed as such, not
/// as behind).
fn short(input: &super::ReportInput, figures: &Figures, pace: &Pace, code: &str) -> f64 {
    let number = |id| figures.number(code, &input.plan.measure(id).id);
    match (number(pace.done), number(pace.plan)) {
        (Some(done), Some(plan)) => pace.due(plan, input.period) - done,
        _ => 0.0,
    }
}
