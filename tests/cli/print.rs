//! The consolidated report prints: LibreOffice turns it into a PDF whose first page holds
//! the title and the province total. Skipped, saying so, where LibreOffice or pdftotext
//! is not installed (`apt-get install libreoffice-calc-nogui poppler-utils`).

use std::process::Command;

use crate::common::sample;

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn the_consolidated_workbook_converts_to_pdf_with_title_and_total_on_page_one() {
    if !have("soffice") || !have("pdftotext") {
        eprintln!("skipped: soffice or pdftotext is not installed");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let workbook = &sample().workbook;
    let profile = format!("-env:UserInstallation=file://{}/profile", out.path().display());
    // A stuck office process must not hold the test run: two minutes is ample.
    let converted = Command::new("timeout")
        .args(["120", "soffice", profile.as_str(), "--headless", "--convert-to", "pdf", "--outdir"])
        .arg(out.path())
        .arg(workbook)
        .output()
        .unwrap();
    assert!(converted.status.success(), "{converted:?}");
    let pdf = out.path().join("Tong_hop_PTDV_2023-10.pdf");
    assert!(pdf.exists(), "{}", String::from_utf8_lossy(&converted.stderr));
    let text = Command::new("pdftotext").args(["-f", "1", "-l", "1", "-layout"]).arg(&pdf).arg("-").output().unwrap();
    let page = String::from_utf8_lossy(&text.stdout);
    assert!(page.contains("TỔNG HỢP KẾT QUẢ CÔNG TÁC PHÁT TRIỂN ĐẢNG VIÊN"), "{page}");
    let total = page.lines().find(|l| l.contains("Toàn Đảng bộ tỉnh")).unwrap_or_else(|| panic!("{page}"));
    assert!(total.contains("3,335") || total.contains("3.335"), "{total}");
}
