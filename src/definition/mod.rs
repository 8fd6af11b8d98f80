//! The pipeline definition: everything the engine knows about a domain comes from here.
//!
//! A definition is a TOML file (`pipelines/*.toml`). `spec` is what the file says, as
//! serde reads it; `check` finds every problem in it, with its line and column, and
//! resolves the rest into a `Plan`, the only form the stages see (as ruff resolves its
//! options into settings).

mod check;
mod expand;
mod plan;
mod spec;

pub use check::{expanded, load, load_with_warnings, parse, sources, DefinitionError, Problem};
pub use plan::*;
