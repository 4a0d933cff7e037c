//! Honest tails: a tail percentile (p95, p99, any p above the median and
//! below the maximum) decides only when its samples can bound it. Its
//! interval comes from order statistics ([`crate::stats::quantile`]), and
//! that needs enough samples on each side (for a 95 % interval of the
//! change, 86 for p95 and 437 for p99): with fewer, the needed order
//! statistic does not exist (a p99 of 20 samples is their maximum), so the
//! metric is shown but does not gate, and the note says how many iterations
//! would make it gate.

use super::{MetricDecision, RuleContext};
use crate::compare::Status;
use crate::stats::{bootstrap::CONFIDENCE, quantile};

/// Whether percentile `p` is a tail decided from order statistics.
pub fn is_tail(p: f64) -> bool {
    p > 50.0 && p < 100.0
}

/// The iterations each side needs for a tail metric to gate, when it has
/// fewer (counting only sides with samples); `None` when it may gate.
pub fn undersampled(m: &MetricDecision) -> Option<(usize, usize)> {
    let p = m.percentile.filter(|p| is_tail(*p))?;
    let (_, c) = m.both()?;
    if c.samples.is_empty() {
        return None;
    }
    let needed = quantile::change_min_samples(p, CONFIDENCE)?;
    let have = m
        .baseline_samples
        .filter(|s| !s.is_empty())
        .map_or(c.samples.len(), |b| b.len().min(c.samples.len()));
    (have < needed).then_some((have, needed))
}

pub fn apply(m: &mut MetricDecision, _: &RuleContext) {
    let Some((have, needed)) = undersampled(m) else {
        return;
    };
    let stat = m.statistic.unwrap_or("tail");
    let would = match m.status {
        Status::Failure => "would fail, but ",
        Status::Warning => "would warn, but ",
        _ => "",
    };
    if matches!(m.status, Status::Failure | Status::Warning) {
        m.status = Status::Pass;
    }
    m.note = Some(format!(
        "{would}not gating: a {stat} of {have} samples cannot be bounded (a distribution-free 95 % interval of its change needs {needed} iterations on each side)"
    ));
}

#[cfg(test)]
mod tests {
    use super::super::run;
    use super::super::testing::*;
    use super::*;

    #[test]
    fn a_tail_from_too_few_samples_is_shown_but_does_not_gate() {
        let base: Vec<f64> = (0..20).map(|i| 90.0 + i as f64).collect();
        let b = baseline_metric(crate::stats::percentile(&base, 99.0).unwrap());
        let slow: Vec<f64> = base.iter().map(|x| x * 1.35).collect();
        let c = metric(b.value * 1.35, Some("p99"), &slow);
        let mut m = decision(Some(&b), Some(&base), Some(&c));
        run(&mut m, &ctx());
        assert_eq!(m.status, Status::Pass);
        assert!((m.change_pct.unwrap() - 35.0).abs() < 1e-9);
        assert!(m.interval.is_none());
        let note = m.note.unwrap();
        assert!(
            note.starts_with("would fail, but not gating: a p99 of 20 samples")
                && note.contains("needs 437 iterations"),
            "{note}"
        );
        // p95 with 100 samples a side gates, on an order-statistic interval
        // that contains its change.
        let base: Vec<f64> = (0..100).map(|i| 90.0 + (i % 17) as f64).collect();
        let slow: Vec<f64> = base.iter().map(|x| x * 1.5).collect();
        let p95 = crate::stats::percentile(&slow, 95.0).unwrap();
        let b = baseline_metric(crate::stats::percentile(&base, 95.0).unwrap());
        let c = metric(p95, Some("p95"), &slow);
        let mut m = decision(Some(&b), Some(&base), Some(&c));
        run(&mut m, &ctx());
        assert_eq!(m.status, Status::Failure, "{m:?}");
        let i = m.interval.unwrap();
        let change = m.change_pct.unwrap();
        assert!(i.lo <= change && change <= i.hi, "{i:?} {change}");
        // Without samples nothing can be said: the values decide as before.
        let c = metric(135.0, Some("p99"), &[]);
        let b = baseline_metric(100.0);
        let mut m = decision(Some(&b), None, Some(&c));
        run(&mut m, &ctx());
        assert_eq!(m.status, Status::Failure);
    }
}
