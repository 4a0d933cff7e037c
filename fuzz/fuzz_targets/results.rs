//! A results file (`compare --results`, the gate's artifact): any input is
//! an error or a value, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = bench_gate::model::Results::parse("fuzz.json", text) {
            // What reads back also writes and reads back.
            bench_gate::model::Results::parse("again.json", &r.to_json()).unwrap();
        }
    }
});
