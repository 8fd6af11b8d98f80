//! The sample province, consolidated for 2023-10 by the real binary, shows every figure
//! the province published (docs/returns.md, "The figures the sample reproduces"), in the
//! sheet and row where a person would look for it.

use std::path::PathBuf;

use crate::common::{sample, sheet, Sheet};

fn workbook() -> &'static PathBuf {
    &sample().workbook
}

fn summary() -> Sheet {
    sheet(workbook(), "Tổng hợp")
}

fn by_unit() -> Sheet {
    sheet(workbook(), "Kết nạp theo cơ sở")
}

const ADMITTED: &str = "Kết nạp đảng viên";
const AWARENESS: &str = "Lớp nhận thức về Đảng";
const NEW_MEMBERS: &str = "Lớp đảng viên mới";

#[test]
fn province_admitted_since_the_start_of_the_term() {
    let s = summary();
    let row = s.row_of("35");
    assert_eq!(s.text(row, 1), "Toàn Đảng bộ tỉnh");
    assert_eq!(s.number(row, s.column(ADMITTED, "Từ đầu nhiệm kỳ")), 3335.0);
}

#[test]
fn thanh_liem() {
    let s = summary();
    let row = s.row_of("351");
    assert_eq!(s.number(row, s.column(ADMITTED, "Từ đầu nhiệm kỳ")), 539.0);
    assert_eq!(s.number(row, s.column(ADMITTED, "Chỉ tiêu nhiệm kỳ")), 600.0);
    assert_eq!(s.percent(row, s.column(ADMITTED, "% chỉ tiêu nhiệm kỳ")), 89.8);
    assert_eq!(s.number(row, s.column(ADMITTED, "Chỉ tiêu tỉnh giao")), 650.0);
    assert_eq!(s.percent(row, s.column(ADMITTED, "% chỉ tiêu tỉnh giao")), 82.9);
    assert_eq!(s.number(row, s.column(AWARENESS, "Số lớp từ đầu nhiệm kỳ")), 18.0);
    assert_eq!(s.number(row, s.column(AWARENESS, "Học viên từ đầu nhiệm kỳ")), 921.0);
    assert_eq!(s.number(row, s.column(AWARENESS, "Số lớp từ đầu năm")), 6.0);
}

#[test]
fn duy_tien() {
    let s = summary();
    let row = s.row_of("349");
    assert_eq!(s.number(row, s.column(ADMITTED, "Từ đầu nhiệm kỳ")), 418.0);
    assert_eq!(s.number(row, s.column(ADMITTED, "Chỉ tiêu nhiệm kỳ")), 500.0);
    assert_eq!(s.percent(row, s.column(ADMITTED, "% chỉ tiêu nhiệm kỳ")), 83.6);
    assert_eq!(s.number(row, s.column(ADMITTED, "Từ đầu năm")), 166.0);
    assert_eq!(s.number(row, s.column(ADMITTED, "Kế hoạch năm")), 100.0);
    assert_eq!(s.percent(row, s.column(ADMITTED, "% kế hoạch năm")), 166.0);
    assert_eq!(s.number(row, s.column(AWARENESS, "Số lớp từ đầu nhiệm kỳ")), 13.0);
    assert_eq!(s.number(row, s.column(AWARENESS, "Học viên từ đầu nhiệm kỳ")), 699.0);
    assert_eq!(s.number(row, s.column(AWARENESS, "Số lớp từ đầu năm")), 5.0);
    assert_eq!(s.number(row, s.column(AWARENESS, "Học viên từ đầu năm")), 250.0);
    assert_eq!(s.number(row, s.column(NEW_MEMBERS, "Số lớp từ đầu nhiệm kỳ")), 8.0);
    assert_eq!(s.number(row, s.column(NEW_MEMBERS, "Số lớp từ đầu năm")), 3.0);
    assert_eq!(s.number(row, s.column(NEW_MEMBERS, "Học viên từ đầu năm")), 135.0);
}

#[test]
fn kim_bang() {
    let s = summary();
    let row = s.row_of("350");
    assert_eq!(s.number(row, s.column(ADMITTED, "Từ đầu nhiệm kỳ")), 496.0);
    assert_eq!(s.number(row, s.column(ADMITTED, "Chỉ tiêu nhiệm kỳ")), 600.0);
    assert_eq!(s.percent(row, s.column(ADMITTED, "% chỉ tiêu nhiệm kỳ")), 82.7);
}

const TERM: &str = "Kết nạp từ đầu nhiệm kỳ";

#[test]
fn phu_ly_students() {
    let s = by_unit();
    let row = s.row_of("347");
    assert_eq!(s.text(row, 1), "Cộng Đảng bộ thành phố Phủ Lý");
    assert_eq!(s.number(row, s.column(TERM, "Tổng số")), 415.0);
    assert_eq!(s.number(row, s.column(TERM, "Học sinh, sinh viên")), 15.0);
    assert_eq!(s.percent(row, s.column("Tỷ lệ", "% học sinh, sinh viên")), 3.6);
}

#[test]
fn binh_luc_residential() {
    let s = by_unit();
    let row = s.row_of("352");
    assert_eq!(s.number(row, s.column(TERM, "Tổng số")), 334.0);
    assert_eq!(s.number(row, s.column(TERM, "Ở khu dân cư")), 99.0);
    assert_eq!(s.percent(row, s.column("Tỷ lệ", "% ở khu dân cư")), 29.6);
}

#[test]
fn grassroots_units() {
    let s = by_unit();
    let target = s.column("Chỉ tiêu nhiệm kỳ", "Chỉ tiêu");
    let attained = s.column("Chỉ tiêu nhiệm kỳ", "% đạt");
    let total = s.column(TERM, "Tổng số");

    let tien_noi = s.row_of("13354");
    assert_eq!(s.text(tien_noi, 1), "Phường Tiên Nội");
    assert_eq!(s.number(tien_noi, total), 29.0);
    assert_eq!(s.number(tien_noi, target), 35.0);
    assert_eq!(s.percent(tien_noi, attained), 82.9);
    assert_eq!(s.number(tien_noi, s.column("Kết nạp", "Từ đầu năm")), 13.0);

    let yen_nam = s.row_of("13360");
    assert_eq!(s.number(yen_nam, total), 25.0);
    assert_eq!(s.number(yen_nam, target), 30.0);
    assert_eq!(s.percent(yen_nam, attained), 83.3);

    let kien_khe = s.row_of("13441");
    assert_eq!(s.number(kien_khe, total), 36.0);
    assert_eq!(s.number(kien_khe, s.column(TERM, "Người có đạo")), 9.0);

    let so_y_te = s.row_of("K01.YT");
    assert_eq!(s.text(so_y_te, 1), "Đảng bộ Sở Y tế");
    assert_eq!(s.number(so_y_te, total), 46.0);

    let bien_hoa = s.row_of("347.T01");
    assert_eq!(s.text(bien_hoa, 1), "Đảng bộ Trường THPT chuyên Biên Hòa");
    assert_eq!(s.number(bien_hoa, s.column(TERM, "Học sinh, sinh viên")), 11.0);
}

#[test]
fn the_workbook_has_the_nine_sheets() {
    let book: calamine::Xlsx<_> = calamine::open_workbook(workbook()).unwrap();
    use calamine::Reader;
    assert_eq!(
        book.sheet_names(),
        [
            "Tổng hợp",
            "Kết nạp theo cơ sở",
            "Lớp bồi dưỡng",
            "Tỷ lệ đạt",
            "Diễn biến năm",
            "Chậm tiến độ",
            "Kiểm tra dữ liệu",
            "Tình hình nộp báo cáo",
            "Thông tin"
        ]
    );
}

#[test]
fn grassroots_units_that_admitted_this_year() {
    let s = summary();
    let row = s.row_of("35");
    let c = s.column("Tổ chức cơ sở đảng", "Có kết nạp trong năm / tổng số");
    assert_eq!(s.text(row, c), "125/125");
}

#[test]
fn classes_of_the_month_add_up() {
    let s = sheet(workbook(), "Lớp bồi dưỡng");
    let trainees = s.column_of("Số học viên");
    let rows = s.rows();
    let total = rows.iter().position(|r| r[0] == "Tổng cộng").expect("a total row");
    let first = s.row_of("Đơn vị") + 1;
    let sum: f64 = (first..total).map(|r| s.number(r, trainees)).sum();
    assert!(total > first, "October has classes");
    assert_eq!(s.number(total, trainees), sum);
}

#[test]
fn a_unit_that_sent_nothing_has_no_figure_for_the_month_and_the_totals_say_who_reported() {
    let s = by_unit();
    let month = s.column("Kết nạp", "Trong tháng");
    let term = s.column("Kết nạp từ đầu nhiệm kỳ", "Tổng số");
    let reporting = s.column_of("Báo cáo hợp lệ / phải nộp");
    // Xã An Ninh sent nothing; Phường Minh Khai's return names no unit.
    for code in ["13528", "13294"] {
        let row = s.row_of(code);
        assert_eq!((s.text(row, month), s.text(row, reporting)), ("Chưa nộp".into(), "0/1".into()), "{code}");
    }
    assert_eq!(s.number(s.row_of("13528"), term), 14.0, "the cumulative figure stays, marked incomplete");
    let total = s.row_of("35");
    assert_eq!((s.number(total, month), s.text(total, reporting)), (95.0, "133/135".into()));
    assert_eq!(s.text(s.row_of("352"), reporting), "18/19");
    let notes: Vec<String> = s
        .rows()
        .into_iter()
        .map(|r| r[0].clone())
        .filter(|t| t.starts_with("Đơn vị chưa nộp") || t.starts_with("Số in nghiêng"))
        .collect();
    assert_eq!(
        notes,
        [
            "Đơn vị chưa nộp báo cáo hợp lệ: Phường Minh Khai (Đảng bộ thành phố Phủ Lý); Xã An Ninh (Đảng bộ huyện Bình Lục).",
            "Số in nghiêng, nền vàng: thiếu báo cáo hợp lệ của ít nhất một kỳ trong thời gian lũy kế.",
        ]
    );
}
