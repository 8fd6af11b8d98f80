//! The new Ninh Bình province after 2025-07-01 (`sample_data_ninh_binh/`, written by
//! `scripts/samples/ninh_binh.py`): two levels, the Hà Nam area's 33 new communes and
//! wards under their real codes plus four provincial organisations, a registry that keeps
//! the old three-level Hà Nam with its validity, returns for 2025-08.

use std::path::{Path, PathBuf};

use crate::common::{root, sheet, tonghop};

struct Run {
    workbook: PathBuf,
    summary: serde_json::Value,
    _out: tempfile::TempDir,
}

fn run() -> Run {
    let out = tempfile::tempdir().unwrap();
    let result = tonghop(&[
        "run",
        "--project",
        "sample_data_ninh_binh/tonghop.toml",
        "--pipeline",
        "pipelines/ptdv_ninh_binh.toml",
        "--data",
        root().join("sample_data_ninh_binh").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout).to_string();
    assert_eq!(
        result.status.code(),
        Some(1),
        "a return is missing and one rejected: {stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    Run {
        workbook: out.path().join("Tong_hop_PTDV_Ninh_Binh_2025-08.xlsx"),
        summary: serde_json::from_str(&stdout).unwrap(),
        _out: out,
    }
}

fn findings(workbook: &Path, code: &str) -> Vec<std::collections::HashMap<String, String>> {
    let s = sheet(workbook, "Kiểm tra dữ liệu");
    let rows = s.rows();
    let head = rows.iter().position(|r| r[0] == "Mức độ").expect("a header row");
    rows[head + 1..]
        .iter()
        .map(|r| rows[head].iter().cloned().zip(r.iter().cloned()).collect::<std::collections::HashMap<_, _>>())
        .filter(|f| f["Mã lỗi"] == code)
        .collect()
}

#[test]
fn the_month_is_consolidated_over_the_two_level_hierarchy_of_its_month() {
    let run = run();
    assert_eq!(run.summary["period"], "2025-08");
    let s = sheet(&run.workbook, "Tổng hợp");
    let (month, year, term) = (
        s.column("Kết nạp", "Trong tháng"),
        s.column("Kết nạp", "Từ đầu năm"),
        s.column("Kết nạp từ đầu nhiệm kỳ", "Tổng số"),
    );

    // 13285 is Phường Quang Trung until 2025-06; in August it is Phường Phủ Lý.
    let phu_ly = s.row_of("13285");
    assert_eq!(s.text(phu_ly, 1), "Phường Phủ Lý");
    assert_eq!(s.number(phu_ly, month), 10.0);
    assert_eq!(s.number(phu_ly, term), 153.0, "143 at 07/2025, and 10 in August");
    assert_eq!(s.number(phu_ly, year), 35.0, "25 at 07/2025, and 10 in August");
    // A provincial organisation, whose return came as an .xls saved by LibreOffice.
    let qs = s.row_of("QS37");
    assert_eq!(s.number(qs, month), 4.0);
    assert_eq!(s.number(qs, term), 116.0, "112 + 4");

    // Two levels: the 37 units, then the province; no district in between. A unit that
    // sent nothing shows so, not a 0.
    let rows = s.rows();
    let figures: Vec<&str> = rows
        .iter()
        .filter(|r| r[month].parse::<f64>().is_ok() || r[month] == "Chưa nộp")
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(figures.len(), 38, "{figures:?}");
    let vinh_tru = s.row_of("13597");
    assert_eq!(s.text(vinh_tru, month), "Chưa nộp", "no valid return: no figure for the month");
    let reporting = s.column_of("Báo cáo hợp lệ / phải nộp");
    assert_eq!((s.text(vinh_tru, reporting), s.text(s.row_of("37"), reporting)), ("0/1".into(), "36/37".into()));
    assert_eq!(figures[37], "37", "the province last");
    let total = s.row_of("37");
    assert_eq!(s.text(total, 1), "Toàn Đảng bộ tỉnh");
    assert_eq!(s.number(total, month), 267.0, "the accepted rows of 36 returns");
}

#[test]
fn a_merged_unit_without_an_opening_balance_is_named_and_its_history_not_invented() {
    let run = run();
    let s = sheet(&run.workbook, "Tổng hợp");
    let (month, year, term) = (
        s.column("Kết nạp", "Trong tháng"),
        s.column("Kết nạp", "Từ đầu năm"),
        s.column("Kết nạp từ đầu nhiệm kỳ", "Tổng số"),
    );
    // Phường Hà Nam was formed from parts of four wards; the board has no balance for it.
    let ha_nam = s.row_of("13366");
    assert_eq!(s.number(ha_nam, month), 7.0, "its own month is known");
    assert_eq!(s.text(ha_nam, term), "Chưa rõ", "term to date unknown, not 7, and said so");
    assert_eq!(s.text(ha_nam, year), "Chưa rõ");
    let total = s.row_of("37");
    assert_eq!(s.text(total, term), "Chưa rõ", "a total with an unknown part is unknown");
    assert_eq!(s.text(total, s.column("Chỉ tiêu nhiệm kỳ", "% đạt")), "Chưa rõ");

    let found = findings(&run.workbook, "opening-missing");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["Mức độ"], "Lỗi");
    assert_eq!(found[0]["Mã đơn vị"], "13366");
    assert_eq!(found[0]["Đơn vị"], "Phường Hà Nam");
    assert_eq!(found[0]["Tệp"], "luy_ke_dau_ky.xlsx");
    assert_eq!(
        found[0]["Nội dung"],
        "luy_ke_dau_ky.xlsx không có số lũy kế đến 07/2025 của đơn vị 13366 (Phường Hà Nam); các số lũy kế của đơn vị và của tổng số để trống."
    );
}

#[test]
fn a_return_from_a_unit_that_no_longer_exists_is_a_finding_at_its_code() {
    let run = run();
    let found = findings(&run.workbook, "unit-not-valid");
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(
        (f["Tệp"].as_str(), f["Trang tính"].as_str(), f["Ô"].as_str(), f["Giá trị"].as_str()),
        ("Phuong Chau Cau - BC PTDV T8.xlsx", "BC T8", "B7", "13294")
    );
    assert!(
        f["Nội dung"].contains("Phường Châu Cầu") && f["Nội dung"].contains("01/2025–06/2025"),
        "{}",
        f["Nội dung"]
    );
    // Rejected, so Phủ Lý's figures are its own return's alone (asserted above), and the
    // missing Vĩnh Trụ is chased.
    assert_eq!(run.summary["files"]["rejected"], 1);
    let missing = findings(&run.workbook, "return-missing");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["Mã đơn vị"], "13597");
    let rule = findings(&run.workbook, "rule");
    assert_eq!(rule.len(), 1);
    assert_eq!(
        (rule[0]["Đơn vị"].as_str(), rule[0]["Ô"].as_str(), rule[0]["Giá trị"].as_str()),
        ("Xã Bình Lục", "F12", "2")
    );
}

#[test]
fn the_same_registry_rolls_2023_up_through_the_districts_of_the_time() {
    // Hà Nam's sample with the Ninh Bình registry (old units and new, with validity):
    // 2023-10 consolidates exactly as with Hà Nam's own registry.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::copy_dir(&root().join("sample_data"), &data);
    std::fs::copy(root().join("sample_data_ninh_binh/reference/don_vi.csv"), data.join("reference/don_vi.csv"))
        .unwrap();
    let consolidate = |data: &Path, out: &Path| {
        let result = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
        assert_eq!(result.status.code(), Some(1), "{}", String::from_utf8_lossy(&result.stderr));
        sheet(&out.join("Tong_hop_PTDV_2023-10.xlsx"), "Tổng hợp").rows()
    };
    let with_both = consolidate(&data, &dir.path().join("out_both"));
    let with_own = consolidate(&root().join("sample_data"), &dir.path().join("out_own"));
    let figures = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter().filter(|r| !r.iter().any(|c| c.contains(", ngày "))).cloned().collect()
    };
    assert_eq!(figures(&with_both), figures(&with_own));
    assert!(with_both.iter().any(|r| r[0] == "347" && r[1] == "Đảng bộ thành phố Phủ Lý"), "a district of 2023");
    assert!(!with_both.iter().any(|r| r[0] == "37"), "no unit of 2025 in 2023");
}

/// The admissions Hà Nam published for August 2024 (and January to August) of each old
/// unit, and the official conversion table's predecessors of a new unit, whole or not.
fn august_2024(code: &str) -> (f64, f64) {
    let rows = sheet(&root().join("sample_data_ninh_binh/reference/cong_bo_nam_truoc.xlsx"), "Năm trước").rows();
    let row = rows.iter().find(|r| r[0] == code).unwrap_or_else(|| panic!("{code} published"));
    let month = |m: usize| row[1 + m].parse::<f64>().unwrap();
    (month(8), (1..=8).map(month).sum())
}

fn predecessors(code: &str) -> Vec<(String, bool)> {
    let table = std::fs::read_to_string(root().join("sample_data_ninh_binh/reference/chuyen_doi_2025-07.csv")).unwrap();
    let rows = table.lines().skip(1).map(|l| l.split(',').map(str::trim).collect::<Vec<_>>());
    rows.filter(|r| r[2] == code).map(|r| (r[4].to_string(), r[5] == "Nhập toàn bộ")).collect()
}

#[test]
fn a_ward_formed_of_whole_wards_is_compared_with_their_sum_and_one_formed_of_parts_is_not() {
    let run = run();
    let s = sheet(&run.workbook, "Tổng hợp");
    let group = "So với cùng kỳ năm trước";
    // Phường Phù Vân: old wards merged whole.
    let whole = predecessors("13291");
    assert!(whole.len() > 1 && whole.iter().all(|(_, w)| *w), "{whole:?}");
    let (month, year): (f64, f64) =
        whole.iter().map(|(c, _)| august_2024(c)).fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let row = s.row_of("13291");
    assert_eq!(s.number(row, s.column(group, "Tháng này năm trước")), month);
    assert_eq!(s.number(row, s.column(group, "Cùng kỳ năm trước")), year);
    let now = s.number(row, s.column(group, "Trong tháng"));
    assert_eq!(s.percent(row, s.column(group, "% so với cùng kỳ")), (now / month * 1000.0).round() / 10.0);
    // Phường Hà Nam: parts of four old wards. And the province itself is new.
    assert!(predecessors("13366").iter().any(|(_, whole)| !whole));
    for code in ["13366", "37"] {
        let row = s.row_of(code);
        assert_eq!(s.text(row, s.column(group, "Tháng này năm trước")), "Không so sánh được", "{code}");
        assert_eq!(s.text(row, s.column(group, "Cùng kỳ năm trước")), "Không so sánh được", "{code}");
    }
}

#[test]
fn a_change_to_the_definition_it_extends_makes_the_stages_stale() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["ptdv_monthly.toml", "ptdv_ninh_binh.toml"] {
        std::fs::copy(root().join("pipelines").join(name), dir.path().join(name)).unwrap();
    }
    let pipeline = dir.path().join("ptdv_ninh_binh.toml");
    let out = dir.path().join("out");
    let data = root().join("sample_data_ninh_binh");
    let run = || {
        let args = ["run", "--pipeline", pipeline.to_str().unwrap(), "--data", data.to_str().unwrap()];
        let result = tonghop(&[&args[..], &["--out", out.to_str().unwrap(), "--json"]].concat());
        let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
        let stages = summary["stages"].as_array().unwrap().clone();
        stages.iter().filter(|s| s["outcome"] == "ran").count()
    };
    assert!(run() > 0);
    assert_eq!(run(), 0, "nothing changed");
    let base = dir.path().join("ptdv_monthly.toml");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replace("[feedback]\n", "[feedback]\n# changed\n")).unwrap();
    assert!(run() > 0, "the base changed: every stage is redone");
}

#[test]
fn every_line_of_the_ninh_binh_definition_is_a_difference_from_the_monthly_one() {
    let pipeline = root().join("pipelines/ptdv_ninh_binh.toml");
    let out = tonghop(&["check", "--pipeline", pipeline.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");

    // What says the monthly definition's word again is said to change nothing, at its line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("pipelines/ptdv_monthly.toml"), dir.path().join("ptdv_monthly.toml")).unwrap();
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let again = text.replace("column_defaults = { width = 8 }", "column_defaults = { format = \"count\", width = 8 }");
    assert_ne!(again, text);
    let copy = dir.path().join("ptdv_ninh_binh.toml");
    std::fs::write(&copy, &again).unwrap();
    let out = tonghop(&["check", "--pipeline", copy.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let line = again.lines().position(|l| l.starts_with("column_defaults = { format")).unwrap() + 1;
    assert!(stderr.contains("`format` is as the definition it extends has it"), "{stderr}");
    assert!(stderr.contains(&format!("ptdv_ninh_binh.toml:{line}:")), "{stderr}");
}
