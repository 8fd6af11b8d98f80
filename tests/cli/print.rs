//! The consolidated workbook prints as the board prints it: LibreOffice turns it into a PDF,
//! and the PDF's own text positions (`pdftotext -bbox`) are read back. Every page is A4, its
//! text is 10 pt or more, no word prints over another, and every page is numbered
//! `Trang N/M` within its sheet.
//!
//! Needs LibreOffice, poppler's pdftotext and the Liberation fonts (`apt-get install
//! libreoffice-calc-nogui poppler-utils fonts-liberation2`; `.ci/run` installs them). Where
//! they are missing the tests say so and pass, except under `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::sample;

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}

/// Whether the tools are here; under CI their absence is a failure, not a skip.
pub(crate) fn can_print() -> bool {
    let here = have("soffice") && have("pdftotext");
    if !here {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but LibreOffice or pdftotext is missing: .ci/run installs them"
        );
        eprintln!(
            "skipped: soffice or pdftotext is not installed (apt-get install libreoffice-calc-nogui poppler-utils)"
        );
    }
    here
}

/// A word printed on a page, and its box in points from the page's top left corner.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub(crate) text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Word {
    pub(crate) fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// The share of the smaller word's box that the other covers.
    fn overlap(&self, other: &Word) -> f64 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let area = |w: &Word| (w.x1 - w.x0) * (w.y1 - w.y0);
        w * h / area(self).min(area(other)).max(1e-9)
    }
}

#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) words: Vec<Word>,
}

impl Page {
    pub(crate) fn text(&self) -> String {
        self.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The page's `Trang N/M`.
    fn number(&self) -> Option<(usize, usize)> {
        let at = self.words.iter().position(|w| w.text == "Trang")?;
        let (n, m) = self.words.get(at + 1)?.text.split_once('/')?;
        Some((n.parse().ok()?, m.parse().ok()?))
    }
}

/// The value of `name="…"` in a tag.
fn attribute(tag: &str, name: &str) -> f64 {
    let start = tag.find(&format!("{name}=\"")).expect("the attribute is there") + name.len() + 2;
    tag[start..].split('"').next().unwrap().parse().unwrap()
}

/// The pages of `pdf` with their words, as `pdftotext -bbox` gives them.
pub(crate) fn pages(pdf: &Path) -> Vec<Page> {
    let out = Command::new("pdftotext").arg("-bbox").arg(pdf).arg("-").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8(out.stdout).unwrap();
    let unescape = |t: &str| t.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    let mut pages = Vec::new();
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            pages.push(Page { width: attribute(line, "width"), height: attribute(line, "height"), words: vec![] });
        } else if line.starts_with("<word ") {
            let text = line.split_once('>').unwrap().1.trim_end_matches("</word>");
            let word = Word {
                text: unescape(text),
                x0: attribute(line, "xMin"),
                y0: attribute(line, "yMin"),
                x1: attribute(line, "xMax"),
                y1: attribute(line, "yMax"),
            };
            pages.last_mut().expect("a word is on a page").words.push(word);
        }
    }
    pages
}

/// The sample's workbook printed to PDF by LibreOffice, once for all tests.
fn printed() -> &'static (tempfile::TempDir, PathBuf) {
    static PRINTED: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    PRINTED.get_or_init(|| to_pdf(&sample().workbook))
}

/// `workbook` printed to PDF by LibreOffice, as the board prints: the folder and the PDF.
pub(crate) fn to_pdf(workbook: &Path) -> (tempfile::TempDir, PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let profile = format!("-env:UserInstallation=file://{}/profile", out.path().display());
    // A stuck office process must not hold the test run: two minutes is ample.
    let converted = Command::new("timeout")
        .args(["120", "soffice", profile.as_str(), "--headless", "--convert-to", "pdf", "--outdir"])
        .arg(out.path())
        .arg(workbook)
        .output()
        .unwrap();
    assert!(converted.status.success(), "{converted:?}");
    let pdf = out.path().join(workbook.with_extension("pdf").file_name().unwrap());
    assert!(pdf.exists(), "{}", String::from_utf8_lossy(&converted.stderr));
    (out, pdf)
}

#[test]
fn the_first_page_holds_the_title_and_the_province_total() {
    if !can_print() {
        return;
    }
    let first = &pages(&printed().1)[0];
    let text = first.text();
    assert!(text.contains("TỔNG HỢP KẾT QUẢ CÔNG TÁC PHÁT TRIỂN ĐẢNG VIÊN"), "{text}");
    let total = first.words.iter().find(|w| w.text == "Toàn").expect("the province's row");
    let row: Vec<&str> =
        first.words.iter().filter(|w| (w.y0 - total.y0).abs() < 2.0).map(|w| w.text.as_str()).collect();
    assert!(row.contains(&"3,335") || row.contains(&"3.335"), "{row:?}");
}

#[test]
fn every_page_is_a4_with_text_of_10_points_or_more() {
    if !can_print() {
        return;
    }
    for (i, page) in pages(&printed().1).iter().enumerate() {
        let (short, long) = (page.width.min(page.height), page.width.max(page.height));
        assert!((short - 595.3).abs() < 1.0 && (long - 841.9).abs() < 1.0, "page {}: {page:?}", i + 1);
        // A word's box is about 1.3 times its font's size.
        let mut heights: Vec<f64> = page.words.iter().map(Word::height).collect();
        heights.sort_by(f64::total_cmp);
        let median = heights[heights.len() / 2] / 1.3;
        assert!(median >= 9.9, "page {}: text of {median:.1} pt: {}", i + 1, page.text());
        let smallest = heights[0] / 1.3;
        assert!(smallest >= 9.5, "page {}: a word of {smallest:.1} pt", i + 1);
    }
}

#[test]
fn no_word_prints_over_another() {
    if !can_print() {
        return;
    }
    for (i, page) in pages(&printed().1).iter().enumerate() {
        for (a, first) in page.words.iter().enumerate() {
            for second in &page.words[a + 1..] {
                // Lines of one wrapped cell touch: a word's box is taller than the line.
                let overlap = first.overlap(second);
                assert!(
                    overlap < 0.3,
                    "page {}: “{}” and “{}” overlap by {overlap:.2}",
                    i + 1,
                    first.text,
                    second.text
                );
            }
        }
    }
}

#[test]
fn every_page_is_numbered_within_its_sheet() {
    if !can_print() {
        return;
    }
    let numbers: Vec<(usize, usize)> = pages(&printed().1)
        .iter()
        .enumerate()
        .map(|(i, page)| page.number().unwrap_or_else(|| panic!("page {} has no “Trang N/M”", i + 1)))
        .collect();
    // Each sheet's pages run 1/M, 2/M … M/M; the sheets follow each other.
    let mut expected = 1;
    let mut sheets = 0;
    for (i, &(n, m)) in numbers.iter().enumerate() {
        if n == 1 {
            assert_eq!(expected, 1, "page {}: a sheet ended after {} of its pages: {numbers:?}", i + 1, n);
            sheets += 1;
        }
        assert_eq!(n, expected, "page {}: {numbers:?}", i + 1);
        expected = if n == m { 1 } else { n + 1 };
    }
    assert_eq!(expected, 1, "the last sheet ends on its last page: {numbers:?}");
    assert_eq!(sheets, sample_sheets(), "{numbers:?}");
}

/// The sample workbook's sheets.
fn sample_sheets() -> usize {
    crate::common::sheet_names(&sample().workbook).len()
}
