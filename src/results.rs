//! The results file (`run --output results.json`): a versioned schema holding
//! every scenario's raw samples and summaries, the flat metric map, and the
//! environment. `compare`, `capture` and `gate` work from this file alone.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::measure::runner::{display_command, ScenarioRun};
use crate::measure::Sample;
use crate::stats::Summary;
use crate::workload::{Direction, Measure, Scenario, Workload};

/// Bumped on any incompatible change to the results schema.
pub const SCHEMA_VERSION: u32 = 1;

/// `key → value` facts about the machine: see [`fingerprint`].
pub type Environment = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub schema_version: u32,
    pub tool: String,
    pub tool_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub workload: String,
    pub environment: Environment,
    pub scenarios: Vec<ScenarioResult>,
    /// Flat map: dotted metric name → value with its raw samples.
    pub metrics: BTreeMap<String, Metric>,
    /// Which pull request and commit the results belong to, when `gate` ran
    /// them on GitHub: what the fork-safe publisher checks before posting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubInfo>,
    /// Set by `run --shard K/N`: which part of the workload this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardInfo>,
    /// Set by `merge`: every shard, with the environment it ran in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<crate::shard::ShardInfo>,
    /// Scenarios measured again because a metric failed (see `--confirm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmations: Vec<Confirmation>,
    /// Set in A/B mode (`--ab REV`): the base commit, measured on the same
    /// machine, interleaved with these results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ab: Option<AbRun>,
}

/// The base side of an A/B run. Sample `i` of a scenario here and sample `i`
/// of the same scenario in the enclosing results form pair `i`: measured
/// one right after the other, in ABBA order (A = base, B = head).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbRun {
    /// The revision asked for (`--ab`), e.g. `origin/main`.
    pub requested: String,
    /// The commit measured as the base: the merge base of `requested` and HEAD.
    pub base_commit: String,
    /// HEAD when the run started.
    pub head_commit: String,
    /// Always "ABBA": pair k runs base then head for even k, head then base for odd k.
    pub order: String,
    /// Set when the base was a folder (`--ab-dir`), not a git revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_dir: Option<String>,
    /// The base commit's measurements (its `ab` is always empty).
    pub base: Box<Results>,
    /// Scenarios measured on the head only, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<AbSkipped>,
    /// The metrics the base tree's own bench-gate.yml defines for the
    /// workload measured (both trees run the head's config): one the head's
    /// config no longer defines is `missing` side by side. Absent when the
    /// base has no config, or one that does not parse (`base_config_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_config_metrics: Option<Vec<String>>,
    /// Why the base tree's bench-gate.yml could not be used, when it exists
    /// but could not be read or parsed: it is then treated as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_config_error: Option<String>,
}

/// At most this many metric names in `ab.base_config_metrics`.
pub const MAX_BASE_CONFIG_METRICS: usize = 10_000;

impl AbRun {
    /// How reports name the base: "base commit `1738f78`" or "base tree `../a`".
    /// (Results may come from a fork: nothing here can leave the code span.)
    pub fn base_label(&self) -> String {
        match &self.base_dir {
            Some(dir) => format!(
                "base tree `{}`",
                dir.replace(['`', '|', '<', '>', '@'], " ")
            ),
            None => format!(
                "base commit `{}`",
                &self.base_commit[..self.base_commit.len().min(7)]
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbSkipped {
    pub scenario: String,
    pub reason: String,
}

/// A confirmation re-run: a scenario measured `rounds` more times because
/// metrics failed; the decision then used all its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    pub scenario: String,
    pub rounds: u32,
    /// Its metrics above the failure threshold on the first measurement.
    pub failing_before: Vec<String>,
    /// Those still above it with every sample.
    pub failing_after: Vec<String>,
}

impl Confirmation {
    /// One sentence for reports and comments.
    pub fn describe(&self) -> String {
        let cleared: Vec<&String> = self
            .failing_before
            .iter()
            .filter(|m| !self.failing_after.contains(m))
            .collect();
        format!(
            "{} failed, so scenario `{}` was measured {} more time(s) and decided on all its samples: {}",
            self.failing_before.join(", "),
            self.scenario,
            self.rounds,
            if self.failing_after.is_empty() {
                "no longer failing (the first measurement was a spike)".to_string()
            } else if cleared.is_empty() {
                "still failing (confirmed)".to_string()
            } else {
                format!(
                    "{} still failing, {} no longer",
                    self.failing_after.join(", "),
                    cleared.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubInfo {
    pub repository: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
    pub head_sha: String,
}

/// Metric names may come from an untrusted run and end up in a comment:
/// letters, digits and `_ . - /` only.
pub fn valid_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

fn valid_unit(unit: &str) -> bool {
    unit.len() <= 20 && !unit.contains(['<', '>', '`', '|', '\n', '\r', '@'])
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub command: String,
    pub iterations: u32,
    pub warmup: u32,
    /// Measured iterations, in order; failed iterations are never samples.
    pub samples: Vec<Sample>,
    /// Warm-up runs, executed and kept for reference, in no statistic.
    pub warmup_samples: Vec<Sample>,
    /// Summary per measure (`wall_ms`, `user_ms`, `sys_ms`, `cpu_ms`, `peak_mb`).
    pub summaries: BTreeMap<String, Summary>,
    /// Mean harness overhead per iteration beyond the command's wall time, ms.
    pub overhead_ms_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub value: f64,
    pub unit: String,
    #[serde(default)]
    pub direction: Direction,
    /// Where it came from: scenario, measure and statistic, when measured here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// The raw samples the value was computed from (same unit).
    #[serde(default)]
    pub samples: Vec<f64>,
}

pub fn measure_values(samples: &[Sample], m: Measure) -> Vec<f64> {
    samples
        .iter()
        .map(|s| match m {
            Measure::WallMs => s.wall_ms,
            Measure::UserMs => s.user_ms,
            Measure::SysMs => s.sys_ms,
            Measure::CpuMs => s.user_ms + s.sys_ms,
            Measure::PeakMb => s.peak_mb(),
        })
        .collect()
}

/// Summaries and metrics of one scenario's raw run.
pub fn scenario_result(s: &Scenario, run: &ScenarioRun) -> (ScenarioResult, Vec<(String, Metric)>) {
    let summaries: BTreeMap<String, Summary> = Measure::ALL
        .iter()
        .filter_map(|m| {
            Summary::of(&measure_values(&run.samples, *m)).map(|x| (m.name().to_string(), x))
        })
        .collect();
    let metrics = s
        .metrics
        .iter()
        .filter_map(|spec| {
            let summary = summaries.get(spec.measure.name())?;
            Some((
                spec.name.clone(),
                Metric {
                    value: summary.get(&spec.statistic)?,
                    unit: spec.measure.unit().to_string(),
                    direction: Direction::Lower,
                    scenario: Some(s.name.clone()),
                    measure: Some(spec.measure.name().to_string()),
                    statistic: Some(spec.statistic.clone()),
                    samples: measure_values(&run.samples, spec.measure),
                },
            ))
        })
        .collect();
    let overhead = if run.overhead_ms.is_empty() {
        0.0
    } else {
        run.overhead_ms.iter().sum::<f64>() / run.overhead_ms.len() as f64
    };
    (
        ScenarioResult {
            name: s.name.clone(),
            command: display_command(&s.command.argv),
            iterations: s.iterations,
            warmup: s.warmup,
            samples: run.samples.clone(),
            warmup_samples: run.warmup_samples.clone(),
            summaries,
            overhead_ms_mean: overhead,
        },
        metrics,
    )
}

impl Results {
    pub fn new(workload: &Workload, runs: &[ScenarioRun], environment: Environment) -> Results {
        let mut scenarios = Vec::new();
        let mut metrics = BTreeMap::new();
        for (s, run) in workload.scenarios.iter().zip(runs) {
            let (r, m) = scenario_result(s, run);
            scenarios.push(r);
            metrics.extend(m);
        }
        Results {
            schema_version: SCHEMA_VERSION,
            tool: "bench-gate".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            created_at: now_rfc3339(),
            workload: workload.name.clone(),
            environment,
            scenarios,
            metrics,
            github: None,
            shard: workload.shard.clone(),
            shards: Vec::new(),
            confirmations: Vec::new(),
            ab: None,
        }
    }

    pub fn load(path: &Path) -> Result<Results> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read results", path.display()))?;
        Results::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks a results file; `name` is used in messages. Results
    /// may come from an untrusted run (forks), so every number is checked.
    pub fn parse(name: &str, text: &str) -> Result<Results> {
        let results: Results = serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{name}:{}:{}: not a bench-gate results file: {}",
                e.line(),
                e.column(),
                e.to_string().split(" at line ").next().unwrap_or_default()
            )
        })?;
        if results.schema_version != SCHEMA_VERSION {
            anyhow::bail!(
                "{name}: results schema version {} is not supported (this bench-gate reads version {SCHEMA_VERSION})",
                results.schema_version
            );
        }
        if results.metrics.is_empty() {
            anyhow::bail!("{name}: the results hold no metrics");
        }
        check_metrics(name, &results)?;
        if let Some(ab) = &results.ab {
            check_metrics(&format!("{name} (ab.base)"), &ab.base)?;
            for (field, commit) in [
                ("base_commit", &ab.base_commit),
                ("head_commit", &ab.head_commit),
            ] {
                let sha = (7..=40).contains(&commit.len())
                    && commit.chars().all(|c| c.is_ascii_hexdigit());
                if !sha && commit != "unknown" {
                    anyhow::bail!("{name}: ab.{field} {commit:?} is not a commit SHA");
                }
            }
            let texts = [&ab.requested, &ab.order]
                .into_iter()
                .chain(ab.base_dir.iter())
                .chain(ab.skipped.iter().map(|k| &k.reason))
                .chain(ab.base_config_error.iter());
            for t in texts {
                if t.len() > 1000 || t.chars().any(char::is_control) {
                    anyhow::bail!(
                        "{name}: ab holds a text that is too long or has control characters: {t:?}"
                    );
                }
            }
            if let Some(k) = ab.skipped.iter().find(|k| !valid_metric_name(&k.scenario)) {
                anyhow::bail!(
                    "{name}: ab.skipped scenario {:?} is not allowed",
                    k.scenario
                );
            }
            if let Some(names) = &ab.base_config_metrics {
                if names.len() > MAX_BASE_CONFIG_METRICS {
                    anyhow::bail!(
                        "{name}: ab.base_config_metrics holds {} names (at most {MAX_BASE_CONFIG_METRICS})",
                        names.len()
                    );
                }
                if let Some(bad) = names.iter().find(|m| !valid_metric_name(m)) {
                    anyhow::bail!(
                        "{name}: ab.base_config_metrics: metric name {bad:?} is not allowed (letters, digits and _ . - / only)"
                    );
                }
            }
        }
        if let Some(g) = &results.github {
            if !(g.head_sha.len() == 40 && g.head_sha.chars().all(|c| c.is_ascii_hexdigit())) {
                anyhow::bail!(
                    "{name}: github.head_sha {:?} is not a commit SHA",
                    g.head_sha
                );
            }
            if crate::github::context::Repo::parse(&g.repository).is_none() {
                anyhow::bail!(
                    "{name}: github.repository {:?} is not OWNER/NAME",
                    g.repository
                );
            }
        }
        Ok(results)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("results always serialise");
        s.push('\n');
        s
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_atomic(path, self.to_json().as_bytes())
    }
}

/// Results may come from an untrusted run (forks): names, units and numbers
/// are checked before anything reaches a report or a comment.
fn check_metrics(name: &str, results: &Results) -> Result<()> {
    for (k, m) in &results.metrics {
        if !valid_metric_name(k) {
            anyhow::bail!(
                "{name}: metric name {k:?} is not allowed (letters, digits and _ . - / only)"
            );
        }
        if !valid_unit(&m.unit) {
            anyhow::bail!(
                "{name}: metric '{k}' has a unit that is not allowed: {:?}",
                m.unit
            );
        }
        if !m.value.is_finite() || m.samples.iter().any(|x| !x.is_finite()) {
            anyhow::bail!("{name}: metric '{k}' has a value that is not a finite number");
        }
    }
    Ok(())
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What is known about this machine, for telling whether two measurements
/// are comparable. On GitHub Actions the runner's OS, architecture and image
/// come from the environment (`RUNNER_OS`, `RUNNER_ARCH`, `ImageOS`,
/// `ImageVersion`, `RUNNER_ENVIRONMENT`).
pub fn fingerprint() -> Environment {
    use sysinfo::System;
    let mut env = Environment::new();
    let mut sys = System::new();
    sys.refresh_memory();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    let os = std::env::consts::OS;
    let arch = std::env::consts::ARCH;
    env.insert("os".into(), os.into());
    env.insert("arch".into(), arch.into());
    env.insert("platform".into(), format!("{os}-{arch}"));
    if let Some(v) = System::long_os_version() {
        env.insert("os_version".into(), v);
    }
    if let Some(k) = System::kernel_version() {
        env.insert("kernel".into(), k);
    }
    if let Some(cpu) = sys.cpus().first() {
        env.insert("cpu_model".into(), cpu.brand().trim().to_string());
    }
    env.insert("cpu_cores".into(), sys.cpus().len().to_string());
    env.insert(
        "memory_gb".into(),
        format!("{:.0}", sys.total_memory() as f64 / (1u64 << 30) as f64),
    );
    env.insert(
        "bench_gate_version".into(),
        env!("CARGO_PKG_VERSION").into(),
    );
    for (var, key) in [
        ("RUNNER_OS", "runner_os"),
        ("RUNNER_ARCH", "runner_arch"),
        ("ImageOS", "runner_image"),
        ("ImageVersion", "runner_image_version"),
        ("RUNNER_ENVIRONMENT", "runner_environment"),
    ] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                env.insert(key.into(), v);
            }
        }
    }
    env
}
