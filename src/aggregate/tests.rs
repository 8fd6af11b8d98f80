//! The figures of the mini pipeline from rows given directly: windows, opening balances,
//! unknowns that stay unknown up the hierarchy, summed references, recomputed ratios.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::*;
use crate::testing::{self, frame, hierarchy, october, period};

/// Admissions of the communes: (unit, period, admitted).
const ROWS: [(&str, &str, i64); 5] =
    [("C11", "2023-05", 9), ("C11", "2023-08", 2), ("C11", "2023-10", 3), ("C12", "2023-10", 1), ("C21", "2023-09", 4)];

fn history() -> BTreeMap<String, DataFrame> {
    let units: Vec<&str> = ROWS.iter().map(|r| r.0).collect();
    let periods: Vec<&str> = ROWS.iter().map(|r| r.1).collect();
    let admitted: Vec<i64> = ROWS.iter().map(|r| r.2).collect();
    let cells = frame(&[("_unit", &units), ("_period", &periods)], &[("admitted", &admitted), ("female", &[0; 5])]);
    BTreeMap::from([("r1.cells".to_string(), cells)])
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
        cutoff: Some(period("2023-06")),
        findings: vec![],
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
    let figures = aggregate(&plan, &hierarchy(october()), october(), &history(), &refs).unwrap();
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
    let figures = aggregate(&plan, &h, october(), &history(), &refs).unwrap();
    expect(
        &figures,
        "adm_term",
        &[("P", None), ("D1", Some(16.0)), ("D2", None), ("C11", Some(15.0)), ("C12", Some(1.0)), ("C21", None)],
    );
    let findings = missing_openings(&plan, &refs, &h, october()).unwrap();
    let [missing] = findings.as_slice() else { panic!("{findings:#?}") };
    assert_eq!(
        (missing.code, missing.unit.as_str(), missing.file.as_str()),
        (FindingCode::OpeningMissing, "C21", "opening.xlsx")
    );
    assert_eq!(
        missing.message,
        "opening.xlsx has no opening balance for unit C21 (Commune C) at 06/2023; its cumulative figures are left blank"
    );
}

#[test]
fn a_reference_is_the_units_own_or_its_childrens_sum_and_ratios_come_after_the_roll_up() {
    let plan = testing::plan();
    let refs = references(&[("C11", 10), ("C12", 10), ("D2", 50)], &[("C11", 0), ("C12", 0), ("C21", 0)]);
    let figures = aggregate(&plan, &hierarchy(october()), october(), &history(), &refs).unwrap();
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
    let summed: Vec<Option<bool>> = figures.column("_summed_plan").unwrap().bool().unwrap().iter().collect();
    assert_eq!(summed, [Some(true), Some(true), Some(false), Some(false), Some(false), Some(false)]);
    // adm_year / plan × 100, from the rolled-up counts: never the sum of the children's ratios.
    let pct = figure(&figures, "pct_plan");
    let round = |v: Option<f64>| v.map(|v| (v * 100.0).round() / 100.0);
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
