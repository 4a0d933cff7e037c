//! Running a scenario: warm-up runs (executed and kept apart), then measured
//! iterations. A failing iteration fails the scenario; it is never a sample.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use super::progress::Progress;
use super::{measure_once, Failure, Invocation};
use crate::model::Sample;
use crate::workload::Scenario;

/// Raw measurements of one scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioRun {
    pub samples: Vec<Sample>,
    pub warmup_samples: Vec<Sample>,
    /// Harness overhead per measured iteration, in ms.
    pub overhead_ms: Vec<f64>,
    /// Counted under Valgrind (once per scenario, see [`super::valgrind`]).
    pub counts: super::valgrind::Counts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFailed {
    pub scenario: String,
    pub command: String,
    /// 1-based; counts warm-up runs separately.
    pub iteration: u32,
    pub warmup: bool,
    pub failure: Failure,
    pub stderr_tail: String,
}

impl fmt::Display for ScenarioFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario '{}' failed on {} {}: `{}` {}",
            self.scenario,
            if self.warmup {
                "warm-up run"
            } else {
                "iteration"
            },
            self.iteration,
            self.command,
            self.failure
        )?;
        let whose = if matches!(self.failure, Failure::Check(_)) {
            "the check's"
        } else {
            "its"
        };
        if self.stderr_tail.trim().is_empty() {
            if matches!(self.failure, Failure::Check(_)) {
                Ok(())
            } else {
                write!(f, " (it wrote nothing to stderr)")
            }
        } else {
            write!(f, "; last lines of {whose} stderr:")?;
            for line in self.stderr_tail.lines() {
                write!(f, "\n  | {line}")?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for ScenarioFailed {}

pub(super) fn substitute(text: &str, iteration: u32, run_dir: &Path) -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "bench-gate".into());
    text.replace("{iteration}", &iteration.to_string())
        .replace("{run_dir}", &run_dir.display().to_string())
        .replace("{bench_gate}", &exe)
}

/// Builds the invocation for iteration `i`.
pub fn invocation(s: &Scenario, i: u32, run_dir: &Path) -> Invocation {
    let argv: Vec<String> = s
        .command
        .argv
        .iter()
        .map(|a| substitute(a, i, run_dir))
        .collect();
    Invocation {
        program: OsString::from(&argv[0]),
        args: argv[1..].iter().map(OsString::from).collect(),
        env: s
            .command
            .env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(substitute(v, i, run_dir))))
            .collect(),
        env_policy: s.command.env_policy.clone(),
        cwd: s.command.cwd.clone(),
        timeout: s.timeout,
    }
}

/// Shell-like rendering of a command line for messages.
pub fn display_command(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh temporary folder for the scenario's `{run_dir}` (removed on an
/// interrupt too).
pub fn run_dir(s: &Scenario) -> Result<crate::interrupt::ScratchDir, ScenarioFailed> {
    crate::interrupt::scratch_dir("bench-gate-run-", None).map_err(|e| ScenarioFailed {
        scenario: s.name.clone(),
        command: display_command(&s.command.argv),
        iteration: 0,
        warmup: true,
        failure: Failure::Spawn(format!("cannot create a temporary folder: {e}")),
        stderr_tail: String::new(),
    })
}

/// Runs one iteration of `s` (`global` counts every run of the scenario,
/// for `{iteration}`; `iteration` is 1-based within its phase) and records
/// it in `run`: a warm-up run apart, a measured one as a sample.
pub fn measure_into(
    s: &Scenario,
    global: u32,
    iteration: u32,
    warmup: bool,
    run_dir: &Path,
    run: &mut ScenarioRun,
    progress: &mut dyn Progress,
) -> Result<(), ScenarioFailed> {
    let failed = |failure, stderr_tail| ScenarioFailed {
        scenario: s.name.clone(),
        command: display_command(&s.command.argv),
        iteration,
        warmup,
        failure,
        stderr_tail,
    };
    let check_failed = |c: super::check::CheckFailed| {
        failed(
            Failure::Check(format!("{} failed: {}", c.check, c.why)),
            c.stderr_tail,
        )
    };
    let before = if s.usage.is_empty() {
        None
    } else {
        match super::check::read_usage(&s.usage) {
            Ok(u) => Some(u),
            // Before the command: it did not run, so not "ran, but".
            Err(c) => {
                progress.finish(false);
                return Err(failed(
                    Failure::Spawn(format!("the {} {}", c.check, c.why)),
                    String::new(),
                ));
            }
        }
    };
    let started = super::check::iteration_start(s, global, run_dir);
    match measure_once(&invocation(s, global, run_dir)) {
        Ok(mut m) => {
            // Untimed: the usage counters, then the scenario's own checks.
            let checked = before
                .map(|b| {
                    super::check::read_usage(&s.usage)
                        .map(|a| m.sample.usage = Some(super::check::usage_between(b, a)))
                })
                .unwrap_or(Ok(()))
                .and_then(|()| super::check::run_checks(s, global, run_dir, started));
            if let Err(c) = checked {
                progress.finish(false);
                return Err(check_failed(c));
            }
            progress.tick(warmup, m.sample.wall_ms);
            if warmup {
                run.warmup_samples.push(m.sample);
            } else {
                run.samples.push(m.sample);
                run.overhead_ms.push(m.overhead_ms);
            }
            Ok(())
        }
        Err(f) => {
            progress.finish(false);
            Err(failed(f.failure, f.stderr_tail))
        }
    }
}

pub fn run_scenario(
    s: &Scenario,
    progress: &mut dyn Progress,
) -> Result<ScenarioRun, ScenarioFailed> {
    let dir = run_dir(s)?;
    progress.start(&s.name, s.warmup, s.iterations);
    let mut run = ScenarioRun::default();
    let phases = [(true, s.warmup), (false, s.iterations)];
    let mut global = 0;
    for (warmup, count) in phases {
        for i in 1..=count {
            global += 1;
            measure_into(s, global, i, warmup, dir.path(), &mut run, progress)?;
        }
    }
    progress.finish(true);
    Ok(run)
}
