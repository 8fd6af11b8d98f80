"""Whether two consolidated workbooks show the same thing, cell by cell, on every sheet but
the run's facts (`Thông tin`, which holds the run time). Prints "same, N cells" or the
first difference, for `scripts/bench --window`.

python3 same_workbook.py A.xlsx B.xlsx
"""
import sys

import fastexcel


def cells(path):
    book = fastexcel.read_excel(path)
    found = {}
    for name in book.sheet_names:
        if name == "Thông tin":
            continue
        frame = book.load_sheet_by_name(name, header_row=None).to_polars()
        for r, row in enumerate(frame.iter_rows()):
            for c, value in enumerate(row):
                if value is not None and value != "":
                    found[(name, r, c)] = value
    return found


def main(a, b):
    left, right = cells(a), cells(b)
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            print(f"differ at {key}: {left.get(key)!r} against {right.get(key)!r}")
            return
    print(f"same, {len(left)} cells")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
