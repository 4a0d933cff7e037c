//! What an iteration is checked for after it ran, untimed: a scenario's
//! `expect:` (how many files a glob matches) and `verify:` (a command that
//! exits 0), and the counters of the services' `usage:` endpoints read
//! around it. A benchmark never times a run that did not do its job.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use super::runner::{display_command, substitute};
use crate::model::Usage;
use crate::workload::{FileCount, Scenario};

/// A check that failed: which (`expect.files`, `verify`), why, and the last
/// lines of the check's own stderr (for `verify`).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckFailed {
    pub check: String,
    pub why: String,
    pub stderr_tail: String,
}

/// At most this many entries are looked at for one glob.
const MAX_WALKED: usize = 200_000;

/// When the iteration numbered `global` starts, by the clock of the file
/// system `expect.files` looks at (`None` without `expect.files`): taken
/// just before the command runs, so that files left by earlier runs (the
/// warm-up's, or the checkout's) do not count for it.
pub fn iteration_start(s: &Scenario, global: u32, run_dir: &Path) -> Option<SystemTime> {
    let files = s.checks.files.as_ref()?;
    let cwd = s.command.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    let pattern = substitute(&files.glob, global, run_dir);
    let mut dir = glob_root(&cwd, &pattern).0;
    while !dir.is_dir() {
        if !dir.pop() {
            break;
        }
    }
    Some(fs_clock_start(&dir).unwrap_or_else(|| SystemTime::now() - CLOCK_TOLERANCE))
}

/// Without a file to read the file system's clock from, files modified
/// this long before the start still count (its timestamps lag the system
/// clock by up to a scheduler tick).
const CLOCK_TOLERANCE: Duration = Duration::from_millis(20);

/// The file system's "now" in `dir`: the modification time of a scratch
/// file written there (and removed at once). Waits (at most 20 ms) for
/// that clock to tick once, so that a file written before the start has
/// an older time than any written after it; on a file system with coarser
/// timestamps (a second or two), files of the same tick as the start still
/// count (the tolerance of its granularity).
fn fs_clock_start(dir: &Path) -> Option<SystemTime> {
    let probe = dir.join(format!(".bench-gate-clock-{}", std::process::id()));
    let now = || -> Option<SystemTime> {
        std::fs::write(&probe, b"x").ok()?;
        let t = std::fs::metadata(&probe).and_then(|m| m.modified()).ok();
        let _ = std::fs::remove_file(&probe);
        t
    };
    let first = now()?;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(1));
        let t = now()?;
        if t > first {
            return Some(t);
        }
    }
    Some(first)
}

/// Runs the scenario's checks for the iteration numbered `global` (the
/// `{iteration}` its command saw): `expect` first, then `verify`. Only
/// files modified at or after `since` (from [`iteration_start`]) count.
pub fn run_checks(
    s: &Scenario,
    global: u32,
    run_dir: &Path,
    since: Option<SystemTime>,
) -> Result<(), CheckFailed> {
    let cwd = s.command.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    if let Some(files) = &s.checks.files {
        let pattern = substitute(&files.glob, global, run_dir);
        let found = count_matches_since(&cwd, &pattern, since);
        if let Some(why) = count_problem(files, found) {
            return Err(CheckFailed {
                check: "expect.files".into(),
                why: format!(
                    "{found} file(s) match '{pattern}', {why}{}",
                    if since.is_some() {
                        " (files modified before the run started do not count)"
                    } else {
                        ""
                    }
                ),
                stderr_tail: String::new(),
            });
        }
    }
    if let Some(argv) = &s.checks.verify {
        let argv: Vec<String> = argv
            .iter()
            .map(|a| substitute(a, global, run_dir))
            .collect();
        verify(s, &argv, global, run_dir, &cwd)?;
    }
    Ok(())
}

fn count_problem(f: &FileCount, found: u64) -> Option<String> {
    match (f.min, f.max) {
        (Some(lo), Some(hi)) if lo == hi && found != lo => Some(format!("expected {lo}")),
        (Some(lo), _) if found < lo => Some(format!("expected at least {lo}")),
        (_, Some(hi)) if found > hi => Some(format!("expected at most {hi}")),
        _ => None,
    }
}

#[cfg(unix)]
fn verify(
    s: &Scenario,
    argv: &[String],
    global: u32,
    run_dir: &Path,
    cwd: &Path,
) -> Result<(), CheckFailed> {
    use wait_timeout::ChildExt;
    let shown = display_command(argv);
    let fail = |why: String, stderr_tail: String| CheckFailed {
        check: format!("verify `{shown}`"),
        why,
        stderr_tail,
    };
    let mut cmd = Command::new(&argv[0]);
    let env: Vec<(String, String)> = s
        .command
        .env
        .iter()
        .map(|(k, v)| (k.clone(), substitute(v, global, run_dir)))
        .collect();
    super::env::apply(&mut cmd, &s.command.env_policy, env);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = super::spawn_tracked(&mut cmd)
        .map_err(|e| fail(format!("could not be started: {e}"), String::new()))?;
    let pgid = child.id() as i32;
    let mut stderr = child.stderr.take().expect("piped");
    let reader =
        std::thread::spawn(move || super::read_tail(&mut stderr, super::OUTPUT_TAIL_BYTES));
    let waited = child.wait_timeout(s.timeout);
    super::kill_group(pgid);
    super::untrack(pgid);
    let status = match waited {
        Ok(Some(status)) => Some(status),
        _ => {
            let _ = child.wait();
            None
        }
    };
    let tail = super::tail(&reader.join().unwrap_or_default());
    match status {
        None => Err(fail(
            format!(
                "timed out after {:.1} s and was killed",
                s.timeout.as_secs_f64()
            ),
            tail,
        )),
        Some(st) if st.success() => Ok(()),
        Some(st) => Err(fail(
            match st.code() {
                Some(c) => format!("exited with status {c}"),
                None => "was killed by a signal".into(),
            },
            tail,
        )),
    }
}

#[cfg(not(unix))]
fn verify(
    _s: &Scenario,
    argv: &[String],
    _global: u32,
    _run_dir: &Path,
    _cwd: &Path,
) -> Result<(), CheckFailed> {
    Err(CheckFailed {
        check: format!("verify `{}`", display_command(argv)),
        why: "needs Linux or macOS".into(),
        stderr_tail: String::new(),
    })
}

/// How many files (not folders) `pattern` matches, relative to `cwd` unless
/// absolute (glob syntax: [`crate::workload::config::file_glob`]). The walk
/// starts at the pattern's longest folder without wildcards. Symbolic
/// links are not followed. A pattern that is not a glob matches nothing
/// (patterns are checked when the config is loaded).
pub fn count_matches(cwd: &Path, pattern: &str) -> u64 {
    count_matches_since(cwd, pattern, None)
}

/// The pattern's longest folder without wildcards (from `cwd` unless
/// absolute), and the rest of it.
fn glob_root<'a>(cwd: &Path, pattern: &'a str) -> (PathBuf, Vec<&'a str>) {
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let wild = |p: &str| p.contains(['*', '?', '[', '{']);
    let fixed = parts.iter().take_while(|p| !wild(p)).count();
    let mut root = if pattern.starts_with('/') {
        PathBuf::from("/")
    } else {
        cwd.to_path_buf()
    };
    root.extend(&parts[..fixed]);
    (root, parts[fixed..].to_vec())
}

/// [`count_matches`], counting only files modified at or after `since`.
fn count_matches_since(cwd: &Path, pattern: &str, since: Option<SystemTime>) -> u64 {
    let fresh = |p: &Path| match since {
        None => true,
        Some(t) => std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= t),
    };
    let (root, rest) = glob_root(cwd, pattern);
    if rest.is_empty() {
        return u64::from(root.is_file() && fresh(&root));
    }
    let Ok(glob) = crate::workload::config::file_glob(&rest.join("/")) else {
        return 0;
    };
    let mut walk = walkdir::WalkDir::new(&root).min_depth(1);
    if !rest.iter().any(|p| p.contains("**")) {
        walk = walk.max_depth(rest.len());
    }
    let mut n = 0;
    for entry in walk.into_iter().take(MAX_WALKED).flatten() {
        if !entry.file_type().is_file() {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(&root) {
            if glob.is_match(rel) && fresh(entry.path()) {
                n += 1;
            }
        }
    }
    n
}

/// The cumulative counters of every `usage:` endpoint, summed; an error
/// names the endpoint.
pub fn read_usage(urls: &[String]) -> Result<Usage, CheckFailed> {
    static CLIENT: std::sync::OnceLock<Option<reqwest::blocking::Client>> =
        std::sync::OnceLock::new();
    #[derive(serde::Deserialize)]
    struct Counters {
        requests: u64,
        prompt_tokens: u64,
        completion_tokens: u64,
    }
    let mut total = Usage::default();
    for url in urls {
        let fail = |why: String| CheckFailed {
            check: format!("usage endpoint {url}"),
            why,
            stderr_tail: String::new(),
        };
        let client = CLIENT
            .get_or_init(|| {
                reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .ok()
            })
            .as_ref()
            .ok_or_else(|| fail("cannot create an HTTP client".into()))?;
        let resp = client
            .get(url)
            .send()
            .map_err(|e| fail(format!("cannot be read: {e}")))?;
        if !resp.status().is_success() {
            return Err(fail(format!("answered {}", resp.status())));
        }
        let body = resp
            .bytes()
            .map_err(|e| fail(format!("cannot be read: {e}")))?;
        let c: Counters = serde_json::from_slice(&body[..body.len().min(64 * 1024)]).map_err(|e| {
            fail(format!(
                "did not answer {{\"requests\", \"prompt_tokens\", \"completion_tokens\"}} as numbers: {e}"
            ))
        })?;
        total.api_calls = total.api_calls.saturating_add(c.requests);
        total.prompt_tokens = total.prompt_tokens.saturating_add(c.prompt_tokens);
        total.completion_tokens = total.completion_tokens.saturating_add(c.completion_tokens);
    }
    Ok(total)
}

/// What happened between two readings of the counters.
pub fn usage_between(before: Usage, after: Usage) -> Usage {
    Usage {
        api_calls: after.api_calls.saturating_sub(before.api_calls),
        prompt_tokens: after.prompt_tokens.saturating_sub(before.prompt_tokens),
        completion_tokens: after
            .completion_tokens
            .saturating_sub(before.completion_tokens),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_count_files_at_any_depth() {
        let d = tempfile::tempdir().unwrap();
        for p in [
            "out/1/a/persona.json",
            "out/1/b/persona.json",
            "out/1/persona.json",
            "out/2/persona.json",
            "out/1/c/other.json",
        ] {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "{}").unwrap();
        }
        std::fs::create_dir_all(d.path().join("out/1/persona.json.d")).unwrap();
        assert_eq!(count_matches(d.path(), "out/1/**/persona.json"), 3);
        assert_eq!(count_matches(d.path(), "out/*/persona.json"), 2);
        assert_eq!(count_matches(d.path(), "out/**/*.json"), 5);
        assert_eq!(count_matches(d.path(), "out/1/persona.json"), 1);
        assert_eq!(count_matches(d.path(), "out/3/**/persona.json"), 0);
        assert_eq!(count_matches(d.path(), "out/[12]/persona.json"), 2);
        assert_eq!(count_matches(d.path(), "out/1/{a,b}/persona.json"), 2);
        assert_eq!(count_matches(d.path(), "out/?/p*.json"), 2);
        assert_eq!(count_matches(d.path(), "out/1/[/x"), 0);
        let abs = format!("{}/out/**/persona.json", d.path().display());
        assert_eq!(count_matches(Path::new("/nonexistent"), &abs), 4);
    }

    #[test]
    fn only_files_written_since_the_start_count() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("out")).unwrap();
        std::fs::write(d.path().join("out/old.json"), "{}").unwrap();
        let since = fs_clock_start(&d.path().join("out")).unwrap();
        assert_eq!(count_matches_since(d.path(), "out/*.json", Some(since)), 0);
        assert_eq!(
            count_matches_since(d.path(), "out/old.json", Some(since)),
            0
        );
        std::fs::write(d.path().join("out/new.json"), "{}").unwrap();
        assert_eq!(count_matches_since(d.path(), "out/*.json", Some(since)), 1);
        assert_eq!(
            count_matches_since(d.path(), "out/new.json", Some(since)),
            1
        );
        assert_eq!(count_matches(d.path(), "out/*.json"), 2);
        // The scratch file is gone.
        assert_eq!(count_matches(d.path(), "out/*"), 2);
    }

    #[test]
    fn counts_against_count_min_and_max() {
        let f = |min, max| FileCount {
            glob: "x".into(),
            min,
            max,
        };
        assert_eq!(count_problem(&f(Some(3), Some(3)), 3), None);
        assert_eq!(
            count_problem(&f(Some(3), Some(3)), 0).as_deref(),
            Some("expected 3")
        );
        assert_eq!(
            count_problem(&f(Some(1), None), 0).as_deref(),
            Some("expected at least 1")
        );
        assert_eq!(
            count_problem(&f(None, Some(2)), 5).as_deref(),
            Some("expected at most 2")
        );
        assert_eq!(count_problem(&f(Some(1), Some(4)), 2), None);
    }

    #[test]
    fn usage_is_the_difference_of_the_counters() {
        let u = |a, p, c| Usage {
            api_calls: a,
            prompt_tokens: p,
            completion_tokens: c,
        };
        assert_eq!(usage_between(u(3, 100, 50), u(5, 180, 90)), u(2, 80, 40));
        // A restarted service never gives a negative count.
        assert_eq!(usage_between(u(3, 100, 50), u(1, 10, 5)), u(0, 0, 0));
    }
}
