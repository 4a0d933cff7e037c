//! How the statistics' cost grows with the number of samples:
//! `cargo bench --bench stats`. Prints a Markdown table; not a test.

use std::time::Instant;

use bench_gate::stats::Summary;
use rand::{Rng, SeedableRng};

fn main() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    println!("| samples | Summary::of (median of 5) | per sample |");
    println!("|--:|--:|--:|");
    for n in [100usize, 1_000, 10_000, 100_000, 1_000_000] {
        let xs: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..2.0)).collect();
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(Summary::of(std::hint::black_box(&xs)));
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "| {n} | {:.3} ms | {:.1} ns |",
            times[2],
            times[2] * 1e6 / n as f64
        );
    }
}
