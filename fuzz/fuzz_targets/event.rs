//! The GitHub event payload (GITHUB_EVENT_PATH), as each event the gate reads.
#![no_main]

use bench_gate::github::context::Context;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, data).unwrap();
    let p = path.to_str().unwrap();
    for name in ["pull_request", "push", "workflow_run"] {
        let env = [
            ("GITHUB_EVENT_NAME", name),
            ("GITHUB_EVENT_PATH", p),
            ("GITHUB_REPOSITORY", "octo/repo"),
        ];
        let _ = Context::from_env(&env, None);
    }
});
