"""Writes src/print/metrics.rs: the advance widths of Times New Roman, regular and bold, for
the characters Vietnamese returns and reports use, read from Liberation Serif 2 (the same
metrics as Times New Roman, free to read). Run from the project root after
`apt-get install fonts-liberation2` and `pip install fonttools`:

    python3 tools/font_metrics.py
"""
from fontTools.ttLib import TTFont

FONTS = "/usr/share/fonts/truetype/liberation2/LiberationSerif-{}.ttf"
OUT = "src/print/metrics.rs"

CHARS = (
    list(range(0x20, 0x7F))  # ASCII
    + list(range(0xA0, 0x100))  # Latin-1
    + [0x102, 0x103, 0x110, 0x111, 0x128, 0x129, 0x168, 0x169, 0x1A0, 0x1A1, 0x1AF, 0x1B0]
    + list(range(0x1EA0, 0x1EFA))  # Vietnamese letters with two marks
    + [0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026, 0x2030, 0x2212]
)


def widths(style):
    font = TTFont(FONTS.format(style))
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    units = font["head"].unitsPerEm
    assert units == 2048, units
    return {c: hmtx[cmap[c]][0] for c in CHARS if c in cmap}


def main():
    regular, bold = widths("Regular"), widths("Bold")
    def literal(c):
        if c in (0xA0, 0xAD):  # no-break space, soft hyphen: invisible in the source
            return "'\\u{{{:X}}}'".format(c)
        return {"\\": "'\\\\'", "'": "'\\''"}.get(chr(c), "'{}'".format(chr(c)))

    rows = ["    ({}, {}, {}),".format(literal(c), regular[c], bold[c]) for c in sorted(regular) if c in bold]
    with open(OUT, "w", encoding="utf-8") as out:
        out.write("//! Advance widths of Times New Roman in 1/2048 em, regular and bold, sorted by\n")
        out.write("//! character. Written by `tools/font_metrics.py` from Liberation Serif 2, whose\n")
        out.write("//! metrics are Times New Roman's; do not edit by hand.\n\n")
        out.write("pub(super) const UNITS_PER_EM: f64 = 2048.0;\n\n")
        out.write("#[rustfmt::skip]\n")
        out.write("pub(super) const WIDTHS: &[(char, u16, u16)] = &[\n")
        out.write("\n".join(rows))
        out.write("\n];\n")


if __name__ == "__main__":
    main()
