//! How small a change paired runs can detect: the noise of paired
//! log-ratios and the normal approximation of a one-sided test's power.
//!
//! For n pairs (Aᵢ, Bᵢ) of one program measured alternately (A/A), the
//! log-ratios dᵢ = ln(Bᵢ/Aᵢ) have standard deviation σ (the noise; for small
//! σ, the coefficient of variation of the ratios). A paired test of the
//! centre of dᵢ at one-sided false-alarm rate α detects a true change δ (on
//! the log scale) with probability `power` when
//!
//! ```text
//! δ = (z₁₋α + z_power) · k · σ / √n          reported as (e^δ − 1) · 100 %
//! ```
//!
//! with z the standard normal quantile (α = 1 %, power = 90 %: 2.326 +
//! 1.282 = 3.608). k = 1 for the centre (median or mean: decided on the
//! paired log-ratios); for percentile q of two samples (tails, decided from
//! order statistics) k = √(q(1 − q)) / φ(z_q), the sample quantile's
//! asymptotic standard error under normal noise relative to the mean's
//! (p95: 2.11, p99: 3.73). The minimum and maximum have no such
//! approximation (k undefined).

use super::bootstrap::normal_quantile;

/// One-sided false-alarm rate the detectable change is computed for.
pub const ALPHA: f64 = 0.01;
/// Probability of detecting a change of the detectable size.
pub const POWER: f64 = 0.90;

/// The number of usable pairs and the sample standard deviation of their
/// log-ratios ln(bᵢ/aᵢ); pairs with a non-positive or non-finite side are
/// left out. `None` with fewer than 2 usable pairs.
pub fn log_ratio_sd(a: &[f64], b: &[f64]) -> Option<(usize, f64)> {
    let logs = super::bootstrap::log_ratios(a, b);
    let n = logs.len();
    if n < 2 {
        return None;
    }
    let mean = logs.iter().sum::<f64>() / n as f64;
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((n, var.sqrt()))
}

/// The factor k for a statistic given as a percentile (0–100; `None` for
/// the mean): 1 for the mean and the median, √(q(1 − q))/φ(z_q) for
/// another percentile q, `None` for the minimum and maximum.
pub fn spread_factor(percentile: Option<f64>) -> Option<f64> {
    let Some(p) = percentile else {
        return Some(1.0);
    };
    if (p - 50.0).abs() < f64::EPSILON {
        return Some(1.0);
    }
    let q = p / 100.0;
    if !(q > 0.0 && q < 1.0) {
        return None;
    }
    let z = normal_quantile(q);
    let density = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    Some((q * (1.0 - q)).sqrt() / density)
}

/// The smallest change in percent that `n` pairs with log-ratio noise `sd`
/// detect at one-sided false-alarm rate [`ALPHA`] with [`POWER`], for a
/// statistic with spread factor `k` (see the module's formula).
pub fn detectable_change_pct(sd: f64, n: usize, k: f64) -> Option<f64> {
    if n == 0 || !sd.is_finite() || sd < 0.0 || !k.is_finite() {
        return None;
    }
    let z = normal_quantile(1.0 - ALPHA) + normal_quantile(POWER);
    let delta = z * k * sd / (n as f64).sqrt();
    Some((delta.exp() - 1.0) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_at_known_points() {
        // z(0.99) + z(0.90) = 3.6081; σ = 0.1, n = 36: δ = 0.06014.
        let d = detectable_change_pct(0.1, 36, 1.0).unwrap();
        assert!(
            (d - ((0.060_135_f64).exp() - 1.0) * 100.0).abs() < 1e-3,
            "{d}"
        );
        // Four times the pairs halve it (on the log scale).
        let d4 = detectable_change_pct(0.1, 144, 1.0).unwrap();
        assert!(
            (d4 - ((0.030_068_f64).exp() - 1.0) * 100.0).abs() < 1e-3,
            "{d4}"
        );
        assert_eq!(detectable_change_pct(0.0, 10, 1.0), Some(0.0));
        assert_eq!(detectable_change_pct(0.1, 0, 1.0), None);
    }

    #[test]
    fn spread_factors_of_the_usual_statistics() {
        assert_eq!(spread_factor(None), Some(1.0));
        assert_eq!(spread_factor(Some(50.0)), Some(1.0));
        let p95 = spread_factor(Some(95.0)).unwrap();
        let p99 = spread_factor(Some(99.0)).unwrap();
        assert!((p95 - 2.113).abs() < 0.01, "{p95}");
        assert!((p99 - 3.733).abs() < 0.01, "{p99}");
        assert_eq!(spread_factor(Some(0.0)), None);
        assert_eq!(spread_factor(Some(100.0)), None);
    }

    #[test]
    fn log_ratio_noise() {
        assert_eq!(log_ratio_sd(&[1.0, 2.0], &[1.0, 2.0]), Some((2, 0.0)));
        assert_eq!(log_ratio_sd(&[1.0], &[1.0]), None);
        // ln 2 and 0: sd = ln 2 / √2; the zero pair is left out.
        let (n, sd) = log_ratio_sd(&[1.0, 1.0, 0.0], &[2.0, 1.0, 5.0]).unwrap();
        assert_eq!(n, 2);
        assert!((sd - std::f64::consts::LN_2 / 2f64.sqrt()).abs() < 1e-12);
    }
}
