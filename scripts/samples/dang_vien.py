"""Writes sample_data_dang_vien/: quarterly party-membership returns of the new Ninh Bình.

Run from the project root after scripts/samples/ninh_binh.py (the registry is that data's):
python3 scripts/samples/dang_vien.py. Needs openpyxl, and LibreOffice (soffice) for the
.ods return. The output is committed; the tests and `tonghop run` need neither tool. The
figures are the same on every run (a fixed seed).

- reference/don_vi.csv: sample_data_ninh_binh's registry (old Hà Nam with its validity,
  the new province's 37 units from 2025-07).
- reference/so_lieu_dau_nam.xlsx: each unit's flows from January to June 2025
  (`Tính đến: Quý II/2025`), so that year-to-date figures add Q3 and Q4 to them.
- inbox/2025-Q3/, inbox/2025-Q4/: one return per unit and quarter, each party cell's end
  the start of its next quarter. In Q4 one party cell of Xã Thanh Liêm reports an end
  that its own flows do not give (the rule's finding at its cell); Xã Nam Lý writes its
  period `Quý 4 năm 2025` and saves in LibreOffice's .ods.
"""
import os
import random
import shutil
import subprocess

from openpyxl import Workbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "sample_data_dang_vien")
REGISTRY = os.path.join(ROOT, "sample_data_ninh_binh", "reference", "don_vi.csv")
FLOWS = ["Kết nạp", "Chuyển đến", "Chuyển đi", "Từ trần", "Khai trừ, xóa tên"]
BROKEN = "13495"
ODS = "13627"


def units():
    with open(REGISTRY, encoding="utf-8") as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    return [(r[0], r[1]) for r in rows if r[3] == "37"]


def start_of_year(rng, units):
    wb = Workbook()
    ws = wb.active
    ws.title = "Đầu năm"
    ws["A1"], ws["B1"] = "Tính đến", "Quý II/2025"
    ws["A3"], ws["B3"], ws["C3"] = "Mã đơn vị", "Tên đơn vị", "Từ đầu năm"
    for k, flow in enumerate(FLOWS):
        ws.cell(4, 3 + k, flow)
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.merge_cells("C3:G3")
    balances = {}
    for code, name in units:
        row = [rng.randint(5, 30), rng.randint(0, 15), rng.randint(0, 12), rng.randint(0, 8), rng.randint(0, 2)]
        balances[code] = row
        ws.append([code, name] + row)
    wb.save(os.path.join(OUT, "reference", "so_lieu_dau_nam.xlsx"))
    return balances


def quarter_rows(rng, starts):
    """Each party cell: start, the five flows, end (the balance holds)."""
    rows = []
    for start in starts:
        flows = [rng.choice([0, 0, 1, 1, 2]), rng.randint(0, 2), rng.randint(0, 2), rng.choice([0, 0, 0, 1]),
                 rng.choice([0] * 9 + [1])]
        end = start + flows[0] + flows[1] - flows[2] - flows[3] - flows[4]
        rows.append([start] + flows + [end])
    return rows


def write_return(path, code, name, quarter, period_text, rows, day):
    wb = Workbook()
    ws = wb.active
    ws.title = "SLĐV"
    ws["A1"] = "ĐẢNG BỘ TỈNH NINH BÌNH"
    ws["A2"] = ("ĐẢNG ỦY " + (name.split(" ", 2)[2] if name.startswith("Đảng bộ") else name)).upper()
    ws["A3"] = "*"
    ws["F1"] = "ĐẢNG CỘNG SẢN VIỆT NAM"
    last_month = 3 * quarter
    ws["F2"] = f"Ninh Bình, ngày {day} tháng {last_month} năm 2025"
    ws["A5"] = "BÁO CÁO SỐ LƯỢNG ĐẢNG VIÊN"
    ws["A6"] = f"Quý {['I', 'II', 'III', 'IV'][quarter - 1]} năm 2025"
    ws["A7"], ws["B7"] = "Mã đơn vị:", code
    ws["E7"], ws["F7"] = "Kỳ báo cáo:", period_text
    heads = ["STT", "Chi bộ", "Đảng viên đầu kỳ", "Tăng trong kỳ", None, "Giảm trong kỳ", None, None,
             "Đảng viên cuối kỳ", "Ghi chú"]
    subs = [None, None, None, "Kết nạp", "Chuyển đến", "Chuyển đi", "Từ trần", "Khai trừ, xóa tên", None, None]
    for k, (head, sub) in enumerate(zip(heads, subs)):
        if head:
            ws.cell(9, k + 1, head)
        if sub:
            ws.cell(10, k + 1, sub)
    for merged in ["A9:A10", "B9:B10", "C9:C10", "D9:E9", "F9:H9", "I9:I10", "J9:J10"]:
        ws.merge_cells(merged)
    for k in range(10):
        ws.cell(11, k + 1, f"({k + 1})")
    r = 12
    for i, values in enumerate(rows):
        ws.cell(r, 1, i + 1)
        ws.cell(r, 2, f"Chi bộ số {i + 1}")
        for k, v in enumerate(values):
            ws.cell(r, 3 + k, v)
        r += 1
    ws.cell(r, 2, "Tổng cộng")
    for k in range(7):
        ws.cell(r, 3 + k, sum(v[k] for v in rows))
    ws.cell(r + 2, 2, "Nơi nhận:")
    ws.cell(r + 2, 7, "T/M ĐẢNG ỦY")
    ws.cell(r + 3, 7, "BÍ THƯ")
    wb.save(path)


def to_ods(path, inbox):
    tmp = os.path.join(OUT, "lo_tmp")
    os.makedirs(tmp)
    subprocess.run(["soffice", "--headless", "--convert-to", "ods", "--outdir", tmp, path], check=True,
                   capture_output=True)
    os.remove(path)
    produced = os.listdir(tmp)[0]
    shutil.move(os.path.join(tmp, produced), os.path.join(inbox, produced))
    shutil.rmtree(tmp)


def main():
    rng = random.Random(20251231)
    # The sample's project file is kept: it is not generated.
    project = os.path.join(OUT, "tonghop.toml")
    kept = open(project, "rb").read() if os.path.exists(project) else None
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "reference"))
    if kept is not None:
        open(project, "wb").write(kept)
    shutil.copy(REGISTRY, os.path.join(OUT, "reference", "don_vi.csv"))
    all_units = units()
    assert len(all_units) == 37, len(all_units)
    balances = start_of_year(rng, all_units)
    starts = {code: [rng.randint(15, 90) for _ in range(rng.randint(4, 10))] for code, _ in all_units}
    totals = {}
    for quarter in (3, 4):
        inbox = os.path.join(OUT, "inbox", f"2025-Q{quarter}")
        os.makedirs(inbox)
        for n, (code, name) in enumerate(all_units):
            rows = quarter_rows(rng, starts[code])
            starts[code] = [row[-1] for row in rows]
            if quarter == 4 and code == BROKEN:
                rows[1][-1] += 3  # an end the flows do not give
            roman = ["I", "II", "III", "IV"][quarter - 1]
            period_text = f"Quý {quarter} năm 2025" if code == ODS else f"Quý {roman}/2025"
            path = os.path.join(inbox, f"{name} - SLDV Q{quarter}.xlsx")
            write_return(path, code, name, quarter, period_text, rows, 20 + n % 10)
            if quarter == 4 and code == ODS:
                to_ods(path, inbox)
            for k in range(7):
                key = (quarter, code, k)
                totals[key] = sum(row[k] for row in rows if not (quarter == 4 and code == BROKEN and row is rows[1]))
            if code in ("13285", BROKEN, ODS):
                print(f"Q{quarter} {code} {name}: " + ", ".join(str(totals[(quarter, code, k)]) for k in range(7)))
    for quarter in (3, 4):
        print(f"Q{quarter} province: " + ", ".join(str(sum(totals[(quarter, c, k)] for c, _ in all_units)) for k in range(7)))
    for code in ("13285", BROKEN):
        print(f"{code} start of year: {balances[code]}")
    print("province admitted year to date:",
          sum(balances[c][0] for c, _ in all_units) + sum(totals[(q, c, 1)] for q in (3, 4) for c, _ in all_units))


if __name__ == "__main__":
    main()
