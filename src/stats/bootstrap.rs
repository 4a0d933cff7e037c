//! Uncertainty of a change, from raw samples: seeded percentile-bootstrap
//! intervals, and the Hodges–Lehmann estimator for paired measurements.
//! Pure functions; the same inputs and seed give the same interval.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The fixed seed of the intervals bench-gate reports, so reports are reproducible.
pub const SEED: u64 = 0x6265_6e63_6867_6174; // "benchgat"
/// Bootstrap resamples per interval, at 95 % and below; a stricter level
/// takes more ([`resamples_for`]).
pub const RESAMPLES: usize = 1000;

/// Resamples for an interval at two-sided `confidence`: at least 10 beyond
/// each end (20/(1 − confidence)), so a strict level's ends are not simply
/// the most extreme resamples; 1,000 at 95 %, 16,000 at 99.875 %, at most
/// 200,000.
pub fn resamples_for(confidence: f64) -> usize {
    // Less a hair, so that 1 − confidence not exact in binary does not add one.
    let tails = (20.0 / (1.0 - confidence) - 1e-6).ceil();
    RESAMPLES.max(tails.min(200_000.0) as usize)
}
/// Two-sided confidence of the intervals reported for one metric on its
/// own; a decision across many metrics and rounds uses other levels (see
/// [`super::family`]).
pub const CONFIDENCE: f64 = 0.95;

/// A point estimate of a change in percent, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub confidence: f64,
}

/// Percentile `p` of `xs` (type 7), reordering `xs`; O(n) by selection.
fn percentile_in_place(xs: &mut [f64], p: f64) -> f64 {
    let n = xs.len();
    let h = (n - 1) as f64 * p / 100.0;
    let lo = h.floor() as usize;
    let (_, a, rest) = xs.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    if lo + 1 >= n {
        return a;
    }
    let b = rest.iter().copied().fold(f64::INFINITY, f64::min);
    a + (h - lo as f64) * (b - a)
}

fn resample(rng: &mut ChaCha8Rng, from: &[f64], into: &mut Vec<f64>) {
    into.clear();
    into.extend((0..from.len()).map(|_| from[rng.random_range(0..from.len())]));
}

fn quantiles(mut est: Vec<f64>, confidence: f64) -> (f64, f64) {
    let tail = (1.0 - confidence) / 2.0 * 100.0;
    let lo = percentile_in_place(&mut est, tail);
    let hi = percentile_in_place(&mut est, 100.0 - tail);
    (lo, hi)
}

/// Change in percent of percentile `p` from `base` to `cur`, with a
/// percentile-bootstrap interval: both sides resampled independently with
/// replacement, at two-sided `confidence` (0 < confidence < 1). `None` with
/// fewer than two samples on either side, a non-positive baseline
/// percentile or a confidence out of range.
pub fn change_interval(
    base: &[f64],
    cur: &[f64],
    p: f64,
    seed: u64,
    confidence: f64,
) -> Option<Interval> {
    if base.len() < 2 || cur.len() < 2 || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let b0 = percentile_in_place(&mut base.to_vec(), p);
    let c0 = percentile_in_place(&mut cur.to_vec(), p);
    if b0 <= 0.0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut bs, mut cs) = (
        Vec::with_capacity(base.len()),
        Vec::with_capacity(cur.len()),
    );
    let resamples = resamples_for(confidence);
    let mut est = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        resample(&mut rng, base, &mut bs);
        resample(&mut rng, cur, &mut cs);
        let b = percentile_in_place(&mut bs, p);
        if b > 0.0 {
            est.push((percentile_in_place(&mut cs, p) / b - 1.0) * 100.0);
        }
    }
    if est.is_empty() {
        return None;
    }
    let (lo, hi) = quantiles(est, confidence);
    Some(Interval {
        estimate: (c0 / b0 - 1.0) * 100.0,
        lo,
        hi,
        confidence,
    })
}

/// Number of Walsh averages (xᵢ + xⱼ)/2, i ≤ j, that are ≤ `t`, for sorted
/// `xs`: one two-pointer pass, O(n).
fn walsh_count_le(sorted: &[f64], t: f64) -> usize {
    let n = sorted.len();
    let mut count = 0;
    // For each i, the j ≥ i with xᵢ + xⱼ ≤ 2t form a prefix of i..n whose end
    // moves left as i moves right.
    let mut end = n; // exclusive
    for i in 0..n {
        while end > i && sorted[i] + sorted[end - 1] > 2.0 * t {
            end -= 1;
        }
        if end <= i {
            break;
        }
        count += end - i;
    }
    count
}

/// The largest Walsh average ≤ `t` (sorted `xs`), O(n).
fn walsh_max_le(sorted: &[f64], t: f64) -> f64 {
    let n = sorted.len();
    let mut best = f64::NEG_INFINITY;
    let mut end = n;
    for i in 0..n {
        while end > i && sorted[i] + sorted[end - 1] > 2.0 * t {
            end -= 1;
        }
        if end <= i {
            break;
        }
        best = best.max((sorted[i] + sorted[end - 1]) / 2.0);
    }
    best
}

/// The `k`-th smallest (1-based) Walsh average of sorted `xs`, exactly, in
/// O(n log range) time and O(1) extra memory: bisection on the value with a
/// linear count, instead of listing all n(n+1)/2 averages.
fn walsh_kth(sorted: &[f64], k: usize) -> f64 {
    let n = sorted.len();
    let (mut lo, mut hi) = (sorted[0], sorted[n - 1]);
    // Invariant: count(lo) < k ≤ count(hi), once lo is below the smallest.
    if walsh_count_le(sorted, lo) >= k {
        return lo;
    }
    for _ in 0..200 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if walsh_count_le(sorted, mid) >= k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    walsh_max_le(sorted, hi)
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Hodges–Lehmann estimate of location: the median of all Walsh averages
/// (xᵢ + xⱼ)/2, i ≤ j. Robust (breakdown 29 %) and efficient (95 % of the
/// mean's under normal noise). O(n log n): the averages are never listed.
pub fn hodges_lehmann(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let s = sorted(xs);
    Some(walsh_median(&s))
}

fn walsh_median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    let total = n * (n + 1) / 2;
    if total % 2 == 1 {
        walsh_kth(sorted, total.div_ceil(2))
    } else {
        (walsh_kth(sorted, total / 2) + walsh_kth(sorted, total / 2 + 1)) / 2.0
    }
}

/// The largest `c` with P(T ≤ c) ≤ `alpha_half` for the Wilcoxon
/// signed-rank statistic T of `n` pairs under no change, and the exact
/// P(T ≤ c); `None` when even T = 0 is more likely than that (n < 6 at 95 %).
/// Exact distribution (subset sums of 1..n) up to n = 200, the normal
/// approximation with continuity correction above.
fn signed_rank_critical(n: usize, alpha_half: f64) -> Option<(usize, f64)> {
    let total = n * (n + 1) / 2;
    if n <= 200 {
        // counts[s] = number of subsets of {1..n} with sum s, as f64 (2^200 fits).
        let mut counts = vec![0f64; total + 1];
        counts[0] = 1.0;
        for r in 1..=n {
            for s in (r..=total).rev() {
                counts[s] += counts[s - r];
            }
        }
        let all = 2f64.powi(n as i32);
        let mut cum = 0.0;
        let mut best = None;
        for (c, k) in counts.iter().enumerate() {
            cum += k / all;
            if cum <= alpha_half {
                best = Some((c, cum));
            } else {
                break;
            }
        }
        best
    } else {
        let mean = total as f64 / 2.0;
        let sd = ((n * (n + 1) * (2 * n + 1)) as f64 / 24.0).sqrt();
        let z = normal_quantile(1.0 - alpha_half);
        let c = (mean - z * sd - 0.5).floor();
        (c >= 0.0).then_some((c as usize, alpha_half))
    }
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The log-ratios ln(bᵢ/aᵢ) of pairs (aᵢ, bᵢ), leaving out pairs with a
/// non-positive or non-finite side.
pub fn log_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .filter(|(x, y)| **x > 0.0 && **y > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (y / x).ln())
        .collect()
}

/// For paired runs (A, B measured alternately on one machine): the
/// Hodges–Lehmann estimate of the log-ratios ln(Bᵢ/Aᵢ), as a change in
/// percent, with its distribution-free interval (Tukey's: the Walsh
/// averages whose ranks come from the signed-rank distribution; valid for
/// any symmetric noise, no resampling). O(n log n) for any number of pairs.
/// At two-sided `confidence` (0 < confidence < 1); with too few pairs for
/// it (fewer than 6 at 95 %) the interval is the range of the Walsh
/// averages, and the result's `confidence` says what it reaches.
pub fn paired_change(a: &[f64], b: &[f64], confidence: f64) -> Option<Interval> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let logs = log_ratios(a, b);
    if logs.len() < 2 {
        return None;
    }
    let pct = |l: f64| (l.exp() - 1.0) * 100.0;
    let s = sorted(&logs);
    let n = s.len();
    let total = n * (n + 1) / 2;
    let (lo_rank, confidence) = match signed_rank_critical(n, (1.0 - confidence) / 2.0) {
        Some((c, p)) => (c + 1, 1.0 - 2.0 * p),
        None => (1, 1.0 - 2.0 * 0.5f64.powi(n as i32)),
    };
    let (lo, hi) = (walsh_kth(&s, lo_rank), walsh_kth(&s, total + 1 - lo_rank));
    Some(Interval {
        estimate: pct(walsh_median(&s)),
        lo: pct(lo),
        hi: pct(hi),
        confidence,
    })
}

/// For paired runs, the one-sided p-value of "the change is at most
/// `threshold_pct`" against "the head is worse by more": Wilcoxon's
/// signed-rank test of the log-ratios ln(Bᵢ/Aᵢ) shifted by
/// ln(1 + threshold/100), the test [`paired_change`]'s interval inverts.
/// Zero differences are dropped and tied ones get their average rank; the
/// null distribution is counted exactly (given the ranks) up to 200
/// nonzero differences, from the normal approximation with continuity
/// correction above. `None` with fewer than two usable pairs; 1 when every
/// difference is zero.
pub fn paired_p_value(a: &[f64], b: &[f64], threshold_pct: f64) -> Option<f64> {
    let shift = (1.0 + threshold_pct / 100.0).ln();
    if !shift.is_finite() {
        return None;
    }
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| **x > 0.0 && **y > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (y / x).ln() - shift)
        .collect();
    if d.len() < 2 {
        return None;
    }
    let mut nz: Vec<f64> = d.into_iter().filter(|x| *x != 0.0).collect();
    if nz.is_empty() {
        return Some(1.0);
    }
    nz.sort_by(|x, y| x.abs().total_cmp(&y.abs()));
    // Doubled average ranks, integers: tied |d| at 1-based ranks i..=j get i + j.
    let n = nz.len();
    let mut ranks2 = vec![0u64; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && nz[j + 1].abs() == nz[i].abs() {
            j += 1;
        }
        for r in &mut ranks2[i..=j] {
            *r = (i + 1 + j + 1) as u64;
        }
        i = j + 1;
    }
    let observed: u64 = nz
        .iter()
        .zip(&ranks2)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total: u64 = ranks2.iter().sum();
    if n <= 200 {
        // counts[s]: sign assignments whose positive doubled ranks sum to s.
        let mut counts = vec![0f64; total as usize + 1];
        counts[0] = 1.0;
        let mut reach = 0usize;
        for &r in &ranks2 {
            let r = r as usize;
            reach += r;
            for s in (r..=reach).rev() {
                counts[s] += counts[s - r];
            }
        }
        let all: f64 = counts.iter().sum();
        let upper: f64 = counts[observed as usize..].iter().sum();
        Some((upper / all).min(1.0))
    } else {
        let mean = total as f64 / 2.0;
        let var: f64 = ranks2.iter().map(|r| (*r as f64).powi(2)).sum::<f64>() / 4.0;
        // Doubled ranks: the continuity correction is 1 (half a rank, doubled).
        let z = (observed as f64 - 1.0 - mean) / var.sqrt();
        Some(normal_upper_tail(z))
    }
}

/// P(Z > z) for a standard normal Z (erfc by Abramowitz & Stegun 7.1.26,
/// absolute error below 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        erfc / 2.0
    } else {
        1.0 - erfc / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;

    /// Normal(0, 1) by Box–Muller, from a seeded generator.
    fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let u1: f64 = rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = rng.random_range(0.0..1.0);
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn samples(seed: u64, n: usize, center: f64, cv: f64, heavy: bool) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let mut x = center * (1.0 + cv * normal(&mut rng));
                // Heavy right tail: 10 % of runs hit by a 1.5–4× stall.
                if heavy && rng.random_range(0.0..1.0) < 0.1 {
                    x *= rng.random_range(1.5..4.0);
                }
                x
            })
            .collect()
    }

    /// All Walsh averages, listed: the O(n²) definition, to check against.
    fn walsh_naive(xs: &[f64]) -> Vec<f64> {
        let mut w = Vec::new();
        for i in 0..xs.len() {
            for j in i..xs.len() {
                w.push((xs[i] + xs[j]) / 2.0);
            }
        }
        w.sort_by(f64::total_cmp);
        w
    }

    #[test]
    fn walsh_selection_matches_the_definition() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for n in [1usize, 2, 3, 7, 20, 61] {
            // With ties, too.
            let xs: Vec<f64> = (0..n)
                .map(|_| (normal(&mut rng) * 4.0).round() / 2.0)
                .collect();
            let naive = walsh_naive(&xs);
            let s = sorted(&xs);
            for k in 1..=naive.len() {
                assert_eq!(walsh_kth(&s, k), naive[k - 1], "n {n}, k {k}");
            }
            let m = naive.len();
            let med = if m % 2 == 1 {
                naive[m / 2]
            } else {
                (naive[m / 2 - 1] + naive[m / 2]) / 2.0
            };
            assert_eq!(hodges_lehmann(&xs), Some(med));
        }
    }

    #[test]
    fn signed_rank_critical_values_match_the_tables() {
        // Two-sided 5 %: the classic table's critical values (reject when T ≤ c).
        for (n, c) in [
            (6, 0),
            (7, 2),
            (8, 3),
            (10, 8),
            (15, 25),
            (20, 52),
            (30, 137),
        ] {
            let (got, p) = signed_rank_critical(n, 0.025).unwrap();
            assert_eq!(got, c, "n = {n}");
            assert!(p <= 0.025);
        }
        assert_eq!(signed_rank_critical(5, 0.025), None);
        // The normal approximation above 200 agrees with the exact count at 200.
        let exact = signed_rank_critical(200, 0.025).unwrap().0 as f64;
        let total = 200.0 * 201.0 / 2.0;
        let sd = (200.0 * 201.0 * 401.0 / 24.0f64).sqrt();
        let approx = (total / 2.0 - 1.959_964 * sd - 0.5).floor();
        assert!((exact - approx).abs() <= 2.0, "{exact} vs {approx}");
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-6);
    }

    #[test]
    fn paired_intervals_cover_their_estimate_and_are_bounded_in_cost() {
        // 100,000 pairs: the listing would take 5·10⁹ averages (40 GB).
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let a: Vec<f64> = (0..100_000)
            .map(|_| 100.0 * (1.0 + 0.02 * normal(&mut rng)))
            .collect();
        let b: Vec<f64> = a
            .iter()
            .map(|x| x * 1.05 * (1.0 + 0.01 * normal(&mut rng)))
            .collect();
        let i = paired_change(&a, &b, CONFIDENCE).unwrap();
        assert!(i.lo <= i.estimate && i.estimate <= i.hi, "{i:?}");
        assert!((i.estimate - 5.0).abs() < 0.1, "{i:?}");
        assert!(i.hi - i.lo < 0.2, "{i:?}");
        assert!((i.confidence - 0.95).abs() < 0.01);
        // Few pairs: the widest interval, with the confidence it reaches.
        let f = paired_change(&[1.0, 1.0, 1.0], &[1.1, 1.2, 1.3], CONFIDENCE).unwrap();
        assert!((f.confidence - 0.75).abs() < 1e-12, "{f:?}");
        assert!(f.lo <= f.estimate && f.estimate <= f.hi);
    }

    #[test]
    fn hodges_lehmann_by_hand() {
        // Walsh averages of 1, 2, 3: 1, 1.5, 2, 2, 2.5, 3 → median 2.
        assert_eq!(hodges_lehmann(&[1.0, 2.0, 3.0]), Some(2.0));
        // 1, 2, 10: 1, 1.5, 5.5, 2, 6, 10 → (2 + 5.5)/2 = 3.75; the mean would be 4.33.
        assert_eq!(hodges_lehmann(&[1.0, 2.0, 10.0]), Some(3.75));
        assert_eq!(hodges_lehmann(&[]), None);
    }

    #[test]
    fn intervals_cover_a_known_shift_and_exclude_zero() {
        let base = samples(1, 40, 100.0, 0.03, false);
        let cur = samples(2, 40, 125.0, 0.03, false);
        let i = change_interval(&base, &cur, 50.0, SEED, CONFIDENCE).unwrap();
        assert!(i.lo < 25.0 && 25.0 < i.hi, "{i:?}");
        assert!(i.lo > 15.0 && i.hi < 35.0, "{i:?}");
        // No change: the interval holds 0.
        let same = samples(3, 40, 100.0, 0.03, false);
        let j = change_interval(&base, &same, 50.0, SEED, CONFIDENCE).unwrap();
        assert!(j.lo < 0.0 && 0.0 < j.hi, "{j:?}");
        // Reproducible.
        assert_eq!(
            change_interval(&base, &cur, 50.0, SEED, CONFIDENCE),
            Some(i)
        );
    }

    #[test]
    fn heavy_tails_move_the_median_interval_little() {
        let base = samples(4, 60, 100.0, 0.03, true);
        let cur = samples(5, 60, 110.0, 0.03, true);
        let i = change_interval(&base, &cur, 50.0, SEED, CONFIDENCE).unwrap();
        assert!(i.lo < 10.0 && 10.0 < i.hi, "{i:?}");
        assert!(i.hi - i.lo < 12.0, "{i:?}");
    }

    #[test]
    fn ties_and_too_few_samples() {
        let i = change_interval(&[5.0; 10], &[5.0; 10], 50.0, SEED, CONFIDENCE).unwrap();
        assert_eq!((i.estimate, i.lo, i.hi), (0.0, 0.0, 0.0));
        assert_eq!(
            change_interval(&[5.0], &[5.0, 6.0], 50.0, SEED, CONFIDENCE),
            None
        );
        assert_eq!(
            change_interval(&[0.0, 0.0], &[1.0, 1.0], 50.0, SEED, CONFIDENCE),
            None
        );
    }

    #[test]
    fn paired_ratios_recover_a_slowdown_under_drift() {
        // Machine speed drifts by ±20 % between pairs; B is always 10 % slower.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for k in 0..30 {
            let speed = 1.0 + 0.2 * ((k as f64) / 5.0).sin();
            a.push(100.0 * speed * (1.0 + 0.01 * normal(&mut rng)));
            b.push(110.0 * speed * (1.0 + 0.01 * normal(&mut rng)));
        }
        let i = paired_change(&a, &b, CONFIDENCE).unwrap();
        assert!((i.estimate - 10.0).abs() < 1.5, "{i:?}");
        assert!(i.lo < 10.0 && 10.0 < i.hi && i.hi - i.lo < 4.0, "{i:?}");
        // Unpaired, the drift swamps it.
        let u = change_interval(&a, &b, 50.0, SEED, CONFIDENCE).unwrap();
        assert!(u.hi - u.lo > 2.0 * (i.hi - i.lo), "{u:?} vs {i:?}");
    }

    #[test]
    fn intervals_at_other_levels_nest() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let a: Vec<f64> = (0..40)
            .map(|_| 100.0 * (1.0 + 0.05 * normal(&mut rng)))
            .collect();
        let b: Vec<f64> = a
            .iter()
            .map(|x| x * 1.1 * (1.0 + 0.05 * normal(&mut rng)))
            .collect();
        let (p95, p99, p80) = (
            paired_change(&a, &b, 0.95).unwrap(),
            paired_change(&a, &b, 0.999).unwrap(),
            paired_change(&a, &b, 0.8).unwrap(),
        );
        assert!(p99.lo < p95.lo && p95.hi < p99.hi, "{p95:?} {p99:?}");
        assert!(p95.lo < p80.lo && p80.hi < p95.hi, "{p80:?} {p95:?}");
        assert!(
            p99.confidence >= 0.999 && p99.confidence < 0.9995,
            "{p99:?}"
        );
        let (u95, u99) = (
            change_interval(&a, &b, 50.0, SEED, 0.95).unwrap(),
            change_interval(&a, &b, 50.0, SEED, 0.99).unwrap(),
        );
        assert!(u99.lo < u95.lo && u95.hi < u99.hi, "{u95:?} {u99:?}");
        assert_eq!(u99.confidence, 0.99);
        assert_eq!(resamples_for(0.95), RESAMPLES);
        assert_eq!(resamples_for(0.99875), 16_000);
        assert_eq!(resamples_for(1.0 - 1e-9), 200_000);
        // Out of range: none.
        assert_eq!(paired_change(&a, &b, 1.0), None);
        assert_eq!(change_interval(&a, &b, 50.0, SEED, 0.0), None);
    }

    #[test]
    fn the_paired_p_value_is_the_test_the_interval_inverts() {
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        for n in [8usize, 20, 40] {
            for _ in 0..20 {
                let a: Vec<f64> = (0..n)
                    .map(|_| 100.0 * (1.0 + 0.05 * normal(&mut rng)))
                    .collect();
                let b: Vec<f64> = a
                    .iter()
                    .map(|x| x * 1.08 * (1.0 + 0.05 * normal(&mut rng)))
                    .collect();
                // The lower end of the (1 − 2a) interval lies above t exactly
                // when the one-sided p-value against t is at most a (up to
                // the discreteness of both at the boundary), when that level
                // can be reached at all (at 0.25 % not with 8 pairs: the
                // interval then says the confidence it reaches).
                for a_level in [0.025, 0.01, 0.0025] {
                    let i = paired_change(&a, &b, 1.0 - 2.0 * a_level).unwrap();
                    for t in [0.0, 5.0, 10.0] {
                        let p = paired_p_value(&a, &b, t).unwrap();
                        if i.lo > t + 1e-9 && i.confidence >= 1.0 - 2.0 * a_level {
                            assert!(p <= a_level + 1e-12, "n {n} t {t}: {i:?} p {p}");
                        }
                        if p <= a_level && i.confidence >= 1.0 - 2.0 * a_level {
                            assert!(i.lo >= t - 1e-9, "n {n} t {t}: {i:?} p {p}");
                        }
                    }
                }
            }
        }
        // By hand: 3 pairs all slower, no ties: P(T+ ≥ 6) = 1/8.
        let p = paired_p_value(&[1.0, 1.0, 1.0], &[1.1, 1.2, 1.3], 0.0).unwrap();
        assert!((p - 0.125).abs() < 1e-12, "{p}");
        // All faster: every assignment has T+ ≥ 0.
        let p = paired_p_value(&[1.0, 1.0, 1.0], &[0.9, 0.8, 0.7], 0.0).unwrap();
        assert!((p - 1.0).abs() < 1e-12, "{p}");
        assert_eq!(paired_p_value(&[1.0; 4], &[1.0; 4], 0.0), Some(1.0));
        // Ties share their average rank and the count is exact given them:
        // two slower and one faster by the same ratio, ranks 2, 2, 2, T+ = 4
        // of the sums 0, 2, 2, 2, 4, 4, 4, 6: P(T+ ≥ 4) = 4/8. A zero
        // difference is dropped.
        let p = paired_p_value(&[1.0, 1.0, 1.0, 1.0], &[2.0, 2.0, 0.5, 1.0], 0.0).unwrap();
        assert!((p - 0.5).abs() < 1e-12, "{p}");
        assert_eq!(paired_p_value(&[1.0], &[2.0], 0.0), None);
        // The normal approximation above 200 agrees with the exact count.
        let a: Vec<f64> = (0..400)
            .map(|_| 100.0 * (1.0 + 0.05 * normal(&mut rng)))
            .collect();
        let b: Vec<f64> = a
            .iter()
            .map(|x| x * 1.004 * (1.0 + 0.05 * normal(&mut rng)))
            .collect();
        let (exact, approx) = (
            paired_p_value(&a[..200], &b[..200], 0.0).unwrap(),
            paired_p_value(&a[..201], &b[..201], 0.0).unwrap(),
        );
        assert!((exact - approx).abs() < 0.03, "{exact} {approx}");
        assert!((normal_upper_tail(1.959_964) - 0.025).abs() < 1e-6);
        assert!((normal_upper_tail(-1.0) - 0.841_344_7).abs() < 1e-6);
    }
}
