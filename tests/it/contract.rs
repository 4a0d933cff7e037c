//! Contract test: every request the gate makes is checked against GitHub's
//! own published REST description (npm `@octokit/openapi`), served by prism
//! (npm `@stoplight/prism-cli`), which validates each request. The test
//! fails on any request prism's log reports as invalid, and on any route or
//! method the description does not have.
//!
//! The npm packages are installed by `scripts/ci/install-test-deps.sh`.
#![cfg(target_os = "linux")] // /proc, wait4 in KiB, process groups, prism via node

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The calls the gate makes: (path template, methods).
const USED: &[(&str, &[&str])] = &[
    ("/repos/{owner}/{repo}/pulls/{pull_number}", &["get"]),
    ("/repos/{owner}/{repo}/pulls/{pull_number}/files", &["get"]),
    (
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        &["get", "post"],
    ),
    (
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        &["patch", "delete"],
    ),
    (
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
        &["get"],
    ),
    (
        "/repos/{owner}/{repo}/issues/{issue_number}/timeline",
        &["get"],
    ),
    ("/repos/{owner}/{repo}/check-runs", &["post"]),
    (
        "/repos/{owner}/{repo}/check-runs/{check_run_id}",
        &["patch"],
    ),
    ("/repos/{owner}/{repo}/commits/{ref}/check-runs", &["get"]),
    ("/repos/{owner}/{repo}/commits/{ref}/check-suites", &["get"]),
    ("/user", &["get"]),
    (
        "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
        &["delete"],
    ),
    // Main's history: the data branch, the issue, a commit's pull requests.
    ("/repos/{owner}/{repo}/contents/{path}", &["get", "put"]),
    ("/repos/{owner}/{repo}/git/refs", &["post"]),
    ("/repos/{owner}/{repo}/issues", &["get", "post"]),
    ("/repos/{owner}/{repo}/issues/{issue_number}", &["patch"]),
    ("/repos/{owner}/{repo}/commits/{commit_sha}/pulls", &["get"]),
];

/// GitHub's document cut down to the paths the gate uses, without the
/// `x-webhooks` section (prism cannot resolve it), and with GitHub's vendor
/// media types next to `application/json` (prism answers 406 otherwise).
fn trimmed_description(out: &Path) -> Value {
    let src =
        Path::new(ROOT).join("node_modules/@octokit/openapi/generated/api.github.com.deref.json");
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; install the test tools with `bash scripts/ci/install-test-deps.sh`",
            src.display()
        )
    });
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let mut paths = serde_json::Map::new();
    for (path, methods) in USED {
        let item = doc["paths"][path]
            .as_object()
            .unwrap_or_else(|| panic!("{path} is not in GitHub's description"));
        let mut kept = serde_json::Map::new();
        for (k, v) in item {
            if k == "parameters" || methods.contains(&k.as_str()) {
                kept.insert(k.clone(), v.clone());
            }
        }
        for m in *methods {
            let op = kept
                .get_mut(*m)
                .unwrap_or_else(|| panic!("{m} {path} is not in GitHub's description"));
            if let Some(responses) = op["responses"].as_object_mut() {
                for resp in responses.values_mut() {
                    // The description's example `Link` header points at
                    // api.github.com, which the gate never follows (a list
                    // it cannot read to its end is an error): prism serves
                    // one page, as GitHub does for a short list.
                    if let Some(headers) = resp.get_mut("headers").and_then(Value::as_object_mut) {
                        headers.remove("Link");
                    }
                    if let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) {
                        if let Some(json) = content.get("application/json").cloned() {
                            content.insert("application/vnd.github+json".into(), json.clone());
                            content.insert("application/vnd.github.v3+json".into(), json);
                        }
                    }
                }
            }
        }
        paths.insert(path.to_string(), Value::Object(kept));
    }
    let obj = doc.as_object_mut().unwrap();
    obj.remove("x-webhooks");
    obj.insert("paths".into(), Value::Object(paths));
    std::fs::write(out, serde_json::to_string(&doc).unwrap()).unwrap();
    doc
}

/// prism on 127.0.0.1, killed when dropped (and by `timeout` at the latest).
struct Prism {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Drop for Prism {
    fn drop(&mut self) {
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Prism {
    fn start(spec: &Path, dir: &Path) -> Prism {
        let bin = Path::new(ROOT).join("node_modules/.bin/prism");
        assert!(
            bin.exists(),
            "{} is missing; run `bash scripts/ci/install-test-deps.sh`",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("prism.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new("timeout");
        // No --errors: some of GitHub's own response examples fail its schema.
        cmd.args([
            "600",
            bin.to_str().unwrap(),
            "mock",
            spec.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("start prism");
        let prism = Prism {
            child,
            log,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        loop {
            if prism.log_text().contains("Prism is listening") {
                return prism;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "prism did not start:\n{}",
                prism.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

/// Lines of prism's log that say a request broke the contract.
fn violations(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            l.contains("Request did not pass the validation rules")
                || l.contains("NO_PATH_MATCHED")
                || l.contains("NO_METHOD_MATCHED")
                || l.contains("Request terminated with error")
                || (l.contains("[VALIDATOR]")
                    && l.contains("error")
                    && !l.contains("Violation: response"))
        })
        .map(str::to_string)
        .collect()
}

fn payload(dir: &Path, name: &str, head: &str) -> PathBuf {
    let src = Path::new(ROOT).join("tests/fixtures/events").join(name);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    v["pull_request"]["head"]["sha"] = json!(head);
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

#[test]
fn the_gates_requests_match_githubs_rest_description() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("github.json");
    let doc = trimmed_description(&spec);
    let prism = Prism::start(&spec, dir.path());

    // The description's example pull request: its head and its label.
    let example = &doc["paths"]["/repos/{owner}/{repo}/pulls/{pull_number}"]["get"]["responses"]
        ["200"]["content"]["application/json"]["examples"]["default"]["value"];
    let head = example["head"]["sha"].as_str().unwrap().to_string();
    let label = example["labels"][0]["name"].as_str().unwrap().to_string();

    std::fs::create_dir(dir.path().join("baselines")).unwrap();
    std::fs::write(
        dir.path().join("baselines/v1.12.0.yaml"),
        include_str!("../fixtures/persona-v1.12.0.yaml"),
    )
    .unwrap();
    let results = dir.path().join("results.json");
    std::fs::write(
        &results,
        json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x", "workload": "standard",
               "environment": {}, "scenarios": [],
               "metrics": {"generation.single.latency_p50_ms": {"value": 1900.0, "unit": "ms", "samples": [1900.0, 1901.0]}}})
        .to_string(),
    )
    .unwrap();

    // A labeled event: the sender's permission (admin in the example) grants
    // the override for the event's head commit. A push, with the label
    // covering the whole pull request: the applier is looked up in the
    // timeline, whose example has no `labeled` event for the label, so the
    // failure stands. A push with the default scope: the gate's own comment
    // (the example's, by the token's user `octocat`) has no record for the
    // head, so the failure stands.
    for (event, scope, code) in [
        ("pull_request.labeled.json", "commit", 0),
        ("pull_request.synchronize.json", "pull-request", 2),
        ("pull_request.synchronize.json", "commit", 2),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bench-gate"))
            .current_dir(dir.path())
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", payload(dir.path(), event, &head))
            .env("GITHUB_REPOSITORY", "octocat/Hello-World")
            .env("GITHUB_API_URL", &prism.url)
            .env("GITHUB_TOKEN", "ghs_contract_test_token")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("BENCH_GATE_RETRY_BASE_MS", "10")
            .args([
                "gate",
                "--override-label",
                &label,
                "--override-scope",
                scope,
                "--results",
            ])
            .arg(&results)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{event}:\n{text}\n{}",
            prism.log_text()
        );
        assert!(
            text.contains("bench-gate: comment https://github.com/"),
            "{event}: {text}"
        );
    }

    // A merge queue's check (the queued pull request's record, timeline and
    // files are read), and a maintainer's `/bench-gate accept` on a pull
    // request whose head the gate has no results for: a reply.
    let queue = Path::new(ROOT).join("tests/fixtures/events/merge_group.checks_requested.json");
    let mut accept: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(ROOT).join("tests/fixtures/events/issue_comment.created.json"),
        )
        .unwrap(),
    )
    .unwrap();
    accept["issue"]["pull_request"] =
        json!({"url": "https://api.github.com/repos/octocat/Hello-World/pulls/1"});
    accept["comment"]["body"] =
        json!("/bench-gate accept generation.single.latency_p50_ms intended");
    let accept_path = dir.path().join("issue_comment.json");
    std::fs::write(&accept_path, accept.to_string()).unwrap();
    for (event, path, code, says) in [
        ("merge_group", queue, 2, "(fail)"),
        ("issue_comment", accept_path, 0, "replied"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bench-gate"))
            .current_dir(dir.path())
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &path)
            .env("GITHUB_REPOSITORY", "octocat/Hello-World")
            .env("GITHUB_API_URL", &prism.url)
            .env("GITHUB_TOKEN", "ghs_contract_test_token")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("BENCH_GATE_RETRY_BASE_MS", "10")
            .args(["gate", "--override-label", &label, "--results"])
            .arg(&results)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{event}:\n{text}\n{}",
            prism.log_text()
        );
        assert!(text.contains(says), "{event}: {text}");
    }

    // The calls a gate makes only when it finds its own comment or retries.
    use bench_gate::github::api::GitHubApi as _;
    let api = bench_gate::github::api::GitHub::new(
        &prism.url,
        &bench_gate::github::context::Token::new("ghs_contract_test_token".into()).unwrap(),
        bench_gate::github::context::Repo::parse("octocat/Hello-World").unwrap(),
    )
    .unwrap();
    api.update_comment(1, "updated").unwrap();
    // When a commit was pushed (whether an acceptance can cover it).
    api.commit_first_seen(&head).unwrap();
    api.delete_comment(1).unwrap();
    // Taking a stale override label off (a name that needs encoding).
    api.remove_label(2, "performance override").unwrap();
    // Main's history: the data branch's file read and written, the branch
    // created, the issue found, opened and updated, a commit's pull
    // requests. (Prism answers with the description's examples, which
    // need not decode: only the requests are checked here. Prism matches
    // `{path}` within one segment, so the file is at the top here; GitHub
    // takes a path with slashes, as the gate writes it.)
    let _ = api.read_file("bench-gate-data", "0a1b2c.jsonl");
    api.write_file(
        "bench-gate-data",
        "0a1b2c.jsonl",
        "{}\n",
        Some("95b966ae1c166bd92f8ae7d1c313e738c731dfc3"),
        "bench-gate: results of 6dcb09b",
    )
    .unwrap();
    api.create_branch("bench-gate-data", &head).unwrap();
    api.open_issues().unwrap();
    let _ = api.create_issue("Performance change on main", "body");
    let _ = api.update_issue(1347, "body");
    api.commit_pulls(&head).unwrap();

    std::thread::sleep(Duration::from_millis(300));
    let log = prism.log_text();
    let bad = violations(&log);
    assert!(
        bad.is_empty(),
        "requests that break GitHub's description:\n{}\n\nfull log:\n{log}",
        bad.join("\n")
    );
    for (method, fragment) in [
        ("get", "/pulls/2 "),
        ("get", "/pulls/2/files"),
        ("get", "/issues/2/comments"),
        ("post", "/issues/2/comments"),
        ("patch", "/issues/comments/1"),
        ("delete", "/issues/comments/1"),
        ("get", "/permission"),
        ("get", "/issues/2/timeline"),
        ("post", "/check-runs"),
        ("patch", "/check-runs/"),
        ("get", "/user "),
        ("get", "/check-suites"),
        ("delete", "/issues/2/labels/performance%20override"),
        ("get", "/contents/0a1b2c.jsonl "),
        ("put", "/contents/0a1b2c.jsonl"),
        ("post", "/git/refs"),
        ("get", "/issues "),
        ("post", "/issues "),
        ("patch", "/issues/1347"),
        (
            "get",
            "/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/pulls ",
        ),
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(&format!("[HTTP SERVER] {method} ")) && l.contains(fragment)),
            "prism saw no {method} {fragment}:\n{log}"
        );
    }
    // And they were accepted, in the vendor media type.
    assert!(
        log.contains("Request contains an accept header: application/vnd.github"),
        "{log}"
    );
}

#[test]
fn the_violation_filter_catches_request_errors_only() {
    let log = "\
[9:25:04 PM] ›     [VALIDATOR] ✖  error     Violation: response.body.requested_teams.0 Response body property requested_teams.0 must have required property 'type'
[9:25:09 PM] ›     [VALIDATOR] ⚠  warning   Request did not pass the validation rules
[9:25:09 PM] ›     [VALIDATOR] ✖  error     Request body must have required property 'name'
[9:25:04 PM] › [HTTP SERVER] post /repos/o/r/issues/comments/5 ✖  error     Request terminated with error: https://stoplight.io/prism/errors#NO_METHOD_MATCHED_ERROR: Route resolved, but no method matched";
    let v = violations(log);
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(!v.iter().any(|l| l.contains("Violation: response")));
}
