//! One run at a time per work directory.
//!
//! The lock is the kernel's advisory lock (`flock`) on `work/.lock`: it is released when its
//! holder's process ends, however it ends (SIGKILL, a power cut, a reboot), so no process
//! id is ever guessed at. The file also says who holds it, for the message a second run
//! prints; the file itself stays, since removing it could let two runs lock two files.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Who holds a lock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Holder {
    pub(crate) pid: u32,
    pub(crate) started: String,
}

/// Another live process holds the lock.
#[derive(Debug, thiserror::Error)]
#[error("another run holds {path}: process {} started {}", holder.pid, holder.started)]
pub struct Locked {
    pub(crate) path: PathBuf,
    pub(crate) holder: Holder,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    #[error(transparent)]
    Locked(#[from] Locked),
    #[error("cannot take the lock {}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(crate) struct WorkLock {
    _file: File,
}

/// Take the lock of the work directory `dir`, or say who holds it.
pub(super) fn acquire(dir: &Path) -> Result<WorkLock, LockError> {
    let path = dir.join(".lock");
    let io = |source| LockError::Io { path: path.clone(), source };
    fs::create_dir_all(dir).map_err(|source| LockError::Io { path: dir.to_path_buf(), source })?;
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            let me = Holder {
                pid: std::process::id(),
                started: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            };
            let text = serde_json::to_vec(&me).map_err(std::io::Error::from).map_err(io)?;
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(&text))
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            Ok(WorkLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = Vec::new();
            let _ = file.read_to_end(&mut text);
            let holder = serde_json::from_slice(&text).unwrap_or(Holder { pid: 0, started: "?".into() });
            Err(Locked { path, holder }.into())
        }
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_and_a_dead_holder_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).expect("free");
        // This process is alive: a second attempt names it.
        let Err(LockError::Locked(refused)) = acquire(dir.path()) else { panic!("the lock is held") };
        assert_eq!(refused.holder.pid, std::process::id());
        drop(first);

        // A lock file a process left when it ended (killed, or the machine restarted) holds
        // no lock: the next run takes it, whatever process id it names.
        let dead = Holder { pid: std::process::id(), started: "2023-11-01 02:00:00".into() };
        fs::write(dir.path().join(".lock"), serde_json::to_vec(&dead).unwrap()).unwrap();
        let taken = acquire(dir.path()).expect("a dead holder's lock is taken over");
        let now: Holder = serde_json::from_slice(&fs::read(dir.path().join(".lock")).unwrap()).unwrap();
        assert_eq!(now.pid, std::process::id());
        drop(taken);
    }
}
