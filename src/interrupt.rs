//! One Ctrl-C / SIGTERM handler for the whole process. Stages that start
//! something which must not outlive an interrupt (a child process, a git
//! worktree, an open check run) register a hook; on an interrupt every hook
//! still registered runs, newest first, and the process exits 130.
//!
//! The handler runs on its own thread (the `ctrlc` crate), not in signal
//! context, so hooks may block briefly (an HTTP call with one attempt).

use std::sync::{Mutex, Once};

type Hook = Box<dyn Fn() + Send + Sync>;

static HOOKS: Mutex<Vec<(u64, Hook)>> = Mutex::new(Vec::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static NEXT: Mutex<u64> = Mutex::new(0);
static INSTALL: Once = Once::new();

/// Installs the handler (once; later calls do nothing).
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
            // Take the hooks out so that none runs twice if a second signal comes.
            let hooks: Vec<(u64, Hook)> = match HOOKS.lock() {
                Ok(mut h) => std::mem::take(&mut *h),
                Err(p) => std::mem::take(&mut *p.into_inner()),
            };
            for (_, hook) in hooks.iter().rev() {
                hook();
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
}
