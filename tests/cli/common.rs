//! Helpers for tests that run the real binary and read its workbook back with calamine,
//! the way a person looks at it: find the row by the unit's code, the column by its headers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use calamine::{open_workbook, Data, Range, Reader, Xlsx};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `tonghop` with `args` from the crate root.
pub fn tonghop(args: &[&str]) -> Output {
    tonghop_in(&root(), args)
}

/// Run `tonghop` with `args` from `dir`, as a person in that folder does.
pub fn tonghop_in(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tonghop"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Copy a folder tree (a data directory a test may change), keeping the files' times as
/// `cp -p` does: they order a unit's resubmissions, so a run sees the copy as the original.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            let modified = entry.metadata().unwrap().modified().unwrap();
            std::fs::File::options().write(true).open(&target).unwrap().set_modified(modified).unwrap();
        }
    }
}

pub struct Sheet {
    pub range: Range<Data>,
}

pub fn sheet(workbook: &Path, name: &str) -> Sheet {
    let mut book: Xlsx<_> = open_workbook(workbook).expect("the workbook opens");
    Sheet { range: book.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}")) }
}

/// The findings sheet (`Kiểm tra dữ liệu`) as records keyed by its column headers.
pub fn findings_sheet(workbook: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let rows = sheet(workbook, "Kiểm tra dữ liệu").rows();
    let head = rows.iter().position(|r| r[0] == "Mức độ").expect("a header row");
    rows[head + 1..].iter().map(|r| rows[head].iter().cloned().zip(r.iter().cloned()).collect()).collect()
}

/// The names of a workbook's sheets, in order.
pub fn sheet_names(workbook: &Path) -> Vec<String> {
    let book: Xlsx<_> = open_workbook(workbook).expect("the workbook opens");
    book.sheet_names()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

impl Sheet {
    pub fn cell(&self, row: usize, col: usize) -> &Data {
        self.range.get((row, col)).unwrap_or(&Data::Empty)
    }

    /// The row whose first column holds `code`.
    pub fn row_of(&self, code: &str) -> usize {
        (0..self.range.height())
            .find(|&r| text(self.cell(r, 0)) == code)
            .unwrap_or_else(|| panic!("no row for unit {code}"))
    }

    /// The column headed `group` / `sub`, a group label spanning the columns to its right
    /// until the next one, as a person reads merged headers.
    pub fn column(&self, group: &str, sub: &str) -> usize {
        for r in 0..self.range.height().saturating_sub(1) {
            let mut current = String::new();
            for c in 0..self.range.width() {
                let top = text(self.cell(r, c));
                if !top.is_empty() {
                    current = top;
                }
                if current == group && text(self.cell(r + 1, c)) == sub {
                    return c;
                }
            }
        }
        panic!("no column {group} / {sub}")
    }

    /// The column headed by `label` alone.
    pub fn column_of(&self, label: &str) -> usize {
        for r in 0..self.range.height() {
            for c in 0..self.range.width() {
                if text(self.cell(r, c)) == label {
                    return c;
                }
            }
        }
        panic!("no column {label}")
    }

    pub fn number(&self, row: usize, col: usize) -> f64 {
        match self.cell(row, col) {
            Data::Float(f) => *f,
            Data::Int(i) => *i as f64,
            other => panic!("cell ({row}, {col}) holds {other:?}, not a number"),
        }
    }

    pub fn text(&self, row: usize, col: usize) -> String {
        text(self.cell(row, col))
    }

    /// A percentage cell (a fraction formatted `0.0%`) as the one-decimal percentage shown.
    pub fn percent(&self, row: usize, col: usize) -> f64 {
        (self.number(row, col) * 1000.0).round() / 10.0
    }

    pub fn rows(&self) -> Vec<Vec<String>> {
        (0..self.range.height()).map(|r| (0..self.range.width()).map(|c| text(self.cell(r, c))).collect()).collect()
    }
}

/// One run of the sample (`tonghop run --json`; exit 1 by design: the sample holds
/// returns to chase), for every test that only reads what it wrote.
pub struct Sample {
    _dir: tempfile::TempDir,
    pub out: PathBuf,
    pub workbook: PathBuf,
    pub summary: serde_json::Value,
}

pub fn sample() -> &'static Sample {
    static RUN: std::sync::OnceLock<Sample> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let out = dir.path().join("out");
        let result = tonghop(&["run", "--out", out.to_str().unwrap(), "--json"]);
        assert_eq!(result.status.code(), Some(1), "{}", String::from_utf8_lossy(&result.stderr));
        let summary = serde_json::from_slice(&result.stdout).expect("--json prints one object");
        let workbook = out.join("Tong_hop_PTDV_2023-10.xlsx");
        assert!(workbook.exists(), "the workbook is written");
        Sample { _dir: dir, out, workbook, summary }
    })
}

/// An out directory holding the sample's work directory as its run left it: a run of the
/// sample's data (or of a copy whose earlier periods are unchanged) finds those periods
/// consolidated and does only what changed.
pub fn consolidated_copy() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    copy_dir(&sample().out.join("work"), &out.path().join("work"));
    out
}
