//! `tonghop export`: every consolidated month of the sample in one long table that polars
//! reads with one scan (hive partitioning), its schema exactly as docs/data.md gives it,
//! and the province's published figures in it; CSV for Excel with its formula guard.

use polars::prelude::*;

use crate::common::{consolidated_copy, tonghop};

/// A hive-partitioned scan, the partition values read as text (`2023-10` is a month, not
/// a date to guess at).
fn scan(glob: &std::path::Path) -> DataFrame {
    let partitions = Schema::from_iter([
        Field::new("pipeline".into(), DataType::String),
        Field::new("period".into(), DataType::String),
    ]);
    let hive = HiveOptions { try_parse_dates: false, schema: Some(Arc::new(partitions)), ..HiveOptions::new_enabled() };
    let args = ScanArgsParquet { hive_options: hive, ..ScanArgsParquet::default() };
    LazyFrame::scan_parquet(glob.to_str().unwrap().into(), args).unwrap().collect().unwrap()
}

/// The sample's work directory, exported; returns the copy holding it.
fn exported(extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let out = consolidated_copy();
    let run = tonghop(&[&["export", "--out", out.path().to_str().unwrap()], extra].concat());
    (out, run)
}

#[test]
fn every_month_is_one_table_with_its_schema_and_the_published_figures() {
    let (out, run) = exported(&[]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let figures = scan(&out.path().join("export/figures/**/*.parquet"));
    let schema: Vec<(String, DataType)> =
        figures.schema().iter().map(|(name, dtype)| (name.to_string(), dtype.clone())).collect();
    let text = DataType::String;
    assert_eq!(
        schema,
        [
            ("period_kind".to_string(), text.clone()),
            ("unit_code".into(), text.clone()),
            ("unit_name".into(), text.clone()),
            ("level".into(), text.clone()),
            ("parent_code".into(), text.clone()),
            ("measure".into(), text.clone()),
            ("window".into(), text.clone()),
            ("value".into(), DataType::Float64),
            ("status".into(), text.clone()),
            ("pipeline".into(), text.clone()),
            ("period".into(), text.clone()),
        ]
    );
    let periods = figures.column("period").unwrap().unique().unwrap().len();
    assert_eq!(periods, 10, "every month of 2023 the inbox has");
    let province = |measure: &str| -> f64 {
        let picked = figures
            .clone()
            .lazy()
            .filter(
                col("period")
                    .eq(lit("2023-10"))
                    .and(col("unit_code").eq(lit("35")))
                    .and(col("measure").eq(lit(measure))),
            )
            .collect()
            .unwrap();
        picked.column("value").unwrap().f64().unwrap().get(0).unwrap()
    };
    assert_eq!((province("adm_month"), province("adm_term")), (95.0, 3335.0));
    assert!((province("pct_term") - 3335.0 / 3885.0).abs() < 1e-9, "a ratio is a fraction");
    // A unit that sent nothing has no figure for the month, and says so.
    let an_ninh = figures
        .lazy()
        .filter(
            col("period")
                .eq(lit("2023-10"))
                .and(col("unit_code").eq(lit("13528")))
                .and(col("measure").eq(lit("adm_month"))),
        )
        .collect()
        .unwrap();
    assert_eq!(an_ninh.column("status").unwrap().str().unwrap().get(0), Some("missing"));
    assert_eq!(an_ninh.column("value").unwrap().f64().unwrap().get(0), None);

    let findings = scan(&out.path().join("export/findings/**/*.parquet"));
    let october = findings.lazy().filter(col("period").eq(lit("2023-10"))).collect().unwrap();
    let rows = october.column("row").unwrap();
    assert!(rows.null_count() > 0, "a finding about a whole file has no row: null, not 0");
    assert!(rows.u32().unwrap().iter().flatten().all(|r| r > 0));
}

#[test]
fn csv_is_for_excel_and_a_period_left_out_is_said() {
    let (out, run) = exported(&["--format", "csv", "--period", "2023-09..2023-10"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let bytes = std::fs::read(out.path().join("export/figures.csv")).unwrap();
    assert!(bytes.starts_with("\u{feff}pipeline,period,period_kind,".as_bytes()), "UTF-8 with a BOM");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("ptdv_monthly,2023-09,month,") && text.contains("ptdv_monthly,2023-10,month,"));
    // Nothing the inbox lacks is made up: a month without consolidated figures is left out.
    let missing = tonghop(&["export", "--out", out.path().to_str().unwrap(), "--period", "2023-11", "--no-run"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("not consolidated, left out: 2023-11"));
}
