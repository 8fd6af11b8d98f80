//! docs/new-province.md, done as a person does it: `tonghop init` from the registry of a
//! province the samples do not have (its codes with leading zeros), the references and the
//! returns filled (by openpyxl and, for a commune with more party cells than the form's
//! rows, by LibreOffice with a row inserted: tests/fixtures/new_province/make.py), then
//! `tonghop run` in the project's folder: exit 0, the province's figures, its own letterhead.

use std::path::Path;

use crate::common::{copy_dir, root, sheet, tonghop_in};

fn fixture(path: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/new_province").join(path)
}

/// A project made by `tonghop init` in a fresh folder; returns the folder holding it.
fn initialised(dir: &Path) -> std::path::PathBuf {
    let registry = fixture("don_vi.csv");
    let made = tonghop_in(dir, &["init", "son-lam", "--registry", registry.to_str().unwrap(), "--period", "2024-03"]);
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert_eq!(made.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&made.stderr));
    assert!(stdout.contains("tonghop template --all --period 2024-03"), "the next command: {stdout}");
    dir.join("son-lam")
}

#[test]
fn init_writes_the_project_and_the_references_with_their_exact_headers() {
    let dir = tempfile::tempdir().unwrap();
    let project = initialised(dir.path());
    let toml = std::fs::read_to_string(project.join("tonghop.toml")).unwrap();
    assert!(toml.contains("superior = \"Đảng bộ tỉnh Sơn Lâm\""), "the registry's top unit: {toml}");
    assert!(project.join("inbox/2024-03").is_dir());
    assert_eq!(
        std::fs::read(project.join("reference/don_vi.csv")).unwrap(),
        std::fs::read(fixture("don_vi.csv")).unwrap()
    );
    let targets = sheet(&project.join("reference/chi_tieu.xlsx"), "Chỉ tiêu").rows();
    assert_eq!(
        targets[0],
        [
            "Mã đơn vị",
            "Tên đơn vị",
            "Chỉ tiêu nhiệm kỳ",
            "Kế hoạch năm 2024",
            "Chỉ tiêu tỉnh giao",
            "Số đảng viên đầu năm 2024"
        ]
    );
    // Every district and commune, its code as text with its leading zero.
    let codes: Vec<&str> = targets[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(codes, ["051", "052", "05101", "05102", "05103", "05201", "05202"]);
    let opening = sheet(&project.join("reference/luy_ke_dau_ky.xlsx"), "Lũy kế").rows();
    assert_eq!(opening[0][..2], ["Tính đến", "02/2024"], "the balances at the end of the month before");
    // A second init into the same folder is refused.
    let again = tonghop_in(
        dir.path(),
        &["init", "son-lam", "--registry", fixture("don_vi.csv").to_str().unwrap(), "--period", "2024-03"],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn a_new_province_consolidates_its_first_month_in_its_own_project() {
    let dir = tempfile::tempdir().unwrap();
    let project = initialised(dir.path());
    // The templates need no inbox: one per unit that reports.
    let templates = tonghop_in(&project, &["template", "--all", "--period", "2024-03"]);
    assert_eq!(templates.status.code(), Some(0), "{}", String::from_utf8_lossy(&templates.stderr));
    assert_eq!(std::fs::read_dir(project.join("templates/2024-03")).unwrap().count(), 7);
    // The board fills its identity's place and the references; the units send returns.
    let toml = std::fs::read_to_string(project.join("tonghop.toml")).unwrap();
    std::fs::write(project.join("tonghop.toml"), toml.replace("place = \"\"", "place = \"Sơn Lâm\"")).unwrap();
    copy_dir(&fixture("filled"), &project);

    let run = tonghop_in(&project, &["run", "--date", "2024-04-03"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.stderr.is_empty(), "not a sample, nothing to warn of: {}", String::from_utf8_lossy(&run.stderr));
    let workbook = project.join("out/Tong_hop_PTDV_2024-03.xlsx");
    let s = sheet(&workbook, "Tổng hợp");
    let rows = s.rows();
    assert_eq!(rows[0][0], "Đảng bộ tỉnh Sơn Lâm", "the province's own letterhead");
    assert!(rows[1].contains(&"Sơn Lâm, ngày 03 tháng 04 năm 2024".to_string()), "{:?}", rows[1]);
    let province = s.row_of("05");
    let admitted = |sub: &str| s.number(province, s.column("Kết nạp đảng viên", sub));
    // 3 + 1 + 4 (16 cells, a row inserted) + 3 + 2 in March; 2 each before in 2024, 25 in the term.
    assert_eq!((admitted("Trong tháng"), admitted("Từ đầu năm"), admitted("Từ đầu nhiệm kỳ")), (13.0, 23.0, 138.0));
    let units = sheet(&workbook, "Kết nạp theo cơ sở");
    assert_eq!(units.number(units.row_of("05103"), units.column("Kết nạp", "Trong tháng")), 4.0);

    // Next month's form for 05103 has room for its 16 cells, and some to spare.
    let next = tonghop_in(&project, &["template", "--unit", "05103", "--period", "2024-04"]);
    assert_eq!(next.status.code(), Some(0), "{}", String::from_utf8_lossy(&next.stderr));
    let form = sheet(&project.join("templates/2024-04/mau01_05103_2024-04.xlsx"), "BC PTĐV").rows();
    let numbered = form.iter().filter(|r| r[0].parse::<u32>().is_ok()).count();
    assert_eq!(numbered, 16 + 5);
}

#[test]
fn without_a_project_run_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = tonghop_in(dir.path(), &["run"]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no tonghop.toml") && stderr.contains("tonghop init DIR --registry FILE"), "{stderr}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing written");
}
