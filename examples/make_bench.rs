//! Benchmark data shaped like the returns a board receives: N grassroots units under N/15
//! district-level units, and for 2023-10 each unit's return as `tonghop template` writes
//! it (the title block, two-row headers, validation, protection, styles and the total
//! row's formulas) filled with 15 to 20 party cells, and each district's Mẫu 02 with its
//! classes and its communes' admission decisions; the registry, targets and opening
//! balances at 09/2023 beside them (so one month is consolidated). Deterministic;
//! generated on demand by `scripts/bench`, never committed.
//!
//! `cargo run --release --example make_bench -- N DIR [SEED]`: SEED changes the figures,
//! not the layout (the collection-window benchmark's corrections).

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rust_xlsxwriter::Workbook;
use tonghop::definition::{self, Plan};
use tonghop::period::Period;
use tonghop::registry::{Hierarchy, Registry};
use tonghop::template::{self, Fill, Options};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const SUBS: [&str; 8] = [
    "Tổng số",
    "Nữ",
    "Đoàn viên",
    "Học sinh, sinh viên",
    "Người có đạo",
    "Ở khu dân cư",
    "Công nhân DN ngoài nhà nước",
    "Bộ đội xuất ngũ",
];

/// Mẫu 01's count fields, in the form's order.
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

/// One commune's party cells: each cell's counts, in `FIELDS` order.
fn cells(seed: u64) -> Vec<[f64; 10]> {
    let mut rng = Rng(seed);
    (0..15 + rng.below(6))
        .map(|_| {
            let admitted = if rng.below(3) == 0 { 1 + rng.below(3) } else { 0 };
            let mut values = [0.0; 10];
            values[0] = rng.below(3) as f64;
            values[1] = values[0].min(rng.below(2) as f64);
            values[2] = admitted as f64;
            for v in values.iter_mut().skip(3) {
                *v = rng.below(admitted + 1) as f64;
            }
            values
        })
        .collect()
}

/// A commune's Mẫu 01, as its clerk fills the tool's template.
fn mau01(plan: &Plan, hierarchy: &Hierarchy, code: &str, cells: &[[f64; 10]]) -> anyhow::Result<Vec<u8>> {
    let fill = |_: &str, row: usize, field: &str| -> Option<Fill> {
        let values = cells.get(row)?;
        match field {
            "cell_name" => Some(Fill::Text(format!("Chi bộ thôn {}", row + 1))),
            f => FIELDS.iter().position(|x| *x == f).map(|k| Fill::Number(values[k])),
        }
    };
    let rows = [(("mau01.cells".to_string(), code.to_string()), cells.len())].into_iter().collect();
    let options = Options { rows, fill: Some(&fill), ..Options::default() };
    let unit = hierarchy.unit(code).ok_or_else(|| anyhow::anyhow!("no unit {code}"))?;
    let ret = plan.return_by_id("mau01").ok_or_else(|| anyhow::anyhow!("no mau01"))?;
    template::render(plan, ret, hierarchy, unit, "2023-10".parse()?, &options)
}

/// A district's Mẫu 02: two classes of the month and its communes' decisions.
fn mau02(plan: &Plan, hierarchy: &Hierarchy, code: &str, communes: &[(String, f64)]) -> anyhow::Result<Vec<u8>> {
    let fill = |table: &str, row: usize, field: &str| -> Option<Fill> {
        let text = |t: String| Some(Fill::Text(t));
        let kinds = ["Nhận thức về Đảng", "Đảng viên mới"];
        match (table, field) {
            ("classes", _) if row >= kinds.len() => None,
            ("classes", "class_name") => text(format!("Lớp {} {code}", kinds[row])),
            ("classes", "class_type") => text(kinds[row].to_string()),
            ("classes", "start_date") => text("09/10/2023".into()),
            ("classes", "end_date") => text("13/10/2023".into()),
            ("classes", "venue") => text("Trung tâm Chính trị".into()),
            ("classes", "trainees") => Some(Fill::Number(50.0)),
            ("classes", "certified") => Some(Fill::Number(48.0)),
            ("decisions", "unit_name") => communes.get(row).map(|(c, _)| Fill::Text(format!("Đảng ủy {c}"))),
            ("decisions", "unit_code") => communes.get(row).map(|(c, _)| Fill::Text(c.clone())),
            ("decisions", "admitted_decided") => communes.get(row).map(|(_, n)| Fill::Number(*n)),
            _ => None,
        }
    };
    let rows = [(("mau02.decisions".to_string(), code.to_string()), communes.len())].into_iter().collect();
    let options = Options { rows, fill: Some(&fill), ..Options::default() };
    let unit = hierarchy.unit(code).ok_or_else(|| anyhow::anyhow!("no unit {code}"))?;
    let ret = plan.return_by_id("mau02").ok_or_else(|| anyhow::anyhow!("no mau02"))?;
    template::render(plan, ret, hierarchy, unit, "2023-10".parse()?, &options)
}

fn reference(dir: &Path, units: &[(String, String)], districts: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut csv =
        String::from("code,name,kind,parent,valid_from,valid_to,aliases\n35,Đảng bộ tỉnh,province,,2020-01,,\n");
    for d in districts {
        csv.push_str(&format!("{d},Đảng bộ {d},district,35,2020-01,,\n"));
    }
    for (code, district) in units {
        csv.push_str(&format!("{code},Đảng ủy {code},grassroots,{district},2020-01,,\n"));
    }
    std::fs::write(dir.join("don_vi.csv"), csv)?;

    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let heads = [
        "Mã đơn vị",
        "Tên đơn vị",
        "Chỉ tiêu nhiệm kỳ",
        "Kế hoạch năm 2023",
        "Chỉ tiêu tỉnh giao",
        "Số đảng viên đầu năm 2023",
    ];
    for (k, h) in heads.iter().enumerate() {
        ws.write_string(0, k as u16, *h)?;
    }
    // Every district and commune has its targets (the pipeline's `covers`).
    let communes = units.iter().map(|(code, _)| (code, [20.0, 4.0, 22.0, 270.0]));
    let all = districts.iter().map(|d| (d, [300.0, 60.0, 320.0, 4000.0])).chain(communes);
    for (i, (code, targets)) in all.enumerate() {
        ws.write_string(1 + i as u32, 0, code)?;
        for (k, value) in targets.iter().enumerate() {
            ws.write_number(1 + i as u32, 2 + k as u16, *value)?;
        }
    }
    book.save(dir.join("chi_tieu.xlsx"))?;

    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "Tính đến")?;
    ws.write_string(0, 1, "09/2023")?;
    ws.write_string(2, 0, "Mã đơn vị")?;
    ws.write_string(2, 1, "Tên đơn vị")?;
    let mut col = 2u16;
    for group in ["Kết nạp từ đầu nhiệm kỳ", "Kết nạp từ đầu năm"] {
        ws.write_string(2, col, group)?;
        for (k, sub) in SUBS.iter().enumerate() {
            ws.write_string(3, col + k as u16, *sub)?;
        }
        col += 8;
    }
    for group in [
        "Lớp nhận thức từ đầu nhiệm kỳ",
        "Lớp nhận thức từ đầu năm",
        "Lớp đảng viên mới từ đầu nhiệm kỳ",
        "Lớp đảng viên mới từ đầu năm",
    ] {
        ws.write_string(2, col, group)?;
        ws.write_string(3, col, "Số lớp")?;
        ws.write_string(3, col + 1, "Số học viên")?;
        col += 2;
    }
    for (i, (code, _)) in units.iter().enumerate() {
        ws.write_string(4 + i as u32, 0, code)?;
        ws.write_number(4 + i as u32, 2, 20.0)?;
        ws.write_number(4 + i as u32, 10, 8.0)?;
    }
    // The districts send the classes: their balances, none before the month (a unit
    // without a row would have unknown cumulative figures).
    for (i, code) in districts.iter().enumerate() {
        let row = 4 + (units.len() + i) as u32;
        ws.write_string(row, 0, code)?;
        for c in 18..col {
            ws.write_number(row, c, 0.0)?;
        }
    }
    book.save(dir.join("luy_ke_dau_ky.xlsx"))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: make_bench N DIR [SEED]";
    let n: usize = args.next().and_then(|a| a.parse().ok()).ok_or(usage)?;
    let root = PathBuf::from(args.next().ok_or(usage)?);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let inbox = root.join("inbox/2023-10");
    std::fs::create_dir_all(&inbox)?;
    std::fs::create_dir_all(root.join("reference"))?;
    let districts: Vec<String> = (0..n.div_ceil(15)).map(|d| format!("D{d:04}")).collect();
    let units: Vec<(String, String)> = (0..n).map(|i| (format!("U{i:06}"), districts[i / 15].clone())).collect();
    reference(&root.join("reference"), &units, &districts)?;
    let plan = definition::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/ptdv_monthly.toml"))?;
    let registry = Registry::load(&root.join("reference/don_vi.csv"), &plan.registry.levels)?;
    let period: Period = "2023-10".parse()?;
    let hierarchy = registry.hierarchy(period, &plan.registry.levels)?;
    let filled: Vec<Vec<[f64; 10]>> = (0..n).map(|i| cells(seed.wrapping_mul(1_000_003) + i as u64 + 1)).collect();
    units.par_iter().zip(&filled).try_for_each(|((code, _), cells)| -> Result<(), String> {
        let bytes = mau01(&plan, &hierarchy, code, cells).map_err(|e| e.to_string())?;
        std::fs::write(inbox.join(format!("BC PTDV T10 {code}.xlsx")), bytes).map_err(|e| e.to_string())
    })?;
    districts.par_iter().enumerate().try_for_each(|(d, code)| -> Result<(), String> {
        let theirs: Vec<(String, f64)> = (d * 15..(d * 15 + 15).min(n))
            .map(|i| (units[i].0.clone(), filled[i].iter().map(|c| c[2]).sum()))
            .collect();
        let bytes = mau02(&plan, &hierarchy, code, &theirs).map_err(|e| e.to_string())?;
        std::fs::write(inbox.join(format!("Mau02 {code}.xlsx")), bytes).map_err(|e| e.to_string())
    })?;
    println!("{n} grassroots and {} district returns in {}", districts.len(), inbox.display());
    Ok(())
}
