//! Text as units type it, folded so that the same words compare equal.
//!
//! Headers and names arrive in NFC or NFD, with `Ð` (U+00D0) for `Đ`, with the tone mark
//! on either vowel (`uỷ`/`ủy`, `hoà`/`hòa`), with line breaks, double spaces and any
//! capitalisation. `fold` maps all of these to one key; `clean` only tidies text for display.

use unicode_normalization::UnicodeNormalization;

/// The five Vietnamese tone marks as combining characters (in NFD).
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// NFC, `Ð`/`ð` as `Đ`/`đ`, white space collapsed to single spaces, trimmed.
pub fn clean(text: &str) -> String {
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
pub fn fold(text: &str) -> String {
    let lowered = clean(text).to_lowercase();
    let cleaned = lowered.trim_end_matches([':', '.', ' ']);
    let mut out = String::with_capacity(cleaned.len());
    for (i, word) in cleaned.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // The tone goes after the word's last letter, before any trailing punctuation.
        let mut tone = None;
        let mut letters = String::new();
        for c in word.nfd() {
            if TONES.contains(&c) {
                tone = Some(c);
            } else {
                letters.push(c);
            }
        }
        let in_word = |c: char| c.is_alphabetic() || ('\u{300}'..='\u{36f}').contains(&c);
        let end = letters.rfind(in_word).map_or(letters.len(), |i| i + letters[i..].chars().next().map_or(0, char::len_utf8));
        out.push_str(&letters[..end]);
        out.extend(tone);
        out.push_str(&letters[end..]);
    }
    out.nfc().collect()
}

/// Whether `haystack` starts with `needle`, both folded.
pub fn starts_with_folded(haystack: &str, needle_folded: &str) -> bool {
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
    fn clean_keeps_case_and_marks() {
        assert_eq!(clean(" Xã  Liêm\nCần "), "Xã Liêm Cần");
        assert_eq!(clean("\u{D0}ẢNG"), "ĐẢNG");
    }
}
