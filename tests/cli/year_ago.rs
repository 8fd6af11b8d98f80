//! The same period a year earlier and the year's trend, on the sample: the month and the
//! year to date against 2022 as the board published it (`cong_bo_nam_truoc.xlsx`, made by
//! the generator), the month-by-month sheet and its chart; without last year's table, the
//! comparison is unknown and said so.

use std::io::Read as _;

use crate::common::{copy_dir, findings_sheet, root, sample, sheet, tonghop};

/// Hà Nam's grassroots admissions of 2022 by month (1-12), added up from the published
/// table's grassroots rows, not its totals.
fn published_2022(months: std::ops::RangeInclusive<usize>) -> f64 {
    let rows = sheet(&root().join("sample_data/reference/cong_bo_nam_truoc.xlsx"), "Năm trước").rows();
    let registry = std::fs::read_to_string(root().join("sample_data/reference/don_vi.csv")).unwrap();
    let grassroots: Vec<&str> = registry
        .lines()
        .filter(|l| l.split(',').nth(2) == Some("grassroots"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut total = 0.0;
    for row in rows.iter().filter(|r| grassroots.contains(&r[0].as_str())) {
        total += months.clone().map(|m| row[1 + m].parse::<f64>().unwrap()).sum::<f64>();
    }
    total
}

#[test]
fn the_month_and_the_year_to_date_are_compared_with_the_same_period_of_2022() {
    let s = sheet(&sample().workbook, "Tổng hợp");
    let province = s.row_of("35");
    let (october, to_october) = (published_2022(10..=10), published_2022(1..=10));
    assert_eq!((october, to_october), (84.0, 747.0), "the generator's numbers");
    assert_eq!(s.number(province, s.column("Kết nạp trong tháng", "Tháng này")), 95.0);
    assert_eq!(s.number(province, s.column("Kết nạp trong tháng", "Cùng kỳ năm trước")), october);
    let month = s.column("Kết nạp trong tháng", "% so với cùng kỳ");
    assert_eq!(s.percent(province, month), 113.1, "95 / 84");
    assert_eq!(s.number(province, s.column("Kết nạp từ đầu năm", "Năm nay")), 1099.0);
    assert_eq!(s.number(province, s.column("Kết nạp từ đầu năm", "Cùng kỳ năm trước")), to_october);
    assert_eq!(s.percent(province, s.column("Kết nạp từ đầu năm", "% so với cùng kỳ")), 147.1, "1,099 / 747");
}

#[test]
fn the_trend_adds_up_to_the_year_to_date_month_by_month_and_has_its_chart() {
    let s = sheet(&sample().workbook, "Diễn biến năm");
    let months: Vec<usize> = (1..=12).map(|m| s.column("Kết nạp trong tháng", &format!("T{m}"))).collect();
    let to_date = s.column("Cả năm", "Từ đầu năm");
    for code in ["347", "349", "350", "351", "352", "353", "K01", "K02", "QS", "CA", "35"] {
        let row = s.row_of(code);
        let sum: f64 = months[..10].iter().map(|&c| s.number(row, c)).sum();
        assert_eq!(sum, s.number(row, to_date), "{code}: January to October add up to the year to date");
        assert!(s.text(row, months[10]).is_empty() && s.text(row, months[11]).is_empty(), "November is to come");
    }
    // Under the table: the province's running total and the plan's even pace, then the chart.
    let rows = s.rows();
    let running = rows.iter().find(|r| r.contains(&"Lũy kế từ đầu năm".to_string())).expect("the running total");
    assert_eq!(running[months[9]], "1099");
    let pace = rows.iter().find(|r| r.contains(&"Kế hoạch năm chia đều".to_string())).expect("the even pace");
    let plan = s.number(s.row_of("35"), s.column("Cả năm", "Kế hoạch năm"));
    assert_eq!(pace[months[11]].parse::<f64>().unwrap(), plan);

    let file = std::fs::File::open(&sample().workbook).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut charts = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        if entry.name().unwrap().starts_with("xl/charts/chart") {
            let mut xml = String::new();
            entry.read_to_string(&mut xml).unwrap();
            charts.push(xml);
        }
    }
    let line = charts.iter().find(|xml| xml.contains("<c:lineChart>")).expect("a line chart");
    assert!(line.contains("Kết nạp đảng viên lũy kế từ đầu năm so với kế hoạch năm"), "its title");
    assert!(line.contains("'Diễn biến năm'!$"), "drawn from the sheet's own cells");
}

#[test]
fn without_last_years_table_the_comparison_is_unknown_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&root().join("sample_data"), &data);
    std::fs::remove_file(data.join("reference/cong_bo_nam_truoc.xlsx")).unwrap();
    let out = dir.path().join("out");
    let run = tonghop(&["run", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let workbook = out.join("Tong_hop_PTDV_2023-10.xlsx");
    let s = sheet(&workbook, "Tổng hợp");
    let province = s.row_of("35");
    assert_eq!(s.text(province, s.column("Kết nạp trong tháng", "Cùng kỳ năm trước")), "Chưa rõ");
    assert_eq!(s.number(province, s.column("Kết nạp trong tháng", "Tháng này")), 95.0, "the rest as it was");
    let found: Vec<_> =
        findings_sheet(&workbook).into_iter().filter(|f| f["Mã lỗi"] == "reference-unavailable").collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["Mức độ"], "Cảnh báo");
    assert!(found[0]["Nội dung"].contains("cong_bo_nam_truoc.xlsx"), "{:?}", found[0]);
}
