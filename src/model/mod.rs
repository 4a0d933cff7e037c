//! The model: the plain types every stage shares (what is measured, the
//! results file, its A/B and shard records, the policies a config or the
//! command line sets). It imports nothing from the crate but `stats`, and
//! nothing here runs, prints or renders.

mod results;
pub mod units;
mod why;

use std::ffi::OsStr;

use serde::{Deserialize, Serialize};

pub use results::*;
pub use why::*;

/// `key → value` facts about the machine (see `measure::fingerprint`).
pub type Environment = std::collections::BTreeMap<String, String>;

/// A closed set of values with command-line names: how the command line
/// (and config readers) name and list them, without the model knowing clap.
pub trait Named: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, its name, and one line of help.
    const VALUES: &'static [(Self, &'static str, &'static str)];

    fn name(self) -> &'static str {
        Self::VALUES
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("?", |(_, n, _)| n)
    }

    fn parse(s: &str) -> Option<Self> {
        Self::VALUES
            .iter()
            .find(|(_, n, _)| *n == s)
            .map(|(v, _, _)| *v)
    }
}

/// The exit codes, the same for every command: one table, from which the
/// command line's help text is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every metric passed, or regressions were only reported.
    Ok = 0,
    /// A warning-level regression, with `--fail-on-warning`.
    Warning = 1,
    /// A failure-level regression, with `--fail-on-regression`.
    Failure = 2,
    /// Bad input: the benchmark, a file or an option could not be run or
    /// read, or nothing could be compared.
    Error = 3,
}

impl Exit {
    pub const ALL: [Exit; 4] = [Exit::Ok, Exit::Warning, Exit::Failure, Exit::Error];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// What it means, for the help text.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "success; every metric passed (or regressions were only reported)",
            Exit::Warning => "a warning-level regression, with --fail-on-warning",
            Exit::Failure => "a failure-level regression, with --fail-on-regression",
            Exit::Error => "bad input: the benchmark, a file or an option could not be run or read,\n     or nothing could be compared (no baseline metric in the results, another workload)",
        }
    }

    /// The "Exit codes:" block of every command's help.
    pub fn help() -> String {
        let mut s = String::from("Exit codes:");
        for e in Exit::ALL {
            s.push_str(&format!("\n  {}  {}", e.code(), e.meaning()));
        }
        s
    }
}

/// A statistic of a measure's samples that a metric reports (percentiles
/// of type 7, see `stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    P50,
    Median,
    P95,
    P99,
    Mean,
    Min,
    Max,
}

impl Named for Statistic {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (Statistic::P50, "p50", "the median (50th percentile)"),
        (Statistic::Median, "median", "the same as p50"),
        (Statistic::P95, "p95", "the 95th percentile"),
        (Statistic::P99, "p99", "the 99th percentile"),
        (Statistic::Mean, "mean", "the arithmetic mean"),
        (Statistic::Min, "min", "the smallest sample"),
        (Statistic::Max, "max", "the largest sample"),
    ];
}

impl Statistic {
    /// Its value in a summary of samples.
    pub fn of(self, s: &crate::stats::Summary) -> f64 {
        match self {
            Statistic::P50 | Statistic::Median => s.p50,
            Statistic::P95 => s.p95,
            Statistic::P99 => s.p99,
            Statistic::Mean => s.mean,
            Statistic::Min => s.min,
            Statistic::Max => s.max,
        }
    }

    /// The percentile it is, if it is one: the median is p50, the smallest
    /// and largest samples p0 and p100 (type 7).
    pub fn percentile(self) -> Option<f64> {
        match self {
            Statistic::P50 | Statistic::Median => Some(50.0),
            Statistic::P95 => Some(95.0),
            Statistic::P99 => Some(99.0),
            Statistic::Min => Some(0.0),
            Statistic::Max => Some(100.0),
            Statistic::Mean => None,
        }
    }
}

/// Which raw measurement a metric is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Wall-clock time, spawn to reap (ms).
    WallMs,
    /// User CPU time (ms).
    UserMs,
    /// System CPU time (ms).
    SysMs,
    /// User + system CPU time (ms).
    CpuMs,
    /// Peak resident set size (MB, i.e. MiB: 1 MB = 1024 KiB here).
    PeakMb,
    /// Requests a service with a `usage:` endpoint answered during the
    /// iteration (calls).
    ApiCalls,
    /// Prompt tokens those requests carried, as the service counts them.
    PromptTokens,
    /// Completion tokens the service answered with.
    CompletionTokens,
}

impl Measure {
    pub const ALL: [Measure; 8] = [
        Measure::WallMs,
        Measure::UserMs,
        Measure::SysMs,
        Measure::CpuMs,
        Measure::PeakMb,
        Measure::ApiCalls,
        Measure::PromptTokens,
        Measure::CompletionTokens,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Measure::WallMs => "wall_ms",
            Measure::UserMs => "user_ms",
            Measure::SysMs => "sys_ms",
            Measure::CpuMs => "cpu_ms",
            Measure::PeakMb => "peak_mb",
            Measure::ApiCalls => "api_calls",
            Measure::PromptTokens => "prompt_tokens",
            Measure::CompletionTokens => "completion_tokens",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Measure::PeakMb => "MB",
            Measure::ApiCalls => "calls",
            Measure::PromptTokens | Measure::CompletionTokens => "tokens",
            _ => "ms",
        }
    }

    /// Read from a service's `usage:` endpoint rather than measured on the
    /// command.
    pub fn is_usage(self) -> bool {
        matches!(
            self,
            Measure::ApiCalls | Measure::PromptTokens | Measure::CompletionTokens
        )
    }

    pub fn parse(s: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// A measure counted under Valgrind rather than timed: deterministic, so
/// one run decides (`measure: [instructions, allocations]` in a scenario,
/// `--measure` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Counted {
    /// Instructions executed (cachegrind's `Ir`), over every process.
    Instructions,
    /// Heap allocations (DHAT): bytes, blocks, bytes at the heap's peak.
    Allocations,
}

impl Named for Counted {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Counted::Instructions,
            "instructions",
            "instructions executed, counted under Valgrind's cachegrind",
        ),
        (
            Counted::Allocations,
            "allocations",
            "bytes and blocks allocated and the heap's peak, under Valgrind's DHAT",
        ),
    ];
}

/// Lower is better (time, memory) or higher is better (throughput).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Lower,
    Higher,
}

/// One measured iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Monotonic wall time from spawn to reap, in milliseconds.
    pub wall_ms: f64,
    pub user_ms: f64,
    pub sys_ms: f64,
    /// Peak resident set size of the command itself (`ru_maxrss`), in KiB.
    pub peak_rss_kib: u64,
    /// What the services with a `usage:` endpoint counted during the
    /// iteration, when one declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// Counts a service reported for one iteration: the difference of its
/// cumulative `usage:` counters after and before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub api_calls: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Sample {
    pub fn peak_mb(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// What a shard's results record, so `merge` can check coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub total: usize,
    /// The scenarios this shard ran.
    pub scenarios: Vec<String>,
    /// Every scenario of the workload, across all shards.
    pub all_scenarios: Vec<String>,
    /// The machine this shard ran on (kept by `merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
}

/// Which view decides the verdict when the base commit was measured side by
/// side (A/B mode). Without an A/B run the baseline is the only view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateOn {
    /// The change against the base commit, measured side by side.
    #[default]
    Ab,
    /// The change against the committed baseline.
    Baseline,
    /// The worse of the two.
    Both,
}

/// What a baseline metric absent from the results counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingPolicy {
    /// A failure: a renamed or dropped metric must not pass unseen.
    #[default]
    Fail,
    /// A warning.
    Warn,
    /// Shown, but counted as neither.
    Ignore,
}

impl Named for GateOn {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            GateOn::Ab,
            "ab",
            "the change against the base commit, measured side by side",
        ),
        (
            GateOn::Baseline,
            "baseline",
            "the change against the committed baseline",
        ),
        (GateOn::Both, "both", "the worse of the two"),
    ];
}

impl Named for MissingPolicy {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            MissingPolicy::Fail,
            "fail",
            "a failure: a renamed or dropped metric must not pass unseen",
        ),
        (MissingPolicy::Warn, "warn", "a warning"),
        (
            MissingPolicy::Ignore,
            "ignore",
            "shown, but counted as neither",
        ),
    ];
}

/// Removed unless `secrets.pass_through` names them: the tokens GitHub
/// Actions puts in a job's environment (`INPUT_GITHUB-TOKEN` is how a
/// JavaScript action's `github-token` input arrives; the underscore form
/// too), the GitHub CLI's, and bench-gate's own `--token` variable.
pub const DEFAULT_REMOVED: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "BENCH_GATE_TOKEN",
];

/// The job's own credentials: never given to the commands bench-gate runs,
/// whatever a config says (a pull request controls its `bench-gate.yml`).
/// `GH_TOKEN` and the config's own `secrets.remove` may be let through.
pub const NEVER_PASSED: &[&str] = &[
    "GITHUB_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "BENCH_GATE_TOKEN",
];

/// Which variables the processes bench-gate starts do not get: the
/// `secrets:` section of `bench-gate.yml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvPolicy {
    /// Removed as well as [`DEFAULT_REMOVED`] (`secrets.remove`).
    pub remove: Vec<String>,
    /// Let through on purpose although removed by default
    /// (`secrets.pass_through`).
    pub pass_through: Vec<String>,
}

impl EnvPolicy {
    /// Whether the variable `name` is removed by default or by `remove`.
    pub fn is_secret(&self, name: &OsStr) -> bool {
        DEFAULT_REMOVED.iter().any(|d| name == *d) || self.remove.iter().any(|r| name == r.as_str())
    }

    /// Whether the processes bench-gate starts go without `name`.
    pub fn removes(&self, name: &OsStr) -> bool {
        NEVER_PASSED.iter().any(|n| name == *n)
            || (self.is_secret(name) && !self.pass_through.iter().any(|p| name == p.as_str()))
    }
}
