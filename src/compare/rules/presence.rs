//! Presence: a metric on one side only is `missing` (in the baseline, or
//! in the base commit's config, but not in the results) or `new` (in the
//! results only). A missing one counts as the missing policy says, unless
//! the results say why it was not measured: then it is `skipped` (no
//! Valgrind here), or a warning (a count that was not deterministic); only
//! a counted measure's metric (instructions, allocations) can be skipped.

use super::{MetricDecision, RuleContext};
use crate::compare::Status;
use crate::model::MissingPolicy;

/// The status and note of a metric absent from the results, under `policy`.
pub fn missing_status(why: &str, policy: MissingPolicy) -> (Option<Status>, String) {
    let counted = match policy {
        MissingPolicy::Fail => "counted as a failure (missing: fail)",
        MissingPolicy::Warn => "counted as a warning (missing: warn)",
        MissingPolicy::Ignore => "not counted (missing: ignore)",
    };
    (policy.counts_as(), format!("{why}: {counted}"))
}

pub fn apply(m: &mut MetricDecision, ctx: &RuleContext) {
    // Only a counted measure (no Valgrind here) may be skipped: a wall-clock
    // metric listed as skipped is missing like any other (the results'
    // validation refuses such a file first).
    let counted = crate::model::counted_metric_name(m.name);
    if let (Some(sk), None, true) = (m.skipped, m.current, counted) {
        if sk.warning {
            m.status = Status::Warning;
            m.note = Some(sk.reason.clone());
        } else {
            // Reports say "skipped: <note>".
            m.status = Status::Skipped;
            m.note = Some(sk.reason.clone());
        }
        return;
    }
    match (m.baseline, m.current) {
        (Some(_), Some(_)) => {}
        (b, None) => {
            let why = if b.is_some() {
                "in the baseline but not in the results"
            } else {
                "defined by the base commit's bench-gate.yml but not by the head's, so not measured"
            };
            let (counts_as, note) = missing_status(why, ctx.flags.missing);
            m.status = Status::Missing;
            m.counts_as = counts_as;
            m.note = Some(note);
        }
        (None, Some(_)) => {
            m.status = Status::New;
            m.note = Some("measured, but the baseline has no value for it".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn one_side_only_is_missing_or_new_and_both_is_left_alone() {
        let b = baseline_metric(100.0);
        let c = metric(100.0, None, &[]);
        let mut m = decision(Some(&b), None, None);
        apply(&mut m, &ctx());
        assert_eq!(
            (m.status, m.counts_as),
            (Status::Missing, Some(Status::Failure))
        );
        assert_eq!(
            m.note.as_deref(),
            Some("in the baseline but not in the results: counted as a failure (missing: fail)")
        );
        let mut m = decision(None, None, Some(&c));
        apply(&mut m, &ctx());
        assert_eq!((m.status, m.counts_as), (Status::New, None));
        let mut m = decision(Some(&b), None, Some(&c));
        let before = m.clone();
        apply(&mut m, &ctx());
        assert_eq!(m, before);
    }

    #[test]
    fn a_skipped_metric_is_shown_as_skipped_or_warned_never_missing() {
        let b = baseline_metric(100.0);
        let absent = crate::model::Skipped {
            reason: "valgrind not found on PATH".into(),
            warning: false,
        };
        let mut m = decision(Some(&b), None, None);
        m.name = "s.instructions";
        m.skipped = Some(&absent);
        apply(&mut m, &ctx());
        assert_eq!((m.status, m.counts_as), (Status::Skipped, None));
        assert_eq!(m.note.as_deref(), Some("valgrind not found on PATH"));
        let noisy = crate::model::Skipped {
            reason: "not deterministic: two runs counted 1 and 2".into(),
            warning: true,
        };
        let mut m = decision(None, None, None);
        m.name = "s.alloc_bytes";
        m.skipped = Some(&noisy);
        apply(&mut m, &ctx());
        assert_eq!(m.status, Status::Warning);
        assert!(m.note.unwrap().starts_with("not deterministic"));
    }

    #[test]
    fn a_skipped_wall_clock_metric_is_missing_not_skipped() {
        let b = baseline_metric(100.0);
        let claim = crate::model::Skipped {
            reason: "valgrind is not installed here".into(),
            warning: false,
        };
        for warning in [false, true] {
            let claim = crate::model::Skipped {
                warning,
                ..claim.clone()
            };
            // `x_ms`: a wall-clock metric.
            let mut m = decision(Some(&b), None, None);
            m.skipped = Some(&claim);
            apply(&mut m, &ctx());
            assert_eq!(
                (m.status, m.counts_as),
                (Status::Missing, Some(Status::Failure))
            );
        }
    }

    #[test]
    fn the_missing_policy_decides_what_missing_counts_as() {
        let mut ctx = ctx();
        for (policy, counts, says) in [
            (
                MissingPolicy::Warn,
                Some(Status::Warning),
                "counted as a warning (missing: warn)",
            ),
            (MissingPolicy::Ignore, None, "not counted (missing: ignore)"),
        ] {
            ctx.flags.missing = policy;
            // Only the base commit's config defines it (side by side).
            let mut m = decision(None, None, None);
            apply(&mut m, &ctx);
            assert_eq!((m.status, m.counts_as), (Status::Missing, counts));
            let note = m.note.unwrap();
            assert!(
                note.starts_with("defined by the base commit's bench-gate.yml"),
                "{note}"
            );
            assert!(note.ends_with(says), "{note}");
        }
    }
}
