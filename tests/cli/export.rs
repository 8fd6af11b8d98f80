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

/// A stage's artifact read alone, as an analyst opens it.
fn artifact(out: &std::path::Path, path: &str) -> DataFrame {
    let file = std::fs::File::open(out.join("work/ptdv_monthly").join(path)).unwrap();
    ParquetReader::new(file).finish().unwrap()
}

#[test]
fn artifacts_say_what_they_are_of_and_hold_dates_as_dates_ratios_as_fractions_absence_as_null() {
    let out = consolidated_copy();
    let names = |df: &DataFrame| df.get_column_names().iter().map(|n| n.to_string()).collect::<Vec<_>>();

    // A return table: its engine columns, the pipeline beside the period, dates as dates.
    let classes = artifact(out.path(), "2023-10/merge/table.mau02.classes.parquet");
    assert_eq!(names(&classes)[..6], ["_file", "_sheet", "_row", "_unit", "_period", "_pipeline"]);
    assert_eq!(classes.column("start_date").unwrap().dtype(), &DataType::Date);
    assert_eq!(classes.column("_pipeline").unwrap().str().unwrap().get(0), Some("ptdv_monthly"));

    // The figures: labelled, named columns, a ratio as the fraction of its two measures.
    let figures = artifact(out.path(), "2023-10/aggregate/figures.parquet");
    assert_eq!(names(&figures)[..7], ["pipeline", "period", "code", "name", "kind", "parent", "order"]);
    assert!(names(&figures).iter().all(|n| !n.starts_with('_')), "{:?}", names(&figures));
    let province = figures.clone().lazy().filter(col("parent").is_null()).collect().unwrap();
    assert_eq!(province.height(), 1, "only the province has no parent");
    let number = |m: &str| province.column(m).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(0).unwrap();
    assert_eq!(number("adm_term"), 3335.0);
    assert_eq!(number("pct_term"), number("adm_term") / number("term_target"));
    assert!(number("pct_term") < 1.5, "a fraction, not percent points");
    assert!(figures.column("adm_year__status").is_ok());

    // Findings: what a finding does not have is null, not "" or 0.
    let findings = artifact(out.path(), "2023-10/merge/findings.parquet");
    assert_eq!(names(&findings)[..2], ["pipeline", "period"]);
    let about_a_whole_file = findings.clone().lazy().filter(col("cell").is_null()).collect().unwrap();
    assert!(about_a_whole_file.height() > 0);
    assert_eq!(about_a_whole_file.column("row").unwrap().null_count(), about_a_whole_file.height());
    for column in findings.columns() {
        if let Ok(texts) = column.str() {
            assert!(texts.iter().all(|t| t != Some("")), "`{}` holds an empty text", column.name());
        }
    }
}
