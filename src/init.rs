//! `tonghop init`: a province's project from its registry, ready to fill in. The project
//! file (the board's identity to edit), the pipeline, the registry checked and copied, every
//! reference workbook the pipeline reads with its exact headers and a row for every unit
//! that needs one, and the inbox folder of the first period.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rust_xlsxwriter::{FormatBorder, Workbook};

use crate::definition::{self, Plan, Reference, ValueKind};
use crate::draw::{self, Canvas, Style};
use crate::error::Error;
use crate::period::Period;
use crate::project::{self, Identity};
use crate::registry::{Hierarchy, Registry};
use crate::store;

/// The pipeline tonghop ships, written into a project made without `--pipeline`.
const PIPELINE: &str = include_str!("../pipelines/ptdv_monthly.toml");
const PIPELINE_FILE: &str = "ptdv_monthly.toml";

/// What `init` made, and what is left to the board.
pub struct Made {
    dir: PathBuf,
    /// Each file written, and what to do with it.
    files: Vec<(PathBuf, String)>,
    period: Period,
}

impl Made {
    /// What to tell the person who ran `init`: every file and what to do with it, then
    /// the next commands.
    pub fn text(&self) -> String {
        let width = self.files.iter().map(|(p, _)| p.display().to_string().chars().count()).max().unwrap_or(0);
        let mut text = format!("made the project in {}:\n", self.dir.display());
        for (path, what) in &self.files {
            let shown = path.display().to_string();
            let pad = width - shown.chars().count();
            text.push_str(&format!("  {shown}{:pad$}  {what}\n", ""));
        }
        // `template` and `run` take the current period and the inbox's newest by themselves.
        let period = if self.period == Period::current(self.period.kind) {
            String::new()
        } else {
            format!(" --period {}", self.period)
        };
        // The two commands, their explanations in one column.
        let template = format!("tonghop template --all{period}");
        let width = template.chars().count();
        text.push_str(&format!(
            "next:\n  cd {}\n  {template}    blank returns for every unit, in templates/{}/\n  \
             {:width$}    once the returns are in inbox/{}/\n\
             docs/new-province.md goes through each step.",
            self.dir.display(),
            self.period,
            "tonghop run",
            self.period
        ));
        text
    }
}

/// Make the project in `dir` for the units of `registry`, running `pipeline` (tonghop's
/// own when none) from `period` (the current one when none).
pub fn init(dir: &Path, registry: &Path, pipeline: Option<&Path>, period: Option<Period>) -> Result<Made, Error> {
    let project_file = dir.join(project::FILE);
    if project_file.exists() {
        return Err(Error::Usage(format!("{} already exists: init makes a new project", project_file.display())));
    }
    let (plan, pipeline_entry) = match pipeline {
        Some(path) => (definition::load(path)?, relative_to(dir, path)),
        None => (definition::parse(Path::new(PIPELINE_FILE), PIPELINE)?, PIPELINE_FILE.to_string()),
    };
    let period = period.unwrap_or_else(|| Period::current(plan.pipeline.period));
    if let Err(e) = period.expect_kind(plan.pipeline.period) {
        return Err(Error::Usage(format!("--period {e}")));
    }
    let units = Registry::load(registry, &plan.registry.levels)?;
    let hierarchy = units.hierarchy(period, &plan.registry.levels)?;
    let top = hierarchy.units.iter().find(|u| u.parent.is_empty()).context("the registry has no top unit")?;

    let mut files = Vec::new();
    let mut write = |relative: &str, bytes: Vec<u8>, what: String| -> anyhow::Result<()> {
        store::write_atomic(&dir.join(relative), &bytes)?;
        files.push((dir.join(relative), what));
        Ok(())
    };
    // The registry's top unit heads the letterhead until the board says otherwise; the
    // rest is the board's to write (the engine knows no board's words).
    let identity = Identity { superior: top.name.clone(), ..Identity::default() };
    write(
        project::FILE,
        project::text(&pipeline_entry, &identity).into_bytes(),
        "the project: edit [identity], the letterhead, place and signer the workbook prints".into(),
    )?;
    if pipeline.is_none() {
        write(
            PIPELINE_FILE,
            PIPELINE.as_bytes().to_vec(),
            "the pipeline: what the returns and the workbook are".into(),
        )?;
    }
    let registry_bytes = std::fs::read(registry).with_context(|| format!("cannot read {}", registry.display()))?;
    write(
        &plan.registry.file,
        registry_bytes,
        format!("the registry, checked: {} units in {period}", hierarchy.units.len()),
    )?;
    for reference in &plan.references {
        let (bytes, what) = reference_workbook(&plan, reference, &hierarchy, period)?;
        write(&reference.file, bytes, what)?;
    }
    let inbox = dir.join("inbox").join(period.to_string());
    std::fs::create_dir_all(&inbox).with_context(|| format!("cannot create {}", inbox.display()))?;
    files.push((inbox, format!("the returns of {period} go here, named however they come")));
    Ok(Made { dir: dir.to_path_buf(), files, period })
}

/// `path` as the project in `dir` names it: relative when both are under one folder.
fn relative_to(dir: &Path, path: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (dir, path) = (absolute(dir), absolute(path));
    let common = dir.components().zip(path.components()).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.display().to_string();
    }
    let ups = dir.components().count() - common;
    let rest: PathBuf = path.components().skip(common).collect();
    let mut relative = PathBuf::new();
    for _ in 0..ups {
        relative.push("..");
    }
    relative.join(rest).display().to_string()
}

/// A reference workbook to fill: the cut-off (the month before the first period) where the
/// reference has one, the headers exactly as the pipeline reads them for `period`'s year,
/// and a row for every unit that needs one, its code as text and its name filled in.
fn reference_workbook(
    plan: &Plan,
    reference: &Reference,
    hierarchy: &Hierarchy,
    period: Period,
) -> anyhow::Result<(Vec<u8>, String)> {
    let table = reference.table.for_year(period.year);
    let senders: Vec<&String> = plan.returns.iter().flat_map(|r| &r.senders).collect();
    let kinds: Vec<&String> = if reference.covers.is_empty() { senders } else { reference.covers.iter().collect() };
    let units: Vec<_> = hierarchy.units.iter().filter(|u| kinds.contains(&&u.kind)).collect();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(table.sheet.as_deref().unwrap_or(&table.id))?;
    let mut canvas = Canvas::new(sheet);
    let header = Style::new(11.0, true).with(|f| f.set_border(FormatBorder::Thin));
    let text = Style::new(11.0, false).with(|f| f.set_border(FormatBorder::Thin));
    let to_fill = text.with(|f| f.set_background_color("FFF2CC").set_num_format("#,##0"));
    for (k, column) in table.columns.iter().enumerate() {
        canvas.set_width(k as u16, if column.kind == ValueKind::Text { 30.0 } else { 14.0 })?;
    }
    let mut top = 0;
    let mut filled = String::new();
    if let Some(label) = &reference.cutoff {
        let previous = period.previous();
        filled = format!(" (the figures at the end of {previous})");
        canvas.text(0, 0, label, &header)?;
        canvas.text(0, 1, &previous.written(&plan.pipeline.quarter_words), &text)?;
        top = 2;
    }
    let labels: Vec<_> = table.columns.iter().map(|c| &c.header).collect();
    let first = draw::headers(&mut canvas, &labels, top, table.header_rows as u32, &header)?;
    let key = table.columns.iter().position(|c| c.field == reference.key).context("the reference's key column")?;
    let name = table.columns.iter().position(|c| c.kind == ValueKind::Text && c.field != reference.key);
    for (i, unit) in units.iter().enumerate() {
        let row = first + i as u32;
        for k in 0..table.columns.len() {
            // Codes are text, as the registry writes them: `058` keeps its zero.
            match (k == key, Some(k) == name) {
                (true, _) => canvas.text(row, k as u16, &unit.code, &text)?,
                (_, true) => canvas.text(row, k as u16, &unit.name, &text)?,
                _ => canvas.blank(row, k as u16, &to_fill)?,
            }
        }
    }
    canvas.finish()?;
    let figures = table.columns.iter().filter(|c| c.kind != ValueKind::Text).count();
    let what = format!("fill the shaded cells{filled}: {figures} figures for each of {} units", units.len());
    Ok((book.save_to_buffer()?, what))
}
