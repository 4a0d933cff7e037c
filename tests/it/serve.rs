//! `bench-gate serve` with the official `openai` and `ollama` Python clients,
//! services started around a workload (and always stopped), and an LLM-based
//! CLI gated end to end with the stand-in as its provider.
#![cfg(target_os = "linux")] // /proc for process checks, SIGINT

use crate::support;

use std::io::{BufRead, BufReader};

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, python3, serve_config};

const BIN: &str = env!("CARGO_BIN_EXE_bench-gate");

/// A running `bench-gate serve` on a free port, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--max-seconds", "300"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

fn prompt(count: u32) -> String {
    let out = Command::new(BIN)
        .args(["generate", "--dry-run", "--count", &count.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // Drop the dry run's closing summary line.
    text.rsplit_once("\n--- dry run").unwrap().0.to_string()
}

fn python(script: &str, args: &[&str]) -> std::process::Output {
    Command::new(python3())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap()
}

const OPENAI_CLIENT: &str = r#"
import json, sys
from openai import OpenAI
url, prompt = sys.argv[1], open(sys.argv[2]).read()
client = OpenAI(base_url=url + "/v1", api_key="unused")
models = [m.id for m in client.models.list()]
r = client.chat.completions.create(model="bench-gate-offline", messages=[{"role": "user", "content": prompt}], max_tokens=4000, temperature=0.2)
text = r.choices[0].message.content
personas = json.loads(text.split("<output>")[1].split("</output>")[0])["personas"]
print(json.dumps({"models": models, "count": len(personas), "names": [p["name"] for p in personas],
                  "finish_reason": r.choices[0].finish_reason, "usage": r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0,
                  "model": r.model, "goals": all(p["goals"] for p in personas)}))
"#;

const OLLAMA_CLIENT: &str = r#"
import json, sys
import ollama
url, prompt = sys.argv[1], open(sys.argv[2]).read()
client = ollama.Client(host=url)
names = [m.model for m in client.list().models]
r = client.chat(model="bench-gate-offline", messages=[{"role": "user", "content": prompt}], stream=False)
personas = json.loads(r.message.content.split("<output>")[1].split("</output>")[0])["personas"]
print(json.dumps({"models": names, "count": len(personas), "done": r.done, "model": r.model,
                  "eval": r.eval_count > 0 and r.prompt_eval_count > 0}))
"#;

#[test]
fn the_official_openai_client_gets_valid_personas_in_the_requested_count() {
    let _serial = crate::support::serial();
    let s = serve(&[]);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("prompt.txt");
    std::fs::write(&p, prompt(3)).unwrap();
    let out = python(OPENAI_CLIENT, &[&s.url, p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["count"], 3);
    assert_eq!(v["models"], serde_json::json!(["bench-gate-offline"]));
    assert_eq!(v["finish_reason"], "stop");
    assert_eq!(v["usage"], true);
    assert_eq!(v["goals"], true);
    // The same data and count as `generate` gives: the same personas.
    let local: Value = serde_json::from_slice(
        &Command::new(BIN)
            .args(["generate", "--count", "3"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let local_names: Vec<&str> = local["personas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let served: Vec<&str> = v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(served, local_names);
}

#[test]
fn the_official_ollama_client_lists_the_model_and_chats() {
    let _serial = crate::support::serial();
    let s = serve(&["--model", "persona-test:latest"]);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("prompt.txt");
    std::fs::write(&p, prompt(2)).unwrap();
    let out = python(
        &OLLAMA_CLIENT.replace("bench-gate-offline", "persona-test:latest"),
        &[&s.url, p.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["models"], serde_json::json!(["persona-test:latest"]));
    assert_eq!(v["count"], 2);
    assert_eq!(v["done"], true);
    assert_eq!(v["eval"], true);
}

#[test]
fn malformed_requests_get_400_with_each_apis_error_shape_and_are_logged() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("requests.jsonl");
    let s = serve(&["--log", log.to_str().unwrap()]);
    let client = reqwest::blocking::Client::new();
    let r = client
        .post(format!("{}/v1/chat/completions", s.url))
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid request body"));
    let r = client
        .post(format!("{}/api/chat", s.url))
        .body(r#"{"model":"m","messages":[]}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().unwrap();
    assert_eq!(v["error"], "'messages' must hold at least one message");
    let r = client
        .post(format!("{}/v1/chat/completions", s.url))
        .body(r#"{"messages":[{"role":"user","content":"hi"}]}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "no research data in the prompt");
    // Still serving after bad input.
    assert!(client
        .get(format!("{}/health", s.url))
        .send()
        .unwrap()
        .status()
        .is_success());
    // Persona's mistake with an `api_base` ending in /v1: a 404, logged too.
    let r = client
        .post(format!("{}/v1/v1/chat/completions", s.url))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Bodies are bounded (8 MiB).
    let r = client
        .post(format!("{}/api/chat", s.url))
        .body(vec![b' '; 9 << 20])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert_eq!(lines[5]["status"], 413);
    let lines = &lines[..5];
    assert!(lines.iter().all(|l| l["time"].is_string()));
    let summary: Vec<(&str, &str, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["method"].as_str().unwrap(),
                l["path"].as_str().unwrap(),
                l["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", "/v1/chat/completions", 400),
            ("POST", "/api/chat", 400),
            ("POST", "/v1/chat/completions", 400),
            ("GET", "/health", 200),
            ("POST", "/v1/v1/chat/completions", 404),
        ]
    );
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("invalid request body"));
}

fn usage(url: &str) -> Value {
    reqwest::blocking::get(format!("{url}/_bench_gate/usage"))
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn usage_counts_requests_tokens_and_404s_and_the_delay_grows_with_the_answer() {
    let _serial = crate::support::serial();
    let s = serve(&["--per-token-ms", "1"]);
    let client = reqwest::blocking::Client::new();
    assert_eq!(
        usage(&s.url),
        serde_json::json!({"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "not_found": 0})
    );
    let prompt = persona_like(2);
    let started = Instant::now();
    let a: Value = client
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&serde_json::json!({"model": "m", "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let took = started.elapsed();
    let b: Value = client
        .post(format!("{}/api/chat", s.url))
        .json(&serde_json::json!({"model": "m", "stream": false, "messages": [{"role": "user", "content": persona_like(5)}]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        client
            .get(format!("{}/v1/v1/models", s.url))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    // The documented estimate: characters / 4, rounded up.
    let pt = a["usage"]["prompt_tokens"].as_u64().unwrap();
    assert_eq!(pt, (prompt.chars().count() as u64).div_ceil(4));
    let content = a["choices"][0]["message"]["content"].as_str().unwrap();
    let ct = a["usage"]["completion_tokens"].as_u64().unwrap();
    assert_eq!(ct, (content.chars().count() as u64).div_ceil(4));
    assert_eq!(a["usage"]["total_tokens"].as_u64().unwrap(), pt + ct);
    // One millisecond per output token: at least that long.
    assert!(
        took >= Duration::from_millis(ct),
        "{took:?} for {ct} tokens"
    );
    let (bp, bc) = (
        b["prompt_eval_count"].as_u64().unwrap(),
        b["eval_count"].as_u64().unwrap(),
    );
    assert!(bc > ct, "five personas are a longer answer than two");
    assert_eq!(
        usage(&s.url),
        serde_json::json!({"requests": 2, "prompt_tokens": pt + bp, "completion_tokens": ct + bc, "not_found": 1})
    );
}

#[test]
fn it_refuses_remote_addresses_and_stops_by_itself() {
    let _serial = crate::support::serial();
    let out = Command::new(BIN)
        .args(["serve", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("refusing to listen on 0.0.0.0:0 (not a loopback address); pass --allow-remote"));
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--max-seconds", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-seconds reached"));
}

// ---- services around a workload ----

fn alive(pid: u32) -> bool {
    // A zombie is gone for our purposes: it runs nothing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

/// PIDs of the services a run reported starting.
fn service_pids(stderr: &str) -> Vec<u32> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("started service '"))
        .filter_map(|l| l.split("(pid ").nth(1)?.split(')').next()?.parse().ok())
        .collect()
}

#[test]
fn a_service_is_stopped_after_success_and_after_a_failing_scenario() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let port = free_port();
    let ok = format!("  ping:\n    command: [\"curl\", \"-sf\", \"http://127.0.0.1:{port}/health\"]\n    iterations: 3\n    warmup: 0\n");
    let cfg = serve_config(d.path(), port, 0, &ok);
    let out = Command::new(BIN)
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let pids = service_pids(&err);
    assert_eq!(pids.len(), 1, "{err}");
    assert!(err.contains("service 'llm' is ready"));
    assert!(err.contains(&format!("stopped service 'llm' (pid {})", pids[0])));
    assert!(!alive(pids[0]));

    let failing = "  broken:\n    command: [\"false\"]\n    warmup: 0\n";
    let cfg = serve_config(d.path(), port, 0, failing);
    let out = Command::new(BIN)
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let pids = service_pids(&err);
    assert_eq!(pids.len(), 1);
    assert!(!alive(pids[0]), "service outlived a failing scenario");
}

#[test]
fn an_interrupt_stops_the_service_and_the_scenario() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = serve_config(
        d.path(),
        port,
        0,
        "  slow:\n    command: [\"sleep\", \"63.25\"]\n    warmup: 0\n    iterations: 1\n",
    );
    let stderr_path = d.path().join("stderr");
    let mut child = Command::new(BIN)
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the scenario is running.
    let start = Instant::now();
    while !std::fs::read_to_string(&stderr_path)
        .unwrap()
        .contains("is ready")
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "service never became ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    std::thread::sleep(Duration::from_millis(300));
    let err = std::fs::read_to_string(&stderr_path).unwrap();
    let pids = service_pids(&err);
    assert_eq!(pids.len(), 1, "{err}");
    assert!(!alive(pids[0]), "service outlived the interrupt");
    let sleepers: Vec<_> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("63.25"))
        })
        .collect();
    assert!(sleepers.is_empty(), "the scenario outlived the interrupt");
}

#[test]
fn a_service_that_never_gets_ready_or_dies_is_a_clear_error() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = d.path().join("bench-gate.yml");
    std::fs::write(
        &cfg,
        format!("services:\n  deaf:\n    command: [\"sleep\", \"64.5\"]\n    ready: {{port: {port}}}\n    start_timeout: 1\nscenarios:\n  a:\n    command: [\"true\"]\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        err.contains(&format!(
            "service 'deaf' was not ready after 1 s (connect to 127.0.0.1:{port})"
        )),
        "{err}"
    );
    assert!(!alive(service_pids(&err)[0]));
    std::fs::write(
        &cfg,
        "services:\n  crashy:\n    command: \"echo no config found >&2; exit 4\"\n    shell: true\n    ready: {http: \"http://127.0.0.1:9/health\"}\nscenarios:\n  a:\n    command: [\"true\"]\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        err.contains("service 'crashy' exited (exit status: 4) before it was ready"),
        "{err}"
    );
    assert!(err.contains("| no config found"), "{err}");
}

// ---- Persona's prompt format ----

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The fixture prompt (Persona's format, our own research rows) asking for `count` personas.
fn persona_like(count: usize) -> String {
    std::fs::read_to_string(format!("{ROOT}/tests/fixtures/prompts/persona-like.txt"))
        .unwrap()
        .replace("generate 3 distinct", &format!("generate {count} distinct"))
        .replace(
            "Generate exactly 3 personas",
            &format!("Generate exactly {count} personas"),
        )
}

/// What Persona does with an answer: the non-greedy `<output>` match,
/// `json.loads`, the keys, the count; plus our checks on the values.
const PERSONA_PARSE: &str = r###"
import csv, json, re, sys, urllib.request
url, prompt_file, rows_file = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.DictReader(open(rows_file)))
quotes = {r["quote"]: r for r in rows}
template = open(prompt_file).read()
KEYS = {"id", "name", "demographics", "goals", "pain_points", "behaviours", "quotes"}
PLACEHOLDERS = ["persona-001", '"Name"', "Job Title", "Location Type", "Goal 1", "Goal 2",
                "Pain point 1", "Pain point 2", "Behaviour 1", "Behaviour 2", "Quote from research data"]
INSTRUCTIONS = ["expert UX researcher", "distinct from each other", "grounded in the research",
                "Wrap your response", "valid JSON", "detailed enough", "## ", "**"]
report = {}
for count in [1, 3, 5, 10, 50]:
    prompt = (template.replace("generate 3 distinct", f"generate {count} distinct")
                      .replace("Generate exactly 3 personas", f"Generate exactly {count} personas"))
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": prompt}], "stream": False,
                       "options": {"temperature": 0.7, "num_predict": 4096}}).encode()
    req = urllib.request.Request(url + "/api/chat", data=body, headers={"Content-Type": "application/json"})
    content = json.load(urllib.request.urlopen(req))["message"]["content"]
    m = re.search(r"<output>(.*?)</output>", content, re.DOTALL)
    assert m, f"count {count}: no <output> in {content[:200]!r}"
    personas = json.loads(m.group(1))["personas"]
    assert len(personas) == count, f"asked for {count}, got {len(personas)}"
    for p in personas:
        assert set(p) == KEYS, f"keys {sorted(p)}"
        assert set(p["demographics"]) == {"age_range", "occupation", "location"}
        assert p["goals"] and p["pain_points"] and p["quotes"], p
        for q in p["quotes"]:
            assert q in quotes, f"quote not from the rows: {q!r}"
    for bad in PLACEHOLDERS + INSTRUCTIONS:
        assert bad not in content, f"count {count}: {bad!r} in the answer"
    # Roles of each persona's quotes, and its occupation.
    report[count] = [{"occupation": p["demographics"]["occupation"], "name": p["name"],
                      "quote_roles": sorted({quotes[q]["role"] for q in p["quotes"]}),
                      "quotes": p["quotes"]} for p in personas]
print(json.dumps(report))
"###;

#[test]
fn persona_format_prompts_get_personas_from_the_rows_in_any_count() {
    let _serial = crate::support::serial();
    let s = serve(&[]);
    let fixture = format!("{ROOT}/tests/fixtures/prompts/persona-like.txt");
    let rows = format!("{ROOT}/tests/fixtures/prompts/research.csv");
    let out = python(PERSONA_PARSE, &[&s.url, &fixture, &rows]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // No more personas than roles: one role per persona, quotes from that role only.
    for count in ["1", "3"] {
        for p in v[count].as_array().unwrap() {
            assert_eq!(
                p["quote_roles"],
                serde_json::json!([p["occupation"]]),
                "{p}"
            );
        }
    }
    // As many roles as personas: each a different one.
    let five = v["5"].as_array().unwrap();
    let mut roles: Vec<&str> = five
        .iter()
        .map(|p| {
            assert_eq!(
                p["quote_roles"],
                serde_json::json!([p["occupation"]]),
                "{p}"
            );
            p["occupation"].as_str().unwrap()
        })
        .collect();
    roles.sort();
    roles.dedup();
    assert_eq!(roles.len(), 5);
    // The same rows through `generate`: the same personas.
    for count in ["3", "10"] {
        let local: Value = serde_json::from_slice(
            &Command::new(BIN)
                .args(["generate", "--from", &rows, "--count", count])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let pick = |list: &Value, key: &str| -> Vec<Value> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|p| p[key].clone())
                .collect()
        };
        assert_eq!(pick(&v[count], "name"), pick(&local["personas"], "name"));
        assert_eq!(
            pick(&v[count], "quotes"),
            pick(&local["personas"], "quotes")
        );
    }
}

#[test]
fn the_official_clients_read_persona_format_answers() {
    let _serial = crate::support::serial();
    let s = serve(&[]);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("prompt.txt");
    std::fs::write(&p, persona_like(10)).unwrap();
    let out = python(OLLAMA_CLIENT, &[&s.url, p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["count"], 10);
    std::fs::write(&p, persona_like(3)).unwrap();
    let out = python(OPENAI_CLIENT, &[&s.url, p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["count"], 3);
    assert_eq!(v["goals"], true);
}

#[test]
fn record_through_the_stand_in_then_replay_offline() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let store = d.path().join("answers");
    let log = d.path().join("record.jsonl");
    let upstream = serve(&[]);
    let recorder = serve(&[
        "--record",
        store.to_str().unwrap(),
        "--upstream",
        &upstream.url,
        "--log",
        log.to_str().unwrap(),
    ]);
    let client = reqwest::blocking::Client::new();
    let openai = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": persona_like(3)}]});
    let ollama = serde_json::json!({"model": "m", "stream": false, "messages": [{"role": "user", "content": persona_like(2)}]});
    let first: Value = client
        .post(format!("{}/v1/chat/completions", recorder.url))
        .bearer_auth("sk-secret-do-not-store")
        .json(&openai)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let first_content = first["choices"][0]["message"]["content"].clone();
    assert!(first_content.as_str().unwrap().contains("<output>"));
    let second: Value = client
        .post(format!("{}/api/chat", recorder.url))
        .json(&ollama)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        usage(&recorder.url)["requests"],
        2,
        "recorded calls are counted"
    );
    drop(recorder);
    drop(upstream);
    let files: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(store.join(f)).unwrap();
        assert!(!text.contains("sk-secret"), "{f}");
        assert_eq!(f.len(), 64 + ".json".len());
    }
    assert!(!std::fs::read_to_string(&log).unwrap().contains("sk-secret"));

    // Offline: the same requests get the same answers, from the store alone.
    let replay_log = d.path().join("replay.jsonl");
    let replayer = serve(&[
        "--replay",
        store.to_str().unwrap(),
        "--log",
        replay_log.to_str().unwrap(),
    ]);
    let again: Value = client
        .post(format!("{}/v1/chat/completions", replayer.url))
        .json(&openai)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(again["choices"][0]["message"]["content"], first_content);
    assert_eq!(again["usage"], first["usage"]);
    let again: Value = client
        .post(format!("{}/api/chat", replayer.url))
        .json(&ollama)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(again["message"], second["message"]);
    // A request never recorded: a 404 naming its hash, logged.
    let r = client
        .post(format!("{}/v1/chat/completions", replayer.url))
        .json(&serde_json::json!({"model": "m", "messages": [{"role": "user", "content": persona_like(4)}]}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: Value = r.json().unwrap();
    let hash = v["error"]["hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    assert!(!files.contains(&format!("{hash}.json")));
    assert!(v["error"]["message"].as_str().unwrap().contains(&format!(
        "no recorded answer for this request (hash {hash})"
    )));
    let u = usage(&replayer.url);
    assert_eq!(
        (u["requests"].as_u64(), u["not_found"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        u["completion_tokens"].as_u64().unwrap(),
        first["usage"]["completion_tokens"].as_u64().unwrap()
            + second["eval_count"].as_u64().unwrap()
    );
    let logged = std::fs::read_to_string(&replay_log).unwrap();
    assert!(logged.contains(&hash) && logged.contains("\"status\":404"));
    // Bad flags: a clear error, exit 3.
    let out = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--replay"])
        .arg(d.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such folder of recorded answers"));
}
