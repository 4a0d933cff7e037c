//! One Ctrl-C / SIGTERM handler for the whole process. Stages that start
//! something which must not outlive an interrupt (a child process, a git
//! worktree, an open check run) register a hook; on an interrupt every hook
//! still registered runs, newest first, and the process exits 130.
//!
//! The handler runs on its own thread (the `ctrlc` crate), not in signal
//! context, so hooks may block briefly (an HTTP call with one attempt).
//!
//! Nothing starts after an interrupt has begun: whatever must be cleaned up
//! is started through [`launch`] (a child process, registered in the same
//! step) or [`scratch_dir`] (a temporary folder). Both hold one lock that the
//! handler takes before its hooks run, so a start either happened before
//! the hooks (and they see it) or sees the interrupt and does not happen.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

type Hook = Box<dyn Fn() + Send + Sync>;

static HOOKS: Mutex<Vec<(u64, Hook)>> = Mutex::new(Vec::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static NEXT: Mutex<u64> = Mutex::new(0);
static INSTALL: Once = Once::new();
/// Held while something is started and registered, and by the handler.
static LAUNCH: Mutex<()> = Mutex::new(());
/// Temporary folders to remove on an interrupt (after the hooks).
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler (once; later calls do nothing).
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
            // Wait for a start in progress to be registered; none begins after this.
            let _launching = LAUNCH.lock().unwrap_or_else(|p| p.into_inner());
            // Take the hooks out so that none runs twice if a second signal comes.
            let hooks: Vec<(u64, Hook)> = match HOOKS.lock() {
                Ok(mut h) => std::mem::take(&mut *h),
                Err(p) => std::mem::take(&mut *p.into_inner()),
            };
            for (_, hook) in hooks.iter().rev() {
                hook();
            }
            // Folders last: the hooks have stopped what was writing into them.
            for dir in std::mem::take(&mut *DIRS.lock().unwrap_or_else(|p| p.into_inner())) {
                let _ = std::fs::remove_dir_all(dir);
            }
            eprintln!("interrupted");
            std::process::exit(130);
        });
    });
}

/// Whether an interrupt has begun: the handler is cleaning up and will exit
/// 130. Work that fails because its children were killed must not report
/// that failure as its own (nor exit first).
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Called where the process would end: after an interrupt, waits for the
/// handler to finish its hooks and exit 130, so the exit code says what
/// happened (not the error the killed children caused).
pub fn wait_if_interrupted() {
    if interrupted() {
        loop {
            std::thread::park();
        }
    }
}

/// Runs `start` (which starts something and registers it for the hooks)
/// unless an interrupt has begun; then it waits for the handler to exit
/// instead, so that nothing new starts. Keep `start` short: the handler
/// waits for it.
pub fn launch<T>(start: impl FnOnce() -> T) -> T {
    let guard = LAUNCH.lock().unwrap_or_else(|p| p.into_inner());
    if interrupted() {
        drop(guard);
        wait_if_interrupted();
    }
    start()
}

/// After a child failed in a way an interrupt causes (killed by a signal,
/// or its helper gone without a word): gives the handler up to `grace` to
/// begin (a cancelled CI job signals every process at once, so the child
/// may die first), and if it does, waits for it to exit 130 instead of
/// reporting the failure.
pub fn settle(grace: std::time::Duration) {
    let until = std::time::Instant::now() + grace;
    while !interrupted() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    wait_if_interrupted();
}

/// A temporary folder that an interrupt removes too (destructors do not
/// run when the handler exits); dropping it removes it as usual.
#[derive(Debug)]
pub struct ScratchDir(Option<tempfile::TempDir>);

impl ScratchDir {
    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            if let Ok(mut d) = DIRS.lock() {
                d.retain(|p| p != dir.path());
            }
        }
    }
}

/// Creates a temporary folder named `prefix…` in `within` (the system's
/// temporary folder when `None`), removed on an interrupt as well.
pub fn scratch_dir(prefix: &str, within: Option<&Path>) -> std::io::Result<ScratchDir> {
    install();
    launch(|| {
        let mut b = tempfile::Builder::new();
        b.prefix(prefix);
        let dir = match within {
            Some(w) => b.tempdir_in(w)?,
            None => b.tempdir()?,
        };
        DIRS.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(dir.path().to_path_buf());
        Ok(ScratchDir(Some(dir)))
    })
}

/// A registered hook; dropping it unregisters the hook.
#[must_use = "the hook is removed when this is dropped"]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut h) = HOOKS.lock() {
            h.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Runs `hook` on an interrupt for as long as the registration lives.
pub fn on_interrupt(hook: impl Fn() + Send + Sync + 'static) -> Registration {
    install();
    let id = {
        let mut n = NEXT.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        *n
    };
    HOOKS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((id, Box::new(hook)));
    Registration(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_come_and_go() {
        let count = || HOOKS.lock().unwrap().len();
        let before = count();
        let a = on_interrupt(|| {});
        let b = on_interrupt(|| {});
        assert_eq!(count(), before + 2);
        drop(a);
        assert_eq!(count(), before + 1);
        drop(b);
        assert_eq!(count(), before);
    }

    #[test]
    fn scratch_dirs_are_registered_until_dropped() {
        let d = scratch_dir("bench-gate-test-", None).unwrap();
        let path = d.path().to_path_buf();
        assert!(path.is_dir());
        assert!(DIRS.lock().unwrap().contains(&path));
        drop(d);
        assert!(!path.exists());
        assert!(!DIRS.lock().unwrap().contains(&path));
    }
}
