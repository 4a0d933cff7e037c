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

pub fn measure_values(samples: &[Sample], m: Measure) -> Vec<f64> {
    samples
        .iter()
        .map(|s| match m {
            Measure::WallMs => s.wall_ms,
            Measure::UserMs => s.user_ms,
            Measure::SysMs => s.sys_ms,
            Measure::CpuMs => s.user_ms + s.sys_ms,
            Measure::PeakMb => s.peak_mb(),
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
            let summary = summaries.get(spec.measure.name())?;
            Some((
                spec.name.clone(),
                Metric {
                    value: spec.statistic.of(summary),
                    unit: spec.measure.unit().to_string(),
                    direction: Direction::Lower,
                    scenario: Some(s.name.clone()),
                    measure: Some(spec.measure.name().to_string()),
                    statistic: Some(spec.statistic.name().to_string()),
                    samples: measure_values(&run.samples, spec.measure),
                },
            ))
        })
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
    for (s, run) in workload.scenarios.iter().zip(runs) {
        let (r, m) = scenario_result(s, run);
        scenarios.push(r);
        metrics.extend(m);
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
        incomplete: None,
    }
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
