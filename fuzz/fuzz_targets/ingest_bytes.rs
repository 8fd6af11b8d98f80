//! Arbitrary bytes as a return: reading, recognising, locating and coercing must never
//! panic. `read_unisolated` is ingest without its `catch_unwind`, so a panic is a crash here.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tonghop::definition::{self, Definition};
use tonghop::ingest::{self, workbook::Caps};

fn pipeline() -> &'static Definition {
    static DEF: OnceLock<Definition> = OnceLock::new();
    DEF.get_or_init(|| {
        let text = include_str!("../../pipelines/ptdv_monthly.toml");
        definition::parse(std::path::Path::new("ptdv_monthly.toml"), text).expect("the shipped pipeline loads")
    })
}

fuzz_target!(|bytes: &[u8]| {
    let caps = Caps { max_file_bytes: 1 << 20, max_cells: 200_000, max_unzipped_bytes: 20 << 20, max_zip_ratio: 200 };
    let _ = ingest::read_unisolated(pipeline(), "fuzz.xlsx", bytes, caps);
});
