//! Same-runner A/B: one scenario measured on the base tree (A) and the head
//! tree (B) alternately, so that both see the same machine at the same time.
//!
//! Warm-up pairs run first (A then B, kept apart from the samples); then the
//! measured pairs in ABBA order: pair k runs A then B for even k and B then
//! A for odd k, so that neither side always runs second (after the other has
//! warmed the caches, or while the machine is slowing down). Sample `i` of A
//! and sample `i` of B form pair `i`.

use super::progress::Progress;
use super::runner::{measure_into, run_dir, ScenarioFailed, ScenarioRun};
use crate::workload::Scenario;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The base commit.
    A,
    /// The head.
    B,
}

/// The sides of `pairs` measured pairs, in the order they run.
pub fn abba(pairs: u32) -> Vec<(u32, Side)> {
    (0..pairs)
        .flat_map(|k| {
            if k % 2 == 0 {
                [(k, Side::A), (k, Side::B)]
            } else {
                [(k, Side::B), (k, Side::A)]
            }
        })
        .collect()
}

/// A failure of one side; the other side's measurements are dropped with it.
#[derive(Debug)]
pub struct PairFailed {
    pub side: Side,
    pub failed: ScenarioFailed,
}

/// One side's measurement within a pair: keeps its time for the pair's
/// tick, passes a failure on.
struct LastTime<'a> {
    inner: &'a mut dyn Progress,
    last: Option<f64>,
}

impl Progress for LastTime<'_> {
    fn start(&mut self, _: &str, _: u32, _: u32) {}
    fn tick(&mut self, _: bool, last_wall_ms: f64) {
        self.last = Some(last_wall_ms);
    }
    fn finish(&mut self, ok: bool) {
        self.inner.finish(ok);
    }
}

/// Measures `a` (base) and `b` (head), the same scenario in two trees:
/// `b.warmup` warm-up pairs, then `b.iterations` pairs in ABBA order.
pub fn run_pairs(
    a: &Scenario,
    b: &Scenario,
    progress: &mut dyn Progress,
) -> Result<(ScenarioRun, ScenarioRun), PairFailed> {
    let side_failed = |side| move |failed| PairFailed { side, failed };
    let dir_a = run_dir(a).map_err(side_failed(Side::A))?;
    let dir_b = run_dir(b).map_err(side_failed(Side::B))?;
    // One scenario on both sides is an A/A run (`calibrate`).
    let mode = if std::ptr::eq(a, b) { "A/A" } else { "A/B" };
    progress.start_pairs(&format!("{} ({mode})", b.name), b.warmup, b.iterations);
    let (mut run_a, mut run_b) = (ScenarioRun::default(), ScenarioRun::default());
    // Each side's last time; the progress ticks once per pair, with both.
    let mut last: [Option<f64>; 2] = [None, None];
    let warmups = (0..b.warmup).flat_map(|k| [(k, Side::A), (k, Side::B)]);
    let phases = warmups
        .map(|(k, s)| (true, k, s))
        .chain(abba(b.iterations).into_iter().map(|(k, s)| (false, k, s)));
    for (warmup, k, side) in phases {
        let (s, dir, run) = match side {
            Side::A => (a, &dir_a, &mut run_a),
            Side::B => (b, &dir_b, &mut run_b),
        };
        // Both sides of a pair see the same {iteration}.
        let global = if warmup { k + 1 } else { b.warmup + k + 1 };
        let mut side_progress = LastTime {
            inner: &mut *progress,
            last: None,
        };
        measure_into(
            s,
            global,
            k + 1,
            warmup,
            dir.path(),
            run,
            &mut side_progress,
        )
        .map_err(side_failed(side))?;
        last[side as usize] = side_progress.last;
        if let [Some(a_ms), Some(b_ms)] = last {
            progress.tick_pair(warmup, a_ms, b_ms);
            last = [None, None];
        }
    }
    progress.finish(true);
    Ok((run_a, run_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abba_alternates_which_side_runs_first() {
        use Side::{A, B};
        let order: Vec<Side> = abba(4).into_iter().map(|(_, s)| s).collect();
        assert_eq!(order, [A, B, B, A, A, B, B, A]);
        let pairs: Vec<u32> = abba(3).into_iter().map(|(k, _)| k).collect();
        assert_eq!(pairs, [0, 0, 1, 1, 2, 2]);
        assert!(abba(0).is_empty());
    }
}
