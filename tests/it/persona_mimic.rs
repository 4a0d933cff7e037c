//! A Persona-like Python CLI (tests/fixtures/persona-mimic: builds
//! Persona's prompt from a CSV, one non-streaming `POST /api/chat`, the
//! non-greedy `<output>` match, one `persona.json` per persona, exit 0 even
//! when it parsed nothing) gated with the Persona example's shape of config:
//! a service with a `usage:` endpoint, `expect:` counting the files written,
//! `api_calls` metrics, and one virtual environment per A/B tree.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{free_port, python3};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/persona-mimic");
const CLI: &str = "src/persona_mimic/cli.py";

fn copy_fixture(to: &Path) {
    for e in walkdir::WalkDir::new(FIXTURE) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(FIXTURE).unwrap();
        if rel
            .components()
            .any(|c| matches!(c.as_os_str().to_str(), Some(".venv" | "__pycache__")))
        {
            continue;
        }
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// The example's shape of config for the mimic: `bench-gate serve` (or,
/// with `garbage`, a Python stand-in that answers without personas) as a
/// service with a usage endpoint, one generate scenario checked by
/// `expect`, and a virtual environment per tree in A/B mode.
fn config(port: u16, garbage: bool) -> String {
    let python = serde_json::to_string(&python3()).unwrap();
    let service = if garbage {
        format!(
            r#"[{python}, "stand_in.py", "{port}"]
    env: {{STAND_IN_GARBAGE: "1"}}"#
        )
    } else {
        format!(
            r#"["{{bench_gate}}", "serve", "--bind", "127.0.0.1:{port}", "--model", "bench-gate-offline", "--max-seconds", "600"]"#
        )
    };
    format!(
        r#"services:
  llm:
    command: {service}
    ready: {{http: "http://127.0.0.1:{port}/health"}}
    usage: "http://127.0.0.1:{port}/_bench_gate/usage"
    start_timeout: 20
scenarios:
  batch_3:
    command: [".venv/bin/persona-mimic", "generate", "--from", "data/", "--count", "3",
              "--provider", "ollama", "--model", "bench-gate-offline",
              "--output", "{{run_dir}}/out-{{iteration}}"]
    env: {{OLLAMA_BASE_URL: "http://127.0.0.1:{port}"}}
    iterations: 6
    warmup: 1
    timeout: 60
    expect:
      files: {{glob: "{{run_dir}}/out-{{iteration}}/**/persona.json", count: 3}}
    # Each side runs in its own tree, and knows it.
    verify: test "$BENCH_GATE_TREE_DIR" -ef . && test -x "$BENCH_GATE_TREE_DIR/.venv/bin/persona-mimic"
    metrics:
      generation.batch_3.latency_p50_ms: wall_ms.p50
      generation.batch_3.api_calls: api_calls.max
      generation.batch_3.api_calls_per_persona: {{of: api_calls.mean, per: 3}}
      generation.batch_3.prompt_tokens: prompt_tokens.max
      generation.batch_3.personas_per_minute: {{of: wall_ms.p50, per_minute: 3}}
ab:
  setup: test -n "$BENCH_GATE_TREE_DIR" && cd "$BENCH_GATE_TREE_DIR" && {python} -m venv .venv && .venv/bin/pip install -q --no-index --no-build-isolation -e .
"#
    )
}

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn git(&self, args: &[&str]) {
        let out = std::process::Command::new("git")
            .current_dir(self.dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }
    fn edit(&self, file: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path(file)).unwrap();
        assert!(text.contains(from), "{from} not in {file}");
        std::fs::write(self.path(file), text.replacen(from, to, 1)).unwrap();
    }
    fn bench_gate(&self, args: &[&str]) -> Output {
        assert_cmd::Command::cargo_bin("bench-gate")
            .unwrap()
            .current_dir(self.dir.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(600))
            .output()
            .unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn metric<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {view}"))
}

/// (b) a 300 ms slowdown in the second commit fails side by side, with a
/// virtual environment per tree; (c) doubling the API calls fails the
/// api-calls metric against a captured baseline; (a) a provider that
/// answers garbage makes the mimic write nothing and exit 0, and `expect`
/// turns that into an error naming the check.
#[test]
fn the_persona_mimic_is_gated_on_time_calls_and_what_it_wrote() {
    let _serial = crate::support::serial();
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    copy_fixture(r.dir.path());
    let port = free_port();
    std::fs::write(r.path("bench-gate.yml"), config(port, false)).unwrap();
    std::fs::write(r.path(".gitignore"), ".venv/\n__pycache__/\n").unwrap();
    r.git(&["init", "-q"]);
    r.commit("mimic");
    r.edit(
        CLI,
        "    prompt = build_prompt(args.source, args.count)\n",
        "    time.sleep(0.3)\n    prompt = build_prompt(args.source, args.count)\n",
    );
    r.commit("slower");

    // (b) A/B: the setup makes .venv in each tree; each side runs its own.
    let out = r.bench_gate(&[
        "compare",
        "-q",
        "--ab",
        "HEAD~1",
        "--format",
        "json",
        "--fail-on-regression",
        "--confirm",
        "0",
        "--save-results",
        "ab.json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sbs = &c["side_by_side"];
    let p50 = metric(sbs, "generation.batch_3.latency_p50_ms");
    assert_eq!(p50["status"], "failure", "{p50}");
    // Fewer personas per minute: higher is better, so a drop fails.
    let rate = metric(sbs, "generation.batch_3.personas_per_minute");
    assert_eq!(rate["status"], "failure", "{rate}");
    assert!(rate["change_pct"].as_f64().unwrap() < -25.0, "{rate}");
    // One call per run on both sides: the same, so it passes.
    let calls = metric(sbs, "generation.batch_3.api_calls");
    assert_eq!(calls["status"], "pass", "{calls}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(r.path("ab.json")).unwrap()).unwrap();
    for side in [&saved, &saved["ab"]["base"]] {
        let m = &side["metrics"]["generation.batch_3.api_calls"];
        assert_eq!(m["unit"], "calls");
        assert_eq!(m["samples"], serde_json::json!(vec![1.0; 6]), "{m}");
        let per = &side["metrics"]["generation.batch_3.api_calls_per_persona"];
        assert!(
            (per["value"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9,
            "{per}"
        );
        let tokens = side["metrics"]["generation.batch_3.prompt_tokens"]["value"]
            .as_f64()
            .unwrap();
        assert!(tokens > 300.0, "{tokens}");
    }
    // Each tree ran its own virtual environment: the base is the fast one.
    let base_p50 = saved["ab"]["base"]["metrics"]["generation.batch_3.latency_p50_ms"]["value"]
        .as_f64()
        .unwrap();
    let head_p50 = saved["metrics"]["generation.batch_3.latency_p50_ms"]["value"]
        .as_f64()
        .unwrap();
    assert!(head_p50 - base_p50 > 200.0, "{base_p50} → {head_p50}");
    let rate = &saved["metrics"]["generation.batch_3.personas_per_minute"];
    assert_eq!(
        (&rate["unit"], &rate["direction"]),
        (&"/min".into(), &"higher".into())
    );
    // The median of per-run throughputs: about 3 personas per p50 run time.
    let expected = 3.0 * 60_000.0 / head_p50;
    assert!(
        (rate["value"].as_f64().unwrap() / expected - 1.0).abs() < 0.05,
        "{rate}, {expected}"
    );

    // (c) In the head tree (its .venv from the setup above): a baseline,
    // then twice the calls per generation.
    let out = r.bench_gate(&["capture", "-q", "--output", "baselines/v1.0.0.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    r.edit(
        CLI,
        "REQUESTS_PER_GENERATION = 1",
        "REQUESTS_PER_GENERATION = 2",
    );
    let out = r.bench_gate(&[
        "compare",
        "-q",
        "--format",
        "json",
        "--fail-on-regression",
        "--confirm",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in [
        "generation.batch_3.api_calls",
        "generation.batch_3.api_calls_per_persona",
        "generation.batch_3.prompt_tokens",
    ] {
        let m = metric(&c, name);
        assert_eq!(m["status"], "failure", "{m}");
        assert!(
            (m["change_pct"].as_f64().unwrap() - 100.0).abs() < 1e-9,
            "{m}"
        );
    }

    // (a) A provider answering garbage: the mimic writes nothing and exits
    // 0; the run is an error naming the scenario, the run and the check.
    std::fs::write(r.path("bench-gate.yml"), config(port, true)).unwrap();
    let out = r.bench_gate(&["run", "-q", "--output", "garbage.json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scenario 'batch_3' failed on warm-up run 1")
            && err.contains("ran, but the check expect.files failed: 0 file(s) match")
            && err.contains("/out-1/**/persona.json', expected 3"),
        "{err}"
    );
    assert!(!r.path("garbage.json").exists());
}
