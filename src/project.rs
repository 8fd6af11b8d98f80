//! The project file, `tonghop.toml`: which pipeline a board runs, where its data and its
//! outputs are, and who the board is. It is found in the current directory or the nearest
//! parent, as cargo finds `Cargo.toml`; its paths are relative to its own directory. The
//! command line's flags override it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's name.
pub const FILE: &str = "tonghop.toml";

/// A board's project, its paths resolved against the file's directory.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project file itself.
    pub path: PathBuf,
    /// A sample shipped with tonghop: a run says so, in case cron was pointed at it.
    pub sample: bool,
    pub pipeline: PathBuf,
    pub data: PathBuf,
    pub out: PathBuf,
    /// Where `template` writes blank returns (`templates/<period>/`).
    pub templates: PathBuf,
    pub identity: Identity,
}

/// Who the board is, as its documents print it: the letterhead's superior body and board,
/// the place of the date line, the signer's title, who receives the report, and how units
/// address the board when they send it their returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub superior: String,
    pub board: String,
    pub place: String,
    #[serde(default)]
    pub signer: Vec<String>,
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub addressee: String,
}

impl Identity {
    /// The identity of a run without a project file: the registry's top unit heads the
    /// letterhead, the rest is blank.
    pub fn of_top_unit(name: &str) -> Identity {
        Identity {
            superior: name.to_uppercase(),
            board: String::new(),
            place: String::new(),
            signer: vec![],
            recipients: vec![],
            addressee: String::new(),
        }
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectSpec {
    #[serde(default)]
    sample: bool,
    pipeline: PathBuf,
    data: PathBuf,
    #[serde(default = "ProjectSpec::out")]
    out: PathBuf,
    #[serde(default = "ProjectSpec::templates")]
    templates: PathBuf,
    identity: Identity,
}

impl ProjectSpec {
    fn out() -> PathBuf {
        "out".into()
    }

    fn templates() -> PathBuf {
        "templates".into()
    }
}

/// A project file that cannot be used, with the place of the fault.
#[derive(Debug, thiserror::Error)]
#[error("{path}{place}: {message}", path = .path.display())]
pub struct ProjectError {
    pub path: PathBuf,
    /// `:line:column`, where the fault has one.
    pub place: String,
    pub message: String,
}

/// The project file in `dir` or its nearest parent that has one.
pub fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(FILE)).find(|p| p.is_file())
}

/// Read a project file; its paths are taken relative to its directory.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let fail = |place: String, message: String| ProjectError { path: path.to_path_buf(), place, message };
    let text = std::fs::read_to_string(path).map_err(|e| fail(String::new(), format!("cannot read it: {e}")))?;
    let spec: ProjectSpec = toml::from_str(&text).map_err(|e| {
        let place = e.span().map_or(String::new(), |s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!(":{line}:{column}")
        });
        fail(place, e.message().to_string())
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(Project {
        path: path.to_path_buf(),
        sample: spec.sample,
        pipeline: dir.join(spec.pipeline),
        data: dir.join(spec.data),
        out: dir.join(spec.out),
        templates: dir.join(spec.templates),
        identity: spec.identity,
    })
}

/// The text of a new project file for `pipeline` (relative to the project's directory),
/// with `identity` to edit.
pub fn text(pipeline: &str, identity: &Identity) -> String {
    let list = |lines: &[String]| {
        let quoted: Vec<String> = lines.iter().map(|l| format!("{l:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    format!(
        "# The board's tonghop project: `tonghop run` in this folder (or one under it) uses it.\n\
         # Paths are relative to this file.\n\
         pipeline = {pipeline:?}\n\
         data = \".\"\n\
         out = \"out\"\n\
         templates = \"templates\"\n\
         \n\
         # Who the board is, as the consolidated workbook prints it: edit every line.\n\
         [identity]\n\
         # The letterhead, left: the superior body and the board (capitals, as printed).\n\
         superior = {:?}\n\
         board = {:?}\n\
         # The place of the date line: \"<place>, ngày … tháng … năm …\".\n\
         place = {:?}\n\
         # The signer's title, and who receives the report (\"Nơi nhận:\" first).\n\
         signer = {}\n\
         recipients = {}\n\
         # How units name the board when they send it their returns.\n\
         addressee = {:?}\n",
        identity.superior,
        identity.board,
        identity.place,
        list(&identity.signer),
        list(&identity.recipients),
        identity.addressee,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_is_found_in_a_parent_and_its_paths_are_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let identity = Identity::of_top_unit("Đảng bộ tỉnh Mới");
        std::fs::write(dir.path().join(FILE), text("pipeline.toml", &identity)).unwrap();
        let inner = dir.path().join("inbox/2024-03");
        std::fs::create_dir_all(&inner).unwrap();
        let found = find(&inner).unwrap();
        assert_eq!(found, dir.path().join(FILE));
        let project = load(&found).unwrap();
        assert_eq!(project.pipeline, dir.path().join("pipeline.toml"));
        assert_eq!(project.data, dir.path().join("."));
        assert_eq!(project.identity, identity);
        assert!(!project.sample);
    }

    #[test]
    fn a_mistake_in_the_file_is_named_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, "pipeline = \"p.toml\"\ndata = \".\"\nsampel = true\n").unwrap();
        let e = load(&path).unwrap_err();
        assert_eq!(e.place, ":3:1");
        assert!(e.message.contains("unknown field `sampel`"), "{e}");
    }
}
