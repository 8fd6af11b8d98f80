//! `tonghop check`: a good definition passes; a broken one gets every error with its
//! file:line:column, and exit code 2.

use crate::common::{root, sheet, tonghop};

#[test]
fn the_shipped_definitions_pass() {
    for pipeline in [
        "pipelines/ptdv_monthly.toml",
        "pipelines/ptdv_ninh_binh.toml",
        "pipelines/dang_vien_quy.toml",
        "tests/fixtures/harvest/harvest.toml",
    ] {
        let out = tonghop(&["check", "--pipeline", pipeline]);
        assert_eq!(out.status.code(), Some(0), "{pipeline}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Where `needle` starts in `text`, as 1-based line and column.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).expect("the needle is in the text");
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().count() + 1;
    (line, column)
}

fn check(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, text).unwrap();
    let out = tonghop(&["check", "--pipeline", path.to_str().unwrap()]);
    (out.status.code(), String::from_utf8_lossy(&out.stderr).replace(path.to_str().unwrap(), "broken.toml"))
}

#[test]
fn a_misspelt_key_is_an_error_at_its_place() {
    let good = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    let broken = good.replacen("period = \"month\"", "periode = \"month\"", 1);
    let (code, stderr) = check(&broken);
    assert_eq!(code, Some(2));
    let (line, column) = position(&broken, "periode");
    assert!(stderr.contains("unknown field `periode`"), "{stderr}");
    assert!(stderr.contains(&format!("--> broken.toml:{line}:{column}")), "{stderr}");
}

#[test]
fn a_quarterly_pipeline_cannot_sum_over_a_month() {
    let good = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    let broken = good.replacen("period = \"month\"", "period = \"quarter\"", 1);
    let (code, stderr) = check(&broken);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("measure `adm_month` sums over a month, but this pipeline's period is a quarter"),
        "{stderr}"
    );
    let nominated = "field = \"nominated\"\nwindow = \"month\"";
    let (code, stderr) = check(&good.replacen(nominated, "field = \"nominated\"\nwindow = \"quarter\"", 1));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("measure `nominated_month` sums over a quarter, but this pipeline's period is a month"),
        "{stderr}"
    );
}

#[test]
fn every_broken_reference_is_reported_with_its_place() {
    let good = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    let broken = good
        .replacen("field = \"nominated\"\nwindow", "field = \"femal\"\nwindow", 1)
        .replacen("check = \"certified <= trainees\"", "check = \"certified <= \"", 1)
        .replacen("value = \"measure:pct_term\", format", "value = \"measure:pct_trem\", format", 1);
    assert_ne!(broken, good, "the replacements apply");
    let (code, stderr) = check(&broken);
    assert_eq!(code, Some(2));

    let (line, column) = position(&broken, "\"femal\"");
    assert!(stderr.contains("unknown field `femal`"), "{stderr}");
    assert!(stderr.contains(&format!("broken.toml:{line}:{column}")), "{stderr}");

    let (line, column) = position(&broken, "\"certified <= \"");
    assert!(stderr.contains("is not a valid SQL expression"), "{stderr}");
    assert!(stderr.contains(&format!("broken.toml:{line}:{column}")), "{stderr}");

    let (line, column) = position(&broken, "\"measure:pct_trem\"");
    assert!(stderr.contains("`measure:pct_trem` is not a value this sheet can show"), "{stderr}");
    assert!(stderr.contains(&format!("broken.toml:{line}:{column}")), "{stderr}");
    assert!(stderr.contains("3 error(s)"), "{stderr}");
}

#[test]
fn a_run_with_a_broken_definition_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[pipeline]\nname = 1\n").unwrap();
    let out_dir = dir.path().join("out");
    let out = tonghop(&["run", "--pipeline", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out_dir.exists());
}

/// The sample definition with each `(from, to)` replacement made once; each must apply.
fn broken(replacements: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "`{from}` is in the sample definition");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Whether `stderr` reports `message` at the place of `needle` in `text`.
fn reported_at(stderr: &str, text: &str, needle: &str, message: &str) -> bool {
    let (line, column) = position(text, needle);
    stderr.split("error: ").any(|e| e.contains(message) && e.contains(&format!("--> broken.toml:{line}:{column}\n")))
}

#[test]
fn check_finds_what_a_run_would_fail_on_each_at_its_line() {
    let text = broken(&[
        // A rule on a column the table lacks.
        ("check = \"certified <= trainees\"", "check = \"certified <= traineez\""),
        // A measure using one defined after it.
        ("expr = \"1\"", "expr = \"admitting_units + 1\""),
        // A filter comparing a text column with a number, in a family of twelve: said once.
        ("filter = \"class_type = '{class.type}'\"", "filter = \"class_type + 1 > 0\""),
        // The term's end before its start.
        ("end = \"2025-09\"", "end = \"2019-09\""),
        // A measure id twice, a sender kind the registry lacks.
        (
            "[[measures]]\nid = \"nominated_month\"",
            "[[measures]]\nid = \"adm_month\"\nreference = \"targets.year_plan\"\n\n[[measures]]\nid = \"nominated_month\"",
        ),
        ("senders = [\"district\"]", "senders = [\"distrct\"]"),
        // A sheet name Excel refuses.
        ("name = \"Tỷ lệ đạt\"", "name = \"Tỷ lệ đạt/năm\""),
        // A measure named as a column the figures have.
        (
            "[[measures]]\nid = \"nominated_month\"",
            "[[measures]]\nid = \"order\"\nreference = \"targets.year_plan\"\n\n[[measures]]\nid = \"nominated_month\"",
        ),
    ]);
    let (code, stderr) = check(&text);
    assert_eq!(code, Some(2), "{stderr}");
    let cases = [
        ("\"certified <= traineez\"", "`certified <= traineez` uses `traineez`, which is not one of"),
        ("\"admitting_units + 1\"", "`admitting_units + 1` uses `admitting_units`, which is defined below it"),
        ("\"class_type + 1 > 0\"", "`class_type + 1 > 0` cannot be evaluated"),
        ("\"2019-09\"", "the term ends (2019-09) before it starts (2020-10)"),
        ("\"adm_month\"\nreference", "measure `adm_month` is defined twice"),
        ("\"distrct\"", "return `mau02` is sent by `distrct`, which is not a registry level"),
        ("\"Tỷ lệ đạt/năm\"", "sheet name `Tỷ lệ đạt/năm` holds `/`"),
        ("\"order\"\nreference", "measure `order`: the figures already have a column of that name"),
    ];
    for (needle, message) in cases {
        assert!(reported_at(&stderr, &text, needle, message), "`{message}` at {needle}:\n{stderr}");
    }
    assert!(stderr.contains(&format!("{} error(s)", cases.len())), "{stderr}");
    assert!(!stderr.contains("Query") && !stderr.contains("FROM"), "no query plan:\n{stderr}");
}

#[test]
fn every_section_reports_its_own_shape_error() {
    let text = broken(&[
        ("period = \"month\"", "period = \"fortnight\""),
        ("severity = \"error\"", "severity = \"fatal\""),
        ("window = \"month\"", "window = 3"),
    ]);
    let (code, stderr) = check(&text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("\"fortnight\"") || stderr.contains("`fortnight`"), "{stderr}");
    assert!(stderr.contains("`fatal`"), "{stderr}");
    assert!(reported_at(&stderr, &text, "3\n", "wanted string or table"), "{stderr}");
    assert!(stderr.contains("3 error(s)"), "{stderr}");
}

#[test]
fn a_sheet_name_given_twice_is_reported_at_the_second() {
    let text = broken(&[("name = \"Lớp bồi dưỡng\"", "name = \"TỔNG HỢP\"")]);
    let (code, stderr) = check(&text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(reported_at(&stderr, &text, "\"TỔNG HỢP\"", "sheet `TỔNG HỢP` is defined twice"), "{stderr}");
}

#[test]
fn a_failure_only_the_data_shows_names_the_definitions_line() {
    // Any class type cast to a number fails, but only on rows: check cannot see it.
    let text = broken(&[("filter = \"class_type = '{class.type}'\"", "filter = \"CAST(class_type AS INTEGER) = 1\"")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, &text).unwrap();
    let out_dir = dir.path().join("out");
    let out = tonghop(&["run", "--pipeline", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "-q"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let (line, column) = position(&text, "\"CAST(class_type AS INTEGER) = 1\"");
    let place = format!("{}:{line}:{column}", path.display());
    assert!(stderr.contains(&format!("the filter of measure `aw_classes_month` `CAST(class_type AS INTEGER) = 1` ({place}) could not be evaluated")), "{stderr}");
    assert!(!stderr.contains("FILTER") && !stderr.contains("DF ["), "no query plan:\n{stderr}");
}

#[test]
fn a_printed_block_that_cannot_print_is_an_error_at_its_place() {
    let text = broken(&[
        // The comparison with last year and the classes in one block: wider than A4.
        (
            "\"Kết nạp từ đầu năm\"], [\"Lớp nhận thức về Đảng\", \"Lớp đảng viên mới\"]]",
            "\"Kết nạp từ đầu năm\", \"Lớp nhận thức về Đảng\", \"Lớp đảng viên mới\"]]",
        ),
        // A group the sheet does not have.
        ("[\"Tỷ lệ\", \"Chỉ tiêu nhiệm kỳ\"", "[\"Tỷ lệ\", \"Chỉ tiêu nhiệm ky\""),
        // A block with a gap: the file column of the base's findings sheet left out.
        (
            "kind = \"findings\"\n",
            "kind = \"findings\"\nprint = { blocks = [[\"Mức độ\", \"Loại lỗi\", \"Đơn vị\", \"Ô\", \"Nội dung\"]] }\n",
        ),
    ]);
    let (code, stderr) = check(&text);
    assert_eq!(code, Some(2), "{stderr}");
    let wide = "printed on A4 landscape, the columns from “Kết nạp trong tháng - Tháng này” to “Lớp đảng viên mới - \
                Học viên từ đầu nhiệm kỳ” with the repeated ones take 1118 pt, and a page holds 770 pt";
    assert!(reported_at(&stderr, &text, "\"Kết nạp trong tháng\", \"Kết nạp từ", wide), "{stderr}");
    assert!(reported_at(&stderr, &text, "\"Chỉ tiêu nhiệm ky\"", "no column or group `Chỉ tiêu nhiệm ky`"), "{stderr}");
    let gap = "a printed block is columns side by side";
    assert!(reported_at(&stderr, &text, "\"Mức độ\", \"Loại lỗi\"", gap), "{stderr}");
    assert!(stderr.contains("3 error(s)"), "{stderr}");
}

#[test]
fn the_expanded_definition_checks_again_as_itself_and_runs_as_the_same_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    for pipeline in ["pipelines/ptdv_monthly.toml", "pipelines/ptdv_ninh_binh.toml", "pipelines/dang_vien_quy.toml"] {
        let expanded = tonghop(&["check", "--expanded", "--pipeline", pipeline]);
        assert_eq!(expanded.status.code(), Some(0), "{}", String::from_utf8_lossy(&expanded.stderr));
        let text = String::from_utf8(expanded.stdout).unwrap();
        assert!(
            !text.contains("extends") && !text.contains("for_each = {") && !text.contains("defaults"),
            "{pipeline}"
        );
        let path = dir.path().join(pipeline.rsplit('/').next().unwrap());
        std::fs::write(&path, &text).unwrap();
        let again = tonghop(&["check", "--expanded", "--pipeline", path.to_str().unwrap()]);
        assert_eq!(String::from_utf8(again.stdout).unwrap(), text, "{pipeline}: expanding it again changes nothing");
    }
    // The sample consolidated by the expanded definition: the same workbook, sheet by
    // sheet (but the run's facts, which name the definition file).
    let out = dir.path().join("out");
    let path = dir.path().join("ptdv_monthly.toml");
    let run = tonghop(&["run", "--pipeline", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let workbook = out.join("Tong_hop_PTDV_2023-10.xlsx");
    for name in crate::common::sheet_names(&crate::common::sample().workbook) {
        if name == "Thông tin" {
            continue;
        }
        let (a, b) = (sheet(&crate::common::sample().workbook, &name).rows(), sheet(&workbook, &name).rows());
        assert_eq!(a, b, "sheet {name}");
    }
}
