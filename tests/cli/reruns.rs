//! Reruns never serve stale figures: a selection over stale stages is refused, file times
//! that decide a resubmission are inputs, damaged artifacts are redone, --force redoes the
//! months a figure reads, one unreadable file is one finding, and the summary says what
//! happened. Each test starts from a copy of the sample's data and work directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::common::{consolidated_copy, copy_dir, findings_sheet, root, sheet, tonghop};

/// A copy of the sample's data and of the work directory its run left.
struct Copy {
    _dir: tempfile::TempDir,
    data: PathBuf,
    out: tempfile::TempDir,
}

impl Copy {
    fn new() -> Copy {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        copy_dir(&root().join("sample_data"), &data);
        Copy { _dir: dir, data, out: consolidated_copy() }
    }

    fn run(&self, extra: &[&str]) -> std::process::Output {
        let base = ["run", "--data", self.data.to_str().unwrap(), "--out", self.out.path().to_str().unwrap()];
        tonghop(&[&base[..], extra].concat())
    }

    fn json(&self, extra: &[&str]) -> serde_json::Value {
        let out = self.run(&[extra, &["--json"]].concat());
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn october(&self, name: &str) -> PathBuf {
        self.data.join("inbox/2023-10").join(name)
    }

    fn workbook(&self) -> PathBuf {
        self.out.path().join("Tong_hop_PTDV_2023-10.xlsx")
    }
}

fn ran(summary: &serde_json::Value) -> Vec<String> {
    let stages = summary["stages"].as_array().unwrap();
    let ran = stages.iter().filter(|s| s["outcome"] == "ran");
    ran.map(|s| format!("{} {}", s["period"].as_str().unwrap(), s["stage"].as_str().unwrap())).collect()
}

fn set_modified(path: &Path, time: SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

const AN_NOI: &str = "Mau01_XaAnNoi_T10.xlsx";

#[test]
fn a_selection_over_stale_stages_is_refused_and_changes_nothing() {
    let copy = Copy::new();
    std::fs::copy(copy.october(AN_NOI), copy.october("An Noi gui lai.xlsx")).unwrap();
    let aggregate = copy.out.path().join("work/ptdv_monthly/2023-10/aggregate/manifest.json");
    let before = std::fs::read(&aggregate).unwrap();
    let refused = copy.run(&["--from", "aggregate"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("the ingest stage of 2023-10 is stale"), "{stderr}");
    assert!(stderr.contains("tonghop run --period 2023-10"), "{stderr}");
    assert_eq!(std::fs::read(&aggregate).unwrap(), before, "nothing sealed over stale inputs");
    // A plain run brings everything up to date; then the selection is allowed.
    assert_eq!(
        ran(&copy.json(&[])),
        ["2023-10 ingest", "2023-10 validate", "2023-10 merge", "2023-10 aggregate", "2023-10 report"]
    );
    assert!(ran(&copy.json(&["--from", "aggregate"])).is_empty(), "all up to date, the workbook too");
}

/// The province's admissions in the month, the year and the term, as the workbook shows them.
fn province_admitted(workbook: &Path) -> (f64, f64, f64) {
    let units = sheet(workbook, "Kết nạp theo cơ sở");
    let month = units.number(units.row_of("35"), units.column("Kết nạp", "Trong tháng"));
    let s = sheet(workbook, "Tổng hợp");
    let (row, admitted) = (s.row_of("35"), "Kết nạp đảng viên");
    (month, s.number(row, s.column(admitted, "Từ đầu năm")), s.number(row, s.column(admitted, "Từ đầu nhiệm kỳ")))
}

#[test]
fn an_edited_return_then_from_aggregate_then_a_plain_run_shows_the_edit() {
    let copy = Copy::new();
    copy.json(&[]);
    assert_eq!(province_admitted(&copy.workbook()), (95.0, 1099.0, 3335.0));
    // An Nội's October return, corrected: five admitted in Chi bộ thôn 1 (E12 and E24).
    std::fs::copy(root().join("tests/fixtures/returns/files/an_noi_admits_five.xlsx"), copy.october(AN_NOI)).unwrap();
    let refused = copy.run(&["--from", "aggregate"]);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert_eq!(province_admitted(&copy.workbook()), (95.0, 1099.0, 3335.0), "the old workbook is left as it was");
    copy.json(&[]);
    assert_eq!(province_admitted(&copy.workbook()), (100.0, 1104.0, 3340.0));
    // What a fresh run into an empty out directory shows, and --force too.
    let fresh = tempfile::tempdir().unwrap();
    let run = tonghop(&["run", "--data", copy.data.to_str().unwrap(), "--out", fresh.path().to_str().unwrap(), "-q"]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(province_admitted(&fresh.path().join("Tong_hop_PTDV_2023-10.xlsx")), (100.0, 1104.0, 3340.0));
    copy.json(&["--force"]);
    assert_eq!(province_admitted(&copy.workbook()), (100.0, 1104.0, 3340.0));
}

#[test]
fn the_report_alone_is_refused_after_the_definition_changed() {
    let copy = Copy::new();
    let pipeline = copy.data.join("pipeline.toml");
    let text = std::fs::read_to_string(root().join("pipelines/ptdv_monthly.toml")).unwrap();
    // A sheet's title, worded otherwise: the workbook's words are the definition's too.
    let changed = text.replace("TỶ LỆ ĐẠT CHỈ TIÊU KẾT NẠP", "TỶ LỆ ĐẠT CHỈ TIÊU VỀ KẾT NẠP");
    assert_ne!(changed, text);
    std::fs::write(&pipeline, changed).unwrap();
    let refused = copy.run(&["--pipeline", pipeline.to_str().unwrap(), "--only", "report"]);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the ingest stage of 2023-10 is stale"));
}

#[test]
fn file_times_that_decide_a_resubmission_are_inputs() {
    let copy = Copy::new();
    // The same return twice, same date line: the newer file counts.
    let (first, second) = (copy.october(AN_NOI), copy.october("An Noi ban 2.xlsx"));
    std::fs::copy(&first, &second).unwrap();
    let now = SystemTime::now();
    set_modified(&first, now - Duration::from_secs(3600));
    set_modified(&second, now);
    let superseded = |copy: &Copy| -> Vec<String> {
        let findings = findings_sheet(&copy.workbook());
        let files = findings.into_iter().filter(|f| f["Mã lỗi"] == "return-superseded").map(|f| f["Tệp"].clone());
        files.filter(|f| f.contains("Noi")).collect()
    };
    copy.json(&[]);
    assert_eq!(superseded(&copy), [AN_NOI]);
    // Touching the first makes it the newer: a plain run says so, as a fresh one would.
    set_modified(&first, now + Duration::from_secs(60));
    assert!(ran(&copy.json(&[])).contains(&"2023-10 merge".to_string()));
    assert_eq!(superseded(&copy), ["An Noi ban 2.xlsx"]);
}

#[test]
fn damaged_artifacts_are_redone_never_used() {
    let copy = Copy::new();
    let table = copy.out.path().join("work/ptdv_monthly/2023-09/merge/table.mau01.cells.parquet");
    let bytes = std::fs::read(&table).unwrap();
    std::fs::write(&table, &bytes[..bytes.len() / 2]).unwrap();
    let run = copy.run(&["--json", "-v"]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("artifacts changed since they were written: redone"));
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    // Redone from its inputs, the merge is what it was: the figures need nothing else.
    assert_eq!(ran(&summary), ["2023-09 merge", "2023-10 report"]);
    let s = sheet(&copy.workbook(), "Tổng hợp");
    assert_eq!(s.number(s.row_of("35"), s.column("Kết nạp đảng viên", "Từ đầu nhiệm kỳ")), 3335.0);

    // A damaged stage before the selection refuses it.
    let figures = copy.out.path().join("work/ptdv_monthly/2023-10/aggregate/figures.parquet");
    std::fs::write(&figures, b"PAR1 not a table").unwrap();
    let refused = copy.run(&["--only", "report"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("the aggregate stage of 2023-10 has artifacts that changed")
    );
}

#[test]
fn artifacts_that_cannot_be_saved_end_the_run_before_the_workbook_is_written_again() {
    let copy = Copy::new();
    copy.json(&[]);
    let before = std::fs::read(copy.workbook()).unwrap();
    // Merge's completeness cannot be written where a folder stands in its way. Its
    // artifacts are saved while aggregate and the report work.
    let blocked = copy.out.path().join("work/ptdv_monthly/2023-10/merge/completeness.json");
    std::fs::remove_file(&blocked).unwrap();
    std::fs::create_dir_all(blocked.join("in the way")).unwrap();
    let run = copy.run(&["--force"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("merge/completeness.json") && stderr.contains("Is a directory"), "{stderr}");
    // Nothing after the failed save is sealed, and the workbook is the one before.
    for stage in ["merge", "aggregate", "report"] {
        let manifest = copy.out.path().join("work/ptdv_monthly/2023-10").join(stage).join("manifest.json");
        assert!(!manifest.exists(), "{stage} is sealed");
    }
    assert!(std::fs::read(copy.workbook()).unwrap() == before, "the workbook was written again");
    // With the way clear, the next run redoes them.
    std::fs::remove_dir_all(&blocked).unwrap();
    let summary = copy.json(&[]);
    assert_eq!(ran(&summary), ["2023-10 merge", "2023-10 aggregate", "2023-10 report"]);
}

#[test]
fn force_redoes_every_month_the_figures_read() {
    let copy = Copy::new();
    let summary = copy.json(&["--force"]);
    assert_eq!(ran(&summary).len(), 10 * 3 + 2, "{:?}", ran(&summary));
    let only = copy.json(&["--force", "--only", "aggregate"]);
    assert_eq!(ran(&only), ["2023-10 aggregate"], "--force redoes what is selected, in every month");
}

#[test]
fn a_file_that_cannot_be_read_is_a_finding_and_the_run_goes_on() {
    let copy = Copy::new();
    // What a file the run may not read looks like to it (tests run as root, who may read
    // anything): a name in the folder whose content cannot be opened.
    std::os::unix::fs::symlink("/nonexistent/BC T10.xlsx", copy.october("BC T10 Xa Moi.xlsx")).unwrap();
    let run = copy.run(&["--json"]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let finding = findings_sheet(&copy.workbook()).into_iter().find(|f| f["Tệp"] == "BC T10 Xa Moi.xlsx").unwrap();
    assert_eq!(finding["Mã lỗi"], "file-unreadable");
}

#[test]
fn inputs_that_are_not_there_leave_nothing_under_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a file");
    std::fs::write(&file, b"").unwrap();
    let out = dir.path().join("out");
    let run = tonghop(&["run", "--data", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&run.stderr).contains(&file.display().to_string()));
    assert!(!out.exists(), "no work directory left behind");
    // An --out that is a file: the path is named.
    let run = tonghop(&["run", "--out", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains(&file.display().to_string()),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn the_summary_says_what_ran_what_was_used_and_what_was_written() {
    let copy = Copy::new();
    let text = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).to_string();
    let forced = text(copy.run(&["--force"]));
    assert!(forced.contains("stages: 32 ran") && !forced.contains("unchanged"), "{forced}");
    let report = text(copy.run(&["--only", "report"]));
    assert!(
        report.contains("stages: 0 ran")
            && report.contains("28 stage(s) unchanged since they ran")
            && report.contains("4 stage(s) before the selection, checked up to date and used")
            && report.contains("unchanged: ")
            && report.contains("the workbook lists them"),
        "{report}"
    );
    let validate = text(copy.run(&["--to", "validate"]));
    assert!(validate.contains("tonghop status lists them") && !validate.contains("workbook"), "{validate}");
}

#[test]
fn a_reader_that_goes_away_ends_the_printing_not_the_run() {
    let copy = Copy::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tonghop"))
        .args([
            "run",
            "-vv",
            "--force",
            "--data",
            copy.data.to_str().unwrap(),
            "--out",
            copy.out.path().to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(1), "the run finished");
    assert!(copy.workbook().exists());
}

#[test]
fn a_report_drawn_again_later_keeps_the_date_it_is_given() {
    let copy = Copy::new();
    copy.json(&[]);
    let summary = copy.json(&["--only", "report", "--date", "2023-11-05"]);
    assert_eq!(ran(&summary), ["2023-10 report"]);
    let s = sheet(&copy.workbook(), "Tổng hợp");
    let dated = s.rows().into_iter().flatten().any(|cell| cell == "Hà Nam, ngày 05 tháng 11 năm 2023");
    assert!(dated, "{:?}", &s.rows()[..2]);
    let wrong = copy.run(&["--date", "05/11/2023"]);
    assert_eq!(wrong.status.code(), Some(2), "{}", String::from_utf8_lossy(&wrong.stderr));
}

/// The files under `dir`, each with its bytes, by their path under it.
fn artifacts(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.insert(path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

#[test]
fn a_rerun_reads_only_what_changed_and_gives_what_a_fresh_run_gives() {
    let copy = Copy::new();
    copy.json(&[]);
    std::fs::copy(root().join("tests/fixtures/returns/files/an_noi_admits_five.xlsx"), copy.october(AN_NOI)).unwrap();
    let rerun = copy.run(&["--json", "-v"]);
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(
        stderr.contains("files read; the others unchanged since the last run") && stderr.contains("read=1 of=138"),
        "{stderr}"
    );
    assert!(stderr.contains("files validated again") && stderr.contains("validated=1 of=138"), "{stderr}");
    // The figures below are made of the reference tables as the last run kept them.
    assert!(stderr.contains("reference tables unchanged since the last run"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
    assert_eq!(
        ran(&summary),
        ["2023-10 ingest", "2023-10 validate", "2023-10 merge", "2023-10 aggregate", "2023-10 report"]
    );
    // A fresh run of the same data, reading every file, makes the same artifacts.
    let fresh = tempfile::tempdir().unwrap();
    tonghop(&["run", "--data", copy.data.to_str().unwrap(), "--out", fresh.path().to_str().unwrap(), "--quiet"]);
    for stage in ["ingest", "validate", "merge", "aggregate"] {
        let part = format!("work/ptdv_monthly/2023-10/{stage}");
        let (spliced, whole) = (artifacts(&copy.out.path().join(&part)), artifacts(&fresh.path().join(&part)));
        assert_eq!(spliced.keys().collect::<Vec<_>>(), whole.keys().collect::<Vec<_>>(), "{stage}");
        for (name, bytes) in &spliced {
            assert!(bytes == &whole[name], "{stage}/{} differs from a fresh run's", name.display());
        }
    }
    assert_eq!(
        province_admitted(&copy.workbook()),
        province_admitted(&fresh.path().join("Tong_hop_PTDV_2023-10.xlsx"))
    );
}

#[test]
fn a_file_rewritten_with_its_size_and_time_kept_is_read_again() {
    let copy = Copy::new();
    copy.json(&[]);
    // Same size, same modification time, other bytes: only the change time tells.
    let path = copy.october(AN_NOI);
    let (mut bytes, time) = (std::fs::read(&path).unwrap(), std::fs::metadata(&path).unwrap().modified().unwrap());
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    set_modified(&path, time);
    assert!(ran(&copy.json(&[])).contains(&"2023-10 ingest".to_string()));
    // Nothing changed since: nothing is read, hashed or drawn again, nor the index written.
    let index = copy.out.path().join("work/ptdv_monthly/2023-10/inbox-hashes.json");
    let written = std::fs::read(&index).unwrap();
    assert!(ran(&copy.json(&[])).is_empty());
    assert_eq!(std::fs::read(&index).unwrap(), written);
}

#[test]
fn the_reference_tables_are_read_again_only_when_what_they_are_read_from_changed() {
    let copy = Copy::new();
    let unchanged = "reference tables unchanged since the last run: not read again";
    let stderr = |run: &std::process::Output| String::from_utf8_lossy(&run.stderr).into_owned();
    // The sample's run kept them: a rerun does not open the board's workbooks.
    let rerun = copy.run(&["-v"]);
    assert!(stderr(&rerun).contains(unchanged), "{}", stderr(&rerun));

    // A damaged entry is never used: the tables are read again and kept anew.
    let entries = copy.out.path().join("work/ptdv_monthly/2023-10/references");
    let entry = std::fs::read_dir(&entries).unwrap().flatten().map(|e| e.path()).next().unwrap();
    let table = entry.join("table.0.parquet");
    let bytes = std::fs::read(&table).unwrap();
    std::fs::write(&table, &bytes[..bytes.len() / 2]).unwrap();
    let rerun = copy.run(&["--json", "-v"]);
    assert!(!stderr(&rerun).contains(unchanged), "{}", stderr(&rerun));
    let summary: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
    assert!(ran(&summary).is_empty(), "the figures were made of the same tables: {summary}");
    assert!(stderr(&copy.run(&["-v"])).contains(unchanged));

    // A target deleted from the board's table: read again, and the figures follow.
    let variant = root().join("tests/fixtures/returns/reference_variants/target_deleted/chi_tieu.xlsx");
    std::fs::copy(variant, copy.data.join("reference/chi_tieu.xlsx")).unwrap();
    let rerun = copy.run(&["-v"]);
    assert!(!stderr(&rerun).contains(unchanged), "{}", stderr(&rerun));
    let findings = findings_sheet(&copy.workbook());
    assert!(findings.iter().any(|f| f["Mã lỗi"] == "reference-missing" && f["Mã đơn vị"] == "351"));
    assert_eq!(std::fs::read_dir(&entries).unwrap().count(), 1, "one entry kept, the last");
}

#[test]
fn a_registry_changed_validates_every_file_again_from_what_ingest_kept() {
    let copy = Copy::new();
    // A unit given another name (no return of the period names it): validation is of the
    // registry, ingest is not.
    let registry = copy.data.join("reference/don_vi.csv");
    let text = std::fs::read_to_string(&registry).unwrap();
    let renamed = text.replace("Đảng bộ Công an huyện Thanh Liêm", "Đảng bộ Công an huyện Thanh Liêm (cũ)");
    assert_ne!(renamed, text);
    std::fs::write(&registry, renamed).unwrap();
    let ran = ran(&copy.json(&[]));
    assert!(ran.contains(&"2023-10 validate".to_string()), "{ran:?}");
    assert!(!ran.iter().any(|stage| stage.ends_with("ingest")), "{ran:?}");
    // The return with a mistyped code is still known by the committee its title block
    // names: the title lines came back with the files ingest kept.
    let findings = findings_sheet(&copy.workbook());
    let by_name = findings.iter().find(|f| f["Tệp"] == "Xa Thanh Tan - PTDV thang 10.xlsx").unwrap();
    assert_eq!((by_name["Mã đơn vị"].as_str(), by_name["Ô"].as_str()), ("13477", "A2"));
}
