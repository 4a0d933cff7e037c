//! A short fuzz run of every reader of untrusted input, in the test suite:
//! results, baselines, bench-gate.yml, GitHub event payloads and every
//! importer get arbitrary bytes and mutations of real files (truncation,
//! byte flips, deep nesting, huge and odd numbers, repeated slices). Each
//! answer is a value or an error, never a panic. The long run, with
//! cargo-fuzz and the same targets, is in docs/development.md.

use std::path::{Path, PathBuf};

use bench_gate::baseline::Baseline;
use bench_gate::github::context::Context;
use bench_gate::import::{import, ImportFormat};
use bench_gate::model::{Named, Results};
use bench_gate::workload::config::Config;
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(root().join(p)).unwrap()
}

/// Real files of each kind, the seeds of the mutations.
fn results_seeds() -> Vec<Vec<u8>> {
    let mut r = crate::gatekit::Checkout::results_value(1890.0, 5);
    r["confirmations"] = serde_json::json!([{"scenario": "single", "rounds": 1,
        "failing_before": ["generation.single.latency_p50_ms"], "failing_after": []}]);
    r["incomplete"] = serde_json::json!({"scenario": "batch_10", "error": "exited with status 7"});
    vec![
        serde_json::to_vec_pretty(&crate::gatekit::Checkout::results_value(1500.0, 3)).unwrap(),
        serde_json::to_vec(&r).unwrap(),
    ]
}

fn baseline_seeds() -> Vec<Vec<u8>> {
    vec![
        read("baselines/v0.1.0.yaml"),
        read("tests/fixtures/persona-v1.12.0.yaml"),
        read("examples/persona-python/baselines/v1.12.0.yaml"),
    ]
}

fn config_seeds() -> Vec<Vec<u8>> {
    vec![
        read("examples/persona-python/bench-gate.yml"),
        b"scenarios:\n  a:\n    command: [\"true\"]\n    iterations: 3\n    metrics:\n      a.p50_ms: wall_ms.p50\nworkloads:\n  standard: [a]\n".to_vec(),
    ]
}

fn files_in(dir: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = walk(&root().join(dir))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "txt"))
        .map(std::fs::read)
        .map(Result::unwrap)
        .collect();
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// One mutation of a seed.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Nest(usize, usize, bool),
    Number(usize, &'static str),
    Repeat(usize, usize, usize),
}

const ODD_NUMBERS: &[&str] = &[
    "1e999",
    "-1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "0.0000000000000000000000000001",
    "-0",
    "NaN",
    ".inf",
    "-.nan",
    "0x7fffffffffffffff",
    "99999999999999999999999999999999999999999999",
    "4294967296",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), 1usize..5000, any::<bool>()).prop_map(|(i, n, b)| Mutation::Nest(i, n, b)),
        (any::<usize>(), prop::sample::select(ODD_NUMBERS))
            .prop_map(|(i, n)| Mutation::Number(i, n)),
        (any::<usize>(), 1usize..200, 1usize..50)
            .prop_map(|(i, len, n)| Mutation::Repeat(i, len, n)),
    ]
}

fn apply(seed: &[u8], m: &Mutation) -> Vec<u8> {
    let mut s = seed.to_vec();
    let at = |i: usize| if s.is_empty() { 0 } else { i % (s.len() + 1) };
    match *m {
        Mutation::Truncate(i) => s.truncate(at(i)),
        Mutation::Flip(i, x) => {
            if !s.is_empty() {
                let i = i % s.len();
                s[i] ^= x;
            }
        }
        Mutation::Nest(i, n, square) => {
            let i = at(i);
            let open = if square { "[" } else { "{\"a\":" };
            let deep = open.repeat(n);
            s.splice(i..i, deep.into_bytes());
        }
        Mutation::Number(i, n) => {
            // Replace the number that starts at or after `i` (if any).
            let i = at(i);
            if let Some(start) = s[i..].iter().position(u8::is_ascii_digit).map(|p| p + i) {
                let end = s[start..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || *c == b'.' || *c == b'e'))
                    .map_or(s.len(), |p| p + start);
                s.splice(start..end, n.bytes());
            }
        }
        Mutation::Repeat(i, len, n) => {
            let i = at(i);
            let end = (i + len).min(s.len());
            let slice = s[i..end].to_vec();
            for _ in 0..n {
                s.splice(end..end, slice.iter().copied());
            }
        }
    }
    s
}

/// Each seed, or nothing, mutated once or twice; or arbitrary bytes.
fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        4 => (0..n, prop::collection::vec(mutation(), 1..3)).prop_map(move |(k, ms)| {
            ms.iter().fold(seeds[k].clone(), |s, m| apply(&s, m))
        }),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What parses writes back out and parses again.
fn results(bytes: &[u8]) {
    if let Ok(r) = Results::parse("fuzz.json", &text(bytes)) {
        Results::parse("again.json", &r.to_json()).unwrap();
    }
}

fn baseline(bytes: &[u8]) {
    let _ = Baseline::parse("fuzz.yaml", &text(bytes));
}

fn config(bytes: &[u8]) {
    if let Ok(c) = Config::parse(Path::new("bench-gate.yml"), &text(bytes)) {
        for name in c.workload_names() {
            let _ = c.workload(&name);
        }
    }
}

fn event(dir: &Path, bytes: &[u8]) {
    let path = dir.join("event.json");
    std::fs::write(&path, bytes).unwrap();
    let p = path.to_str().unwrap();
    for name in ["pull_request", "push", "workflow_run"] {
        let env = [
            ("GITHUB_EVENT_NAME", name),
            ("GITHUB_EVENT_PATH", p),
            ("GITHUB_REPOSITORY", "octo/repo"),
        ];
        let _ = Context::from_env(&env, None);
    }
}

fn imports(dir: &Path, bytes: &[u8]) {
    let path = dir.join("estimates.json");
    std::fs::write(&path, bytes).unwrap();
    for (format, _, _) in ImportFormat::VALUES {
        if let Ok(r) = import(*format, std::slice::from_ref(&path)) {
            Results::parse("import.json", &r.to_json()).unwrap();
        }
    }
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn results_files(bytes in input(results_seeds())) {
        results(&bytes);
    }

    #[test]
    fn baseline_files(bytes in input(baseline_seeds())) {
        baseline(&bytes);
    }

    #[test]
    fn config_files(bytes in input(config_seeds())) {
        config(&bytes);
    }

    #[test]
    fn event_payloads(bytes in input(files_in("tests/fixtures/events"))) {
        let dir = tempfile::tempdir().unwrap();
        event(dir.path(), &bytes);
    }

    #[test]
    fn import_files(bytes in input(files_in("tests/fixtures/import"))) {
        let dir = tempfile::tempdir().unwrap();
        imports(dir.path(), &bytes);
    }
}

/// The seeds themselves read as they should: the mutations start from
/// files each reader accepts (a fuzz run of rejected seeds tests little).
#[test]
fn the_seeds_are_accepted() {
    for s in results_seeds() {
        Results::parse("seed.json", &text(&s)).unwrap();
    }
    for s in baseline_seeds() {
        Baseline::parse("seed.yaml", &text(&s)).unwrap();
    }
    for s in config_seeds() {
        Config::parse(Path::new("bench-gate.yml"), &text(&s)).unwrap();
    }
    assert!(files_in("tests/fixtures/events").len() >= 5);
    assert!(files_in("tests/fixtures/import").len() >= 8);
}

/// An endless event payload is refused at the size limit, not read whole.
#[cfg(unix)]
#[test]
fn an_endless_event_payload_is_refused() {
    let env = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", "/dev/zero"),
        ("GITHUB_REPOSITORY", "octo/repo"),
    ];
    let Err(e) = Context::from_env(&env, None) else {
        panic!("an endless payload was accepted")
    };
    assert!(e.to_string().contains("larger than the limit"), "{e}");
}
