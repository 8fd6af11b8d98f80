//! What a board says at its monthly briefing and sends back to units, on the sample: who
//! reported on time (the deadline is the 30th; three returns dated the 31st, one with its
//! date line left blank), who is behind the plan's pace, the shortfall of 2022 carried into
//! 2023, and `tonghop feedback`'s workbooks, read back and printed.

use crate::common::{root, sample, sheet, tonghop};
use crate::print::{can_print, pages, to_pdf, Word};

#[test]
fn a_late_return_is_counted_late_and_an_undated_one_neither() {
    let s = sheet(&sample().workbook, "Tình hình nộp báo cáo");
    let rows = s.rows();
    let group = |name: &str| rows.iter().position(|r| r[0] == name).unwrap_or_else(|| panic!("{name}"));
    let on_time = s.column("Thời hạn nộp", "Đúng hạn");
    let counts = |name: &str| {
        let r = group(name);
        let n = |c: usize| s.number(r, c);
        (n(on_time), n(on_time + 1), n(on_time + 2), s.percent(r, on_time + 3))
    };
    // Phủ Lý: Liêm Chính's return dated the 31st; 22 accepted of 23 expected.
    assert_eq!(counts("Đảng bộ thành phố Phủ Lý"), (21.0, 1.0, 0.0, 91.3));
    // Duy Tiên: Bạch Thượng late, Đồng Văn's date line blank: on time 15 of 17.
    assert_eq!(counts("Đảng bộ thị xã Duy Tiên"), (15.0, 1.0, 1.0, 88.2));
    assert_eq!(counts("Toàn tỉnh"), (129.0, 3.0, 1.0, 95.6));
}

#[test]
fn the_units_behind_the_plans_pace_are_listed_under_their_district() {
    let s = sheet(&sample().workbook, "Chậm tiến độ");
    let (done, plan) = (s.column_of("Kết nạp từ đầu năm"), s.column_of("Kế hoạch năm"));
    let (due, short) = (s.column_of("Phải đạt đến tháng này"), s.column_of("Còn thiếu"));
    let row = s.row_of("347.T01");
    // In October ten twelfths of the year's plan are due.
    assert_eq!(s.number(row, plan) * 10.0 / 12.0, s.number(row, due));
    assert!(s.number(row, done) < s.number(row, due));
    assert!((s.number(row, short) - (s.number(row, due) - s.number(row, done))).abs() < 1e-9);
    // Only units behind, each under its district's line; a unit ahead is not there.
    let rows = s.rows();
    let head = rows.iter().position(|r| r[0] == "Mã").unwrap();
    let table = rows[head + 1..].iter().take_while(|r| !r[0].is_empty());
    let listed: Vec<String> = table.map(|r| r[0].clone()).filter(|c| c.starts_with("13") || c.contains('.')).collect();
    assert!(listed.len() >= 3, "{listed:?}");
    for code in &listed {
        let r = s.row_of(code);
        assert!(s.number(r, done) < s.number(r, due), "{code} is behind");
    }
    assert!(!listed.contains(&"13354".to_string()), "Tiên Nội admitted 13 of a plan of 9");
    assert_eq!(s.text(s.row_of("347"), 1), "Đảng bộ thành phố Phủ Lý");
}

#[test]
fn last_years_shortfall_is_carried_beside_the_plan() {
    // Hòa Mạc (Duy Tiên) published 2022 admissions 3 short of its 2022 plan; every other
    // unit reached its own.
    let published = sheet(&root().join("sample_data/reference/cong_bo_nam_truoc.xlsx"), "Năm trước").rows();
    let shortfall = |code: &str| {
        let row = published.iter().find(|r| r[0] == code).unwrap();
        let admitted: f64 = (2..14).map(|c| row[c].parse::<f64>().unwrap()).sum();
        (row[14].parse::<f64>().unwrap() - admitted).max(0.0)
    };
    assert_eq!(shortfall("13324"), 3.0);
    let s = sheet(&sample().workbook, "Tỷ lệ đạt");
    let carried = s.column("Năm", "Năm trước chưa đạt, chuyển sang");
    assert_eq!(s.number(s.row_of("349"), carried), shortfall("349"));
    assert_eq!(s.number(s.row_of("349"), carried), 3.0);
    assert_eq!(s.number(s.row_of("347"), carried), 0.0);
    assert_eq!(s.number(s.row_of("35"), carried), 3.0);
    // The published percentage stays on the plan as published: 1,099 of 779.
    assert_eq!(s.percent(s.row_of("35"), s.column("Năm", "% kế hoạch")), 141.1);
}

#[test]
fn feedback_writes_a_workbook_a_district_clerk_can_forward() {
    let out = crate::common::consolidated_copy();
    let dest = out.path().join("to-mail");
    let run = tonghop(&[
        "feedback",
        "--out",
        out.path().to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--date",
        "2023-10-31",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(said.contains("15 workbook(s) for 2023-10"), "{said}");
    // One per district-level unit (ten) and one per grassroots unit with an error.
    let mut files: Vec<String> =
        std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files.len(), 15, "{files:?}");
    assert!(files.contains(&"Phan_hoi_2023-10_13528.xlsx".to_string()), "Xã An Ninh sent nothing");

    // Bình Lục: its missing commune and its own return's mismatch, each with the fix.
    let workbook = dest.join("Phan_hoi_2023-10_352.xlsx");
    let s = sheet(&workbook, "Phản hồi");
    let rows = s.rows();
    assert!(rows.iter().any(|r| r[0] == "KẾT QUẢ KIỂM TRA BÁO CÁO CỦA ĐẢNG BỘ HUYỆN BÌNH LỤC"), "{rows:?}");
    let head = rows.iter().position(|r| r[0] == "Mức độ").unwrap();
    let found: Vec<&Vec<String>> = rows[head + 1..].iter().filter(|r| !r[0].is_empty()).collect();
    let missing = found.iter().find(|r| r[1] == "Xã An Ninh").expect("the missing return");
    assert_eq!(missing[0], "Lỗi");
    assert!(missing[5].starts_with("Gửi báo cáo của tháng"), "{missing:?}");
    let mismatch = found.iter().find(|r| r[4].contains("quyết định kết nạp")).expect("the reconciliation");
    assert!(mismatch[5].starts_with("Đối chiếu"), "{mismatch:?}");
    assert!(found.iter().all(|r| r[1] != "Xã Thanh Tân"), "another district's unit is not in Bình Lục's");
    // Signed by the board, sent to the district.
    assert!(rows.iter().any(|r| r[0] == "- Đảng bộ huyện Bình Lục;"), "{rows:?}");
    assert!(rows.iter().any(|r| r.contains(&"PHÓ TRƯỞNG BAN".to_string())), "{rows:?}");
    // Lý Nhân has nothing to correct: said so, not an empty table.
    let ly_nhan = sheet(&dest.join("Phan_hoi_2023-10_353.xlsx"), "Phản hồi").rows();
    assert!(ly_nhan.iter().any(|r| r[0] == "Các báo cáo của tháng đã nộp đủ, không có lỗi cần sửa."), "{ly_nhan:?}");

    if !can_print() {
        return;
    }
    let (_dir, pdf) = to_pdf(&workbook);
    for (i, page) in pages(&pdf).iter().enumerate() {
        let (short, long) = (page.width.min(page.height), page.width.max(page.height));
        assert!((short - 595.3).abs() < 1.0 && (long - 841.9).abs() < 1.0, "page {}: not A4", i + 1);
        let mut heights: Vec<f64> = page.words.iter().map(Word::height).collect();
        heights.sort_by(f64::total_cmp);
        assert!(heights[heights.len() / 2] / 1.3 >= 9.9, "page {}: {}", i + 1, page.text());
        assert!(page.text().contains(&format!("Trang {}/", i + 1)), "page {}: numbered", i + 1);
    }
}
