//! `tonghop` consolidates the Excel returns that units send up a hierarchy every month,
//! as declarative pipeline definitions describe them.
//!
//! The stages, each in its own module, hand each other artifacts through the work
//! directory: `ingest` → `validate` → `merge` → `aggregate` → `report`. `run` strings
//! them together; `definition` is the only place the domain enters.

pub mod aggregate;
pub mod cli;
pub mod definition;
pub mod finding;
pub mod ingest;
pub mod merge;
pub mod period;
pub mod registry;
pub mod report;
pub mod run;
pub mod store;
pub mod template;
pub mod text;
pub mod validate;
