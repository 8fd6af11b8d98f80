//! The charts under a units sheet: the bar chart, one bar per unit in the table's order,
//! its value written at its end, coloured by attainment band with a legend naming the
//! bands when the definition names them; and the trend, the year's figure to date against
//! the plan's even pace.

use rust_xlsxwriter::{
    Chart as XlsxChart, ChartAxisCrossing, ChartDataLabel, ChartDataLabelPosition, ChartFont, ChartFormat,
    ChartLegendPosition, ChartLine, ChartLineDashType, ChartSolidFill, ChartType,
};

use super::Draw;
use crate::definition::{CellFormat, Chart, Trend, UnitsLayout};
use crate::print::column_points;

/// An attainment band's colours: a cell's fill and text, and a bar's fill (a shade darker,
/// to stand out on paper).
pub(super) struct Band {
    pub(super) fill: &'static str,
    pub(super) text: &'static str,
    bar: &'static str,
}

pub(super) const LOW: Band = Band { fill: "F8CBAD", text: "9C0006", bar: "E46C5A" };
pub(super) const MIDDLE: Band = Band { fill: "FFE699", text: "7F6000", bar: "F2C14E" };
pub(super) const HIGH: Band = Band { fill: "C6EFCE", text: "006100", bar: "6BBF73" };

/// A bar's height and the room over and under the bars, in pixels.
const BAR: u32 = 26;
const FRAME: u32 = 110;
/// A default row, in pixels.
const ROW: u32 = 20;

/// Draws the chart of `chart`'s column over the detail rows `rows` at row `at`, over the
/// first printed page's width; `columns` are the drawn columns of the units' names and of
/// the chart's values, `values` those values. Returns the rows the chart covers.
pub(super) fn bars(
    draw: &mut Draw,
    layout: &UnitsLayout,
    chart: &Chart,
    columns: (usize, usize),
    rows: (u32, u32),
    values: &[Option<f64>],
    at: u32,
) -> anyhow::Result<u32> {
    let column = &layout.columns[chart.column];
    let (sheet, names, column_of_values) = (draw.spec.name.clone(), columns.0 as u16, columns.1 as u16);
    let percent = column.format == CellFormat::Percent;
    let font = |size: f64| {
        let mut font = ChartFont::new();
        font.set_name("Times New Roman").set_size(size);
        font
    };
    let mut label = ChartDataLabel::new();
    label.show_value().set_position(ChartDataLabelPosition::OutsideEnd).set_font(&font(10.0));
    if percent {
        label.set_num_format("0.0%");
    }
    let mut bars = XlsxChart::new(ChartType::Bar);
    match (&layout.attainment, chart.legend.as_slice()) {
        (Some(attainment), [low, middle, high]) => {
            // One series per band, each holding the units of its band, drawn over each
            // other: a bar has its band's colour and the legend names the bands.
            let first_helper = draw.printed.columns as u16 + 1;
            let (lo, hi) = (attainment.low / 100.0, attainment.high / 100.0);
            for (r, value) in (rows.0..=rows.1).zip(values) {
                let Some(v) = *value else { continue };
                let band = if v < lo {
                    0
                } else if v < hi {
                    1
                } else {
                    2
                };
                draw.canvas.sheet()?.write_number_with_format(r, first_helper + band, v, &draw.s.percent.format)?;
            }
            for (band, (name, colours)) in [(low, LOW), (middle, MIDDLE), (high, HIGH)].into_iter().enumerate() {
                let helper = first_helper + band as u16;
                draw.canvas.sheet()?.set_column_hidden(helper)?;
                bars.add_series()
                    .set_categories((sheet.as_str(), rows.0, names, rows.1, names))
                    .set_values((sheet.as_str(), rows.0, helper, rows.1, helper))
                    .set_name(name.as_str())
                    .set_format(ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(colours.bar)))
                    .set_data_label(&label)
                    .set_overlap(100)
                    .set_gap(60);
            }
            bars.show_hidden_data();
            bars.legend().set_position(ChartLegendPosition::Bottom).set_font(&font(10.0));
        }
        _ => {
            bars.add_series()
                .set_categories((sheet.as_str(), rows.0, names, rows.1, names))
                .set_values((sheet.as_str(), rows.0, column_of_values, rows.1, column_of_values))
                .set_name(column.label.display().as_str())
                .set_data_label(&label)
                .set_gap(60);
            bars.legend().set_hidden();
        }
    }
    bars.title().set_name(&chart.title).set_font(font(12.0).set_bold());
    // Units from the top down, as the table lists them, with the values' axis underneath.
    bars.y_axis().set_reverse().set_crossing(ChartAxisCrossing::Max).set_font(&font(10.0));
    // Room right of the longest bar for its label.
    let longest = values.iter().flatten().fold(0.0_f64, |a, &b| a.max(b));
    let step = if percent { 0.2 } else { 10f64.powf(longest.max(1.0).log10().floor()) };
    bars.x_axis().set_font(&font(10.0)).set_min(0.0).set_max(((longest * 1.15) / step).ceil() * step);
    if percent {
        bars.x_axis().set_num_format("0%");
    }
    let units = rows.1 - rows.0 + 1;
    let height = FRAME + BAR * units;
    let shown = draw.first_page_width() as usize;
    let points: f64 = (0..shown).map(|c| column_points(draw.canvas.width(c as u16))).sum();
    bars.set_width((points / 0.75) as u32).set_height(height);
    draw.canvas.sheet()?.insert_chart(at, 0, &bars)?;
    Ok(height.div_ceil(ROW) + 1)
}

/// Under a sheet with a trend: the top unit's figure added up month by month and the
/// year's plan at an even pace, as two rows of a small table (their names in the label
/// column, the months in `months`, which the row `named` names when the sheet's header has
/// them, else a row of the table's own), and a line chart of the two. Returns the rows
/// they cover.
pub(super) fn trend(
    draw: &mut Draw,
    trend: &Trend,
    (label_column, months): (u16, [u16; 12]),
    named: Option<u32>,
    at: u32,
) -> anyhow::Result<u32> {
    let input = draw.input;
    let figures = draw.figures()?;
    let top = input.hierarchy.units.iter().find(|u| u.parent.is_empty()).map(|u| u.code.clone()).unwrap_or_default();
    let plan = figures.number(&top, &input.plan.measure(trend.plan).id);
    let last = input.period.last_month().month;
    let s = draw.s;
    let (header, figure) = (s.header.clone(), s.count.clone());
    let (names, at) = match named {
        Some(row) => (row, at.saturating_sub(1)),
        None => (at, at),
    };
    draw.canvas.text(at + 1, label_column, &trend.labels[0], &s.text)?;
    draw.canvas.text(at + 2, label_column, &trend.labels[1], &s.text)?;
    let mut to_date = Some(0.0);
    for (k, &column) in months.iter().enumerate() {
        let month = k as u32 + 1;
        if named.is_none() {
            draw.canvas.text(at, column, &format!("T{month}"), &header)?;
        }
        let value = figures.number(&top, &super::sheets::month_column(input, trend.measure, month));
        to_date = match (to_date, value) {
            (Some(sum), Some(v)) if month <= last => Some(sum + v),
            _ => None,
        };
        match to_date {
            Some(v) => draw.canvas.number(at + 1, column, v, &figure)?,
            None => draw.canvas.blank(at + 1, column, &figure)?,
        }
        match plan {
            Some(plan) => draw.canvas.number(at + 2, column, plan * f64::from(month) / 12.0, &s.decimal)?,
            None => draw.canvas.blank(at + 2, column, &figure)?,
        }
    }
    let font = |size: f64| {
        let mut font = ChartFont::new();
        font.set_name("Times New Roman").set_size(size);
        font
    };
    let sheet = draw.spec.name.clone();
    let (first, last_column) = (months[0], months[11]);
    let mut lines = XlsxChart::new(ChartType::Line);
    for (row, colour, dash) in [(at + 1, "1F4E79", false), (at + 2, "C00000", true)] {
        let mut line = ChartLine::new();
        line.set_color(colour).set_width(2.25);
        if dash {
            line.set_dash_type(ChartLineDashType::Dash);
        }
        lines
            .add_series()
            .set_categories((sheet.as_str(), names, first, names, last_column))
            .set_values((sheet.as_str(), row, first, row, last_column))
            .set_name((sheet.as_str(), row, label_column))
            .set_format(ChartFormat::new().set_line(&line));
    }
    lines.title().set_name(&trend.title).set_font(font(12.0).set_bold());
    lines.x_axis().set_font(&font(10.0));
    lines.y_axis().set_font(&font(10.0)).set_min(0.0);
    lines.legend().set_position(ChartLegendPosition::Bottom).set_font(&font(10.0));
    let shown = draw.first_page_width() as usize;
    let points: f64 = (0..shown).map(|c| column_points(draw.canvas.width(c as u16))).sum();
    let height = 320;
    lines.set_width((points / 0.75) as u32).set_height(height);
    draw.canvas.sheet()?.insert_chart(at + 4, 0, &lines)?;
    draw.printed.last_row = draw.printed.last_row.max(at + 2);
    Ok(4 + height.div_ceil(ROW) + 1)
}
