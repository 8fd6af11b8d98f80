//! The real binary on real files: the figures in the workbook, the finding at the cell,
//! the exit code, as a person or a script checks them.
//!
//! One test binary, so the suite links once and the tests of every file share one run of
//! the sample (`common::sample`).

mod briefing;
mod check_definition;
mod common;
mod dang_vien;
mod export;
mod new_province;
mod ninh_binh;
mod operations;
mod print;
mod real_returns;
mod reruns;
mod sample_figures;
mod sample_findings;
mod second_pipeline;
mod stages;
mod templates;
mod year_ago;
