//! `calibrate`: per metric, the noise of A/A pairs measured on this
//! machine, the smallest change they can detect (see [`crate::stats::power`])
//! and the thresholds proposed from it:
//!
//! - failure = max(floor, detectable change), rounded up to a whole
//!   percent; the floor is 5 % for timings and memory (below that, drift
//!   between runs of one machine dominates), the kind's default for counts
//!   (calls, tokens, instructions: deterministic, so nothing to calibrate);
//! - warning = failure / 2, rounded up to a whole percent;
//! - both capped at [`CAP_PCT`] (100 %): a machine noisier than that keeps
//!   the cap, with a note that it cannot detect smaller changes with this
//!   many pairs (more pairs, or A/B mode).
//!
//! A metric whose statistic is the minimum or maximum has no normal
//! approximation: it keeps its kind's default thresholds.

use serde::Serialize;

use super::MetricKind;
use crate::baseline::{Baseline, BaselineMetric, Thresholds};
use crate::model::{Named, Statistic};
use crate::stats::power;

/// The lowest proposed failure threshold for timings and memory, percent.
pub const FLOOR_PCT: f64 = 5.0;

/// The highest proposed failure threshold, percent: a doubling always fails.
pub const CAP_PCT: f64 = 100.0;

/// One metric's calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Noise {
    pub name: String,
    pub unit: String,
    pub pairs: usize,
    /// Standard deviation of the paired log-ratios, in percent.
    pub noise_pct: Option<f64>,
    /// Smallest change detected at 1 % false alarms with 90 % power.
    pub detectable_pct: Option<f64>,
    pub proposed: Thresholds,
    pub default: Thresholds,
    /// Why the default was kept, when it was.
    pub note: Option<String>,
}

/// The proposed thresholds for a kind of metric and a detectable change
/// (`None`: the kind's default).
pub fn propose(kind: MetricKind, detectable_pct: Option<f64>) -> Thresholds {
    let default = kind.default_thresholds();
    let counted = matches!(
        kind,
        MetricKind::Calls | MetricKind::Tokens | MetricKind::Instructions
    );
    match detectable_pct {
        Some(d) if !counted && d.is_finite() => {
            let failure = d.max(FLOOR_PCT).ceil().min(CAP_PCT);
            Thresholds {
                warning: (failure / 2.0).ceil().min(failure),
                failure,
            }
        }
        _ => default,
    }
}

/// Calibrates one metric from its A/A samples (`a[i]` paired with `b[i]`);
/// `statistic` is the metric's (`p50`, `p99`, …; `None`: not known).
pub fn assess(name: &str, unit: &str, statistic: Option<&str>, a: &[f64], b: &[f64]) -> Noise {
    let kind = MetricKind::of(name, unit);
    let default = kind.default_thresholds();
    let stat = statistic.and_then(Statistic::parse);
    let k = match stat {
        Some(s) => power::spread_factor(s.percentile()),
        None => Some(1.0),
    };
    let spread = power::log_ratio_sd(a, b);
    let pairs = spread.map_or(a.len().min(b.len()), |(n, _)| n);
    let counted = matches!(
        kind,
        MetricKind::Calls | MetricKind::Tokens | MetricKind::Instructions
    );
    let (detectable, note) = match (spread, k) {
        _ if counted => (None, Some("a count: the default is kept".to_string())),
        (None, _) => (
            None,
            Some("fewer than 2 pairs: the default is kept".to_string()),
        ),
        (Some(_), None) => (
            None,
            Some(format!(
                "{}: no normal approximation, the default is kept",
                stat.map_or("?", |s| s.name())
            )),
        ),
        (Some((n, sd)), Some(k)) => {
            let d = power::detectable_change_pct(sd, n, k);
            let note = d.filter(|d| !d.is_finite() || *d > CAP_PCT).map(|d| {
                format!(
                    "too noisy: {n} pairs detect only a change of {} or more; the failure threshold is capped at {CAP_PCT:.0} %, and changes below the detectable one go unseen on this machine (more pairs, or A/B mode)",
                    if d.is_finite() { format!("{d:.0} %") } else { "any size".to_string() }
                )
            });
            (d, note)
        }
    };
    Noise {
        name: name.to_string(),
        unit: unit.to_string(),
        pairs,
        noise_pct: spread.map(|(_, sd)| sd * 100.0),
        detectable_pct: detectable,
        proposed: propose(kind, detectable),
        default,
        note,
    }
}

/// What writing the thresholds changed.
#[derive(Debug, Default, PartialEq)]
pub struct Written {
    /// Metrics already in the baseline whose thresholds were set.
    pub updated: usize,
    /// Metrics added, with the value measured here.
    pub added: usize,
}

/// Stores the proposed thresholds as per-metric thresholds in `baseline`:
/// a metric it already holds keeps its value and gets the thresholds; one
/// it lacks is added with its value (and samples) from `measured`.
pub fn apply(baseline: &mut Baseline, noise: &[Noise], measured: &Baseline) -> Written {
    let mut w = Written::default();
    for n in noise {
        let t = n.proposed;
        match baseline.metrics.get_mut(&n.name) {
            Some(m) => {
                m.warning = Some(t.warning);
                m.failure = Some(t.failure);
                w.updated += 1;
            }
            None => {
                let Some(m) = measured.metrics.get(&n.name) else {
                    continue;
                };
                baseline.metrics.insert(
                    n.name.clone(),
                    BaselineMetric {
                        warning: Some(t.warning),
                        failure: Some(t.failure),
                        ..m.clone()
                    },
                );
                if let Some(s) = measured.samples.get(&n.name) {
                    baseline.samples.insert(n.name.clone(), s.clone());
                }
                w.added += 1;
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_noise_above_a_floor() {
        // Quiet: the floor.
        let quiet = assess(
            "app.x.latency_p50_ms",
            "ms",
            Some("p50"),
            &[10.0; 20],
            &[10.0; 20],
        );
        assert_eq!(quiet.noise_pct, Some(0.0));
        assert_eq!(
            quiet.proposed,
            Thresholds {
                warning: 3.0,
                failure: 5.0
            }
        );
        // Noisy: ±20 % alternating, 20 pairs; sd of ln(1.2), ln(0.8) ≈ 0.205.
        let a = [10.0; 20];
        let b: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 12.0 } else { 8.0 })
            .collect();
        let noisy = assess("app.x.latency_p50_ms", "ms", Some("p50"), &a, &b);
        let d = noisy.detectable_pct.unwrap();
        assert!(d > 15.0 && d < 20.0, "{d}");
        assert_eq!(noisy.proposed.failure, d.ceil());
        assert_eq!(noisy.proposed.warning, (d.ceil() / 2.0).ceil());
        // The same noise in a p99 needs a far larger change.
        let tail = assess("app.x.latency_p99_ms", "ms", Some("p99"), &a, &b);
        assert!(tail.detectable_pct.unwrap() > 3.0 * d);
        // The maximum and counts keep their defaults.
        let max = assess("app.x.peak_mb", "MB", Some("max"), &a, &b);
        assert_eq!(max.proposed, MetricKind::Memory.default_thresholds());
        assert!(max.note.is_some());
        // Wildly noisy: capped at 100 %, with a note.
        let wild = assess(
            "app.x.latency_p50_ms",
            "ms",
            Some("p50"),
            &[100.0; 3],
            &[1000.0, 10.0, 3000.0],
        );
        assert!(wild.detectable_pct.unwrap() > CAP_PCT);
        assert_eq!(
            wild.proposed,
            Thresholds {
                warning: 50.0,
                failure: CAP_PCT
            }
        );
        assert!(wild.note.as_deref().unwrap().contains("too noisy"));
        let calls = assess("app.x.calls", "calls", Some("p50"), &a, &b);
        assert_eq!(calls.proposed, MetricKind::Calls.default_thresholds());
    }

    #[test]
    fn apply_sets_thresholds_and_adds_missing_metrics() {
        let mut b = Baseline::parse("b.yaml", "version: 1\nmetrics:\n  a_ms: 10\n").unwrap();
        let measured = Baseline::parse(
            "m.yaml",
            "version: 1\nmetrics:\n  a_ms: 11\n  b_ms: 12\nsamples:\n  b_ms: [12, 12]\n",
        )
        .unwrap();
        let noise = [
            assess("a_ms", "ms", None, &[1.0; 4], &[1.0; 4]),
            assess("b_ms", "ms", None, &[1.0; 4], &[1.0; 4]),
        ];
        let w = apply(&mut b, &noise, &measured);
        assert_eq!(
            w,
            Written {
                updated: 1,
                added: 1
            }
        );
        assert_eq!(b.metrics["a_ms"].value, 10.0);
        assert_eq!(b.metrics["a_ms"].failure, Some(5.0));
        assert_eq!(b.metrics["b_ms"].value, 12.0);
        assert_eq!(b.metrics["b_ms"].warning, Some(3.0));
        assert_eq!(b.samples["b_ms"], vec![12.0, 12.0]);
    }
}
