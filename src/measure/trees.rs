//! The two trees of an A/B run: the head (the working tree as it is) and the
//! base (the merge base of a revision and HEAD, checked out with
//! `git worktree add` in a temporary folder and removed afterwards, or a
//! folder the user prepared). A setup command runs in each before anything
//! is measured. Git and the setup command run without the secrets in
//! bench-gate's environment (see [`crate::measure::env`]): git runs the
//! repository's hooks, the setup command the project's build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

use crate::measure::env;
use crate::model::EnvPolicy;

/// Where the base comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseSource {
    /// A git revision: its merge base with HEAD is checked out in a worktree.
    Git(String),
    /// A folder holding the base already (`--ab-dir`).
    Dir(PathBuf),
    /// The base of the pull request being gated (see [`resolve_pr_base`]).
    PullRequest(PrCommits),
}

/// The commits a `pull_request` event names.
#[derive(Debug, Clone, PartialEq)]
pub struct PrCommits {
    /// `pull_request.base.sha`: a commit of the base branch, possibly older
    /// than the one the test-merge commit was made on.
    pub base_sha: String,
    /// `pull_request.head.sha`: the pull request's last commit.
    pub head_sha: String,
    /// `pull_request.merge_commit_sha`: GitHub's test-merge commit.
    pub merge_sha: Option<String>,
}

/// A prepared A/B pair of trees. Dropping it removes the worktree.
#[derive(Debug)]
pub struct Trees {
    pub head: PathBuf,
    pub base: PathBuf,
    /// What was asked for: the revision, or the folder.
    pub requested: String,
    /// Commit SHAs, when known (`unknown` for a folder outside git).
    pub base_commit: String,
    pub head_commit: String,
    /// The folder as given, when the base is one (`--ab-dir`).
    pub base_dir: Option<String>,
    /// How the base commit was chosen, in words (for the comment).
    pub base_how: Option<String>,
    /// What git and the setup command go without.
    env_policy: EnvPolicy,
    _worktree: Option<Worktree>,
}

#[derive(Debug)]
struct Worktree {
    repo: PathBuf,
    path: PathBuf,
    env_policy: EnvPolicy,
    _dir: tempfile::TempDir,
}

/// The name of a base tree's temporary folder starts with this.
const AB_PREFIX: &str = "bench-gate-ab-";

/// In a base tree's temporary folder: the owning process (`PID START`,
/// START being its start time in clock ticks on Linux, to tell a reused pid).
const OWNER_FILE: &str = "owner";

/// A folder without an owner record (from an older bench-gate) is taken for
/// a leftover once it is this old.
const UNOWNED_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The start time of process `pid`, when the system tells it (Linux).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22; fields after "(comm)" start at 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

fn owner_record(pid: u32) -> String {
    match start_time(pid) {
        Some(t) => format!("{pid} {t}\n"),
        None => format!("{pid}\n"),
    }
}

/// Whether the process an owner record names still runs.
fn owner_alive(record: &str) -> bool {
    let mut f = record.split_whitespace();
    let Some(pid) = f.next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid as i32, 0) };
        if r != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
            return false;
        }
    }
    match (f.next(), start_time(pid)) {
        (Some(recorded), Some(now)) => recorded == now,
        _ => true,
    }
}

/// Removes the base trees that killed runs left behind (`bench-gate-ab-*`
/// folders in the git folder, and worktrees git lists in such a folder
/// elsewhere) whose owning process is gone, with a notice; a live one
/// (another bench-gate running) is left alone.
fn prune_leftovers(repo: &Path, git_dir: Option<&Path>, policy: &EnvPolicy) {
    let mut folders: Vec<PathBuf> = Vec::new();
    if let Some(Ok(entries)) = git_dir.map(std::fs::read_dir) {
        folders.extend(
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(AB_PREFIX))
                .map(|e| e.path()),
        );
    }
    if let Ok(list) = git(repo, &["worktree", "list", "--porcelain"], policy) {
        for line in list.lines() {
            let Some(path) = line.strip_prefix("worktree ").map(Path::new) else {
                continue;
            };
            if let Some(parent) = path.parent().filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(AB_PREFIX))
                    && path.file_name() == Some(std::ffi::OsStr::new("base"))
            }) {
                if !folders.iter().any(|f| f == parent) {
                    folders.push(parent.to_path_buf());
                }
            }
        }
    }
    let mut removed = false;
    for folder in folders {
        let leftover = match std::fs::read_to_string(folder.join(OWNER_FILE)) {
            Ok(record) => (!owner_alive(&record)).then(|| {
                format!(
                    "its bench-gate (pid {}) is gone",
                    record
                        .split_whitespace()
                        .next()
                        .and_then(|p| p.parse::<u32>().ok())
                        .map_or("?".to_string(), |p| p.to_string())
                )
            }),
            Err(_) => std::fs::metadata(&folder)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .filter(|age| *age > UNOWNED_AGE)
                .map(|_| "it names no owner and is over an hour old".to_string()),
        };
        let Some(why) = leftover else {
            continue;
        };
        eprintln!(
            "A/B mode: removing the base tree {} that an interrupted run left behind ({why})",
            folder.display()
        );
        let _ = git_command(policy)
            .arg("-C")
            .arg(repo)
            .args(["worktree", "remove", "--force"])
            .arg(folder.join("base"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&folder);
        removed = true;
    }
    if removed {
        let _ = git(repo, &["worktree", "prune"], policy);
    }
}

/// A worktree to remove if the process is interrupted (Ctrl-C exits without
/// running destructors): repository, path, and git's environment policy.
type Live = (PathBuf, PathBuf, EnvPolicy);
static LIVE: Mutex<Vec<Live>> = Mutex::new(Vec::new());

/// `git` without the secrets of `policy` in its environment.
fn git_command(policy: &EnvPolicy) -> Command {
    let mut cmd = Command::new("git");
    env::apply(&mut cmd, policy, std::iter::empty::<(&str, &str)>());
    cmd
}

/// Removes the worktree at `path` (in a temporary folder of its own) and
/// git's record of it.
fn remove_worktree(repo: &Path, path: &Path, policy: &EnvPolicy) {
    let _ = git_command(policy)
        .arg("-C")
        .arg(repo)
        .args(["worktree", "remove", "--force"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    // The temporary folder holding it, which no destructor will remove after Ctrl-C.
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(path));
    let _ = git_command(policy)
        .arg("-C")
        .arg(repo)
        .args(["worktree", "prune"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Removes every live worktree: for the interrupt handler.
pub fn remove_all() {
    if let Ok(mut live) = LIVE.lock() {
        for (repo, path, policy) in live.drain(..) {
            remove_worktree(&repo, &path, &policy);
        }
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        remove_worktree(&self.repo, &self.path, &self.env_policy);
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|(_, p, _)| p != &self.path);
        }
    }
}

/// Runs git in `dir`; its trimmed stdout, or its stderr as the error.
fn git(dir: &Path, args: &[&str], policy: &EnvPolicy) -> Result<String> {
    let out = git_command(policy)
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("A/B mode needs git, and `git` could not be run")?;
    if !out.status.success() {
        bail!(
            "{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("(no message)")
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs git in `dir` and says whether it succeeded; its output goes to stderr.
fn git_ok(dir: &Path, args: &[&str], policy: &EnvPolicy) -> bool {
    git_command(policy)
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::io::stderr())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `sha` is a commit object present in the repository at `dir`.
fn has_commit(dir: &Path, sha: &str, policy: &EnvPolicy) -> bool {
    git(
        dir,
        &["cat-file", "-e", &format!("{sha}^{{commit}}")],
        policy,
    )
    .is_ok()
}

/// Makes commit `sha` present, fetching it alone from `origin` when it is
/// not (a depth-1 checkout holds HEAD only).
pub fn ensure_commit(dir: &Path, sha: &str, policy: &EnvPolicy) -> Result<()> {
    if has_commit(dir, sha, policy) {
        return Ok(());
    }
    if !is_sha(sha) {
        bail!("A/B mode: {sha} is not a commit SHA, and is not known here");
    }
    eprintln!(
        "A/B mode: fetching the base commit {sha} from origin (git fetch --no-tags --depth=1)"
    );
    let fetched = git_ok(
        dir,
        &["fetch", "--quiet", "--no-tags", "--depth=1", "origin", sha],
        policy,
    );
    if !fetched || !has_commit(dir, sha, policy) {
        bail!(
            "A/B mode: cannot fetch the base commit {sha} from origin (`git fetch --no-tags --depth=1 origin {sha}` failed; see git's message above). Check out with `fetch-depth: 0`, or turn A/B off with `ab: false`"
        );
    }
    Ok(())
}

/// A full commit SHA (40 hexadecimal digits).
pub fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The parents of commit `rev`, read from the commit object itself (in a
/// depth-1 clone `rev^1` is not there to resolve, but its SHA is).
pub fn parents(dir: &Path, rev: &str, policy: &EnvPolicy) -> Result<Vec<String>> {
    let object = git(dir, &["cat-file", "-p", rev], policy)
        .with_context(|| format!("A/B mode: cannot read commit {rev}"))?;
    Ok(object
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("parent "))
        .map(|p| p.trim().to_string())
        .collect())
}

/// The base commit of a pull request, and how it was chosen. When HEAD is
/// GitHub's test-merge commit (the default checkout of a `pull_request`
/// event: HEAD is `merge_commit_sha`, or a merge whose second parent is the
/// pull request's head), what the pull request changes is exactly HEAD
/// against its first parent. Otherwise (the head commit checked out) it is
/// the merge base of HEAD and `base.sha`, fetching history as needed.
pub fn resolve_pr_base(
    head: &Path,
    pr: &PrCommits,
    policy: &EnvPolicy,
) -> Result<(String, String)> {
    if !is_sha(&pr.base_sha) {
        bail!(
            "A/B mode: the event's pull_request.base.sha {:?} is not a commit SHA",
            pr.base_sha.chars().take(80).collect::<String>()
        );
    }
    let short = |s: &str| s.chars().take(7).collect::<String>();
    let head_commit =
        git(head, &["rev-parse", "HEAD"], policy).context("A/B mode: HEAD is not a commit yet")?;
    let parents = parents(head, "HEAD", policy)?;
    let test_merge = pr.merge_sha.as_deref() == Some(head_commit.as_str())
        || (parents.len() == 2 && parents[1] == pr.head_sha);
    if test_merge {
        if let Some(first) = parents.first() {
            ensure_commit(head, first, policy)?;
            let how = format!(
                "the first parent of the test-merge commit {} (the base branch as the pull request's head {} was merged into it)",
                short(&head_commit),
                short(&pr.head_sha)
            );
            eprintln!(
                "A/B mode: HEAD is the pull request's test-merge commit; its first parent {} is the base",
                short(first)
            );
            return Ok((first.clone(), how));
        }
    }
    ensure_commit(head, &pr.base_sha, policy)?;
    let merge_base = || git(head, &["merge-base", &pr.base_sha, "HEAD"], policy).ok();
    let mut found = merge_base();
    // A shallow clone: fetch more history of both until they meet.
    let shallow =
        || git(head, &["rev-parse", "--is-shallow-repository"], policy).is_ok_and(|s| s == "true");
    for depth in ["--depth=100", "--depth=1000", "--unshallow"] {
        if found.is_some() || !shallow() {
            break;
        }
        eprintln!(
            "A/B mode: shallow clone, fetching more history to find the merge base ({depth})"
        );
        let mut args = vec![
            "fetch",
            "--quiet",
            "--no-tags",
            depth,
            "origin",
            &pr.base_sha,
        ];
        if is_sha(&head_commit) {
            args.push(&head_commit);
        }
        if !git_ok(head, &args, policy) {
            // HEAD may not be on origin (a local commit): the base alone.
            git_ok(head, &args[..args.len() - 1], policy);
        }
        found = merge_base();
    }
    let Some(base) = found else {
        bail!(
            "A/B mode: the pull request's base {} has no common ancestor with HEAD here (check out with `fetch-depth: 0`, or turn A/B off with `ab: false`)",
            pr.base_sha
        );
    };
    let how = format!(
        "the merge base of HEAD {} and the base branch {}",
        short(&head_commit),
        short(&pr.base_sha)
    );
    Ok((base, how))
}

/// Prepares the trees from the current directory; git and the setup
/// command go without what `env_policy` removes.
/// The tree bench-gate runs in without A/B: the git repository's top
/// folder around the current directory, else the current directory.
pub fn current_tree(env_policy: &EnvPolicy) -> Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    Ok(git(&cwd, &["rev-parse", "--show-toplevel"], env_policy)
        .map(PathBuf::from)
        .unwrap_or(cwd))
}

pub fn prepare(source: &BaseSource, env_policy: &EnvPolicy) -> Result<Trees> {
    let git = |dir: &Path, args: &[&str]| git(dir, args, env_policy);
    let cwd = std::env::current_dir()?;
    let toplevel = git(&cwd, &["rev-parse", "--show-toplevel"]).ok();
    match source {
        BaseSource::Dir(dir) => {
            let base = dir
                .canonicalize()
                .with_context(|| format!("--ab-dir {}: no such folder", dir.display()))?;
            let head = toplevel.map(PathBuf::from).unwrap_or(cwd);
            let commit =
                |d: &Path| git(d, &["rev-parse", "HEAD"]).unwrap_or_else(|_| "unknown".to_string());
            Ok(Trees {
                base_commit: commit(&base),
                head_commit: commit(&head),
                requested: dir.display().to_string(),
                base_dir: Some(dir.display().to_string()),
                base_how: None,
                head,
                base,
                env_policy: env_policy.clone(),
                _worktree: None,
            })
        }
        BaseSource::Git(_) | BaseSource::PullRequest(_) => {
            let Some(top) = toplevel else {
                let what = match source {
                    BaseSource::Git(rev) => format!("--ab {rev}"),
                    _ => "A/B mode".to_string(),
                };
                bail!(
                    "{what}: {} is not inside a git repository; use --ab-dir with a prepared base folder instead",
                    cwd.display()
                );
            };
            let head = PathBuf::from(top);
            let head_commit =
                git(&head, &["rev-parse", "HEAD"]).context("A/B mode: HEAD is not a commit yet")?;
            let (requested, base_commit, base_how) = match source {
                BaseSource::PullRequest(pr) => {
                    let (base, how) = resolve_pr_base(&head, pr, env_policy)?;
                    ("the pull request's base".to_string(), base, Some(how))
                }
                BaseSource::Git(rev) => {
                    if is_sha(rev) && !has_commit(&head, rev, env_policy) {
                        ensure_commit(&head, rev, env_policy)?;
                    }
                    git(&head, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
                        .map_err(|_| anyhow::anyhow!(
                            "--ab {rev}: git does not know this revision here. In a GitHub workflow, check out with `fetch-depth: 0` so the base commit is present"
                        ))?;
                    let base = git(&head, &["merge-base", rev, "HEAD"]).map_err(|_| {
                        anyhow::anyhow!(
                            "--ab {rev}: it has no common ancestor with HEAD here (a shallow clone? check out with `fetch-depth: 0`)"
                        )
                    })?;
                    (rev.clone(), base, None)
                }
                BaseSource::Dir(d) => bail!("--ab-dir {}: a folder, not a revision", d.display()),
            };
            // Inside the repository's git folder, so that both trees are on
            // the same file system (a program's start-up time depends on it);
            // the system's temporary folder if that fails.
            let git_dir = git(
                &head,
                &["rev-parse", "--path-format=absolute", "--git-common-dir"],
            )
            .ok()
            .map(PathBuf::from);
            prune_leftovers(&head, git_dir.as_deref(), env_policy);
            let dir = crate::interrupt::launch(|| {
                let mut b = tempfile::Builder::new();
                b.prefix(AB_PREFIX);
                let dir = git_dir
                    .as_ref()
                    .and_then(|g| b.tempdir_in(g).ok())
                    .map_or_else(|| b.tempdir(), Ok)?;
                // Registered before git writes anything, for the interrupt
                // handler; and its owner named, for the next run if this one
                // is killed (SIGKILL runs no handler).
                if let Ok(mut live) = LIVE.lock() {
                    live.push((head.clone(), dir.path().join("base"), env_policy.clone()));
                }
                std::fs::write(
                    dir.path().join(OWNER_FILE),
                    owner_record(std::process::id()),
                )?;
                std::io::Result::Ok(dir)
            })
            .context("A/B mode: cannot create a temporary folder for the base tree")?;
            let path = dir.path().join("base");
            let path_str = path.to_string_lossy().to_string();
            let worktree = Worktree {
                repo: head.clone(),
                path: path.clone(),
                env_policy: env_policy.clone(),
                _dir: dir,
            };
            git(
                &head,
                &[
                    "worktree",
                    "add",
                    "--detach",
                    "--quiet",
                    &path_str,
                    &base_commit,
                ],
            )
            .with_context(|| format!("A/B mode: `git worktree add` of {base_commit} failed"))?;
            Ok(Trees {
                head: head.clone(),
                base: path.clone(),
                requested,
                base_dir: None,
                base_how,
                base_commit,
                head_commit,
                env_policy: env_policy.clone(),
                _worktree: Some(worktree),
            })
        }
    }
}

impl Trees {
    /// Runs `setup` (through `sh -c`) in the base tree, then in the head
    /// tree (see [`Trees::setup_one`]).
    pub fn setup(&self, setup: &str, env: &[(&str, String)]) -> Result<()> {
        self.setup_one(true, setup, env)?;
        self.setup_one(false, setup, env)
    }

    /// Runs `setup` (through `sh -c`) in the base tree (`base`) or the head
    /// tree, with `BENCH_GATE_TREE` set to `base` or `head`,
    /// `BENCH_GATE_TREE_DIR` to the tree's absolute path, and `env` added
    /// (`{tree}` in a value is the tree's path), without the secrets. Its
    /// output goes to stderr; a failure names the tree.
    pub fn setup_one(&self, base: bool, setup: &str, env: &[(&str, String)]) -> Result<()> {
        let (name, dir, commit) = if base {
            ("base", &self.base, &self.base_commit)
        } else {
            ("head", &self.head, &self.head_commit)
        };
        eprintln!("A/B setup in the {name} tree ({}): {setup}", dir.display());
        let mut cmd = Command::new("sh");
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        let tree = dir.to_string_lossy();
        let extra = [
            ("BENCH_GATE_TREE".to_string(), name.to_string()),
            ("BENCH_GATE_TREE_DIR".to_string(), tree.to_string()),
        ]
        .into_iter()
        .chain(
            env.iter()
                .map(|(k, v)| (k.to_string(), v.replace("{tree}", &tree))),
        );
        env::apply(&mut cmd, &self.env_policy, extra);
        cmd.arg("-c")
            .arg(setup)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(std::io::stderr());
        // In a tracked process group of its own: an interrupt kills it
        // and whatever it started.
        let mut child = crate::measure::spawn_tracked(&mut cmd)
            .with_context(|| format!("A/B setup in the {name} tree: cannot run sh"))?;
        let waited = child.wait();
        crate::measure::untrack(child.id() as i32);
        crate::interrupt::wait_if_interrupted();
        let status =
            waited.with_context(|| format!("A/B setup in the {name} tree: cannot run sh"))?;
        if !status.success() {
            bail!(
                "A/B setup failed in the {name} tree ({}, commit {}): `{setup}` {}",
                dir.display(),
                commit,
                match status.code() {
                    Some(c) => format!("exited with status {c}"),
                    None => "was killed by a signal".to_string(),
                }
            );
        }
        Ok(())
    }

    /// `path` (absolute, or relative to the current directory) moved from the
    /// head tree into the base tree.
    pub fn in_base(&self, path: &Path) -> Result<PathBuf> {
        let abs = self.in_head(path)?;
        let head = self.head.canonicalize().unwrap_or(self.head.clone());
        let rel = abs.strip_prefix(&head).with_context(|| {
            format!(
                "A/B mode: {} is outside the head tree {}",
                path.display(),
                head.display()
            )
        })?;
        Ok(self.base.join(rel))
    }

    /// `path` (absolute, or relative to the current directory) made absolute,
    /// its folder with symbolic links resolved, as the head tree's path is.
    pub fn in_head(&self, path: &Path) -> Result<PathBuf> {
        let abs = std::path::absolute(path)?;
        Ok(abs
            .parent()
            .and_then(|p| p.canonicalize().ok())
            .and_then(|p| abs.file_name().map(|f| p.join(f)))
            .unwrap_or(abs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_record_names_a_live_process_or_not() {
        let me = owner_record(std::process::id());
        assert!(owner_alive(&me), "{me}");
        assert!(!owner_alive(""));
        assert!(!owner_alive("not-a-pid"));
        assert!(!owner_alive("0"));
        #[cfg(target_os = "linux")]
        {
            // The same pid with another start time: a reused pid.
            assert!(!owner_alive(&format!("{} 1", std::process::id())));
            // A process that has ended.
            let mut c = std::process::Command::new("true").spawn().unwrap();
            let pid = c.id();
            let record = owner_record(pid);
            c.wait().unwrap();
            assert!(!owner_alive(&record), "{record}");
        }
    }
}
