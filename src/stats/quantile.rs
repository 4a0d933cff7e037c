//! Distribution-free intervals for quantiles, from order statistics.
//!
//! For n independent samples of a continuous distribution with q-quantile
//! ξ, the number B of samples below ξ is binomial(n, q), so for the order
//! statistics X₍₁₎ ≤ … ≤ X₍ₙ₎ (1-based)
//! P(X₍ₗ₎ ≤ ξ ≤ X₍ᵤ₎) ≥ P(l ≤ B ≤ u − 1) = F(u − 1) − F(l − 1),
//! F the binomial(n, q) distribution function, whatever the distribution
//! (Hahn & Meeker, *Statistical Intervals*, 1991, §5.2; David & Nagaraja,
//! *Order Statistics*, 3rd ed., 2003, §7.1). [`ranks`] takes the largest l
//! and the smallest u that keep each one-sided miss at most `tail`; when
//! X₍ₗ₎ or X₍ᵤ₎ would have to lie beyond the samples (an upper bound for
//! p99 needs P(B = n) = qⁿ ≤ tail), no such interval exists and the quantile
//! cannot be bounded from these samples: [`min_samples`] says how many would
//! do.
//!
//! **The change of a quantile between two independent samples**
//! ([`change_interval`]): with each side's interval at one-sided miss
//! `tail` = (1 − confidence)/4, the ratio interval
//! [lo_cur/hi_base, hi_cur/lo_base] contains ξ_cur/ξ_base whenever the four
//! one-sided bounds hold, so (Bonferroni, no independence needed) its
//! coverage is at least 1 − 4·tail = `confidence`. It is conservative: with
//! the usual 95 %, at least 95 % and typically about 99 %. For a 95 % change
//! interval, p95 needs 86 samples on each side and p99 437 (a single p99's
//! equal-tailed 95 % interval alone needs 368).

use super::bootstrap::Interval;

/// P(B ≤ k) for B ~ binomial(n, q); 0 for k < 0, 1 for k ≥ n. Summed in
/// log space, exact to rounding for any n this crate meets.
pub fn binomial_cdf(k: i64, n: usize, q: f64) -> f64 {
    if k < 0 {
        return 0.0;
    }
    if k as usize >= n {
        return 1.0;
    }
    if q <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return 0.0;
    }
    let (lq, lp) = (q.ln(), (1.0 - q).ln());
    // ln C(n, i) by the recurrence C(n, i) = C(n, i − 1)·(n − i + 1)/i.
    let mut ln_choose = 0.0;
    let mut sum = 0.0;
    for i in 0..=k as usize {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        sum += (ln_choose + i as f64 * lq + (n - i) as f64 * lp).exp();
    }
    sum.min(1.0)
}

/// The 1-based ranks (l, u), l < u, of the order statistics that bound the
/// q-quantile of n samples with each one-sided miss probability at most
/// `tail`: the largest l with F(l − 1) ≤ tail and the smallest u with
/// 1 − F(u − 1) ≤ tail. `None` when either would lie outside 1..=n.
pub fn ranks(n: usize, q: f64, tail: f64) -> Option<(usize, usize)> {
    if n == 0 || !(0.0..=1.0).contains(&q) || tail <= 0.0 {
        return None;
    }
    // cdf[k] = F(k), k = 0..n, in one pass.
    let cdf = binomial_cdfs(n, q);
    let f = |k: i64| if k < 0 { 0.0 } else { cdf[k as usize] };
    // F(l − 1) ≤ tail: l = 1 needs F(0) = (1 − q)ⁿ ≤ tail.
    let mut l = 0;
    while l < n && f(l as i64) <= tail {
        l += 1;
    }
    // Now F(l − 1) ≤ tail < F(l) (or l = n).
    let mut u = n + 1;
    while u > 1 && 1.0 - f(u as i64 - 2) <= tail {
        u -= 1;
    }
    // Now 1 − F(u − 1) ≤ tail (or u = n + 1: none).
    (l >= 1 && u <= n && l < u).then_some((l, u))
}

/// F(0), …, F(n) of binomial(n, q), as [`binomial_cdf`] gives them, in O(n).
fn binomial_cdfs(n: usize, q: f64) -> Vec<f64> {
    if q <= 0.0 || q >= 1.0 {
        return (0..=n).map(|k| binomial_cdf(k as i64, n, q)).collect();
    }
    let (lq, lp) = (q.ln(), (1.0 - q).ln());
    let mut ln_choose = 0.0;
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(n + 1);
    for i in 0..=n {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        sum += (ln_choose + i as f64 * lq + (n - i) as f64 * lp).exp();
        out.push(if i == n { 1.0 } else { sum.min(1.0) });
    }
    out
}

/// The smallest number of samples for which [`ranks`] exists.
pub fn min_samples(q: f64, tail: f64) -> Option<usize> {
    if !(0.0..1.0).contains(&q) || q <= 0.0 || tail <= 0.0 {
        return None;
    }
    // The upper bound needs qⁿ ≤ tail and the lower (1 − q)ⁿ ≤ tail.
    let need = |p: f64| (tail.ln() / p.ln()).ceil().max(1.0) as usize;
    let mut n = need(q).max(need(1.0 - q));
    while ranks(n, q, tail).is_none() {
        n += 1;
    }
    Some(n)
}

/// The interval [X₍ₗ₎, X₍ᵤ₎] for the p-th percentile (0 < p < 100) of
/// `samples` ([`ranks`] at one-sided miss `tail`), widened where needed to
/// contain the samples' own type-7 percentile. `None` when it does not exist.
pub fn percentile_bounds(samples: &[f64], p: f64, tail: f64) -> Option<(f64, f64)> {
    let n = samples.len();
    let (l, u) = ranks(n, p / 100.0, tail)?;
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    // Type 7 interpolates X₍⌊h⌋+1₎ and X₍⌈h⌉+1₎ (1-based), h = (n − 1)p/100.
    let h = (n - 1) as f64 * p / 100.0;
    let l = l.min(h.floor() as usize + 1);
    let u = u.max(h.ceil() as usize + 1).min(n);
    Some((s[l - 1], s[u - 1]))
}

/// Change in percent of the p-th percentile (0 < p < 100) from `base` to
/// `cur`, two independent samples: the estimate is the ratio of the type-7
/// percentiles, the interval [lo_cur/hi_base, hi_cur/lo_base] from each
/// side's order-statistic bounds, of coverage at least `confidence` (see the
/// module's docs). `None` when a side has too few samples (see
/// [`change_min_samples`]) or a non-positive lower bound on the base.
pub fn change_interval(base: &[f64], cur: &[f64], p: f64, confidence: f64) -> Option<Interval> {
    let tail = (1.0 - confidence) / 4.0;
    let (b_lo, b_hi) = percentile_bounds(base, p, tail)?;
    let (c_lo, c_hi) = percentile_bounds(cur, p, tail)?;
    let b0 = super::percentile(base, p)?;
    let c0 = super::percentile(cur, p)?;
    if b_lo <= 0.0 || b0 <= 0.0 {
        return None;
    }
    let pct = |x: f64| (x - 1.0) * 100.0;
    Some(Interval {
        estimate: pct(c0 / b0),
        lo: pct(c_lo / b_hi),
        hi: pct(c_hi / b_lo),
        confidence,
    })
}

/// The samples each side needs for [`change_interval`] of the p-th
/// percentile at `confidence`.
pub fn change_min_samples(p: f64, confidence: f64) -> Option<usize> {
    min_samples(p / 100.0, (1.0 - confidence) / 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_binomial_distribution_function() {
        // n = 4, q = 1/2: 1, 4, 6, 4, 1 over 16.
        let f = |k| binomial_cdf(k, 4, 0.5);
        for (k, want) in [
            (-1, 0.0),
            (0, 1.0 / 16.0),
            (1, 5.0 / 16.0),
            (2, 11.0 / 16.0),
        ] {
            assert!((f(k) - want).abs() < 1e-12, "F({k}) = {}", f(k));
        }
        assert_eq!(f(4), 1.0);
        // A large n stays finite and monotone.
        let g: Vec<f64> = (0..2000).map(|k| binomial_cdf(k, 2000, 0.99)).collect();
        assert!(g.windows(2).all(|w| w[0] <= w[1] + 1e-15));
        assert!((binomial_cdf(1979, 2000, 0.99) - 0.5).abs() < 0.1);
    }

    #[test]
    fn the_samples_a_tail_needs() {
        // Upper bound: qⁿ ≤ tail. 95 % change intervals (tail 1.25 %).
        assert_eq!(change_min_samples(95.0, 0.95), Some(86));
        assert_eq!(change_min_samples(99.0, 0.95), Some(437));
        // A single p99's equal-tailed 95 % interval: 0.99ⁿ ≤ 2.5 %.
        assert_eq!(min_samples(0.99, 0.025), Some(368));
        // The median needs few: 0.5ⁿ ≤ 1.25 %.
        assert_eq!(change_min_samples(50.0, 0.95), Some(7));
        assert!(ranks(367, 0.99, 0.025).is_none());
        let (l, u) = ranks(368, 0.99, 0.025).unwrap();
        assert_eq!(u, 368);
        assert!(l < 363 && l > 350, "{l}");
        // p99 of 20 samples: no interval; the maximum.
        assert!(change_interval(&[1.0; 20], &[1.0; 20], 99.0, 0.95).is_none());
    }

    /// Exponential samples, by inversion.
    fn exp(rng: &mut ChaCha8Rng, n: usize, scale: f64) -> Vec<f64> {
        (0..n)
            .map(|_| -scale * (1.0 - rng.random::<f64>()).ln())
            .collect()
    }

    #[test]
    fn a_quantiles_interval_covers_it_as_often_as_promised() {
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        // The true p95 of Exp(1) is ln 20; two-sided 95 % (tail 2.5 %).
        let truth = 20f64.ln();
        let trials = 2000;
        let covered = (0..trials)
            .filter(|_| {
                let (lo, hi) = percentile_bounds(&exp(&mut rng, 150, 1.0), 95.0, 0.025).unwrap();
                lo <= truth && truth <= hi
            })
            .count() as f64
            / trials as f64;
        // At least 95 % by construction, give or take the simulation's
        // ±1 % (2 standard errors), and not absurdly wide either.
        assert!((0.94..=0.99).contains(&covered), "{covered}");
    }

    #[test]
    fn a_changes_interval_covers_the_true_ratio_and_contains_its_estimate() {
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        // Head 20 % slower at every quantile: the p95 ratio is 1.2.
        let trials = 1000;
        let mut covered = 0;
        for _ in 0..trials {
            let base = exp(&mut rng, 120, 1.0);
            let cur = exp(&mut rng, 100, 1.2);
            let i = change_interval(&base, &cur, 95.0, 0.95).unwrap();
            assert!(i.lo <= i.estimate && i.estimate <= i.hi, "{i:?}");
            if i.lo <= 20.0 && 20.0 <= i.hi {
                covered += 1;
            }
        }
        let covered = covered as f64 / trials as f64;
        assert!(covered >= 0.94, "{covered}");
        // Too few samples on one side: none.
        assert!(change_interval(
            &exp(&mut rng, 85, 1.0),
            &exp(&mut rng, 200, 1.0),
            95.0,
            0.95
        )
        .is_none());
    }

    #[test]
    fn the_interval_contains_the_type_7_percentile_at_any_n() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        for n in [86, 87, 100, 150, 437, 500] {
            for _ in 0..20 {
                let xs = exp(&mut rng, n, 1.0);
                for p in [50.0, 90.0, 95.0, 99.0] {
                    if let Some((lo, hi)) = percentile_bounds(&xs, p, 0.0125) {
                        let v = crate::stats::percentile(&xs, p).unwrap();
                        assert!(lo <= v && v <= hi, "n {n} p {p}: {lo} {v} {hi}");
                    }
                }
            }
        }
    }
}
