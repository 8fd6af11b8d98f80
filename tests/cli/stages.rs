//! Stages and their artifacts: a second run skips what did not change, editing one return
//! redoes its month and what depends on it, `--only report` redraws from the artifacts.

use crate::common::{consolidated_copy, copy_dir, root, sample, tonghop};

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = tonghop(args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ran(summary: &serde_json::Value) -> Vec<String> {
    summary["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "ran")
        .map(|s| format!("{} {}", s["period"].as_str().unwrap(), s["stage"].as_str().unwrap()))
        .collect()
}

#[test]
fn unchanged_inputs_are_skipped_and_one_edited_return_redoes_its_month() {
    let first = &sample().summary;
    assert_eq!(ran(first).len(), 10 * 3 + 2, "every month's ingest, validate, merge, then aggregate and report");

    // The same data again, in a copy of the work directory the first run left.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&root().join("sample_data"), &data);
    let out = consolidated_copy();
    let out = out.path();
    let args = ["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"];
    let second = run_json(&args);
    assert_eq!(ran(&second), ["2023-10 report"], "the copy has no workbook yet: {second:#}");
    assert_eq!(second["rows"], first["rows"]);

    // A unit resends its September return; September and the figures are redone.
    let september = data.join("inbox/2023-09");
    let name = std::fs::read_dir(&september).unwrap().next().unwrap().unwrap().file_name();
    std::fs::copy(september.join(&name), september.join("gui lai.xlsx")).unwrap();
    let third = run_json(&args);
    assert_eq!(
        ran(&third),
        ["2023-09 ingest", "2023-09 validate", "2023-09 merge", "2023-10 aggregate", "2023-10 report"]
    );

    let forced = run_json(&[&args[..], &["--only", "aggregate", "--force"]].concat());
    assert_eq!(ran(&forced), ["2023-10 aggregate"]);

    // The figures are the same: the workbook stands as drawn, unless asked for again.
    let kept = run_json(&[&args[..], &["--only", "report"]].concat());
    assert!(ran(&kept).is_empty(), "{kept:#}");
    assert_eq!(kept["kept"][2], out.join("Tong_hop_PTDV_2023-10.xlsx").display().to_string());
    let redrawn = run_json(&[&args[..], &["--only", "report", "--force"]].concat());
    assert_eq!(ran(&redrawn), ["2023-10 report"]);
    assert!(out.join("Tong_hop_PTDV_2023-10.xlsx").exists());
}

#[test]
fn a_month_without_its_inbox_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&root().join("sample_data"), &data);
    std::fs::remove_dir_all(data.join("inbox/2023-04")).unwrap();
    let out = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2023-04"), "{stderr}");
}

#[test]
fn a_run_can_stop_after_a_stage() {
    let out = consolidated_copy();
    std::fs::remove_dir_all(out.path().join("work/ptdv_monthly/2023-10")).unwrap();
    let result = tonghop(&["run", "--to", "validate", "--out", out.path().to_str().unwrap(), "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(result.status.code(), Some(1), "October has rejected files");
    assert_eq!(summary["files"]["read"], 138);
    assert!(summary["outputs"].as_array().unwrap().is_empty());
    assert!(!out.path().join("Tong_hop_PTDV_2023-10.xlsx").exists());
    assert!(out.path().join("work/ptdv_monthly/2023-10/validate/manifest.json").exists());
    assert!(!out.path().join("work/ptdv_monthly/2023-10/merge").exists());
}

#[test]
fn a_corrected_earlier_month_makes_later_months_stale_until_a_range_reruns_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&root().join("sample_data"), &data);
    let out = consolidated_copy();
    let (data_arg, out_arg) = (data.to_str().unwrap(), out.path().to_str().unwrap());

    let both = run_json(&["run", "--data", data_arg, "--out", out_arg, "--period", "2023-09..2023-10", "--json"]);
    let periods: Vec<&str> = both.as_array().unwrap().iter().map(|s| s["period"].as_str().unwrap()).collect();
    assert_eq!(periods, ["2023-09", "2023-10"]);
    let (september, october) =
        (out.path().join("Tong_hop_PTDV_2023-09.xlsx"), out.path().join("Tong_hop_PTDV_2023-10.xlsx"));
    assert!(september.exists() && october.exists());

    let status =
        || String::from_utf8_lossy(&tonghop(&["status", "--data", data_arg, "--out", out_arg]).stdout).to_string();
    assert!(!status().contains("stale:"), "{}", status());

    // A unit of May sends a corrected return: September and October add May up.
    let may = data.join("inbox/2023-05");
    let name = std::fs::read_dir(&may).unwrap().next().unwrap().unwrap().file_name();
    std::fs::copy(may.join(&name), may.join("ban sua.xlsx")).unwrap();
    let text = status();
    assert!(text.contains("stale: 2023-09, 2023-10"), "{text}");

    run_json(&["run", "--data", data_arg, "--out", out_arg, "--period", "2023-09..2023-10", "--json"]);
    assert!(!status().contains("stale:"), "{}", status());
}

#[test]
fn each_manifest_names_the_definition_the_tool_version_and_the_inputs() {
    let read = |path: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(sample().out.join(path)).unwrap()).unwrap()
    };
    let ingest = read("work/ptdv_monthly/2023-10/ingest/manifest.json");
    assert_eq!(ingest["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(ingest["definition"].as_str().unwrap().len(), 64);
    let inputs = ingest["inputs"].as_object().unwrap();
    assert_eq!(inputs.len(), 138, "every file of October's inbox");
    assert_eq!(inputs["bao cao tu cong thong tin.xls"].as_str().unwrap().len(), 64);
    let validate = read("work/ptdv_monthly/2023-10/validate/manifest.json");
    assert_eq!(validate["inputs"]["ingest"], ingest["key"]);
    let aggregate = read("work/ptdv_monthly/2023-10/aggregate/manifest.json");
    assert!(aggregate["inputs"]["merge 2023-01"].is_string());
    assert!(aggregate["inputs"]["reference/chi_tieu.xlsx"].is_string());
}
