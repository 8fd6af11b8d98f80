//! `tonghop` consolidates the Excel returns that units send up a hierarchy every period,
//! as declarative pipeline definitions describe them.
//!
//! Layers, bottom up; each module imports only from the layers under it:
//!
//! 1. `text`, `period`, `print`, `project`: folding what clerks type; months and quarters;
//!    what an A4 page holds and how wide Times New Roman text is on it; the project file.
//! 2. `definition` (a checked, resolved `Plan`) and `registry` (units over time).
//! 3. `model`: the contract between the stages (`Batch`, `Finding`, statuses, stages).
//! 4. `workbook` (reading any workbook and the tables in it) and `draw` (the letterhead
//!    and headers the report and the templates share).
//! 5. The stages `ingest` → `validate` → `merge` → `aggregate` → `report`, and `template`:
//!    none imports another. Beside them `store`, the work directory, which knows only
//!    the model.
//! 6. `run`, which strings the stages together through the store, and `error`.
//! 7. `cli` and the binary.

mod aggregate;
pub mod cli;
pub mod definition;
mod draw;
mod error;
pub mod ingest;
pub mod init;
mod merge;
pub mod model;
pub mod period;
mod print;
pub mod project;
pub mod registry;
mod report;
pub mod run;
pub mod store;
pub mod template;
mod text;
mod validate;
pub mod workbook;

#[cfg(test)]
mod testing;

pub use error::Error;

/// The layering above, checked on the source: a module may name (`crate::…`) only the
/// modules of the layers under it. Tests are not part of the layering.
#[cfg(test)]
mod layers {
    use std::collections::BTreeSet;
    use std::path::Path;

    const FOUNDATION: [&str; 4] = ["text", "period", "print", "project"];

    /// What each module may import from the crate.
    fn allowed(module: &str) -> Option<Vec<&'static str>> {
        let below = |extra: &[&'static str]| FOUNDATION.iter().chain(extra).copied().collect::<Vec<_>>();
        let model = ["definition", "registry", "model"];
        let readers = ["definition", "registry", "model", "workbook", "draw"];
        Some(match module {
            "text" | "print" | "project" => vec![],
            "period" => vec!["text"],
            "definition" | "registry" => below(&[]),
            "model" => below(&["definition", "registry"]),
            "workbook" | "draw" => below(&model),
            "ingest" | "validate" | "merge" | "aggregate" | "report" | "template" => below(&readers),
            "store" => vec!["model"],
            "error" => vec!["definition", "registry", "model", "store"],
            "run" => below(&[
                "definition",
                "registry",
                "model",
                "workbook",
                "draw",
                "ingest",
                "validate",
                "merge",
                "aggregate",
                "report",
                "template",
                "store",
                "error",
            ]),
            "init" => below(&["definition", "registry", "draw", "store", "error"]),
            "cli" => vec!["model", "period", "project"],
            _ => return None,
        })
    }

    /// The crate modules named by `crate::…` in a file's code before its tests.
    fn imports(path: &Path) -> BTreeSet<String> {
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let ident = |s: &str| s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let mut names = BTreeSet::new();
        for (i, m) in code.match_indices("crate::") {
            let rest = &code[i + m.len()..];
            match rest.strip_prefix('{') {
                // `crate::{a, b::c}`: the first name of each path in the group.
                Some(group) => names.extend(group.split('}').next().unwrap_or("").split(',').map(ident)),
                None => {
                    names.insert(ident(rest));
                }
            }
        }
        names.retain(|n: &String| !n.is_empty());
        names
    }

    fn files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn every_module_imports_only_from_the_layers_under_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut wrong = Vec::new();
        for path in files(&src) {
            let relative = path.strip_prefix(&src).unwrap();
            let module = relative.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
            let name = relative.file_name().unwrap().to_string_lossy();
            if ["lib", "main", "testing"].contains(&module.as_str()) || name == "tests.rs" {
                continue;
            }
            let allowed = allowed(&module).unwrap_or_else(|| panic!("{module} has no place in the layers"));
            for import in imports(&path) {
                if import != module && !allowed.contains(&import.as_str()) {
                    wrong.push(format!("{} imports crate::{import}", relative.display()));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
