//! Text as units type it, folded so that the same words compare equal.
//!
//! Headers and names arrive in NFC or NFD, with `Ð` (U+00D0) for `Đ`, with the tone mark
//! on either vowel (`uỷ`/`ủy`, `hoà`/`hòa`), with line breaks, double spaces and any
//! capitalisation. `fold` maps all of these to one key; `clean` only tidies text for display.

use unicode_normalization::UnicodeNormalization;

/// The five Vietnamese tone marks as combining characters (in NFD).
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// NFC, `Ð`/`ð` as `Đ`/`đ`, white space collapsed to single spaces, trimmed.
pub(crate) fn clean(text: &str) -> String {
    // Most cells (numbers, codes, already tidy NFC text) need nothing: skip the passes.
    let tidy = text.split(' ').all(|w| !w.is_empty() && !w.contains(char::is_whitespace))
        && !text.contains(['\u{D0}', '\u{F0}'])
        && unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes;
    if tidy || text.is_empty() {
        return text.to_string();
    }
    let nfc: String = text
        .nfc()
        .map(|c| match c {
            '\u{D0}' => 'Đ',
            '\u{F0}' => 'đ',
            other => other,
        })
        .collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The matching key of a text: `clean`, lower case, each word's tone mark moved to the
/// end of the word, and trailing `:` or `.` dropped.
pub(crate) fn fold(text: &str) -> String {
    if text.is_ascii() {
        // No marks to move, nothing to compose: case and spaces only.
        let mut out = String::with_capacity(text.len());
        for word in text.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out.trim_end_matches([':', '.', ' ']).to_string();
    }
    // Returns repeat the same headers and title lines file after file: fold each once per thread.
    thread_local! {
        static FOLDED: std::cell::RefCell<std::collections::HashMap<String, String>> = Default::default();
    }
    if let Some(hit) = FOLDED.with(|cache| cache.borrow().get(text).cloned()) {
        return hit;
    }
    let folded = fold_marked(text);
    FOLDED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(text.to_string(), folded.clone());
    });
    folded
}

/// `fold` of a text that is not all ASCII.
fn fold_marked(text: &str) -> String {
    // One decomposition pass: lower case, `Ð` as `đ`, words split on any white space,
    // each word's tone mark moved after its last letter; composed again at the end.
    let mut out = String::with_capacity(text.len() + 8);
    let mut word = String::new();
    let mut tone = None;
    let flush = |word: &mut String, tone: &mut Option<char>, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let in_word = |c: char| c.is_alphabetic() || ('\u{300}'..='\u{36f}').contains(&c);
        let end = word.rfind(in_word).map_or(word.len(), |i| i + word[i..].chars().next().map_or(0, char::len_utf8));
        out.push_str(&word[..end]);
        out.extend(tone.take());
        out.push_str(&word[end..]);
        word.clear();
    };
    for c in text.nfd() {
        if c.is_whitespace() {
            flush(&mut word, &mut tone, &mut out);
        } else if TONES.contains(&c) {
            tone = Some(c);
        } else {
            match c {
                '\u{D0}' | '\u{F0}' | 'Đ' => word.push('đ'),
                c => word.extend(c.to_lowercase()),
            }
        }
    }
    flush(&mut word, &mut tone, &mut out);
    let trimmed = out.trim_end_matches([':', '.', ' ']);
    trimmed.nfc().collect()
}

/// `fold` without any mark: `Tổng cộng` and `Tong cong` are both `tong cong`. Too loose
/// for headers and names (`Công`, `Cộng`), it matches a few fixed words typed without
/// their marks.
pub(crate) fn bare(text: &str) -> String {
    fold(text).nfd().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).map(|c| if c == 'đ' { 'd' } else { c }).collect()
}

/// Whether `haystack` starts with `needle`, both folded.
pub(crate) fn starts_with_folded(haystack: &str, needle_folded: &str) -> bool {
    !needle_folded.is_empty() && fold(haystack).starts_with(needle_folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_placement_and_case_fold_together() {
        assert_eq!(fold("ĐẢNG UỶ XÃ"), fold("Đảng ủy xã"));
        assert_eq!(fold("Hoà"), fold("hòa"));
        assert_ne!(fold("Nữ"), fold("Nu"));
        assert_eq!(fold("Quý"), fold("Qúy"));
        assert_eq!(fold("cớ:"), fold("cớ"));
    }

    #[test]
    fn nfd_and_eth_and_spaces_fold() {
        let nfd: String = "Đảng viên kết nạp".nfd().collect();
        assert_eq!(fold(&nfd), fold("Đảng viên kết nạp"));
        assert_eq!(fold("\u{D0}ảng viên"), fold("Đảng viên"));
        assert_eq!(fold("  Số học\nviên  "), fold("Số học viên"));
        assert_eq!(fold("Mã đơn vị:"), fold("Mã đơn vị"));
        assert!(fold("Kỳ báo cáo: 10/2023").starts_with(&fold("Kỳ báo cáo")));
        assert_eq!(fold("Học sinh, sinh viên"), fold("học sinh,  sinh viên"));
    }

    #[test]
    fn the_fast_paths_agree_with_the_full_ones() {
        let slow_fold = |t: &str| fold(&format!("{t}ả")).trim_end_matches('ả').trim_end().to_string();
        for t in ["STT", "  Tong  so\n ", "12", "Ma don vi:", "a . :", "", " ", "A\tB"] {
            assert_eq!(fold(t), slow_fold(t).trim_end_matches([':', '.', ' ']), "{t:?}");
            let slow_clean: String = clean(&format!("{t}\u{D0}")).trim_end_matches('Đ').trim_end().to_string();
            assert_eq!(clean(t), slow_clean, "{t:?}");
        }
        assert_eq!(clean("Xã Liêm Cần"), "Xã Liêm Cần");
        let nfd: String = "Cần".nfd().collect();
        assert_eq!(clean(&nfd), "Cần");
    }

    #[test]
    fn bare_drops_every_mark() {
        assert_eq!(bare("Tổng cộng:"), "tong cong");
        assert_eq!(bare("TONG CONG"), "tong cong");
        assert_eq!(bare("Đảng"), "dang");
    }

    #[test]
    fn clean_keeps_case_and_marks() {
        assert_eq!(clean(" Xã  Liêm\nCần "), "Xã Liêm Cần");
        assert_eq!(clean("\u{D0}ẢNG"), "ĐẢNG");
    }
}
