//! The environment rule: when the baseline was measured on a different
//! machine (a fingerprint key differs), timings are not comparable, so with
//! `--env-mismatch warn` (the default) a failure counts as a warning, and
//! the note says which keys differ; `strict` keeps failures failing.

use std::collections::BTreeMap;

use super::{MetricDecision, RuleContext};
use crate::compare::{EnvPolicy, Status};

/// The environment keys whose difference makes timings incomparable.
pub const FINGERPRINT_KEYS: &[&str] = &[
    "cpu_model",
    "cpu_cores",
    "memory_gb",
    "os",
    "arch",
    "kernel",
    "runner_os",
    "runner_arch",
    "runner_image",
    "runner_image_version",
    "bench_gate_version",
];

/// The fingerprint keys both environments record, with different values.
pub fn mismatch(
    baseline: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
) -> Vec<String> {
    FINGERPRINT_KEYS
        .iter()
        .filter(|k| matches!((baseline.get(**k), current.get(**k)), (Some(x), Some(y)) if x != y))
        .map(|k| k.to_string())
        .collect()
}

pub fn apply(m: &mut MetricDecision, ctx: &RuleContext) {
    if m.status != Status::Failure
        || ctx.environment_mismatch.is_empty()
        || ctx.flags.env_policy != EnvPolicy::Warn
    {
        return;
    }
    m.status = Status::Warning;
    m.note = Some(format!(
        "above the failure threshold, but measured on a different machine than the baseline ({}): counted as a warning",
        ctx.environment_mismatch.join(", ")
    ));
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_fingerprint_keys_on_both_sides_that_differ_are_a_mismatch() {
        let b = env(&[
            ("cpu_model", "AMD"),
            ("kernel", "6.1"),
            ("python", "3.12"),
            ("os", "linux"),
        ]);
        let c = env(&[
            ("cpu_model", "Intel"),
            ("kernel", "6.1"),
            ("python", "3.13"),
        ]);
        assert_eq!(mismatch(&b, &c), ["cpu_model"]);
        assert!(mismatch(&b, &b).is_empty());
    }

    #[test]
    fn a_failure_on_another_machine_is_a_warning_unless_strict() {
        let b = baseline_metric(100.0);
        let c = metric(140.0, None, &[]);
        let keys = ["cpu_model".to_string(), "kernel".to_string()];
        let other = RuleContext {
            environment_mismatch: &keys,
            ..ctx()
        };
        let failed = || {
            let mut m = decision(Some(&b), None, Some(&c));
            (m.status, m.note) = (Status::Failure, Some("an earlier note".into()));
            m
        };
        let mut m = failed();
        apply(&mut m, &other);
        assert_eq!(m.status, Status::Warning);
        assert_eq!(
            m.note.unwrap(),
            "above the failure threshold, but measured on a different machine than the baseline (cpu_model, kernel): counted as a warning"
        );
        // Strict, the same machine, or not a failure: unchanged.
        let mut strict = other;
        strict.flags.env_policy = EnvPolicy::Strict;
        for (ctx, status) in [
            (strict, Status::Failure),
            (ctx(), Status::Failure),
            (other, Status::Warning),
        ] {
            let mut m = failed();
            m.status = status;
            apply(&mut m, &ctx);
            assert_eq!(
                (m.status, m.note.as_deref()),
                (status, Some("an earlier note"))
            );
        }
    }
}
