//! False alarms per pull request: one chance in twenty (`ALPHA`) that an
//! unchanged pull request fails anywhere, across all its gated metrics and
//! all the rounds of measurement taken to decide them.
//!
//! **Across metrics: Holm–Bonferroni** ([`holm`], [`holm_by_level`]). With
//! m hypotheses "metric i is not worse than its failure threshold", Holm's
//! step-down rejects the smallest p-value when it is at most α/m, the next
//! at α/(m − 1), and so on, stopping at the first that is not. It keeps the
//! chance of any false rejection at most α under any dependence between the
//! metrics (Holm, *Scand. J. Statist.* 6, 1979), and rejects at least what
//! Bonferroni's α/m for each would.
//!
//! **Across rounds: the alpha is split evenly** ([`alpha_per_round`]). With
//! at most R looks (rounds), each look runs Holm over all m metrics at
//! α/R. The events "a false failure at look r" have probabilities at most
//! α/R each, so by the union bound an unchanged pull request fails at any
//! look with probability at most α, whatever the correlation between looks
//! and whatever data-dependent stopping is used. A metric that has failed
//! stays failed (it enters later looks as rejected), a metric that has
//! passed is no longer measured and never rejected (it enters as not
//! rejected): neither can add a false failure, since Holm's false
//! rejections need min over the true hypotheses' p-values ≤ α/m₀ whatever
//! the others' are. This is the simplest spending that is valid without a
//! model of the correlation between looks; O'Brien–Fleming-like spending
//! would keep more power at the last look but relies on the looks' joint
//! normality, which medians and order statistics of a few dozen noisy runs
//! do not give.
//!
//! A test at one-sided level a is the lower end of a two-sided interval at
//! confidence 1 − 2a ([`two_sided_confidence`]) lying above the failure
//! threshold, so any interval of [`super::bootstrap`] or
//! [`super::quantile`] can take part through [`holm_by_level`].

/// The chance that an unchanged pull request fails anywhere.
pub const ALPHA: f64 = 0.05;

/// The alpha each of at most `rounds` looks may spend: α/R (at least one
/// round).
pub fn alpha_per_round(alpha: f64, rounds: usize) -> f64 {
    alpha / rounds.max(1) as f64
}

/// The two-sided confidence whose interval's lower end is a one-sided test
/// at level `a`.
pub fn two_sided_confidence(a: f64) -> f64 {
    1.0 - 2.0 * a
}

/// Holm's step-down on p-values: which hypotheses are rejected with
/// family-wise error at most `alpha`. NaN p-values are never rejected.
pub fn holm(p: &[f64], alpha: f64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..p.len()).filter(|i| !p[*i].is_nan()).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let m = p.len();
    let mut out = vec![false; m];
    for (k, &i) in order.iter().enumerate() {
        if p[i] <= alpha / (m - k) as f64 {
            out[i] = true;
        } else {
            break;
        }
    }
    out
}

/// Holm's step-down for tests given by their decision at a level instead
/// of a p-value: `rejects(i, a)` says whether hypothesis i is rejected at
/// one-sided level a, and must only ever turn from false to true as a
/// grows (as an interval's lower end does as its confidence falls). With
/// r hypotheses not yet rejected, every one that rejects at α/r is
/// rejected; repeated until a pass rejects none. The same rejections as
/// [`holm`] on the tests' p-values.
pub fn holm_by_level(
    m: usize,
    alpha: f64,
    mut rejects: impl FnMut(usize, f64) -> bool,
) -> Vec<bool> {
    let mut out = vec![false; m];
    loop {
        let remaining = out.iter().filter(|r| !**r).count();
        if remaining == 0 {
            return out;
        }
        let level = alpha / remaining as f64;
        let mut any = false;
        for (i, r) in out.iter_mut().enumerate() {
            if !*r && rejects(i, level) {
                *r = true;
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::bootstrap::paired_p_value;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn holm_by_hand() {
        // m = 4, α = 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05.
        assert_eq!(
            holm(&[0.01, 0.04, 0.015, 0.2], 0.05),
            [true, false, true, false]
        );
        // The second smallest misses its 0.0167: it and all after stay.
        assert_eq!(
            holm(&[0.01, 0.02, 0.021, 0.022], 0.05),
            [true, false, false, false]
        );
        // Every p-value under α/1 once the rest are out.
        assert_eq!(holm(&[0.001, 0.002, 0.003], 0.05), [true, true, true]);
        // A NaN is never rejected but still counts in m.
        assert_eq!(holm(&[0.03, f64::NAN], 0.05), [false, false]);
        assert!(holm(&[], 0.05).is_empty());
        assert_eq!(alpha_per_round(0.05, 4), 0.0125);
        assert_eq!(alpha_per_round(0.05, 0), 0.05);
        assert!((two_sided_confidence(0.025) - 0.95).abs() < 1e-12);
    }

    #[test]
    fn holm_by_level_rejects_what_holm_on_p_values_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        for _ in 0..2000 {
            let m = rng.random_range(1..25);
            let p: Vec<f64> = (0..m)
                .map(|_| rng.random_range(0.0..0.1f64).powi(2))
                .collect();
            let by_level = holm_by_level(m, 0.05, |i, a| p[i] <= a);
            assert_eq!(by_level, holm(&p, 0.05), "{p:?}");
        }
    }

    /// Normal(0, 1) by Box–Muller.
    fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let u1: f64 = rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = rng.random_range(0.0..1.0);
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// One pull request's gate: metrics of true changes `changes` (in %),
    /// measured in up to `rounds` rounds of `per_round` pairs with 5 %
    /// noise per run and ±20 % drift shared by a pair, against a failure
    /// threshold `threshold`. After each round Holm at the look's alpha
    /// (or, not `corrected`, each metric on its own at it) fails metrics;
    /// a metric whose 95 % interval lies below the threshold passes and is
    /// no longer measured; the rest go on. Which metrics failed, and the
    /// rounds taken.
    fn one_pr(
        rng: &mut ChaCha8Rng,
        changes: &[f64],
        (rounds, per_round): (usize, usize),
        threshold: f64,
        alpha_of_look: impl Fn(usize) -> f64,
        corrected: bool,
    ) -> (Vec<bool>, usize) {
        let m = changes.len();
        let (mut a, mut b) = (vec![Vec::new(); m], vec![Vec::new(); m]);
        let mut failed = vec![false; m];
        let mut passed = vec![false; m];
        for look in 0..rounds {
            for i in (0..m).filter(|i| !failed[*i] && !passed[*i]) {
                for _ in 0..per_round {
                    // The machine's speed of the moment is shared by the pair.
                    let speed = 1.0 + 0.2 * rng.random_range(-1.0..1.0);
                    a[i].push(100.0 * speed * (1.0 + 0.05 * normal(rng)));
                    b[i].push(
                        100.0 * speed * (1.0 + changes[i] / 100.0) * (1.0 + 0.05 * normal(rng)),
                    );
                }
            }
            let p: Vec<f64> = (0..m)
                .map(|i| match (failed[i], passed[i]) {
                    (true, _) => 0.0,
                    (_, true) => 1.0,
                    _ => paired_p_value(&a[i], &b[i], threshold).unwrap(),
                })
                .collect();
            let alpha = alpha_of_look(look);
            failed = if corrected {
                holm(&p, alpha)
            } else {
                p.iter().map(|p| *p <= alpha).collect()
            };
            for i in 0..m {
                if failed[i] || passed[i] {
                    continue;
                }
                // The 95 % interval's upper end below the threshold: the
                // same test the other way round (base against head), which
                // the bootstrap module checks to be the interval's, and
                // cheaper.
                let back = (1.0 / (1.0 + threshold / 100.0) - 1.0) * 100.0;
                passed[i] = paired_p_value(&b[i], &a[i], back).unwrap() <= 0.025;
            }
            if (0..m).all(|i| failed[i] || passed[i]) {
                return (failed, look + 1);
            }
        }
        (failed, rounds)
    }

    #[test]
    fn an_unchanged_pull_request_fails_anywhere_at_most_alpha_of_the_time() {
        // The least favourable unchanged pull request: every one of m = 20
        // metrics exactly at its failure threshold (a true change of 0
        // against a threshold of 0, so few are passed early and most of
        // the R = 4 looks are taken), 8 pairs a round.
        let (rounds, trials) = (4, 400);
        let unchanged = [0.0; 20];
        let any = |f: Vec<bool>| f.iter().any(|f| *f);
        let mut rng = ChaCha8Rng::seed_from_u64(32);
        let look = |_| alpha_per_round(ALPHA, rounds);
        let false_alarms = (0..trials)
            .filter(|_| any(one_pr(&mut rng, &unchanged, (rounds, 8), 0.0, look, true).0))
            .count() as f64
            / trials as f64;
        // At most α, give or take the simulation's 2.5 standard errors
        // (√(0.05·0.95/400) ≈ 1.1 %); conservative, as Holm and the union
        // bound are.
        assert!(false_alarms <= ALPHA + 0.027, "{false_alarms}");
        // Uncorrected (each metric on its own at 2.5 % one-sided, every
        // look), the same pull requests fail most of the time: the test can
        // tell the two apart.
        let naive = (0..100)
            .filter(|_| any(one_pr(&mut rng, &unchanged, (rounds, 8), 0.0, |_| 0.025, false).0))
            .count() as f64
            / 100.0;
        assert!(naive > 0.5, "{naive}");
    }

    #[test]
    fn the_budget_still_catches_a_real_slowdown() {
        // One metric 30 % slower among 20 unchanged ones, threshold 10 %:
        // that one is caught within the 4 rounds nearly always, the
        // unchanged ones (all passed early) never.
        let rounds = 4;
        let mut changes = [0.0; 20];
        changes[0] = 30.0;
        let mut rng = ChaCha8Rng::seed_from_u64(33);
        let look = |_| alpha_per_round(ALPHA, rounds);
        let (mut caught, mut wrong) = (0, 0);
        for _ in 0..100 {
            let (failed, _) = one_pr(&mut rng, &changes, (rounds, 8), 10.0, look, true);
            caught += usize::from(failed[0]);
            wrong += failed[1..].iter().filter(|f| **f).count();
        }
        assert!(caught >= 90, "{caught}");
        assert_eq!(wrong, 0);
    }
}
