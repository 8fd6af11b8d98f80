//! The layout of a units sheet, read back from the bytes the report writes: the title
//! block, merged group headers, units grouped with subtotals then the total, fractions
//! for percentages and blanks for unknown figures.

use std::collections::BTreeMap;

use super::*;
use crate::model::{History, References};
use crate::testing::{self, frame, hierarchy, october};
use crate::workbook::{self, Caps, Cell, Grid};

fn units_sheet() -> Grid {
    let plan = testing::plan();
    let h = hierarchy(october());
    let cells = frame(
        &[("_unit", &["C11", "C21"]), ("_period", &["2023-10", "2023-10"])],
        &[("admitted", &[3, 4]), ("female", &[0, 0])],
    );
    let history = History { tables: BTreeMap::from([("r1.cells".to_string(), cells)]), ..Default::default() };
    let refs = References {
        tables: vec![
            frame(&[("code", &["C11"])], &[("plan", &[12])]),
            frame(&[("code", &["C11", "C12"])], &[("admitted", &[5, 0])]),
        ],
        unknown: vec![Default::default(), Default::default()],
        missing_fields: vec![Default::default(), Default::default()],
        cutoff: Some(testing::period("2023-06")),
        findings: vec![],
        last_year: None,
    };
    let (figures, _) = crate::aggregate::aggregate(&plan, &h, october(), &history, &refs).unwrap();
    let identity = crate::project::Identity {
        superior: "SUPERIOR".into(),
        board: "ISSUER".into(),
        place: "Place".into(),
        ..Default::default()
    };
    let input = ReportInput {
        plan: &plan,
        identity: &identity,
        hierarchy: &h,
        period: october(),
        figures: &figures,
        tables: &BTreeMap::new(),
        findings: &[],
        completeness: &[],
        files: &[],
        inputs: &[],
        run_time: "2023-11-02 08:00:00".into(),
        today: chrono::NaiveDate::from_ymd_opt(2023, 11, 2).unwrap(),
    };
    let bytes = render(&input).unwrap();
    let grids = workbook::read(&bytes, Caps::default()).unwrap();
    assert_eq!(grids.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Units", "Findings"]);
    grids.into_iter().next().unwrap()
}

fn text(grid: &Grid, row: usize) -> Vec<String> {
    (0..6).map(|c| grid.get(row, c).text()).collect()
}

#[test]
fn a_units_sheet_groups_its_units_under_subtotals_then_the_total() {
    let grid = units_sheet();
    assert_eq!(text(&grid, 0), ["SUPERIOR", "", "", "MOTTO", "", ""]);
    assert_eq!(text(&grid, 1), ["ISSUER", "", "", "Place, 02/11/2023", "", ""]);
    assert_eq!(grid.get(3, 0).text(), "UNITS");
    assert_eq!(grid.get(4, 0).text(), "Month 10 of 2023");
    // A group label over its sub-labels, single labels spanning both rows.
    assert_eq!(text(&grid, 6), ["Code", "Unit", "Admitted", "", "Plan", ""]);
    assert_eq!(text(&grid, 7), ["", "", "Month", "Term", "Year", "%"]);
    let rows: Vec<Vec<String>> = (8..14).map(|r| text(&grid, r)).collect();
    assert_eq!(
        rows,
        [
            ["C11", "Commune A", "3", "8", "12", "0.25"],
            ["C12", "Commune B", "0", "0", "", ""],
            ["D1", "Sum of District One", "3", "8", "12", "0.25"],
            // No opening balance: the cumulative figure, and every total over it, unknown.
            ["C21", "Commune C", "4", "Chưa rõ", "", ""],
            ["D2", "Sum of District Two", "4", "Chưa rõ", "", ""],
            ["P", "All of Province", "7", "Chưa rõ", "12", "0.5833333333333334"],
        ]
    );
    assert_eq!(grid.get(8, 5), &Cell::Number(0.25), "a percentage is a fraction, formatted 0.0%");
}
