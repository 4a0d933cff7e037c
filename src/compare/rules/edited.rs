//! Hand-edited baseline values: the baseline file's values are the truth.
//! A value that disagrees with the statistic of its own stored samples was
//! edited by hand, so the samples are set aside for that metric (no
//! interval, no pairing from them), and the note says so.

use super::{MetricDecision, RuleContext};
use crate::model::units::fmt_value;
use crate::model::{Named, Statistic};
use crate::stats::Summary;

/// Relative disagreement between a baseline value and the statistic of its
/// own samples that is still rounding, not an edit: 0.5 %. `capture` writes
/// every value at full precision, so its files agree exactly; a maintainer
/// who rounds a value to three significant figures (1496.45 → 1500) moves it
/// by at most 0.5 %. Anything more is an edit, and 0.5 % is a twentieth of
/// the default warning threshold, so an edit that small changes no decision
/// the samples could mislead.
pub const EDIT_TOLERANCE: f64 = 0.005;
/// ... and in absolute terms, half a unit in the third decimal (a value
/// written with three decimals, as 0.012 for 0.0123).
pub const EDIT_TOLERANCE_ABS: f64 = 0.0005;

/// The statistic (`p50`, `p95`, `mean`, …) of `samples`, when it disagrees
/// with `value` beyond rounding: the value was edited by hand and the
/// samples no longer describe it. `None` when they agree, or when it cannot
/// be told (no samples, a statistic the samples cannot give).
pub fn samples_disagree(value: f64, samples: &[f64], statistic: &str) -> Option<f64> {
    let of_samples = Statistic::parse(statistic)?.of(&Summary::of(samples)?);
    let d = (value - of_samples).abs();
    (d > EDIT_TOLERANCE * of_samples.abs().max(value.abs()) && d > EDIT_TOLERANCE_ABS)
        .then_some(of_samples)
}

/// Sets the baseline's samples aside when its value disagrees with them.
pub fn set_samples_aside(m: &mut MetricDecision, _: &RuleContext) {
    let (Some(b), Some(bs), Some(stat)) = (m.baseline, m.baseline_samples, m.statistic) else {
        return;
    };
    if let Some(of_samples) = samples_disagree(b.value, bs, stat) {
        m.edited = Some(format!(
            "value edited by hand; its samples are ignored (the value {} is not the {stat} of its {} samples, {})",
            fmt_value(b.value, &m.unit),
            bs.len(),
            fmt_value(of_samples, &m.unit)
        ));
        m.baseline_samples = None;
    }
}

/// Puts the edit before whatever note the rules so far left.
pub fn say_so(m: &mut MetricDecision, _: &RuleContext) {
    if let Some(e) = &m.edited {
        m.note = Some(match m.note.take() {
            Some(n) => format!("{e}; {n}"),
            None => e.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn rounding_is_not_an_edit_but_a_changed_value_is() {
        let xs = [1490.2, 1502.7, 1511.0];
        // The README's example: 1500 written for a P50 of 1502.7 (0.18 %).
        assert_eq!(samples_disagree(1500.0, &xs, "p50"), None);
        assert_eq!(samples_disagree(1502.7, &xs, "p50"), None);
        // 1.6x faster by hand.
        assert_eq!(samples_disagree(1502.7 / 1.6, &xs, "p50"), Some(1502.7));
        // Three decimals of a tiny value.
        assert_eq!(samples_disagree(0.012, &[0.0123], "p50"), None);
        assert_eq!(samples_disagree(0.02, &[0.0123], "p50"), Some(0.0123));
        // The statistic counts: this is the max, not the median.
        assert_eq!(samples_disagree(1511.0, &xs, "max"), None);
        assert!(samples_disagree(1511.0, &xs, "p50").is_some());
        // Cannot tell: no samples, or a statistic samples do not give.
        assert_eq!(samples_disagree(1.0, &[], "p50"), None);
        assert_eq!(samples_disagree(1.0, &xs, "p42"), None);
    }

    #[test]
    fn an_edited_value_sets_its_samples_aside_and_the_note_leads_with_it() {
        let xs = [99.0, 100.0, 101.0];
        let c = metric(100.0, Some("p50"), &xs);
        let edited = baseline_metric(62.5);
        let mut m = decision(Some(&edited), Some(&xs), Some(&c));
        set_samples_aside(&mut m, &ctx());
        assert_eq!(m.baseline_samples, None);
        let e = m.edited.clone().unwrap();
        assert_eq!(
            e,
            "value edited by hand; its samples are ignored (the value 62.5 ms is not the p50 of its 3 samples, 100 ms)"
        );
        m.note = Some("a later rule's note".into());
        say_so(&mut m, &ctx());
        assert_eq!(m.note.unwrap(), format!("{e}; a later rule's note"));
        // Untouched: the samples stay, and nothing is said.
        let kept = baseline_metric(100.0);
        let mut m = decision(Some(&kept), Some(&xs), Some(&c));
        set_samples_aside(&mut m, &ctx());
        say_so(&mut m, &ctx());
        assert_eq!(
            (m.baseline_samples, m.edited, m.note),
            (Some(&xs[..]), None, None)
        );
        // No statistic on the current side: it cannot be told, samples kept.
        let plain = metric(100.0, None, &xs);
        let mut m = decision(Some(&edited), Some(&xs), Some(&plain));
        set_samples_aside(&mut m, &ctx());
        assert_eq!((m.baseline_samples, m.edited), (Some(&xs[..]), None));
    }
}
