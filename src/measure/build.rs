//! From raw runs to the results file: summaries per measure, the metrics a
//! scenario reports, and the machine's fingerprint.

use std::collections::BTreeMap;

use crate::model::{
    free_text, now_rfc3339, Direction, Environment, Measure, Metric, Named, Results, Sample,
    ScenarioResult, COMMAND_MAX, SCHEMA_VERSION, TEXT_MAX,
};
use crate::stats::Summary;
use crate::workload::{Scenario, Workload};

use super::runner::{display_command, ScenarioRun};

/// The values of measure `m` in `samples`; the usage measures only of
/// samples that carry usage.
pub fn measure_values(samples: &[Sample], m: Measure) -> Vec<f64> {
    samples
        .iter()
        .filter_map(|s| {
            Some(match m {
                Measure::WallMs => s.wall_ms,
                Measure::UserMs => s.user_ms,
                Measure::SysMs => s.sys_ms,
                Measure::CpuMs => s.user_ms + s.sys_ms,
                Measure::PeakMb => s.peak_mb(),
                Measure::ApiCalls => s.usage?.api_calls as f64,
                Measure::PromptTokens => s.usage?.prompt_tokens as f64,
                Measure::CompletionTokens => s.usage?.completion_tokens as f64,
            })
        })
        .collect()
}

/// Summaries and metrics of one scenario's raw run.
pub fn scenario_result(s: &Scenario, run: &ScenarioRun) -> (ScenarioResult, Vec<(String, Metric)>) {
    let summaries: BTreeMap<String, Summary> = Measure::ALL
        .iter()
        .filter_map(|m| {
            Summary::of(&measure_values(&run.samples, *m)).map(|x| (m.name().to_string(), x))
        })
        .collect();
    let metrics = s
        .metrics
        .iter()
        .filter_map(|spec| {
            let values = measure_values(&run.samples, spec.measure);
            // Per unit of work, or a throughput: each sample transformed,
            // and the value the statistic of the stored samples.
            let (samples, unit, direction) = match (spec.per, spec.per_minute) {
                (_, Some(units)) => (
                    values
                        .iter()
                        .filter(|v| **v > 0.0)
                        .map(|v| units * 60_000.0 / v)
                        .collect(),
                    "/min",
                    Direction::Higher,
                ),
                (Some(per), None) => (
                    values.iter().map(|v| v / per).collect(),
                    spec.measure.unit(),
                    Direction::Lower,
                ),
                (None, None) => (values, spec.measure.unit(), Direction::Lower),
            };
            let summary = Summary::of(&samples)?;
            Some((
                spec.name.clone(),
                Metric {
                    value: spec.statistic.of(&summary),
                    unit: unit.to_string(),
                    direction,
                    scenario: Some(s.name.clone()),
                    measure: Some(spec.measure.name().to_string()),
                    statistic: Some(spec.statistic.name().to_string()),
                    samples,
                },
            ))
        })
        .chain(run.counts.metrics.iter().cloned())
        .collect();
    let overhead = if run.overhead_ms.is_empty() {
        0.0
    } else {
        run.overhead_ms.iter().sum::<f64>() / run.overhead_ms.len() as f64
    };
    (
        ScenarioResult {
            name: s.name.clone(),
            command: free_text(&display_command(&s.command.argv), COMMAND_MAX),
            iterations: s.iterations,
            warmup: s.warmup,
            samples: run.samples.clone(),
            warmup_samples: run.warmup_samples.clone(),
            summaries,
            overhead_ms_mean: overhead,
        },
        metrics,
    )
}

/// The results of a workload's runs, in scenario order.
pub fn results(workload: &Workload, runs: &[ScenarioRun], environment: Environment) -> Results {
    let mut scenarios = Vec::new();
    let mut metrics = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    for (s, run) in workload.scenarios.iter().zip(runs) {
        let (r, m) = scenario_result(s, run);
        scenarios.push(r);
        metrics.extend(m);
        skipped.extend(run.counts.skipped.iter().cloned());
    }
    Results {
        schema_version: SCHEMA_VERSION,
        tool: "bench-gate".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_rfc3339(),
        workload: workload.name.clone(),
        environment,
        scenarios,
        metrics,
        github: None,
        shard: workload.shard.clone(),
        shards: Vec::new(),
        confirmations: Vec::new(),
        ab: None,
        skipped,
        incomplete: None,
        why: Vec::new(),
    }
}

/// The GNU C library's version (`gnu_get_libc_version`), where it is glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn libc_version() -> Option<String> {
    // SAFETY: returns a pointer to a static, NUL-terminated string.
    let p = unsafe { libc::gnu_get_libc_version() };
    if p.is_null() {
        return None;
    }
    // SAFETY: checked non-null; glibc's static version string.
    let v = unsafe { std::ffi::CStr::from_ptr(p) };
    Some(format!("glibc {}", v.to_string_lossy()))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn libc_version() -> Option<String> {
    None
}

/// What is known about this machine, for telling whether two measurements
/// are comparable. On GitHub Actions the runner's OS, architecture and image
/// come from the environment (`RUNNER_OS`, `RUNNER_ARCH`, `ImageOS`,
/// `ImageVersion`, `RUNNER_ENVIRONMENT`).
pub fn fingerprint() -> Environment {
    use sysinfo::System;
    let mut env = Environment::new();
    let mut sys = System::new();
    sys.refresh_memory();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    let os = std::env::consts::OS;
    let arch = std::env::consts::ARCH;
    env.insert("os".into(), os.into());
    env.insert("arch".into(), arch.into());
    env.insert("platform".into(), format!("{os}-{arch}"));
    if let Some(v) = System::long_os_version() {
        env.insert("os_version".into(), v);
    }
    if let Some(k) = System::kernel_version() {
        env.insert("kernel".into(), k);
    }
    if let Some(cpu) = sys.cpus().first() {
        env.insert("cpu_model".into(), cpu.brand().trim().to_string());
        if !cpu.vendor_id().trim().is_empty() {
            env.insert("cpu_vendor".into(), cpu.vendor_id().trim().to_string());
        }
    }
    // What Valgrind counts depends on these too (see compare's COUNT_KEYS).
    if let Some(v) = libc_version() {
        env.insert("libc_version".into(), v);
    }
    if let Some(v) = super::valgrind::version() {
        env.insert("valgrind_version".into(), v);
    }
    env.insert("cpu_cores".into(), sys.cpus().len().to_string());
    env.insert(
        "memory_gb".into(),
        format!("{:.0}", sys.total_memory() as f64 / (1u64 << 30) as f64),
    );
    env.insert(
        "bench_gate_version".into(),
        env!("CARGO_PKG_VERSION").into(),
    );
    for (var, key) in [
        ("RUNNER_OS", "runner_os"),
        ("RUNNER_ARCH", "runner_arch"),
        ("ImageOS", "runner_image"),
        ("ImageVersion", "runner_image_version"),
        ("RUNNER_ENVIRONMENT", "runner_environment"),
    ] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                env.insert(key.into(), v);
            }
        }
    }
    env.into_iter()
        .map(|(k, v)| (k, free_text(&v, TEXT_MAX)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Statistic, Usage};
    use crate::workload::{CommandSpec, MetricSpec};

    fn sample(wall_ms: f64, api_calls: Option<u64>) -> Sample {
        Sample {
            wall_ms,
            user_ms: 1.0,
            sys_ms: 1.0,
            peak_rss_kib: 1024,
            usage: api_calls.map(|a| Usage {
                api_calls: a,
                prompt_tokens: 100 * a,
                completion_tokens: 10 * a,
            }),
        }
    }

    fn spec(name: &str, measure: Measure, statistic: Statistic) -> MetricSpec {
        MetricSpec {
            name: name.into(),
            measure,
            statistic,
            per: None,
            per_minute: None,
        }
    }

    /// Counts, per unit of work and throughput: each value is the
    /// statistic of the metric's own stored samples, with its unit and
    /// direction.
    #[test]
    fn usage_per_unit_and_throughput_metrics() {
        let mut per = spec("per", Measure::ApiCalls, Statistic::Mean);
        per.per = Some(10.0);
        let mut rate = spec("rate", Measure::WallMs, Statistic::P50);
        rate.per_minute = Some(10.0);
        let s = Scenario {
            name: "s".into(),
            command: CommandSpec {
                argv: vec!["x".into()],
                env: Default::default(),
                cwd: None,
                env_policy: Default::default(),
            },
            iterations: 3,
            warmup: 0,
            timeout: std::time::Duration::from_secs(1),
            metrics: vec![
                spec("calls", Measure::ApiCalls, Statistic::Max),
                spec("tokens", Measure::PromptTokens, Statistic::P50),
                per,
                rate,
            ],
            checks: Default::default(),
            usage: vec!["http://x".into()],
            counted: Vec::new(),
        };
        let run = ScenarioRun {
            samples: vec![
                sample(1000.0, Some(1)),
                sample(2000.0, Some(2)),
                sample(4000.0, Some(3)),
            ],
            ..Default::default()
        };
        let (r, metrics) = scenario_result(&s, &run);
        let m: BTreeMap<String, Metric> = metrics.into_iter().collect();
        assert_eq!((m["calls"].value, m["calls"].unit.as_str()), (3.0, "calls"));
        assert_eq!(
            (m["tokens"].value, m["tokens"].unit.as_str()),
            (200.0, "tokens")
        );
        assert_eq!(m["per"].samples, [0.1, 0.2, 0.3]);
        assert!((m["per"].value - 0.2).abs() < 1e-12);
        assert_eq!(m["rate"].samples, [600.0, 300.0, 150.0]);
        assert_eq!(m["rate"].value, 300.0);
        assert_eq!(
            (m["rate"].unit.as_str(), m["rate"].direction),
            ("/min", Direction::Higher)
        );
        assert_eq!(m["calls"].direction, Direction::Lower);
        assert_eq!(r.summaries["completion_tokens"].max, 30.0);
        // Without usage in the samples there is no usage metric at all.
        let run = ScenarioRun {
            samples: vec![sample(1000.0, None)],
            ..Default::default()
        };
        let (r, metrics) = scenario_result(&s, &run);
        let names: Vec<&str> = metrics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["rate"]);
        assert!(!r.summaries.contains_key("api_calls"));
    }
}
