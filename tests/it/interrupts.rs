//! Interrupts clean up everything, every time: SIGINT or SIGTERM while a
//! scenario is measured, while a service starts, while an A/B setup runs
//! and while A/B pairs are measured ends every process the run started
//! (found by a marker in their command lines: the test's own folder), leaves
//! no temporary folder and no worktree, starts nothing new, and exits 130.
//! A daemon that escapes its process group (`setsid`) is killed too (Linux).
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A test folder: scripts, a `bin/sleep` (so that a sleeping process names
/// the folder in its command line), and `tmp`, bench-gate's TMPDIR.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let s = Scene {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(s.path("bin")).unwrap();
        std::fs::create_dir_all(s.path("tmp")).unwrap();
        let sleep = which_sleep();
        std::os::unix::fs::symlink(sleep, s.path("bin/sleep")).unwrap();
        s
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn marker(&self) -> String {
        self.dir.path().display().to_string()
    }
    /// An executable script; `{dir}` is the test folder.
    fn script(&self, name: &str, body: &str) -> String {
        let p = self.path(name);
        std::fs::write(
            &p,
            format!("#!/bin/sh\n{}", body.replace("{dir}", &self.marker())),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.display().to_string()
    }
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(self.dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
    /// A git repository of two commits with `config` as bench-gate.yml.
    fn repo(&self, config: &str) {
        std::fs::write(
            self.path(".gitignore"),
            "tmp/\nbin/\n*.txt\nstarts\nready\npid\n",
        )
        .unwrap();
        std::fs::write(self.path("bench-gate.yml"), config).unwrap();
        self.git(&["init", "-q"]);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", "one"]);
        std::fs::write(self.path("README"), "two\n").unwrap();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", "two"]);
    }
    fn worktrees(&self) -> usize {
        self.git(&["worktree", "list", "--porcelain"])
            .lines()
            .filter(|l| l.starts_with("worktree "))
            .count()
    }
    /// Starts bench-gate in the folder, its stderr in `stderr.txt`.
    fn start(&self, args: &[&str]) -> Child {
        Command::new(assert_cmd::cargo::cargo_bin("bench-gate"))
            .current_dir(self.dir.path())
            .args(args)
            .env("TMPDIR", self.path("tmp"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("stderr.txt")).unwrap())
            .spawn()
            .unwrap()
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr.txt")).unwrap_or_default()
    }
    /// Waits (generously) for `file` to appear.
    fn wait_for(&self, file: &str, child: &mut Child) {
        let start = Instant::now();
        while !self.path(file).exists() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "bench-gate ended ({status}) before {file}:\n{}",
                    self.stderr()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "no {file} after 120 s:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    fn starts(&self) -> usize {
        std::fs::read_to_string(self.path("starts"))
            .unwrap_or_default()
            .lines()
            .count()
    }
    /// Live (not zombie) processes whose command line names the folder.
    fn alive(&self) -> Vec<String> {
        let marker = self.marker();
        let mut found = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.parse::<u32>().is_err() {
                continue;
            }
            let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
                continue;
            };
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let zombie = std::fs::read_to_string(e.path().join("stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, r)| r.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            if cmdline.contains(&marker) && !zombie {
                found.push(format!("{name}: {cmdline}"));
            }
        }
        found
    }
    /// Asserts that no process of the test's is left (killed processes may
    /// take a moment to be gone).
    fn assert_nothing_runs(&self) {
        let start = Instant::now();
        loop {
            let alive = self.alive();
            if alive.is_empty() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "left running: {alive:?}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// What is left in bench-gate's TMPDIR.
    fn tmp_left(&self) -> Vec<String> {
        std::fs::read_dir(self.path("tmp"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect()
    }
    /// `bench-gate-ab-*` folders left in the repository's git folder.
    fn ab_left(&self) -> Vec<String> {
        std::fs::read_dir(self.path(".git"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("bench-gate-ab-"))
            .collect()
    }
    /// Sends `signal` and checks the outcome: exit 130, nothing running,
    /// no temporary folder.
    fn interrupt(&self, child: &mut Child, signal: i32) {
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let status = wait_generously(child);
        assert_eq!(status.code(), Some(130), "{status}\n{}", self.stderr());
        assert_eq!(self.tmp_left(), Vec::<String>::new(), "{}", self.stderr());
        self.assert_nothing_runs();
    }
}

fn which_sleep() -> PathBuf {
    ["/usr/bin/sleep", "/bin/sleep"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("sleep")
}

fn wait_generously(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("bench-gate did not exit within 60 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A scenario command that counts its starts in `starts`; from start
/// `block_at` on, it starts a `setsid` daemon, says `ready` and sleeps.
fn blocking_command(s: &Scene, block_at: usize) -> String {
    s.script(
        "prog.sh",
        &format!(
            "echo $$ >> {{dir}}/starts\n\
             if [ \"$(wc -l < {{dir}}/starts)\" -ge {block_at} ]; then\n\
             setsid {{dir}}/bin/sleep 1001 </dev/null >/dev/null 2>&1 &\n\
             echo $$ > {{dir}}/pid\n\
             touch {{dir}}/ready\n\
             exec {{dir}}/bin/sleep 1000\n\
             fi\n"
        ),
    )
}

fn scenario(command: &str, iterations: u32) -> String {
    format!("scenarios:\n  job:\n    command: [\"{command}\"]\n    iterations: {iterations}\n    warmup: 0\n")
}

#[test]
fn sigint_while_measuring_kills_everything_and_removes_the_run_folder() {
    let _serial = crate::support::serial();
    let s = Scene::new();
    let cmd = blocking_command(&s, 2);
    std::fs::write(s.path("bench-gate.yml"), scenario(&cmd, 5)).unwrap();
    let mut child = s.start(&["run", "--output", "out.json"]);
    s.wait_for("ready", &mut child);
    assert!(
        s.tmp_left()
            .iter()
            .any(|n| n.starts_with("bench-gate-run-")),
        "the run folder exists while measuring"
    );
    assert!(
        s.alive().len() >= 2,
        "command and daemon run: {:?}",
        s.alive()
    );
    s.interrupt(&mut child, libc::SIGINT);
    assert_eq!(s.starts(), 2, "nothing started after the signal");
    assert!(!s.path("out.json").exists());
}

#[test]
fn sigint_while_a_service_starts_kills_it_and_removes_its_folder() {
    let _serial = crate::support::serial();
    let s = Scene::new();
    let svc = s.script("svc.sh", "touch {dir}/ready\n{dir}/bin/sleep 1000\n");
    let port = crate::support::free_port();
    std::fs::write(
        s.path("bench-gate.yml"),
        format!(
            "services:\n  svc:\n    command: [\"{svc}\"]\n    ready: {{port: {port}}}\n    start_timeout: 300\n{}",
            scenario("true", 1)
        ),
    )
    .unwrap();
    let mut child = s.start(&["run", "--output", "out.json"]);
    s.wait_for("ready", &mut child);
    assert!(s
        .tmp_left()
        .iter()
        .any(|n| n.starts_with("bench-gate-services-")));
    s.interrupt(&mut child, libc::SIGINT);
}

#[test]
fn sigterm_or_sigint_during_the_ab_setup_kills_the_setup_and_removes_the_worktree() {
    let _serial = crate::support::serial();
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let s = Scene::new();
        let setup = s.script(
            "setup.sh",
            "touch {dir}/ready\n{dir}/bin/sleep 1000\necho done\n",
        );
        s.repo(&format!("{}ab:\n  setup: {setup}\n", scenario("true", 1)));
        let mut child = s.start(&["compare", "--ab", "HEAD~1"]);
        s.wait_for("ready", &mut child);
        assert_eq!(s.worktrees(), 2, "the base is checked out during the setup");
        s.interrupt(&mut child, signal);
        assert_eq!(s.worktrees(), 1, "git forgot the worktree");
        assert_eq!(s.ab_left(), Vec::<String>::new());
    }
}

/// Interrupted on the third start (pair 2, head first): SIGINT, and as a
/// cancelled CI job does, the command signalled first and bench-gate a
/// moment later. Either way: 130 (never 3 for the killed command), no
/// fourth start (not even the head alone, as after a base failure), nothing
/// left.
#[test]
fn sigint_during_ab_pairs_starts_nothing_new_and_exits_130() {
    let _serial = crate::support::serial();
    for (block_at, command_first) in [(3, false), (3, true), (4, true)] {
        let s = Scene::new();
        let cmd = blocking_command(&s, block_at);
        s.repo(&format!("{}ab:\n  setup: \"true\"\n", scenario(&cmd, 4)));
        let mut child = s.start(&["compare", "--ab", "HEAD~1"]);
        s.wait_for("ready", &mut child);
        assert_eq!(s.worktrees(), 2);
        if command_first {
            let pid: i32 = std::fs::read_to_string(s.path("pid"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            // SAFETY: a process of this test's.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        s.interrupt(&mut child, libc::SIGINT);
        assert_eq!(
            s.starts(),
            block_at,
            "case {block_at}/{command_first}: {}",
            s.stderr()
        );
        assert_eq!(s.worktrees(), 1);
        assert_eq!(s.ab_left(), Vec::<String>::new());
        assert!(!s.stderr().contains("failed"), "{}", s.stderr());
    }
}

/// A scenario that leaves a `setsid` daemon behind in every iteration: at
/// the end of a normal run none of them is left.
#[test]
fn a_setsid_daemon_is_killed_at_the_end_of_a_normal_run() {
    let _serial = crate::support::serial();
    let s = Scene::new();
    let cmd = s.script(
        "daemon.sh",
        "setsid {dir}/bin/sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! >> {dir}/starts\n",
    );
    std::fs::write(s.path("bench-gate.yml"), scenario(&cmd, 2)).unwrap();
    let mut child = s.start(&["run", "--output", "out.json"]);
    let status = wait_generously(&mut child);
    assert_eq!(status.code(), Some(0), "{}", s.stderr());
    assert_eq!(s.starts(), 2);
    s.assert_nothing_runs();
    assert_eq!(s.tmp_left(), Vec::<String>::new());
}

/// A/B runs after a SIGKILLed one (which runs no handler): a live run's base
/// tree is left alone; once its owner is gone, the next run removes it and
/// git's record of it, with a notice.
#[test]
fn the_next_ab_run_prunes_a_killed_runs_worktree_but_not_a_live_ones() {
    let _serial = crate::support::serial();
    let s = Scene::new();
    let cmd = s.script(
        "prog.sh",
        "if [ -e {dir}/block ]; then rm {dir}/block; touch {dir}/ready; exec {dir}/bin/sleep 1000; fi\n",
    );
    s.repo(&format!("{}ab:\n  setup: \"true\"\n", scenario(&cmd, 2)));
    std::fs::write(s.path("block"), "").unwrap();
    let mut first = s.start(&["compare", "--ab", "HEAD~1"]);
    s.wait_for("ready", &mut first);
    assert_eq!(s.worktrees(), 2);
    let left = s.ab_left();
    assert_eq!(left.len(), 1, "{left:?}");

    // Another run while the first one lives: its tree is not touched.
    let second = assert_cmd::Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(s.path(""))
        .env("TMPDIR", s.path("tmp"))
        .args(["compare", "--ab", "HEAD~1"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.code().is_some(), "{err}");
    assert!(!err.contains("left behind"), "{err}");
    assert_eq!(s.ab_left(), left);
    assert_eq!(s.worktrees(), 2);

    // SIGKILL: no handler runs, the tree stays (and the command is ours to end).
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(first.id() as i32, libc::SIGKILL);
    }
    first.wait().unwrap();
    for p in s.alive() {
        let pid: i32 = p.split(':').next().unwrap().parse().unwrap();
        // SAFETY: a process of this test's (its command line names the folder).
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    s.assert_nothing_runs();
    assert_eq!(s.ab_left(), left);
    assert_eq!(s.worktrees(), 2);

    let third = assert_cmd::Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(s.path(""))
        .env("TMPDIR", s.path("tmp"))
        .args(["compare", "--ab", "HEAD~1"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(third.status.code().is_some(), "{err}");
    assert!(
        err.contains(&format!(
            "A/B mode: removing the base tree {} that an interrupted run left behind (its bench-gate (pid {}) is gone)",
            s.path(".git").join(&left[0]).display(),
            first.id()
        )),
        "{err}"
    );
    assert_eq!(s.ab_left(), Vec::<String>::new());
    assert_eq!(s.worktrees(), 1, "git forgot it too");
}
