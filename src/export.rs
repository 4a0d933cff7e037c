//! Results out to other dashboards: the Bencher Metric Format and
//! github-action-benchmark's custom JSON.

use serde_json::{json, Map, Value};

use crate::model::Direction;
use crate::model::Results;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Bencher Metric Format: time metrics as the `latency` measure in ns
    Bmf,
    /// github-action-benchmark customSmallerIsBetter (lower-is-better metrics)
    GithubActionBenchmark,
    /// The same, explicitly
    CustomSmallerIsBetter,
    /// github-action-benchmark customBiggerIsBetter (higher-is-better metrics)
    CustomBiggerIsBetter,
}

impl crate::model::Named for ExportFormat {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            ExportFormat::Bmf,
            "bmf",
            "Bencher Metric Format: time metrics as the `latency` measure in ns",
        ),
        (
            ExportFormat::GithubActionBenchmark,
            "github-action-benchmark",
            "github-action-benchmark customSmallerIsBetter (lower-is-better metrics)",
        ),
        (
            ExportFormat::CustomSmallerIsBetter,
            "custom-smaller-is-better",
            "the same, explicitly",
        ),
        (
            ExportFormat::CustomBiggerIsBetter,
            "custom-bigger-is-better",
            "github-action-benchmark customBiggerIsBetter (higher-is-better metrics)",
        ),
    ];
}

fn ns_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    })
}

fn measure_slug(unit: &str) -> String {
    let s: String = unit
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "value".into()
    } else {
        s
    }
}

pub fn export(results: &Results, format: ExportFormat) -> String {
    let v = match format {
        ExportFormat::Bmf => {
            let mut out = Map::new();
            for (name, m) in &results.metrics {
                let (measure, f) = match ns_factor(&m.unit) {
                    Some(f) => ("latency".to_string(), f),
                    None => (measure_slug(&m.unit), 1.0),
                };
                let mut entry = Map::new();
                entry.insert("value".into(), json!(m.value * f));
                if let (Some(lo), Some(hi)) = (
                    m.samples.iter().copied().reduce(f64::min),
                    m.samples.iter().copied().reduce(f64::max),
                ) {
                    entry.insert("lower_value".into(), json!(lo * f));
                    entry.insert("upper_value".into(), json!(hi * f));
                }
                out.insert(name.clone(), json!({ measure: Value::Object(entry) }));
            }
            Value::Object(out)
        }
        ExportFormat::GithubActionBenchmark
        | ExportFormat::CustomSmallerIsBetter
        | ExportFormat::CustomBiggerIsBetter => {
            let want = if format == ExportFormat::CustomBiggerIsBetter {
                Direction::Higher
            } else {
                Direction::Lower
            };
            Value::Array(
                results
                    .metrics
                    .iter()
                    .filter(|(_, m)| m.direction == want)
                    .map(|(name, m)| {
                        let mut e = json!({"name": name, "unit": m.unit, "value": m.value});
                        if let Some(s) = crate::stats::Summary::of(&m.samples) {
                            e["range"] = json!(format!("± {:.4}", s.stddev));
                            e["extra"] = json!(format!(
                                "n={} p50={:.4} p95={:.4} p99={:.4} {}",
                                s.n, s.p50, s.p95, s.p99, m.unit
                            ));
                        }
                        e
                    })
                    .collect(),
            )
        }
    };
    let mut s = serde_json::to_string_pretty(&v).expect("serialises");
    s.push('\n');
    s
}
