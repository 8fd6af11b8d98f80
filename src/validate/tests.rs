//! Validate's decisions on returns written in memory: the policy, repeated keys, the
//! title block's unit and period, units named in cells.

use crate::model::{FileStatus, Finding, FindingCode, Severity};
use crate::testing::{self, r1, r2, validated, workbook, Cell};

fn codes(findings: &[Finding]) -> Vec<(FindingCode, &str, &str)> {
    findings.iter().map(|f| (f.code, f.file.as_str(), f.cell.as_str())).collect()
}

#[test]
fn a_failing_rule_of_severity_error_rejects_its_row_and_points_at_its_cell() {
    let plan = testing::plan();
    let files = [("a.xlsx", r1("C11", "10/2023", "", &[("Cell 1", 2.0, 3.0), ("Cell 2", 1.0, 0.0)]))];
    let batch = validated(&plan, &files);
    let rule = &batch.findings[0];
    assert_eq!(
        (rule.code, rule.rule.as_str(), rule.severity),
        (FindingCode::Rule, "women-within-all", Severity::Error)
    );
    assert_eq!((rule.sheet.as_str(), rule.cell.as_str(), rule.value.as_str(), rule.row), ("Sheet1", "C6", "3", 6));
    assert_eq!((rule.unit.as_str(), rule.message.as_str()), ("C11", "Cell 1: 3 women of 2"));
    assert_eq!(batch.tables["r1.cells"].height(), 1);
    let file = &batch.files[0];
    assert_eq!((file.status, file.rows_read, file.rows_accepted, file.rows_rejected), (FileStatus::Accepted, 2, 1, 1));
}

#[test]
fn the_policy_decides_which_severities_reject() {
    let lenient = testing::plan_with(&format!("{}\n[policy]\nreject_row = []\nreject_file = []\n", testing::PIPELINE));
    let files =
        [("a.xlsx", r1("C11", "10/2023", "", &[("Cell 1", 2.0, 3.0)])), ("b.xlsx", r1("C77", "10/2023", "", &[]))];
    let batch = validated(&lenient, &files);
    assert_eq!(batch.tables["r1.cells"].height(), 1, "the row stays, with its finding");
    assert!(batch.findings.iter().any(|f| f.code == FindingCode::Rule));
    assert_eq!(batch.files[1].status, FileStatus::Accepted, "an unknown unit does not reject the file either");
}

#[test]
fn a_warning_of_a_return_rule_only_informs() {
    let plan = testing::plan();
    let batch =
        validated(&plan, &[("a.xlsx", r1("C11", "10/2023", "", &[("Cell 1", 15.0, 0.0), ("Cell 2", 10.0, 0.0)]))]);
    let [warning] = batch.findings.as_slice() else { panic!("{:#?}", batch.findings) };
    assert_eq!((warning.code, warning.rule.as_str(), warning.severity), (FindingCode::Rule, "few", Severity::Warning));
    assert_eq!(
        (warning.file.as_str(), warning.unit.as_str(), warning.message.as_str()),
        ("a.xlsx", "C11", "many admitted")
    );
    assert_eq!(batch.tables["r1.cells"].height(), 2);
    assert_eq!(batch.files[0].rows_rejected, 0);
}

#[test]
fn a_repeated_key_is_rejected_at_its_second_row() {
    let plan = testing::plan();
    let cells = [("Cell 1", 1.0, 0.0), ("Cell 2", 1.0, 0.0), ("Cell 1", 2.0, 0.0)];
    let batch = validated(&plan, &[("a.xlsx", r1("C11", "10/2023", "", &cells))]);
    let [duplicate] = batch.findings.as_slice() else { panic!("{:#?}", batch.findings) };
    assert_eq!(codes(&batch.findings), [(FindingCode::DuplicateKey, "a.xlsx", "A8")]);
    assert_eq!(
        duplicate.message,
        "Ô Sheet1!A8 (cột “Cell”): “Cell 1” đã có ở dòng 6 của cùng báo cáo; dòng trùng không được tổng hợp."
    );
    assert_eq!(duplicate.unit, "C11");
    assert_eq!(batch.tables["r1.cells"].height(), 2);
}

#[test]
fn the_title_block_names_a_unit_of_the_period_and_kind_and_the_period() {
    let plan = testing::plan();
    let files = [
        ("unknown.xlsx", r1("C77", "10/2023", "", &[])),
        ("gone.xlsx", r1("C99", "10/2023", "", &[])),
        ("district.xlsx", r1("D1", "10/2023", "", &[])),
        ("september.xlsx", r1("C12", "09/2023", "", &[])),
    ];
    let batch = validated(&plan, &files);
    assert_eq!(
        codes(&batch.findings),
        // In the files' order.
        [
            (FindingCode::UnitWrongKind, "district.xlsx", "B1"),
            (FindingCode::UnitNotValid, "gone.xlsx", "B1"),
            (FindingCode::PeriodOther, "september.xlsx", "B2"),
            (FindingCode::UnitUnknown, "unknown.xlsx", "B1"),
        ]
    );
    assert_eq!(
        batch.findings[1].message,
        "Tệp gone.xlsx: đơn vị C99 (Commune Gone) chỉ có trong danh mục trong thời gian 01/2020–12/2022, không còn (hoặc chưa có) ở kỳ 2023-10; tệp không được tổng hợp."
    );
    assert!(batch.files.iter().all(|f| f.status == FileStatus::Rejected));
}

/// A commune's `r1` whose title block has a committee line: `unit` is the code it gives.
fn named(committee: &str, unit: &str) -> Vec<u8> {
    workbook(&[
        &[Cell::Text(committee)],
        &[Cell::Text("Unit:"), Cell::Text(unit), Cell::Blank, Cell::Text("Period:"), Cell::Text("10/2023")],
        &[],
        &[Cell::Text("Cell"), Cell::Text("Admitted")],
        &[Cell::Blank, Cell::Text("All"), Cell::Text("Women")],
        &[Cell::Text("Cell 1"), Cell::Number(1.0), Cell::Number(0.0)],
    ])
}

#[test]
fn a_return_without_a_code_is_its_committee_s_when_the_title_block_names_one() {
    let plan = testing::plan();
    let batch = validated(&plan, &[("named.xlsx", named("ĐẢNG ỦY XÃ A", ""))]);
    assert_eq!(codes(&batch.findings), [(FindingCode::UnitByName, "named.xlsx", "A1")]);
    let finding = &batch.findings[0];
    assert_eq!(
        (finding.severity, finding.value.as_str(), finding.expected.as_str()),
        (Severity::Warning, "ĐẢNG ỦY XÃ A", "C11 Commune A")
    );
    assert_eq!(batch.files[0].unit, "C11");
    assert_eq!(batch.files[0].status, FileStatus::Accepted);
    let units = crate::model::frame::text_column(&batch.tables["r1.cells"], "_unit").unwrap();
    assert_eq!(units, ["C11"], "the rows take the unit found by name");
}

#[test]
fn a_label_beside_an_empty_code_is_not_the_code() {
    let plan = testing::plan();
    // `Unit:` then nothing, then the next label: no code at all, not the code `Period:`.
    let batch = validated(&plan, &[("nocode.xlsx", named("ĐẢNG ỦY", ""))]);
    assert_eq!(codes(&batch.findings), [(FindingCode::UnitMissing, "nocode.xlsx", "")]);
}

#[test]
fn a_code_no_unit_sends_under_is_attributed_by_the_name_the_title_block_gives() {
    let plan = testing::plan();
    for code in ["C77", "C99", "D1"] {
        let batch = validated(&plan, &[("typo.xlsx", named("ĐẢNG ỦY XÃ A", code))]);
        assert_eq!(codes(&batch.findings), [(FindingCode::UnitByName, "typo.xlsx", "A1")], "{code}");
        assert_eq!(batch.files[0].unit, "C11", "{code}");
        assert!(
            batch.findings[0].message.contains(&format!("mã đơn vị “{code}” không phải đơn vị gửi biểu này")),
            "{}",
            batch.findings[0].message
        );
    }
}

#[test]
fn a_code_of_one_unit_on_a_return_that_names_another_counts_for_neither() {
    let plan = testing::plan();
    let batch = validated(&plan, &[("swapped.xlsx", named("ĐẢNG ỦY XÃ A", "C12"))]);
    assert_eq!(codes(&batch.findings), [(FindingCode::UnitMismatch, "swapped.xlsx", "B2")]);
    let finding = &batch.findings[0];
    assert_eq!((finding.unit.as_str(), finding.value.as_str(), finding.expected.as_str()), ("C12", "C12", "C11"));
    assert_eq!(
        finding.message,
        "Tệp swapped.xlsx: mã đơn vị C12 (ô Sheet1!B2) là Commune B, nhưng tiêu đề ghi C11 Commune A (ô A1: “ĐẢNG ỦY XÃ A”); tệp không được tổng hợp cho đơn vị nào đến khi mã và tên khớp nhau."
    );
    assert_eq!(batch.files[0].status, FileStatus::Rejected);
    // The title block naming the unit of the code is no conflict.
    let batch = validated(&plan, &[("same.xlsx", named("ĐẢNG ỦY XÃ A", "C11"))]);
    assert!(batch.findings.is_empty(), "{:#?}", batch.findings);
}

#[test]
fn a_decision_for_a_commune_of_another_district_is_rejected_at_its_cell() {
    let plan = testing::plan();
    let batch = validated(&plan, &[("d1.xlsx", r2("D1", "10/2023", &[("C11", 1.0), ("C21", 2.0)]))]);
    assert_eq!(codes(&batch.findings), [(FindingCode::UnitNotUnder, "d1.xlsx", "A6")]);
    assert_eq!(batch.findings[0].unit, "D1");
    assert_eq!(batch.tables["r2.decisions"].height(), 1);
}
