//! `bench-gate generate` as a user runs it: the success paths, every bad input
//! of the issue, and the openai provider against a local OpenAI-compatible server.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn bg() -> Command {
    let mut c = Command::cargo_bin("bench-gate").unwrap();
    c.env_remove("OPENAI_API_KEY").env_remove("OPENAI_BASE_URL");
    c
}

fn personas(stdout: &[u8]) -> Vec<Value> {
    let v: Value = serde_json::from_slice(stdout).unwrap();
    v["personas"].as_array().unwrap().clone()
}

#[test]
fn embedded_default_gives_valid_json_personas() {
    let out = bg().args(["generate", "--count", "3"]).output().unwrap();
    assert!(out.status.success());
    let p = personas(&out.stdout);
    assert_eq!(p.len(), 3);
    for x in &p {
        assert!(!x["name"].as_str().unwrap().is_empty());
        assert!(!x["goals"].as_array().unwrap().is_empty());
        assert!(!x["pain_points"].as_array().unwrap().is_empty());
        assert!(x["evidence"]["goals[0]"][0]
            .as_str()
            .unwrap()
            .starts_with("sample/"));
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_names() {
    let run = |seed: &str| {
        bg().args(["generate", "--count", "4", "--seed", seed])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

#[test]
fn output_folder_layout_and_determinism() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    for dir in [&a, &b] {
        bg().args(["generate", "--count", "2", "--output"])
            .arg(dir)
            .assert()
            .success()
            .stderr(predicate::str::contains("wrote 2 persona(s)"));
    }
    for f in [
        "personas/01/persona.json",
        "personas/01/persona.md",
        "personas/02/persona.json",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
    let meta: Value =
        serde_json::from_slice(&std::fs::read(a.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["provider"], "offline");
    assert_eq!(meta["seed"], 42);
    assert_eq!(meta["personas"], 2);
    assert_eq!(meta["input_files"].as_array().unwrap().len(), 3);
    assert!(meta["timings"]["provider_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn non_empty_output_is_kept_without_force() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("precious.txt"), "keep me").unwrap();
    bg().args(["generate", "--output"])
        .arg(d.path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is not empty; pass --force"));
    assert_eq!(
        std::fs::read_to_string(d.path().join("precious.txt")).unwrap(),
        "keep me"
    );
    bg().args(["generate", "--force", "--output"])
        .arg(d.path())
        .assert()
        .success();
    assert!(!d.path().join("precious.txt").exists());
    assert!(d.path().join("personas/01/persona.json").exists());
}

#[test]
fn markdown_format_and_dry_run() {
    bg().args(["generate", "--format", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# ").and(predicate::str::contains("## Pain points")));
    bg().args(["generate", "--dry-run", "--count", "2"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("exactly 2 distinct user personas")
                .and(predicate::str::contains("--- dry run: 3 file(s)"))
                .and(predicate::str::contains("Nothing was sent")),
        );
}

#[test]
fn data_from_files_and_folders() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    std::fs::write(
        d.path().join("sub/nurses.csv"),
        "quote,role,participant_id\nI want shift swaps to take one tap,Nurse,N1\nPaper rotas are always out of date and frustrating,Nurse,N2\n",
    )
    .unwrap();
    std::fs::write(d.path().join("ignored.bin"), [0u8, 1, 2]).unwrap();
    let out = bg()
        .args(["generate", "--from"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = personas(&out.stdout);
    assert_eq!(p[0]["demographics"]["occupation"], "Nurse");
    assert_eq!(p[0]["goals"][0], "Shift swaps to take one tap");
}

#[test]
fn custom_template_is_used_for_the_prompt() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("p.j2");
    std::fs::write(&t, "N={{ count }} C={{ complexity }} D={{ detail_level }} R={{ include_reasoning }} S={{ data|length }}").unwrap();
    bg().args([
        "generate",
        "--dry-run",
        "--complexity",
        "simple",
        "--detail-level",
        "detailed",
        "--template",
    ])
    .arg(&t)
    .assert()
    .success()
    .stdout(predicate::str::starts_with(
        "N=1 C=simple D=detailed R=False S=44",
    ));
}

/// Each bad input: one clear message naming the file (and row), exit 3, nothing written.
#[test]
fn bad_inputs() {
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--from".into(),
                d.path().join("nope.csv").display().to_string(),
            ],
            "nope.csv: no such file or directory",
        ),
        (
            vec![
                "--from".into(),
                write("empty.csv", b"participant_id,quote\n")
                    .display()
                    .to_string(),
            ],
            "the dataset is empty: no statements found in",
        ),
        (
            vec![
                "--from".into(),
                write("notext.csv", b"id,role\n1,Dev\n")
                    .display()
                    .to_string(),
            ],
            "notext.csv: no text column; found columns [id, role]",
        ),
        (
            vec![
                "--from".into(),
                write("bad.md", b"fine line of words\n\xff\xfe oops\n")
                    .display()
                    .to_string(),
            ],
            "bad.md:2: invalid UTF-8",
        ),
        (
            vec![
                "--from".into(),
                write("bad.json", b"[{\"a\": 1,}]").display().to_string(),
            ],
            "bad.json: line 1 column 10: malformed JSON: trailing comma",
        ),
        (
            vec![
                "--from".into(),
                write("bad.yaml", b"a: [1, 2\nb: 3\n").display().to_string(),
            ],
            "bad.yaml: line",
        ),
        (
            vec![
                "--from".into(),
                write("ragged.csv", b"id,quote\n1,hello there you\n2,x,y\n")
                    .display()
                    .to_string(),
            ],
            "ragged.csv: row 3: 3 fields where the header has 2",
        ),
        (
            vec!["--provider".into(), "gemini".into()],
            "invalid value 'gemini' for '--provider",
        ),
        (vec!["--count".into(), "0".into()], "0 is not in 1..=100"),
        (
            vec!["--count".into(), "101".into()],
            "101 is not in 1..=100",
        ),
        (
            vec![
                "--template".into(),
                d.path().join("none.j2").display().to_string(),
            ],
            "none.j2: cannot read template",
        ),
    ];
    for (args, expected) in cases {
        let out_dir = d.path().join("out");
        let out = bg()
            .arg("generate")
            .args(&args)
            .arg("--output")
            .arg(&out_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out_dir.exists(), "{args:?} left output behind");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

// ---- the openai provider, against a local OpenAI-compatible server ----

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    })
}

const GOOD: &str = r#"<output>{"personas":[{"id":"p1","name":"Ada Byte","demographics":{"age_range":"25-34","occupation":"Engineer","location":"Berlin"},"goals":["Ship faster"],"pain_points":["Flaky CI"],"behaviours":["Runs tests"],"quotes":["hi"],"evidence":{"goals[0]":["x.csv:row 2 (P1)"]}}]}</output>"#;

fn openai(server: &MockServer, extra: &[&str], out: &Path) -> std::process::Output {
    bg().args([
        "generate",
        "--provider",
        "openai",
        "--model",
        "test-model",
        "--base-url",
    ])
    .arg(format!("{}/v1", server.uri()))
    .args(extra)
    .arg("--output")
    .arg(out)
    .env("OPENAI_API_KEY", "sk-test-secret-123")
    .output()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_success_sends_prompt_model_and_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test-secret-123"))
        .and(body_partial_json(json!({"model": "test-model"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(GOOD)))
        .expect(1)
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let out = openai(&server, &[], &d.path().join("o"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(
        &std::fs::read(d.path().join("o/personas/01/persona.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(p["name"], "Ada Byte");
    let meta: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("o/metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["provider"], "openai");
    assert_eq!(meta["model"], "test-model");
    let sent = &server.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    let prompt = body["messages"][0]["content"].as_str().unwrap();
    assert!(prompt.contains("<research_data statements=\"44\">"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sk-test-secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_malformed_answer_is_retried_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("I cannot do that.")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(GOOD)))
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let out = openai(&server, &[], &d.path().join("o"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("o/metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["attempts"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_malformed_twice_fails_and_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("<output>{\"personas\": [</output>")),
        )
        .expect(2)
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let out = openai(&server, &[], &d.path().join("o"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        err.contains("openai provider (model test-model) gave malformed output twice"),
        "{err}"
    );
    assert!(!d.path().join("o").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_http_500_names_endpoint_and_status() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "upstream exploded"}})),
        )
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let out = openai(&server, &[], &d.path().join("o"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        err.contains(&format!(
            "{}/v1/chat/completions answered HTTP 500: upstream exploded",
            server.uri()
        )),
        "{err}"
    );
    assert!(!err.contains("sk-test-secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_401_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Incorrect API key provided"}})),
        )
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let out = openai(&server, &[], &d.path().join("o"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("answered HTTP 401: Incorrect API key provided"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_hang_past_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(GOOD))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let out = openai(&server, &["--timeout", "1"], &d.path().join("o"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(err.contains("did not answer within 1 s"), "{err}");
    assert!(!d.path().join("o").exists());
}

#[test]
fn openai_unreachable_endpoint() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = bg()
        .args(["generate", "--provider", "openai", "--base-url"])
        .arg(format!("http://127.0.0.1:{port}/v1"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        err.contains(&format!(
            "cannot reach http://127.0.0.1:{port}/v1/chat/completions"
        )),
        "{err}"
    );
}

#[test]
fn persona_markdown_snapshot() {
    let out = bg()
        .args(["generate", "--format", "markdown", "--include-reasoning"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("persona_markdown", String::from_utf8(out.stdout).unwrap());
}

/// An input without a size (`/dev/zero`) is read only up to the 64 MiB limit,
/// then refused naming the file and the limit; a sparse oversize file is
/// refused by its size.
#[test]
#[cfg(unix)]
fn oversize_inputs_exit_3_naming_the_limit() {
    let d = tempfile::tempdir().unwrap();
    let big = d.path().join("big.txt");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    for input in [Path::new("/dev/zero"), big.as_path()] {
        bg().args(["generate", "--dry-run", "--from"])
            .arg(input)
            .assert()
            .code(3)
            .stderr(
                predicate::str::contains(format!("{}: cannot read", input.display()))
                    .and(predicate::str::contains("limit of 64 MiB")),
            );
    }
}
