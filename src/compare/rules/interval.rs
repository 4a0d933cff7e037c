//! Intervals: the 95 % bootstrap interval of a change ([`estimate`]), the
//! guarantee that an interval always contains its change ([`contain`]),
//! and the interval rule ([`soften`], `--decision interval`): a failure
//! needs its interval's lower end above the failure threshold; an interval
//! straddling it is an "inconclusive" warning. The interval only ever
//! softens: a change the point estimate passes stays passed.

use super::{MetricDecision, RuleContext};
use crate::baseline::Thresholds;
use crate::compare::Status;
use crate::model::Direction;
use crate::stats::bootstrap::{self, Interval};
use crate::stats::quantile;

/// The interval rule for one metric, from its point regression and the
/// interval of its change: `None` leaves the threshold rule's status alone.
/// Regressions are direction-adjusted percentages (positive = worse).
pub fn decide_by_interval(
    regression: f64,
    interval: Interval,
    direction: Direction,
    t: Thresholds,
    samples: usize,
) -> Option<(Status, String)> {
    let (lo, hi) = match direction {
        Direction::Lower => (interval.lo, interval.hi),
        Direction::Higher => (-interval.hi, -interval.lo),
    };
    if lo > t.failure {
        return Some((
            Status::Failure,
            format!("the 95 % interval [{lo:+.1}%, {hi:+.1}%] lies above the failure threshold"),
        ));
    }
    if hi > t.failure {
        // Half-width shrinks as 1/sqrt(n): n' = n (h/d)^2 settles it.
        let half = (hi - lo) / 2.0;
        let distance = (regression - t.failure).abs();
        let more = if distance > 0.0 && samples > 0 {
            let needed = (samples as f64 * (half / distance).powi(2)).ceil() as usize;
            format!(
                "about {} more iterations would settle it",
                needed.saturating_sub(samples).max(1)
            )
        } else {
            "it sits on the threshold; more iterations will not settle it".to_string()
        };
        return Some((
            Status::Warning,
            format!("inconclusive: the 95 % interval [{lo:+.1}%, {hi:+.1}%] straddles the failure threshold; {more}"),
        ));
    }
    None
}

/// The one place an interval is attached to a change: an interval that does
/// not contain the change it is shown with would contradict it (and could
/// soften a decision it has no part in), so it is dropped. A relative 1e-9
/// allows for the two being computed along different floating-point paths.
pub fn attach_interval(change_pct: Option<f64>, interval: Option<Interval>) -> Option<Interval> {
    let (c, i) = (change_pct?, interval?);
    let slack = 1e-9 * c.abs().max(1.0);
    (i.lo - slack <= c && c <= i.hi + slack).then_some(i)
}

/// The interval of the change of a percentile metric, from both sides' raw
/// samples, when the baseline's value is positive: for a tail (p95, p99)
/// the distribution-free order-statistic interval ([`quantile`]), `None`
/// with too few samples (see [`super::tail`]); for an extreme (min, max) none,
/// as no distribution-free interval of a sample's extreme exists (the value
/// decides); for the rest the percentile bootstrap (seeded, so the same
/// inputs give the same interval).
pub fn estimate(m: &mut MetricDecision, _: &RuleContext) {
    m.interval = unpaired_at(m, bootstrap::CONFIDENCE);
}

/// [`estimate`]'s interval at two-sided `confidence`.
fn unpaired_at(m: &MetricDecision, confidence: f64) -> Option<Interval> {
    match (m.percentile, m.baseline_samples, m.current) {
        (Some(p), _, _) if p <= 0.0 || p >= 100.0 => None,
        (Some(p), Some(bs), Some(c)) if m.baseline.is_some_and(|b| b.value > 0.0) => {
            if super::tail::is_tail(p) {
                quantile::change_interval(bs, &c.samples, p, confidence)
            } else {
                bootstrap::change_interval(bs, &c.samples, p, bootstrap::SEED, confidence)
            }
        }
        _ => None,
    }
}

/// The interval the rules give metric `m` ([`estimate`], or side by side
/// for a median [`super::paired`]'s), at two-sided `confidence` instead of
/// 95 %: for a decision at another level (see [`crate::compare::family`]).
/// `None` where the rules give none.
pub fn at_confidence(m: &MetricDecision, ctx: &RuleContext, confidence: f64) -> Option<Interval> {
    match (m.baseline_samples, m.current) {
        (Some(bs), Some(c)) if super::paired::pairs(m, ctx) => {
            bootstrap::paired_change(bs, &c.samples, confidence)
        }
        _ => unpaired_at(m, confidence),
    }
}

/// Drops an interval that does not contain the change ([`attach_interval`]).
pub fn contain(m: &mut MetricDecision, _: &RuleContext) {
    m.interval = attach_interval(m.change_pct, m.interval);
}

/// The interval rule: softens a failure whose interval does not clear the
/// failure threshold, and explains a warning that might be a failure.
pub fn soften(m: &mut MetricDecision, _: &RuleContext) {
    let (Some(r), Some(i), Some(c)) = (m.regression_pct, m.interval, m.current) else {
        return;
    };
    match decide_by_interval(r, i, m.direction, m.thresholds, c.samples.len()) {
        Some((Status::Failure, why)) if m.status == Status::Failure => m.note = Some(why),
        Some((Status::Warning, why)) if matches!(m.status, Status::Failure | Status::Warning) => {
            m.status = Status::Warning;
            m.note = Some(why);
        }
        _ if m.status == Status::Failure => {
            // The interval reaches below the failure threshold: not a failure.
            m.status = Status::Warning;
            m.note = Some(format!(
                "the 95 % interval [{:+.1}%, {:+.1}%] does not clear the failure threshold",
                i.lo, i.hi
            ));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn iv(lo: f64, hi: f64) -> Interval {
        Interval {
            estimate: (lo + hi) / 2.0,
            lo,
            hi,
            confidence: 0.95,
        }
    }

    #[test]
    fn the_interval_rule() {
        let t = T;
        // Clearly above the failure threshold: failure.
        let (s, why) = decide_by_interval(30.0, iv(27.0, 33.0), Direction::Lower, t, 40).unwrap();
        assert_eq!(s, Status::Failure);
        assert!(why.contains("lies above"));
        // Straddling it: an inconclusive warning with the iterations that would settle it.
        // Half-width 4, distance 2: n' = 40 * (4/2)^2 = 160, so 120 more.
        let (s, why) = decide_by_interval(27.0, iv(23.0, 31.0), Direction::Lower, t, 40).unwrap();
        assert_eq!(s, Status::Warning);
        assert!(
            why.starts_with("inconclusive") && why.contains("about 120 more iterations"),
            "{why}"
        );
        // Below it: the threshold rule stands.
        assert_eq!(
            decide_by_interval(15.0, iv(12.0, 18.0), Direction::Lower, t, 40),
            None
        );
        // Higher is better: a fall of 27–33 % is the regression.
        assert_eq!(
            decide_by_interval(30.0, iv(-33.0, -27.0), Direction::Higher, t, 40)
                .unwrap()
                .0,
            Status::Failure
        );
    }

    /// A metric decided by the threshold rule at `change` %, with `interval`.
    fn decided<'a>(
        b: &'a crate::baseline::BaselineMetric,
        c: &'a crate::model::Metric,
        status: Status,
        change: f64,
        interval: Option<Interval>,
    ) -> MetricDecision<'a> {
        let mut m = decision(Some(b), None, Some(c));
        (m.status, m.change_pct, m.regression_pct, m.interval) =
            (status, Some(change), Some(change), interval);
        m
    }

    #[test]
    fn soften_turns_an_unclear_failure_into_a_warning_and_never_hardens() {
        use Status::{Failure, Pass, Warning};
        let b = baseline_metric(100.0);
        let c = metric(130.0, Some("p50"), &[1.0; 40]);
        let below = "the 95 % interval [+10.0%, +24.0%] does not clear the failure threshold";
        // (status so far, change, interval) → (status, how the note starts)
        let cases = [
            // Lies above: the failure stands, with the interval's reason.
            (
                (Failure, 30.0, Some(iv(27.0, 33.0))),
                (
                    Failure,
                    Some("the 95 % interval [+27.0%, +33.0%] lies above"),
                ),
            ),
            // Straddles: inconclusive.
            (
                (Failure, 27.0, Some(iv(23.0, 31.0))),
                (Warning, Some("inconclusive")),
            ),
            // Reaches below the failure threshold entirely.
            (
                (Failure, 26.0, Some(iv(10.0, 24.0))),
                (Warning, Some(below)),
            ),
            // A warning whose interval reaches above: explained, still a warning.
            (
                (Warning, 20.0, Some(iv(15.0, 30.0))),
                (Warning, Some("inconclusive")),
            ),
            // A pass whose interval lies above the failure threshold stays a pass.
            ((Pass, 5.0, Some(iv(27.0, 33.0))), (Pass, None)),
            // No interval: nothing to say.
            ((Failure, 30.0, None), (Failure, None)),
        ];
        for ((status, change, interval), (want, note)) in cases {
            let mut m = decided(&b, &c, status, change, interval);
            soften(&mut m, &ctx());
            assert_eq!(m.status, want, "{status:?} {change} {interval:?}");
            match (note, m.note.as_deref()) {
                (Some(start), Some(got)) => assert!(got.starts_with(start), "{got}"),
                (want, got) => assert_eq!(want, got),
            }
        }
    }

    #[test]
    fn estimate_needs_a_percentile_samples_on_both_sides_and_a_positive_baseline() {
        let xs = [100.0, 102.0, 98.0, 101.0, 99.0];
        let ys: Vec<f64> = xs.iter().map(|x| x * 1.2).collect();
        let b = baseline_metric(100.0);
        let c = metric(120.0, Some("p50"), &ys);
        let mut m = decision(Some(&b), Some(&xs), Some(&c));
        estimate(&mut m, &ctx());
        let i = m.interval.expect("an interval");
        assert!(i.lo <= 20.0 + 1e-9 && 20.0 - 1e-9 <= i.hi, "{i:?}");
        // Seeded: the same inputs, the same interval.
        let mut again = decision(Some(&b), Some(&xs), Some(&c));
        estimate(&mut again, &ctx());
        assert_eq!(again.interval, Some(i));
        // Not a percentile, no baseline samples, or a baseline of 0: none.
        let mean = metric(120.0, Some("mean"), &ys);
        let zero = baseline_metric(0.0);
        for mut m in [
            decision(Some(&b), Some(&xs), Some(&mean)),
            decision(Some(&b), None, Some(&c)),
            decision(Some(&zero), Some(&xs), Some(&c)),
        ] {
            m.interval = Some(iv(0.0, 1.0));
            estimate(&mut m, &ctx());
            assert_eq!(m.interval, None);
        }
    }

    #[test]
    fn contain_drops_an_interval_without_its_change() {
        let b = baseline_metric(100.0);
        let c = metric(160.0, None, &[]);
        let mut m = decided(&b, &c, Status::Failure, 60.0, Some(iv(-4.5, 5.9)));
        contain(&mut m, &ctx());
        assert_eq!(m.interval, None);
        let mut m = decided(&b, &c, Status::Pass, 5.9, Some(iv(-4.5, 5.9)));
        contain(&mut m, &ctx());
        assert_eq!(m.interval, Some(iv(-4.5, 5.9)), "ends included");
    }
}
