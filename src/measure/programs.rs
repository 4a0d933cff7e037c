//! Giving both sides of an A/B run the same start: the programs they run
//! enter the page cache the same way, and the measuring helper is neither
//! side's program.
//!
//! Why (issue 15, measured on a 2-core Linux machine): byte-identical
//! binaries, one written by `cp` and one by the linker, differ by 4–12 % in
//! start-up time and 12 % in peak RSS, and the sign follows the file: how a
//! file entered the page cache (large folios or not) changes exec's page
//! faults and the resident set. And when the head's own binary is also the
//! helper that measures (`bench-gate __measure`), its pages are already
//! mapped and warm, which favoured the head by 3–6 %. So in A/B mode:
//!
//! - the helper is a private copy of bench-gate ([`PrivateHelper`]);
//! - the built-in workload runs fresh copies of each tree's
//!   `target/release/bench-gate`, at paths of the same length, written the
//!   same way ([`copy_fresh`]);
//! - every program file a scenario names inside its tree is flushed to disk
//!   and dropped from the page cache before measuring ([`evict`]), so that
//!   both sides' first runs read it from disk, through exec, alike.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::workload::Workload;

/// Copies `src` to `dest` (a new file) with plain reads and writes (never
/// `copy_file_range` or a reflink, whose page-cache state depends on the
/// file system), keeps its permissions, syncs it and drops it from the page
/// cache.
pub fn copy_fresh(src: &Path, dest: &Path) -> std::io::Result<()> {
    copy_plain(src, dest)?;
    evict(dest);
    Ok(())
}

/// [`copy_fresh`] without the sync and the eviction: the copy stays in the
/// page cache as written.
fn copy_plain(src: &Path, dest: &Path) -> std::io::Result<()> {
    let mut from = std::fs::File::open(src)?;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
    }
    to.set_permissions(from.metadata()?.permissions())?;
    Ok(())
}

/// Flushes `path` to disk and drops its pages from the page cache (Linux;
/// elsewhere nothing). Pages a running process maps stay. Errors are
/// ignored: this only evens out the two sides.
pub fn evict(path: &Path) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Ok(f) = std::fs::File::open(path) else {
            return;
        };
        // Dirty pages are not dropped: write them first.
        let _ = f.sync_data();
        // SAFETY: plain syscall on an open descriptor.
        unsafe {
            libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

static PRIVATE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The folders of the live copies, to remove if the process is interrupted
/// (Ctrl-C exits without running destructors).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn track(dir: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(dir.to_path_buf());
    }
}

fn untrack(dir: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|d| d != dir);
    }
}

/// Removes every live copy's folder: for the interrupt handler.
pub fn remove_all() {
    if let Ok(mut live) = LIVE.lock() {
        for dir in live.drain(..) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The private helper in use, if any.
pub(super) fn private_helper_path() -> Option<PathBuf> {
    PRIVATE.lock().ok().and_then(|p| p.clone())
}

/// A private copy of the measuring helper, used by every measurement while
/// it lives; removed when dropped.
#[derive(Debug)]
pub struct PrivateHelper {
    _dir: tempfile::TempDir,
}

impl PrivateHelper {
    /// Copies the helper (the running bench-gate, or the one set with
    /// [`super::set_helper`]) to a temporary folder and measures through it.
    pub fn start() -> std::io::Result<PrivateHelper> {
        let src = super::configured_helper()?;
        let dir = tempfile::Builder::new()
            .prefix("bench-gate-helper-")
            .tempdir()?;
        let dest = dir.path().join("bench-gate");
        // Both sides share it, so it stays in the page cache as written:
        // dropping it would only make the first runs read it from disk.
        copy_plain(&src, &dest)?;
        if let Ok(mut p) = PRIVATE.lock() {
            *p = Some(dest);
        }
        track(dir.path());
        Ok(PrivateHelper { _dir: dir })
    }
}

impl Drop for PrivateHelper {
    fn drop(&mut self) {
        if let Ok(mut p) = PRIVATE.lock() {
            *p = None;
        }
        untrack(self._dir.path());
    }
}

/// Fresh copies of the two sides' programs; removed when dropped.
#[derive(Debug)]
pub struct Staged {
    _dir: tempfile::TempDir,
    /// Per scenario, the command lines as written before the copies
    /// replaced the programs: the base's, then the head's.
    commands: [Vec<(String, Vec<String>)>; 2],
}

impl Drop for Staged {
    fn drop(&mut self) {
        untrack(self._dir.path());
    }
}

impl Staged {
    /// Puts the command lines as written back into the results (the head's
    /// scenarios, and the base's in `r.ab`), in place of the copies' paths.
    pub fn restore_commands(&self, r: &mut crate::model::Results) {
        let put = |scenarios: &mut Vec<crate::model::ScenarioResult>,
                   commands: &[(String, Vec<String>)]| {
            for sc in scenarios {
                if let Some((_, argv)) = commands.iter().find(|(n, _)| *n == sc.name) {
                    sc.command = crate::model::free_text(
                        &super::runner::display_command(argv),
                        crate::model::COMMAND_MAX,
                    );
                }
            }
        };
        put(&mut r.scenarios, &self.commands[1]);
        if let Some(ab) = r.ab.as_mut() {
            put(&mut ab.base.scenarios, &self.commands[0]);
        }
    }
}

/// Replaces each scenario's program (`argv[0]`) in `base` and `head` by a
/// fresh copy ([`copy_fresh`]): `base`'s in `…/a/`, `head`'s in `…/b/`, so
/// both paths have the same length. For programs that do not look for
/// files next to themselves, such as the built-in workload's bench-gate.
pub fn stage(base: &mut Workload, head: &mut Workload) -> std::io::Result<Staged> {
    let dir = tempfile::Builder::new()
        .prefix("bench-gate-ab-programs-")
        .tempdir()?;
    track(dir.path());
    let written = |w: &Workload| {
        w.scenarios
            .iter()
            .map(|s| (s.name.clone(), s.command.argv.clone()))
            .collect()
    };
    let commands = [written(base), written(head)];
    for (side, w) in [("a", base), ("b", head)] {
        let folder = dir.path().join(side);
        std::fs::create_dir(&folder)?;
        let mut copied: Vec<(String, String)> = Vec::new();
        for s in &mut w.scenarios {
            let Some(program) = s.command.argv.first_mut() else {
                continue;
            };
            if let Some((_, to)) = copied.iter().find(|(from, _)| from == program) {
                *program = to.clone();
                continue;
            }
            let src = PathBuf::from(&*program);
            let name = src.file_name().map_or_else(
                || format!("program-{}", copied.len()),
                |n| format!("{}-{}", copied.len(), n.to_string_lossy()),
            );
            let dest = folder.join(name);
            copy_fresh(&src, &dest).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "A/B mode: cannot copy {} to {}: {e}",
                        src.display(),
                        dest.display()
                    ),
                )
            })?;
            let to = dest.display().to_string();
            copied.push((program.clone(), to.clone()));
            *program = to;
        }
    }
    Ok(Staged {
        _dir: dir,
        commands,
    })
}

/// Drops from the page cache every file a scenario of `w` names (its
/// program and its arguments) that lies inside `tree`: see [`evict`].
pub fn evict_tree_files(w: &Workload, tree: &Path) {
    let Ok(tree) = tree.canonicalize() else {
        return;
    };
    for s in &w.scenarios {
        let cwd = s.command.cwd.clone().unwrap_or_default();
        for arg in &s.command.argv {
            if arg.is_empty() || arg.contains('{') {
                continue;
            }
            let p = cwd.join(arg);
            let Ok(p) = p.canonicalize() else {
                continue;
            };
            if p.starts_with(&tree) && p.is_file() {
                evict(&p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_fresh_keeps_content_and_permissions_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o751)).unwrap();
        }
        let dest = dir.path().join("dest");
        copy_fresh(&src, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), data);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o751);
        }
        assert!(copy_fresh(&src, &dest).is_err());
    }

    #[test]
    fn staging_copies_each_sides_program_to_paths_of_one_length() {
        let dir = tempfile::tempdir().unwrap();
        // Each tree's build, at paths of different lengths.
        let (base_exe, head_exe) = (
            dir.path().join("a-longer-base-tree/bench-gate"),
            dir.path().join("h/bench-gate"),
        );
        std::fs::create_dir_all(base_exe.parent().unwrap()).unwrap();
        std::fs::create_dir_all(head_exe.parent().unwrap()).unwrap();
        std::fs::write(&base_exe, "base build").unwrap();
        std::fs::write(&head_exe, "head build").unwrap();
        let mut base = crate::workload::builtin::workload("quick", &base_exe).unwrap();
        let mut head = crate::workload::builtin::workload("quick", &head_exe).unwrap();
        let staged = stage(&mut base, &mut head).unwrap();
        let (a, b) = (
            base.scenarios[0].command.argv[0].clone(),
            head.scenarios[0].command.argv[0].clone(),
        );
        assert_eq!(a.len(), b.len(), "{a} {b}");
        assert!(
            a.ends_with("/a/0-bench-gate") && b.ends_with("/b/0-bench-gate"),
            "{a}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "base build");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "head build");
        // One copy per program, shared by every scenario running it.
        for w in [&base, &head] {
            let programs: std::collections::BTreeSet<&String> =
                w.scenarios.iter().map(|s| &s.command.argv[0]).collect();
            assert_eq!(programs.len(), 1);
        }
        // Results show the commands as written.
        let mut r = crate::measure::build::results(
            &head,
            &vec![Default::default(); head.scenarios.len()],
            Default::default(),
        );
        assert!(r.scenarios[0].command.starts_with(&b));
        staged.restore_commands(&mut r);
        assert!(
            r.scenarios[0]
                .command
                .starts_with(&head_exe.display().to_string()),
            "{}",
            r.scenarios[0].command
        );
        drop(staged);
        assert!(!std::path::Path::new(&a).exists());
    }
}
