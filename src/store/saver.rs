//! Artifacts saved while the next stage works.
//!
//! A stage hands its batch to the next in memory; writing the batch's artifacts (Parquet,
//! JSON, each synced to disk) and sealing them is a third of a rerun's time that the next
//! stage need not wait for. The saver does it on a thread of its own, in the order the
//! stages ran, so a stage is sealed only after every stage before it. Crash safety is
//! unchanged: a stage is unsealed before it begins, and its manifest is written after its
//! artifacts, by whichever thread writes them.

use std::sync::mpsc;
use std::thread;

use anyhow::anyhow;

/// The saving of one stage: its artifacts written, then its manifest.
pub(crate) type Save = Box<dyn FnOnce() -> anyhow::Result<()> + Send>;

/// Runs saves in order on a thread of its own; after one fails, the later ones are
/// dropped unrun (a stage after a failed one must not be sealed) and `wait` returns the
/// failure.
#[derive(Default)]
pub(crate) struct Saver {
    running: Option<(mpsc::Sender<Save>, thread::JoinHandle<anyhow::Result<()>>)>,
}

impl Saver {
    /// Queue `save` after the ones before it.
    pub(crate) fn submit(&mut self, save: Save) {
        let (sender, _) = self.running.get_or_insert_with(|| {
            let (sender, saves) = mpsc::channel::<Save>();
            let thread = thread::spawn(move || -> anyhow::Result<()> {
                for save in saves {
                    save()?;
                }
                Ok(())
            });
            (sender, thread)
        });
        // The thread stops taking saves only when one failed: `wait` tells that failure.
        let _ = sender.send(save);
    }

    /// Wait until everything queued is saved: before artifacts are read back from disk,
    /// and before the run ends.
    pub(crate) fn wait(&mut self) -> anyhow::Result<()> {
        let Some((sender, thread)) = self.running.take() else { return Ok(()) };
        drop(sender);
        thread.join().map_err(|_| anyhow!("saving the artifacts of a stage failed unexpectedly"))?
    }
}

impl Drop for Saver {
    /// A run that stops on an error still lets what it queued finish, so nothing is
    /// written after the work directory's lock is released.
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn saves_run_in_order_and_wait_tells_when_all_are_done() {
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut saver = Saver::default();
        for k in 0..5 {
            let done = done.clone();
            saver.submit(Box::new(move || {
                thread::sleep(std::time::Duration::from_millis(5 - k));
                done.lock().unwrap().push(k);
                Ok(())
            }));
        }
        saver.wait().unwrap();
        assert_eq!(*done.lock().unwrap(), [0, 1, 2, 3, 4]);
        // And again after a wait.
        let again = done.clone();
        saver.submit(Box::new(move || {
            again.lock().unwrap().push(5);
            Ok(())
        }));
        saver.wait().unwrap();
        assert_eq!(done.lock().unwrap().len(), 6);
    }

    #[test]
    fn after_a_failed_save_the_later_ones_do_not_run_and_wait_tells_the_failure() {
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut saver = Saver::default();
        let first = done.clone();
        saver.submit(Box::new(move || {
            first.lock().unwrap().push("ingest");
            Ok(())
        }));
        saver.submit(Box::new(|| Err(anyhow!("disk full"))));
        let later = done.clone();
        saver.submit(Box::new(move || {
            later.lock().unwrap().push("merge");
            Ok(())
        }));
        assert_eq!(saver.wait().unwrap_err().to_string(), "disk full");
        assert_eq!(*done.lock().unwrap(), ["ingest"]);
    }

    #[test]
    fn dropping_the_saver_waits_for_what_was_queued() {
        let done = Arc::new(Mutex::new(false));
        {
            let mut saver = Saver::default();
            let flag = done.clone();
            saver.submit(Box::new(move || {
                thread::sleep(std::time::Duration::from_millis(20));
                *flag.lock().unwrap() = true;
                Ok(())
            }));
        }
        assert!(*done.lock().unwrap());
    }
}
