//! Measuring one iteration of a command: wall time, CPU time, peak memory and
//! exit status, through the helper process (see [`helper`]).

#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

pub mod ab;
pub mod build;
pub mod callgrind;
pub mod check;
pub mod env;
#[cfg(unix)]
pub mod helper;
pub mod programs;
pub mod progress;
pub mod reaper;
pub mod runner;
pub mod services;
pub mod trees;
pub mod valgrind;

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::model::Sample;
#[cfg(unix)]
use wait_timeout::ChildExt;

/// The hidden first argument that turns the binary into the helper.
pub const HELPER_ARG: &str = "__measure";

/// What to run, fully resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Set over bench-gate's own environment.
    pub env: Vec<(OsString, OsString)>,
    /// Which variables the command (and the helper) go without.
    pub env_policy: crate::model::EnvPolicy,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Exit(i32),
    Signal(i32),
    Timeout(Duration),
    Spawn(String),
    /// The command succeeded, and a check of what it did failed: which
    /// check, and why.
    Check(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Exit(c) => write!(f, "exited with status {c}"),
            Failure::Signal(s) => write!(f, "was killed by signal {s}"),
            Failure::Timeout(d) => {
                write!(f, "timed out after {:.1} s and was killed", d.as_secs_f64())
            }
            Failure::Spawn(m) => write!(f, "could not be started: {m}"),
            Failure::Check(m) => write!(f, "ran, but the check {m}"),
        }
    }
}

/// A failed iteration: why, and the last lines the command wrote to stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub failure: Failure,
    pub stderr_tail: String,
}

/// A successful iteration, and how long the harness took around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub sample: Sample,
    /// Harness time per iteration beyond the command's own wall time
    /// (starting the helper, reading its report), in milliseconds.
    pub overhead_ms: f64,
}

static HELPER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Uses `path` (a bench-gate binary) as the measurement helper instead of the
/// running executable: for programs that embed the library, and for tests.
pub fn set_helper(path: impl Into<PathBuf>) {
    let _ = HELPER.set(path.into());
}

/// The helper measurements run through: the private copy while one lives
/// (see [`programs::PrivateHelper`]), else [`configured_helper`].
fn helper_exe() -> std::io::Result<PathBuf> {
    match programs::private_helper_path() {
        Some(p) => Ok(p),
        None => configured_helper(),
    }
}

/// The helper set with [`set_helper`], else the running executable.
fn configured_helper() -> std::io::Result<PathBuf> {
    match HELPER.get() {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe(),
    }
}

/// Process groups started and not yet finished (the iteration in flight, a
/// setup command), so that an interrupt kills them.
static TRACKED: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Kills every tracked process group (the iteration in flight, a setup
/// command), every running service's, and on Linux every other process
/// descended from bench-gate (see [`reaper`]): on Ctrl-C and SIGTERM.
pub fn kill_active() {
    let groups = std::mem::take(&mut *TRACKED.lock().unwrap_or_else(|p| p.into_inner()));
    for pgid in groups {
        kill_group(pgid);
    }
    services::kill_all();
    reaper::kill_descendants(false);
}

/// Spawns `cmd` in a process group of its own, tracked until [`untrack`],
/// unless an interrupt has begun (then this waits for the handler to exit).
#[cfg(unix)]
pub fn spawn_tracked(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    crate::interrupt::launch(|| {
        let child = cmd.spawn()?;
        TRACKED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(child.id() as i32);
        Ok(child)
    })
}

/// Without process groups (Windows): spawns `cmd` unless an interrupt has begun.
#[cfg(not(unix))]
pub fn spawn_tracked(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    crate::interrupt::launch(|| cmd.spawn())
}

/// Forgets a process group started by [`spawn_tracked`] (after it ended).
pub fn untrack(pgid: i32) {
    TRACKED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|g| *g != pgid);
}

#[cfg(unix)]
fn kill_group(pgid: i32) {
    // SAFETY: plain syscall; a group that is already gone gives ESRCH, ignored.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pgid: i32) {}

/// Measuring needs `wait4` and process groups: Linux and macOS.
#[cfg(not(unix))]
pub fn measure_once(_inv: &Invocation) -> Result<Measured, Failed> {
    Err(Failed {
        failure: Failure::Spawn(
            "measuring commands needs Linux or macOS (wait4 rusage and process groups); on Windows, gate results measured elsewhere with --results".into(),
        ),
        stderr_tail: String::new(),
    })
}

const STDERR_TAIL_LINES: usize = 10;

/// How much of a benchmarked command's output is kept: its last 64 KiB. The
/// rest is read and dropped, so a command printing gigabytes costs the gate
/// no memory.
pub const OUTPUT_TAIL_BYTES: usize = 64 * 1024;

/// Reads `r` to its end, keeping only the last `cap` bytes.
pub fn read_tail(mut r: impl Read, cap: usize) -> Vec<u8> {
    let mut kept: Vec<u8> = Vec::with_capacity(cap.min(8192) * 2);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                kept.extend_from_slice(&chunk[..n]);
                // Trim only when twice the cap, so trimming costs O(1) per byte.
                if kept.len() >= cap.saturating_mul(2).max(1) {
                    kept.drain(..kept.len() - cap);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    if kept.len() > cap {
        kept.drain(..kept.len() - cap);
    }
    kept
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[start..].join("\n")
}

/// Runs one iteration through the helper. The helper and the command share a
/// new process group, which is killed afterwards in every case, so nothing the
/// command started outlives the iteration. The helper gets the command's
/// environment (without the secrets, see [`env`]), which the command inherits;
/// its arguments are the command's own.
#[cfg(unix)]
pub fn measure_once(inv: &Invocation) -> Result<Measured, Failed> {
    let exe = helper_exe().map_err(|e| Failed {
        failure: Failure::Spawn(format!("cannot find the bench-gate executable: {e}")),
        stderr_tail: String::new(),
    })?;
    let mut cmd = Command::new(exe);
    cmd.arg(HELPER_ARG)
        .arg("--")
        .arg(&inv.program)
        .args(&inv.args);
    env::apply(
        &mut cmd,
        &inv.env_policy,
        inv.env.iter().map(|(k, v)| (k, v)),
    );
    if let Some(cwd) = &inv.cwd {
        cmd.current_dir(cwd);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = spawn_tracked(&mut cmd).map_err(|e| Failed {
        failure: Failure::Spawn(e.to_string()),
        stderr_tail: String::new(),
    })?;
    let pgid = child.id() as i32;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || read_tail(&mut stdout, OUTPUT_TAIL_BYTES));
    let err_reader = std::thread::spawn(move || read_tail(&mut stderr, OUTPUT_TAIL_BYTES));
    let waited = child.wait_timeout(inv.timeout);
    let timed_out = !matches!(waited, Ok(Some(_)));
    // Kill the whole group: on timeout the command, and in any case whatever it
    // left running in the background (which would also keep the pipes open).
    kill_group(pgid);
    untrack(pgid);
    if timed_out {
        let _ = child.wait();
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let report = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr_tail = tail(&err_reader.join().unwrap_or_default());
    // The helper or the command killed by a signal: an interrupt's doing if
    // one begins now (a cancelled job signals every process), not a failure
    // to report, and no reason to start anything else.
    let helper_signalled = matches!(&waited, Ok(Some(s)) if std::os::unix::process::ExitStatusExt::signal(s).is_some());
    let report_signal = report
        .lines()
        .next()
        .and_then(|l| l.rsplit_once(" signal:"))
        .is_some();
    if (helper_signalled || report_signal) && !timed_out {
        crate::interrupt::settle(Duration::from_secs(2));
    }
    crate::interrupt::wait_if_interrupted();
    let fail = |failure| Failed {
        failure,
        stderr_tail: stderr_tail.clone(),
    };
    if timed_out {
        return Err(fail(Failure::Timeout(inv.timeout)));
    }
    let line = report.lines().next().unwrap_or("");
    if let Some(msg) = line.strip_prefix("spawn-error ") {
        return Err(fail(Failure::Spawn(msg.to_string())));
    }
    let fields: Vec<&str> = line.split_whitespace().collect();
    let parsed = match fields.as_slice() {
        ["ok", wall, user, sys, rss, status] => (|| {
            Some((
                wall.parse::<u128>().ok()?,
                user.parse::<i64>().ok()?,
                sys.parse::<i64>().ok()?,
                rss.parse::<i64>().ok()?,
                *status,
            ))
        })(),
        _ => None,
    };
    let Some((wall_ns, user_us, sys_us, rss_kib, status)) = parsed else {
        return Err(fail(Failure::Spawn(format!(
            "the measurement helper reported nothing usable ({line:?})"
        ))));
    };
    if let Some(code) = status.strip_prefix("exit:") {
        let code: i32 = code.parse().unwrap_or(-1);
        if code != 0 {
            return Err(fail(Failure::Exit(code)));
        }
    } else if let Some(sig) = status.strip_prefix("signal:") {
        return Err(fail(Failure::Signal(sig.parse().unwrap_or(-1))));
    } else {
        return Err(fail(Failure::Spawn(format!("unexpected status {status}"))));
    }
    let wall_ms = wall_ns as f64 / 1e6;
    Ok(Measured {
        sample: Sample {
            wall_ms,
            user_ms: user_us as f64 / 1000.0,
            sys_ms: sys_us as f64 / 1000.0,
            peak_rss_kib: rss_kib.max(0) as u64,
            usage: None,
        },
        overhead_ms: (elapsed_ms - wall_ms).max(0.0),
    })
}

#[cfg(test)]
mod tail_tests {
    use super::read_tail;

    #[test]
    fn read_tail_keeps_only_the_last_bytes() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let kept = read_tail(&data[..], 1000);
        assert_eq!(kept, &data[data.len() - 1000..]);
        assert_eq!(read_tail(&b"short"[..], 1000), b"short");
        assert_eq!(read_tail(&b""[..], 1000), b"");
    }
}
