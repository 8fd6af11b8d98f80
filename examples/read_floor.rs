//! The read floor: open every workbook of a folder with calamine and read every used cell
//! of every sheet, with the tool's parallelism (rayon over files), and nothing else. What
//! consolidating costs beyond this is the tool's own work.
//!
//! `cargo run --release --example read_floor -- DIR`
//! `cargo run --release --example read_floor -- DIR --tool-reader` reads through the
//! tool's own reader instead (file in memory, zip bomb check, streamed cells into a grid
//! under the cell cap): the difference is what that hardening costs.

use std::path::PathBuf;

use calamine::{open_workbook_auto, Data, Reader};
use rayon::prelude::*;
use tonghop::workbook::{self, Caps, Cell};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: read_floor DIR [--tool-reader]")?);
    let tool_reader = args.next().as_deref() == Some("--tool-reader");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let cells: usize =
        files.par_iter().map(|path| if tool_reader { through_the_tool(path) } else { through_calamine(path) }).sum();
    println!("{} files, {cells} cells", files.len());
    Ok(())
}

fn through_calamine(path: &PathBuf) -> usize {
    let Ok(mut book) = open_workbook_auto(path) else { return 0 };
    let names = book.sheet_names();
    names
        .iter()
        .filter_map(|name| book.worksheet_range(name).ok())
        .map(|range| range.used_cells().filter(|(_, _, v)| !matches!(v, Data::Empty)).count())
        .sum::<usize>()
}

fn through_the_tool(path: &PathBuf) -> usize {
    let Ok(bytes) = std::fs::read(path) else { return 0 };
    let Ok(grids) = workbook::read(&bytes, Caps::default()) else { return 0 };
    grids.iter().flat_map(|g| g.rows.iter().flatten()).filter(|c| !matches!(c, Cell::Empty)).count()
}
