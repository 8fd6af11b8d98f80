//! The quarterly party-membership pipeline (`pipelines/dang_vien_quy.toml`, data in
//! `sample_data_dang_vien/` from `scripts/samples/dang_vien.py`): a second, different
//! pipeline on the same engine, with quarters for periods.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::{root, sheet, tonghop};

struct Run {
    workbook: PathBuf,
    summary: serde_json::Value,
    out: tempfile::TempDir,
}

fn run(extra: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let data = root().join("sample_data_dang_vien");
    let mut args = vec![
        "run",
        "--project",
        "sample_data_dang_vien/tonghop.toml",
        "--pipeline",
        "pipelines/dang_vien_quy.toml",
        "--data",
        data.to_str().unwrap(),
    ];
    args.extend(["--out", out.path().to_str().unwrap(), "--json"]);
    args.extend(extra);
    let result = tonghop(&args);
    let stdout = String::from_utf8_lossy(&result.stdout).to_string();
    assert_eq!(
        result.status.code(),
        Some(1),
        "one row breaks the balance rule: {stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // A range prints one summary per period; the workbook named is the last one's.
    let last = summary.as_array().and_then(|all| all.last()).unwrap_or(&summary);
    let period = last["period"].as_str().unwrap().to_string();
    Run { workbook: out.path().join(format!("Tong_hop_SLDV_{period}.xlsx")), summary, out }
}

/// Column indexes of `Số lượng đảng viên`: start, the five flows, end, then the year's flows.
fn columns(s: &crate::common::Sheet) -> ([usize; 7], [usize; 5]) {
    let flows = [
        ("Tăng trong kỳ", "Kết nạp"),
        ("Tăng trong kỳ", "Chuyển đến"),
        ("Giảm trong kỳ", "Chuyển đi"),
        ("Giảm trong kỳ", "Từ trần"),
        ("Giảm trong kỳ", "Khai trừ, xóa tên"),
    ];
    let mut quarter = [s.column_of("Đảng viên đầu kỳ"), 0, 0, 0, 0, 0, s.column_of("Đảng viên cuối kỳ")];
    for (k, (group, sub)) in flows.iter().enumerate() {
        quarter[k + 1] = s.column(group, sub);
    }
    let year =
        ["Kết nạp", "Chuyển đến", "Chuyển đi", "Từ trần", "Khai trừ, xóa tên"].map(|sub| s.column("Từ đầu năm", sub));
    (quarter, year)
}

#[test]
fn the_newest_quarter_is_consolidated_with_its_year_to_date() {
    let run = run(&[]);
    assert_eq!(run.summary["period"], "2025-Q4", "the newest quarter of the inbox");
    assert_eq!(run.summary["files"]["accepted"], 37);
    let s = sheet(&run.workbook, "Số lượng đảng viên");
    assert!(s.rows().iter().any(|r| r[0] == "TỔNG HỢP SỐ LƯỢNG ĐẢNG VIÊN"), "the title");
    assert!(s.rows().iter().any(|r| r[0] == "Quý IV năm 2025"), "the period line");
    let (quarter, year) = columns(&s);
    let figures = |code: &str, cols: &[usize]| -> Vec<f64> {
        let row = s.row_of(code);
        cols.iter().map(|&c| s.number(row, c)).collect()
    };

    assert_eq!(
        figures("13285", &quarter),
        [501.0, 3.0, 10.0, 8.0, 3.0, 0.0, 503.0],
        "Phường Phủ Lý's party cells added up"
    );
    // January-June (8, 6, 1, 8, 2), then Q3 (8, 11, 13, 3, 1), then Q4.
    assert_eq!(figures("13285", &year), [19.0, 27.0, 22.0, 14.0, 3.0]);
    // Xã Nam Lý wrote `Quý 4 năm 2025` and saved in LibreOffice's .ods.
    assert_eq!(figures("13627", &quarter), [274.0, 5.0, 5.0, 5.0, 0.0, 0.0, 279.0]);
    // The province: the 250 accepted rows of 37 returns.
    assert_eq!(s.text(s.row_of("37"), 1), "Toàn Đảng bộ tỉnh");
    assert_eq!(figures("37", &quarter), [13512.0, 189.0, 272.0, 234.0, 72.0, 20.0, 13647.0]);
    assert_eq!(figures("37", &year)[0], 957.0, "admissions from January to December");
    let pct = s.column("Tỷ lệ", "% kết nạp so với đầu kỳ");
    assert!((s.number(s.row_of("37"), pct) - 189.0 / 13512.0).abs() < 1e-12, "recomputed from the totals");
}

#[test]
fn the_balance_rule_rejects_the_row_and_names_its_cell() {
    let run = run(&[]);
    let s = sheet(&run.workbook, "Kiểm tra dữ liệu");
    let rows = s.rows();
    let head = rows.iter().position(|r| r[0] == "Mức độ").expect("a header row");
    let found: Vec<HashMap<String, String>> = rows[head + 1..]
        .iter()
        .map(|r| rows[head].iter().cloned().zip(r.iter().cloned()).collect::<HashMap<_, _>>())
        .filter(|f| !f["Mã lỗi"].is_empty())
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f["Mức độ"], "Lỗi");
    assert_eq!(f["Quy tắc"], "cuoi-ky-bang-dau-ky-cong-tang-tru-giam");
    assert_eq!(f["Mã đơn vị"], "13495");
    assert_eq!(f["Tệp"], "Xã Thanh Liêm - SLDV Q4.xlsx");
    assert_eq!((f["Trang tính"].as_str(), f["Ô"].as_str(), f["Giá trị"].as_str()), ("SLĐV", "I13", "61"));
    assert_eq!(
        f["Nội dung"],
        "Chi bộ số 2: đảng viên cuối kỳ ghi 61, nhưng đầu kỳ 57 + kết nạp 1 + chuyển đến 1 − chuyển đi 1 − từ trần 0 − khai trừ, xóa tên 0 không ra số này."
    );
    // The rejected row counts nowhere: Thanh Liêm's end is its other rows' (467), not 528.
    let t = sheet(&run.workbook, "Số lượng đảng viên");
    let (quarter, _) = columns(&t);
    assert_eq!(t.number(t.row_of("13495"), quarter[6]), 467.0);
    assert_eq!(t.number(t.row_of("13495"), quarter[0]), 458.0);
}

#[test]
fn an_earlier_quarter_and_a_range_of_quarters() {
    let run = run(&["--period", "2025-Q3..2025-Q4"]);
    assert_eq!(run.summary.as_array().map(Vec::len), Some(2), "one summary per quarter");
    let q3 = sheet(&run.out.path().join("Tong_hop_SLDV_2025-Q3.xlsx"), "Số lượng đảng viên");
    let (quarter, year) = columns(&q3);
    let row = q3.row_of("37");
    assert_eq!(q3.number(row, quarter[0]), 13458.0);
    assert_eq!(q3.number(row, quarter[6]), 13569.0);
    assert!(q3.rows().iter().any(|r| r[0] == "Quý III năm 2025"));
    let phu_ly = q3.row_of("13285");
    assert_eq!(q3.number(phu_ly, year[0]), 16.0, "8 to June, 8 in Q3");
    assert!(
        run.out.path().join("work/dang_vien_quy/2025-Q3/merge/manifest.json").exists(),
        "artifacts under the quarter"
    );
}

#[test]
fn the_template_of_a_quarter_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("templates");
    let result = tonghop(&[
        "template",
        "--project",
        "sample_data_dang_vien/tonghop.toml",
        "--pipeline",
        "pipelines/dang_vien_quy.toml",
        "--data",
        "sample_data_dang_vien",
        "--unit",
        "13285",
        "--period",
        "2025-Q4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(0), "{}", String::from_utf8_lossy(&result.stderr));
    let template = out.join("sldv_13285_2025-Q4.xlsx");
    let s = sheet(&template, "SLĐV");
    let rows = s.rows();
    assert!(rows.iter().any(|r| r.contains(&"Quý IV/2025".to_string())), "the period as the pipeline reads it");
    assert!(rows.iter().any(|r| r[0] == "Quý IV năm 2025"));

    // Left blank, it is still read as Phủ Lý's return for 2025-Q4: no rows, no
    // finding about its unit or period. (The year to date needs Q3's folder, empty here.)
    let data = dir.path().join("data");
    crate::common::copy_dir(&root().join("sample_data_dang_vien/reference"), &data.join("reference"));
    std::fs::create_dir_all(data.join("inbox/2025-Q3")).unwrap();
    let inbox = data.join("inbox/2025-Q4");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::copy(&template, inbox.join("phu_ly.xlsx")).unwrap();
    let result = tonghop(&[
        "run",
        "--project",
        "sample_data_dang_vien/tonghop.toml",
        "--pipeline",
        "pipelines/dang_vien_quy.toml",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&result.stderr)));
    assert_eq!(summary["period"], "2025-Q4");
    assert_eq!(summary["files"]["accepted"], 1, "{summary}");
}
