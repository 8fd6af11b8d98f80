//! Writes `sample_data/`: the sample province of Hà Nam, January to October 2023.
//!
//! `cargo run --example make_sample` (optionally with a target folder). Deterministic:
//! the same program writes the same figures every time. The reference data uses the real
//! GSO codes of `examples/gso/`; the returns are invented so that the consolidated
//! workbook of 2023-10 shows the figures the province published (docs/returns.md), and a few
//! returns of October carry the mess real returns carry, so the sample run has findings.
//!
//! Every person admitted is generated one by one with their attributes, and the returns
//! count them, so "of which" columns never exceed totals and every figure is a sum.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use unicode_normalization::UnicodeNormalization;

const YEAR: i32 = 2023;
const LAST_MONTH: u32 = 10;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// Split `total` in proportion to `weights`, by largest remainder.
fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut out: Vec<i64> = exact.iter().map(|e| e.floor() as i64).collect();
    let mut rest = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    out
}

fn ascii(text: &str) -> String {
    text.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .collect()
}

fn upper(text: &str) -> String {
    text.to_uppercase()
}

// ---------------------------------------------------------------- the registry

#[derive(Clone, Debug)]
struct Unit {
    code: String,
    name: String,
    kind: &'static str,
    parent: String,
    valid_from: String,
    valid_to: String,
    aliases: Vec<String>,
}

fn unit(code: &str, name: &str, kind: &'static str, parent: &str, aliases: &[&str]) -> Unit {
    Unit {
        code: code.into(),
        name: name.into(),
        kind,
        parent: parent.into(),
        valid_from: "2020-01".into(),
        // Hà Nam merged into Ninh Bình on 2025-07-01 and the district level ended.
        valid_to: "2025-06".into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    }
}

fn read_gso(path: &Path) -> Vec<(String, String, String)> {
    let text = fs::read_to_string(path).expect("the GSO list is in examples/gso");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f.len() >= 6).then(|| (f[3].trim().to_string(), f[4].trim().to_string(), f[5].trim().to_string()))
        })
        .collect()
}

const DISTRICTS: [(&str, &str, &str); 10] = [
    ("347", "Đảng bộ thành phố Phủ Lý", "Thành ủy Phủ Lý"),
    ("349", "Đảng bộ thị xã Duy Tiên", "Thị ủy Duy Tiên"),
    ("350", "Đảng bộ huyện Kim Bảng", "Huyện ủy Kim Bảng"),
    ("351", "Đảng bộ huyện Thanh Liêm", "Huyện ủy Thanh Liêm"),
    ("352", "Đảng bộ huyện Bình Lục", "Huyện ủy Bình Lục"),
    ("353", "Đảng bộ huyện Lý Nhân", "Huyện ủy Lý Nhân"),
    ("K01", "Đảng bộ Khối các cơ quan tỉnh", "Đảng ủy Khối các cơ quan tỉnh"),
    ("K02", "Đảng bộ Khối doanh nghiệp tỉnh", "Đảng ủy Khối doanh nghiệp tỉnh"),
    ("QS", "Đảng bộ Quân sự tỉnh", "Đảng ủy Quân sự tỉnh"),
    ("CA", "Đảng bộ Công an tỉnh", "Đảng ủy Công an tỉnh"),
];

/// Agencies, schools and enterprises with local codes.
const OTHERS: [(&str, &str, &str); 16] = [
    ("347.T01", "Đảng bộ Trường THPT chuyên Biên Hòa", "347"),
    ("351.T01", "Chi bộ Trường THPT Thanh Liêm A", "351"),
    ("352.T01", "Chi bộ Trường THPT Bình Lục A", "352"),
    ("K01.YT", "Đảng bộ Sở Y tế", "K01"),
    ("K01.GD", "Đảng bộ Sở Giáo dục và Đào tạo", "K01"),
    ("K01.TC", "Chi bộ Sở Tài chính", "K01"),
    ("K01.NN", "Đảng bộ Sở Nông nghiệp và Phát triển nông thôn", "K01"),
    ("K02.XM", "Đảng bộ Công ty Xi măng Vicem Bút Sơn", "K02"),
    ("K02.DL", "Đảng bộ Công ty Điện lực Hà Nam", "K02"),
    ("K02.MT", "Chi bộ Công ty Môi trường đô thị Hà Nam", "K02"),
    ("QS.BCH", "Đảng bộ Cơ quan Bộ Chỉ huy Quân sự tỉnh", "QS"),
    ("QS.PL", "Đảng bộ Ban Chỉ huy Quân sự thành phố Phủ Lý", "QS"),
    ("QS.LN", "Đảng bộ Ban Chỉ huy Quân sự huyện Lý Nhân", "QS"),
    ("CA.PB", "Đảng bộ Các phòng nghiệp vụ Công an tỉnh", "CA"),
    ("CA.PL", "Đảng bộ Công an thành phố Phủ Lý", "CA"),
    ("CA.TL", "Đảng bộ Công an huyện Thanh Liêm", "CA"),
];

fn registry(gso: &Path) -> Vec<Unit> {
    let mut units = vec![unit("35", "Đảng bộ tỉnh Hà Nam", "province", "", &["Tỉnh ủy Hà Nam"])];
    for (code, name, committee) in DISTRICTS {
        units.push(unit(code, name, "district", "35", &[committee]));
    }
    let old = read_gso(&gso.join("hanam_units_2021-02.csv"));
    let new = read_gso(&gso.join("hanam_units_2025-01.csv"));
    let new_names: BTreeMap<&str, &str> = new.iter().map(|(_, n, c)| (c.as_str(), n.as_str())).collect();
    for (district, name, code) in &old {
        let mut u = unit(code, name, "grassroots", district, &[&format!("Đảng ủy {}", name.to_lowercase())]);
        match new_names.get(code.as_str()) {
            Some(n) if *n == name => {}
            Some(n) => {
                // The same code under a new name after the 2024-2025 mergers.
                u.valid_to = "2024-12".into();
                let mut renamed = unit(code, n, "grassroots", district, &[]);
                renamed.valid_from = "2025-01".into();
                units.push(u);
                units.push(renamed);
                continue;
            }
            None => u.valid_to = "2024-12".into(),
        }
        units.push(u);
    }
    for (district, name, code) in &new {
        if !old.iter().any(|(_, _, c)| c == code) {
            let mut u = unit(code, name, "grassroots", district, &[]);
            u.valid_from = "2025-01".into();
            units.push(u);
        }
    }
    for (code, name, parent) in OTHERS {
        let alias = name.replace("Trường THPT chuyên Biên Hòa", "Trường THPT chuyên Biên Hoà");
        let aliases: Vec<&str> = if alias != name { vec![alias.as_str()] } else { vec![] };
        units.push(unit(code, name, "grassroots", parent, &aliases));
    }
    units
}

fn registry_csv(units: &[Unit]) -> String {
    let mut out = String::from("code,name,kind,parent,valid_from,valid_to,aliases\n");
    for u in units {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            u.code,
            u.name,
            u.kind,
            u.parent,
            u.valid_from,
            u.valid_to,
            u.aliases.join(";")
        ));
    }
    out
}

// ---------------------------------------------------------------- admissions

/// One person admitted: when (0 = before 2023, in the opening balance), in which party
/// cell, and what the "of which" columns count them as.
#[derive(Clone, Default)]
struct Person {
    month: u32,
    cell: usize,
    female: bool,
    youth: bool,
    student: bool,
    religious: bool,
    residential: bool,
    private: bool,
    veteran: bool,
}

struct Grassroots {
    code: String,
    name: String,
    district: String,
    cells: Vec<String>,
    persons: Vec<Person>,
    term_target: i64,
    year_plan: i64,
    members: i64,
}

/// Term-to-date admissions per district-level unit at 2023-10 (docs/returns.md; Lý Nhân and
/// the four blocs share the rest of the province's 3,335).
const DISTRICT_TERM: [(&str, i64); 10] = [
    ("347", 415),
    ("349", 418),
    ("350", 496),
    ("351", 539),
    ("352", 334),
    ("353", 470),
    ("K01", 290),
    ("K02", 160),
    ("QS", 110),
    ("CA", 103),
];
/// Units whose term-to-date admissions were published.
const UNIT_TERM: [(&str, i64); 5] = [("13354", 29), ("13360", 25), ("13441", 36), ("K01.YT", 46), ("347.T01", 14)];

/// October's returns dated after the deadline (the 30th): the 31st.
const LATE_IN_OCTOBER: [&str; 3] = ["13309", "13333", "13519"];
/// October's return whose date line was left unfilled (`ngày    tháng 10 năm 2023`).
const UNDATED_IN_OCTOBER: &str = "13321";
/// The unit that did not reach its 2022 plan by 3: the shortfall carried over into 2023.
const SHORT_IN_2022: &str = "13324";

/// Units planted with October mess; see `october_mess`.
const MISSING_IN_OCTOBER: &str = "13528"; // Xã An Ninh (Bình Lục) sends nothing for October
const WRONG_CODE_IN_OCTOBER: &str = "13477"; // Xã Thanh Tân (Thanh Liêm) mistypes its code
/// A return that cannot be attributed: no code, and a committee line cut short. Sent by the
/// first unit (in registry order) with no admissions in October and no other mess, so the
/// published figures stay.
const CUT_SHORT_ISSUER: &str = "ĐẢNG ỦY XÃ";

fn cell_names(rng: &mut Rng, name: &str) -> Vec<String> {
    let n = 5 + rng.below(11);
    let prefix = if name.starts_with("Phường") || name.starts_with("Thị trấn") {
        "Chi bộ tổ dân phố số"
    } else if name.starts_with("Xã") {
        "Chi bộ thôn"
    } else {
        "Chi bộ số"
    };
    (1..=n).map(|k| format!("{prefix} {k}")).collect()
}

fn admissions(rng: &mut Rng, registry: &[Unit]) -> Vec<Grassroots> {
    let mut out = Vec::new();
    for (district, total) in DISTRICT_TERM {
        let units: Vec<&Unit> = registry
            .iter()
            .filter(|u| {
                u.kind == "grassroots"
                    && u.parent == district
                    && u.valid_from.as_str() <= "2023-10"
                    && u.valid_to.as_str() >= "2023-10"
            })
            .collect();
        let pinned = |code: &str| UNIT_TERM.iter().find(|(c, _)| *c == code).map(|p| p.1);
        let free_total = total - units.iter().filter_map(|u| pinned(&u.code)).sum::<i64>();
        let weights: Vec<f64> =
            units.iter().map(|u| if pinned(&u.code).is_some() { 0.0 } else { rng.weight() }).collect();
        let free = apportion(free_total, &weights);
        let term: Vec<i64> = units.iter().zip(&free).map(|(u, f)| pinned(&u.code).unwrap_or(*f)).collect();

        // Admitted in 2023: Duy Tiên's 166 (Tiên Nội 13) is published; elsewhere about a third.
        let year: Vec<i64> = if district == "349" {
            let weights: Vec<f64> =
                units.iter().zip(&term).map(|(u, t)| if u.code == "13354" { 0.0 } else { *t as f64 }).collect();
            let split = apportion(166 - 13, &weights);
            units.iter().zip(split).map(|(u, y)| if u.code == "13354" { 13 } else { y }).collect()
        } else {
            let share = (total as f64 * 0.32).round() as i64;
            apportion(share, &term.iter().map(|t| *t as f64).collect::<Vec<_>>())
        };

        for ((u, t), y) in units.iter().zip(&term).zip(&year) {
            let cells = cell_names(rng, &u.name);
            let last = if u.code == MISSING_IN_OCTOBER || u.code == WRONG_CODE_IN_OCTOBER { 9 } else { LAST_MONTH };
            let mut persons = Vec::new();
            for i in 0..*t {
                let month = if i < t - y { 0 } else { 1 + rng.below(last as usize) as u32 };
                persons.push(Person {
                    month,
                    cell: rng.below(cells.len()),
                    female: rng.chance(0.46),
                    youth: rng.chance(0.62),
                    student: !district.starts_with("347") && rng.chance(0.02),
                    religious: u.code != "13441" && rng.chance(0.05),
                    residential: district != "352" && rng.chance(0.30),
                    private: rng.chance(0.08),
                    veteran: rng.chance(0.05),
                });
            }
            let target = match u.code.as_str() {
                "13354" => 35,
                "13360" => 30,
                _ => ((*t as f64) * (1.05 + rng.below(25) as f64 / 100.0)).round() as i64,
            };
            out.push(Grassroots {
                code: u.code.clone(),
                name: u.name.clone(),
                district: district.to_string(),
                cells,
                persons,
                term_target: target,
                year_plan: (target as f64 / 4.5).round() as i64 + 1,
                members: 120 + rng.range(0, 380),
            });
        }
    }
    // The published breakdowns: Phủ Lý's 15 students (11 at Biên Hòa), Kiện Khê's 9
    // religious, Bình Lục's 99 residential.
    let mut set = |units: &mut [Grassroots], filter: &dyn Fn(&Grassroots) -> bool, k: usize, mark: fn(&mut Person)| {
        let slots: Vec<(usize, usize)> = units
            .iter()
            .enumerate()
            .filter(|(_, g)| filter(g))
            .flat_map(|(i, g)| (0..g.persons.len()).map(move |p| (i, p)))
            .collect();
        for s in rng.pick(slots.len(), k) {
            let (i, p) = slots[s];
            mark(&mut units[i].persons[p]);
        }
    };
    set(&mut out, &|g| g.code == "347.T01", 11, |p| p.student = true);
    set(&mut out, &|g| g.district == "347" && g.code != "347.T01", 4, |p| p.student = true);
    set(&mut out, &|g| g.code == "13441", 9, |p| p.religious = true);
    set(&mut out, &|g| g.district == "352", 99, |p| p.residential = true);
    out
}

// ---------------------------------------------------------------- classes

#[derive(Clone)]
struct Class {
    month: u32,
    awareness: bool,
    trainees: i64,
    certified: i64,
    name: String,
    venue: String,
    start: (u32, u32),
    end: (u32, u32),
}

struct ClassBook {
    opening: [(i64, i64); 2], // (classes, trainees) before 2023: awareness, new members
    classes: Vec<Class>,
}

fn classes(rng: &mut Rng, district: &str, place: &str) -> ClassBook {
    // Published: awareness trainees per class in 2023, awareness (classes, trainees)
    // before 2023, the same for new-member classes.
    type Plan = (Vec<i64>, (i64, i64), Vec<i64>, (i64, i64));
    let pinned: Option<Plan> = match district {
        "351" => Some((vec![52, 48, 55, 47, 50, 49], (12, 620), vec![44, 41], (6, 250))),
        "349" => Some((vec![50, 48, 52, 49, 51], (8, 449), vec![45, 44, 46], (5, 210))),
        _ => None,
    };
    let bloc = district.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let (aw, aw_open, nm, nm_open) = pinned.unwrap_or_else(|| {
        let n_aw = if bloc { 2 } else { 4 + rng.below(4) };
        let n_nm = if bloc { 1 } else { 2 + rng.below(2) };
        let aw: Vec<i64> = (0..n_aw).map(|_| rng.range(38, 62)).collect();
        let nm: Vec<i64> = (0..n_nm).map(|_| rng.range(30, 50)).collect();
        let open_aw = if bloc { 4 } else { rng.range(8, 14) };
        let open_nm = if bloc { 2 } else { rng.range(4, 7) };
        (aw, (open_aw, open_aw * rng.range(42, 52)), nm, (open_nm, open_nm * rng.range(35, 45)))
    });
    let mut list = Vec::new();
    for (awareness, trainees) in aw.iter().map(|t| (true, *t)).chain(nm.iter().map(|t| (false, *t))) {
        let k = list.iter().filter(|c: &&Class| c.awareness == awareness).count() + 1;
        // Spread over the year; the first awareness class of the big districts ends in October.
        let month = if awareness && k == 1 && !bloc { 10 } else { 1 + rng.below(9) as u32 };
        let end_day = 8 + rng.below(20) as u32;
        let start_day = end_day - 3 - rng.below(4) as u32;
        let kind = if awareness {
            "Bồi dưỡng nhận thức về Đảng"
        } else {
            "Bồi dưỡng lý luận chính trị cho đảng viên mới"
        };
        list.push(Class {
            month,
            awareness,
            trainees,
            certified: trainees - rng.range(0, 3).min(trainees),
            name: format!("{kind}, khóa {k}/{YEAR}"),
            venue: format!("Trung tâm Chính trị {place}"),
            start: (start_day, month),
            end: (end_day, month),
        });
    }
    list.sort_by_key(|c| (c.month, c.end.0));
    ClassBook { opening: [aw_open, nm_open], classes: list }
}

// ---------------------------------------------------------------- workbooks

/// A workbook stamped with a fixed creation time, so that the generator writes the same
/// bytes every time and regenerating the sample does not churn the repository.
fn new_workbook() -> Workbook {
    let mut book = Workbook::new();
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2023, 10, 31).expect("a valid date");
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    book
}

struct Styles {
    bold: Format,
    italic: Format,
    title: Format,
    header: Format,
    cell: Format,
    total: Format,
}

fn styles() -> Styles {
    let base = Format::new().set_font_name("Times New Roman").set_font_size(12);
    let cell = base.clone().set_border(FormatBorder::Thin);
    Styles {
        bold: base.clone().set_bold().set_align(FormatAlign::Center),
        italic: base.clone().set_italic().set_align(FormatAlign::Center),
        title: base.clone().set_bold().set_font_size(14).set_align(FormatAlign::Center),
        header: cell
            .clone()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        total: cell.clone().set_bold(),
        cell,
    }
}

/// How a return deviates from the board's template.
#[derive(Clone, Default)]
struct Mess {
    /// Rows added (or removed, negative) above the title block.
    shift: i32,
    blank_column: bool,
    nfd_headers: bool,
    eth_headers: bool,
    text_numbers: bool,
    /// The "of which" columns in another order.
    reorder: bool,
    /// The total row as formulas with no cached value, as scripts write them.
    formula_total: bool,
    /// A hidden first sheet with an old draft; the return on the second sheet.
    hidden_draft: bool,
    /// The total row's admitted figure off by this much.
    total_off_by: i64,
    code: Option<String>,
    /// The issuing committee's line instead of the unit's own.
    issuer: Option<String>,
    day: Option<u32>,
    /// The date line's day left blank.
    undated: bool,
    /// Cells to overwrite: (row index among the cell rows, field, text).
    typed: Vec<(usize, &'static str, String)>,
}

fn header_text(text: &str, mess: &Mess) -> String {
    let t = if mess.eth_headers { text.replace('Đ', "\u{D0}") } else { text.to_string() };
    if mess.nfd_headers {
        t.replace(", ", ",\n").replace("kết nạp", "kết  nạp").nfd().collect()
    } else {
        t
    }
}

fn issuer_of(name: &str) -> String {
    let lower = name.to_string();
    let committee = if let Some(rest) = lower.strip_prefix("Đảng bộ ") {
        format!("Đảng ủy {rest}")
    } else if lower.starts_with("Chi bộ ") {
        lower
    } else {
        format!("Đảng ủy {}", lower.to_lowercase())
    };
    upper(&committee)
}

fn place_of(name: &str) -> String {
    for prefix in ["Phường ", "Xã ", "Thị trấn "] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    "Phủ Lý".to_string()
}

fn last_day(month: u32) -> u32 {
    match month {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Title block rows 1-7 (shifted); returns the 0-based row of the table header.
#[allow(clippy::too_many_arguments)]
fn title_block(
    ws: &mut Worksheet,
    s: &Styles,
    col0: u16,
    width: u16,
    superior: &str,
    issuer: &str,
    place: &str,
    form: &str,
    title: &str,
    code: &str,
    month: u32,
    day: u32,
    shift: i32,
) -> Result<u32, XlsxError> {
    // A positive shift moves the whole block down; a negative one drops the blank row
    // between the block and the table.
    let r = |n: i32| (if shift >= 0 { n + shift } else { n }) as u32;
    let last = col0 + width - 1;
    let mid = col0 + width / 2;
    ws.merge_range(r(0), col0, r(0), mid - 1, superior, &s.bold)?;
    ws.merge_range(r(1), col0, r(1), mid - 1, issuer, &s.bold)?;
    ws.merge_range(r(2), col0, r(2), mid - 1, "*", &s.bold)?;
    ws.merge_range(r(0), mid, r(0), last, "ĐẢNG CỘNG SẢN VIỆT NAM", &s.bold)?;
    let day = if day == 0 { "    ".to_string() } else { day.to_string() };
    ws.merge_range(r(1), mid, r(1), last, &format!("{place}, ngày {day} tháng {month} năm {YEAR}"), &s.italic)?;
    ws.write_string(r(3), last, form)?;
    ws.merge_range(r(4), col0, r(4), last, title, &s.title)?;
    ws.merge_range(r(5), col0, r(5), last, &format!("Tháng {month} năm {YEAR}"), &s.italic)?;
    ws.write_string(r(6), col0, "Mã đơn vị:")?;
    ws.write_string(r(6), col0 + 1, code)?;
    ws.write_string(r(6), col0 + 4, "Kỳ báo cáo:")?;
    ws.write_string(r(6), col0 + 5, format!("{month:02}/{YEAR}"))?;
    Ok((8 + shift) as u32)
}

const MAU01_SUBS: [(&str, &str); 8] = [
    ("admitted", "Tổng số"),
    ("female", "Nữ"),
    ("youth_union", "Đoàn viên"),
    ("students", "Học sinh, sinh viên"),
    ("religious", "Người có đạo"),
    ("residential", "Ở khu dân cư"),
    ("private_workers", "Công nhân DN ngoài nhà nước"),
    ("veterans", "Bộ đội xuất ngũ"),
];

/// The figures of one party cell for one month.
fn cell_row(g: &Grassroots, cell: usize, month: u32) -> BTreeMap<&'static str, i64> {
    let people: Vec<&Person> = g.persons.iter().filter(|p| p.month == month && p.cell == cell).collect();
    let count = |f: fn(&Person) -> bool| people.iter().filter(|p| f(p)).count() as i64;
    BTreeMap::from([
        ("admitted", people.len() as i64),
        ("female", count(|p| p.female)),
        ("youth_union", count(|p| p.youth)),
        ("students", count(|p| p.student)),
        ("religious", count(|p| p.religious)),
        ("residential", count(|p| p.residential)),
        ("private_workers", count(|p| p.private)),
        ("veterans", count(|p| p.veteran)),
    ])
}

fn write_mau01(
    path: &Path,
    g: &Grassroots,
    superior: &str,
    month: u32,
    mess: &Mess,
    rng: &mut Rng,
) -> Result<(), XlsxError> {
    let s = styles();
    let mut book = new_workbook();
    if mess.hidden_draft {
        let draft = book.add_worksheet().set_name("Bản nháp")?;
        draft.write_string(0, 0, "STT")?;
        draft.write_string(0, 1, "Chi bộ")?;
        draft.write_string(1, 1, "(bản nháp cũ, không dùng)")?;
        draft.set_hidden(true);
    }
    let ws = book.add_worksheet().set_name(format!("BC T{month}"))?;
    if mess.formula_total {
        // What a script writes: no cached result, so only a recalculating reader sees the sums.
        ws.set_formula_result_default("");
    }
    let col0: u16 = if mess.blank_column { 1 } else { 0 };
    let day = if mess.undated { 0 } else { mess.day.unwrap_or(last_day(month).min(28 + month % 3)) };
    let code = mess.code.clone().unwrap_or_else(|| g.code.clone());
    let top = title_block(
        ws,
        &s,
        col0,
        13,
        &upper(superior),
        &mess.issuer.clone().unwrap_or_else(|| issuer_of(&g.name)),
        &place_of(&g.name),
        "Mẫu 01-PTĐV",
        "BÁO CÁO KẾT QUẢ CÔNG TÁC PHÁT TRIỂN ĐẢNG VIÊN",
        &code,
        month,
        day,
        mess.shift,
    )?;

    let mut subs: Vec<(&str, &str)> = MAU01_SUBS.to_vec();
    if mess.reorder {
        subs[1..].reverse();
    }
    let h = |t: &str| header_text(t, mess);
    ws.merge_range(top, col0, top + 1, col0, &h("STT"), &s.header)?;
    ws.merge_range(top, col0 + 1, top + 1, col0 + 1, &h("Chi bộ"), &s.header)?;
    ws.merge_range(top, col0 + 2, top, col0 + 3, &h("Quần chúng ưu tú"), &s.header)?;
    ws.write_string_with_format(top + 1, col0 + 2, h("Được giới thiệu học lớp nhận thức về Đảng"), &s.header)?;
    ws.write_string_with_format(top + 1, col0 + 3, h("Được cấp giấy chứng nhận"), &s.header)?;
    ws.merge_range(top, col0 + 4, top, col0 + 11, &h("Đảng viên kết nạp trong tháng"), &s.header)?;
    for (k, (_, label)) in subs.iter().enumerate() {
        ws.write_string_with_format(top + 1, col0 + 4 + k as u16, h(label), &s.header)?;
    }
    ws.merge_range(top, col0 + 12, top + 1, col0 + 12, &h("Ghi chú"), &s.header)?;
    for k in 0..13u16 {
        ws.write_string_with_format(top + 2, col0 + k, format!("({})", k + 1), &s.cell)?;
        ws.set_column_width(col0 + k, if k == 1 { 26 } else { 11 })?;
    }

    let first = top + 3;
    let mut sums = [0i64; 10];
    for (i, name) in g.cells.iter().enumerate() {
        let row = first + i as u32;
        let figures = cell_row(g, i, month);
        let nominated = if rng.chance(0.3) { rng.range(1, 3) } else { 0 };
        let certified = if nominated > 0 && rng.chance(0.5) { rng.range(1, nominated) } else { 0 };
        ws.write_number_with_format(row, col0, (i + 1) as f64, &s.cell)?;
        ws.write_string_with_format(row, col0 + 1, name, &s.cell)?;
        let mut values: Vec<(u16, &str, i64)> = vec![(2, "nominated", nominated), (3, "certified", certified)];
        for (k, (field, _)) in subs.iter().enumerate() {
            values.push((4 + k as u16, field, figures[field]));
        }
        for (c, field, v) in values {
            let typed = mess.typed.iter().find(|(r, f, _)| *r == i && *f == field);
            // The clerk's total adds what was typed, where it is a number.
            sums[c as usize - 2] += typed.and_then(|(_, _, t)| t.parse::<i64>().ok()).unwrap_or(v);
            if let Some((_, _, text)) = typed {
                ws.write_string_with_format(row, col0 + c, text, &s.cell)?;
            } else if mess.text_numbers && v == 0 && c % 2 == 0 {
                ws.write_string_with_format(row, col0 + c, "-", &s.cell)?;
            } else if mess.text_numbers && v == 0 {
                ws.write_blank(row, col0 + c, &s.cell)?;
            } else if mess.text_numbers {
                ws.write_string_with_format(row, col0 + c, format!(" {v} "), &s.cell)?;
            } else {
                ws.write_number_with_format(row, col0 + c, v as f64, &s.cell)?;
            }
        }
        ws.write_blank(row, col0 + 12, &s.cell)?;
    }
    let total = first + g.cells.len() as u32;
    ws.write_blank(total, col0, &s.total)?;
    ws.write_string_with_format(total, col0 + 1, "Tổng cộng", &s.total)?;
    for c in 2..12u16 {
        let letter = (b'A' + (col0 + c) as u8) as char;
        if mess.formula_total {
            let formula = format!("=SUM({letter}{}:{letter}{})", first + 1, total);
            ws.write_formula_with_format(total, col0 + c, formula.as_str(), &s.total)?;
        } else {
            let off = if c == 4 { mess.total_off_by } else { 0 };
            ws.write_number_with_format(total, col0 + c, (sums[c as usize - 2] + off) as f64, &s.total)?;
        }
    }
    ws.write_string(total + 2, col0 + 1, "Nơi nhận:")?;
    ws.write_string(total + 3, col0 + 1, "- Ban Tổ chức cấp ủy cấp trên;")?;
    ws.write_string(total + 2, col0 + 9, "T/M ĐẢNG ỦY")?;
    ws.write_string(total + 3, col0 + 9, "BÍ THƯ")?;
    ws.write_string(total + 7, col0 + 9, "Nguyễn Văn An")?;
    book.save(path)
}

fn write_mau02(
    path: &Path,
    district: &Unit,
    month: u32,
    classes: &[Class],
    decisions: &[(String, String, i64)],
    variants: bool,
) -> Result<(), XlsxError> {
    let s = styles();
    let mut book = new_workbook();
    let issuer = upper(DISTRICTS.iter().find(|d| d.0 == district.code).map(|d| d.2).unwrap_or(&district.name));
    let place = match district.code.as_str() {
        "349" => "Duy Tiên",
        "350" => "Kim Bảng",
        "351" => "Thanh Liêm",
        "352" => "Bình Lục",
        "353" => "Lý Nhân",
        _ => "Phủ Lý",
    };
    let day = last_day(month).min(30);
    let title = "BÁO CÁO CÔNG TÁC BỒI DƯỠNG VÀ KẾT NẠP ĐẢNG VIÊN";
    {
        let ws = book.add_worksheet().set_name("Lớp bồi dưỡng")?;
        let top = title_block(
            ws,
            &s,
            0,
            8,
            "ĐẢNG BỘ TỈNH HÀ NAM",
            &issuer,
            place,
            "Mẫu 02-PTĐV",
            title,
            &district.code,
            month,
            day,
            0,
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
            ws.write_string_with_format(top, k as u16, *h, &s.header)?;
            ws.set_column_width(k as u16, [6, 44, 26, 12, 12, 30, 12, 16][k] as f64)?;
        }
        let date_format = Format::new().set_num_format("dd/mm/yyyy").set_border(FormatBorder::Thin);
        let mut trainees = 0;
        let mut certified = 0;
        for (i, c) in classes.iter().enumerate() {
            let row = top + 1 + i as u32;
            let kind = match (c.awareness, variants) {
                (true, false) => "Nhận thức về Đảng",
                (true, true) => "BD nhận thức về Đảng",
                (false, false) => "Đảng viên mới",
                (false, true) => "LLCT cho đảng viên mới",
            };
            ws.write_number_with_format(row, 0, (i + 1) as f64, &s.cell)?;
            ws.write_string_with_format(row, 1, &c.name, &s.cell)?;
            ws.write_string_with_format(row, 2, kind, &s.cell)?;
            for (k, (d, m)) in [(3u16, c.start), (4, c.end)] {
                if variants {
                    ws.write_string_with_format(row, k, format!("{d:02}/{m:02}/{YEAR}"), &s.cell)?;
                } else {
                    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(YEAR as u16, m as u8, d as u8)?;
                    ws.write_datetime_with_format(row, k, &date, &date_format)?;
                }
            }
            ws.write_string_with_format(row, 5, &c.venue, &s.cell)?;
            ws.write_number_with_format(row, 6, c.trainees as f64, &s.cell)?;
            ws.write_number_with_format(row, 7, c.certified as f64, &s.cell)?;
            trainees += c.trainees;
            certified += c.certified;
        }
        let total = top + 1 + classes.len() as u32;
        ws.write_string_with_format(total, 1, "Tổng cộng", &s.total)?;
        ws.write_number_with_format(total, 6, trainees as f64, &s.total)?;
        ws.write_number_with_format(total, 7, certified as f64, &s.total)?;
        ws.write_string(total + 2, 5, "T/M BAN THƯỜNG VỤ")?;
    }
    {
        let ws = book.add_worksheet().set_name("Quyết định kết nạp")?;
        let top = title_block(
            ws,
            &s,
            0,
            8,
            "ĐẢNG BỘ TỈNH HÀ NAM",
            &issuer,
            place,
            "Mẫu 02-PTĐV",
            title,
            &district.code,
            month,
            day,
            0,
        )?;
        for (k, h) in ["STT", "Tổ chức cơ sở đảng", "Mã đơn vị", "Số đảng viên được kết nạp"].iter().enumerate()
        {
            ws.write_string_with_format(top, k as u16, *h, &s.header)?;
            ws.set_column_width(k as u16, [6, 40, 12, 16][k] as f64)?;
        }
        let mut sum = 0;
        for (i, (name, code, n)) in decisions.iter().enumerate() {
            let row = top + 1 + i as u32;
            ws.write_number_with_format(row, 0, (i + 1) as f64, &s.cell)?;
            ws.write_string_with_format(row, 1, name, &s.cell)?;
            ws.write_string_with_format(row, 2, code, &s.cell)?;
            ws.write_number_with_format(row, 3, *n as f64, &s.cell)?;
            sum += n;
        }
        let total = top + 1 + decisions.len() as u32;
        ws.write_string_with_format(total, 1, "Tổng cộng", &s.total)?;
        ws.write_number_with_format(total, 3, sum as f64, &s.total)?;
    }
    book.save(path)
}

// ---------------------------------------------------------------- reference workbooks

fn write_targets(path: &Path, registry: &[Unit], grassroots: &[Grassroots]) -> Result<(), XlsxError> {
    let mut book = new_workbook();
    let ws = book.add_worksheet().set_name("Chỉ tiêu")?;
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
    // District-level targets: Thanh Liêm 600 / 650 assigned, Duy Tiên 500 and plan 100,
    // Kim Bảng 600 are published; the rest is invented.
    let district_targets: [(&str, i64, i64, i64); 10] = [
        ("347", 480, 95, 500),
        ("349", 500, 100, 520),
        ("350", 600, 120, 620),
        ("351", 600, 120, 650),
        ("352", 400, 80, 420),
        ("353", 560, 110, 580),
        ("K01", 320, 65, 330),
        ("K02", 190, 40, 200),
        ("QS", 120, 25, 125),
        ("CA", 115, 24, 120),
    ];
    let mut row = 1;
    for (code, term, plan, assigned) in district_targets {
        let name = registry.iter().find(|u| u.code == code).map(|u| u.name.clone()).unwrap_or_default();
        let members: i64 = grassroots.iter().filter(|g| g.district == code).map(|g| g.members).sum::<i64>() + 35;
        ws.write_string(row, 0, code)?;
        ws.write_string(row, 1, &name)?;
        ws.write_number(row, 2, term as f64)?;
        ws.write_number(row, 3, plan as f64)?;
        ws.write_number(row, 4, assigned as f64)?;
        ws.write_number(row, 5, members as f64)?;
        row += 1;
    }
    for g in grassroots {
        ws.write_string(row, 0, &g.code)?;
        ws.write_string(row, 1, &g.name)?;
        ws.write_number(row, 2, g.term_target as f64)?;
        ws.write_number(row, 3, g.year_plan as f64)?;
        ws.write_number(row, 5, g.members as f64)?;
        row += 1;
    }
    ws.set_column_width(1, 44)?;
    book.save(path)
}

fn write_opening(
    path: &Path,
    grassroots: &[Grassroots],
    books: &BTreeMap<String, ClassBook>,
    registry: &[Unit],
) -> Result<(), XlsxError> {
    let s = styles();
    let mut book = new_workbook();
    let ws = book.add_worksheet().set_name("Lũy kế")?;
    ws.write_string(0, 0, "Tính đến")?;
    ws.write_string(0, 1, "12/2022")?;
    ws.merge_range(2, 0, 3, 0, "Mã đơn vị", &s.header)?;
    ws.merge_range(2, 1, 3, 1, "Tên đơn vị", &s.header)?;
    let subs = [
        "Tổng số",
        "Nữ",
        "Đoàn viên",
        "Học sinh, sinh viên",
        "Người có đạo",
        "Ở khu dân cư",
        "Công nhân DN ngoài nhà nước",
        "Bộ đội xuất ngũ",
    ];
    let mut col = 2u16;
    for group in ["Kết nạp từ đầu nhiệm kỳ", "Kết nạp từ đầu năm"] {
        ws.merge_range(2, col, 2, col + 7, group, &s.header)?;
        for (k, sub) in subs.iter().enumerate() {
            ws.write_string_with_format(3, col + k as u16, *sub, &s.header)?;
        }
        col += 8;
    }
    for group in [
        "Lớp nhận thức từ đầu nhiệm kỳ",
        "Lớp nhận thức từ đầu năm",
        "Lớp đảng viên mới từ đầu nhiệm kỳ",
        "Lớp đảng viên mới từ đầu năm",
    ] {
        ws.merge_range(2, col, 2, col + 1, group, &s.header)?;
        ws.write_string_with_format(3, col, "Số lớp", &s.header)?;
        ws.write_string_with_format(3, col + 1, "Số học viên", &s.header)?;
        col += 2;
    }
    let mut row = 4;
    for g in grassroots {
        let before: Vec<&Person> = g.persons.iter().filter(|p| p.month == 0).collect();
        let count = |f: fn(&Person) -> bool| before.iter().filter(|p| f(p)).count() as f64;
        ws.write_string(row, 0, &g.code)?;
        ws.write_string(row, 1, &g.name)?;
        let values = [
            before.len() as f64,
            count(|p| p.female),
            count(|p| p.youth),
            count(|p| p.student),
            count(|p| p.religious),
            count(|p| p.residential),
            count(|p| p.private),
            count(|p| p.veteran),
        ];
        for (k, v) in values.iter().enumerate() {
            ws.write_number(row, 2 + k as u16, *v)?;
        }
        // Cut-off in December: the "from the start of the year" groups are zero.
        ws.write_number(row, 10, 0.0)?;
        row += 1;
    }
    for (code, classes) in books {
        let name = registry.iter().find(|u| &u.code == code).map(|u| u.name.clone()).unwrap_or_default();
        ws.write_string(row, 0, code)?;
        ws.write_string(row, 1, &name)?;
        ws.write_number(row, 18, classes.opening[0].0 as f64)?;
        ws.write_number(row, 19, classes.opening[0].1 as f64)?;
        ws.write_number(row, 22, classes.opening[1].0 as f64)?;
        ws.write_number(row, 23, classes.opening[1].1 as f64)?;
        row += 1;
    }
    ws.set_column_width(1, 40)?;
    book.save(path)
}

/// `reference/cong_bo_nam_truoc.xlsx`: the admissions the board published for each month
/// of 2022 and the year's plan, per unit (grassroots, then each district-level unit and
/// the province as their sums, as a board's published table lists them). 2022's
/// admissions are among those before 2023 that the opening balances at 12/2022 count;
/// which and when is drawn by a generator of its own, so the rest of the sample is as it
/// was. Every unit reached its plan but `SHORT_IN_2022`, short by 3.
fn write_last_year(path: &Path, grassroots: &[Grassroots], registry: &[Unit]) -> Result<(), XlsxError> {
    let mut rng = Rng(0x2022_1231_7040_6870);
    let s = styles();
    let mut book = new_workbook();
    let ws = book.add_worksheet().set_name("Năm trước")?;
    ws.merge_range(0, 0, 1, 0, "Mã đơn vị", &s.header)?;
    ws.merge_range(0, 1, 1, 1, "Tên đơn vị", &s.header)?;
    ws.merge_range(0, 2, 0, 13, &format!("Kết nạp năm {}", YEAR - 1), &s.header)?;
    for month in 1..=12u16 {
        ws.write_string_with_format(1, 1 + month, format!("Tháng {month}"), &s.header)?;
    }
    ws.merge_range(0, 14, 1, 14, &format!("Kế hoạch năm {}", YEAR - 1), &s.header)?;
    let mut by_unit: Vec<(String, String, [i64; 13])> = Vec::new();
    for g in grassroots {
        let mut months = [0i64; 13];
        for _ in g.persons.iter().filter(|p| p.month == 0) {
            if rng.chance(0.42) {
                months[rng.below(12)] += 1;
            }
        }
        months[12] = months[..12].iter().sum::<i64>() + if g.code == SHORT_IN_2022 { 3 } else { 0 };
        by_unit.push((g.code.clone(), g.name.clone(), months));
    }
    let own = by_unit.clone();
    let total = |codes: &dyn Fn(&Grassroots) -> bool| -> [i64; 13] {
        let mut months = [0i64; 13];
        for (g, (_, _, m)) in grassroots.iter().zip(&own) {
            if codes(g) {
                for (total, v) in months.iter_mut().zip(m) {
                    *total += v;
                }
            }
        }
        months
    };
    for d in registry.iter().filter(|u| u.kind == "district" && u.valid_to.as_str() >= "2023-10") {
        by_unit.push((d.code.clone(), d.name.clone(), total(&|g| g.district == d.code)));
    }
    if let Some(p) = registry.iter().find(|u| u.kind == "province") {
        by_unit.push((p.code.clone(), p.name.clone(), total(&|_| true)));
    }
    for (row, (code, name, months)) in by_unit.iter().enumerate() {
        let row = row as u32 + 2;
        ws.write_string(row, 0, code)?;
        ws.write_string(row, 1, name)?;
        for (k, v) in months.iter().enumerate() {
            ws.write_number(row, 2 + k as u16, *v as f64)?;
        }
    }
    ws.set_column_width(1, 40)?;
    book.save(path)
}

// ---------------------------------------------------------------- the inbox

fn file_name(rng: &mut Rng, name: &str, month: u32, form: u32) -> String {
    let short = ascii(&place_of(name));
    match (form, rng.below(4)) {
        (1, 0) => format!("BC PTDV T{month} {short}.xlsx"),
        (1, 1) => format!("bao cao thang {month} {}.xlsx", ascii(name).to_lowercase()),
        (1, 2) => format!("Mau01_{}_T{month:02}.xlsx", ascii(name).replace(' ', "")),
        (1, _) => format!("{} - PTDV thang {month}.xlsx", ascii(name)),
        (_, 0) => format!("Mau02_{}_T{month}.xlsx", ascii(name).replace(' ', "")),
        (_, _) => format!("BC boi duong ket nap T{month} {}.xlsx", ascii(name)),
    }
}

/// October's planted mess, by unit code: realistic deviations the pipeline must take, and
/// defects it must report. Defects sit in rows with no admissions, so the published
/// figures stay what the province published.
fn october_mess(code: &str, g: &Grassroots) -> Option<Mess> {
    let zero_row = || (0..g.cells.len()).find(|&i| cell_row(g, i, LAST_MONTH)["admitted"] == 0).unwrap_or(0);
    Some(match code {
        "13456" => Mess { shift: 2, blank_column: true, ..Mess::default() },
        "13288" => Mess { nfd_headers: true, eth_headers: true, ..Mess::default() },
        "13363" => Mess { text_numbers: true, ..Mess::default() },
        "13381" => Mess { formula_total: true, ..Mess::default() },
        "13495" => Mess { reorder: true, ..Mess::default() },
        "13573" => Mess { hidden_draft: true, shift: -1, ..Mess::default() },
        "13405" => Mess { total_off_by: 2, ..Mess::default() },
        "13417" => Mess { typed: vec![(zero_row(), "nominated", "3 đv".into())], ..Mess::default() },
        "13432" => Mess { typed: vec![(zero_row(), "female", "2".into())], ..Mess::default() },
        WRONG_CODE_IN_OCTOBER => Mess { code: Some("13999".into()), ..Mess::default() },
        _ => return None,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "sample_data".into()));
    let gso = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/gso");
    // The sample's project file is kept: it is not generated.
    let project = fs::read(root.join("tonghop.toml")).ok();
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    fs::create_dir_all(root.join("reference"))?;
    if let Some(project) = project {
        fs::write(root.join("tonghop.toml"), project)?;
    }
    let mut rng = Rng(0x7040_6870_2023_1031);

    let units = registry(&gso);
    fs::write(root.join("reference/don_vi.csv"), registry_csv(&units))?;
    let grassroots = admissions(&mut rng, &units);
    let districts: Vec<&Unit> = units.iter().filter(|u| u.kind == "district").collect();
    let mut books = BTreeMap::new();
    for d in &districts {
        let place = match d.code.as_str() {
            "349" => "thị xã Duy Tiên",
            "350" => "huyện Kim Bảng",
            "351" => "huyện Thanh Liêm",
            "352" => "huyện Bình Lục",
            "353" => "huyện Lý Nhân",
            "347" => "thành phố Phủ Lý",
            _ => "tỉnh",
        };
        books.insert(d.code.clone(), classes(&mut rng, &d.code, place));
    }
    write_targets(&root.join("reference/chi_tieu.xlsx"), &units, &grassroots)?;
    write_opening(&root.join("reference/luy_ke_dau_ky.xlsx"), &grassroots, &books, &units)?;
    write_last_year(&root.join("reference/cong_bo_nam_truoc.xlsx"), &grassroots, &units)?;

    for month in 1..=LAST_MONTH {
        let inbox = root.join(format!("inbox/{YEAR}-{month:02}"));
        fs::create_dir_all(&inbox)?;
        let october = month == LAST_MONTH;
        let unattributable = grassroots
            .iter()
            .find(|g| {
                g.code != MISSING_IN_OCTOBER
                    && october_mess(&g.code, g).is_none()
                    && !["13300", "13390"].contains(&g.code.as_str())
                    && g.persons.iter().all(|p| p.month != LAST_MONTH)
            })
            .map(|g| g.code.clone());
        for g in &grassroots {
            if october && g.code == MISSING_IN_OCTOBER {
                continue;
            }
            let superior = districts.iter().find(|d| d.code == g.district).map(|d| d.name.clone()).unwrap_or_default();
            let mut mess = if october { october_mess(&g.code, g).unwrap_or_default() } else { Mess::default() };
            if october && LATE_IN_OCTOBER.contains(&g.code.as_str()) {
                mess.day = Some(31);
            }
            mess.undated = october && g.code == UNDATED_IN_OCTOBER;
            if october && unattributable.as_ref() == Some(&g.code) {
                mess = Mess { code: Some(String::new()), issuer: Some(CUT_SHORT_ISSUER.into()), ..Mess::default() };
            }
            let mut name = file_name(&mut rng, &g.name, month, 1);
            let mut copy = 0;
            while inbox.join(&name).exists() {
                copy += 1;
                name = file_name(&mut rng, &g.name, month, 1).replace(".xlsx", &format!(" ({copy}).xlsx"));
            }
            write_mau01(&inbox.join(&name), g, &superior, month, &mess, &mut rng)?;
            if october && g.code == "13300" {
                // A first version, superseded two days later by the file above.
                let mut draft = g.persons.clone();
                if let Some(p) = draft.iter_mut().find(|p| p.month == LAST_MONTH) {
                    p.month = 99;
                }
                let early = Grassroots {
                    persons: draft,
                    cells: g.cells.clone(),
                    code: g.code.clone(),
                    name: g.name.clone(),
                    district: g.district.clone(),
                    term_target: 0,
                    year_plan: 0,
                    members: 0,
                };
                let mess = Mess { day: Some(27), ..Mess::default() };
                write_mau01(
                    &inbox.join("BC PTDV T10 Tran Hung Dao (ban cu).xlsx"),
                    &early,
                    &superior,
                    month,
                    &mess,
                    &mut rng,
                )?;
            }
            if october && g.code == "13390" {
                // Last month's return, sent again by mistake.
                write_mau01(
                    &inbox.join(format!("bao cao thang 9 {}.xlsx", ascii(&g.name).to_lowercase())),
                    g,
                    &superior,
                    9,
                    &Mess::default(),
                    &mut rng,
                )?;
            }
        }
        for d in &districts {
            let book = &books[&d.code];
            let classes: Vec<Class> = book.classes.iter().filter(|c| c.month == month).cloned().collect();
            let mut decisions: Vec<(String, String, i64)> = grassroots
                .iter()
                .filter(|g| g.district == d.code)
                .map(|g| (g.name.clone(), g.code.clone(), g.persons.iter().filter(|p| p.month == month).count() as i64))
                .filter(|(_, _, n)| *n > 0)
                .collect();
            if october && d.code == "352" {
                if let Some(first) = decisions.first_mut() {
                    first.2 += 1; // a decision the unit's own return does not match
                }
            }
            let name = file_name(&mut rng, &d.name, month, 2);
            write_mau02(&inbox.join(name), d, month, &classes, &decisions, october && d.code == "351")?;
        }
        if october {
            fs::write(inbox.join("~$BC PTDV T10 Lien Can.xlsx"), b"\x0bNguyen Van An\x00\x00\x00\x00")?;
            fs::write(
                inbox.join("bao cao tu cong thong tin.xls"),
                "<html><head><meta charset=\"utf-8\"></head><body><table><tr><td>Báo cáo</td></tr></table></body></html>",
            )?;
        }
    }
    println!("wrote {}", root.display());
    Ok(())
}
