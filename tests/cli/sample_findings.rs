//! The mess planted in the sample's October returns is found at the right file, sheet and
//! cell; what real returns do that is merely untidy is read without a finding; and every
//! row read is accounted for.

use crate::common::{findings_sheet, sample, sheet, tonghop};

fn findings() -> Vec<std::collections::HashMap<String, String>> {
    findings_sheet(&sample().workbook)
}

fn finding(code: &str, file: &str) -> std::collections::HashMap<String, String> {
    findings()
        .into_iter()
        .find(|f| f["Mã lỗi"] == code && f["Tệp"] == file)
        .unwrap_or_else(|| panic!("no {code} finding for {file}: {:#?}", findings()))
}

#[test]
fn text_in_a_count_is_found_at_its_cell() {
    let f = finding("cell-type", "Xa Van Xa - PTDV thang 10.xlsx");
    assert_eq!((f["Trang tính"].as_str(), f["Ô"].as_str(), f["Giá trị"].as_str()), ("BC T10", "C12", "3 đv"));
    assert_eq!(f["Mức độ"], "Lỗi");
    assert_eq!(f["Mã đơn vị"], "13417");
    assert_eq!(f["Huyện, khối"], "Đảng bộ huyện Kim Bảng");
    assert!(f["Nội dung"].contains("không phải là số"), "{}", f["Nội dung"]);
}

#[test]
fn an_of_which_above_its_total_is_found_at_its_cell() {
    let f = finding("rule", "Xa Lien Son - PTDV thang 10.xlsx");
    assert_eq!(f["Quy tắc"], "trong-do-khong-vuot-tong");
    assert_eq!((f["Ô"].as_str(), f["Giá trị"].as_str()), ("F12", "2"));
    assert_eq!(
        f["Nội dung"],
        "Chi bộ thôn 1: số “Đảng viên kết nạp trong tháng - Nữ” (2) lớn hơn tổng số kết nạp (0); số “trong đó” không được vượt tổng số."
    );
}

#[test]
fn file_level_defects() {
    // A mistyped code, the committee line naming the unit: counted, with a warning.
    let f = finding("unit-by-name", "Xa Thanh Tan - PTDV thang 10.xlsx");
    assert_eq!((f["Mức độ"].as_str(), f["Ô"].as_str(), f["Mã đơn vị"].as_str()), ("Cảnh báo", "A2", "13477"));
    assert!(f["Nội dung"].contains("“13999”"), "{}", f["Nội dung"]);
    // No code, and a committee line cut short: nobody's return.
    let f = finding("unit-missing", "bao cao thang 10 phuong minh khai.xlsx");
    assert_eq!(f["Mức độ"], "Lỗi");
    let f = finding("period-other", "bao cao thang 9 xa dai cuong.xlsx");
    assert_eq!((f["Ô"].as_str(), f["Giá trị"].as_str(), f["Yêu cầu"].as_str()), ("F7", "2023-09", "2023-10"));
    let f = finding("file-unreadable", "bao cao tu cong thong tin.xls");
    assert!(f["Giá trị"].contains("HTML"), "{}", f["Giá trị"]);
    let f = finding("file-lock", "~$BC PTDV T10 Lien Can.xlsx");
    assert_eq!(f["Mức độ"], "Thông tin");
    let f = finding("return-superseded", "BC PTDV T10 Tran Hung Dao (ban cu).xlsx");
    assert_eq!(f["Yêu cầu"], "bao cao thang 10 phuong tran hung dao.xlsx");
}

#[test]
fn a_wrong_total_row_is_a_warning_at_its_cell() {
    let f = finding("total-mismatch", "bao cao thang 10 xa dong hoa.xlsx");
    assert_eq!(
        (f["Mức độ"].as_str(), f["Ô"].as_str(), f["Giá trị"].as_str(), f["Yêu cầu"].as_str()),
        ("Cảnh báo", "E20", "2", "0")
    );
}

#[test]
fn a_decision_that_does_not_match_the_units_return_names_both_files() {
    let f = findings().into_iter().find(|f| f["Mã lỗi"] == "reconcile").expect("a reconcile finding");
    assert_eq!(f["Mã đơn vị"], "13501");
    assert!(f["Nội dung"].contains("BC boi duong ket nap T10 Dang bo huyen Binh Luc.xlsx"), "{}", f["Nội dung"]);
    assert!(f["Nội dung"].contains("ghi 2 đảng viên"), "{}", f["Nội dung"]);
    assert!(f["Nội dung"].contains("ghi 1."), "{}", f["Nội dung"]);
}

#[test]
fn missing_units_are_named() {
    let missing: Vec<String> =
        findings().into_iter().filter(|f| f["Mã lỗi"] == "return-missing").map(|f| f["Mã đơn vị"].clone()).collect();
    // By district in the registry's order: Phủ Lý, then Bình Lục.
    assert_eq!(missing, ["13294", "13528"]);
    let s = sheet(&sample().workbook, "Tình hình nộp báo cáo");
    // Group, code, name over two columns, return, status, file.
    let listed: Vec<String> = s.rows().into_iter().filter(|r| r[5] == "Chưa nộp").map(|r| r[1].clone()).collect();
    assert_eq!(listed, ["13294", "13528"]);
}

#[test]
fn untidy_returns_are_read_without_a_finding() {
    // Moved title block and blank column, NFD headers with Ð and line breaks, text numbers
    // and dashes, uncached total formulas, reordered columns, a hidden draft sheet.
    let untidy = ["13456", "13288", "13363", "13381", "13495", "13573"];
    let all = findings();
    for unit in untidy {
        assert!(all.iter().all(|f| f["Mã đơn vị"] != unit), "unit {unit} has findings: {all:#?}");
    }
    assert_eq!(all.len(), 12, "{all:#?}");
}

#[test]
fn every_row_read_is_accepted_or_rejected() {
    let s = &sample().summary;
    let rows = &s["rows"];
    assert_eq!(rows["read"].as_u64().unwrap(), rows["accepted"].as_u64().unwrap() + rows["rejected"].as_u64().unwrap());
    assert_eq!(s["files"]["read"], 138);
    assert_eq!(s["files"]["superseded"], 1);
    assert_eq!(s["returns_missing"], 2);

    // The information sheet shows the same counts, per file and in total.
    let info = sheet(&sample().workbook, "Thông tin");
    let rows_sheet = info.rows();
    let fact = |label: &str| rows_sheet.iter().find(|r| r[0] == label).map(|r| r[1].clone()).unwrap();
    assert_eq!(fact("Số dòng đã đọc"), rows["read"].to_string());
    assert_eq!(fact("Số dòng hợp lệ"), rows["accepted"].to_string());
    assert_eq!(fact("Số dòng bị loại"), rows["rejected"].to_string());
    let head = rows_sheet.iter().position(|r| r[0] == "Tệp").unwrap();
    // The file list: name, return, unit, status, rows read, accepted, rejected, size, SHA-256.
    let (read, accepted, rejected) = (4, 5, 6);
    assert_eq!(rows_sheet[head][read], "Số dòng đã đọc");
    let per_file: Vec<(f64, f64, f64)> = (head + 1..rows_sheet.len())
        .filter(|&r| !rows_sheet[r][read].is_empty())
        .map(|r| (info.number(r, read), info.number(r, accepted), info.number(r, rejected)))
        .collect();
    assert_eq!(per_file.len(), 138);
    assert!(per_file.iter().all(|(r, a, j)| r == &(a + j)));
    assert_eq!(per_file.iter().map(|p| p.0).sum::<f64>(), rows["read"].as_f64().unwrap());
}

#[test]
fn findings_json_has_a_versioned_schema_and_every_finding() {
    let json = sample().workbook.with_extension("findings.json");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(document["schema"], "tonghop.findings/1");
    assert_eq!(document["period"], "2023-10");
    let all = document["findings"].as_array().unwrap();
    assert_eq!(all.len(), findings().len());
    let cell_type = all.iter().find(|f| f["code"] == "cell-type").unwrap();
    assert_eq!(cell_type["cell"], "C12");
    assert_eq!(cell_type["sheet"], "BC T10");
    assert_eq!(cell_type["unit"], "13417");
    assert_eq!(cell_type["severity"], "error");
    assert!(sample().workbook.with_extension("findings.parquet").exists());
    let outputs = sample().summary["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 3, "{outputs:?}");
}

#[test]
fn status_prints_the_reporting_rate_and_names_the_missing() {
    let out = tempfile::tempdir().unwrap();
    let result = tonghop(&["status", "--out", out.path().to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(1));
    let text = String::from_utf8_lossy(&result.stdout);
    let line =
        |start: &str| text.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("{text}")).to_string();
    let words = |l: String| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    // Then on time, late, undated and the rate on time (the deadline is the 30th).
    let bl = ["19", "18", "18", "0", "0", "1", "94.7%", "17", "1", "0", "89.5%"];
    assert_eq!(words(line("Đảng bộ huyện Bình Lục"))[5..], bl);
    assert_eq!(words(line("Toàn tỉnh"))[2..], ["135", "133", "133", "0", "1", "2", "98.5%", "129", "3", "1", "95.6%"]);
    assert!(text.contains("13528 Xã An Ninh | Mẫu 01-PTĐV | Chưa nộp"), "{text}");
    assert!(text.contains("13294 Phường Minh Khai | Mẫu 01-PTĐV | Chưa nộp"), "{text}");
}
