//! One run at a time per work directory.
//!
//! The lock is a file created with `create_new` (atomic on every local file system),
//! holding who took it. A lock whose process no longer exists (a run killed with
//! SIGKILL, a machine restarted) is taken over: renamed aside first, so two runs that
//! both find it stale cannot both win.

use std::fs::{self, OpenOptions};
use std::io::Write;
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
    #[error("cannot take the lock in {}: {source}", dir.display())]
    Io { dir: PathBuf, source: std::io::Error },
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub(crate) struct WorkLock {
    path: PathBuf,
}

impl Drop for WorkLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether a process with this id is running. Linux's `/proc` answers without a signal.
fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Take the lock of the work directory `dir`, or say who holds it.
pub(super) fn acquire(dir: &Path) -> Result<WorkLock, LockError> {
    let io = |source| LockError::Io { dir: dir.to_path_buf(), source };
    fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(".lock");
    let me = Holder { pid: std::process::id(), started: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string() };
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let text = serde_json::to_vec(&me).map_err(std::io::Error::from).map_err(io)?;
                file.write_all(&text).and_then(|()| file.sync_all()).map_err(io)?;
                return Ok(WorkLock { path });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = fs::read(&path).unwrap_or_default();
                match serde_json::from_slice::<Holder>(&text) {
                    Ok(holder) if alive(holder.pid) => return Err(Locked { path, holder }.into()),
                    _ => {
                        // Stale, or half-written by a run killed while taking it.
                        let aside = dir.join(format!(".lock.stale.{}", me.pid));
                        if fs::rename(&path, &aside).is_ok() {
                            let _ = fs::remove_file(&aside);
                        }
                    }
                }
            }
            Err(e) => return Err(io(e)),
        }
    }
    let holder = fs::read(&path)
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok())
        .unwrap_or(Holder { pid: 0, started: String::new() });
    Err(Locked { path, holder }.into())
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
        assert!(!dir.path().join(".lock").exists());

        // A lock left by a process that no longer exists is taken over.
        let dead = Holder { pid: u32::MAX - 1, started: "2023-11-01 02:00:00".into() };
        fs::write(dir.path().join(".lock"), serde_json::to_vec(&dead).unwrap()).unwrap();
        let taken = acquire(dir.path()).expect("a dead holder's lock is taken over");
        let now: Holder = serde_json::from_slice(&fs::read(dir.path().join(".lock")).unwrap()).unwrap();
        assert_eq!(now.pid, std::process::id());
        drop(taken);
    }
}
