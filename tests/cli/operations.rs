//! Running unattended: the lock's exit 3, recovery after SIGKILL in every stage, and
//! byte-identical artifacts from the same inputs.

use std::path::{Path, PathBuf};

use crate::common::{consolidated_copy, copy_dir, root, sample, sheet, tonghop};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn province_term_total(workbook: &Path) -> f64 {
    let s = sheet(workbook, "Tổng hợp");
    s.number(s.row_of("35"), s.column("Kết nạp đảng viên", "Từ đầu nhiệm kỳ"))
}

#[test]
fn a_second_run_exits_3_naming_the_holder_and_a_dead_holder_is_replaced() {
    let out = consolidated_copy();
    let work = out.path().join("work/ptdv_monthly");
    let lock = work.join(".lock");
    // Another run: a process holding the kernel's lock on the file that names it.
    std::fs::write(&lock, b"").unwrap();
    let mut holder = std::process::Command::new("flock").arg("-o").arg(&lock).args(["sleep", "60"]).spawn().unwrap();
    std::fs::write(&lock, format!("{{\"pid\":{},\"started\":\"2023-11-01 02:00:00\"}}", holder.id())).unwrap();
    let held = || !std::process::Command::new("flock").args(["-n"]).arg(&lock).arg("true").status().unwrap().success();
    for _ in 0..100 {
        if held() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let result = tonghop(&["run", "--out", out.path().to_str().unwrap()]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(result.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains(&format!("process {} started 2023-11-01 02:00:00", holder.id())), "{stderr}");
    assert!(!out.path().join("Tong_hop_PTDV_2023-10.xlsx").exists(), "nothing written");

    // The holder is gone: the kernel released its lock, and the file naming it does not
    // stop the next run, even when the process id it names is alive (this one's: an id
    // reused after a reboot).
    std::fs::write(&lock, format!("{{\"pid\":{},\"started\":\"2023-11-01 02:00:00\"}}", std::process::id())).unwrap();
    let result = tonghop(&["run", "--out", out.path().to_str().unwrap(), "--quiet"]);
    assert_eq!(result.status.code(), Some(1), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(!held(), "released at the end");
}

/// A run killed (SIGKILL) in the middle of `stage`, rewriting the sample's newest period
/// (`--force`), leaves no workbook; the next run redoes what was cut short and gives
/// the published figures, with no temporary file left behind.
fn killed_in(stage: &str) {
    let out = consolidated_copy();
    let workbook = out.path().join("Tong_hop_PTDV_2023-10.xlsx");
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_tonghop"))
        .args(["run", "--quiet", "--force", "--out", out.path().to_str().unwrap()])
        .current_dir(root())
        .env("TONGHOP_FAILPOINT", stage)
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "{stage}: killed by a signal");
    assert!(!workbook.exists(), "{stage}: no workbook appears from a killed run");

    let again = tonghop(&["run", "--quiet", "--out", out.path().to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{stage}: {}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(province_term_total(&workbook), 3335.0, "{stage}");
    let leftovers: Vec<_> =
        files_under(out.path()).into_iter().filter(|p| p.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "{stage}: {leftovers:?}");
}

/// A run killed in a fresh work directory, in its first period's ingest: the next run
/// starts it again.
#[test]
fn killed_in_a_fresh_work_directory() {
    let out = tempfile::tempdir().unwrap();
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_tonghop"))
        .args(["run", "--quiet", "--out", out.path().to_str().unwrap()])
        .current_dir(root())
        .env("TONGHOP_FAILPOINT", "ingest")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "killed by a signal");
    let first = out.path().join("work/ptdv_monthly/2023-01/ingest");
    assert!(first.exists() && !first.join("manifest.json").exists(), "cut short in January's ingest");
    let again = tonghop(&["run", "--quiet", "--out", out.path().to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(province_term_total(&out.path().join("Tong_hop_PTDV_2023-10.xlsx")), 3335.0);
}

#[test]
fn killed_while_ingesting() {
    killed_in("ingest");
}

#[test]
fn killed_while_validating() {
    killed_in("validate");
}

#[test]
fn killed_while_merging() {
    killed_in("merge");
}

#[test]
fn killed_while_aggregating() {
    killed_in("aggregate");
}

#[test]
fn killed_while_writing_the_report() {
    killed_in("report");
}

#[test]
fn the_same_inputs_give_byte_identical_artifacts() {
    let a = sample().out.as_path();
    let b = tempfile::tempdir().unwrap();
    let b = b.path();
    let result = tonghop(&["run", "--quiet", "--out", b.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(1));
    // The lock file names the run that held it last, the hash index records the inbox
    // files' times, and the report stage's record of what it wrote holds the workbook's
    // hash, which carries the run time; everything else is the same.
    let varies = |p: &PathBuf| {
        [".lock", "inbox-hashes.json"].iter().any(|n| p.ends_with(n))
            || p.parent().is_some_and(|d| d.ends_with("report"))
    };
    let artifacts = |dir: &Path| -> Vec<PathBuf> { files_under(dir).into_iter().filter(|p| !varies(p)).collect() };
    let (files_a, files_b) = (artifacts(&a.join("work")), artifacts(&b.join("work")));
    assert_eq!(files_a.len(), files_b.len());
    assert!(files_a.iter().any(|p| p.extension().is_some_and(|e| e == "parquet")));
    for (fa, fb) in files_a.iter().zip(&files_b) {
        assert_eq!(fa.strip_prefix(a).unwrap(), fb.strip_prefix(b).unwrap());
        assert!(std::fs::read(fa).unwrap() == std::fs::read(fb).unwrap(), "{} differs", fa.display());
    }
    let findings = |dir: &Path| std::fs::read(dir.join("Tong_hop_PTDV_2023-10.findings.parquet")).unwrap();
    assert!(findings(a) == findings(b));
    let workbook = |dir: &Path| dir.join("Tong_hop_PTDV_2023-10.xlsx");
    assert_eq!(province_term_total(&workbook(a)), province_term_total(&workbook(b)));
}

#[test]
fn quiet_prints_nothing_and_verbose_logs_the_stages() {
    let out = consolidated_copy();
    let quiet = tonghop(&["run", "--quiet", "--out", out.path().to_str().unwrap()]);
    assert_eq!(quiet.status.code(), Some(1));
    // Nothing but the note that this is the sample project, which --quiet does not silence
    // (a cron job pointed at the checkout by mistake is told).
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(quiet.stdout.is_empty() && stderr.lines().count() == 1, "{quiet:?}");
    assert!(stderr.starts_with("note: ") && stderr.contains("sample project"), "{stderr}");

    let verbose = tonghop(&["run", "-v", "--force", "--only", "aggregate", "--out", out.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("stage ran") && stderr.contains("stage=\"aggregate\""), "{stderr}");
    assert!(!stderr.contains("files ["), "no progress bar when stderr is not a terminal: {stderr}");
}

#[test]
fn a_period_of_the_other_kind_is_a_usage_error() {
    let out = tempfile::tempdir().unwrap();
    let result = tonghop(&["run", "--period", "2023-Q4", "--out", out.path().to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("`2023-Q4` is not a period of this pipeline, whose periods are written YYYY-MM"),
        "{stderr}"
    );
    assert!(!out.path().join("work").exists(), "nothing ran");
}

#[test]
fn every_option_is_described_and_every_command_has_examples() {
    use clap::CommandFactory;
    let cli = tonghop::cli::Cli::command();
    for command in cli.get_subcommands() {
        let name = command.get_name();
        assert!(command.get_about().is_some(), "{name} says what it does");
        assert!(
            command.get_after_long_help().is_some_and(|h| h.to_string().contains("tonghop ")),
            "{name} has examples"
        );
        for arg in command.get_arguments() {
            assert!(arg.get_help().is_some(), "{name} --{} has no description", arg.get_id());
        }
    }
    let bash = tonghop(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&bash.stdout).contains("_tonghop()"));
    let man = tonghop(&["man"]);
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH tonghop 1"));
}

#[test]
fn json_output_has_a_schema_and_an_error_in_json_mode_is_json() {
    let out = consolidated_copy();
    let run = tonghop(&["run", "--json", "--out", out.path().to_str().unwrap()]);
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["schema"], "tonghop.summary/1");
    let status = tonghop(&["status", "--json", "--out", out.path().to_str().unwrap()]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["schema"], "tonghop.status/1");
    assert_eq!(status["total"]["expected"], 135);
    let missing: Vec<&str> =
        status["not_accepted"].as_array().unwrap().iter().map(|e| e["unit"].as_str().unwrap()).collect();
    assert_eq!(missing, ["13294", "13528"]);
    let failed = tonghop(&["run", "--json", "--period", "2031-01", "--out", out.path().to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(4));
    let error: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!((error["schema"].as_str(), error["exit_code"].as_u64()), (Some("tonghop.error/1"), Some(4)));
    assert!(error["error"].as_str().unwrap().contains("does not exist"), "{error}");
}

#[test]
fn an_out_directory_of_the_old_layout_is_named_and_left_alone() {
    let out = consolidated_copy();
    let old = out.path().join("work/2023-10");
    copy_dir(&out.path().join("work/ptdv_monthly/2023-10"), &old);
    let status = tonghop(&["status", "--out", out.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("as tonghop 0.1 laid them out") && text.contains("work/<pipeline>/"), "{text}");
    assert!(old.exists(), "nothing is deleted for the user");
}
