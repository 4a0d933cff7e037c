//! bench-gate.yml: parsed, and every workload it defines resolved.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("bench-gate.yml");
        if let Ok(config) = bench_gate::workload::config::Config::parse(path, text) {
            for name in config.workload_names() {
                let _ = config.workload(&name);
            }
        }
    }
});
