//! The results file (`run --output results.json`): a versioned schema holding
//! every scenario's raw samples and summaries, the flat metric map, and the
//! environment. `compare`, `capture` and `gate` work from this file alone.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Direction, Environment, Sample, ShardInfo};
use crate::stats::Summary;

/// Bumped on any incompatible change to the results schema.
pub const SCHEMA_VERSION: u32 = 1;

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
    pub shard: Option<ShardInfo>,
    /// Set by `merge`: every shard, with the environment it ran in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
    /// Scenarios measured again because a metric failed (see `--confirm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmations: Vec<Confirmation>,
    /// Set in A/B mode (`--ab REV`): the base commit, measured on the same
    /// machine, interleaved with these results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ab: Option<AbRun>,
    /// Metrics asked for but not measured, and why (Valgrind absent, a
    /// count that is not deterministic): `compare` shows them as skipped,
    /// never as passed, and never as missing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, Skipped>,
    /// Set when a scenario failed: the scenarios measured before it are
    /// kept, but the results are not a whole run (no baseline, no verdict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// Why it got slower: per scenario whose instruction metric failed, the
    /// functions whose counts changed most (see [`Why`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<super::Why>,
}

/// A metric asked for but not measured: why, and whether that is a warning
/// (a count that is not deterministic) or only shown (no Valgrind here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub reason: String,
    #[serde(default)]
    pub warning: bool,
}

/// Which scenario stopped the run, and its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incomplete {
    pub scenario: String,
    pub error: String,
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
    /// How the base commit was chosen, in words (a pull request's base:
    /// the test-merge commit's first parent, or a merge base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_how: Option<String>,
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
    /// How reports name the base: "base commit `1738f78`" or "base tree
    /// `../a`", with `code` formatting the commit or folder for where the
    /// text lands (results may come from a fork).
    pub fn base_label_with(&self, code: &dyn Fn(&str) -> String) -> String {
        match &self.base_dir {
            Some(dir) => format!("base tree {}", code(dir)),
            None => format!(
                "base commit {}",
                code(&self.base_commit[..self.base_commit.len().min(7)])
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
    /// One sentence saying what the confirmation found, with `scenario` and
    /// `metrics` formatting the data for where the text lands.
    pub fn sentence(
        &self,
        scenario: &dyn Fn(&str) -> String,
        metrics: &dyn Fn(&[&str]) -> String,
    ) -> String {
        let list = |v: &[String]| metrics(&v.iter().map(String::as_str).collect::<Vec<_>>());
        let cleared: Vec<String> = self
            .failing_before
            .iter()
            .filter(|m| !self.failing_after.contains(m))
            .cloned()
            .collect();
        format!(
            "{} failed, so scenario {} was measured {} more time(s) and decided on all its samples: {}",
            list(&self.failing_before),
            scenario(&self.scenario),
            self.rounds,
            if self.failing_after.is_empty() {
                "no longer failing (the first measurement was a spike)".to_string()
            } else if cleared.is_empty() {
                "still failing (confirmed)".to_string()
            } else {
                format!(
                    "{} still failing, {} no longer",
                    list(&self.failing_after),
                    list(&cleared)
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

/// Identifiers (metric, scenario and workload names, statistics, measures,
/// environment keys) may come from an untrusted run and end up in a comment:
/// letters, digits and `_ . - /` only, at most 200 characters.
pub fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= IDENTIFIER_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// The name endings of the metrics a counted measure reports
/// (`measure::valgrind::metric_names`): instructions and allocations.
pub const COUNTED_SUFFIXES: &[&str] = &[
    ".instructions",
    ".alloc_bytes",
    ".alloc_blocks",
    ".heap_peak_bytes",
];

/// Whether `name` is a counted measure's metric (instructions or
/// allocations, counted under Valgrind): the only metrics a results file
/// may list as `skipped` (asked for but not measured, no Valgrind here).
/// A wall-clock metric is always measured; absent, it is `missing`.
pub fn counted_metric_name(name: &str) -> bool {
    COUNTED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Metric names are identifiers.
pub fn valid_metric_name(name: &str) -> bool {
    valid_identifier(name)
}

/// Service names become file names (the service's log): identifiers without
/// `/`, so that no name reaches outside the folder it is written in.
pub fn valid_service_name(name: &str) -> bool {
    valid_identifier(name) && !name.contains('/') && !name.starts_with('.')
}

/// Workload names are identifiers, with `:` too (`import:hyperfine`).
pub fn valid_workload_name(name: &str) -> bool {
    valid_identifier(&name.replace(':', "_"))
}

pub const IDENTIFIER_MAX: usize = 200;
/// The longest unit, in characters.
pub const UNIT_MAX: usize = 20;
/// The longest free text (a reason, an environment value, a version), in characters.
pub const TEXT_MAX: usize = 1000;
/// The most functions a `why` table may list.
pub const WHY_FUNCTIONS_MAX: usize = 100;
/// The longest command line kept, in characters.
pub const COMMAND_MAX: usize = 10_000;

/// A character a unit may hold: letters (any script: `µs`), digits, spaces
/// and `/ % . _ -`.
pub fn unit_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '/' | '%' | '.' | '_' | '-')
}

fn valid_unit(unit: &str) -> bool {
    unit.chars().count() <= UNIT_MAX && unit.chars().all(unit_char)
}

/// Makes `s` valid free text for a results file: control characters shown
/// as escapes (`\n`), cut to `max` characters. For what bench-gate writes
/// itself (a command, a reason a base tree could not run), so that its own
/// results always read back.
pub fn free_text(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    match out.char_indices().nth(max) {
        Some((i, _)) => {
            let mut cut = out[..i].to_string();
            cut.pop();
            cut.push('…');
            cut
        }
        None => out,
    }
}

/// Checks every string of a results file, naming the field (`path`) that is
/// wrong. Identifiers by their charset, units by theirs, free text by length
/// and no control characters.
struct Check<'a> {
    file: &'a str,
}

impl Check<'_> {
    fn fail(&self, path: &str, what: String) -> anyhow::Error {
        anyhow::anyhow!("{}: {path}: {what}", self.file)
    }

    /// The value as the error shows it: quoted, escaped, at most 60 characters.
    fn shown(value: &str) -> String {
        let short: String = value.chars().take(60).collect();
        let more = if value.chars().count() > 60 {
            "…"
        } else {
            ""
        };
        format!("{:?}{more}", short)
    }

    fn identifier(&self, path: &str, value: &str) -> Result<()> {
        self.name(path, value, valid_identifier(value), "")
    }

    /// `ok`: whether `value` passed its charset; `extra`: what else it allows.
    fn name(&self, path: &str, value: &str, ok: bool, extra: &str) -> Result<()> {
        if ok {
            return Ok(());
        }
        Err(self.fail(
            path,
            if value.is_empty() {
                "is empty".to_string()
            } else if value.len() > IDENTIFIER_MAX {
                format!("is longer than {IDENTIFIER_MAX} characters")
            } else {
                format!(
                    "{} is not allowed: letters, digits and _ . - /{extra} only",
                    Check::shown(value)
                )
            },
        ))
    }

    fn unit(&self, path: &str, value: &str) -> Result<()> {
        if valid_unit(value) {
            return Ok(());
        }
        Err(self.fail(
            path,
            format!(
                "{} is not allowed: at most {UNIT_MAX} letters, digits, spaces and / % . _ -",
                Check::shown(value)
            ),
        ))
    }

    fn text(&self, path: &str, value: &str, max: usize) -> Result<()> {
        let n = value.chars().count();
        if n > max {
            return Err(self.fail(
                path,
                format!("is {n} characters long; at most {max} are allowed"),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(self.fail(
                path,
                format!(
                    "holds control characters (U+{:04X} first): {}",
                    c as u32,
                    Check::shown(value)
                ),
            ));
        }
        Ok(())
    }

    fn environment(&self, path: &str, env: &Environment) -> Result<()> {
        for (k, v) in env {
            self.identifier(&format!("{path} key"), k)?;
            self.text(&format!("{path}.{k}"), v, TEXT_MAX)?;
        }
        Ok(())
    }

    /// Every string of `r`; `at` is the path prefix (`""` or `"ab.base."`).
    fn results(&self, at: &str, r: &Results) -> Result<()> {
        self.text(&format!("{at}tool"), &r.tool, 100)?;
        self.text(&format!("{at}tool_version"), &r.tool_version, 100)?;
        self.text(&format!("{at}created_at"), &r.created_at, 100)?;
        self.name(
            &format!("{at}workload"),
            &r.workload,
            valid_workload_name(&r.workload),
            " :",
        )?;
        self.environment(&format!("{at}environment"), &r.environment)?;
        for (i, sc) in r.scenarios.iter().enumerate() {
            let p = format!("{at}scenarios[{i}]");
            self.identifier(&format!("{p}.name"), &sc.name)?;
            self.text(&format!("{p}.command"), &sc.command, COMMAND_MAX)?;
            for k in sc.summaries.keys() {
                self.identifier(&format!("{p}.summaries key"), k)?;
            }
        }
        for (k, m) in &r.metrics {
            self.identifier(&format!("{at}metrics key"), k)?;
            let p = format!("{at}metrics.{k}");
            self.unit(&format!("{p}.unit"), &m.unit)?;
            for (field, v) in [
                ("scenario", &m.scenario),
                ("measure", &m.measure),
                ("statistic", &m.statistic),
            ] {
                if let Some(v) = v {
                    self.identifier(&format!("{p}.{field}"), v)?;
                }
            }
        }
        for (k, sk) in &r.skipped {
            self.identifier(&format!("{at}skipped key"), k)?;
            let measure = r.metrics.get(k).and_then(|m| m.measure.as_deref());
            if !counted_metric_name(k) && !matches!(measure, Some("instructions" | "allocations")) {
                return Err(self.fail(
                    &format!("{at}skipped.{k}"),
                    format!(
                        "only a counted measure (instructions or allocations: a name ending in {}) may be skipped; any other metric absent from the results is missing",
                        COUNTED_SUFFIXES.join(", ")
                    ),
                ));
            }
            self.text(&format!("{at}skipped.{k}.reason"), &sk.reason, TEXT_MAX)?;
        }
        for (i, w) in r.why.iter().enumerate() {
            let p = format!("{at}why[{i}]");
            self.identifier(&format!("{p}.scenario"), &w.scenario)?;
            self.identifier(&format!("{p}.metric"), &w.metric)?;
            if let Some(f) = &w.flamegraph {
                self.identifier(&format!("{p}.flamegraph"), f)?;
                if f.contains('/') || f.starts_with('.') {
                    return Err(self.fail(
                        &format!("{p}.flamegraph"),
                        format!("is not a file name: {}", Check::shown(f)),
                    ));
                }
            }
            if w.functions.len() > WHY_FUNCTIONS_MAX {
                return Err(self.fail(
                    &format!("{p}.functions"),
                    format!(
                        "lists {} functions; at most {WHY_FUNCTIONS_MAX} are allowed",
                        w.functions.len()
                    ),
                ));
            }
            let mut numbers = vec![w.head_total, w.seconds];
            numbers.extend(w.base_total);
            for (j, f) in w.functions.iter().enumerate() {
                let q = format!("{p}.functions[{j}]");
                self.text(&format!("{q}.name"), &f.name, TEXT_MAX)?;
                if let Some(file) = &f.file {
                    self.text(&format!("{q}.file"), file, TEXT_MAX)?;
                }
                numbers.extend([f.after_self, f.after_inclusive]);
                numbers.extend(f.before_self.into_iter().chain(f.before_inclusive));
            }
            if let Some(x) = numbers.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                return Err(self.fail(
                    &p,
                    format!("a count is not a finite number of at least 0 ({x})"),
                ));
            }
        }
        if let Some(g) = &r.github {
            self.identifier(&format!("{at}github.event"), &g.event)?;
        }
        for (shard, p) in r.shard.iter().map(|s| (s, format!("{at}shard"))).chain(
            r.shards
                .iter()
                .enumerate()
                .map(|(i, s)| (s, format!("{at}shards[{i}]"))),
        ) {
            for (i, name) in shard.scenarios.iter().enumerate() {
                self.identifier(&format!("{p}.scenarios[{i}]"), name)?;
            }
            for (i, name) in shard.all_scenarios.iter().enumerate() {
                self.identifier(&format!("{p}.all_scenarios[{i}]"), name)?;
            }
            if let Some(env) = &shard.environment {
                self.environment(&format!("{p}.environment"), env)?;
            }
        }
        for (i, c) in r.confirmations.iter().enumerate() {
            let p = format!("{at}confirmations[{i}]");
            self.identifier(&format!("{p}.scenario"), &c.scenario)?;
            for (field, list) in [
                ("failing_before", &c.failing_before),
                ("failing_after", &c.failing_after),
            ] {
                for (j, m) in list.iter().enumerate() {
                    self.identifier(&format!("{p}.{field}[{j}]"), m)?;
                }
            }
        }
        if let Some(inc) = &r.incomplete {
            self.identifier(&format!("{at}incomplete.scenario"), &inc.scenario)?;
            self.text(&format!("{at}incomplete.error"), &inc.error, TEXT_MAX)?;
        }
        if let Some(ab) = &r.ab {
            if !at.is_empty() {
                return Err(self.fail(
                    &format!("{at}ab"),
                    "a base run cannot hold another A/B run".into(),
                ));
            }
            self.text("ab.requested", &ab.requested, TEXT_MAX)?;
            self.identifier("ab.order", &ab.order)?;
            if let Some(dir) = &ab.base_dir {
                self.text("ab.base_dir", dir, TEXT_MAX)?;
            }
            if let Some(how) = &ab.base_how {
                self.text("ab.base_how", how, TEXT_MAX)?;
            }
            for (i, k) in ab.skipped.iter().enumerate() {
                self.identifier(&format!("ab.skipped[{i}].scenario"), &k.scenario)?;
                self.text(&format!("ab.skipped[{i}].reason"), &k.reason, TEXT_MAX)?;
            }
            if let Some(e) = &ab.base_config_error {
                self.text("ab.base_config_error", e, TEXT_MAX)?;
            }
            if let Some(names) = &ab.base_config_metrics {
                if names.len() > MAX_BASE_CONFIG_METRICS {
                    return Err(self.fail(
                        "ab.base_config_metrics",
                        format!(
                            "holds {} names (at most {MAX_BASE_CONFIG_METRICS})",
                            names.len()
                        ),
                    ));
                }
                for (i, m) in names.iter().enumerate() {
                    self.identifier(&format!("ab.base_config_metrics[{i}]"), m)?;
                }
            }
            self.results("ab.base.", &ab.base)?;
        }
        Ok(())
    }
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

impl Results {
    pub fn load(path: &Path) -> Result<Results> {
        let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_DATA_BYTES)
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
        Check { file: name }.results("", &results)?;
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
                    anyhow::bail!(
                        "{name}: ab.{field}: {} is not a commit SHA",
                        Check::shown(commit)
                    );
                }
            }
        }
        if let Some(g) = &results.github {
            if !(g.head_sha.len() == 40 && g.head_sha.chars().all(|c| c.is_ascii_hexdigit())) {
                anyhow::bail!(
                    "{name}: github.head_sha: {} is not a commit SHA",
                    Check::shown(&g.head_sha)
                );
            }
            if !valid_repository(&g.repository) {
                anyhow::bail!(
                    "{name}: github.repository: {} is not OWNER/NAME",
                    Check::shown(&g.repository)
                );
            }
        }
        Ok(results)
    }

    /// Refuses incomplete results (a scenario failed) for `what` (a
    /// baseline, a comparison): they hold only part of the workload.
    pub fn require_complete(&self, name: &str, what: &str) -> Result<()> {
        match &self.incomplete {
            None => Ok(()),
            Some(inc) => anyhow::bail!(
                "{name}: the results are incomplete (scenario '{}' failed: {}); they cannot be used for {what}: fix the scenario and run again",
                inc.scenario,
                inc.error
            ),
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("results always serialise");
        s.push('\n');
        s
    }
}

/// Units of a duration or of a process's memory: a measured one is never 0.
pub const NEVER_ZERO_UNITS: &[&str] = &["ns", "us", "µs", "ms", "s", "MB"];

/// Every number is finite and not negative (no time, size, count or rate
/// is); a duration or a peak memory is also not 0, which no run measures
/// and which would make any change from it look like an improvement.
fn check_metrics(name: &str, results: &Results) -> Result<()> {
    for (k, m) in &results.metrics {
        let values = || std::iter::once(m.value).chain(m.samples.iter().copied());
        if values().any(|x| !x.is_finite()) {
            anyhow::bail!("{name}: metrics.{k}: a value is not a finite number");
        }
        if let Some(x) = values().find(|x| *x < 0.0) {
            anyhow::bail!("{name}: metrics.{k}: a value is negative ({x})");
        }
        if NEVER_ZERO_UNITS.contains(&m.unit.as_str()) && values().any(|x| x == 0.0) {
            anyhow::bail!(
                "{name}: metrics.{k}: a value is 0 {}, which no run measures",
                m.unit
            );
        }
    }
    Ok(())
}

/// `OWNER/NAME`, as GitHub allows them.
fn valid_repository(full: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    full.split_once('/')
        .is_some_and(|(owner, name)| ok(owner) && ok(name))
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
            "created_at": "2026-11-27T10:00:00Z", "workload": "import:hyperfine",
            "environment": {"os_version": "Ubuntu 24.04 <b>", "cpu_model": "AMD EPYC @ 2.4GHz"},
            "scenarios": [{"name": "single", "command": "sh -c 'a | b' # ::error::x", "iterations": 1,
                "warmup": 0, "samples": [], "warmup_samples": [], "summaries": {"wall_ms": serde_json::to_value(Summary::of(&[1.0]).unwrap()).unwrap()},
                "overhead_ms_mean": 0.0}],
            "metrics": {"single.latency_p50_ms": {"value": 1.0, "unit": "µs", "scenario": "single",
                "measure": "wall_ms", "statistic": "p50", "samples": [1.0]}},
        })
    }

    type Edit = Box<dyn Fn(&mut Value)>;

    fn error(edit: impl Fn(&mut Value)) -> String {
        let mut v = valid();
        edit(&mut v);
        Results::parse("r.json", &v.to_string())
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn numbers_are_finite_not_negative_and_measured_ones_not_zero() {
        let with = |value: f64, unit: &str, samples: &[f64]| {
            serde_json::json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
                "created_at": "x", "workload": "w", "environment": {}, "scenarios": [],
                "metrics": {"a.b": {"value": value, "unit": unit, "samples": samples}}})
            .to_string()
        };
        assert!(Results::parse("r.json", &with(1.5, "ms", &[1.5, 1.6])).is_ok());
        // Zero bytes allocated per operation is a real measurement.
        assert!(Results::parse("r.json", &with(0.0, "bytes", &[])).is_ok());
        for (v, unit, samples, says) in [
            (-1.0, "ms", vec![], "metrics.a.b: a value is negative (-1)"),
            (
                1.0,
                "ms",
                vec![1.0, -0.5],
                "metrics.a.b: a value is negative (-0.5)",
            ),
            (-3.0, "ops/s", vec![], "a value is negative"),
            (
                0.0,
                "ms",
                vec![],
                "metrics.a.b: a value is 0 ms, which no run measures",
            ),
            (2.0, "MB", vec![2.0, 0.0], "a value is 0 MB"),
        ] {
            let e = Results::parse("r.json", &with(v, unit, &samples))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("r.json: ") && e.contains(says), "{e}");
        }
    }

    #[test]
    fn free_text_may_hold_markup_but_not_control_characters() {
        Results::parse("r.json", &valid().to_string())
            .expect("markup in free text is escaped later");
        assert_eq!(
            error(|v| v["environment"]["os_version"] = json!("a\nb")),
            "r.json: environment.os_version: holds control characters (U+000A first): \"a\\nb\""
        );
        assert_eq!(
            error(|v| v["scenarios"][0]["command"] = json!("x".repeat(COMMAND_MAX + 1))),
            format!("r.json: scenarios[0].command: is {} characters long; at most {COMMAND_MAX} are allowed", COMMAND_MAX + 1)
        );
        assert!(error(|v| v["created_at"] = json!("\u{1b}[2J"))
            .starts_with("r.json: created_at: holds control characters"));
    }

    #[test]
    fn why_tables_are_checked_like_the_rest() {
        let with = |why: &str| {
            Results::parse(
                "r.json",
                &format!(
                    r#"{{"schema_version":1,"tool":"bench-gate","tool_version":"0","created_at":"x","workload":"w","environment":{{}},"scenarios":[],"metrics":{{"s.instructions":{{"value":1.0,"unit":"instructions","samples":[]}}}},"why":[{why}]}}"#
                ),
            )
        };
        let good = r#"{"scenario":"s","metric":"s.instructions","kind":"changed","base_total":1,"head_total":2,"functions":[{"name":"f <T>","file":"a.c","line":3,"before_self":1,"before_inclusive":1,"after_self":2,"after_inclusive":2}],"flamegraph":"r.json.s.why.svg","seconds":0.5}"#;
        let r = with(good).unwrap();
        assert_eq!(r.why[0].functions[0].name, "f <T>");
        for (bad, says) in [
            (
                good.replace("r.json.s.why.svg", "../x.svg"),
                "why[0].flamegraph",
            ),
            (
                good.replace("f <T>", "f\\u001b[31m"),
                "why[0].functions[0].name",
            ),
            (
                good.replace("\"after_self\":2", "\"after_self\":-2"),
                "why[0]: a count",
            ),
            (
                good.replace("\"scenario\":\"s\"", "\"scenario\":\"s s\""),
                "why[0].scenario",
            ),
        ] {
            let e = with(&bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn identifiers_follow_their_charset_and_the_error_names_the_field() {
        let cases: Vec<(&str, Edit)> = vec![
            (
                "workload: \"### x\" is not allowed: letters, digits and _ . - / : only",
                Box::new(|v| v["workload"] = json!("### x")),
            ),
            (
                "environment key: \"a b\" is not allowed",
                Box::new(|v| v["environment"]["a b"] = json!("x")),
            ),
            (
                "scenarios[0].name: \"@me\" is not allowed",
                Box::new(|v| v["scenarios"][0]["name"] = json!("@me")),
            ),
            (
                "scenarios[0].summaries key: \"<x>\"",
                Box::new(|v| {
                    v["scenarios"][0]["summaries"]["<x>"] =
                        v["scenarios"][0]["summaries"]["wall_ms"].clone()
                }),
            ),
            (
                "metrics key: \"a[b](c)\"",
                Box::new(|v| {
                    v["metrics"]["a[b](c)"] = v["metrics"]["single.latency_p50_ms"].clone()
                }),
            ),
            (
                "metrics.single.latency_p50_ms.unit: \"ms <img>\" is not allowed",
                Box::new(|v| v["metrics"]["single.latency_p50_ms"]["unit"] = json!("ms <img>")),
            ),
            (
                "metrics.single.latency_p50_ms.scenario: \"\" is empty",
                Box::new(|v| v["metrics"]["single.latency_p50_ms"]["scenario"] = json!("")),
            ),
            (
                "metrics.single.latency_p50_ms.measure",
                Box::new(|v| v["metrics"]["single.latency_p50_ms"]["measure"] = json!("wall ms")),
            ),
            (
                "skipped.single.latency_p50_ms: only a counted measure",
                Box::new(|v| {
                    v["skipped"] = json!({"single.latency_p50_ms": {"reason": "no valgrind"}})
                }),
            ),
            (
                "github.event",
                Box::new(
                    |v| v["github"] = json!({"repository": "o/r", "event": "pull request", "head_sha": "a".repeat(40)}),
                ),
            ),
            (
                "confirmations[0].failing_after[0]",
                Box::new(
                    |v| v["confirmations"] = json!([{"scenario": "single", "rounds": 1, "failing_before": [], "failing_after": ["`x`"]}]),
                ),
            ),
            (
                "shards[0].environment.os",
                Box::new(
                    |v| v["shards"] = json!([{"index": 1, "total": 1, "scenarios": [], "all_scenarios": [], "environment": {"os": "\r"}}]),
                ),
            ),
        ];
        for (want, edit) in cases {
            let e = error(edit);
            let want = want.replace("\"\" is empty", "is empty");
            assert!(e.starts_with(&format!("r.json: {want}")), "{want}\n{e}");
        }
    }

    #[test]
    fn only_counted_measures_may_be_skipped() {
        for name in [
            "s.instructions",
            "s.alloc_bytes",
            "s.alloc_blocks",
            "s.heap_peak_bytes",
        ] {
            assert!(counted_metric_name(name), "{name}");
            let mut v = valid();
            v["skipped"] = json!({ name: {"reason": "valgrind not found on PATH"} });
            Results::parse("r.json", &v.to_string()).unwrap();
        }
        for name in ["s.latency_p50_ms", "s.instructions_ms", "instructions"] {
            assert!(!counted_metric_name(name), "{name}");
        }
    }

    #[test]
    fn the_base_run_of_an_ab_block_is_checked_the_same_way() {
        let ab = |v: &mut Value, base: Value| {
            v["ab"] = json!({"requested": "main", "base_commit": "unknown", "head_commit": "unknown",
                "order": "ABBA", "base": base, "skipped": []});
        };
        let mut base = valid();
        base["environment"]["k"] = json!("line\nbreak");
        let e = error(|v| ab(v, base.clone()));
        assert!(
            e.starts_with("r.json: ab.base.environment.k: holds control characters"),
            "{e}"
        );
        let mut nested = valid();
        ab(&mut nested, valid());
        let e = error(|v| ab(v, nested.clone()));
        assert!(
            e.starts_with("r.json: ab.base.ab: a base run cannot hold another"),
            "{e}"
        );
        let e = error(|v| {
            ab(v, valid());
            v["ab"]["order"] = json!("AB BA");
        });
        assert!(e.starts_with("r.json: ab.order:"), "{e}");
    }

    #[test]
    fn what_bench_gate_writes_itself_always_reads_back() {
        assert_eq!(free_text("a\nb\tc", 100), "a\\nb\\tc");
        assert_eq!(free_text("abcdef", 4), "abc…");
        assert_eq!(free_text("abcd", 4), "abcd");
        let mut v = valid();
        v["scenarios"][0]["command"] = json!(free_text("sh -c 'line one\nline two'", COMMAND_MAX));
        v["environment"]["kernel"] = json!(free_text("6.1\u{7}", TEXT_MAX));
        Results::parse("r.json", &v.to_string()).unwrap();
    }
}
