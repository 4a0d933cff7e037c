//! Workloads and scenarios: what to run, how often, and which metrics each
//! scenario reports. Built-in workloads benchmark bench-gate's own generator;
//! a `bench-gate.yml` adds a project's own commands.

pub mod builtin;
pub mod config;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{Measure, Statistic};

/// A metric a scenario reports: `name` = `statistic` of `measure`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    pub name: String,
    pub measure: Measure,
    pub statistic: Statistic,
    /// Reported per unit of work: the statistic (and each sample) divided
    /// by this (`per:` in the config, e.g. the personas a run generates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<f64>,
    /// A throughput instead (`per_minute:`): units of work per minute of
    /// the measure (a time in ms), higher is better, per run; the statistic
    /// is of those per-run throughputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<f64>,
}

/// A command line with its environment. `{iteration}` in an argument or an
/// environment value becomes the iteration number, and `{run_dir}` a fresh
/// temporary folder for the whole scenario, removed afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandSpec {
    pub argv: Vec<String>,
    /// Set over bench-gate's own environment.
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// The variables it goes without (`secrets:` in the config).
    #[serde(default)]
    pub env_policy: crate::model::EnvPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub command: CommandSpec,
    pub iterations: u32,
    pub warmup: u32,
    pub timeout: Duration,
    pub metrics: Vec<MetricSpec>,
    /// Checked after every iteration, warm-up runs included, untimed: a run
    /// that fails a check is an error, never a sample.
    #[serde(default)]
    pub checks: Checks,
    /// The `usage:` endpoints of the workload's services, read before and
    /// after every iteration.
    #[serde(default)]
    pub usage: Vec<String>,
    /// Counted under Valgrind besides the timed iterations (`measure:`).
    #[serde(default)]
    pub counted: Vec<crate::model::Counted>,
}

/// A scenario's checks of what an iteration did: `verify:` and `expect:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    /// A command (argv; `sh -c` for a string) run in the scenario's folder
    /// with its environment and placeholders; a non-zero exit fails the run.
    pub verify: Option<Vec<String>>,
    /// How many files a glob must match.
    pub files: Option<FileCount>,
}

impl Checks {
    pub fn is_empty(&self) -> bool {
        self.verify.is_none() && self.files.is_none()
    }
}

/// `expect: {files: {glob: "...", count: N}}` (or `min:`/`max:`): the glob
/// (placeholders substituted, relative to the scenario's folder) matches
/// between `min` and `max` files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileCount {
    pub glob: String,
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub name: String,
    pub scenarios: Vec<Scenario>,
    /// Started before the first scenario, stopped after the last.
    pub services: Vec<ServiceSpec>,
    /// Set when only a share of the workload runs (`--shard K/N`).
    pub shard: Option<crate::model::ShardInfo>,
}

/// How to tell that a service is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Readiness {
    /// Started is ready.
    None,
    /// An HTTP GET answers 2xx.
    Http(String),
    /// A TCP connection to host:port succeeds.
    Port(String),
}

impl std::fmt::Display for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Readiness::None => write!(f, "no readiness check"),
            Readiness::Http(u) => write!(f, "GET {u}"),
            Readiness::Port(a) => write!(f, "connect to {a}"),
        }
    }
}

/// A process a workload needs running, such as `bench-gate serve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    pub command: CommandSpec,
    pub ready: Readiness,
    pub start_timeout: Duration,
    /// `usage:`: an http:// URL answering `{"requests", "prompt_tokens",
    /// "completion_tokens"}` (cumulative counters) to a GET.
    #[serde(default)]
    pub usage: Option<String>,
}

/// Adjustments from the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub iterations: Option<u32>,
    pub warmup: Option<u32>,
    pub only: Vec<String>,
    /// Do not check that commands exist (an A/B base tree: a scenario that
    /// cannot run there is measured on the head alone).
    pub skip_checks: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorkloadError {
    #[error("unknown workload '{name}'; available: {available}")]
    UnknownWorkload { name: String, available: String },
    #[error("unknown scenario '{name}' in workload '{workload}'; available: {available}")]
    UnknownScenario {
        name: String,
        workload: String,
        available: String,
    },
    #[error("--iterations must be at least 1")]
    ZeroIterations,
    #[error("scenario '{0}': the command is empty")]
    EmptyCommand(String),
    #[error("scenario '{scenario}': command '{program}' not found{hint}")]
    CommandNotFound {
        scenario: String,
        program: String,
        hint: String,
    },
}

impl Workload {
    /// Keeps only the scenarios named (`--only`; all when empty).
    pub fn select(mut self, only: &[String]) -> Result<Workload, WorkloadError> {
        for name in only {
            if !self.scenarios.iter().any(|s| &s.name == name) {
                return Err(WorkloadError::UnknownScenario {
                    name: name.clone(),
                    workload: self.name.clone(),
                    available: self.scenario_names().join(", "),
                });
            }
        }
        if !only.is_empty() {
            self.scenarios.retain(|s| only.contains(&s.name));
        }
        Ok(self)
    }

    /// Applies `--only`, `--iterations` and `--warmup`, then checks that every
    /// command can be found, so that nothing is measured before a bad input
    /// is reported.
    pub fn adjust(self, o: &Overrides) -> Result<Workload, WorkloadError> {
        let mut w = self.select(&o.only)?;
        w.apply_counts_and_check(o)?;
        Ok(w)
    }

    /// `--iterations`, `--warmup`, and the check that every command exists.
    pub fn apply_counts_and_check(&mut self, o: &Overrides) -> Result<(), WorkloadError> {
        if o.iterations == Some(0) {
            return Err(WorkloadError::ZeroIterations);
        }
        for s in &mut self.scenarios {
            if let Some(n) = o.iterations {
                s.iterations = n;
            }
            if let Some(w) = o.warmup {
                s.warmup = w;
            }
            if !o.skip_checks {
                check_command(&s.name, &s.command)?;
            }
        }
        if !o.skip_checks {
            for sv in &self.services {
                check_command(&format!("service {}", sv.name), &sv.command)?;
            }
        }
        Ok(())
    }

    pub fn scenario_names(&self) -> Vec<String> {
        self.scenarios.iter().map(|s| s.name.clone()).collect()
    }
}

fn check_command(name: &str, command: &CommandSpec) -> Result<(), WorkloadError> {
    let Some(program) = command.argv.first().filter(|p| !p.trim().is_empty()) else {
        return Err(WorkloadError::EmptyCommand(name.to_string()));
    };
    // `{bench_gate}` is this very executable.
    if program == "{bench_gate}" {
        return Ok(());
    }
    let found = if program.contains('/') {
        let path = match &command.cwd {
            Some(cwd) if !program.starts_with('/') => cwd.join(program),
            _ => PathBuf::from(program),
        };
        path.is_file()
    } else {
        let path_var = command
            .env
            .get("PATH")
            .cloned()
            .or_else(|| std::env::var("PATH").ok())
            .unwrap_or_default();
        let cwd = command
            .cwd
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        which::which_in(program, Some(path_var), cwd).is_ok()
    };
    if found {
        Ok(())
    } else {
        Err(WorkloadError::CommandNotFound {
            scenario: name.to_string(),
            program: program.clone(),
            hint: if program.contains('/') {
                String::new()
            } else {
                " on PATH".into()
            },
        })
    }
}
