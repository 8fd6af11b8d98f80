//! Benchmark data: N grassroots units (5-15 party cells each) under N/15 district-level
//! units, one Mẫu 01 each and one Mẫu 02 per district for 2023-10, in the sample
//! pipeline's layout, with registry, targets and opening balances at 09/2023 (so one month
//! is consolidated). Deterministic; generated on demand by `scripts/bench`, never committed.
//!
//! `cargo run --release --example make_bench -- N DIR`

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};

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

fn title(
    ws: &mut Worksheet,
    superior: &str,
    issuer: &str,
    form: &str,
    heading: &str,
    code: &str,
) -> Result<(), XlsxError> {
    ws.write_string(0, 0, superior)?;
    ws.write_string(1, 0, issuer)?;
    ws.write_string(0, 7, "ĐẢNG CỘNG SẢN VIỆT NAM")?;
    ws.write_string(1, 7, "Hà Nam, ngày 31 tháng 10 năm 2023")?;
    ws.write_string(3, 12, form)?;
    ws.write_string(4, 0, heading)?;
    ws.write_string(5, 0, "Tháng 10 năm 2023")?;
    ws.write_string(6, 0, "Mã đơn vị:")?;
    ws.write_string(6, 1, code)?;
    ws.write_string(6, 4, "Kỳ báo cáo:")?;
    ws.write_string(6, 5, "10/2023")?;
    Ok(())
}

fn mau01(path: &Path, code: &str, district: &str, seed: u64) -> Result<(), XlsxError> {
    let mut rng = Rng(seed);
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    title(
        ws,
        &format!("ĐẢNG BỘ {district}"),
        &format!("ĐẢNG ỦY {code}"),
        "Mẫu 01-PTĐV",
        "BÁO CÁO KẾT QUẢ CÔNG TÁC PHÁT TRIỂN ĐẢNG VIÊN",
        code,
    )?;
    ws.write_string(8, 0, "STT")?;
    ws.write_string(8, 1, "Chi bộ")?;
    ws.write_string(8, 2, "Quần chúng ưu tú")?;
    ws.write_string(9, 2, "Được giới thiệu học lớp nhận thức về Đảng")?;
    ws.write_string(9, 3, "Được cấp giấy chứng nhận")?;
    ws.write_string(8, 4, "Đảng viên kết nạp trong tháng")?;
    for (k, sub) in SUBS.iter().enumerate() {
        ws.write_string(9, 4 + k as u16, *sub)?;
    }
    ws.write_string(8, 12, "Ghi chú")?;
    for k in 0..13u16 {
        ws.write_string(10, k, format!("({})", k + 1))?;
    }
    let cells = 5 + rng.below(11) as u32;
    let mut sums = [0u64; 10];
    for i in 0..cells {
        let row = 11 + i;
        ws.write_number(row, 0, (i + 1) as f64)?;
        ws.write_string(row, 1, format!("Chi bộ số {}", i + 1))?;
        let admitted = if rng.below(3) == 0 { 1 + rng.below(3) as u64 } else { 0 };
        let mut values = [rng.below(3) as u64, 0, admitted, 0, 0, 0, 0, 0, 0, 0];
        values[1] = values[0].min(rng.below(2) as u64);
        for v in values.iter_mut().skip(3) {
            *v = rng.below(admitted as usize + 1) as u64;
        }
        for (k, v) in values.iter().enumerate() {
            ws.write_number(row, 2 + k as u16, *v as f64)?;
            sums[k] += v;
        }
    }
    let total = 11 + cells;
    ws.write_string(total, 1, "Tổng cộng")?;
    for (k, v) in sums.iter().enumerate() {
        ws.write_number(total, 2 + k as u16, *v as f64)?;
    }
    ws.write_string(total + 2, 1, "Nơi nhận:")?;
    book.save(path)
}

fn mau02(path: &Path, code: &str, units: &[String]) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet().set_name("Lớp bồi dưỡng")?;
    title(
        ws,
        "ĐẢNG BỘ TỈNH",
        &format!("HUYỆN ỦY {code}"),
        "Mẫu 02-PTĐV",
        "BÁO CÁO CÔNG TÁC BỒI DƯỠNG VÀ KẾT NẠP ĐẢNG VIÊN",
        code,
    )?;
    let heads = [
        "STT",
        "Tên lớp",
        "Loại lớp",
        "Từ ngày",
        "Đến ngày",
        "Địa điểm",
        "Số học viên",
        "Số học viên được cấp giấy chứng nhận",
    ];
    for (k, h) in heads.iter().enumerate() {
        ws.write_string(8, k as u16, *h)?;
    }
    for (i, kind) in ["Nhận thức về Đảng", "Đảng viên mới"].iter().enumerate() {
        let row = 9 + i as u32;
        ws.write_number(row, 0, (i + 1) as f64)?;
        ws.write_string(row, 1, format!("Lớp {kind} {code}"))?;
        ws.write_string(row, 2, *kind)?;
        ws.write_string(row, 3, "09/10/2023")?;
        ws.write_string(row, 4, "13/10/2023")?;
        ws.write_string(row, 5, "Trung tâm Chính trị")?;
        ws.write_number(row, 6, 50.0)?;
        ws.write_number(row, 7, 48.0)?;
    }
    let ws = book.add_worksheet().set_name("Quyết định kết nạp")?;
    title(
        ws,
        "ĐẢNG BỘ TỈNH",
        &format!("HUYỆN ỦY {code}"),
        "Mẫu 02-PTĐV",
        "BÁO CÁO CÔNG TÁC BỒI DƯỠNG VÀ KẾT NẠP ĐẢNG VIÊN",
        code,
    )?;
    for (k, h) in ["STT", "Tổ chức cơ sở đảng", "Mã đơn vị", "Số đảng viên được kết nạp"].iter().enumerate()
    {
        ws.write_string(8, k as u16, *h)?;
    }
    ws.write_number(9, 0, 1.0)?;
    ws.write_string(9, 1, "Đảng ủy")?;
    ws.write_string(9, 2, &units[0])?;
    ws.write_number(9, 3, 0.0)?;
    book.save(path)
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
    for (i, d) in districts.iter().enumerate() {
        ws.write_string(1 + i as u32, 0, d)?;
        ws.write_number(1 + i as u32, 2, 300.0)?;
        ws.write_number(1 + i as u32, 3, 60.0)?;
        ws.write_number(1 + i as u32, 4, 320.0)?;
        ws.write_number(1 + i as u32, 5, 4000.0)?;
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
    let n: usize = args.next().and_then(|a| a.parse().ok()).ok_or("usage: make_bench N DIR")?;
    let root = PathBuf::from(args.next().ok_or("usage: make_bench N DIR")?);
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let inbox = root.join("inbox/2023-10");
    std::fs::create_dir_all(&inbox)?;
    std::fs::create_dir_all(root.join("reference"))?;
    let districts: Vec<String> = (0..n.div_ceil(15)).map(|d| format!("D{d:04}")).collect();
    let units: Vec<(String, String)> = (0..n).map(|i| (format!("U{i:06}"), districts[i / 15].clone())).collect();
    reference(&root.join("reference"), &units, &districts)?;
    units.par_iter().enumerate().try_for_each(|(i, (code, district))| {
        mau01(&inbox.join(format!("BC PTDV T10 {code}.xlsx")), code, district, i as u64 + 1).map_err(|e| e.to_string())
    })?;
    districts.par_iter().enumerate().try_for_each(|(d, code)| {
        let theirs: Vec<String> = units.iter().skip(d * 15).take(15).map(|u| u.0.clone()).collect();
        mau02(&inbox.join(format!("Mau02 {code}.xlsx")), code, &theirs).map_err(|e| e.to_string())
    })?;
    println!("{n} grassroots and {} district returns in {}", districts.len(), inbox.display());
    Ok(())
}
