//! The paired (A/B) rule: side by side, the median's change is the
//! Hodges–Lehmann estimate of the pairs' log-ratios, with its interval.
//! Each pair shares the machine's state of the moment, so drift between
//! pairs cancels. Tails (p95, p99, max) have no pairing and keep the ratio
//! of the percentiles.

use super::threshold::classify;
use super::{MetricDecision, RuleContext};
use crate::stats::bootstrap;

/// Whether metric `m` is decided from pairs: side by side, a median, with
/// as many samples on each side.
pub fn pairs(m: &MetricDecision, ctx: &RuleContext) -> bool {
    ctx.paired
        && m.percentile == Some(50.0)
        && matches!((m.baseline_samples, m.current), (Some(bs), Some(c)) if bs.len() == c.samples.len())
}

pub fn apply(m: &mut MetricDecision, ctx: &RuleContext) {
    if !pairs(m, ctx) {
        return;
    }
    let (Some(bs), Some(c)) = (m.baseline_samples, m.current) else {
        return;
    };
    if let Some(i) = bootstrap::paired_change(bs, &c.samples, bootstrap::CONFIDENCE) {
        let (status, regression) = classify(i.estimate, m.direction, m.thresholds);
        (m.status, m.change_pct, m.regression_pct, m.interval) =
            (status, Some(i.estimate), Some(regression), Some(i));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::compare::Status;

    #[test]
    fn pairs_decide_the_median_side_by_side_only() {
        // The machine drifts by ±15 % between pairs; the head is 2 % slower in each.
        let base = [100.0, 115.0, 86.0, 108.0, 93.0, 112.0, 88.0, 104.0].repeat(2);
        let head: Vec<f64> = base.iter().map(|x| x * 1.02).collect();
        let b = baseline_metric(70.0);
        let c = metric(102.0, Some("p50"), &head);
        let paired = RuleContext {
            paired: true,
            ..ctx()
        };
        // As if the threshold rule had failed it at +45.7 % on the values.
        let failed = |c| {
            let mut m = decision(Some(&b), Some(&base), Some(c));
            (m.status, m.change_pct) = (Status::Failure, Some(45.7));
            m
        };
        let mut m = failed(&c);
        apply(&mut m, &paired);
        assert_eq!(m.status, Status::Pass);
        assert!((m.change_pct.unwrap() - 2.0).abs() < 1e-9, "{m:?}");
        assert_eq!(m.change_pct, m.regression_pct);
        let i = m.interval.unwrap();
        assert!(
            (i.lo - 2.0).abs() < 1e-9 && (i.hi - 2.0).abs() < 1e-9,
            "{i:?}"
        );
        // Not side by side, a tail, or pairs of unequal counts: left alone.
        let mut m = failed(&c);
        apply(&mut m, &ctx());
        assert_eq!((m.status, m.change_pct), (Status::Failure, Some(45.7)));
        let tail = metric(102.0, Some("p95"), &head);
        let mut m = failed(&tail);
        apply(&mut m, &paired);
        assert_eq!((m.status, m.change_pct), (Status::Failure, Some(45.7)));
        let short = metric(102.0, Some("p50"), &head[1..]);
        let mut m = failed(&short);
        apply(&mut m, &paired);
        assert_eq!((m.status, m.change_pct), (Status::Failure, Some(45.7)));
    }
}
