//! The pull request's false-alarm budget over one comparison's metrics
//! ([`crate::stats::family`]): which failures hold when an unchanged pull
//! request may fail anywhere, across its m metrics and at most R rounds of
//! measurement, with probability at most α. Holm across the metrics at
//! α/R per round; a metric's test at one-sided level a is its interval
//! ([`interval::at_confidence`], the same kind the rules chose: paired,
//! bootstrap or order statistics) at confidence 1 − 2a lying above the
//! failure threshold. A look never tests more loosely than the per-metric
//! rule (a 95 % interval, one-sided 2.5 %), so with one metric and one
//! round the verdict is the per-metric one.
//!
//! Pure, and not yet called by `compare`: the adaptive rounds that would
//! use it (measuring the scenarios of [`needs_more`] metrics again until
//! every metric is settled or the time budget is spent) are issue 15 item 2.

use super::rules::{interval, MetricDecision, RuleContext};
use super::Status;
use crate::model::Direction;
use crate::stats::bootstrap::CONFIDENCE;
use crate::stats::family::{alpha_per_round, holm_by_level, two_sided_confidence};

/// The one-sided level of the per-metric rule: no look tests more loosely.
fn per_metric_level() -> f64 {
    (1.0 - CONFIDENCE) / 2.0
}

/// The direction-adjusted (positive = worse) ends of an interval.
fn worse(lo: f64, hi: f64, d: Direction) -> (f64, f64) {
    match d {
        Direction::Lower => (lo, hi),
        Direction::Higher => (-hi, -lo),
    }
}

/// For each of `ms` (the metrics of one comparison, after the rules), whether
/// its failure holds within the budget `alpha` over at most `rounds` rounds.
/// Not a failure: false. A failure without an interval (decided by its
/// value: a missing metric, an extreme, no samples) is outside the
/// statistical budget and holds. A failure whose interval at the level
/// Holm gives it reaches below the failure threshold, or cannot reach that
/// level with these samples, does not hold.
pub fn failures_within_budget(
    ms: &[MetricDecision],
    ctx: &RuleContext,
    alpha: f64,
    rounds: usize,
) -> Vec<bool> {
    holm_by_level(ms.len(), alpha_per_round(alpha, rounds), |i, a| {
        let m = &ms[i];
        if m.status != Status::Failure {
            return false;
        }
        if m.interval.is_none() {
            return true;
        }
        let confidence = two_sided_confidence(a.min(per_metric_level()));
        match interval::at_confidence(m, ctx, confidence) {
            Some(iv) if iv.confidence >= confidence - 1e-12 => {
                worse(iv.lo, iv.hi, m.direction).0 > m.thresholds.failure
            }
            _ => false,
        }
    })
}

/// Whether metric `m` is still open after a round, given whether its
/// failure `holds` ([`failures_within_budget`]): it has an interval whose
/// worse end (95 %) reaches above the failure threshold, and its failure
/// does not hold. More samples of its scenario may settle it; an open
/// metric when the rounds or the time budget run out is inconclusive (a
/// warning), never a pass.
pub fn needs_more(m: &MetricDecision, holds: bool) -> bool {
    let Some(iv) = m.interval else {
        return false;
    };
    !holds && worse(iv.lo, iv.hi, m.direction).1 > m.thresholds.failure
}

#[cfg(test)]
mod tests {
    use super::super::rules::{run, testing::*};
    use super::*;
    use crate::stats::family::ALPHA;

    #[test]
    fn a_marginal_failure_holds_alone_but_not_among_twenty_metrics_over_four_rounds() {
        // 16 pairs, the head 20–45 % slower pair by pair (threshold 25 %).
        let base: Vec<f64> = (0..16).map(|k| 100.0 + k as f64).collect();
        let marginal: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(k, x)| x * (1.20 + 0.25 * k as f64 / 15.0))
            .collect();
        let clear: Vec<f64> = base.iter().map(|x| x * 1.6).collect();
        let same = base.clone();
        let paired = RuleContext {
            paired: true,
            ..ctx()
        };
        let b = baseline_metric(crate::stats::median(&base).unwrap());
        let (cm, cc, cs) = (
            metric(
                crate::stats::median(&marginal).unwrap(),
                Some("p50"),
                &marginal,
            ),
            metric(crate::stats::median(&clear).unwrap(), Some("p50"), &clear),
            metric(crate::stats::median(&same).unwrap(), Some("p50"), &same),
        );
        let decided = |c| {
            let mut m = decision(Some(&b), Some(&base), Some(c));
            run(&mut m, &paired);
            m
        };
        let (m_marginal, m_clear, m_same) = (decided(&cm), decided(&cc), decided(&cs));
        // Each fails on its own 95 % interval…
        assert_eq!(m_marginal.status, Status::Failure, "{m_marginal:?}");
        assert!(m_marginal.interval.unwrap().lo > 25.0);
        assert_eq!(m_clear.status, Status::Failure);
        assert_eq!(m_same.status, Status::Pass);
        // …and alone, in one round, the budget keeps both failures.
        let one = [m_marginal.clone(), m_clear.clone()];
        assert_eq!(
            failures_within_budget(&one, &paired, ALPHA, 1),
            [true, true]
        );
        // Among 20 metrics over up to 4 rounds the marginal one's interval
        // at its Holm level reaches below 25 %: open, not failed.
        let mut twenty = vec![m_marginal.clone(), m_clear.clone()];
        twenty.extend(std::iter::repeat_n(m_same.clone(), 18));
        let held = failures_within_budget(&twenty, &paired, ALPHA, 4);
        assert_eq!(&held[..3], [false, true, false]);
        let strict =
            interval::at_confidence(&m_marginal, &paired, 1.0 - 2.0 * ALPHA / 4.0 / 19.0).unwrap();
        assert!(strict.lo < 25.0, "{strict:?}");
        assert!(needs_more(&m_marginal, held[0]));
        assert!(!needs_more(&m_clear, held[1]));
        assert!(!needs_more(&m_same, held[2]));
        // A failure decided by its value alone (no samples) holds whatever
        // the budget.
        let by_value = metric(140.0, Some("p50"), &[]);
        let b100 = baseline_metric(100.0);
        let mut m = decision(Some(&b100), None, Some(&by_value));
        run(&mut m, &ctx());
        assert_eq!(m.status, Status::Failure);
        twenty[2] = m;
        assert!(failures_within_budget(&twenty, &paired, ALPHA, 4)[2]);
    }

    #[test]
    fn unpaired_intervals_take_part_at_their_level_too() {
        // Baseline mode: a median from the bootstrap, a p95 from order
        // statistics; both nest, so a stricter level only widens them.
        let base: Vec<f64> = (0..200).map(|k| 100.0 + (k % 13) as f64).collect();
        let slow: Vec<f64> = base.iter().map(|x| x * 1.5).collect();
        let b50 = baseline_metric(crate::stats::median(&base).unwrap());
        let b95 = baseline_metric(crate::stats::percentile(&base, 95.0).unwrap());
        let c50 = metric(crate::stats::median(&slow).unwrap(), Some("p50"), &slow);
        let c95 = metric(
            crate::stats::percentile(&slow, 95.0).unwrap(),
            Some("p95"),
            &slow,
        );
        for (b, c) in [(&b50, &c50), (&b95, &c95)] {
            let mut m = decision(Some(b), Some(&base), Some(c));
            run(&mut m, &ctx());
            assert_eq!(m.status, Status::Failure, "{m:?}");
            let (i95, i99) = (
                interval::at_confidence(&m, &ctx(), 0.95).unwrap(),
                interval::at_confidence(&m, &ctx(), 0.99).unwrap(),
            );
            assert_eq!(Some(i95), m.interval);
            assert!(i99.lo <= i95.lo && i95.hi <= i99.hi, "{i95:?} {i99:?}");
            assert_eq!(
                failures_within_budget(std::slice::from_ref(&m), &ctx(), ALPHA, 4),
                [true]
            );
            // A level these samples cannot reach: a p95 of 200 samples has no
            // 99.99 % interval, so at that level its failure would not hold.
            if m.percentile == Some(95.0) {
                assert!(interval::at_confidence(&m, &ctx(), 0.9999).is_none());
                assert_eq!(failures_within_budget(&[m], &ctx(), 0.000_05, 1), [false]);
            }
        }
    }
}
