//! The built-in workloads: bench-gate's own persona generator, run as child
//! processes, reporting the metric names of the Persona baseline format.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::{CommandSpec, MetricSpec, Scenario, Workload, WorkloadError};
use crate::model::{Measure, Statistic};

pub const WORKLOADS: &[(&str, &str)] = &[
    ("quick", "pre-commit check, a few seconds"),
    ("standard", "pull requests"),
    ("full", "releases: more iterations"),
    ("batch", "batch generation: 10 and 50 personas"),
];

fn metric(name: &str, measure: Measure, statistic: Statistic) -> MetricSpec {
    MetricSpec {
        name: name.to_string(),
        measure,
        statistic,
        per: None,
        per_minute: None,
    }
}

fn generate(
    exe: &Path,
    name: &str,
    count: u32,
    iterations: u32,
    warmup: u32,
    with_p99: bool,
) -> Scenario {
    let mut metrics = vec![
        metric(
            &format!("generation.{name}.latency_p50_ms"),
            Measure::WallMs,
            Statistic::P50,
        ),
        metric(
            &format!("generation.{name}.latency_p95_ms"),
            Measure::WallMs,
            Statistic::P95,
        ),
    ];
    if with_p99 {
        metrics.push(metric(
            &format!("generation.{name}.latency_p99_ms"),
            Measure::WallMs,
            Statistic::P99,
        ));
    }
    metrics.push(metric(
        &format!("memory.{name}_peak_mb"),
        Measure::PeakMb,
        Statistic::Max,
    ));
    Scenario {
        name: name.to_string(),
        command: CommandSpec {
            argv: vec![
                exe.display().to_string(),
                "generate".into(),
                "--count".into(),
                count.to_string(),
            ],
            env: BTreeMap::new(),
            cwd: None,
            env_policy: Default::default(),
        },
        counted: Vec::new(),
        iterations,
        warmup,
        timeout: Duration::from_secs(60),
        metrics,
        checks: Default::default(),
        usage: Vec::new(),
    }
}

fn startup(exe: &Path, iterations: u32, warmup: u32) -> Scenario {
    Scenario {
        name: "cli_startup".into(),
        command: CommandSpec {
            argv: vec![exe.display().to_string(), "--version".into()],
            env: BTreeMap::new(),
            cwd: None,
            env_policy: Default::default(),
        },
        counted: Vec::new(),
        iterations,
        warmup,
        timeout: Duration::from_secs(30),
        metrics: vec![metric(
            "startup.cli_cold_ms",
            Measure::WallMs,
            Statistic::P50,
        )],
        checks: Default::default(),
        usage: Vec::new(),
    }
}

/// The built-in workload `name`, benchmarking the bench-gate binary at `exe`.
pub fn workload(name: &str, exe: &Path) -> Result<Workload, WorkloadError> {
    let scenarios = match name {
        "quick" => vec![
            generate(exe, "single", 1, 15, 2, true),
            generate(exe, "batch_10", 10, 10, 1, false),
            startup(exe, 15, 2),
        ],
        "standard" => vec![
            generate(exe, "single", 1, 40, 3, true),
            generate(exe, "batch_10", 10, 30, 2, false),
            startup(exe, 40, 3),
        ],
        "full" => vec![
            generate(exe, "single", 1, 100, 5, true),
            generate(exe, "batch_10", 10, 60, 3, false),
            startup(exe, 100, 5),
        ],
        "batch" => vec![
            generate(exe, "batch_10", 10, 60, 3, false),
            generate(exe, "batch_50", 50, 20, 2, true),
        ],
        _ => {
            return Err(WorkloadError::UnknownWorkload {
                name: name.to_string(),
                available: WORKLOADS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    };
    Ok(Workload {
        name: name.to_string(),
        scenarios,
        services: Vec::new(),
        shard: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_reports_the_persona_baseline_names() {
        let w = workload("standard", Path::new("/bin/bench-gate")).unwrap();
        let mut names: Vec<String> = w
            .scenarios
            .iter()
            .flat_map(|s| s.metrics.iter().map(|m| m.name.clone()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "generation.batch_10.latency_p50_ms",
                "generation.batch_10.latency_p95_ms",
                "generation.single.latency_p50_ms",
                "generation.single.latency_p95_ms",
                "generation.single.latency_p99_ms",
                "memory.batch_10_peak_mb",
                "memory.single_peak_mb",
                "startup.cli_cold_ms",
            ]
        );
    }

    #[test]
    fn unknown_workload_lists_the_known_ones() {
        let err = workload("huge", Path::new("x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown workload 'huge'; available: quick, standard, full, batch"
        );
    }
}
