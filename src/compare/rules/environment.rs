//! The environment rule: when the baseline was measured on a different
//! machine (a fingerprint key differs), timings are not comparable, so with
//! `--env-mismatch warn` (the default) a failure counts as a warning, and
//! the note says which keys differ; `strict` keeps failures failing. A
//! regression more than [`MAX_MACHINE_FACTOR`] times the failure threshold
//! is not put down to the machine: it stays a failure (a runner image is
//! updated weekly, hosted runners come with several CPUs, and a pull
//! request must not be able to pass a 5× slowdown by landing on another).

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

/// Keys that make Valgrind counts incomparable (another Valgrind, C
/// library or CPU vendor executes other code): they count for counted
/// metrics (instructions, allocations) only.
pub const COUNT_KEYS: &[&str] = &["valgrind_version", "libc_version", "cpu_vendor"];

/// Whether `m` was counted under Valgrind rather than timed.
fn counted(m: &MetricDecision) -> bool {
    m.kind == crate::compare::MetricKind::Instructions
        || m.current
            .and_then(|c| c.measure.as_deref())
            .is_some_and(|x| x == "instructions" || x == "allocations")
}

/// The fingerprint keys both environments record, with different values.
pub fn mismatch(
    baseline: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
) -> Vec<String> {
    FINGERPRINT_KEYS
        .iter()
        .chain(COUNT_KEYS)
        .filter(|k| matches!((baseline.get(**k), current.get(**k)), (Some(x), Some(y)) if x != y))
        .map(|k| k.to_string())
        .collect()
}

/// How far beyond the failure threshold a machine difference may excuse a
/// regression: up to 3× it (a 25 % threshold excuses up to +75 %).
pub const MAX_MACHINE_FACTOR: f64 = 3.0;

pub fn apply(m: &mut MetricDecision, ctx: &RuleContext) {
    let keys: Vec<String> = ctx
        .environment_mismatch
        .iter()
        .filter(|k| counted(m) || !COUNT_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    if m.status != Status::Failure || keys.is_empty() || ctx.flags.env_policy != EnvPolicy::Warn {
        return;
    }
    let too_large = m
        .regression_pct
        .is_some_and(|r| r > MAX_MACHINE_FACTOR * m.thresholds.failure);
    if too_large {
        m.note = Some(format!(
            "measured on a different machine than the baseline ({}), but a regression of more than {MAX_MACHINE_FACTOR}× the failure threshold is not put down to the machine: still a failure",
            keys.join(", ")
        ));
        return;
    }
    m.status = Status::Warning;
    m.note = Some(format!(
        "above the failure threshold, but measured on a different machine than the baseline ({}): counted as a warning",
        keys.join(", ")
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
    fn a_regression_far_beyond_the_threshold_is_not_the_machine() {
        let b = baseline_metric(100.0);
        let c = metric(500.0, None, &[]);
        let keys = ["runner_image_version".to_string()];
        let other = RuleContext {
            environment_mismatch: &keys,
            ..ctx()
        };
        let mut m = decision(Some(&b), None, Some(&c));
        let limit = MAX_MACHINE_FACTOR * m.thresholds.failure;
        for (regression, status) in [
            (limit, Status::Warning),
            (limit + 0.1, Status::Failure),
            (400.0, Status::Failure),
        ] {
            m.status = Status::Failure;
            m.regression_pct = Some(regression);
            apply(&mut m, &other);
            assert_eq!(m.status, status, "{regression}: {:?}", m.note);
        }
        assert!(m.note.unwrap().contains("is not put down to the machine"));
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

    #[test]
    fn another_valgrind_or_c_library_is_another_machine_for_counts_only() {
        let b = baseline_metric(100.0);
        let mut instructions = metric(104.0, None, &[]);
        instructions.unit = "instructions".into();
        let wall = metric(140.0, None, &[]);
        let keys = ["valgrind_version".to_string()];
        let other = RuleContext {
            environment_mismatch: &keys,
            ..ctx()
        };
        let mut m = MetricDecision::new(
            "a.instructions",
            Some(&b),
            None,
            Some(&instructions),
            None,
            Default::default(),
        );
        m.status = Status::Failure;
        apply(&mut m, &other);
        assert_eq!(m.status, Status::Warning);
        assert!(m.note.unwrap().contains("(valgrind_version)"));
        let mut m = decision(Some(&b), None, Some(&wall));
        m.status = Status::Failure;
        apply(&mut m, &other);
        assert_eq!(
            m.status,
            Status::Failure,
            "timings do not depend on Valgrind"
        );
        let env = |v: &str| BTreeMap::from([("libc_version".to_string(), v.to_string())]);
        assert_eq!(mismatch(&env("2.36"), &env("2.39")), ["libc_version"]);
    }
}
