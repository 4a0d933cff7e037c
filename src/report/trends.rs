//! `bench-gate trends`: each metric across the baselines' versions, as a
//! table with a sparkline, one metric as bars, or JSON.

use std::collections::BTreeMap;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::escape::{json_text, log_text};
use super::terminal::fmt_value;
use crate::baseline::{unit_from_name, Baseline};

/// Each metric's value in each version, oldest version first; `None` where
/// a version did not measure it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    pub versions: Vec<String>,
    pub series: BTreeMap<String, Vec<Option<f64>>>,
}

impl Trends {
    /// From baselines ordered oldest first.
    pub fn new(baselines: &[Baseline]) -> Trends {
        let mut series: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for (i, b) in baselines.iter().enumerate() {
            for (name, m) in &b.metrics {
                series
                    .entry(name.clone())
                    .or_insert_with(|| vec![None; baselines.len()])[i] = Some(m.value);
            }
        }
        Trends {
            versions: baselines.iter().map(|b| b.version.clone()).collect(),
            series,
        }
    }

    /// Keeps `metric` alone; false (and nothing kept) when no version has it.
    pub fn only(&mut self, metric: &str) -> bool {
        self.series.retain(|name, _| name == metric);
        !self.series.is_empty()
    }

    /// `{"versions": [...], "metrics": {name: [value or null, ...]}}`.
    pub fn json(&self) -> String {
        let out = serde_json::json!({ "versions": self.versions, "metrics": self.series });
        json_text(&serde_json::to_string_pretty(&out).expect("trends serialise"))
    }

    /// One metric: a bar per version, scaled to the largest value.
    pub fn bars(&self, metric: &str) -> String {
        let values = self.series.get(metric).map_or(&[][..], |v| v.as_slice());
        let unit = unit_from_name(metric);
        let max = values
            .iter()
            .flatten()
            .copied()
            .fold(f64::MIN_POSITIVE, f64::max);
        let mut out = format!("{metric}\n");
        for (v, x) in self.versions.iter().zip(values) {
            out.push_str(&match x {
                Some(x) => format!(
                    "{v:>12} {:<40} {}\n",
                    "█".repeat(((x / max) * 40.0).round() as usize),
                    fmt_value(*x, unit)
                ),
                None => format!("{v:>12} (not measured)\n"),
            });
        }
        log_text(&out)
    }

    /// Every metric: a row of values by version, and a sparkline.
    pub fn table(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        let mut header = vec!["metric".to_string()];
        header.extend(self.versions.iter().cloned());
        header.push("trend".into());
        t.set_header(header);
        for (name, values) in &self.series {
            let unit = unit_from_name(name);
            let mut row = vec![name.clone()];
            row.extend(
                values
                    .iter()
                    .map(|v| v.map(|x| fmt_value(x, unit)).unwrap_or_else(|| "—".into())),
            );
            row.push(sparkline(values));
            t.add_row(row);
        }
        log_text(&t.to_string())
    }
}

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One character per value, from ▁ (lowest) to █ (highest); a blank where
/// a value is missing.
fn sparkline(values: &[Option<f64>]) -> String {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let lo = present.iter().copied().fold(f64::MAX, f64::min);
    let hi = present.iter().copied().fold(f64::MIN, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if hi > lo => SPARKS[(((v - lo) / (hi - lo)) * 7.0).round() as usize],
            Some(_) => SPARKS[3],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineMetric;

    fn baseline(version: &str, metrics: &[(&str, f64)]) -> Baseline {
        Baseline {
            version: version.into(),
            metrics: metrics
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        BaselineMetric {
                            value: *v,
                            unit: None,
                            direction: Default::default(),
                            warning: None,
                            failure: None,
                        },
                    )
                })
                .collect(),
            ..Baseline::default()
        }
    }

    #[test]
    fn a_metric_missing_from_a_version_is_a_gap_everywhere() {
        let mut t = Trends::new(&[
            baseline("1.0.0", &[("a.latency_ms", 10.0)]),
            baseline("1.1.0", &[("a.latency_ms", 20.0), ("b.peak_mb", 5.0)]),
        ]);
        assert_eq!(t.versions, ["1.0.0", "1.1.0"]);
        assert_eq!(t.series["b.peak_mb"], [None, Some(5.0)]);
        assert_eq!(sparkline(&t.series["a.latency_ms"]), "▁█");
        assert_eq!(sparkline(&[Some(3.0), None, Some(3.0)]), "▄ ▄");
        let table = t.table();
        assert!(table.contains("10.0 ms") && table.contains('—'), "{table}");
        let bars = t.bars("b.peak_mb");
        assert!(bars.contains("(not measured)"), "{bars}");
        assert!(
            bars.contains(&format!("{} 5.0 MB", "█".repeat(40))),
            "{bars}"
        );
        assert!(t.only("a.latency_ms"));
        assert_eq!(t.series.len(), 1);
        assert!(!t.only("nope"));
    }
}
