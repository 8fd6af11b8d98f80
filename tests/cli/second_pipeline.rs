//! A second, unrelated pipeline (tests/fixtures/harvest: communes reporting rice harvests,
//! returns written by openpyxl) runs through the same engine: the engine knows no domain.

use crate::common::{root, sheet, tonghop};

#[test]
fn the_harvest_pipeline_consolidates_its_returns() {
    let out = tempfile::tempdir().unwrap();
    let data = root().join("tests/fixtures/harvest/data");
    let result = tonghop(&[
        "run",
        "--project",
        "tests/fixtures/harvest/tonghop.toml",
        "--pipeline",
        "tests/fixtures/harvest/harvest.toml",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(result.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&result.stderr));
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["period"], "2024-02", "the newest month of the inbox");
    assert_eq!(summary["findings"]["warning"], 2);

    let workbook = out.path().join("Thu_hoach_2024-02.xlsx");
    let s = sheet(&workbook, "Thu hoạch");
    let (area, output, year, households, yield_) = (
        s.column_of("Diện tích (ha)"),
        s.column_of("Sản lượng (tấn)"),
        s.column_of("Sản lượng từ đầu năm (tấn)"),
        s.column_of("Số hộ"),
        s.column_of("Năng suất (tạ/ha)"),
    );
    let x02 = s.row_of("X02");
    assert_eq!(s.number(x02, area), 13.5, "`12,5` typed as text is 12.5 ha");
    assert_eq!(s.number(x02, output), 90.0);
    assert_eq!(s.number(x02, households), 37.0);
    let total = s.row_of("T");
    assert_eq!(s.text(total, 1), "Toàn tỉnh");
    assert_eq!(s.number(total, area), 16.5);
    assert_eq!(s.number(total, output), 106.5);
    assert_eq!(s.number(total, year), 368.75, "January and February");
    assert!((s.number(total, yield_) - 1065.0 / 16.5).abs() < 1e-9, "yield recomputed from the totals");

    let findings = sheet(&workbook, "Kiểm tra");
    let rows = findings.rows();
    let recomputed = rows.iter().find(|r| r[1] == "rule" && r[4] == "F7").expect("the reported yield was checked");
    assert_eq!(recomputed[5], "60.0");
    assert_eq!(recomputed[6], "HTX Hòa Bình: năng suất ghi 60.0 tạ/ha, tính từ diện tích và sản lượng được khác.");
    let warning = rows.iter().find(|r| r[1] == "rule" && r[4] == "D8").expect("the yield rule fired");
    assert_eq!(warning[0], "Cảnh báo");
    assert_eq!(warning[2], "X02");
    assert_eq!(warning[4], "D8");
    assert_eq!(warning[6], "Tổ hợp tác Bắc: sản lượng 20.0 tấn trên 1.0 ha vượt 15 tấn/ha.");
}
