"""The same consolidation as a competent analyst would write it: polars, fastexcel
(calamine underneath) and xlsxwriter, one file after the other, the template's layout
known by heart. The peer of `scripts/bench`; it reads one month's inbox, rolls the
admissions and classes up to district and province, joins targets and opening balances,
and writes a two-sheet workbook.

python3 consolidate.py DATA OUT.xlsx
"""
import os
import sys

import fastexcel
import polars as pl

FIELDS = ["nominated", "certified", "admitted", "female", "youth_union", "students", "religious",
          "residential", "private_workers", "veterans"]


def cell(df, r, c):
    v = df[r, c]
    return None if v is None else str(v).strip()


def read_mau01(df, path):
    code = cell(df, 6, 1)
    head = next(r for r in range(min(40, df.height)) if cell(df, r, 1) == "Chi bộ")
    rows = []
    for r in range(head + 3, df.height):
        name = cell(df, r, 1)
        if name is None:
            continue
        if name.startswith("Tổng cộng") or name.startswith("Nơi nhận"):
            break
        values = []
        for c in range(2, 12):
            v = df[r, c]
            values.append(int(float(v)) if v not in (None, "", "-") else 0)
        rows.append([code, name] + values)
    return rows


def read_classes(df, code):
    head = next(r for r in range(min(40, df.height)) if cell(df, r, 0) == "STT")
    out = []
    for r in range(head + 1, df.height):
        name = cell(df, r, 1)
        if not name or name.startswith("Tổng cộng"):
            break
        kind = "awareness" if "nhận thức" in (cell(df, r, 2) or "").lower() else "new_members"
        out.append([code, kind, int(float(df[r, 6]))])
    return out


def main():
    data, out = sys.argv[1], sys.argv[2]
    inbox = os.path.join(data, "inbox", sorted(os.listdir(os.path.join(data, "inbox")))[-1])
    cells, classes = [], []
    for name in sorted(os.listdir(inbox)):
        reader = fastexcel.read_excel(os.path.join(inbox, name))
        first = reader.load_sheet(0, header_row=None).to_polars()
        form = cell(first, 3, 12) if first.width > 12 else None
        if form == "Mẫu 01-PTĐV" or reader.sheet_names[0] != "Lớp bồi dưỡng":
            cells.extend(read_mau01(first, name))
        else:
            classes.extend(read_classes(first, cell(first, 6, 1)))
    rows = pl.DataFrame(cells, schema=["unit", "cell_name"] + FIELDS, orient="row")
    registry = pl.read_csv(os.path.join(data, "reference", "don_vi.csv"), infer_schema_length=0)
    targets = fastexcel.read_excel(os.path.join(data, "reference", "chi_tieu.xlsx")).load_sheet(0).to_polars()
    opening = fastexcel.read_excel(os.path.join(data, "reference", "luy_ke_dau_ky.xlsx")).load_sheet(0, header_row=None).to_polars()
    opening = opening.slice(4).select(pl.col(opening.columns[0]).alias("unit"),
                                      pl.col(opening.columns[2]).cast(pl.Float64).fill_null(0).alias("open_term"))

    per_unit = (rows.group_by("unit").agg([pl.col(f).sum() for f in FIELDS])
                .join(opening, on="unit", how="left")
                .with_columns((pl.col("admitted") + pl.col("open_term").fill_null(0)).alias("admitted_term")))
    units = registry.filter(pl.col("kind") == "grassroots").select(pl.col("code").alias("unit"), pl.col("parent").alias("district"))
    by_unit = units.join(per_unit, on="unit", how="left").fill_null(0)
    cls = pl.DataFrame(classes, schema=["district", "kind", "trainees"], orient="row")
    class_sums = cls.group_by("district").agg(
        (pl.col("kind") == "awareness").sum().alias("aw_classes"),
        pl.col("trainees").filter(pl.col("kind") == "awareness").sum().alias("aw_trainees"),
        (pl.col("kind") == "new_members").sum().alias("nm_classes"),
    )
    districts = (by_unit.group_by("district").agg(pl.col("admitted").sum().alias("adm_month"),
                                                 pl.col("admitted_term").sum().alias("adm_term"),
                                                 (pl.col("admitted") > 0).sum().alias("admitting_units"),
                                                 pl.len().alias("units"))
                 .join(class_sums, on="district", how="left")
                 .join(targets.select(pl.col("Mã đơn vị").alias("district"),
                                      pl.col("Chỉ tiêu nhiệm kỳ").alias("term_target")), on="district", how="left")
                 .with_columns((pl.col("adm_term") / pl.col("term_target")).alias("pct_term"))
                 .sort("district"))
    province = districts.select(pl.lit("35").alias("district"), pl.col("adm_month").sum(), pl.col("adm_term").sum(),
                                pl.col("admitting_units").sum(), pl.col("units").sum(), pl.col("aw_classes").sum(),
                                pl.col("aw_trainees").sum(), pl.col("nm_classes").sum(), pl.col("term_target").sum())
    province = province.with_columns((pl.col("adm_term") / pl.col("term_target")).alias("pct_term"))
    summary = pl.concat([districts, province.select(districts.columns)], how="vertical_relaxed")
    import xlsxwriter
    with xlsxwriter.Workbook(out) as wb:
        summary.write_excel(wb, worksheet="Tổng hợp")
        by_unit.write_excel(wb, worksheet="Kết nạp theo cơ sở")
    print(f"{rows.height} rows from {len(os.listdir(inbox))} files")


if __name__ == "__main__":
    main()
