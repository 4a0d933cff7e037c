//! Descriptive statistics over raw samples. Pure functions; no I/O.
//!
//! **Percentile definition** (used everywhere in bench-gate): linear
//! interpolation between closest ranks, Hyndman & Fan type 7, the default of
//! numpy, R and Excel's PERCENTILE.INC. For sorted samples x₀ ≤ … ≤ xₙ₋₁ and
//! p in [0, 100]: h = (n − 1)·p/100, Pₚ = x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
//! With n = 1 every percentile is the one sample; with n = 2, P50 is their mean.

pub mod bootstrap;
pub mod changepoint;
pub mod family;
pub mod power;
pub mod quantile;

use serde::{Deserialize, Serialize};

/// Percentile `p` (0–100) of already sorted, finite samples; `None` when empty.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 100.0) / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Percentile `p` (0–100) of unsorted samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    percentile_sorted(&sorted(samples), p)
}

pub fn median(samples: &[f64]) -> Option<f64> {
    percentile(samples, 50.0)
}

/// The modified z-score cut-off of Iglewicz and Hoaglin (1993), also used by hyperfine.
pub const OUTLIER_THRESHOLD: f64 = 3.5;

/// Modified z-scores, 0.6745·(xᵢ − median)/MAD (Iglewicz & Hoaglin, "How to
/// Detect and Handle Outliers", 1993). When the MAD is zero (more than half the
/// samples are equal) the mean absolute deviation is used instead, scaled by
/// 1.253314 (IBM SPSS's rule); when that is zero too, every score is zero.
pub fn modified_z_scores(samples: &[f64]) -> Vec<f64> {
    let Some(med) = median(samples) else {
        return Vec::new();
    };
    let deviations: Vec<f64> = samples.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&deviations).unwrap_or(0.0);
    if mad > 0.0 {
        return samples.iter().map(|x| 0.6745 * (x - med) / mad).collect();
    }
    let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
    if mean_ad > 0.0 {
        samples
            .iter()
            .map(|x| (x - med) / (1.253_314 * mean_ad))
            .collect()
    } else {
        vec![0.0; samples.len()]
    }
}

/// Summary of one measure over the measured iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator); 0 when n = 1.
    pub stddev: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// Median absolute deviation from the median, unscaled.
    pub mad: f64,
    /// Coefficient of variation, stddev / mean (0 when the mean is 0).
    pub cv: f64,
    /// Indices (into the samples) whose modified z-score exceeds 3.5. They are
    /// flagged, never removed: every statistic above includes them.
    pub outliers: Vec<usize>,
}

impl Summary {
    /// `None` for no samples; non-finite samples must be filtered by the caller.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let s = sorted(samples);
        let n = s.len();
        if n == 0 {
            return None;
        }
        let mean = s.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let stddev = var.sqrt();
        let p50 = percentile_sorted(&s, 50.0)?;
        let deviations: Vec<f64> = s.iter().map(|x| (x - p50).abs()).collect();
        let outliers = modified_z_scores(samples)
            .iter()
            .enumerate()
            .filter(|(_, z)| z.abs() > OUTLIER_THRESHOLD)
            .map(|(i, _)| i)
            .collect();
        Some(Summary {
            n,
            min: s[0],
            max: s[n - 1],
            mean,
            stddev,
            p50,
            p95: percentile_sorted(&s, 95.0)?,
            p99: percentile_sorted(&s, 99.0)?,
            mad: median(&deviations)?,
            cv: if mean != 0.0 {
                stddev / mean.abs()
            } else {
                0.0
            },
            outliers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_by_hand() {
        // n = 1: every percentile is the sample.
        assert_eq!(percentile(&[7.0], 0.0), Some(7.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        // n = 2: h = p/100, so P50 = 1.5 and P95 = 1 + 0.95.
        assert_eq!(percentile(&[2.0, 1.0], 50.0), Some(1.5));
        assert!((percentile(&[1.0, 2.0], 95.0).unwrap() - 1.95).abs() < 1e-12);
        // n = 5 (1..5): P50 = 3; P95: h = 3.8 → 4 + 0.8 = 4.8; P99: h = 3.96 → 4.96.
        let xs = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&xs, 50.0), Some(3.0));
        assert!((percentile(&xs, 95.0).unwrap() - 4.8).abs() < 1e-12);
        assert!((percentile(&xs, 99.0).unwrap() - 4.96).abs() < 1e-12);
        // numpy.percentile([10, 20, 30, 40], 25) == 17.5
        assert_eq!(percentile(&[10.0, 20.0, 30.0, 40.0], 25.0), Some(17.5));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn summary_by_hand() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, 5.0);
        // Sample variance: sum of squares 32 / 7.
        assert!((s.stddev - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.p50, 4.5);
        // |x − 4.5| = 2.5, .5, .5, .5, .5, .5, 2.5, 4.5 → median 0.5.
        assert_eq!(s.mad, 0.5);
        // 9.0: 0.6745 · 4.5 / 0.5 = 6.07 > 3.5; 2.0 and 7.0: 3.37, not flagged.
        assert_eq!(s.outliers, vec![7]);
        let one = Summary::of(&[3.0]).unwrap();
        assert_eq!((one.stddev, one.cv, one.p99, one.mad), (0.0, 0.0, 3.0, 0.0));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn outliers_with_zero_mad_use_mean_absolute_deviation() {
        let z = modified_z_scores(&[1.0, 1.0, 1.0, 1.0, 50.0]);
        // MeanAD = 49/5 = 9.8; (50 − 1)/(1.253314·9.8) = 3.99.
        assert!((z[4] - 49.0 / (1.253_314 * 9.8)).abs() < 1e-9);
        assert_eq!(
            Summary::of(&[1.0, 1.0, 1.0, 1.0, 50.0]).unwrap().outliers,
            vec![4]
        );
        assert_eq!(modified_z_scores(&[2.0, 2.0]), vec![0.0, 0.0]);
    }

    proptest! {
        #[test]
        fn percentiles_are_monotone_and_bounded(
            xs in prop::collection::vec(-1e6f64..1e6, 1..60),
            p in 0.0f64..100.0,
            q in 0.0f64..100.0,
        ) {
            let (lo, hi) = if p <= q { (p, q) } else { (q, p) };
            let a = percentile(&xs, lo).unwrap();
            let b = percentile(&xs, hi).unwrap();
            prop_assert!(a <= b + 1e-9);
            let s = Summary::of(&xs).unwrap();
            prop_assert!(s.min <= s.p50 && s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
            prop_assert!(s.min <= s.mean + 1e-6 && s.mean <= s.max + 1e-6);
            prop_assert!(s.stddev >= 0.0 && s.mad >= 0.0);
        }

        #[test]
        fn percentiles_are_order_independent_and_shift_equivariant(
            mut xs in prop::collection::vec(-1e3f64..1e3, 1..40),
            shift in -100.0f64..100.0,
        ) {
            let p50 = percentile(&xs, 50.0).unwrap();
            xs.reverse();
            prop_assert_eq!(percentile(&xs, 50.0).unwrap(), p50);
            let shifted: Vec<f64> = xs.iter().map(|x| x + shift).collect();
            prop_assert!((percentile(&shifted, 50.0).unwrap() - (p50 + shift)).abs() < 1e-9);
        }
    }
}
