//! Every importer (hyperfine, criterion, pytest-benchmark, Google Benchmark,
//! go test -bench, BMF, github-action-benchmark) on the same bytes.
#![no_main]

use bench_gate::import::{import, ImportFormat};
use bench_gate::model::Named;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("estimates.json");
    std::fs::write(&path, data).unwrap();
    for (format, _, _) in ImportFormat::VALUES {
        if let Ok(r) = import(*format, std::slice::from_ref(&path)) {
            // An import is a results value that reads back.
            bench_gate::model::Results::parse("import.json", &r.to_json()).unwrap();
        }
    }
});
