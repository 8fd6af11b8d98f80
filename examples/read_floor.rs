//! The read floor: open every workbook of a folder with calamine and read every used cell
//! of every sheet, with the tool's parallelism (rayon over files), and nothing else. What
//! consolidating costs beyond this is the tool's own work.
//!
//! `cargo run --release --example read_floor -- DIR`

use std::path::PathBuf;

use calamine::{open_workbook_auto, Data, Reader};
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: read_floor DIR")?);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let cells: usize = files
        .par_iter()
        .map(|path| {
            let Ok(mut book) = open_workbook_auto(path) else { return 0 };
            let names = book.sheet_names();
            names
                .iter()
                .filter_map(|name| book.worksheet_range(name).ok())
                .map(|range| range.used_cells().filter(|(_, _, v)| !matches!(v, Data::Empty)).count())
                .sum::<usize>()
        })
        .sum();
    println!("{} files, {cells} cells", files.len());
    Ok(())
}
