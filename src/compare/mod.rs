//! Comparing fresh results with a baseline: the only place where a metric's
//! status and the overall verdict are decided.
//!
//! For a lower-is-better metric, change % = (current − baseline) / baseline × 100;
//! for a higher-is-better one the regression is the negated change. A
//! regression strictly above the failure threshold is a failure, strictly
//! above the warning threshold a warning; an improvement by more than the
//! warning threshold is shown as improved. A baseline of 0 has no percentage:
//! the metric passes while the current value is 0 too, and is a warning
//! ("baseline is 0") otherwise.
//!
//! Nothing compared is never a pass: a baseline metric absent from the
//! results is `missing` and counts as a failure unless the policy says
//! otherwise ([`MissingPolicy`]), and [`refusal`] turns a comparison in which
//! no metric matched, or results of another workload, into an error.
//!
//! The baseline file's values are the truth: a value that disagrees with the
//! statistic of its own stored samples ([`samples_disagree`]) was edited by
//! hand, so those samples are not used for that metric.

pub mod calibration;
pub mod family;
pub mod gate;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::baseline::{Baseline, Thresholds};
use crate::model::{Direction, GateOn, MissingPolicy, Named, Results};
use crate::stats::Summary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Latency,
    Memory,
    Startup,
    /// Provider calls a service counted (unit `calls`).
    Calls,
    /// Prompt or completion tokens a service counted (unit `tokens`).
    Tokens,
    /// Instructions counted under Valgrind: deterministic, so much tighter.
    Instructions,
    Other,
}

impl MetricKind {
    /// From the unit: `calls` → calls, `tokens` → tokens, `instructions` →
    /// instructions; then from the
    /// name: `startup`/`cold` → startup; `memory`/`_mb`/`peak`/`rss` →
    /// memory; `latency`/`_ms`/`_s`/`time` → latency.
    pub fn of(name: &str, unit: &str) -> MetricKind {
        let n = name.to_lowercase();
        if unit == "calls" {
            MetricKind::Calls
        } else if unit == "tokens" {
            MetricKind::Tokens
        } else if unit == "instructions" {
            MetricKind::Instructions
        } else if n.contains("startup") || n.contains("cold") {
            MetricKind::Startup
        } else if n.contains("memory")
            || n.ends_with("_mb")
            || n.contains("peak")
            || n.contains("rss")
            || unit == "MB"
        {
            MetricKind::Memory
        } else if n.contains("latency")
            || n.ends_with("_ms")
            || n.ends_with("_s")
            || n.contains("time")
            || unit == "ms"
            || unit == "s"
            || unit == "ns"
        {
            MetricKind::Latency
        } else {
            MetricKind::Other
        }
    }

    /// The design's table: latency +10 % / +25 %, memory and startup +20 % / +50 %.
    /// Counts are no noise against a deterministic stand-in: any increase
    /// in provider calls fails (0 % / 0 %); any increase in tokens warns,
    /// more than 10 % fails; instruction counts +1 % / +3 %.
    pub fn default_thresholds(self) -> Thresholds {
        match self {
            MetricKind::Calls => Thresholds {
                warning: 0.0,
                failure: 0.0,
            },
            MetricKind::Tokens => Thresholds {
                warning: 0.0,
                failure: 10.0,
            },
            MetricKind::Instructions => Thresholds {
                warning: 1.0,
                failure: 3.0,
            },
            MetricKind::Memory | MetricKind::Startup => Thresholds {
                warning: 20.0,
                failure: 50.0,
            },
            MetricKind::Latency | MetricKind::Other => Thresholds {
                warning: 10.0,
                failure: 25.0,
            },
        }
    }
}

pub use crate::baseline::unit_from_name;
pub use rules::edited::{samples_disagree, EDIT_TOLERANCE, EDIT_TOLERANCE_ABS};
pub use rules::environment::FINGERPRINT_KEYS;
pub use rules::floor::{FLOOR_MB, FLOOR_MS};
pub use rules::interval::{attach_interval, decide_by_interval};
pub use rules::threshold::{classify, decide};

/// Where a metric's thresholds came from, lowest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSource {
    Default,
    BaselineFile,
    Metric,
    Flag,
}

/// How failures are treated when the baseline was measured on a different
/// machine (other CPU, core count, memory, OS, kernel, runner image or
/// bench-gate version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvPolicy {
    /// Failures count as warnings, and the report says why.
    #[default]
    Warn,
    /// Failures stand.
    Strict,
}

/// How a metric's status is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionRule {
    /// The point estimate against the thresholds.
    Threshold,
    /// The bootstrap interval must agree: a failure needs its lower end above
    /// the failure threshold; an interval straddling it is an "inconclusive"
    /// warning. Metrics without raw samples on both sides use the threshold rule.
    #[default]
    Interval,
}

impl Named for EnvPolicy {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            EnvPolicy::Warn,
            "warn",
            "failures count as warnings, and the report says why",
        ),
        (EnvPolicy::Strict, "strict", "failures stand"),
    ];
}

impl Named for DecisionRule {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (DecisionRule::Threshold, "threshold", "the point estimate against the thresholds"),
        (DecisionRule::Interval, "interval", "a failure needs its interval's lower end above the failure threshold; a straddling interval is an inconclusive warning"),
    ];
}

impl MissingPolicy {
    /// The status a missing metric counts as, if any.
    pub fn counts_as(self) -> Option<Status> {
        match self {
            MissingPolicy::Fail => Some(Status::Failure),
            MissingPolicy::Warn => Some(Status::Warning),
            MissingPolicy::Ignore => None,
        }
    }
}

/// Command-line rules: `--warn-threshold` / `--fail-threshold` (override
/// every other threshold), the absolute floors, and the environment policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdFlags {
    pub warning: Option<f64>,
    pub failure: Option<f64>,
    pub floor_ms: f64,
    pub floor_mb: f64,
    pub env_policy: EnvPolicy,
    pub decision: DecisionRule,
    pub gate_on: GateOn,
    /// What a baseline metric absent from the results counts as.
    pub missing: MissingPolicy,
    /// Compare results of another workload than the baseline's (refused by default).
    pub allow_other_workload: bool,
}

impl Default for ThresholdFlags {
    fn default() -> Self {
        ThresholdFlags {
            warning: None,
            failure: None,
            floor_ms: FLOOR_MS,
            floor_mb: FLOOR_MB,
            env_policy: EnvPolicy::Warn,
            decision: DecisionRule::Interval,
            gate_on: GateOn::Ab,
            missing: MissingPolicy::Fail,
            allow_other_workload: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Failure,
    Warning,
    Missing,
    /// Asked for but not measured here, with the reason (no Valgrind): shown,
    /// counted as neither a pass nor a failure.
    Skipped,
    New,
    Pass,
    Improved,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Failure => "failure",
            Status::Warning => "warning",
            Status::Missing => "missing",
            Status::Skipped => "skipped",
            Status::New => "new",
            Status::Pass => "pass",
            Status::Improved => "improved",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Counts {
    /// Any failure fails; else any warning warns. Missing metrics count as
    /// the missing policy says (a failure by default).
    pub fn verdict(&self) -> Verdict {
        let missing = |s| self.missing > 0 && self.missing_policy.counts_as() == Some(s);
        if self.failure > 0 || missing(Status::Failure) {
            Verdict::Fail
        } else if self.warning > 0 || missing(Status::Warning) {
            Verdict::Warn
        } else {
            Verdict::Pass
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    pub name: String,
    pub unit: String,
    pub direction: Direction,
    pub kind: MetricKind,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// (current − baseline) / baseline × 100, whatever the direction.
    pub change_pct: Option<f64>,
    /// How much worse, in percent: the change for lower-is-better metrics,
    /// the negated change for higher-is-better ones.
    pub regression_pct: Option<f64>,
    pub thresholds: Thresholds,
    pub threshold_source: ThresholdSource,
    pub status: Status,
    /// For a missing metric, what it counts as under the missing policy
    /// (`failure` or `warning`; absent when ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts_as: Option<Status>,
    pub note: Option<String>,
    /// The baseline's value disagrees with its own stored samples (edited by
    /// hand): the value decides and the samples are not used.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub baseline_samples_ignored: bool,
    /// Distribution of the current raw samples, when there are any.
    pub current_summary: Option<Summary>,
    /// Distribution of the baseline's raw samples, when it stored them.
    pub baseline_summary: Option<Summary>,
    /// 95 % bootstrap interval of `change_pct`, from both sides' raw samples
    /// (seeded, reproducible); never one that does not contain `change_pct`
    /// (see [`attach_interval`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<crate::stats::bootstrap::Interval>,
    /// The raw samples themselves (for charts), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_samples: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_samples: Option<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvDifference {
    pub key: String,
    pub baseline: String,
    pub current: String,
}

impl MetricComparison {
    /// The status this metric counts as: its own, or for a missing metric
    /// what the missing policy makes it.
    pub fn effective_status(&self) -> Status {
        self.counts_as.unwrap_or(self.status)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Counts {
    pub failure: usize,
    pub warning: usize,
    pub missing: usize,
    /// Asked for but not measured (no Valgrind here): in no verdict.
    pub skipped: usize,
    pub new: usize,
    pub pass: usize,
    pub improved: usize,
    /// How `missing` counts in the verdict.
    pub missing_policy: MissingPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub baseline_file: String,
    pub baseline_version: String,
    pub baseline_captured_at: String,
    pub workload: String,
    /// The workload the baseline records, if it records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_workload: Option<String>,
    pub results_created_at: String,
    pub verdict: Verdict,
    pub counts: Counts,
    /// Worst first: failures, warnings, missing, new, passes, improvements;
    /// within a status, the largest regression first.
    pub metrics: Vec<MetricComparison>,
    /// Environment keys both sides record, with different values.
    pub environment_differences: Vec<EnvDifference>,
    /// The fingerprint keys among those: the machines are not comparable.
    pub environment_mismatch: Vec<String>,
    pub env_policy: EnvPolicy,
    pub baseline_environment: BTreeMap<String, String>,
    pub current_environment: BTreeMap<String, String>,
    /// A/B mode: the same results against the base commit, measured side by
    /// side on this machine. `verdict` then follows `gate_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side_by_side: Option<Box<Comparison>>,
    /// Which view decided `verdict`; `None` without an A/B run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate_on: Option<GateOn>,
    /// A/B mode: what was measured as the base, and scenarios left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ab: Option<AbInfo>,
    /// Why it got slower: the results' function tables (see [`crate::model::Why`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<crate::model::Why>,
}

/// The A/B run's facts a report shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbInfo {
    /// "base commit `1738f78`" or "base tree `../a`".
    pub base_label: String,
    pub requested: String,
    pub base_commit: String,
    pub head_commit: String,
    pub order: String,
    /// Measured pairs per scenario.
    pub pairs: BTreeMap<String, usize>,
    pub skipped: Vec<crate::model::AbSkipped>,
    /// How the base commit was chosen, when it says (a pull request's base).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_how: Option<String>,
    /// Why the base tree's own bench-gate.yml could not be used, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_config_error: Option<String>,
}

impl Comparison {
    /// The verdict of the committed-baseline view alone.
    pub fn baseline_verdict(&self) -> Verdict {
        self.counts.verdict()
    }

    /// The views that decide `verdict`: this one, the side-by-side one, or both.
    pub fn deciding_views(&self) -> Vec<&Comparison> {
        match (&self.side_by_side, self.gate_on) {
            (Some(s), Some(GateOn::Ab)) => vec![s],
            (Some(s), Some(GateOn::Both)) => vec![self, s],
            _ => vec![self],
        }
    }

    /// The view whose verdict `verdict` is (with `gate_on: both`, the worse;
    /// the side-by-side one on a tie), and whether it is the side-by-side one.
    pub fn deciding_view(&self) -> (&Comparison, bool) {
        match (&self.side_by_side, self.gate_on) {
            (Some(s), Some(GateOn::Ab)) => (s, true),
            (Some(s), Some(GateOn::Both)) if s.verdict >= self.baseline_verdict() => (s, true),
            _ => (self, false),
        }
    }
}

/// Thresholds for one metric: kind default < baseline file < metric < flags.
pub fn thresholds_for(
    kind: MetricKind,
    file: Option<Thresholds>,
    metric: (Option<f64>, Option<f64>),
    flags: ThresholdFlags,
) -> (Thresholds, ThresholdSource) {
    let mut t = kind.default_thresholds();
    let mut source = ThresholdSource::Default;
    if let Some(f) = file {
        t = f;
        source = ThresholdSource::BaselineFile;
    }
    if metric.0.is_some() || metric.1.is_some() {
        t.warning = metric.0.unwrap_or(t.warning);
        t.failure = metric.1.unwrap_or(t.failure);
        source = ThresholdSource::Metric;
    }
    if flags.warning.is_some() || flags.failure.is_some() {
        t.warning = flags.warning.unwrap_or(t.warning);
        t.failure = flags.failure.unwrap_or(t.failure);
        source = ThresholdSource::Flag;
    }
    // A warning threshold above the failure one would never warn before
    // failing (`--fail-threshold 15` against memory's default +20 %
    // warning): the warning threshold is at most the failure threshold.
    t.warning = t.warning.min(t.failure);
    (t, source)
}

/// Compares results with a baseline. When the results hold an A/B run, the
/// same results are also compared with the base commit measured side by side
/// (`side_by_side`), and `verdict` follows `flags.gate_on`.
pub fn compare(
    baseline: &Baseline,
    baseline_file: &str,
    results: &Results,
    flags: ThresholdFlags,
) -> Comparison {
    let mut c = compare_view(baseline, baseline_file, results, flags, None);
    c.why = results.why.clone();
    let Some(ab) = &results.ab else {
        return c;
    };
    let short = ab.base_commit[..ab.base_commit.len().min(12)].to_string();
    // The base commit as a baseline, with the committed baseline's thresholds
    // and directions, so that both views judge a metric alike.
    let mut base = Baseline::from_results(&ab.base, short.clone());
    base.thresholds = baseline.thresholds;
    for (name, m) in base.metrics.iter_mut() {
        if let Some(committed) = baseline.metrics.get(name) {
            m.warning = committed.warning;
            m.failure = committed.failure;
            m.direction = committed.direction;
        }
    }
    let label = match (&ab.base_dir, &ab.base_how) {
        (Some(dir), _) => format!("base tree {dir}, measured side by side"),
        (None, Some(how)) => format!(
            "base commit {short} ({}), measured side by side",
            how.replace(['`', '|', '<', '>', '@'], " ")
        ),
        (None, None) => format!(
            "base commit {short} (merge base of {} and HEAD), measured side by side",
            ab.requested.replace(['`', '|', '<', '>', '@'], " ")
        ),
    };
    // Both trees ran the head's bench-gate.yml: a metric that only the base's
    // own config defines was dropped (or renamed) by the change.
    let expected = ab.base_config_metrics.as_deref().unwrap_or_default();
    let mut sbs = compare_view(&base, &label, results, flags, Some(expected));
    for m in sbs.metrics.iter_mut().filter(|m| m.status == Status::New) {
        let scenario = results
            .metrics
            .get(&m.name)
            .and_then(|x| x.scenario.as_ref());
        let skip = ab.skipped.iter().find(|k| Some(&k.scenario) == scenario);
        let why = skip.map(|k| format!("not measured on the base commit: {}", k.reason));
        unmeasured_on_base(m, why, &c, ab.base_config_metrics.as_deref(), flags);
    }
    sort_worst_first(&mut sbs.metrics);
    sbs.counts = tally(&sbs.metrics, flags.missing);
    sbs.verdict = sbs.counts.verdict();
    c.verdict = match flags.gate_on {
        GateOn::Ab => sbs.verdict,
        GateOn::Baseline => c.verdict,
        GateOn::Both => c.verdict.max(sbs.verdict),
    };
    c.gate_on = Some(flags.gate_on);
    c.ab = Some(AbInfo {
        base_label: ab.base_label_with(&crate::escape::md_code),
        requested: ab.requested.clone(),
        base_commit: ab.base_commit.clone(),
        head_commit: ab.head_commit.clone(),
        order: ab.order.clone(),
        pairs: ab
            .base
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), s.samples.len()))
            .collect(),
        skipped: ab.skipped.clone(),
        base_how: ab.base_how.clone(),
        base_config_error: ab.base_config_error.clone(),
    });
    c.side_by_side = Some(Box::new(sbs));
    c
}

/// One view: `results` against `baseline`. With `paired` (the side-by-side
/// view), the baseline is the base commit measured alternately with the
/// results, sample `i` with sample `i`, median metrics are decided on the
/// paired log-ratios, and the metrics the base tree's own config defines must
/// be in the results too.
///
/// Every metric on either side gets its inputs, then the decision rules in
/// their order ([`rules::RULES`]); the view collects the outcomes.
fn compare_view(
    baseline: &Baseline,
    baseline_file: &str,
    results: &Results,
    flags: ThresholdFlags,
    paired: Option<&[String]>,
) -> Comparison {
    let expected = paired.unwrap_or_default();
    let names: BTreeSet<&String> = baseline
        .metrics
        .keys()
        .chain(results.metrics.keys())
        .chain(results.skipped.keys())
        .chain(expected)
        .collect();
    let environment_mismatch =
        rules::environment::mismatch(&baseline.environment, &results.environment);
    let ctx = rules::RuleContext {
        flags,
        paired: paired.is_some(),
        environment_mismatch: &environment_mismatch,
    };
    let mut metrics: Vec<MetricComparison> = names
        .into_iter()
        .map(|name| {
            let mut m = rules::MetricDecision::new(
                name,
                baseline.metrics.get(name),
                baseline.samples.get(name).map(Vec::as_slice),
                results.metrics.get(name),
                baseline.thresholds,
                flags,
            );
            m.skipped = results.skipped.get(name);
            rules::run(&mut m, &ctx);
            m.finish()
        })
        .collect();
    sort_worst_first(&mut metrics);
    let counts = tally(&metrics, flags.missing);
    let verdict = counts.verdict();
    let environment_differences = baseline
        .environment
        .iter()
        .filter_map(|(k, bv)| {
            let cv = results.environment.get(k)?;
            (cv != bv).then(|| EnvDifference {
                key: k.clone(),
                baseline: bv.clone(),
                current: cv.clone(),
            })
        })
        .collect();
    Comparison {
        baseline_file: baseline_file.to_string(),
        baseline_version: baseline.version.clone(),
        baseline_captured_at: baseline.captured_at.clone(),
        workload: results.workload.clone(),
        baseline_workload: baseline.workload.clone(),
        results_created_at: results.created_at.clone(),
        verdict,
        counts,
        metrics,
        environment_differences,
        environment_mismatch,
        env_policy: flags.env_policy,
        baseline_environment: baseline.environment.clone(),
        current_environment: results.environment.clone(),
        side_by_side: None,
        gate_on: None,
        ab: None,
        why: Vec::new(),
    }
}

/// Worst first, a missing metric with what it counts as; within a status,
/// the largest regression first.
fn sort_worst_first(metrics: &mut [MetricComparison]) {
    metrics.sort_by(|a, b| {
        (a.effective_status(), a.status)
            .cmp(&(b.effective_status(), b.status))
            .then_with(|| {
                b.regression_pct
                    .unwrap_or(f64::MIN)
                    .total_cmp(&a.regression_pct.unwrap_or(f64::MIN))
                    .then_with(|| a.name.cmp(&b.name))
            })
    });
}

/// How many metrics have each status.
fn tally(metrics: &[MetricComparison], missing: MissingPolicy) -> Counts {
    let mut counts = Counts {
        missing_policy: missing,
        ..Counts::default()
    };
    for m in metrics {
        *match m.status {
            Status::Failure => &mut counts.failure,
            Status::Warning => &mut counts.warning,
            Status::Missing => &mut counts.missing,
            Status::Skipped => &mut counts.skipped,
            Status::New => &mut counts.new,
            Status::Pass => &mut counts.pass,
            Status::Improved => &mut counts.improved,
        } += 1;
    }
    counts
}

/// A metric `new` side by side (the results have it, the base run does
/// not; `skipped`: its scenario failed on the base, and why) must not pass
/// by absence: the committed baseline's verdict stands in when the
/// committed baseline has the metric. Else it is left `new` only when the
/// change adds it (the base tree's own config does not define it); when the
/// base could have measured it (its scenario failed there, or the results
/// do not say what the base defines) it is `missing`, under the missing
/// policy.
fn unmeasured_on_base(
    m: &mut MetricComparison,
    skipped: Option<String>,
    committed: &Comparison,
    base_config: Option<&[String]>,
    flags: ThresholdFlags,
) {
    let why = skipped
        .clone()
        .unwrap_or_else(|| "not measured on the base commit".to_string());
    if let Some(c) = committed
        .metrics
        .iter()
        .find(|c| c.name == m.name && c.baseline.is_some())
    {
        let note = match &c.note {
            Some(n) => format!("{why}; the committed baseline decides: {n}"),
            None => format!("{why}; the committed baseline decides"),
        };
        *m = c.clone();
        m.note = Some(note);
        return;
    }
    if base_config.is_some_and(|names| !names.contains(&m.name)) {
        if skipped.is_some() {
            m.note = skipped;
        }
        return;
    }
    let (counts_as, note) = rules::presence::missing_status(
        &format!("{why}, and the committed baseline has no value for it"),
        flags.missing,
    );
    m.status = Status::Missing;
    m.counts_as = counts_as;
    m.note = Some(note);
}

/// How many names `refusal` lists from each side.
const NAMES_SHOWN: usize = 10;

fn some_names<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> String {
    let n = names.len();
    let shown: Vec<&str> = names.take(NAMES_SHOWN).map(String::as_str).collect();
    match n {
        0 => "none".to_string(),
        _ if n > NAMES_SHOWN => format!(
            "{} (and {} more; {n} in all)",
            shown.join(", "),
            n - NAMES_SHOWN
        ),
        _ => format!("{} ({n} in all)", shown.join(", ")),
    }
}

/// Why a comparison must not be used at all (an error, exit 3), if it must not:
/// results of another workload than the baseline records (unless
/// `allow_other_workload`), or a view in which not one metric of the
/// baseline matched the results. Nothing compared is never a pass.
///
/// A baseline that records no workload (the design's format, hand-written
/// files) is compared with results of any workload: there is nothing to
/// check them against, and the metric names must still match.
pub fn refusal(c: &Comparison, results: &Results, flags: ThresholdFlags) -> Option<String> {
    if let Some(inc) = &results.incomplete {
        return Some(format!(
            "the results are incomplete (scenario '{}' failed: {}): a comparison of part of the workload decides nothing; fix the scenario and run again",
            inc.scenario, inc.error
        ));
    }
    if let Some(w) = &c.baseline_workload {
        if *w != c.workload && !flags.allow_other_workload {
            return Some(format!(
                "the results are of workload '{}', but the baseline {} was captured from workload '{w}'; compare results of the same workload, or pass --allow-other-workload (config `compare.allow_other_workload: true`) if this is on purpose",
                c.workload, c.baseline_file
            ));
        }
    }
    let expected = results
        .ab
        .as_ref()
        .and_then(|ab| ab.base_config_metrics.as_deref())
        .unwrap_or_default();
    let views =
        std::iter::once((c, &[][..])).chain(c.side_by_side.as_deref().map(|s| (s, expected)));
    for (view, expected) in views {
        let baseline_names: BTreeSet<&String> = view
            .metrics
            .iter()
            .filter(|m| m.baseline.is_some())
            .map(|m| &m.name)
            .chain(expected)
            .collect();
        // Without a baseline yet (A/B mode) every metric is new, and so is
        // every metric of a base commit that had no config and ran nothing.
        if baseline_names.is_empty()
            || view
                .metrics
                .iter()
                .any(|m| m.baseline.is_some() && m.current.is_some())
        {
            continue;
        }
        let what = if std::ptr::eq(view, c) {
            format!("the baseline {}", view.baseline_file)
        } else {
            format!("the {}", view.baseline_file)
        };
        return Some(format!(
            "not one metric of {what} is in the results, so nothing can be compared. The baseline has {}; the results (workload '{}') have {}",
            some_names(baseline_names.into_iter()),
            c.workload,
            some_names(results.metrics.keys()),
        ));
    }
    None
}

/// The comparison, or the error [`refusal`] gives when it must not be used.
pub fn compare_checked(
    baseline: &Baseline,
    baseline_file: &str,
    results: &Results,
    flags: ThresholdFlags,
) -> anyhow::Result<Comparison> {
    let c = compare(baseline, baseline_file, results, flags);
    match refusal(&c, results, flags) {
        Some(why) => anyhow::bail!("{why}"),
        None => Ok(c),
    }
}

/// The exit code of `compare` in CI mode (see the README's table).
pub fn exit_code(verdict: Verdict, fail_on_regression: bool, fail_on_warning: bool) -> u8 {
    use crate::model::Exit;
    match verdict {
        Verdict::Fail if fail_on_regression || fail_on_warning => Exit::Failure,
        Verdict::Warn if fail_on_warning => Exit::Warning,
        _ => Exit::Ok,
    }
    .code()
}

#[cfg(test)]
mod tests {
    use super::rules::testing::status;
    use super::*;
    use crate::model::Statistic;

    #[test]
    fn threshold_precedence() {
        let file_t = Thresholds {
            warning: 5.0,
            failure: 8.0,
        };
        let file = Some(file_t);
        let none = ThresholdFlags::default();
        assert_eq!(
            thresholds_for(MetricKind::Memory, None, (None, None), none),
            (
                Thresholds {
                    warning: 20.0,
                    failure: 50.0
                },
                ThresholdSource::Default
            )
        );
        assert_eq!(
            thresholds_for(MetricKind::Memory, file, (None, None), none),
            (file_t, ThresholdSource::BaselineFile)
        );
        assert_eq!(
            thresholds_for(MetricKind::Memory, file, (None, Some(30.0)), none),
            (
                Thresholds {
                    warning: 5.0,
                    failure: 30.0
                },
                ThresholdSource::Metric
            )
        );
        let flags = ThresholdFlags {
            warning: Some(1.0),
            failure: None,
            ..ThresholdFlags::default()
        };
        assert_eq!(
            thresholds_for(MetricKind::Memory, file, (None, Some(30.0)), flags),
            (
                Thresholds {
                    warning: 1.0,
                    failure: 30.0
                },
                ThresholdSource::Flag
            )
        );
        // A metric threshold moves a boundary: +26 % fails at the default,
        // passes with failure: 30 as a warning.
        let (t, _) = thresholds_for(MetricKind::Latency, None, (None, Some(30.0)), none);
        assert_eq!(status(100.0, 126.0, Direction::Lower, t), Status::Warning);
        assert_eq!(status(100.0, 130.0, Direction::Lower, t), Status::Warning);
        assert_eq!(status(100.0, 130.01, Direction::Lower, t), Status::Failure);
        // The warning threshold is never above the failure one: memory's
        // default +20 % warning under `--fail-threshold 15` is +15 %.
        let fail_15 = ThresholdFlags {
            failure: Some(15.0),
            ..ThresholdFlags::default()
        };
        for kind in [MetricKind::Memory, MetricKind::Startup, MetricKind::Latency] {
            let (t, _) = thresholds_for(kind, None, (None, None), fail_15);
            assert_eq!(
                (t.warning, t.failure),
                (
                    if kind == MetricKind::Latency {
                        10.0
                    } else {
                        15.0
                    },
                    15.0
                )
            );
        }
        let (t, _) = thresholds_for(MetricKind::Latency, file, (Some(12.0), None), none);
        assert_eq!((t.warning, t.failure), (8.0, 8.0));
    }

    fn results(env: &[(&str, &str)], metrics: &[(&str, f64, &str)]) -> Results {
        let m: serde_json::Map<String, serde_json::Value> = metrics
            .iter()
            .map(|(k, v, u)| (k.to_string(), serde_json::json!({"value": v, "unit": u})))
            .collect();
        let env: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        Results::parse(
            "r",
            &serde_json::json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0", "created_at": "x",
                                "workload": "w", "environment": env, "scenarios": [], "metrics": m})
            .to_string(),
        )
        .unwrap()
    }

    fn baseline(yaml_metrics: &str, env: &str) -> Baseline {
        Baseline::parse(
            "b",
            &format!("version: '1'\nenvironment: {{{env}}}\nmetrics:\n{yaml_metrics}"),
        )
        .unwrap()
    }

    /// Head results holding an A/B run: `base[i]` and `head[i]` are pair `i`
    /// of a p50 latency and a p95 latency from the same samples.
    fn ab_results(base: &[f64], head: &[f64]) -> Results {
        let side = |xs: &[f64]| {
            let p = |q: f64| {
                let stat = if q == 50.0 {
                    Statistic::P50
                } else {
                    Statistic::P95
                };
                stat.of(&crate::stats::Summary::of(xs).unwrap())
            };
            let metric = |stat: &str, v: f64| {
                serde_json::json!({"value": v, "unit": "ms", "scenario": "job",
                "measure": "wall_ms", "statistic": stat, "samples": xs})
            };
            serde_json::json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0", "created_at": "x",
                "workload": "w", "environment": {}, "scenarios": [],
                "metrics": {"job.latency_p50_ms": metric("p50", p(50.0)), "job.latency_p95_ms": metric("p95", p(95.0))}})
        };
        let mut r = side(head);
        r["ab"] = serde_json::json!({"requested": "main", "base_commit": "1738f78a25d3f0a5e7ff33596f300e2d3ad23204",
            "head_commit": "bd18fc9e2e494c7ce1936d439c422e4dfb2b89a8", "order": "ABBA", "base": side(base)});
        Results::parse("r", &r.to_string()).unwrap()
    }

    #[test]
    fn side_by_side_pairs_cancel_drift_that_the_baseline_view_cannot() {
        // The machine got 40 % slower than when the baseline was captured,
        // and drifts by ±15 % between pairs; the head is 2 % slower than the base.
        let base: Vec<f64> = (0..20)
            .map(|k| 140.0 * (1.0 + 0.15 * (k as f64 / 3.0).sin()))
            .collect();
        let head: Vec<f64> = base.iter().map(|x| x * 1.02).collect();
        let r = ab_results(&base, &head);
        let b = baseline(
            "  job:\n    latency_p50_ms: 100\n    latency_p95_ms: 110\n",
            "",
        );
        let c = compare(&b, "b.yaml", &r, ThresholdFlags::default());
        let by_name =
            |c: &Comparison, n: &str| c.metrics.iter().find(|m| m.name == n).unwrap().clone();
        // Against the committed baseline: +40 %, a failure.
        assert_eq!(by_name(&c, "job.latency_p50_ms").status, Status::Failure);
        let sbs = c.side_by_side.as_deref().unwrap();
        let m = by_name(sbs, "job.latency_p50_ms");
        let i = m.interval.unwrap();
        // Paired: exactly +2 % in every pair, so the estimate and its interval are +2 %.
        assert!((m.change_pct.unwrap() - 2.0).abs() < 1e-9, "{m:?}");
        assert!(
            (i.lo - 2.0).abs() < 1e-9 && (i.hi - 2.0).abs() < 1e-9,
            "{i:?}"
        );
        assert_eq!(m.status, Status::Pass);
        // The tail has no pairing: the ratio of the p95s; from 20 samples a
        // side no order-statistic interval exists, so it does not gate.
        let tail = by_name(sbs, "job.latency_p95_ms");
        assert!((tail.change_pct.unwrap() - 2.0).abs() < 1e-6, "{tail:?}");
        assert!(tail.interval.is_none(), "{tail:?}");
        assert!(
            tail.note
                .as_deref()
                .unwrap()
                .contains("needs 86 iterations"),
            "{tail:?}"
        );
        // The default decides on the side-by-side view.
        assert_eq!((c.gate_on, c.verdict), (Some(GateOn::Ab), Verdict::Pass));
        assert_eq!(c.baseline_verdict(), Verdict::Fail);
        assert_eq!(c.ab.as_ref().unwrap().base_label, "base commit `1738f78`");
        // The committed baseline decides, or the worse of both.
        for (g, v) in [
            (GateOn::Baseline, Verdict::Fail),
            (GateOn::Both, Verdict::Fail),
            (GateOn::Ab, Verdict::Pass),
        ] {
            let flags = ThresholdFlags {
                gate_on: g,
                ..Default::default()
            };
            assert_eq!(compare(&b, "b.yaml", &r, flags).verdict, v, "{g:?}");
        }
        // The baseline's thresholds hold side by side too.
        let strict = baseline(
            "  job:\n    latency_p50_ms: {value: 100, warning: 0.5, failure: 1}\n",
            "",
        );
        let c = compare(&strict, "b.yaml", &r, ThresholdFlags::default());
        assert_eq!(
            by_name(c.side_by_side.as_deref().unwrap(), "job.latency_p50_ms").status,
            Status::Failure
        );
    }

    #[test]
    fn the_interval_softens_failures_and_never_hardens_a_pass() {
        // Five samples, identical on both sides: no change, but a wide interval.
        let xs = [100.0, 60.0, 140.0, 100.0, 70.0];
        let r = ab_results(&xs, &xs);
        let mut b = Baseline::from_results(&r, "1".into());
        let status = |b: &Baseline, decision| {
            let flags = ThresholdFlags {
                decision,
                ..Default::default()
            };
            let c = compare(b, "b", &r, flags);
            let m = c
                .metrics
                .iter()
                .find(|m| m.name == "job.latency_p50_ms")
                .unwrap()
                .clone();
            (m.status, m.interval.unwrap(), m.note)
        };
        let (st, i, _) = status(&b, DecisionRule::Interval);
        assert!(
            i.hi > 25.0,
            "the interval straddles the failure threshold: {i:?}"
        );
        assert_eq!(st, Status::Pass, "a 0 % change stays a pass");
        // +30 % on the point estimate with that spread: inconclusive, a warning.
        b.metrics.get_mut("job.latency_p50_ms").unwrap().value = 100.0 / 1.3;
        b.samples.insert(
            "job.latency_p50_ms".into(),
            xs.iter().map(|x| x / 1.3).collect(),
        );
        let (st, _, note) = status(&b, DecisionRule::Interval);
        assert_eq!(st, Status::Warning);
        assert!(note.unwrap().starts_with("inconclusive"));
        assert_eq!(status(&b, DecisionRule::Threshold).0, Status::Failure);
    }

    #[test]
    fn ab_blocks_from_untrusted_results_are_checked() {
        let ok = ab_results(&[1.0, 2.0], &[1.0, 2.0]);
        let mut v = serde_json::to_value(&ok).unwrap();
        let parse = |v: &serde_json::Value| Results::parse("r.json", &v.to_string());
        assert!(parse(&v).is_ok());
        // Sliced for display: a multi-byte "SHA" must never get that far.
        v["ab"]["base_commit"] = "ééééééééé".into();
        assert!(parse(&v)
            .unwrap_err()
            .to_string()
            .contains("ab.base_commit"));
        v["ab"]["base_commit"] = "unknown".into();
        v["ab"]["requested"] = "main\n<!-- bench-gate:results x -->".into();
        assert!(parse(&v)
            .unwrap_err()
            .to_string()
            .contains("control characters"));
        v["ab"]["requested"] = "main".into();
        v["ab"]["base"]["metrics"]["bad name!"] =
            v["ab"]["base"]["metrics"]["job.latency_p50_ms"].clone();
        assert!(parse(&v)
            .unwrap_err()
            .to_string()
            .contains("r.json: ab.base.metrics key: \"bad name!\" is not allowed"));
        // What the base's config defines is checked like the rest.
        let mut v = serde_json::to_value(&ok).unwrap();
        v["ab"]["base_config_metrics"] = serde_json::json!(["job.latency_p50_ms", "x<img>"]);
        assert!(parse(&v)
            .unwrap_err()
            .to_string()
            .contains("ab.base_config_metrics[1]: \"x<img>\" is not allowed"));
        v["ab"]["base_config_metrics"] = serde_json::json!(["job.latency_p50_ms"]);
        assert!(parse(&v).is_ok());
        v["ab"]["base_config_error"] = "bench-gate.yml:1:1: bad\n<!-- x".into();
        assert!(parse(&v)
            .unwrap_err()
            .to_string()
            .contains("control characters"));
    }

    #[test]
    fn side_by_side_slowdown_with_heavy_tailed_noise() {
        // A 30 % slowdown under noise where one run in ten stalls 2-4x.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut noisy = |x: f64| {
            let stall = if rng.random_range(0.0..1.0) < 0.1 {
                rng.random_range(2.0..4.0)
            } else {
                1.0
            };
            x * stall * rng.random_range(0.97..1.03)
        };
        let base: Vec<f64> = (0..30).map(|_| noisy(50.0)).collect();
        let head: Vec<f64> = (0..30).map(|_| noisy(65.0)).collect();
        let r = ab_results(&base, &head);
        let c = without_baseline(&r);
        let sbs = c.side_by_side.as_deref().unwrap();
        let m = sbs
            .metrics
            .iter()
            .find(|m| m.name == "job.latency_p50_ms")
            .unwrap();
        assert!((m.change_pct.unwrap() - 30.0).abs() < 5.0, "{m:?}");
        assert_eq!(m.status, Status::Failure);
        assert_eq!(c.verdict, Verdict::Fail);
        // Without a baseline, its view has only new metrics.
        assert!(c.metrics.iter().all(|m| m.status == Status::New));
    }

    #[test]
    fn floors_keep_tiny_memory_and_startup_changes_from_failing() {
        let b = baseline("  memory:\n    a_peak_mb: 2.0\n    b_peak_mb: 20.0\n  startup:\n    cli_cold_ms: 1.2\n  latency:\n    x_ms: 1.2\n", "");
        let r = results(
            &[],
            &[
                ("memory.a_peak_mb", 2.9, "MB"),
                ("memory.b_peak_mb", 31.0, "MB"),
                ("startup.cli_cold_ms", 2.1, "ms"),
                ("latency.x_ms", 2.1, "ms"),
            ],
        );
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        let st = |n: &str| c.metrics.iter().find(|m| m.name == n).unwrap();
        // +45 % but only 0.9 MB: below the 1 MiB floor.
        assert_eq!(st("memory.a_peak_mb").status, Status::Pass);
        assert!(st("memory.a_peak_mb")
            .note
            .as_deref()
            .unwrap()
            .contains("below the absolute floor of 1 MB"));
        // +55 % and 11 MB: fails.
        assert_eq!(st("memory.b_peak_mb").status, Status::Failure);
        // +75 % but 0.9 ms: startup below the 1 ms floor passes.
        assert_eq!(st("startup.cli_cold_ms").status, Status::Pass);
        // Latency has no floor.
        assert_eq!(st("latency.x_ms").status, Status::Failure);
        // With a lower floor the +45 % counts: a warning (memory fails above +50 %).
        let strict_floor = ThresholdFlags {
            floor_mb: 0.5,
            ..ThresholdFlags::default()
        };
        assert_eq!(
            compare(&b, "b", &r, strict_floor)
                .metrics
                .iter()
                .find(|m| m.name == "memory.a_peak_mb")
                .unwrap()
                .status,
            Status::Warning
        );
    }

    #[test]
    fn an_environment_mismatch_downgrades_failures_unless_strict() {
        let b = baseline(
            "  x_ms: 100\n",
            "cpu_model: AMD EPYC, cpu_cores: '2', python_version: '3.12'",
        );
        let other = results(
            &[("cpu_model", "Intel Xeon"), ("cpu_cores", "2")],
            &[("x_ms", 140.0, "ms")],
        );
        let c = compare(&b, "b", &other, ThresholdFlags::default());
        assert_eq!(c.environment_mismatch, ["cpu_model"]);
        assert_eq!(c.metrics[0].status, Status::Warning);
        assert!(c.metrics[0]
            .note
            .as_deref()
            .unwrap()
            .contains("different machine than the baseline (cpu_model)"));
        assert_eq!(c.verdict, Verdict::Warn);
        let strict = ThresholdFlags {
            env_policy: EnvPolicy::Strict,
            ..ThresholdFlags::default()
        };
        let c = compare(&b, "b", &other, strict);
        assert_eq!(
            (c.metrics[0].status, c.verdict),
            (Status::Failure, Verdict::Fail)
        );
        // Same machine: the failure stands; keys outside the fingerprint do not count.
        let same = results(
            &[("cpu_model", "AMD EPYC"), ("python_version", "3.13")],
            &[("x_ms", 140.0, "ms")],
        );
        let c = compare(&b, "b", &same, ThresholdFlags::default());
        assert!(c.environment_mismatch.is_empty());
        assert_eq!(c.environment_differences.len(), 1);
        assert_eq!(c.metrics[0].status, Status::Failure);
    }

    #[test]
    fn kinds_from_names() {
        assert_eq!(
            MetricKind::of("generation.single.latency_p50_ms", "ms"),
            MetricKind::Latency
        );
        assert_eq!(
            MetricKind::of("memory.single_peak_mb", "MB"),
            MetricKind::Memory
        );
        assert_eq!(
            MetricKind::of("startup.cli_cold_ms", "ms"),
            MetricKind::Startup
        );
        assert_eq!(MetricKind::of("throughput.ops", ""), MetricKind::Other);
    }

    /// A/B mode before any baseline was captured: the default rules.
    fn without_baseline(r: &Results) -> Comparison {
        compare(
            &Baseline::default(),
            crate::baseline::NO_BASELINE,
            r,
            ThresholdFlags::default(),
        )
    }

    fn by_name<'a>(c: &'a Comparison, n: &str) -> &'a MetricComparison {
        c.metrics.iter().find(|m| m.name == n).unwrap()
    }

    #[test]
    fn missing_metrics_count_by_the_policy() {
        let b = baseline("  a_ms: 100\n  b_ms: 100\n  c_ms: 100\n", "");
        let r = results(&[], &[("a_ms", 100.0, "ms"), ("b_ms", 101.0, "ms")]);
        let with = |missing| {
            compare(
                &b,
                "b",
                &r,
                ThresholdFlags {
                    missing,
                    ..Default::default()
                },
            )
        };
        // The default: a failure, named as missing, worst first.
        let c = with(MissingPolicy::default());
        assert_eq!(c.verdict, Verdict::Fail);
        assert_eq!(c.counts.missing, 1);
        assert_eq!(
            c.counts.failure, 0,
            "a missing metric is not above a threshold"
        );
        let m = by_name(&c, "c_ms");
        assert_eq!(
            (m.status, m.counts_as),
            (Status::Missing, Some(Status::Failure))
        );
        assert_eq!(m.effective_status(), Status::Failure);
        assert_eq!(
            m.note.as_deref(),
            Some("in the baseline but not in the results: counted as a failure (missing: fail)")
        );
        assert_eq!(c.metrics[0].name, "c_ms");
        let c = with(MissingPolicy::Warn);
        assert_eq!(c.verdict, Verdict::Warn);
        assert_eq!(by_name(&c, "c_ms").counts_as, Some(Status::Warning));
        let c = with(MissingPolicy::Ignore);
        assert_eq!(c.verdict, Verdict::Pass);
        assert_eq!(by_name(&c, "c_ms").counts_as, None);
        assert!(by_name(&c, "c_ms")
            .note
            .as_deref()
            .unwrap()
            .ends_with("not counted (missing: ignore)"));
        // Counts alone decide alike (a default Counts fails on a missing metric).
        let counts = Counts {
            missing: 1,
            ..Default::default()
        };
        assert_eq!(counts.verdict(), Verdict::Fail);
    }

    #[test]
    fn nothing_compared_is_refused_naming_both_sides() {
        let names: Vec<String> = (0..15).map(|i| format!("old.m{i:02}_ms")).collect();
        let yaml: String = names.iter().map(|n| format!("  {n}: 100\n")).collect();
        let b = baseline(&yaml, "");
        let renamed: Vec<(String, f64, &str)> = (0..12)
            .map(|i| (format!("new.m{i:02}_ms"), 100.0, "ms"))
            .collect();
        let refs: Vec<(&str, f64, &str)> = renamed
            .iter()
            .map(|(n, v, u)| (n.as_str(), *v, *u))
            .collect();
        let r = results(&[], &refs);
        let flags = ThresholdFlags::default();
        let c = compare(&b, "b.yaml", &r, flags);
        let why = refusal(&c, &r, flags).expect("nothing matched");
        assert!(
            why.contains("not one metric of the baseline b.yaml is in the results"),
            "{why}"
        );
        assert!(
            why.contains("old.m00_ms, old.m01_ms")
                && why.contains("old.m09_ms (and 5 more; 15 in all)"),
            "{why}"
        );
        assert!(!why.contains("old.m10_ms"), "bounded: {why}");
        assert!(
            why.contains("the results (workload 'w') have new.m00_ms")
                && why.contains("(and 2 more; 12 in all)"),
            "{why}"
        );
        // Even with every missing metric ignored: nothing compared is no pass.
        let ignore = ThresholdFlags {
            missing: MissingPolicy::Ignore,
            ..flags
        };
        assert!(compare_checked(&b, "b.yaml", &r, ignore).is_err());
        // One match is enough to compare (the rest are missing).
        let one = results(&[], &[("old.m03_ms", 100.0, "ms")]);
        assert_eq!(refusal(&compare(&b, "b", &one, flags), &one, flags), None);
        // No baseline yet (A/B mode): every metric is new, nothing to refuse.
        let none = compare(
            &Baseline::default(),
            crate::baseline::NO_BASELINE,
            &r,
            flags,
        );
        assert_eq!(refusal(&none, &r, flags), None);
    }

    #[test]
    fn another_workloads_results_are_refused_unless_allowed() {
        let mut b = baseline("  x_ms: 100\n", "");
        let r = results(&[], &[("x_ms", 100.0, "ms")]);
        let flags = ThresholdFlags::default();
        // A baseline that records no workload cannot be checked: compared.
        assert_eq!(refusal(&compare(&b, "b", &r, flags), &r, flags), None);
        b.workload = Some("quick".into());
        let why = refusal(&compare(&b, "b.yaml", &r, flags), &r, flags).unwrap();
        assert!(
            why.starts_with("the results are of workload 'w', but the baseline b.yaml was captured from workload 'quick'"),
            "{why}"
        );
        assert!(why.contains("--allow-other-workload"), "{why}");
        let allow = ThresholdFlags {
            allow_other_workload: true,
            ..flags
        };
        assert_eq!(refusal(&compare(&b, "b", &r, allow), &r, allow), None);
        b.workload = Some("w".into());
        assert_eq!(refusal(&compare(&b, "b", &r, flags), &r, flags), None);
    }

    #[test]
    fn a_hand_edited_baseline_value_decides_and_its_samples_are_ignored() {
        // Captured at ~100 ms, then edited to be 1.6x faster; samples untouched.
        let xs: Vec<f64> = (0..20)
            .map(|k| 100.0 * (1.0 + 0.03 * (k as f64).sin()))
            .collect();
        let p50 = crate::stats::median(&xs).unwrap();
        let r = {
            let m =
                serde_json::json!({"value": p50, "unit": "ms", "statistic": "p50", "samples": xs});
            Results::parse(
                "r",
                &serde_json::json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0", "created_at": "x",
                    "workload": "w", "environment": {}, "scenarios": [], "metrics": {"job.latency_p50_ms": m}})
                .to_string(),
            )
            .unwrap()
        };
        let mut b = Baseline::from_results(&r, "1".into());
        // Untouched: the interval is there and the change is 0.
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        assert!(c.metrics[0].interval.is_some());
        assert!(!c.metrics[0].baseline_samples_ignored);
        b.metrics.get_mut("job.latency_p50_ms").unwrap().value = p50 / 1.6;
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        let m = &c.metrics[0];
        assert!((m.change_pct.unwrap() - 60.0).abs() < 1e-9, "{m:?}");
        assert_eq!(
            m.status,
            Status::Failure,
            "the interval from stale samples no longer softens it"
        );
        assert_eq!(m.interval, None);
        assert!(m.baseline_samples_ignored);
        assert_eq!(
            (m.baseline_summary.as_ref(), m.baseline_samples.as_ref()),
            (None, None)
        );
        assert!(
            m.note
                .as_deref()
                .unwrap()
                .starts_with("value edited by hand; its samples are ignored"),
            "{m:?}"
        );
        assert_eq!(c.verdict, Verdict::Fail);
    }

    #[test]
    fn side_by_side_a_forged_base_value_is_not_paired_with_its_samples() {
        let xs: Vec<f64> = (0..10).map(|k| 50.0 + k as f64).collect();
        let mut r = ab_results(&xs, &xs);
        // The base's p50 claimed 1.5x faster than its own samples say.
        let base = &mut r.ab.as_mut().unwrap().base;
        let m = base.metrics.get_mut("job.latency_p50_ms").unwrap();
        m.value /= 1.5;
        let c = without_baseline(&r);
        let sbs = c.side_by_side.as_deref().unwrap();
        let m = by_name(sbs, "job.latency_p50_ms");
        assert!(m.baseline_samples_ignored, "{m:?}");
        assert_eq!(m.interval, None);
        assert!(
            (m.change_pct.unwrap() - 50.0).abs() < 1e-9,
            "the value decides, not the pairs: {m:?}"
        );
        assert_eq!(m.status, Status::Failure);
    }

    #[test]
    fn an_interval_without_its_change_is_never_attached() {
        use crate::stats::bootstrap::Interval;
        let iv = |lo, hi| {
            Some(Interval {
                estimate: (lo + hi) / 2.0,
                lo,
                hi,
                confidence: 0.95,
            })
        };
        assert_eq!(attach_interval(Some(60.0), iv(-4.5, 5.9)), None);
        assert_eq!(attach_interval(Some(5.0), iv(-4.5, 5.9)), iv(-4.5, 5.9));
        assert_eq!(
            attach_interval(Some(-4.5), iv(-4.5, 5.9)),
            iv(-4.5, 5.9),
            "ends included"
        );
        assert_eq!(attach_interval(None, iv(-4.5, 5.9)), None);
        assert_eq!(attach_interval(Some(1.0), None), None);
        // Through `compare`: results whose value (100) is not what their own
        // samples (~200) say give an interval around +100 % for a 0 % change;
        // it is not shown, and the decision is the point estimate's.
        let mut b = baseline("  x:\n    latency_p50_ms: 100\n", "");
        b.samples
            .insert("x.latency_p50_ms".into(), vec![99.0, 100.0, 101.0, 100.0]);
        let r = Results::parse(
            "r",
            &serde_json::json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0", "created_at": "x",
                "workload": "w", "environment": {}, "scenarios": [],
                "metrics": {"x.latency_p50_ms": {"value": 100.0, "unit": "ms", "statistic": "p50",
                    "samples": [199.0, 200.0, 201.0, 200.0]}}})
            .to_string(),
        )
        .unwrap();
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        let m = &c.metrics[0];
        assert_eq!(
            (m.change_pct, m.interval, m.status),
            (Some(0.0), None, Status::Pass),
            "{m:?}"
        );
    }

    #[test]
    fn a_metric_only_the_base_config_defines_is_missing_side_by_side() {
        let xs = [10.0, 11.0, 12.0, 11.0];
        let mut r = ab_results(&xs, &xs);
        r.ab.as_mut().unwrap().base_config_metrics = Some(vec![
            "job.latency_p50_ms".into(),
            "regressed.latency_p50_ms".into(),
        ]);
        let c = without_baseline(&r);
        let sbs = c.side_by_side.as_deref().unwrap();
        let m = by_name(sbs, "regressed.latency_p50_ms");
        assert_eq!(
            (m.status, m.counts_as),
            (Status::Missing, Some(Status::Failure))
        );
        assert!(
            m.note
                .as_deref()
                .unwrap()
                .starts_with("defined by the base commit's bench-gate.yml but not by the head's"),
            "{m:?}"
        );
        assert_eq!((sbs.verdict, c.verdict), (Verdict::Fail, Verdict::Fail));
        // Only the side-by-side view knows the base's config.
        assert!(c
            .metrics
            .iter()
            .all(|m| m.name != "regressed.latency_p50_ms"));
        // Every scenario of the base's config dropped or renamed: refused.
        r.ab.as_mut().unwrap().base_config_metrics = Some(vec!["old.latency_p50_ms".into()]);
        r.ab.as_mut().unwrap().base.metrics.clear();
        let flags = ThresholdFlags::default();
        let c = compare(
            &Baseline::default(),
            crate::baseline::NO_BASELINE,
            &r,
            flags,
        );
        let why = refusal(&c, &r, flags).unwrap();
        assert!(why.contains("not one metric of the base commit"), "{why}");
        assert!(why.contains("old.latency_p50_ms (1 in all)"), "{why}");
    }

    #[test]
    fn a_metric_the_base_could_not_measure_never_passes_by_absence() {
        let xs = [10.0, 11.0, 12.0, 11.0];
        let mut r = ab_results(&xs, &xs);
        let ab = r.ab.as_mut().unwrap();
        ab.base.metrics.clear();
        ab.skipped = vec![crate::model::AbSkipped {
            scenario: "job".into(),
            reason: "exited with status 1".into(),
        }];
        // The committed baseline has the p50 (5x faster): its verdict stands
        // in; the p95 it lacks, and the results do not say what the base
        // defines: missing.
        let b = baseline("  job:\n    latency_p50_ms: 2\n", "");
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        let sbs = c.side_by_side.as_deref().unwrap();
        let p50 = by_name(sbs, "job.latency_p50_ms");
        assert_eq!((p50.status, p50.baseline), (Status::Failure, Some(2.0)));
        let note = p50.note.as_deref().unwrap();
        assert!(
            note.starts_with("not measured on the base commit: exited with status 1; the committed baseline decides"),
            "{note}"
        );
        let p95 = by_name(sbs, "job.latency_p95_ms");
        assert_eq!(
            (p95.status, p95.counts_as),
            (Status::Missing, Some(Status::Failure))
        );
        assert_eq!(
            (sbs.counts.failure, sbs.counts.missing, sbs.counts.new),
            (1, 1, 0)
        );
        assert_eq!((sbs.verdict, c.verdict), (Verdict::Fail, Verdict::Fail));
        assert_eq!(refusal(&c, &r, ThresholdFlags::default()), None);
        // The base's config defines the p95 too: still missing.
        r.ab.as_mut().unwrap().base_config_metrics = Some(vec!["job.latency_p95_ms".into()]);
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        let p95 = by_name(c.side_by_side.as_deref().unwrap(), "job.latency_p95_ms");
        assert_eq!(p95.status, Status::Missing);
        // A scenario the change adds (the base's config does not define it),
        // with no committed value: new, as before.
        r.ab.as_mut().unwrap().base_config_metrics = Some(vec![]);
        let c = without_baseline(&r);
        let sbs = c.side_by_side.as_deref().unwrap();
        assert_eq!(sbs.counts.new, 2);
        assert_eq!(
            by_name(sbs, "job.latency_p95_ms").note.as_deref(),
            Some("not measured on the base commit: exited with status 1")
        );
        // ... but a committed value still decides.
        let c = compare(&b, "b", &r, ThresholdFlags::default());
        let sbs = c.side_by_side.as_deref().unwrap();
        assert_eq!(by_name(sbs, "job.latency_p50_ms").status, Status::Failure);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Verdict::Fail, false, false), 0);
        assert_eq!(exit_code(Verdict::Fail, true, false), 2);
        assert_eq!(exit_code(Verdict::Warn, true, false), 0);
        assert_eq!(exit_code(Verdict::Warn, false, true), 1);
        assert_eq!(exit_code(Verdict::Fail, false, true), 2);
        assert_eq!(exit_code(Verdict::Pass, true, true), 0);
    }
}
