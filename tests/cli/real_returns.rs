//! The catalogue of docs/returns.md, "What real returns look like": one test per item.
//!
//! The fixtures (tests/fixtures/returns/files, made by `make.py` with openpyxl,
//! LibreOffice and msoffcrypto-tool) are one Mẫu 01 of Xã Liêm Cần for 10/2023 in every
//! shape units send it. A tidy-or-not variant must give exactly the figures of
//! `clean.xlsx`; a defect must give its finding at its file, sheet and cell, the run going on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::{root, sheet, tonghop};

struct Run {
    _dir: tempfile::TempDir,
    workbook: PathBuf,
    summary: serde_json::Value,
}

/// Consolidate 10/2023 with only `files` in the inbox.
fn run_with(files: &[&str]) -> Run {
    run_pipeline("pipelines/ptdv_monthly.toml", files)
}

fn run_pipeline(pipeline: &str, files: &[&str]) -> Run {
    run_with_reference(pipeline, "reference", files)
}

/// Consolidate 10/2023 with `files` and the reference folder `reference` (under the
/// fixtures: `reference`, or `reference_variants/NAME`).
fn run_with_reference(pipeline: &str, reference: &str, files: &[&str]) -> Run {
    let fixtures = root().join("tests/fixtures/returns");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inbox = data.join("inbox/2023-10");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::create_dir_all(data.join("reference")).unwrap();
    for entry in std::fs::read_dir(fixtures.join(reference)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), data.join("reference").join(entry.file_name())).unwrap();
    }
    for file in files {
        std::fs::copy(fixtures.join("files").join(file), inbox.join(file)).unwrap();
    }
    let out = dir.path().join("out");
    let result = tonghop(&[
        "run",
        "--pipeline",
        pipeline,
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr).to_string();
    assert_eq!(result.status.code(), Some(1), "other units are missing, so 1: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let summary = serde_json::from_slice(&result.stdout).expect("a JSON summary");
    Run { workbook: out.join("Tong_hop_PTDV_2023-10.xlsx"), summary, _dir: dir }
}

const BREAKDOWN: [&str; 8] = [
    "Tổng số",
    "Nữ",
    "Đoàn viên",
    "Học sinh, sinh viên",
    "Người có đạo",
    "Ở khu dân cư",
    "Công nhân DN ngoài nhà nước",
    "Bộ đội xuất ngũ",
];
/// The clean return's figures for Liêm Cần, in BREAKDOWN's order.
const CLEAN: [f64; 8] = [7.0, 4.0, 4.0, 1.0, 1.0, 2.0, 1.0, 0.0];

fn figures(workbook: &Path) -> Vec<f64> {
    let s = sheet(workbook, "Kết nạp theo cơ sở");
    let row = s.row_of("13456");
    BREAKDOWN.iter().map(|sub| s.number(row, s.column("Kết nạp từ đầu nhiệm kỳ", sub))).collect()
}

fn findings(workbook: &Path) -> Vec<HashMap<String, String>> {
    crate::common::findings_sheet(workbook)
}

/// The findings of `file`, as (code, sheet, cell, value).
fn findings_of(run: &Run, file: &str) -> Vec<(String, String, String, String)> {
    findings(&run.workbook)
        .into_iter()
        .filter(|f| f["Tệp"] == file)
        .map(|f| (f["Mã lỗi"].clone(), f["Trang tính"].clone(), f["Ô"].clone(), f["Giá trị"].clone()))
        .collect()
}

fn reads_like_the_clean_return(file: &str) {
    reads_like_the_clean_return_but(file, &[]);
}

/// `file` gives the clean return's figures, with no finding of the unit but the `expected`
/// codes (as a warning or information).
fn reads_like_the_clean_return_but(file: &str, expected: &[&str]) -> Run {
    let run = run_with(&[file]);
    assert_eq!(figures(&run.workbook), CLEAN, "{file}");
    let troubles: Vec<_> = findings(&run.workbook)
        .into_iter()
        .filter(|f| {
            f["Mã đơn vị"] == "13456" && f["Mức độ"] != "Thông tin" && !expected.contains(&f["Mã lỗi"].as_str())
        })
        .collect();
    assert!(troubles.is_empty(), "{file}: {troubles:#?}");
    let rows = &run.summary["rows"];
    assert_eq!(rows["read"], 5, "{file}: the five party cells, not the total row or footer");
    assert_eq!(rows["rejected"], 0, "{file}");
    run
}

macro_rules! tidy_or_not {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                reads_like_the_clean_return($file);
            }
        )*
    };
}

tidy_or_not! {
    clean_return => "clean.xlsx",
    title_block_two_rows_lower => "title_two_rows_lower.xlsx",
    title_block_one_row_higher => "title_one_row_higher.xlsx",
    extra_blank_column_on_the_left => "extra_blank_column.xlsx",
    columns_in_another_order => "columns_reordered.xlsx",
    nfd_text_and_eth_for_dj => "nfd_and_eth_headers.xlsx",
    line_breaks_spaces_case_and_old_tone_marks_in_headers => "untidy_headers.xlsx",
    numbers_as_text_dashes_and_blanks => "numbers_as_text.xlsx",
    total_row_as_formulas_without_cached_values => "total_as_uncached_formulas.xlsx",
    total_row_absent => "no_total_row.xlsx",
    numbered_column_row_missing => "no_numbering_row.xlsx",
    an_optional_column_missing => "optional_column_missing.xlsx",
    blank_rows_inside_and_notes_below => "blank_rows_and_notes.xlsx",
    return_after_a_hidden_sheet => "after_a_hidden_sheet.xlsx",
    return_on_the_second_sheet => "on_the_second_sheet.xlsx",
    period_as_a_date_cell => "period_as_date_cell.xlsx",
    xls_written_by_libreoffice => "libreoffice.xls",
    ods_written_by_libreoffice => "libreoffice.ods",
    xlsx_written_by_libreoffice => "libreoffice.xlsx",
}

#[test]
fn unit_code_missing_is_recognised_by_the_committee_line() {
    let run = reads_like_the_clean_return_but("no_code_named_by_committee.xlsx", &["unit-by-name"]);
    let found = findings_of(&run, "no_code_named_by_committee.xlsx");
    assert_eq!(found, [("unit-by-name".into(), "BC T10".into(), "A2".into(), "ĐẢNG UỶ XÃ LIÊM CẦN".into())]);
}

/// A return whose code names no unit that sends it (unknown, another kind) but whose title
/// block names one is that unit's, with a warning at the line that named it.
fn attributed_by_name(file: &str, code: &str) {
    let run = reads_like_the_clean_return_but(file, &["unit-by-name"]);
    let f = findings(&run.workbook).into_iter().find(|f| f["Tệp"] == file).unwrap();
    assert_eq!((f["Mã lỗi"].as_str(), f["Mức độ"].as_str(), f["Ô"].as_str()), ("unit-by-name", "Cảnh báo", "A2"));
    assert!(
        f["Nội dung"].contains(&format!("mã đơn vị “{code}”")) && f["Nội dung"].contains("13456 Xã Liêm Cần"),
        "{}",
        f["Nội dung"]
    );
}

#[test]
fn a_code_not_in_the_registry_is_the_committee_s_the_title_block_names() {
    attributed_by_name("unknown_code.xlsx", "13999");
}

#[test]
fn a_code_of_another_kind_of_unit_is_the_committee_s_the_title_block_names() {
    attributed_by_name("code_of_a_district.xlsx", "351");
}

#[test]
fn an_ambiguous_committee_name_lists_the_candidates() {
    let run = run_with(&["ambiguous_committee_name.xlsx"]);
    let found = findings_of(&run, "ambiguous_committee_name.xlsx");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "unit-ambiguous");
    assert_eq!(found[0].3, "13426 Xã Tân Sơn; 13555 Xã Tân Sơn");
    assert_eq!(run.summary["files"]["rejected"], 1);
}

fn one_cell_finding(file: &str, code: &str, cell: &str, value: &str) {
    let run = run_with(&[file]);
    let found = findings_of(&run, file);
    assert_eq!(found, [(code.to_string(), "BC T10".to_string(), cell.to_string(), value.to_string())], "{file}");
    // The row is rejected; the others count. The defect sits in a row with no admissions.
    assert_eq!(figures(&run.workbook), CLEAN, "{file}");
    assert_eq!(run.summary["rows"]["read"], 5);
    assert_eq!(run.summary["rows"]["rejected"], 1);
}

#[test]
fn text_where_a_count_belongs() {
    one_cell_finding("text_in_a_count.xlsx", "cell-type", "C13", "3 đv");
}

#[test]
fn a_decimal_in_a_count() {
    one_cell_finding("decimal_in_a_count.xlsx", "cell-not-whole", "F13", "2.5");
}

#[test]
fn a_negative_count() {
    one_cell_finding("negative_count.xlsx", "cell-negative", "G13", "-1");
}

fn file_rejected(file: &str, code: &str, cell: &str, value: &str) {
    let run = run_with(&[file]);
    let found = findings_of(&run, file);
    let ours: Vec<_> = found.iter().filter(|f| f.0 == code).collect();
    assert_eq!(ours.len(), 1, "{file}: {found:?}");
    assert_eq!((ours[0].2.as_str(), ours[0].3.as_str()), (cell, value), "{file}");
    assert_eq!(run.summary["files"]["accepted"], 0, "{file}");
    assert_eq!(run.summary["rows"]["accepted"], 0, "{file}");
}

#[test]
fn a_required_column_missing_rejects_the_file_naming_the_column() {
    file_rejected("required_column_missing.xlsx", "column-missing", "A9", "Đảng viên kết nạp trong tháng - Tổng số");
}

#[test]
fn a_code_not_in_the_registry() {
    file_rejected("unknown_code_unnamed.xlsx", "unit-unknown", "B7", "13999");
}

#[test]
fn a_code_of_another_kind_of_unit() {
    file_rejected("code_of_a_district_unnamed.xlsx", "unit-wrong-kind", "B7", "351");
}

#[test]
fn a_return_for_another_month() {
    file_rejected("another_month.xlsx", "period-other", "F7", "2023-09");
}

#[test]
fn a_resubmission_counts_the_newest_and_lists_the_first() {
    let run = run_with(&["resubmitted_first.xlsx", "resubmitted_second.xlsx"]);
    assert_eq!(figures(&run.workbook), CLEAN, "the corrected second return counts");
    let found = findings_of(&run, "resubmitted_first.xlsx");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "return-superseded");
    assert_eq!(found[0].3, "2023-10-25", "its date line");
    assert_eq!(run.summary["files"]["superseded"], 1);
}

fn not_a_return(file: &str, code: &str, reason: &str) {
    let run = run_with(&[file, "clean.xlsx"]);
    let found = findings_of(&run, file);
    assert_eq!(found.len(), 1, "{file}: {found:?}");
    assert_eq!(found[0].0, code, "{file}");
    assert!(found[0].3.contains(reason), "{file}: {:?}", found[0].3);
    assert_eq!(figures(&run.workbook), CLEAN, "the run goes on with the other files");
}

#[test]
fn an_html_page_saved_as_xls() {
    not_a_return("web_page.xls", "file-unreadable", "trang web (HTML)");
}

#[test]
fn a_password_protected_workbook() {
    not_a_return("password.xlsx", "file-unreadable", "mật khẩu");
}

#[test]
fn a_truncated_workbook() {
    not_a_return("truncated.xlsx", "file-unreadable", "bị hỏng");
}

#[test]
fn an_excel_lock_file() {
    not_a_return("~$clean.xlsx", "file-lock", "");
}

#[test]
fn an_empty_workbook() {
    not_a_return("empty_workbook.xlsx", "file-unreadable", "không có dữ liệu");
}

#[test]
fn a_picture_renamed_xlsx() {
    not_a_return("picture.xlsx", "file-unreadable", "không phải bảng tính");
}

#[test]
fn a_decompression_bomb() {
    not_a_return("decompression_bomb.xlsx", "file-unreadable", "bung ra");
}

#[test]
fn a_cell_in_the_far_corner_neither_aborts_nor_passes_for_a_return() {
    not_a_return("far_corner_cell.xlsx", "not-a-return", "");
}

#[test]
fn the_caps_come_from_the_definition() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    let tight = format!("{text}\n[limits]\nmax_cells = 100\n");
    let pipeline = dir.path().join("tight.toml");
    std::fs::write(&pipeline, tight).unwrap();
    let run = run_pipeline(pipeline.to_str().unwrap(), &["clean.xlsx"]);
    let found = findings_of(&run, "clean.xlsx");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "file-unreadable");
    assert!(found[0].3.contains("trang tính quá lớn"), "{:?}", found[0].3);
}

// ------------------------------------------------------------- the rest of the finding codes

/// The one finding of `code` for `file`, as the findings sheet shows it.
fn the_finding(run: &Run, file: &str, code: &str) -> HashMap<String, String> {
    let all: Vec<_> = findings(&run.workbook).into_iter().filter(|f| f["Tệp"] == file && f["Mã lỗi"] == code).collect();
    assert_eq!(all.len(), 1, "{file}: {:#?}", findings(&run.workbook));
    all.into_iter().next().unwrap()
}

#[test]
fn a_party_cell_listed_twice() {
    let file = "duplicate_party_cell.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "duplicate-key");
    assert_eq!((f["Trang tính"].as_str(), f["Ô"].as_str(), f["Giá trị"].as_str()), ("BC T10", "B14", "Chi bộ thôn 2"));
    assert!(f["Nội dung"].contains("đã có ở dòng 13"), "{}", f["Nội dung"]);
    assert_eq!(run.summary["rows"]["rejected"], 1);
}

#[test]
fn a_row_without_its_party_cell_name() {
    let file = "blank_party_cell_name.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "cell-required");
    assert_eq!(f["Ô"], "B14");
    assert!(f["Nội dung"].contains("bỏ trống"), "{}", f["Nội dung"]);
}

#[test]
fn a_return_without_its_period() {
    let file = "no_period.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "period-missing");
    assert_eq!(f["Yêu cầu"], "2023-10");
    assert_eq!(run.summary["files"]["rejected"], 1);
}

#[test]
fn no_code_and_no_committee_the_registry_knows() {
    let file = "no_code_unknown_committee.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "unit-missing");
    assert!(f["Nội dung"].contains("không ghi mã đơn vị"), "{}", f["Nội dung"]);
    assert_eq!(run.summary["files"]["rejected"], 1);
}

#[test]
fn a_rule_over_the_whole_return_warns_without_rejecting() {
    let file = "implausibly_many.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "rule");
    assert_eq!((f["Mức độ"].as_str(), f["Quy tắc"].as_str()), ("Cảnh báo", "so-ket-nap-hop-ly"));
    assert_eq!(run.summary["files"]["accepted"], 1);
    assert_eq!(figures(&run.workbook)[0], 65.0, "60 + the other cells' 5 still count");
}

#[test]
fn a_decision_for_a_unit_without_its_return() {
    let run = run_with(&["mau02_clean.xlsx"]);
    let f = the_finding(&run, "mau02_clean.xlsx", "reconcile-missing");
    assert_eq!((f["Mã đơn vị"].as_str(), f["Giá trị"].as_str()), ("13456", "7"));
    assert!(f["Nội dung"].contains("chưa gửi Mẫu 01-PTĐV"), "{}", f["Nội dung"]);
}

#[test]
fn mau02_clean_with_its_units_return_has_no_finding() {
    let run = run_with(&["mau02_clean.xlsx", "clean.xlsx"]);
    let found = findings_of(&run, "mau02_clean.xlsx");
    assert!(found.is_empty(), "{found:?}");
    let s = sheet(&run.workbook, "Lớp bồi dưỡng");
    assert_eq!(s.rows().iter().filter(|r| r[0] == "Đảng bộ huyện Thanh Liêm").count(), 2);
}

fn class_defect(file: &str, code: &str, sheet_name: &str, cell: &str, value: &str, words: &str) {
    let run = run_with(&[file]);
    let f = the_finding(&run, file, code);
    assert_eq!((f["Trang tính"].as_str(), f["Ô"].as_str(), f["Giá trị"].as_str()), (sheet_name, cell, value), "{file}");
    assert!(f["Nội dung"].contains(words), "{file}: {}", f["Nội dung"]);
    assert_eq!(run.summary["files"]["accepted"], 1, "{file}: only the row is rejected");
    assert_eq!(run.summary["rows"]["rejected"], 1, "{file}");
}

#[test]
fn a_class_type_not_in_the_list() {
    class_defect(
        "mau02_unknown_class_type.xlsx",
        "cell-value",
        "Lớp bồi dưỡng",
        "C11",
        "Lớp tập huấn nghiệp vụ",
        "không thuộc danh mục",
    );
}

#[test]
fn an_impossible_date() {
    class_defect(
        "mau02_impossible_date.xlsx",
        "cell-date",
        "Lớp bồi dưỡng",
        "D11",
        "31/02/2023",
        "không phải ngày hợp lệ",
    );
}

#[test]
fn a_required_count_left_blank() {
    class_defect("mau02_trainees_blank.xlsx", "cell-required", "Lớp bồi dưỡng", "G11", "", "bắt buộc");
}

#[test]
fn a_class_that_ends_after_the_month() {
    class_defect(
        "mau02_class_ends_next_month.xlsx",
        "rule",
        "Lớp bồi dưỡng",
        "E11",
        "2023-11-03",
        "không thuộc kỳ báo cáo 2023-10",
    );
}

#[test]
fn a_decision_for_a_unit_of_another_district() {
    class_defect(
        "mau02_decision_for_another_district.xlsx",
        "unit-not-under",
        "Quyết định kết nạp",
        "C12",
        "13426",
        "không phải tổ chức cơ sở đảng trực thuộc Đảng bộ huyện Thanh Liêm",
    );
}

#[test]
fn a_decision_listed_twice() {
    class_defect("mau02_decision_twice.xlsx", "duplicate-key", "Quyết định kết nạp", "C12", "13456", "đã có ở dòng 10");
}

#[test]
fn a_return_without_one_of_its_tables() {
    let file = "mau02_without_decisions_sheet.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "table-missing");
    assert_eq!(f["Giá trị"], "mau02.decisions");
    assert!(f["Nội dung"].contains("không có bảng"), "{}", f["Nội dung"]);
    assert_eq!(run.summary["files"]["rejected"], 1);
}

#[test]
fn a_file_that_made_the_reader_panic_is_one_finding() {
    // Found by the fuzz target: calamine's OLE reader panics on it (docs/fuzzing.md); the
    // container check now refuses it first, and a panic would be caught all the same.
    not_a_return("fuzz_cfb_panic.xls", "file-unreadable", "bị hỏng");
}

#[test]
fn an_xls_claiming_billions_of_rows_is_refused_before_decoding() {
    // Found by the fuzz target: calamine would reserve gigabytes for this 9 KB file.
    not_a_return("fuzz_xls_claims_billions_of_rows.xls", "file-unreadable", "bị hỏng");
}

#[test]
fn an_xls_whose_dimensions_run_backwards_is_refused_before_decoding() {
    // Found by the fuzz target: calamine's arithmetic wraps to 2 TB for this file.
    not_a_return("fuzz_xls_backwards_dimensions.xls", "file-unreadable", "trang tính quá lớn");
}

// ------------------------------------------- returns that once gave a wrong figure silently

#[test]
fn a_blank_code_beside_the_period_label_is_no_code_and_the_committee_line_names_the_unit() {
    let run = reads_like_the_clean_return_but("code_left_blank.xlsx", &["unit-by-name"]);
    let found = findings_of(&run, "code_left_blank.xlsx");
    assert_eq!(found, [("unit-by-name".into(), "BC T10".into(), "A2".into(), "ĐẢNG ỦY XÃ LIÊM CẦN".into())]);
    // Without a committee line that names a unit, the return has no code, not the code
    // `Kỳ báo cáo:`.
    file_rejected("code_left_blank_unnamed.xlsx", "unit-missing", "", "");
}

#[test]
fn a_code_of_another_unit_under_a_title_block_naming_this_one_counts_for_neither() {
    let file = "code_of_another_unit.xlsx";
    let run = run_with(&[file]);
    let f = the_finding(&run, file, "unit-mismatch");
    assert_eq!((f["Ô"].as_str(), f["Giá trị"].as_str(), f["Yêu cầu"].as_str()), ("B7", "13441", "13456"));
    assert!(
        f["Nội dung"].contains("Thị trấn Kiện Khê") && f["Nội dung"].contains("13456 Xã Liêm Cần"),
        "{}",
        f["Nội dung"]
    );
    assert_eq!(run.summary["files"]["rejected"], 1);
    assert_eq!(run.summary["rows"]["accepted"], 0, "no unit's figures take the return");
}

#[test]
fn formulas_saved_without_results_are_worked_out_when_they_are_plain_arithmetic() {
    reads_like_the_clean_return("uncached_arithmetic.xlsx");
    // Shared-formula children carry only a reference to their anchor's text.
    reads_like_the_clean_return("uncached_shared_formula_children.xlsx");
}

#[test]
fn a_formula_saved_without_its_result_that_is_not_plain_arithmetic_is_a_finding_at_its_cell() {
    let run = run_with(&["uncached_unsupported.xlsx"]);
    let found = findings_of(&run, "uncached_unsupported.xlsx");
    let formula = ("cell-formula".to_string(), "BC T10".to_string(), "E12".to_string(), "=AVERAGE(2,2)".to_string());
    assert!(found.contains(&formula), "{found:?}");
    assert_eq!(run.summary["rows"]["rejected"], 1, "the row with the unknown figure is refused");
}

#[test]
fn a_total_row_labelled_otherwise_is_still_the_total_row() {
    for file in ["total_labelled_tong.xlsx", "total_labelled_tong_so.xlsx", "total_typed_without_marks.xlsx"] {
        reads_like_the_clean_return(file);
    }
    let run = reads_like_the_clean_return_but("total_marked_tc.xlsx", &["total-unlabelled"]);
    let found = findings_of(&run, "total_marked_tc.xlsx");
    assert_eq!(found, [("total-unlabelled".into(), "BC T10".into(), "B17".into(), "TC".into())]);
}

#[test]
fn figures_under_the_total_row_reject_the_return() {
    file_rejected("row_after_total.xlsx", "row-after-total", "E18", "5");
}

#[test]
fn a_return_held_twice_in_one_file_is_rejected_naming_both() {
    let run = run_with(&["two_sheets_hold_the_return.xlsx"]);
    let f = the_finding(&run, "two_sheets_hold_the_return.xlsx", "table-twice");
    assert!(f["Nội dung"].contains("BC T10") && f["Nội dung"].contains("BC T10 (2)"), "{}", f["Nội dung"]);
    assert_eq!(run.summary["files"]["rejected"], 1);
    file_rejected("column_twice.xlsx", "column-twice", "N9", "Đảng viên kết nạp trong tháng - Tổng số");
    let run = run_with(&["column_twice.xlsx"]);
    let f = the_finding(&run, "column_twice.xlsx", "column-twice");
    assert_eq!(f["Yêu cầu"], "E", "the first of the two columns");
}

#[test]
fn a_date_line_years_away_does_not_decide_which_return_is_the_newest() {
    let run = run_with(&["dated_2032.xlsx", "dated_correction.xlsx"]);
    assert_eq!(figures(&run.workbook), CLEAN, "the return dated 30/10/2023 counts");
    let f = the_finding(&run, "dated_2032.xlsx", "date-implausible");
    assert_eq!((f["Ô"].as_str(), f["Giá trị"].as_str(), f["Mức độ"].as_str()), ("H2", "31/10/2032", "Cảnh báo"));
    assert_eq!(the_finding(&run, "dated_2032.xlsx", "return-superseded")["Yêu cầu"], "dated_correction.xlsx");
}

#[test]
fn counts_no_sum_can_hold_are_a_finding_not_a_wrapped_figure() {
    let run = run_with(&["counts_too_large.xlsx"]);
    let s = sheet(&run.workbook, "Tổng hợp");
    let month = s.column("Kết nạp đảng viên", "Trong tháng");
    assert_eq!(s.text(s.row_of("35"), month), "Chưa rõ", "the province's month is not a number, and says so");
    let too_large: Vec<_> = findings(&run.workbook).into_iter().filter(|f| f["Mã lỗi"] == "figure-too-large").collect();
    assert!(too_large.iter().any(|f| f["Mã đơn vị"] == "35"), "{too_large:#?}");
}

#[test]
fn every_file_under_the_period_folder_is_listed_whatever_its_name_or_folder() {
    let fixtures = root().join("tests/fixtures/returns");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inbox = data.join("inbox/2023-10");
    std::fs::create_dir_all(inbox.join("gui lai")).unwrap();
    crate::common::copy_dir(&fixtures.join("reference"), &data.join("reference"));
    std::fs::copy(fixtures.join("files/clean.xlsx"), inbox.join("gui lai/clean.xlsx")).unwrap();
    // A name in a legacy code page, as old archivers write it: not UTF-8.
    let latin1 = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"b\xe1o c\xe1o.xlsx");
    std::fs::copy(fixtures.join("files/mau02_clean.xlsx"), inbox.join(latin1)).unwrap();
    std::fs::write(inbox.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    let out = dir.path().join("out");
    let result = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["files"]["read"], 3, "{summary}");
    assert_eq!(summary["files"]["accepted"], 2, "{summary}");
    let workbook = out.join("Tong_hop_PTDV_2023-10.xlsx");
    assert_eq!(figures(&workbook), CLEAN, "the return in a subfolder counts");
    let info = sheet(&workbook, "Thông tin").rows();
    let listed: Vec<&str> = info
        .iter()
        .map(|r| r[0].as_str())
        .filter(|n| (n.contains(".xlsx") || n.contains("DS_")) && !n.starts_with("reference/"))
        .collect();
    assert_eq!(listed, [".DS_Store", "b\u{fffd}o c\u{fffd}o.xlsx", "gui lai/clean.xlsx"]);
    let hidden = findings(&workbook).into_iter().find(|f| f["Tệp"] == ".DS_Store").unwrap();
    assert_eq!((hidden["Mã lỗi"].as_str(), hidden["Mức độ"].as_str()), ("file-hidden", "Thông tin"));
}

// ------------------------------------------------ the board's reference files, checked

fn with_reference(variant: &str) -> Run {
    run_with_reference("pipelines/ptdv_monthly.toml", &format!("reference_variants/{variant}"), &["clean.xlsx"])
}

/// The reference findings of a run, as (code, file, cell, unit); not that the fixtures have
/// no table of last year's figures, which is optional.
fn reference_findings(run: &Run) -> Vec<(String, String, String, String)> {
    findings(&run.workbook)
        .into_iter()
        .filter(|f| f["Mã lỗi"].starts_with("reference-") && f["Mã lỗi"] != "reference-unavailable")
        .map(|f| (f["Mã lỗi"].clone(), f["Tệp"].clone(), f["Ô"].clone(), f["Mã đơn vị"].clone()))
        .collect()
}

#[test]
fn a_unit_twice_in_the_opening_balances_is_an_error_and_its_cumulative_figures_unknown() {
    let run = with_reference("opening_twice");
    assert_eq!(
        reference_findings(&run),
        [("reference-duplicate".into(), "luy_ke_dau_ky.xlsx".into(), "A12".into(), "13456".into())]
    );
    let s = sheet(&run.workbook, "Kết nạp theo cơ sở");
    let term = s.column("Kết nạp từ đầu nhiệm kỳ", "Tổng số");
    assert_eq!((s.text(s.row_of("13456"), term), s.text(s.row_of("35"), term)), ("Chưa rõ".into(), "Chưa rõ".into()));
}

#[test]
fn a_unit_missing_from_the_targets_is_an_error_and_every_total_over_it_unknown() {
    let run = with_reference("target_deleted");
    assert_eq!(
        reference_findings(&run),
        [("reference-missing".into(), "chi_tieu.xlsx".into(), "".into(), "351".into())]
    );
    let s = sheet(&run.workbook, "Tổng hợp");
    let target = s.column("Kết nạp đảng viên", "Chỉ tiêu nhiệm kỳ");
    assert_eq!((s.text(s.row_of("351"), target), s.text(s.row_of("35"), target)), ("Chưa rõ".into(), "Chưa rõ".into()));
    assert_eq!(s.number(s.row_of("350"), target), 600.0, "the other districts keep theirs");
}

#[test]
fn a_header_that_lost_its_year_is_named_with_the_year_it_should_have() {
    let run = with_reference("target_year_lost");
    let found: Vec<_> =
        findings(&run.workbook).into_iter().filter(|f| f["Mã lỗi"] == "reference-column-missing").collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["Giá trị"], "Kế hoạch năm 2023");
    let s = sheet(&run.workbook, "Tổng hợp");
    assert_eq!(s.text(s.row_of("351"), s.column("Kết nạp đảng viên", "Kế hoạch năm")), "Chưa rõ");
}

#[test]
fn a_row_for_a_unit_the_registry_does_not_know_is_a_warning() {
    let run = with_reference("target_unknown_unit");
    assert_eq!(
        reference_findings(&run),
        [("reference-unknown-unit".into(), "chi_tieu.xlsx".into(), "A9".into(), "".into())]
    );
}

#[test]
fn a_code_typed_as_a_number_that_lost_its_zero_is_padded_when_one_unit_fits() {
    let run = with_reference("codes_typed_as_numbers");
    assert_eq!(
        reference_findings(&run),
        [("reference-code-padded".into(), "chi_tieu.xlsx".into(), "A2".into(), "0351".into())]
    );
    let s = sheet(&run.workbook, "Tổng hợp");
    assert_eq!(s.number(s.row_of("0351"), s.column("Kết nạp đảng viên", "Chỉ tiêu nhiệm kỳ")), 600.0);
}

#[test]
fn a_registry_that_does_not_hold_together_is_exit_2_naming_each_line() {
    for (variant, message) in [
        ("registry_header_only", "the registry lists no unit"),
        ("registry_parent_blank", "line 6 (unit 13456): a grassroots needs a parent; its figures would add up nowhere"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        crate::common::copy_dir(
            &root().join("tests/fixtures/returns/reference_variants").join(variant),
            &data.join("reference"),
        );
        std::fs::create_dir_all(data.join("inbox/2023-10")).unwrap();
        let out = dir.path().join("out");
        let result = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{variant}: {stderr}");
        assert!(stderr.contains(message), "{variant}: {stderr}");
    }
}
