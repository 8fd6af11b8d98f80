//! A period's returns as one stage hands them to the next.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::completeness::Expectation;
use super::Finding;
use crate::definition::{Plan, Table, ValueKind};

/// What the stages made of a period's inbox: the files, their rows per table, where each
/// field was found, the findings, and who was expected to report.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) files: Vec<FileRecord>,
    /// Rows per return table, by its qualified name (`mau01.cells`); each row carries
    /// `_file`, `_sheet`, `_row`, `_unit` and `_period`.
    pub(crate) tables: BTreeMap<String, DataFrame>,
    /// Where each field was found in each file, as `Placement::to_frame` makes it: a
    /// table, so that a rerun passes 130,000 of them on without making each a value.
    pub(crate) placements: DataFrame,
    /// The title blocks' texts (`TitleLine::to_frame`), which validate reads and drops.
    pub(crate) titles: DataFrame,
    pub(crate) findings: Vec<Finding>,
    /// Who was expected to report and what arrived; filled by merge.
    pub(crate) completeness: Vec<Expectation>,
}

impl Default for Batch {
    fn default() -> Batch {
        Batch {
            files: Vec::new(),
            tables: BTreeMap::new(),
            placements: Placement::none(),
            titles: TitleLine::none(),
            findings: Vec::new(),
            completeness: Vec::new(),
        }
    }
}

impl Batch {
    /// The part of the batch that comes from the files `keep` names.
    pub(crate) fn of_files(self, keep: &std::collections::HashSet<String>) -> anyhow::Result<Batch> {
        let Batch { mut files, tables, placements, titles, mut findings, completeness } = self;
        files.retain(|f| keep.contains(&f.file));
        findings.retain(|f| keep.contains(&f.file));
        let mut kept = BTreeMap::new();
        for (name, df) in tables {
            kept.insert(name, rows_of_files(&df, "_file", keep)?);
        }
        let placements = rows_of_files(&placements, PLACEMENT_COLUMNS[0], keep)?;
        let titles = rows_of_files(&titles, TITLE_COLUMNS[0], keep)?;
        Ok(Batch { files, tables: kept, placements, titles, findings, completeness })
    }

    /// This batch and `other`, of other files, as one, in the order of the files' names:
    /// what one stage run over all of them gives (each file's own order kept).
    pub(crate) fn join(self, other: Batch) -> anyhow::Result<Batch> {
        let mut files = self.files;
        files.extend(other.files);
        files.sort_by(|a, b| a.file.cmp(&b.file));
        let placements = merge_by_file(&self.placements, &other.placements, PLACEMENT_COLUMNS[0])?;
        let titles = merge_by_file(&self.titles, &other.titles, TITLE_COLUMNS[0])?;
        let mut findings = self.findings;
        findings.extend(other.findings);
        findings.sort_by(|a, b| a.file.cmp(&b.file));
        let mut tables = self.tables;
        for (name, df) in other.tables {
            let joined = match tables.remove(&name) {
                Some(mine) => merge_by_file(&mine, &df, "_file")?,
                None => df,
            };
            tables.insert(name, joined);
        }
        let mut completeness = self.completeness;
        completeness.extend(other.completeness);
        Ok(Batch { files, tables, placements, titles, findings, completeness })
    }
}

/// The rows of `df` whose `column` names one of the files `keep` names. A batch's rows
/// come file by file: a file is looked up once for each run of its rows.
fn rows_of_files(df: &DataFrame, column: &str, keep: &std::collections::HashSet<String>) -> anyhow::Result<DataFrame> {
    let mut last: Option<(Option<&str>, bool)> = None;
    let sent: Vec<bool> = df
        .column(column)?
        .str()?
        .iter()
        .map(|file| {
            let kept = match last {
                Some((before, kept)) if before == file => kept,
                _ => keep.contains(file.unwrap_or("")),
            };
            last = Some((file, kept));
            kept
        })
        .collect();
    Ok(df.filter(&BooleanChunked::from_slice("keep".into(), &sent))?)
}

/// The rows of `a` and `b`, of different files, in the order of the file names in
/// `column`, each file's rows in their order: what sorting the two stacked gives. Each is
/// in that order already (a stage's rows come file by file, in the files' order), so the
/// two are merged rather than sorted; one that is not is sorted.
fn merge_by_file(a: &DataFrame, b: &DataFrame, column: &str) -> anyhow::Result<DataFrame> {
    if b.height() == 0 {
        return Ok(a.clone());
    }
    if a.height() == 0 {
        return Ok(b.clone());
    }
    let stacked = a.vstack(b)?;
    let names: Vec<&str> = stacked.column(column)?.str()?.iter().map(|f| f.unwrap_or("")).collect();
    let (left, right) = names.split_at(a.height());
    if !left.is_sorted() || !right.is_sorted() {
        let order = SortMultipleOptions::default().with_maintain_order(true);
        return Ok(stacked.sort([column], order)?);
    }
    // Runs of rows taken from one side, as (first row in `stacked`, rows).
    let (mut i, mut j) = (0, 0);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    while i < left.len() || j < right.len() {
        let (from_left, at) = match j == right.len() || (i < left.len() && left[i] <= right[j]) {
            true => (true, i),
            false => (false, left.len() + j),
        };
        match runs.last_mut() {
            Some((first, rows)) if *first + *rows == at => *rows += 1,
            _ => runs.push((at, 1)),
        }
        if from_left {
            i += 1;
        } else {
            j += 1;
        }
    }
    // A few files changed among many: a few slices, no copy.
    if runs.len() <= 64 {
        let mut out = stacked.slice(runs[0].0 as i64, runs[0].1);
        for &(first, rows) in &runs[1..] {
            out.vstack_mut(&stacked.slice(first as i64, rows))?;
        }
        out.rechunk_mut_par();
        return Ok(out);
    }
    let take: Vec<IdxSize> =
        runs.iter().flat_map(|&(first, rows)| (first..first + rows).map(|r| r as IdxSize)).collect();
    Ok(stacked.take(&IdxCa::from_vec("take".into(), take))?)
}

/// The return tables a batch holds, as the store writes and reads them: each table's
/// qualified name and its date fields. The stages hold dates as ISO text (the rules
/// compare them so); the artifacts hold them as dates.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableSchemas(pub(crate) Vec<(String, Vec<String>)>);

impl TableSchemas {
    pub(crate) fn of(plan: &Plan) -> TableSchemas {
        let dates =
            |t: &Table| t.columns.iter().filter(|c| c.kind == ValueKind::Date).map(|c| c.field.clone()).collect();
        TableSchemas(plan.tables.iter().map(|t| (t.name.clone(), dates(t))).collect())
    }

    /// Each table's name and its date fields.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(name, dates)| (name.as_str(), dates.as_slice()))
    }
}

/// What became of an input file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub(crate) enum FileStatus {
    #[default]
    Accepted,
    Rejected,
    /// A newer return of the same unit counts instead.
    Superseded,
    /// Not a return of this pipeline (a lock file, an unrecognised workbook).
    Ignored,
}

impl FileStatus {
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One input file as read, and what became of it at each stage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    /// The file name, relative to the inbox.
    pub(crate) file: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
    /// Modification time, seconds since the epoch (orders resubmissions without a date line).
    pub(crate) modified: i64,
    /// The recognised return type, empty when none.
    pub(crate) return_id: String,
    pub(crate) unit: String,
    pub(crate) period: String,
    /// The date of the place/date line, ISO, empty when none (or implausible for the
    /// period, once validated), and its cell.
    pub(crate) dated: String,
    pub(crate) dated_cell: String,
    pub(crate) rows_read: u32,
    /// Rows refused while reading.
    pub(crate) rows_refused: u32,
    /// The texts of the title block with their cells, as the file was read: the batch
    /// holds them as its `titles` table, for validate to recognise the unit by its
    /// committee's name (the records of ten thousand files go from stage to stage).
    #[serde(skip)]
    pub(crate) title: Vec<TitleLine>,
    /// Where the title block's unit code and period were read (`Sheet!A1`), for findings.
    pub(crate) title_sheet: String,
    pub(crate) unit_cell: String,
    pub(crate) period_cell: String,
    /// Provisional after ingest (what reading alone could tell), settled by validate and merge.
    pub(crate) status: FileStatus,
    pub(crate) rows_accepted: u32,
    pub(crate) rows_rejected: u32,
}

/// A text of a return's title block and its cell (`B2`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TitleLine {
    pub(crate) cell: String,
    pub(crate) text: String,
}

const TITLE_COLUMNS: [&str; 3] = ["file", "cell", "text"];

impl TitleLine {
    /// The title lines of `files` as a table, one row a line, in order: at ten thousand
    /// returns 85 KB of Parquet where they were 6 MB of JSON, and no value a line read back.
    pub(crate) fn to_frame(files: &[FileRecord]) -> PolarsResult<DataFrame> {
        let lines = || files.iter().flat_map(|f| f.title.iter().map(move |line| (f, line)));
        DataFrame::new_infer_height(vec![
            Column::new(TITLE_COLUMNS[0].into(), lines().map(|(f, _)| f.file.as_str()).collect::<Vec<_>>()),
            Column::new(TITLE_COLUMNS[1].into(), lines().map(|(_, l)| l.cell.as_str()).collect::<Vec<_>>()),
            Column::new(TITLE_COLUMNS[2].into(), lines().map(|(_, l)| l.text.as_str()).collect::<Vec<_>>()),
        ])
    }

    /// No title lines, as a table.
    pub(crate) fn none() -> DataFrame {
        TitleLine::to_frame(&[]).expect("three empty columns make a table")
    }

    /// Each file's title lines in `to_frame`'s table, as `(cell, text)`, in order.
    pub(crate) fn by_file(df: &DataFrame) -> PolarsResult<HashMap<&str, Vec<(&str, &str)>>> {
        let [file, cell, text] = TITLE_COLUMNS.map(|name| df.column(name).and_then(|c| c.str()));
        let mut lines: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
        for ((file, cell), text) in file?.iter().zip(cell?.iter()).zip(text?.iter()) {
            lines
                .entry(file.unwrap_or_default())
                .or_default()
                .push((cell.unwrap_or_default(), text.unwrap_or_default()));
        }
        Ok(lines)
    }
}

impl FileRecord {
    /// Whether the file was recognised as a return of the pipeline.
    pub(crate) fn is_return(&self) -> bool {
        !self.return_id.is_empty()
    }
}

/// Where a field of a table was found in one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Placement {
    pub(crate) file: String,
    pub(crate) table: String,
    pub(crate) sheet: String,
    pub(crate) field: String,
    pub(crate) column: String,
}

/// Where each field of each file was found: `(file, table, field) -> (sheet, column)`.
pub(crate) type FieldCells<'a> = HashMap<(&'a str, &'a str, &'a str), (&'a str, &'a str)>;

const PLACEMENT_COLUMNS: [&str; 5] = ["file", "table", "sheet", "field", "column"];

impl Placement {
    /// Placements as a table: one row a file and field, 130,000 rows for ten thousand
    /// returns, which Parquet stores in a fraction of JSON's bytes.
    pub(crate) fn to_frame(placements: &[Placement]) -> PolarsResult<DataFrame> {
        let column = |name: &str, get: fn(&Placement) -> &str| {
            Column::new(name.into(), placements.iter().map(get).collect::<Vec<_>>())
        };
        DataFrame::new_infer_height(vec![
            column(PLACEMENT_COLUMNS[0], |p| &p.file),
            column(PLACEMENT_COLUMNS[1], |p| &p.table),
            column(PLACEMENT_COLUMNS[2], |p| &p.sheet),
            column(PLACEMENT_COLUMNS[3], |p| &p.field),
            column(PLACEMENT_COLUMNS[4], |p| &p.column),
        ])
    }

    /// No placements, as a table.
    pub(crate) fn none() -> DataFrame {
        Placement::to_frame(&[]).expect("five empty columns make a table")
    }

    /// Where each field of each file was found in `to_frame`'s table.
    pub(crate) fn by_field(df: &DataFrame) -> PolarsResult<FieldCells<'_>> {
        let [file, table, sheet, field, column] = PLACEMENT_COLUMNS.map(|name| df.column(name).and_then(|c| c.str()));
        fn text(c: Option<&str>) -> &str {
            c.unwrap_or_default()
        }
        let (file, table, sheet, field, column) = (file?, table?, sheet?, field?, column?);
        let keys = file.iter().zip(table.iter()).zip(field.iter());
        let cells = keys.zip(sheet.iter().zip(column.iter()));
        Ok(cells.map(|(((f, t), d), (s, c))| ((text(f), text(t), text(d)), (text(s), text(c)))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, lines: &[(&str, &str)]) -> FileRecord {
        let title = lines.iter().map(|(cell, text)| TitleLine { cell: cell.to_string(), text: text.to_string() });
        FileRecord { file: name.into(), title: title.collect(), ..FileRecord::default() }
    }

    #[test]
    fn title_lines_go_by_file_in_their_order_through_parts_joined_again() {
        let a = file("a.xlsx", &[("A1", "ĐẢNG BỘ HUYỆN BÌNH LỤC"), ("A2", "ĐẢNG ỦY XÃ AN NỘI")]);
        let (b, c) = (file("b.xlsx", &[]), file("c.xlsx", &[("B3", "CHI BỘ")]));
        let batch =
            |files: Vec<FileRecord>| Batch { titles: TitleLine::to_frame(&files).unwrap(), files, ..Batch::default() };
        // c read again, joined to what a and b were.
        let kept = batch(vec![a, b, file("c.xlsx", &[("B3", "old")])]);
        let same = ["a.xlsx", "b.xlsx"].map(String::from).into_iter().collect();
        let joined = kept.of_files(&same).unwrap().join(batch(vec![c])).unwrap();
        let lines = TitleLine::by_file(&joined.titles).unwrap();
        assert_eq!(lines["a.xlsx"], [("A1", "ĐẢNG BỘ HUYỆN BÌNH LỤC"), ("A2", "ĐẢNG ỦY XÃ AN NỘI")]);
        assert!(!lines.contains_key("b.xlsx"));
        assert_eq!(lines["c.xlsx"], [("B3", "CHI BỘ")]);
    }

    /// Rows of a table, file by file: `(file, row)`.
    fn rows(rows: &[(&str, i64)]) -> DataFrame {
        let files: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let numbers: Vec<i64> = rows.iter().map(|r| r.1).collect();
        df!("_file" => files, "_row" => numbers).unwrap()
    }

    #[test]
    fn rows_of_files_read_again_go_back_among_the_others_as_a_sort_would_put_them() {
        let kept = rows(&[("a", 1), ("a", 2), ("c", 1), ("e", 1), ("e", 2)]);
        let read = rows(&[("b", 7), ("d", 1), ("d", 2), ("f", 3)]);
        let order = SortMultipleOptions::default().with_maintain_order(true);
        let sorted = kept.vstack(&read).unwrap().sort(["_file"], order).unwrap();
        assert!(merge_by_file(&kept, &read, "_file").unwrap().equals(&sorted));
        assert!(merge_by_file(&read, &kept, "_file").unwrap().equals(&sorted));
        // Many runs are gathered rather than sliced: the same rows.
        let many: Vec<(String, i64)> = (0..200).map(|i| (format!("f{i:03}"), i)).collect();
        let (even, odd): (Vec<_>, Vec<_>) = many.iter().partition(|(_, i)| i % 2 == 0);
        let frame = |v: &[&(String, i64)]| rows(&v.iter().map(|(f, i)| (f.as_str(), *i)).collect::<Vec<_>>());
        let all = frame(&many.iter().collect::<Vec<_>>());
        assert!(merge_by_file(&frame(&even), &frame(&odd), "_file").unwrap().equals(&all));
        // A side out of order is sorted, not merged wrong.
        let unsorted = rows(&[("c", 1), ("a", 1)]);
        let joined = merge_by_file(&unsorted, &rows(&[("b", 1)]), "_file").unwrap();
        assert_eq!(super::super::frame::text_column(&joined, "_file").unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn the_rows_of_some_files_are_those_files_rows_in_their_order() {
        let table = rows(&[("a", 1), ("a", 2), ("b", 1), ("c", 1), ("c", 2), ("a", 3)]);
        let keep = ["a", "c"].map(String::from).into_iter().collect();
        let kept = rows_of_files(&table, "_file", &keep).unwrap();
        assert!(kept.equals(&rows(&[("a", 1), ("a", 2), ("c", 1), ("c", 2), ("a", 3)])));
    }
}
