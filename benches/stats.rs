//! How the statistics' cost grows with the number of samples:
//! `cargo bench --bench stats`. Prints Markdown tables; not a test.

use std::time::Instant;

use bench_gate::stats::{bootstrap, Summary};
use rand::{Rng, SeedableRng};

/// Median of 5 runs of `f`, in ms.
fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

fn main() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    println!("| samples | Summary::of (median of 5) | per sample |");
    println!("|--:|--:|--:|");
    for n in [100usize, 1_000, 10_000, 100_000, 1_000_000] {
        let xs: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..2.0)).collect();
        let t = median_ms(|| {
            std::hint::black_box(Summary::of(std::hint::black_box(&xs)));
        });
        println!("| {n} | {t:.3} ms | {:.1} ns |", t * 1e6 / n as f64);
    }
    println!();
    println!("| pairs | paired change: Hodges–Lehmann and its interval (median of 5) | unpaired bootstrap interval of the median (1,000 resamples) |");
    println!("|--:|--:|--:|");
    for n in [100usize, 1_000, 10_000, 100_000] {
        let a: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..2.0)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * rng.random_range(1.0..1.1)).collect();
        let paired = median_ms(|| {
            std::hint::black_box(bootstrap::paired_change(&a, &b, bootstrap::CONFIDENCE));
        });
        let unpaired = median_ms(|| {
            std::hint::black_box(bootstrap::change_interval(
                &a,
                &b,
                50.0,
                bootstrap::SEED,
                bootstrap::CONFIDENCE,
            ));
        });
        println!("| {n} | {paired:.2} ms | {unpaired:.1} ms |");
    }
}
