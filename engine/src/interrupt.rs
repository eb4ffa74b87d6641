//! What a run leaves when it is interrupted (Ctrl-C, or the SIGTERM a scheduler sends to a job
//! it stops): the binary's signal handler asks [`RUN`] what to do.
//!
//! The registry knows the files a run is writing under a temporary name ([`Registry::stage`],
//! for `--out`), the copies it made for itself only (standard input, [`Registry::scratch`]) and
//! the folders it writes in place (a report, [`Registry::folder`]). An interrupt removes the
//! first two and names what was not written; what the names held before is kept.
//!
//! Committing an output (the rename over its name) and an interrupt exclude each other: both
//! take the registry's lock, and the handler exits while holding it. So a signal either comes
//! before the commit (the temporary file is removed, exit 130) or after it; and a signal that
//! comes once every output is committed leaves the run to finish with its own exit code, since
//! all that is left is the summary: a scheduler must not retry a job that succeeded.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The registry of the running process.
pub static RUN: Registry = Registry::new();

pub struct Registry {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Outputs being written: temporary name, and the name it is for.
    outputs: Vec<(PathBuf, PathBuf)>,
    /// Files the run made for itself, removed without a word.
    scratch: Vec<PathBuf>,
    /// Folders being written in place.
    folders: Vec<PathBuf>,
    /// Some output was committed.
    committed: bool,
}

/// What an interrupt leaves the run to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// Every output is committed: the run finishes as it would have.
    Finishing,
    /// The run stops with 130; these lines say what was not written.
    Stop(Vec<String>),
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    pub const fn new() -> Registry {
        Registry {
            state: Mutex::new(State {
                outputs: Vec::new(),
                scratch: Vec::new(),
                folders: Vec::new(),
                committed: false,
            }),
        }
    }

    /// The lock. A thread that panicked while holding it left the lists whole (each change is
    /// one push or retain).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `create` (which makes the temporary file) and records what it made for `path`, in
    /// one step: a signal between the two would leave the file unrecorded.
    pub fn stage<T, E>(
        &self,
        path: &Path,
        create: impl FnOnce() -> Result<(T, PathBuf), E>,
    ) -> Result<T, E> {
        let mut state = self.state();
        let (made, temp) = create()?;
        state.outputs.push((temp, path.to_path_buf()));
        Ok(made)
    }

    /// Commits the output staged as `temp` with `rename`, which an interrupt cannot come between.
    pub fn commit<T, E>(&self, temp: &Path, rename: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mut state = self.state();
        state.outputs.retain(|(t, _)| t != temp);
        let renamed = rename()?;
        state.committed = true;
        Ok(renamed)
    }

    /// Forgets the output staged as `temp` and runs `remove` (which removes it), in one step.
    pub fn abandon(&self, temp: &Path, remove: impl FnOnce()) {
        let mut state = self.state();
        state.outputs.retain(|(t, _)| t != temp);
        remove();
    }

    /// As [`Registry::stage`], for a file the run made for itself only.
    pub fn scratch<T, E>(&self, create: impl FnOnce() -> Result<(T, PathBuf), E>) -> Result<T, E> {
        let mut state = self.state();
        let (made, path) = create()?;
        state.scratch.push(path);
        Ok(made)
    }

    /// As [`Registry::abandon`], for a file made by [`Registry::scratch`].
    pub fn drop_scratch(&self, path: &Path, remove: impl FnOnce()) {
        let mut state = self.state();
        state.scratch.retain(|p| p != path);
        remove();
    }

    /// Records a folder being written in place, until [`Registry::folder_done`].
    pub fn folder(&self, dir: &Path) {
        self.state().folders.push(dir.to_path_buf());
    }

    /// The folder is written (`whole`), or its run stopped on an error of its own.
    pub fn folder_done(&self, dir: &Path, whole: bool) {
        let mut state = self.state();
        if let Some(i) = state.folders.iter().position(|d| d == dir) {
            state.folders.remove(i);
        }
        state.committed |= whole;
    }

    /// What an interrupt does, under `state`'s lock: removes the unfinished outputs and the
    /// scratch files, and says what was not written; or, once every output is committed,
    /// nothing.
    fn interrupt_locked(state: &mut State) -> Interrupt {
        if state.committed && state.outputs.is_empty() && state.folders.is_empty() {
            return Interrupt::Finishing;
        }
        for path in state.scratch.drain(..) {
            let _ = std::fs::remove_file(path);
        }
        let mut lines: Vec<String> = state
            .outputs
            .drain(..)
            .filter(|(temp, _)| std::fs::remove_file(temp).is_ok())
            .map(|(_, path)| {
                format!(
                    "interrupted: `{}` was not written (its unfinished copy was removed)",
                    path.display()
                )
            })
            .collect();
        lines.extend(state.folders.iter().map(|dir| {
            format!(
                "interrupted: the report in `{}` is incomplete (some pages are new, some \
                 earlier); run the report again",
                dir.display()
            )
        }));
        if lines.is_empty() {
            lines.push("interrupted".to_string());
        }
        Interrupt::Stop(lines)
    }

    /// Handles an interrupt; on [`Interrupt::Stop`], the returned guard keeps every commit
    /// out until the process has exited.
    pub fn interrupt(&self) -> (MutexGuard<'_, impl Sized>, Interrupt) {
        let mut state = self.state();
        let what = Registry::interrupt_locked(&mut state);
        (state, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "x").unwrap();
        path
    }

    /// README "Exit codes": interrupted, the unfinished `--out` file is removed, exit 130.
    #[test]
    fn an_interrupt_before_the_commit_removes_the_unfinished_output() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let out = dir.path().join("out.jsonl");
        registry
            .stage(&out, || Ok::<_, ()>(((), file(dir.path(), ".out.part"))))
            .unwrap();
        registry
            .scratch(|| Ok::<_, ()>(((), file(dir.path(), "stdin-copy"))))
            .unwrap();
        let (_guard, what) = registry.interrupt();
        assert_eq!(
            what,
            Interrupt::Stop(vec![format!(
                "interrupted: `{}` was not written (its unfinished copy was removed)",
                out.display()
            )])
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// README "Exit codes": a run whose outputs are all written finishes with its own code.
    #[test]
    fn an_interrupt_after_every_commit_lets_the_run_finish() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let out = dir.path().join("out.jsonl");
        let temp = file(dir.path(), ".out.part");
        registry
            .stage(&out, || Ok::<_, ()>(((), temp.clone())))
            .unwrap();
        registry
            .commit(&temp, || std::fs::rename(&temp, &out))
            .unwrap();
        assert_eq!(registry.interrupt().1, Interrupt::Finishing);
        assert!(out.exists());
    }

    /// README "Exit codes": a run writing to standard output stops at once, saying so.
    #[test]
    fn an_interrupt_with_nothing_staged_stops() {
        let registry = Registry::new();
        assert_eq!(
            registry.interrupt().1,
            Interrupt::Stop(vec!["interrupted".into()])
        );
    }

    /// README "Exit codes": an interrupted report says its folder is incomplete.
    #[test]
    fn an_interrupted_report_says_its_folder_is_incomplete() {
        let registry = Registry::new();
        registry.folder(Path::new("site"));
        let Interrupt::Stop(lines) = registry.interrupt().1 else {
            panic!("a report being written must stop");
        };
        assert!(lines[0].contains("the report in `site` is incomplete"));
        registry.folder_done(Path::new("site"), true);
        assert_eq!(registry.interrupt().1, Interrupt::Finishing);
    }
}
