"""Writes sample_data_ninh_binh/: the new Ninh Bình province after 2025-07-01, two levels.

Run from the project root: python3 scripts/samples/ninh_binh.py. Needs openpyxl, and
LibreOffice (soffice) for the one .xls return. The output is committed; the tests and
`tonghop run` need neither tool. The figures are the same on every run (a fixed seed);
the files' metadata carries the time they were written.

- reference/don_vi.csv: Hà Nam's units of the 2020-2025 term with their validity (from
  sample_data/), then province 37 and its 33 communes and wards of the Hà Nam area from
  the official conversion table (examples/gso/, a copy of the GSO list), plus
  four party organisations directly under the province, all valid from 2025-07. A code
  can appear twice: 13285 is Phường Quang Trung until 2025-06, Phường Phủ Lý after.
- reference/luy_ke_dau_ky.xlsx: the board's balances of each new unit at 07/2025, except
  Phường Hà Nam (13366), formed from parts of four wards: nobody has split their history
  yet, so the tool must say so (opening-missing) and not invent one.
- reference/chi_tieu.xlsx: targets of the new units.
- reference/cong_bo_nam_truoc.xlsx: the admissions Hà Nam's board published for each month
  of 2024, per unit of the old province (communes and wards, the districts and the
  province as their sums): the same period a year earlier of the new units.
- reference/chuyen_doi_2025-07.csv: the official conversion table (examples/gso/), which
  says which old units each new one was formed from, whole or in part.
- inbox/2025-08/: one Mẫu 01 per unit, except Xã Vĩnh Trụ (missing); a return still sent
  under Phường Châu Cầu's old code 13294 (unit-not-valid); in Xã Bình Lục one party
  cell's women outnumber its admissions (the rule rejects the row).
"""
import csv
import os
import random
import shutil
import subprocess

from openpyxl import Workbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "sample_data_ninh_binh")
CONVERSION = os.path.join(ROOT, "examples", "gso", "hanam_conversion_2025-07.csv")
HISTORY = os.path.join(ROOT, "sample_data", "reference", "don_vi.csv")

SUBS = ["Tổng số", "Nữ", "Đoàn viên", "Học sinh, sinh viên", "Người có đạo", "Ở khu dân cư",
        "Công nhân DN ngoài nhà nước", "Bộ đội xuất ngũ"]
GROUP = "Đảng viên kết nạp trong tháng"
DIRECT = [("CQD37", "Đảng bộ các cơ quan Đảng tỉnh"), ("UB37", "Đảng bộ Ủy ban nhân dân tỉnh"),
          ("QS37", "Đảng bộ Quân sự tỉnh"), ("CA37", "Đảng bộ Công an tỉnh")]
NO_OPENING = "13366"
MISSING = "13597"
RULE_BROKEN = "13504"


def new_units():
    """(code, name) of the Hà Nam area's new communes and wards, in the table's order."""
    units = []
    with open(CONVERSION, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code, name = row["Mã mới"].strip(), " ".join(row["Tên đơn vị mới"].split())
            if code and (code, name) not in units:
                units.append((code, name))
    return units


def registry(units):
    with open(HISTORY, encoding="utf-8") as f:
        history = f.read().rstrip("\n").split("\n")
    lines = history + ["37,Đảng bộ tỉnh Ninh Bình,province,,2025-07,,Tỉnh ủy Ninh Bình"]
    for code, name in units:
        kind_word = name.split()[0].lower()
        lines.append(f"{code},{name},grassroots,37,2025-07,,Đảng ủy {kind_word} {name.split(' ', 1)[1]}")
    for code, name in DIRECT:
        lines.append(f"{code},{name},grassroots,37,2025-07,,Đảng ủy {name.split(' ', 2)[2]}")
    with open(os.path.join(OUT, "reference", "don_vi.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def breakdown(rng, total):
    """The eight admission columns: a total and its "of which" parts, none above it."""
    return [total] + [rng.randint(0, total) for _ in SUBS[1:]]


def opening(rng, units):
    wb = Workbook()
    ws = wb.active
    ws.title = "Lũy kế"
    ws["A1"], ws["B1"] = "Tính đến", "07/2025"
    ws["A3"], ws["B3"] = "Mã đơn vị", "Tên đơn vị"
    c = 3
    for group in ["Kết nạp từ đầu nhiệm kỳ", "Kết nạp từ đầu năm"]:
        ws.cell(3, c, group)
        for k, sub in enumerate(SUBS):
            ws.cell(4, c + k, sub)
        c += 8
    balances = {}
    for code, name in units:
        term = breakdown(rng, rng.randint(40, 160))
        year = breakdown(rng, rng.randint(5, 30))
        year = [min(y, t) for y, t in zip(year, term)]
        if code == NO_OPENING:
            continue
        balances[code] = (term[0], year[0])
        ws.append([code, name] + term + year)
    wb.save(os.path.join(OUT, "reference", "luy_ke_dau_ky.xlsx"))
    return balances


def targets(rng, units):
    wb = Workbook()
    ws = wb.active
    ws.title = "Chỉ tiêu"
    ws.append(["Mã đơn vị", "Tên đơn vị", "Chỉ tiêu nhiệm kỳ", "Kế hoạch năm 2025", "Chỉ tiêu tỉnh giao",
               "Số đảng viên đầu năm 2025"])
    for code, name in units:
        ws.append([code, name, rng.randint(120, 200), rng.randint(25, 45), rng.randint(130, 210),
                   rng.randint(900, 3500)])
    wb.save(os.path.join(OUT, "reference", "chi_tieu.xlsx"))


def mau01(path, code, name, cells, day):
    """One Mẫu 01-PTĐV for 08/2025 in the template's layout."""
    wb = Workbook()
    ws = wb.active
    ws.title = "BC T8"
    ws["A1"] = "ĐẢNG BỘ TỈNH NINH BÌNH"
    ws["A2"] = ("ĐẢNG ỦY " + (name.split(" ", 2)[2] if code in dict(DIRECT) else name)).upper()
    ws["A3"] = "*"
    ws["H1"] = "ĐẢNG CỘNG SẢN VIỆT NAM"
    ws["H2"] = f"Ninh Bình, ngày {day} tháng 8 năm 2025"
    ws["M4"] = "Mẫu 01-PTĐV"
    ws["A5"] = "BÁO CÁO KẾT QUẢ CÔNG TÁC PHÁT TRIỂN ĐẢNG VIÊN"
    ws["A6"] = "Tháng 8 năm 2025"
    ws["A7"], ws["B7"] = "Mã đơn vị:", code
    ws["E7"], ws["F7"] = "Kỳ báo cáo:", "08/2025"
    heads = ["STT", "Chi bộ", "Quần chúng ưu tú", None, GROUP] + [None] * 7 + ["Ghi chú"]
    subs = [None, None, "Được giới thiệu học lớp nhận thức về Đảng", "Được cấp giấy chứng nhận"] + SUBS + [None]
    for k, (head, sub) in enumerate(zip(heads, subs)):
        if head:
            ws.cell(9, k + 1, head)
        if sub:
            ws.cell(10, k + 1, sub)
    ws.merge_cells("A9:A10")
    ws.merge_cells("B9:B10")
    ws.merge_cells("C9:D9")
    ws.merge_cells("E9:L9")
    ws.merge_cells("M9:M10")
    for k in range(13):
        ws.cell(11, k + 1, f"({k + 1})")
    r = 12
    for i, (cell_name, values) in enumerate(cells):
        ws.cell(r, 1, i + 1)
        ws.cell(r, 2, cell_name)
        for k, v in enumerate(values):
            ws.cell(r, 3 + k, v)
        r += 1
    ws.cell(r, 2, "Tổng cộng")
    for k in range(10):
        ws.cell(r, 3 + k, sum(v[k] for _, v in cells))
    ws.cell(r + 2, 2, "Nơi nhận:")
    ws.cell(r + 2, 10, "T/M ĐẢNG ỦY")
    ws.cell(r + 3, 10, "BÍ THƯ")
    wb.save(path)


def party_cells(rng, code, name):
    """5-15 party cells with their month: nominated, certified, then the eight columns."""
    kind = "Tổ dân phố" if name.startswith("Phường") else "Thôn"
    cells = []
    for i in range(rng.randint(5, 15)):
        admitted = rng.choice([0, 0, 0, 1, 1, 2])
        nominated = rng.randint(0, 3)
        cells.append((f"Chi bộ {kind} {i + 1}" if code not in dict(DIRECT) else f"Chi bộ {i + 1}",
                      [nominated, rng.randint(0, nominated)] + breakdown(rng, admitted)))
    return cells


def last_year():
    """Hà Nam's published admissions of 2024 by month, per unit valid in 2024, and the
    conversion table. A generator of its own, so the rest of the sample is as it was."""
    rng = random.Random(20240831)
    with open(HISTORY, encoding="utf-8") as f:
        units = [r for r in csv.DictReader(f) if r["valid_from"] <= "2024-08" and (r["valid_to"] or "9999") >= "2024-08"]
    months = {u["code"]: [0] * 12 for u in units}
    for u in units:
        if u["kind"] == "grassroots":
            months[u["code"]] = [rng.choice([0, 0, 1, 1, 2, 3]) for _ in range(12)]
    parent = {u["code"]: u["parent"] for u in units}
    for u in units:
        if u["kind"] == "grassroots":
            p = parent[u["code"]]
            while p:
                months[p] = [a + b for a, b in zip(months[p], months[u["code"]])]
                p = parent.get(p, "")
    wb = Workbook()
    ws = wb.active
    ws.title = "Năm trước"
    ws.append(["Mã đơn vị", "Tên đơn vị", "Kết nạp năm 2024"] + [None] * 11)
    ws.append([None, None] + [f"Tháng {m}" for m in range(1, 13)])
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:B2")
    ws.merge_cells("C1:N1")
    for u in units:
        ws.append([u["code"], u["name"]] + months[u["code"]])
    wb.save(os.path.join(OUT, "reference", "cong_bo_nam_truoc.xlsx"))
    shutil.copy(CONVERSION, os.path.join(OUT, "reference", "chuyen_doi_2025-07.csv"))


def main():
    rng = random.Random(20250801)
    # The sample's project file is kept: it is not generated.
    project = os.path.join(OUT, "tonghop.toml")
    kept = open(project, "rb").read() if os.path.exists(project) else None
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "reference"))
    if kept is not None:
        open(project, "wb").write(kept)
    inbox = os.path.join(OUT, "inbox", "2025-08")
    os.makedirs(inbox)
    units = new_units() + DIRECT
    assert len(units) == 37, len(units)
    registry(new_units())
    balances = opening(rng, units)
    targets(rng, units)
    last_year()
    month_total = 0
    for n, (code, name) in enumerate(units):
        cells = party_cells(rng, code, name)
        if code == MISSING:
            continue
        if code == RULE_BROKEN:
            cells[0] = (cells[0][0], [1, 1, 1, 2] + [0] * 6)  # Nữ 2 of 1 admitted
        counted = sum(v[2] for c, v in cells if not (code == RULE_BROKEN and c == cells[0][0]))
        month_total += counted
        file = os.path.join(inbox, f"{name} - BC PTDV T8.xlsx")
        mau01(file, code, name, cells, 25 + n % 6)
        if code == "13285":
            # The old ward of Châu Cầu still reporting under its own code.
            mau01(os.path.join(inbox, "Phuong Chau Cau - BC PTDV T8.xlsx"), "13294", "Phường Châu Cầu",
                  party_cells(rng, "13294", "Phường Châu Cầu"), 28)
        if code == "QS37":
            # One unit's clerk saves as Excel 97-2003 from LibreOffice.
            tmp = os.path.join(OUT, "lo_tmp")
            os.makedirs(tmp)
            subprocess.run(["soffice", "--headless", "--convert-to", "xls", "--outdir", tmp, file],
                           check=True, capture_output=True)
            os.remove(file)
            produced = os.listdir(tmp)[0]
            shutil.move(os.path.join(tmp, produced), os.path.join(inbox, produced))
            shutil.rmtree(tmp)
        if code in ("13285", NO_OPENING, "QS37"):
            print(f"{code} {name}: month {sum(v[2] for _, v in cells)}, opening {balances.get(code)}")
    print(f"units {len(units)}, returns counted: month admissions {month_total}")
    print(f"opening term total (without {NO_OPENING}): {sum(t for t, _ in balances.values())}")


if __name__ == "__main__":
    main()
