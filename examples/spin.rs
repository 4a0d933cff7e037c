//! A controlled CPU-bound workload for the noise study: `spin WORK` does
//! WORK million rounds of an integer mix and prints the result, so the
//! amount of work (and so the true slowdown) is set by its argument.

fn main() {
    let work: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10.0);
    let rounds = (work * 1_000_000.0) as u64;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(i);
    }
    println!("{x}");
}
