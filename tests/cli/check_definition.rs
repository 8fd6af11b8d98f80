//! `tonghop check`: a good definition passes; a broken one gets every error with its
//! file:line:column, and exit code 2.

use crate::common::{root, tonghop};

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
    let (code, stderr) = check(&good.replacen("window = \"month\"", "window = \"quarter\"", 1));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("measure `adm_month` sums over a quarter, but this pipeline's period is a month"),
        "{stderr}"
    );
}

#[test]
fn every_broken_reference_is_reported_with_its_place() {
    let good = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    let broken = good
        .replacen("field = \"female\"\nwindow", "field = \"femal\"\nwindow", 1)
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
