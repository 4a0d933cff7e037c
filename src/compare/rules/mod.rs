//! The decision for one metric, as an ordered list of rules.
//!
//! `compare_view` builds each metric's inputs ([`MetricDecision::new`]),
//! runs the rules of [`RULES`] that the decision rule selects, in order
//! ([`run`]), and collects the outcome. A rule reads the decision so far
//! and may change it; no rule calls another, so adding one is adding a
//! file and a line in [`RULES`] at the place the order below says.

pub mod edited;
pub mod environment;
pub mod floor;
pub mod interval;
pub mod paired;
pub mod presence;
pub mod tail;
pub mod threshold;

use crate::baseline::{BaselineMetric, Thresholds};
use crate::compare::{
    thresholds_for, DecisionRule, MetricComparison, MetricKind, Status, ThresholdFlags,
    ThresholdSource,
};
use crate::model::{Direction, Metric, Named, Statistic};
use crate::stats::bootstrap::Interval;
use crate::stats::Summary;

/// One metric on its way through the rules: its inputs, fixed before the
/// first rule runs, then the decision so far.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDecision<'a> {
    pub name: &'a str,
    pub unit: String,
    pub direction: Direction,
    pub kind: MetricKind,
    pub thresholds: Thresholds,
    pub threshold_source: ThresholdSource,
    /// The baseline's entry and the results' entry; a metric has at least one.
    pub baseline: Option<&'a BaselineMetric>,
    pub current: Option<&'a Metric>,
    /// The statistic the current value is (`p50`, `p95`, `mean`, …).
    pub statistic: Option<&'a str>,
    /// The percentile that statistic is, for intervals and pairing.
    pub percentile: Option<f64>,
    /// The baseline's raw samples, until a rule sets them aside.
    pub baseline_samples: Option<&'a [f64]>,

    pub status: Status,
    pub change_pct: Option<f64>,
    pub regression_pct: Option<f64>,
    pub interval: Option<Interval>,
    pub note: Option<String>,
    /// A missing metric: what it counts as under the missing policy.
    pub counts_as: Option<Status>,
    /// The baseline's value was edited by hand: why its samples are not used.
    pub edited: Option<String>,
    /// The results record it as asked for but not measured, and why.
    pub skipped: Option<&'a crate::model::Skipped>,
}

impl<'a> MetricDecision<'a> {
    /// The inputs of metric `name`: its unit (the results', else the
    /// baseline's, else implied by the name), its direction (higher when
    /// the baseline says so, else the results'), its kind and thresholds
    /// (kind default < baseline file < metric < flags). No status yet.
    pub fn new(
        name: &'a str,
        baseline: Option<&'a BaselineMetric>,
        baseline_samples: Option<&'a [f64]>,
        current: Option<&'a Metric>,
        file_thresholds: Option<Thresholds>,
        flags: ThresholdFlags,
    ) -> MetricDecision<'a> {
        let unit = current
            .map(|m| m.unit.clone())
            .filter(|u| !u.is_empty())
            .or_else(|| baseline.and_then(|m| m.unit.clone()))
            .unwrap_or_else(|| crate::baseline::unit_from_name(name).to_string());
        let direction = baseline
            .map(|m| m.direction)
            .filter(|d| *d == Direction::Higher)
            .or_else(|| current.map(|m| m.direction))
            .unwrap_or_default();
        let kind = MetricKind::of(name, &unit);
        let (thresholds, threshold_source) = thresholds_for(
            kind,
            file_thresholds,
            baseline.map_or((None, None), |m| (m.warning, m.failure)),
            flags,
        );
        let statistic = current.and_then(|m| m.statistic.as_deref());
        MetricDecision {
            name,
            unit,
            direction,
            kind,
            thresholds,
            threshold_source,
            baseline,
            current,
            statistic,
            percentile: statistic
                .and_then(Statistic::parse)
                .and_then(Statistic::percentile),
            baseline_samples,
            status: Status::Pass,
            change_pct: None,
            regression_pct: None,
            interval: None,
            note: None,
            counts_as: None,
            edited: None,
            skipped: None,
        }
    }

    /// Both sides' entries, when the metric is on both.
    pub fn both(&self) -> Option<(&'a BaselineMetric, &'a Metric)> {
        Some((self.baseline?, self.current?))
    }

    /// The outcome, as a report shows it.
    pub fn finish(self) -> MetricComparison {
        MetricComparison {
            name: self.name.to_string(),
            unit: self.unit,
            direction: self.direction,
            kind: self.kind,
            baseline: self.baseline.map(|m| m.value),
            current: self.current.map(|m| m.value),
            change_pct: self.change_pct,
            regression_pct: self.regression_pct,
            thresholds: self.thresholds,
            threshold_source: self.threshold_source,
            status: self.status,
            counts_as: self.counts_as,
            note: self.note,
            baseline_samples_ignored: self.edited.is_some(),
            current_summary: self.current.and_then(|m| Summary::of(&m.samples)),
            baseline_summary: self.baseline_samples.and_then(Summary::of),
            interval: self.interval,
            current_samples: self
                .current
                .map(|m| m.samples.clone())
                .filter(|s| !s.is_empty()),
            baseline_samples: self
                .baseline_samples
                .map(<[f64]>::to_vec)
                .filter(|s| !s.is_empty()),
        }
    }
}

/// What every rule may know besides the metric itself.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub flags: ThresholdFlags,
    /// The side-by-side view: the baseline is the base commit, measured in
    /// pairs with the results (sample `i` with sample `i`).
    pub paired: bool,
    /// The fingerprint keys whose values differ between the baseline's
    /// machine and this one ([`environment::mismatch`]).
    pub environment_mismatch: &'a [String],
}

/// One step of the decision.
#[derive(Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    /// The decision rule it belongs to; `None`: it always runs.
    pub only_under: Option<DecisionRule>,
    pub apply: fn(&mut MetricDecision, &RuleContext),
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const fn always(name: &'static str, apply: fn(&mut MetricDecision, &RuleContext)) -> Rule {
    Rule {
        name,
        only_under: None,
        apply,
    }
}

/// The decision, in order. The order is the reasoning:
///
/// 1. `presence` first: a metric on one side only is `missing` (counted by
///    the missing policy) or `new`, and no later rule has two values to
///    judge (each of them needs both sides and leaves it alone).
/// 2. `hand-edited` before anything uses the baseline's samples: a value
///    that disagrees with its own samples decides alone, so the samples
///    must be gone before an interval is computed from them.
/// 3. `threshold`: the point estimate against the thresholds; the status
///    every later rule starts from (and the baseline-is-0 case).
/// 4. `interval estimate`: the interval of the change, from both sides'
///    samples (bootstrap for the median, order statistics for a tail, none
///    for an extreme); shown in the table whatever the decision rule.
/// 5. `paired` after both: side by side, a median's change and interval
///    are replaced by the Hodges–Lehmann estimate of the pairs, and the
///    status is decided again by the threshold rule on it.
/// 6. `interval contains estimate` after every rule that sets a change or
///    an interval: an interval that does not contain its change is
///    dropped, so it can neither be shown nor soften a decision.
/// 7. `tail` after the final change and interval: a tail percentile with
///    too few samples for an order-statistic interval is shown but passes,
///    with a note saying how many iterations would make it gate.
/// 8. `interval` (`--decision interval` only): may soften a failure to a
///    warning, never harden a pass; it needs the final change and interval.
/// 9. `floor` after every rule that can make a warning or failure: a tiny
///    absolute change of memory or startup passes whatever the percentage.
/// 10. `hand-edited note`: the edit is said before whatever note the rules
///     so far left.
/// 11. `environment` last: a failure that survived everything else is a
///     warning when the machines differ (`--env-mismatch warn`); its note
///     replaces any other.
pub const RULES: &[Rule] = &[
    always("presence", presence::apply),
    always("hand-edited", edited::set_samples_aside),
    always("threshold", threshold::apply),
    always("interval estimate", interval::estimate),
    always("paired", paired::apply),
    always("interval contains estimate", interval::contain),
    always("tail", tail::apply),
    Rule {
        name: "interval",
        only_under: Some(DecisionRule::Interval),
        apply: interval::soften,
    },
    always("floor", floor::apply),
    always("hand-edited note", edited::say_so),
    always("environment", environment::apply),
];

/// The rules that run under `decision`, in order.
pub fn selected(decision: DecisionRule) -> impl Iterator<Item = &'static Rule> {
    RULES
        .iter()
        .filter(move |r| r.only_under.is_none_or(|d| d == decision))
}

/// Runs the selected rules on one metric, in order.
pub fn run(m: &mut MetricDecision, ctx: &RuleContext) {
    for rule in selected(ctx.flags.decision) {
        (rule.apply)(m, ctx);
    }
}

/// Helpers for the rules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub const T: Thresholds = Thresholds {
        warning: 10.0,
        failure: 25.0,
    };

    /// The threshold rule's status for `b` → `c`.
    pub fn status(b: f64, c: f64, d: Direction, t: Thresholds) -> Status {
        super::threshold::decide(b, c, d, t).0
    }

    pub fn baseline_metric(value: f64) -> BaselineMetric {
        BaselineMetric {
            value,
            unit: None,
            direction: Direction::Lower,
            warning: None,
            failure: None,
        }
    }

    pub fn metric(value: f64, statistic: Option<&str>, samples: &[f64]) -> Metric {
        Metric {
            value,
            unit: "ms".into(),
            direction: Direction::Lower,
            scenario: None,
            measure: None,
            statistic: statistic.map(str::to_string),
            samples: samples.to_vec(),
        }
    }

    /// A latency metric `x_ms` with thresholds 10 % / 25 %.
    pub fn decision<'a>(
        b: Option<&'a BaselineMetric>,
        bs: Option<&'a [f64]>,
        c: Option<&'a Metric>,
    ) -> MetricDecision<'a> {
        MetricDecision::new("x_ms", b, bs, c, Some(T), ThresholdFlags::default())
    }

    pub fn ctx() -> RuleContext<'static> {
        RuleContext {
            flags: ThresholdFlags::default(),
            paired: false,
            environment_mismatch: &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn the_decision_rule_selects_the_interval_rule_only() {
        let names = |d| selected(d).map(|r| r.name).collect::<Vec<_>>();
        let all: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(names(DecisionRule::Interval), all);
        let threshold = names(DecisionRule::Threshold);
        assert_eq!(threshold.len(), all.len() - 1);
        assert!(!threshold.contains(&"interval"));
        assert!(threshold.contains(&"interval estimate"), "still shown");
    }

    #[test]
    fn the_order_is_the_documented_one() {
        let all: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(
            all,
            [
                "presence",
                "hand-edited",
                "threshold",
                "interval estimate",
                "paired",
                "interval contains estimate",
                "tail",
                "interval",
                "floor",
                "hand-edited note",
                "environment",
            ]
        );
    }

    #[test]
    fn inputs_come_from_both_sides_before_any_rule() {
        let mut b = baseline_metric(100.0);
        b.direction = Direction::Higher;
        b.failure = Some(30.0);
        let mut c = metric(100.0, Some("p95"), &[1.0]);
        c.unit = String::new();
        let m = MetricDecision::new(
            "memory.peak_mb",
            Some(&b),
            None,
            Some(&c),
            None,
            ThresholdFlags::default(),
        );
        // An empty unit in the results: the name's; higher from the baseline.
        assert_eq!(m.unit, "MB");
        assert_eq!(m.direction, Direction::Higher);
        assert_eq!(m.kind, MetricKind::Memory);
        assert_eq!(
            (
                m.thresholds.warning,
                m.thresholds.failure,
                m.threshold_source
            ),
            (20.0, 30.0, ThresholdSource::Metric)
        );
        assert_eq!((m.statistic, m.percentile), (Some("p95"), Some(95.0)));
    }

    #[test]
    fn running_the_rules_decides_a_plain_failure() {
        let b = baseline_metric(100.0);
        let c = metric(140.0, Some("p50"), &[]);
        let mut m = decision(Some(&b), None, Some(&c));
        run(&mut m, &ctx());
        assert_eq!(m.status, Status::Failure);
        let out = m.finish();
        assert_eq!(
            (out.change_pct, out.baseline, out.current),
            (Some(40.0), Some(100.0), Some(140.0))
        );
        assert_eq!((out.current_samples, out.baseline_samples), (None, None));
    }
}
