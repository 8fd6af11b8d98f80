//! Templates round-trip: every expected unit's blank return, as `tonghop template --all`
//! writes it, is read back with no finding; one filled programmatically and one filled
//! through openpyxl and LibreOffice give their figures and no finding.

use std::path::{Path, PathBuf};

use crate::common::{consolidated_copy, copy_dir, root, sheet, tonghop};
use tonghop::definition;
use tonghop::period::Period;
use tonghop::registry::Registry;
use tonghop::template::{self, Fill};

/// Every expected unit's blank return for 2023-10, as `tonghop template --all` writes
/// them, once for all the tests.
fn blank_templates() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = tonghop(&["template", "--all", "--period", "2023-10", "--out", dir.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 135, "125 Mẫu 01 and 10 Mẫu 02");
        dir
    })
    .path()
}

/// The sample's data with October's inbox replaced by every unit's blank template.
fn data_with_templates(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    copy_dir(&root().join("sample_data"), &data);
    let october = data.join("inbox/2023-10");
    std::fs::remove_dir_all(&october).unwrap();
    copy_dir(blank_templates(), &october);
    data
}

fn findings(workbook: &Path) -> Vec<Vec<String>> {
    let rows = sheet(workbook, "Kiểm tra dữ liệu").rows();
    let head = rows.iter().position(|r| r[0] == "Mức độ").unwrap();
    rows[head + 1..].to_vec()
}

/// Template options that fill the data cells with `fill`.
fn filled_with<'a>(fill: template::Filler<'a>) -> template::Options<'a> {
    template::Options { fill: Some(fill), ..Default::default() }
}

#[test]
fn every_expected_units_blank_template_reads_back_with_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_templates(dir.path());
    let out = consolidated_copy();
    let out = out.path();
    let result = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(result.status.code(), Some(0), "{summary}");
    assert_eq!(summary["files"]["accepted"], 135);
    assert_eq!(summary["returns_missing"], 0);
    assert!(findings(&out.join("Tong_hop_PTDV_2023-10.xlsx")).is_empty());
}

const CELLS: [(&str, [f64; 10]); 5] = [
    ("Chi bộ thôn 1", [2.0, 1.0, 2.0, 1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
    ("Chi bộ thôn 2", [0.0; 10]),
    ("Chi bộ thôn 3", [1.0, 1.0, 3.0, 2.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0]),
    ("Chi bộ thôn 4", [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
    ("Chi bộ thôn 5", [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
];
const FIELDS: [&str; 10] = [
    "nominated",
    "certified",
    "admitted",
    "female",
    "youth_union",
    "students",
    "religious",
    "residential",
    "private_workers",
    "veterans",
];

fn filled_returns(october: &Path) {
    let plan = definition::load(&root().join("pipelines/ptdv_monthly.toml")).unwrap();
    let registry = Registry::load(&root().join("sample_data/reference/don_vi.csv"), &plan.registry.levels).unwrap();
    let period: Period = "2023-10".parse().unwrap();
    let hierarchy = registry.hierarchy(period, &plan.registry.levels).unwrap();

    let mau01 = plan.return_by_id("mau01").unwrap();
    let cells = |_: &str, row: usize, field: &str| -> Option<Fill> {
        let (name, values) = CELLS.get(row)?;
        match field {
            "cell_name" => Some(Fill::Text(name.to_string())),
            f => FIELDS.iter().position(|x| *x == f).map(|k| Fill::Number(values[k])),
        }
    };
    let unit = hierarchy.unit("13456").unwrap();
    let bytes = template::render(&plan, mau01, &hierarchy, unit, period, &filled_with(&cells)).unwrap();
    std::fs::write(october.join("mau01_13456_2023-10.xlsx"), bytes).unwrap();

    let mau02 = plan.return_by_id("mau02").unwrap();
    let district = |table: &str, row: usize, field: &str| -> Option<Fill> {
        let text = |t: &str| Some(Fill::Text(t.to_string()));
        match (table, row, field) {
            ("classes", 0, "class_name") => text("Bồi dưỡng nhận thức về Đảng, khóa 9/2023"),
            ("classes", 0, "class_type") => text("Nhận thức về Đảng"),
            ("classes", 0, "start_date") => text("09/10/2023"),
            ("classes", 0, "end_date") => text("13/10/2023"),
            ("classes", 0, "venue") => text("Trung tâm Chính trị huyện Thanh Liêm"),
            ("classes", 0, "trainees") => Some(Fill::Number(48.0)),
            ("classes", 0, "certified") => Some(Fill::Number(47.0)),
            ("decisions", 0, "unit_name") => text("Xã Liêm Cần"),
            ("decisions", 0, "unit_code") => text("13456"),
            ("decisions", 0, "admitted_decided") => Some(Fill::Number(7.0)),
            _ => None,
        }
    };
    let unit = hierarchy.unit("351").unwrap();
    let bytes = template::render(&plan, mau02, &hierarchy, unit, period, &filled_with(&district)).unwrap();
    std::fs::write(october.join("mau02_351_2023-10.xlsx"), bytes).unwrap();
}

/// Run the data directory; the run must end clean, with no finding at all.
fn consolidated_with_no_finding(data: &Path, out: &Path) -> PathBuf {
    let result = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(result.status.code(), Some(0), "{}", String::from_utf8_lossy(&result.stderr));
    let workbook = out.join("Tong_hop_PTDV_2023-10.xlsx");
    assert!(findings(&workbook).is_empty(), "{:?}", findings(&workbook));
    workbook
}

fn month_figures(workbook: &Path, code: &str) -> f64 {
    let s = sheet(workbook, "Kết nạp theo cơ sở");
    s.number(s.row_of(code), s.column("Kết nạp", "Trong tháng"))
}

#[test]
fn filled_templates_give_their_figures_and_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_templates(dir.path());
    filled_returns(&data.join("inbox/2023-10"));
    let out = consolidated_copy();
    let workbook = consolidated_with_no_finding(&data, out.path());
    assert_eq!(month_figures(&workbook, "13456"), 7.0);
    let classes = sheet(&workbook, "Lớp bồi dưỡng").rows();
    assert!(classes.iter().any(|r| r[1] == "Bồi dưỡng nhận thức về Đảng, khóa 9/2023" && r[6] == "48"), "{classes:?}");
}

#[test]
fn a_template_filled_through_libreoffice_reads_with_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_templates(dir.path());
    std::fs::copy(
        root().join("tests/fixtures/templates/filled_by_libreoffice.xlsx"),
        data.join("inbox/2023-10/mau01_13456_2023-10.xlsx"),
    )
    .unwrap();
    let out = consolidated_copy();
    let workbook = consolidated_with_no_finding(&data, out.path());
    assert_eq!(month_figures(&workbook, "13456"), 7.0);
}

#[test]
fn a_unit_that_sends_nothing_gets_no_template() {
    let out = tempfile::tempdir().unwrap();
    let result = tonghop(&["template", "--unit", "35", "--period", "2023-10", "--out", out.path().to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&result.stderr).contains("sends no return"));
    let unknown =
        tonghop(&["template", "--unit", "99999", "--period", "2023-10", "--out", out.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not in the registry"));
}
