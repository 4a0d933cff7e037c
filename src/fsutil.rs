//! Writing files so that a failure never leaves half a file or half a folder:
//! everything is written beside its destination, then renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The process's file-mode creation mask. Read from `/proc/self/status` where
/// possible, since setting it to read it back races with threads creating files.
#[cfg(unix)]
fn umask() -> u32 {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(v) = status.lines().find_map(|l| l.strip_prefix("Umask:")) {
            if let Ok(m) = u32::from_str_radix(v.trim(), 8) {
                return m & 0o777;
            }
        }
    }
    // SAFETY: umask only swaps the process mask; it is restored at once.
    unsafe {
        let old = libc::umask(0o077);
        libc::umask(old);
        old as u32 & 0o777
    }
}

/// Gives `path` the mode a plain `open(O_CREAT)` or `mkdir` would have:
/// `full & !umask`. The temporary files and folders tempfile makes are
/// private (0600/0700) whatever the umask, and would keep that after the rename.
#[cfg(unix)]
fn set_mode(path: &Path, full: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(full & !umask()))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _full: u32) -> std::io::Result<()> {
    Ok(())
}

/// The temporary files being written, so that an interrupt (whose handler
/// exits without running destructors) can remove them: see [`abandon_writes`].
struct Pending {
    /// Set by [`abandon_writes`]: no write begins afterwards.
    closed: bool,
    paths: Vec<PathBuf>,
}

static PENDING: std::sync::Mutex<Pending> = std::sync::Mutex::new(Pending {
    closed: false,
    paths: Vec::new(),
});

impl Pending {
    /// A new temporary file in `parent`, registered; none once closed.
    fn begin(&mut self, parent: &Path) -> Result<tempfile::NamedTempFile> {
        if self.closed {
            anyhow::bail!("{}: not written: interrupted", parent.display());
        }
        let tmp = tempfile::Builder::new()
            .prefix(".bench-gate-")
            .suffix(".tmp")
            .tempfile_in(parent)
            .with_context(|| format!("{}: cannot create a temporary file", parent.display()))?;
        self.paths.push(tmp.path().to_path_buf());
        Ok(tmp)
    }

    fn end(&mut self, tmp: &Path) {
        self.paths.retain(|p| p != tmp);
    }

    fn abandon(&mut self) {
        self.closed = true;
        for p in self.paths.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn pending() -> std::sync::MutexGuard<'static, Pending> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// For an interrupt: removes the temporary files of writes in progress and
/// refuses every later write, so that an interrupted write leaves either the
/// whole file or nothing, and no temporary file beside it.
pub fn abandon_writes() {
    pending().abandon();
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed and then renamed over the destination. Creates missing parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // A device or a pipe (`--output /dev/null`, `/dev/stdout`) is written
    // into, never replaced: renaming a file over it would, run as root,
    // turn /dev/null into a regular file for every other program.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .with_context(|| format!("{}: cannot write", path.display()));
    }
    let parent = parent_of(path);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("{}: cannot create folder", parent.display()))?;
    let mut tmp = pending().begin(&parent)?;
    let tmp_path = tmp.path().to_path_buf();
    let written = tmp
        .write_all(bytes)
        .and_then(|_| set_mode(tmp.path(), 0o666))
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("{}: cannot write", path.display()))
        .and_then(|_| {
            tmp.persist(path)
                .map_err(|e| e.error)
                .with_context(|| format!("{}: cannot write", path.display()))
        });
    pending().end(&tmp_path);
    written?;
    Ok(())
}

/// The largest results file, import input or `generate` input read: 64 MiB.
pub const MAX_DATA_BYTES: u64 = 64 << 20;
/// The largest baseline, `bench-gate.yml` or template read: 8 MiB.
pub const MAX_CONFIG_BYTES: u64 = 8 << 20;

fn too_large(cap: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "the file is larger than the limit of {} MiB ({cap} bytes)",
            cap >> 20
        ),
    )
}

/// Reads at most `cap` bytes of `path`; larger is an error naming the limit.
/// A regular file is refused from its size before anything is read; anything
/// else (a pipe, `/dev/zero`) is read through `take(cap + 1)`, so it never
/// costs more than the cap.
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > cap {
        return Err(too_large(cap));
    }
    let hint = if meta.is_file() { meta.len() } else { 0 };
    let mut buf = Vec::with_capacity(usize::try_from(hint.min(cap)).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(buf)
}

/// [`read_capped`], as UTF-8 text.
pub fn read_capped_string(path: &Path, cap: u64) -> std::io::Result<String> {
    String::from_utf8(read_capped(path, cap)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Whether `dir` exists and holds anything.
pub fn is_non_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut it| it.next().is_some())
        .unwrap_or(false)
}

/// Fills a fresh folder beside `dest` with `fill`, then renames it to `dest`.
/// An existing non-empty `dest` is replaced only when `force` is set; on any
/// error the temporary folder is removed and `dest` is untouched.
pub fn write_dir_atomic(
    dest: &Path,
    force: bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    if dest.exists() && !dest.is_dir() {
        anyhow::bail!("{}: exists and is not a folder", dest.display());
    }
    if is_non_empty_dir(dest) && !force {
        anyhow::bail!(
            "{}: folder exists and is not empty; pass --force to replace it",
            dest.display()
        );
    }
    let parent = parent_of(dest);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("{}: cannot create folder", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".bench-gate-")
        .tempdir_in(&parent)
        .with_context(|| format!("{}: cannot create a temporary folder", parent.display()))?;
    set_mode(tmp.path(), 0o777)
        .with_context(|| format!("{}: cannot set the folder's mode", tmp.path().display()))?;
    fill(tmp.path())?;
    if dest.exists() {
        // Move the old folder aside first so that a failed rename can be undone.
        let old = tempfile::Builder::new()
            .prefix(".bench-gate-old-")
            .tempdir_in(&parent)
            .with_context(|| format!("{}: cannot create a temporary folder", parent.display()))?;
        let old_path = old.path().join("previous");
        std::fs::rename(dest, &old_path)
            .with_context(|| format!("{}: cannot move the old folder aside", dest.display()))?;
        if let Err(e) = std::fs::rename(tmp.path(), dest) {
            let _ = std::fs::rename(&old_path, dest);
            return Err(e).with_context(|| format!("{}: cannot rename into place", dest.display()));
        }
        // `old` removes the previous contents when dropped.
    } else {
        std::fs::rename(tmp.path(), dest)
            .with_context(|| format!("{}: cannot rename into place", dest.display()))?;
    }
    // The temporary folder was renamed away; forget it rather than delete `dest`.
    let _ = tmp.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_writes_leave_no_temporary_file_and_none_begins_after() {
        let root = tempfile::tempdir().unwrap();
        let mut p = Pending {
            closed: false,
            paths: Vec::new(),
        };
        let tmp = p.begin(root.path()).unwrap();
        let path = tmp.path().to_path_buf();
        // As after an interrupt: no destructor runs.
        std::mem::forget(tmp);
        assert!(path.exists());
        p.abandon();
        assert!(!path.exists());
        assert!(p.begin(root.path()).is_err());
        assert!(!is_non_empty_dir(root.path()));
    }

    #[test]
    #[cfg(unix)]
    fn read_capped_refuses_oversize_files_and_endless_streams() {
        let root = tempfile::tempdir().unwrap();
        let f = root.path().join("f");
        std::fs::write(&f, "12345").unwrap();
        assert_eq!(read_capped(&f, 5).unwrap(), b"12345");
        let e = read_capped(&f, 4).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
        let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("limit of 1 MiB"), "{e}");
    }

    #[test]
    fn failed_fill_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        let err = write_dir_atomic(&dest, false, |d| {
            std::fs::write(d.join("a"), "x")?;
            anyhow::bail!("boom")
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn refuses_non_empty_without_force_and_replaces_with_it() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("old"), "1").unwrap();
        let err = write_dir_atomic(&dest, false, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("pass --force"));
        write_dir_atomic(&dest, true, |d| Ok(std::fs::write(d.join("new"), "2")?)).unwrap();
        assert!(dest.join("new").exists() && !dest.join("old").exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_file_write() {
        let root = tempfile::tempdir().unwrap();
        let f = root.path().join("sub/x.json");
        write_atomic(&f, b"hi").unwrap();
        write_atomic(&f, b"there").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "there");
        assert_eq!(
            std::fs::read_dir(root.path().join("sub")).unwrap().count(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_into_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        if !std::fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
            return; // not a device here: nothing to protect
        }
        write_atomic(null, b"results").unwrap();
        assert!(std::fs::metadata(null)
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(std::fs::read(null).unwrap(), b"");
    }
}
