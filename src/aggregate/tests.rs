//! The figures of the mini pipeline from rows given directly: windows, opening balances,
//! unknowns that stay unknown up the hierarchy, summed references, recomputed ratios.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::*;
use crate::testing::{self, frame, hierarchy, october, period};

/// Admissions of the communes: (unit, period, admitted).
const ROWS: [(&str, &str, i64); 5] =
    [("C11", "2023-05", 9), ("C11", "2023-08", 2), ("C11", "2023-10", 3), ("C12", "2023-10", 1), ("C21", "2023-09", 4)];

fn history() -> History {
    history_of(&ROWS)
}

fn history_of(rows: &[(&str, &str, i64)]) -> History {
    let units: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let periods: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let admitted: Vec<i64> = rows.iter().map(|r| r.2).collect();
    let female = vec![0; rows.len()];
    let cells = frame(&[("_unit", &units), ("_period", &periods)], &[("admitted", &admitted), ("female", &female)]);
    History { tables: BTreeMap::from([("r1.cells".to_string(), cells)]), ..Default::default() }
}

/// Targets (code, plan) and opening balances at 2023-06 (code, admitted).
fn references(targets: &[(&str, i64)], opening: &[(&str, i64)]) -> References {
    let table = |rows: &[(&str, i64)], field: &str| {
        let codes: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let values: Vec<i64> = rows.iter().map(|r| r.1).collect();
        frame(&[("code", &codes)], &[(field, &values)])
    };
    References {
        tables: vec![table(targets, "plan"), table(opening, "admitted")],
        unknown: vec![Default::default(), Default::default()],
        missing_fields: vec![Default::default(), Default::default()],
        cutoff: Some(period("2023-06")),
        findings: vec![],
        last_year: None,
    }
}

/// One measure of every unit, by code.
fn figure(figures: &DataFrame, measure: &str) -> Vec<(String, Option<f64>)> {
    let codes = text_column(figures, "code").unwrap();
    let values = figures.column(measure).unwrap().cast(&DataType::Float64).unwrap();
    codes.into_iter().zip(values.f64().unwrap().iter()).collect()
}

fn expect(figures: &DataFrame, measure: &str, values: &[(&str, Option<f64>)]) {
    let want: Vec<(String, Option<f64>)> = values.iter().map(|(c, v)| (c.to_string(), *v)).collect();
    assert_eq!(figure(figures, measure), want, "{measure}");
}

#[test]
fn each_window_adds_its_periods_and_cumulative_ones_the_opening_balance() {
    let plan = testing::plan();
    let refs = references(&[], &[("C11", 10), ("C12", 0), ("C21", 5)]);
    assert_eq!(periods_needed(&plan, october(), refs.cutoff).first(), Some(&period("2023-07")));
    let (figures, _) = aggregate(&plan, &hierarchy(october()), october(), &history(), &refs).unwrap();
    let order = ["P", "D1", "D2", "C11", "C12", "C21"];
    assert_eq!(text_column(&figures, "code").unwrap(), order, "registry order, units valid in the period");
    let with = |values: [f64; 6]| -> Vec<(&str, Option<f64>)> { order.iter().copied().zip(values.map(Some)).collect() };
    expect(&figures, "adm_month", &with([4.0, 4.0, 0.0, 3.0, 1.0, 0.0]));
    // The months after the cut-off (May is in the opening balance); this measure has none.
    expect(&figures, "adm_year", &with([10.0, 6.0, 4.0, 5.0, 1.0, 4.0]));
    expect(&figures, "adm_term", &with([25.0, 16.0, 9.0, 15.0, 1.0, 9.0]));
}

#[test]
fn a_unit_without_an_opening_balance_has_no_cumulative_figure_and_neither_has_any_total_above_it() {
    let plan = testing::plan();
    let refs = references(&[], &[("C11", 10), ("C12", 0)]);
    let h = hierarchy(october());
    let (figures, findings) = aggregate(&plan, &h, october(), &history(), &refs).unwrap();
    expect(
        &figures,
        "adm_term",
        &[("P", None), ("D1", Some(16.0)), ("D2", None), ("C11", Some(15.0)), ("C12", Some(1.0)), ("C21", None)],
    );
    let [missing] = findings.as_slice() else { panic!("{findings:#?}") };
    assert_eq!(
        (missing.code, missing.unit.as_str(), missing.file.as_str()),
        (FindingCode::OpeningMissing, "C21", "opening.xlsx")
    );
    assert_eq!(
        missing.message,
        "opening.xlsx không có số lũy kế đến 06/2023 của đơn vị C21 (Commune C); các số lũy kế của đơn vị và của tổng số để trống."
    );
}

#[test]
fn a_reference_is_the_units_own_or_its_childrens_sum_and_ratios_come_after_the_roll_up() {
    let plan = testing::plan();
    let refs = references(&[("C11", 10), ("C12", 10), ("D2", 50)], &[("C11", 0), ("C12", 0), ("C21", 0)]);
    let (figures, _) = aggregate(&plan, &hierarchy(october()), october(), &history(), &refs).unwrap();
    expect(
        &figures,
        "plan",
        &[
            ("P", Some(70.0)),
            ("D1", Some(20.0)),
            ("D2", Some(50.0)),
            ("C11", Some(10.0)),
            ("C12", Some(10.0)),
            ("C21", None),
        ],
    );
    let summed: Vec<Option<bool>> = figures.column(&summed_column("plan")).unwrap().bool().unwrap().iter().collect();
    assert_eq!(summed, [Some(true), Some(true), Some(false), Some(false), Some(false), Some(false)]);
    // adm_year / plan as a fraction, from the rolled-up counts: never the sum of the
    // children's ratios.
    let pct = figure(&figures, "pct_plan");
    let round = |v: Option<f64>| v.map(|v| (v * 10000.0).round() / 100.0);
    let shown: Vec<_> = pct.iter().map(|(c, v)| (c.as_str(), round(*v))).collect();
    assert_eq!(
        shown,
        [
            ("P", Some(14.29)),
            ("D1", Some(30.0)),
            ("D2", Some(8.0)),
            ("C11", Some(50.0)),
            ("C12", Some(10.0)),
            ("C21", None)
        ]
    );
}

#[test]
fn a_unit_without_its_return_has_no_figure_for_the_period_and_its_cumulative_figures_are_incomplete() {
    let plan = testing::plan();
    let refs = references(&[("C21", 10)], &[("C11", 10), ("C12", 0), ("C21", 5)]);
    // C12 sent nothing for October, C21 nothing for August.
    let sent: Vec<_> = ROWS.iter().copied().filter(|r| r.0 != "C12").collect();
    let mut history = history_of(&sent);
    history.add_gap("r1", "C12", period("2023-10"));
    history.add_gap("r1", "C21", period("2023-08"));
    let (figures, _) = aggregate(&plan, &hierarchy(october()), october(), &history, &refs).unwrap();
    // The totals are the units that reported; C12's own month is no number.
    expect(
        &figures,
        "adm_month",
        &[
            ("P", Some(3.0)),
            ("D1", Some(3.0)),
            ("D2", Some(0.0)),
            ("C11", Some(3.0)),
            ("C12", None),
            ("C21", Some(0.0)),
        ],
    );
    let state = |measure: &str| -> Vec<Option<String>> {
        figures.column(&status_column(measure)).unwrap().str().unwrap().iter().map(|s| s.map(String::from)).collect()
    };
    let some = |s: &str| Some(s.to_string());
    assert_eq!(state("adm_month"), [None, None, None, None, some("missing"), None]);
    assert_eq!(state("adm_term"), [None, None, None, None, some("incomplete"), some("incomplete")]);
    expect(
        &figures,
        "adm_term",
        &[
            ("P", Some(24.0)),
            ("D1", Some(15.0)),
            ("D2", Some(9.0)),
            ("C11", Some(15.0)),
            ("C12", Some(0.0)),
            ("C21", Some(9.0)),
        ],
    );
    // A ratio of an incomplete figure is incomplete.
    assert_eq!(state("pct_plan")[5], some("incomplete"));

    // With the policy `zero`, the missing month shows 0, still marked.
    let zero = testing::plan_with(&format!("{}\n[policy]\nmissing = \"zero\"\n", testing::PIPELINE));
    let (figures, _) = aggregate(&zero, &hierarchy(october()), october(), &history, &refs).unwrap();
    assert_eq!(figure(&figures, "adm_month")[4], ("C12".to_string(), Some(0.0)));
}

#[test]
fn a_sum_too_large_to_be_exact_is_a_finding_not_a_wrapped_number() {
    let plan = testing::plan();
    let units = ["C11"; 10];
    let periods = ["2023-10"; 10];
    let cells = frame(
        &[("_unit", &units), ("_period", &periods)],
        &[("admitted", &[1_000_000_000_000_000; 10]), ("female", &[0; 10])],
    );
    let history = History { tables: BTreeMap::from([("r1.cells".to_string(), cells)]), ..Default::default() };
    let refs = references(&[], &[("C11", 0), ("C12", 0), ("C21", 0)]);
    let (figures, findings) = aggregate(&plan, &hierarchy(october()), october(), &history, &refs).unwrap();
    assert_eq!(figure(&figures, "adm_month")[3], ("C11".to_string(), None));
    let too_large: Vec<_> =
        findings.iter().filter(|f| f.code == FindingCode::FigureTooLarge).map(|f| f.unit.as_str()).collect();
    assert!(too_large.contains(&"C11") && too_large.contains(&"P"), "{too_large:?}");
}

/// The mini pipeline with last year's published admissions by month, the same month and
/// the year to date a year earlier, and their percentages.
fn with_year_ago() -> crate::definition::Plan {
    let months: Vec<String> = (1..=12)
        .map(|m| format!("  {{ field = \"m{m}\", header = \"Admitted {{last_year}}-{m}\", type = \"count\", blank = \"zero\" }},"))
        .collect();
    testing::plan_with(&format!(
        "{}
[[references]]
id = \"last_year\"
file = \"last_year.xlsx\"
key = \"code\"
[references.table]
columns = [
  {{ field = \"code\", header = \"Code\", type = \"text\", required = true }},
{}
]

[[measures]]
id = \"month_ago\"
year_ago = \"adm_month\"
published = \"last_year.m{{month}}\"

[[measures]]
id = \"year_ago\"
year_ago = \"adm_year\"
published = \"last_year.m{{month}}\"

[[measures]]
id = \"pct_month_ago\"
ratio = [\"adm_month\", \"month_ago\"]
",
        testing::PIPELINE,
        months.join("\n")
    ))
}

/// Commune C99 (of D2) closed at the end of 2022: C21 took it over whole. C12 took a part
/// of another commune: it is not compared.
fn last_year(from_inbox: bool) -> crate::model::LastYear {
    let successors = HashMap::from([
        ("C21".to_string(), vec![("C21".to_string(), true), ("C99".to_string(), true)]),
        ("C12".to_string(), vec![("C12".to_string(), false)]),
    ]);
    crate::model::LastYear { hierarchy: hierarchy(period("2022-10")), from_inbox, successors }
}

fn status(figures: &DataFrame, measure: &str) -> Vec<Option<String>> {
    let column = figures.column(&status_column(measure)).unwrap();
    column.str().unwrap().iter().map(|s| s.map(str::to_string)).collect()
}

#[test]
fn the_same_period_a_year_earlier_comes_from_last_years_returns_when_the_inbox_has_them() {
    let plan = with_year_ago();
    let mut rows = ROWS.to_vec();
    rows.extend([("C11", "2022-09", 4), ("C11", "2022-10", 5), ("C12", "2022-10", 2), ("C21", "2022-10", 1)]);
    rows.extend([("C99", "2022-10", 3), ("C99", "2022-03", 6)]);
    let mut refs = references(&[], &[("C11", 10), ("C12", 0), ("C21", 5)]);
    refs.tables.push(DataFrame::empty());
    refs.unknown.push(Default::default());
    refs.missing_fields.push(Default::default());
    refs.last_year = Some(last_year(true));
    let (figures, _) = aggregate(&plan, &hierarchy(october()), october(), &history_of(&rows), &refs).unwrap();
    // D1 is D1 as it was: C11 and C12; C21 is itself and C99; C12 made of a part is not
    // compared (its own row of last year does not make it comparable).
    let month = [("P", Some(11.0)), ("D1", Some(7.0)), ("D2", Some(4.0)), ("C11", Some(5.0)), ("C12", None)];
    expect(&figures, "month_ago", &[month.as_slice(), &[("C21", Some(4.0))]].concat());
    let state = status(&figures, "month_ago");
    assert_eq!(state[4].as_deref(), Some("not_comparable"));
    assert_eq!(state[5], None);
    // The year to date of last year runs from January: C11's September, C99's March.
    let year = [("P", Some(21.0)), ("D1", Some(11.0)), ("D2", Some(10.0)), ("C11", Some(9.0)), ("C12", None)];
    expect(&figures, "year_ago", &[year.as_slice(), &[("C21", Some(10.0))]].concat());
    // This month against it: P admitted 3 + 1 = 4 against 11.
    let pct = figure(&figures, "pct_month_ago");
    assert_eq!(pct[0], ("P".to_string(), Some(4.0 / 11.0)));
    assert_eq!(status(&figures, "pct_month_ago")[4].as_deref(), Some("not_comparable"));
}

#[test]
fn the_same_period_a_year_earlier_comes_from_the_published_figures_else() {
    let plan = with_year_ago();
    let mut refs = references(&[], &[("C11", 10), ("C12", 0), ("C21", 5)]);
    // Published by month: January and October of 2022, the districts' rows missing (their
    // children's sum stands for them), C99's row as it was.
    let codes = ["P", "C11", "C12", "C21", "C99"];
    let mut counts: Vec<(String, Vec<i64>)> = (1..=12).map(|m| (format!("m{m}"), vec![0; 5])).collect();
    counts[0].1 = vec![20, 1, 1, 1, 1];
    counts[9].1 = vec![15, 5, 2, 1, 3];
    let counts: Vec<(&str, &[i64])> = counts.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
    refs.tables.push(frame(&[("code", &codes)], &counts));
    refs.unknown.push(Default::default());
    refs.missing_fields.push(Default::default());
    refs.last_year = Some(last_year(false));
    let (figures, _) = aggregate(&plan, &hierarchy(october()), october(), &history(), &refs).unwrap();
    let month = [("P", Some(15.0)), ("D1", Some(7.0)), ("D2", Some(4.0)), ("C11", Some(5.0)), ("C12", None)];
    expect(&figures, "month_ago", &[month.as_slice(), &[("C21", Some(4.0))]].concat());
    let year = [("P", Some(35.0)), ("D1", Some(9.0)), ("D2", Some(6.0)), ("C11", Some(6.0)), ("C12", None)];
    expect(&figures, "year_ago", &[year.as_slice(), &[("C21", Some(6.0))]].concat());

    // Without last year's table the comparison is unknown, every unit's.
    refs.missing_fields[2] = (1..=12).map(|m| format!("m{m}")).collect();
    let (figures, _) = aggregate(&plan, &hierarchy(october()), october(), &history(), &refs).unwrap();
    assert!(figure(&figures, "month_ago").iter().all(|(_, v)| v.is_none()));
    assert_eq!(status(&figures, "month_ago")[0].as_deref(), Some("unknown"));
}
