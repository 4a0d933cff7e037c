//! Counted measures: a scenario's command run under Valgrind, counting what
//! does not move when nothing changed. `instructions` runs it under
//! cachegrind (`--cache-sim=no`) and sums `Ir` over every process it ran;
//! `allocations` runs it under DHAT and sums bytes and blocks allocated and
//! bytes at the heap's peak. Children are traced (a pyenv shim or `sh -c`
//! execs the real program), and Valgrind's own output goes to files of its
//! own, apart from the command's.
//!
//! One run decides; a second checks that the count is deterministic. Two
//! counts further apart than [`TOLERANCE_PCT`] are not gated: the metric is
//! recorded as skipped with a warning saying why. Without Valgrind (not on
//! PATH, or not Linux) the metrics are recorded as skipped with the reason.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::runner::{display_command, invocation};
use super::{measure_once, Failure};
use crate::model::{Counted, Direction, Metric, Named, Skipped};
use crate::workload::Scenario;

/// Two runs whose counts differ by more than this (in percent of the
/// smaller) are "not deterministic".
pub const TOLERANCE_PCT: f64 = 0.01;

/// How much longer than the scenario's own timeout a run under Valgrind
/// may take (measured here: 27–190× slower than the program).
pub const TIMEOUT_FACTOR: u32 = 100;

/// The metrics a counted measure reports for `scenario`, with their units.
pub fn metric_names(scenario: &str, c: Counted) -> Vec<(String, &'static str)> {
    match c {
        Counted::Instructions => vec![(format!("{scenario}.instructions"), "instructions")],
        Counted::Allocations => vec![
            (format!("{scenario}.alloc_bytes"), "bytes"),
            (format!("{scenario}.alloc_blocks"), "blocks"),
            (format!("{scenario}.heap_peak_bytes"), "bytes"),
        ],
    }
}

/// The counted metrics of one scenario, and those asked for but skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub metrics: Vec<(String, Metric)>,
    pub skipped: Vec<(String, Skipped)>,
}

/// Valgrind failed on the scenario's command (or could not count it).
#[derive(Debug, Clone, PartialEq)]
pub struct CountFailed {
    pub scenario: String,
    pub tool: &'static str,
    pub command: String,
    pub why: String,
    /// The last lines of the command's stderr and of Valgrind's log.
    pub stderr_tail: String,
    pub log_tail: String,
}

impl fmt::Display for CountFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario '{}' failed under Valgrind ({}): `{}` {}",
            self.scenario, self.tool, self.command, self.why
        )?;
        for (what, tail) in [
            ("its stderr", &self.stderr_tail),
            ("Valgrind's log", &self.log_tail),
        ] {
            if !tail.trim().is_empty() {
                write!(f, "\nlast lines of {what}:")?;
                for line in tail.lines() {
                    write!(f, "\n  | {line}")?;
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for CountFailed {}

/// Where Valgrind is, or why it cannot run here: not Linux, or not on the
/// `PATH` the scenario's command would get.
pub fn find(s: &Scenario) -> Result<PathBuf, String> {
    if !cfg!(target_os = "linux") {
        return Err(format!(
            "Valgrind counts are measured on Linux only (this is {})",
            std::env::consts::OS
        ));
    }
    let path_var = s
        .command
        .env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    let cwd = s
        .command
        .cwd
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    which::which_in("valgrind", Some(path_var), cwd)
        .map_err(|_| "valgrind not found on PATH".to_string())
}

/// `valgrind --version` of the Valgrind on this process's PATH, if any.
pub fn version() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let exe = which::which("valgrind").ok()?;
    let out = std::process::Command::new(exe)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !v.is_empty()).then_some(v)
}

/// Counts every measure `s` asks for (none: nothing runs). Progress and
/// timings go to stderr: these runs add to the job's time.
pub fn count(s: &Scenario) -> Result<Counts, Box<CountFailed>> {
    let mut out = Counts::default();
    if s.counted.is_empty() {
        return Ok(out);
    }
    let run_dir = tempfile::Builder::new()
        .prefix("bench-gate-run-")
        .tempdir()
        .map_err(|e| {
            Box::new(CountFailed {
                scenario: s.name.clone(),
                tool: "valgrind",
                command: display_command(&s.command.argv),
                why: format!("could not run: cannot create a temporary folder: {e}"),
                stderr_tail: String::new(),
                log_tail: String::new(),
            })
        })?;
    let run_dir = run_dir.path();
    let valgrind = match find(s) {
        Ok(v) => v,
        Err(reason) => {
            for c in &s.counted {
                for (name, _) in metric_names(&s.name, *c) {
                    out.skipped.push((
                        name,
                        Skipped {
                            reason: reason.clone(),
                            warning: false,
                        },
                    ));
                }
            }
            eprintln!(
                "skipped: scenario '{}': {} not measured: {reason}",
                s.name,
                s.counted
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(" and ")
            );
            return Ok(out);
        }
    };
    for &c in &s.counted {
        let started = Instant::now();
        let first = run_once(s, c, &valgrind, run_dir)?;
        let second = run_once(s, c, &valgrind, run_dir)?;
        let names = metric_names(&s.name, c);
        let shown: Vec<String> = names
            .iter()
            .zip(&first)
            .map(|((n, u), v)| format!("{n} = {v:.0} {u}"))
            .collect();
        for (((name, unit), a), b) in names.into_iter().zip(first).zip(second) {
            let spread = spread_pct(a, b);
            if spread > TOLERANCE_PCT {
                let reason = not_deterministic(c, a, b, spread);
                eprintln!("warning: {name}: {reason}");
                out.skipped.push((
                    name,
                    Skipped {
                        reason,
                        warning: true,
                    },
                ));
                continue;
            }
            out.metrics.push((
                name,
                Metric {
                    value: a,
                    unit: unit.to_string(),
                    direction: Direction::Lower,
                    scenario: Some(s.name.clone()),
                    measure: Some(c.name().to_string()),
                    statistic: None,
                    // One run decides: no samples, so compare uses the threshold rule.
                    samples: Vec::new(),
                },
            ));
        }
        eprintln!(
            "valgrind: scenario '{}': {} counted in {:.1} s (2 runs under {}, part of this job's time): {}",
            s.name,
            c.name(),
            started.elapsed().as_secs_f64(),
            tool(c),
            shown.join(", ")
        );
    }
    Ok(out)
}

fn tool(c: Counted) -> &'static str {
    match c {
        Counted::Instructions => "cachegrind",
        Counted::Allocations => "dhat",
    }
}

/// How far apart two counts are, in percent of the smaller (0 for two 0s).
pub fn spread_pct(a: f64, b: f64) -> f64 {
    let lo = a.min(b);
    if a == b {
        0.0
    } else if lo <= 0.0 {
        100.0
    } else {
        (a - b).abs() / lo * 100.0
    }
}

/// The reason a metric whose two runs disagree is not gated.
pub fn not_deterministic(c: Counted, a: f64, b: f64, spread: f64) -> String {
    let threads = match c {
        Counted::Instructions => "thread scheduling (Valgrind serialises threads: use one thread)",
        Counted::Allocations => "thread scheduling",
    };
    format!(
        "not deterministic: two runs counted {a:.0} and {b:.0} ({spread:.4} % apart; tolerance {TOLERANCE_PCT} %), so it is not gated; likely causes: randomness (/dev/urandom, hash seeds: PYTHONHASHSEED), the clock, {threads}, or input that changes between runs"
    )
}

/// The scenario's command under `tool`, with Valgrind's output in `dir`.
fn valgrind_args(c: Counted, dir: &Path) -> Vec<OsString> {
    match c {
        Counted::Instructions => tool_args(
            &["--tool=cachegrind", "--cache-sim=no"],
            "--cachegrind-out-file=",
            dir,
        ),
        Counted::Allocations => tool_args(&["--tool=dhat"], "--dhat-out-file=", dir),
    }
}

/// Valgrind's arguments: the tool's, its out files (`out.%p`) and logs
/// (`log.%p`) in `dir`, children traced.
pub(super) fn tool_args(tool: &[&str], out_flag: &str, dir: &Path) -> Vec<OsString> {
    let at = |name: &str, file: &str| {
        let mut s = OsString::from(name);
        s.push(dir.join(file).as_os_str());
        s
    };
    let mut args: Vec<OsString> = tool.iter().map(OsString::from).collect();
    args.push(at(out_flag, "out.%p"));
    args.extend(["--trace-children=yes".into(), at("--log-file=", "log.%p")]);
    args
}

/// Variables set for these runs unless the scenario sets them.
fn default_env(c: Counted) -> &'static [(&'static str, &'static str)] {
    match c {
        Counted::Instructions => &[("PYTHONHASHSEED", "0")],
        Counted::Allocations => &[("PYTHONHASHSEED", "0"), ("PYTHONMALLOC", "malloc")],
    }
}

/// The scenario's command under Valgrind's `c` tool, its output in `out`.
fn under_valgrind(
    s: &Scenario,
    c: Counted,
    valgrind: &Path,
    run_dir: &Path,
    out: &Path,
) -> super::Invocation {
    under_tool(s, valgrind_args(c, out), c, valgrind, run_dir)
}

/// The scenario's command under Valgrind with `args`, with the variables
/// `env_of` sets and its timeout.
pub(super) fn under_tool(
    s: &Scenario,
    mut args: Vec<OsString>,
    env_of: Counted,
    valgrind: &Path,
    run_dir: &Path,
) -> super::Invocation {
    let mut inv = invocation(s, 0, run_dir);
    args.push("--".into());
    args.push(std::mem::replace(&mut inv.program, valgrind.into()));
    args.append(&mut inv.args);
    inv.args = args;
    for (k, v) in default_env(env_of) {
        if !s.command.env.contains_key(*k) {
            inv.env.push(((*k).into(), (*v).into()));
        }
    }
    inv.timeout = s
        .timeout
        .saturating_mul(TIMEOUT_FACTOR)
        .max(Duration::from_secs(60));
    inv
}

/// One run under Valgrind: the counts of [`metric_names`], in order.
fn run_once(
    s: &Scenario,
    c: Counted,
    valgrind: &Path,
    run_dir: &Path,
) -> Result<Vec<f64>, Box<CountFailed>> {
    let fail = |why: String, stderr_tail: String, log_tail: String| {
        Box::new(CountFailed {
            scenario: s.name.clone(),
            tool: tool(c),
            command: display_command(&s.command.argv),
            why,
            stderr_tail,
            log_tail,
        })
    };
    let dir = tempfile::Builder::new()
        .prefix("bench-gate-valgrind-")
        .tempdir()
        .map_err(|e| {
            fail(
                format!("could not run: cannot create a temporary folder: {e}"),
                String::new(),
                String::new(),
            )
        })?;
    let inv = under_valgrind(s, c, valgrind, run_dir, dir.path());
    run_invocation(s, tool(c), &inv, dir.path())?;
    let log_tail = log_tail(dir.path());
    let parsed = match c {
        Counted::Instructions => read_outputs(dir.path(), parse_cachegrind),
        Counted::Allocations => read_outputs(dir.path(), parse_dhat),
    };
    parsed.map_err(|e| fail(format!("ran, but {e}"), String::new(), log_tail))
}

/// Runs `inv` (the scenario under Valgrind's `tool`, its logs in `dir`).
pub(super) fn run_invocation(
    s: &Scenario,
    tool: &'static str,
    inv: &super::Invocation,
    dir: &Path,
) -> Result<(), Box<CountFailed>> {
    if let Err(f) = measure_once(inv) {
        let why = match f.failure {
            Failure::Exit(code) => format!("exited with status {code}"),
            other => other.to_string(),
        };
        return Err(Box::new(CountFailed {
            scenario: s.name.clone(),
            tool,
            command: display_command(&s.command.argv),
            why,
            stderr_tail: f.stderr_tail,
            log_tail: log_tail(dir),
        }));
    }
    Ok(())
}

/// The last 10 lines of Valgrind's logs in `dir`.
pub(super) fn log_tail(dir: &Path) -> String {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("log."))
        })
        .collect();
    logs.sort();
    let mut text = String::new();
    for p in logs {
        if let Ok(f) = std::fs::File::open(&p) {
            text.push_str(&String::from_utf8_lossy(&super::read_tail(f, 16 * 1024)));
        }
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// Every `out.*` file in `dir` parsed by `parse`, summed field by field.
fn read_outputs(
    dir: &Path,
    parse: fn(&str) -> Result<Vec<f64>, String>,
) -> Result<Vec<f64>, String> {
    let mut total: Vec<f64> = Vec::new();
    for f in out_files(dir)? {
        let text = crate::fsutil::read_capped_string(&f, crate::fsutil::MAX_DATA_BYTES)
            .map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let v = parse(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        if total.is_empty() {
            total = v;
        } else {
            total.iter_mut().zip(v).for_each(|(t, x)| *t += x);
        }
    }
    Ok(total)
}

/// The `out.*` files Valgrind wrote in `dir` (one per process), sorted.
pub(super) fn out_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("its output folder cannot be read: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("out."))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("Valgrind wrote no output file".into());
    }
    Ok(files)
}

/// The `Ir` total of a cachegrind (or callgrind) out file: the `summary:`
/// (or `totals:`) line, at the `Ir` column of `events:`.
pub fn parse_cachegrind(text: &str) -> Result<Vec<f64>, String> {
    Ok(vec![crate::import::event_totals(text)?
        .get("Ir")
        .copied()
        .ok_or("its events hold no Ir column")?])
}

/// DHAT's JSON: bytes and blocks allocated over the run, and bytes live at
/// the heap's peak (t-gmax), summed over its program points.
pub fn parse_dhat(text: &str) -> Result<Vec<f64>, String> {
    #[derive(serde::Deserialize)]
    struct Dhat {
        #[serde(rename = "dhatFileVersion")]
        _version: u32,
        mode: String,
        pps: Vec<Pp>,
    }
    #[derive(serde::Deserialize)]
    struct Pp {
        tb: u64,
        tbk: u64,
        #[serde(default)]
        gb: u64,
    }
    let d: Dhat = serde_json::from_str(text).map_err(|e| format!("not DHAT output: {e}"))?;
    if d.mode != "heap" {
        return Err(format!("DHAT ran in mode {:?}, not heap", d.mode));
    }
    let sum = |f: fn(&Pp) -> u64| d.pps.iter().map(f).sum::<u64>() as f64;
    Ok(vec![sum(|p| p.tb), sum(|p| p.tbk), sum(|p| p.gb)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counted_metric_may_be_skipped() {
        for c in [Counted::Instructions, Counted::Allocations] {
            for (name, _) in metric_names("s", c) {
                assert!(crate::model::counted_metric_name(&name), "{name}");
            }
        }
    }

    #[test]
    fn cachegrind_totals_come_from_the_summary_at_the_ir_column() {
        let cg = "desc: I1 cache: x\ncmd: /bin/echo hi\nevents: Ir\nfl=a.c\nfn=main\n3 10\nsummary: 304430\n";
        assert_eq!(parse_cachegrind(cg).unwrap(), [304430.0]);
        let callgrind = "version: 1\nevents: Dr Ir\nfn=(1) main\n3 1 2\ntotals: 7 1234\n";
        assert_eq!(parse_cachegrind(callgrind).unwrap(), [1234.0]);
        assert!(parse_cachegrind("events: Ir\n")
            .unwrap_err()
            .contains("summary"));
        assert!(parse_cachegrind("summary: 1\n")
            .unwrap_err()
            .contains("events"));
        assert!(parse_cachegrind("events: Dr\nsummary: 1\n")
            .unwrap_err()
            .contains("no Ir"));
        assert!(parse_cachegrind("events: Ir\nsummary: -5\n")
            .unwrap_err()
            .contains("line 2"));
    }

    #[test]
    fn dhat_sums_program_points() {
        let j = r#"{"dhatFileVersion":2,"mode":"heap","pps":[{"tb":60,"tbk":12,"gb":0},{"tb":40,"tbk":1,"gb":40}]}"#;
        assert_eq!(parse_dhat(j).unwrap(), [100.0, 13.0, 40.0]);
        assert!(
            parse_dhat(r#"{"dhatFileVersion":2,"mode":"copy","pps":[]}"#)
                .unwrap_err()
                .contains("copy")
        );
        assert!(parse_dhat("{").unwrap_err().starts_with("not DHAT output"));
    }

    fn scenario(env: &[(&str, &str)]) -> Scenario {
        Scenario {
            name: "s".into(),
            command: crate::workload::CommandSpec {
                argv: vec!["python3".into(), "-c".into(), "pass".into()],
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                cwd: None,
                env_policy: Default::default(),
            },
            iterations: 1,
            warmup: 0,
            timeout: Duration::from_secs(10),
            metrics: Vec::new(),
            counted: vec![Counted::Instructions],
            checks: Default::default(),
            usage: Vec::new(),
        }
    }

    #[test]
    fn the_command_runs_under_the_tool_with_children_traced_and_output_apart() {
        let out = Path::new("/tmp/vg");
        let vg = Path::new("/usr/bin/valgrind");
        let inv = under_valgrind(&scenario(&[]), Counted::Instructions, vg, out, out);
        assert_eq!(inv.program, "/usr/bin/valgrind");
        let args: Vec<String> = inv
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--tool=cachegrind",
                "--cache-sim=no",
                "--cachegrind-out-file=/tmp/vg/out.%p",
                "--trace-children=yes",
                "--log-file=/tmp/vg/log.%p",
                "--",
                "python3",
                "-c",
                "pass"
            ]
        );
        assert_eq!(inv.timeout, Duration::from_secs(1000));
        let env = |inv: &super::super::Invocation| -> Vec<(String, String)> {
            inv.env
                .iter()
                .map(|(k, v)| (k.to_string_lossy().into(), v.to_string_lossy().into()))
                .collect()
        };
        assert_eq!(env(&inv), [("PYTHONHASHSEED".into(), "0".into())]);
        // DHAT: CPython's allocator off too; what the scenario sets stays.
        let inv = under_valgrind(
            &scenario(&[("PYTHONHASHSEED", "7")]),
            Counted::Allocations,
            vg,
            out,
            out,
        );
        assert_eq!(inv.args[0], "--tool=dhat");
        assert_eq!(inv.args[1], "--dhat-out-file=/tmp/vg/out.%p");
        assert_eq!(
            env(&inv),
            [
                ("PYTHONHASHSEED".into(), "7".into()),
                ("PYTHONMALLOC".into(), "malloc".into())
            ]
        );
    }

    #[test]
    fn spread_is_relative_to_the_smaller_count() {
        assert_eq!(spread_pct(100.0, 100.0), 0.0);
        assert!((spread_pct(100.0, 101.0) - 1.0).abs() < 1e-9);
        assert!((spread_pct(101.0, 100.0) - 1.0).abs() < 1e-9);
        assert_eq!(spread_pct(0.0, 3.0), 100.0);
        assert!(spread_pct(1e9, 1e9 + 50.0) < TOLERANCE_PCT);
        assert!(spread_pct(1e9, 1e9 + 1e6) > TOLERANCE_PCT);
    }
}
