//! A baseline file (YAML, committed by anyone who opens a pull request).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = bench_gate::baseline::Baseline::parse("fuzz.yaml", text);
    }
});
