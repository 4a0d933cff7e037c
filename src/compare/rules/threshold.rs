//! The threshold rule: the point estimate of the change against the
//! metric's thresholds. A regression strictly above the failure threshold
//! is a failure, strictly above the warning threshold a warning; an
//! improvement by more than the warning threshold is improved. A baseline
//! of 0 has no percentage.

use super::{MetricDecision, RuleContext};
use crate::baseline::Thresholds;
use crate::compare::Status;
use crate::model::Direction;

/// The decision for one metric with a baseline value and a current value.
pub fn decide(
    baseline: f64,
    current: f64,
    direction: Direction,
    t: Thresholds,
) -> (Status, Option<f64>, Option<f64>, Option<String>) {
    if baseline == 0.0 {
        let worse = match direction {
            Direction::Lower => current > 0.0,
            Direction::Higher => false,
        };
        return if worse {
            (
                Status::Warning,
                None,
                None,
                Some(
                    "baseline is 0, so no percentage can be computed; any increase is a warning"
                        .into(),
                ),
            )
        } else {
            (
                Status::Pass,
                Some(0.0).filter(|_| current == 0.0),
                None,
                None,
            )
        };
    }
    let change = (current - baseline) / baseline * 100.0;
    let (status, regression) = classify(change, direction, t);
    (status, Some(change), Some(regression), None)
}

/// The threshold rule for a change in percent: its status and the
/// direction-adjusted regression (positive = worse).
pub fn classify(change: f64, direction: Direction, t: Thresholds) -> (Status, f64) {
    let regression = match direction {
        Direction::Lower => change,
        Direction::Higher => -change,
    };
    let status = if regression > t.failure {
        Status::Failure
    } else if regression > t.warning {
        Status::Warning
    } else if regression < -t.warning {
        Status::Improved
    } else {
        Status::Pass
    };
    (status, regression)
}

/// Decides a metric on both sides by its point estimate.
pub fn apply(m: &mut MetricDecision, _: &RuleContext) {
    if let Some((b, c)) = m.both() {
        (m.status, m.change_pct, m.regression_pct, m.note) =
            decide(b.value, c.value, m.direction, m.thresholds);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    /// Each boundary exactly: at a threshold is not above it.
    #[test]
    fn status_boundaries_lower_is_better() {
        let cases = [
            (100.0, 100.0, Status::Pass),
            (100.0, 110.0, Status::Pass),
            (100.0, 110.001, Status::Warning),
            (100.0, 125.0, Status::Warning),
            (100.0, 125.001, Status::Failure),
            (100.0, 90.0, Status::Pass),
            (100.0, 89.999, Status::Improved),
            (100.0, 0.0, Status::Improved),
        ];
        for (b, c, want) in cases {
            assert_eq!(status(b, c, Direction::Lower, T), want, "{b} → {c}");
        }
    }

    #[test]
    fn status_boundaries_higher_is_better() {
        let cases = [
            (200.0, 180.0, Status::Pass),
            (200.0, 179.99, Status::Warning),
            (200.0, 150.0, Status::Warning),
            (200.0, 149.99, Status::Failure),
            (200.0, 220.0, Status::Pass),
            (200.0, 220.01, Status::Improved),
        ];
        for (b, c, want) in cases {
            assert_eq!(status(b, c, Direction::Higher, T), want, "{b} → {c}");
        }
        let (_, change, regression, _) = decide(200.0, 150.0, Direction::Higher, T);
        assert_eq!((change, regression), (Some(-25.0), Some(25.0)));
    }

    #[test]
    fn zero_baseline_never_divides() {
        assert_eq!(decide(0.0, 0.0, Direction::Lower, T).0, Status::Pass);
        let (s, change, _, note) = decide(0.0, 5.0, Direction::Lower, T);
        assert_eq!((s, change), (Status::Warning, None));
        assert!(note.unwrap().contains("baseline is 0"));
        assert_eq!(decide(0.0, 5.0, Direction::Higher, T).0, Status::Pass);
    }

    #[test]
    fn the_rule_sets_the_point_decision_of_a_metric_on_both_sides() {
        let b = baseline_metric(100.0);
        let c = metric(130.0, None, &[]);
        let mut m = decision(Some(&b), None, Some(&c));
        apply(&mut m, &ctx());
        assert_eq!(
            (m.status, m.change_pct, m.regression_pct, m.note),
            (Status::Failure, Some(30.0), Some(30.0), None)
        );
        let zero = baseline_metric(0.0);
        let mut m = decision(Some(&zero), None, Some(&c));
        apply(&mut m, &ctx());
        assert_eq!((m.status, m.change_pct), (Status::Warning, None));
        assert!(m.note.unwrap().starts_with("baseline is 0"));
        // One side only: what presence decided stands.
        let mut m = decision(None, None, Some(&c));
        m.status = Status::New;
        apply(&mut m, &ctx());
        assert_eq!((m.status, m.change_pct), (Status::New, None));
    }
}
