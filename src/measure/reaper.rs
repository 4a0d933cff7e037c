//! Processes that escape their process group (a daemon that calls `setsid`,
//! a double fork) are found and killed on Linux: bench-gate makes itself a
//! child subreaper (`PR_SET_CHILD_SUBREAPER`), so whatever its children
//! leave behind is re-parented to it instead of to init, and stays its
//! descendant. At the end of a session and on an interrupt every remaining
//! descendant is killed (and, at the end, reaped). Elsewhere (macOS,
//! Windows) only the process groups are killed; see docs/measurement.md.

#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(target_os = "linux")]
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Makes bench-gate a child subreaper (Linux; elsewhere nothing). Called by
/// the binary only: in a test harness it would adopt other tests' orphans.
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain syscall with integer arguments.
        let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        if r == 0 {
            ENABLED.store(true, Ordering::SeqCst);
        }
    }
}

/// Every live process descended from this one (children, theirs, and so
/// on), from /proc: pid → parent, state.
#[cfg(target_os = "linux")]
fn descendants() -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut parents: Vec<(i32, i32, bool)> = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let state = f.next().unwrap_or("");
        let Some(ppid) = f.next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        parents.push((pid, ppid, state == "Z"));
    }
    let mut found = vec![me];
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, ppid, _) in &parents {
            if found.contains(ppid) && !found.contains(pid) {
                found.push(*pid);
                grew = true;
            }
        }
    }
    parents
        .iter()
        .filter(|(pid, _, zombie)| *pid != me && found.contains(pid) && !zombie)
        .map(|(pid, _, _)| *pid)
        .collect()
}

/// Kills every process descended from bench-gate that is still running;
/// with `reap`, also collects the exit status of those re-parented to it
/// (call it only when no child of its own is still to be waited for).
/// Only once bench-gate is a subreaper, so only from the binary.
pub fn kill_descendants(reap: bool) {
    #[cfg(target_os = "linux")]
    {
        if !ENABLED.load(Ordering::SeqCst) {
            return;
        }
        // A process may fork while it is being killed: a few rounds.
        for _ in 0..20 {
            let pids = descendants();
            if pids.is_empty() {
                break;
            }
            for pid in &pids {
                // SAFETY: plain syscall; a process already gone gives ESRCH.
                unsafe {
                    libc::kill(*pid, libc::SIGKILL);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            if reap {
                reap_orphans();
            }
        }
        if reap {
            reap_orphans();
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = reap;
}

/// Collects the exit status of every child that has ended (killed ones,
/// and orphans re-parented to bench-gate), so none stays a zombie.
#[cfg(target_os = "linux")]
fn reap_orphans() {
    loop {
        let mut status = 0;
        // SAFETY: plain syscall with a valid pointer to a local.
        let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if r <= 0 {
            break;
        }
    }
}
