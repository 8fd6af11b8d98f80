//! The command line's one error type, and the exit code each kind of failure gets.

use std::fmt;

use crate::definition::DefinitionError;
use crate::model::{Period, Stage};
use crate::registry::RegistryError;
use crate::store::{LockError, Locked};

/// Why a command did not do its work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something that cannot be (exit 2).
    Usage(String),
    /// The definition has problems; every one is listed (exit 2).
    Definition(#[from] DefinitionError),
    /// The registry does not hold together; every problem is listed (exit 2).
    Registry(#[from] RegistryError),
    /// A stage before the ones selected cannot be used as it is (exit 2).
    Stale { stage: Stage, period: Period, why: &'static str },
    /// Another run holds the work directory (exit 3).
    Locked(#[from] Locked),
    /// Anything else: an unreadable reference file, a missing inbox, a full disk (exit 4).
    Failure(#[from] anyhow::Error),
}

impl Error {
    /// The exit code of the documented contract: 2 usage or definition, 3 locked, 4 failure.
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Definition(_) | Error::Registry(_) | Error::Stale { .. } => 2,
            Error::Locked(_) => 3,
            Error::Failure(_) => 4,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "error: {message}"),
            Error::Definition(e) => write!(f, "{e}\n{} error(s) in {}", e.problems.len(), e.path.display()),
            Error::Registry(e) => write!(f, "{e}\n{} error(s) in {}", e.problems.len(), e.path.display()),
            Error::Stale { stage, period, why } => write!(
                f,
                "error: the {} stage of {period} {why}; `tonghop run --period {period}` redoes it (a selection \
                 with --from or --only only uses stages that are up to date)",
                stage.name()
            ),
            Error::Locked(e) => write!(f, "error: {e}"),
            Error::Failure(e) => write!(f, "error: {e:#}"),
        }
    }
}

impl From<LockError> for Error {
    fn from(e: LockError) -> Error {
        match e {
            LockError::Locked(locked) => Error::Locked(locked),
            other => Error::Failure(other.into()),
        }
    }
}
