//! The measurement helper: `bench-gate __measure -- PROGRAM ARGS…`.
//!
//! Why a helper: on Linux, `execve` copies the exec'ing process's memory
//! high-water mark into the new program's `ru_maxrss` (kernel `exec_mmap` →
//! `setmax_mm_hiwater_rss`). A child forked from a gate that holds 200 MB would
//! report at least 200 MB. The helper is a fresh, small process (a few MB), so
//! what it forks inherits only its own small mark.
//!
//! The helper times spawn → reap with a monotonic clock, reaps with `wait4` to
//! get the child's own rusage, and prints one line on stdout:
//! `ok WALL_NS USER_US SYS_US MAXRSS_KIB STATUS` where STATUS is `exit:N` or
//! `signal:N`, or `spawn-error MESSAGE`. The command's stderr is the helper's
//! stderr; its stdout goes to /dev/null. The command inherits the helper's
//! environment, which the gate already made the command's own, without the
//! secrets (see [`super::env`]); the helper adds nothing to it.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn main() -> u8 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(2).collect();
    let rest = match args.first() {
        Some(a) if a == "--" => &args[1..],
        _ => &args[..],
    };
    let Some((program, argv)) = rest.split_first() else {
        println!("spawn-error no command given");
        return 0;
    };
    let start = Instant::now();
    let child = Command::new(program)
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            println!("spawn-error {e}");
            return 0;
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            println!(
                "spawn-error wait4 failed: {}",
                std::io::Error::last_os_error()
            );
            return 0;
        }
    }
    let wall = start.elapsed();
    // time_t and suseconds_t are i64 on Linux but i32 on some platforms.
    #[allow(clippy::useless_conversion)]
    let tv_us = |tv: libc::timeval| i64::from(tv.tv_sec) * 1_000_000 + i64::from(tv.tv_usec);
    // ru_maxrss is KiB on Linux and bytes on macOS.
    #[cfg(target_os = "macos")]
    let maxrss_kib = usage.ru_maxrss as i64 / 1024;
    #[cfg(not(target_os = "macos"))]
    let maxrss_kib = usage.ru_maxrss as i64;
    let outcome = if libc::WIFEXITED(status) {
        format!("exit:{}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal:{}", libc::WTERMSIG(status))
    } else {
        format!("status:{status}")
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "ok {} {} {} {} {}",
        wall.as_nanos(),
        tv_us(usage.ru_utime),
        tv_us(usage.ru_stime),
        maxrss_kib,
        outcome
    );
    let _ = out.flush();
    0
}
