//! The composite action: its install script against a local release server,
//! the whole action run the way a runner runs it, and its safety rules.
#![cfg(target_os = "linux")] // bash, tar, curl and the Linux release target

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use support::{FakeGitHub, StaticServer};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TARGET: &str = "x86_64-unknown-linux-musl";

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A copy of the action (action.yml and dist/) with `version` pinned, and a
/// release archive for it holding the real bench-gate binary.
struct Release {
    dir: tempfile::TempDir,
    version: String,
    archive: PathBuf,
}

impl Release {
    fn new(version: &str) -> Release {
        let dir = tempfile::tempdir().unwrap();
        let action = dir.path().join("action");
        std::fs::create_dir_all(action.join("dist/checksums")).unwrap();
        std::fs::copy(
            Path::new(ROOT).join("action.yml"),
            action.join("action.yml"),
        )
        .unwrap();
        for f in ["install.sh", "run-gate.sh", "ab-cache.sh", "valgrind.sh"] {
            std::fs::copy(
                Path::new(ROOT).join("dist").join(f),
                action.join("dist").join(f),
            )
            .unwrap();
        }
        std::fs::write(action.join("dist/VERSION"), format!("{version}\n")).unwrap();
        let stage = dir.path().join("stage/bench-gate");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_bench-gate"), stage.join("bench-gate")).unwrap();
        let archive = dir
            .path()
            .join(format!("bench-gate-v{version}-{TARGET}.tar.gz"));
        let ok = Command::new("tar")
            .args(["-czf"])
            .arg(&archive)
            .arg("-C")
            .arg(dir.path().join("stage"))
            .arg("bench-gate")
            .status()
            .unwrap();
        assert!(ok.success());
        let r = Release {
            dir,
            version: version.into(),
            archive,
        };
        r.write_checksum(&sha256(&r.archive));
        r
    }
    fn action(&self) -> PathBuf {
        self.dir.path().join("action")
    }
    fn write_checksum(&self, sum: &str) {
        std::fs::write(
            self.action()
                .join(format!("dist/checksums/v{}.sha256", self.version)),
            format!("{sum}  bench-gate-v{}-{TARGET}.tar.gz\n", self.version),
        )
        .unwrap();
    }
    fn serve(&self) -> StaticServer {
        StaticServer::start(vec![(
            format!(
                "/v{}/bench-gate-v{}-{TARGET}.tar.gz",
                self.version, self.version
            ),
            std::fs::read(&self.archive).unwrap(),
        )])
    }
}

/// PATH with the basic tools but without cargo.
fn path_without_cargo() -> String {
    "/usr/local/bin:/usr/bin:/bin".into()
}

fn install(r: &Release, server: &StaticServer, cache: &Path, os: &str, path: &str) -> Output {
    install_cmd(r, &server.uri, cache, os, path)
        .output()
        .unwrap()
}

/// The install script's command, for a download base `base`, to run as is or
/// with more environment or another working directory.
fn install_cmd(r: &Release, base: &str, cache: &Path, os: &str, path: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(r.action().join("dist/install.sh"))
        .env_clear()
        .env("PATH", path)
        .env("HOME", std::env::var("HOME").unwrap())
        .env("GITHUB_ACTION_PATH", r.action())
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", cache)
        .env("GITHUB_PATH", cache.join("github_path"))
        .env("BENCH_GATE_DOWNLOAD_BASE", base);
    cmd
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn install_downloads_verifies_caches_and_reuses() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let server = r.serve();
    let cache = tempfile::tempdir().unwrap();
    let out = install(&r, &server, cache.path(), "Linux", &path_without_cargo());
    assert!(out.status.success(), "{}", text(&out));
    let bin = cache.path().join("bench-gate/9.9.9/X64/bench-gate");
    assert!(bin.exists());
    assert!(cache.path().join("bench-gate/9.9.9/X64.complete").exists());
    let gh_path = std::fs::read_to_string(cache.path().join("github_path")).unwrap();
    assert_eq!(
        gh_path.trim(),
        cache
            .path()
            .join("bench-gate/9.9.9/X64")
            .display()
            .to_string()
    );
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("bench-gate {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(server.hits().len(), 1);

    // A warm cache downloads nothing.
    let out = install(&r, &server, cache.path(), "Linux", &path_without_cargo());
    assert!(out.status.success());
    assert!(text(&out).contains("using the cached"));
    assert_eq!(server.hits().len(), 1);
}

#[test]
fn a_checksum_mismatch_fails_and_never_falls_back() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    r.write_checksum(&"0".repeat(64));
    let server = r.serve();
    let cache = tempfile::tempdir().unwrap();
    // Even with cargo on PATH, a mismatch is not "no binary": no build.
    let out = install(
        &r,
        &server,
        cache.path(),
        "Linux",
        &std::env::var("PATH").unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("checksum mismatch for bench-gate-v9.9.9-x86_64-unknown-linux-musl.tar.gz"),
        "{t}"
    );
    assert!(t.contains(&format!("got {}", sha256(&r.archive))));
    assert!(!t.contains("building from source"));
    assert!(!cache.path().join("bench-gate/9.9.9").exists());
}

#[test]
fn a_missing_release_without_a_toolchain_fails_clearly() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let server = StaticServer::start(vec![]); // every download is a 404
    let cache = tempfile::tempdir().unwrap();
    let out = install(&r, &server, cache.path(), "Linux", &path_without_cargo());
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "could not download {}/v9.9.9/bench-gate-v9.9.9-x86_64-unknown-linux-musl.tar.gz",
            server.uri
        )),
        "{t}"
    );
    assert!(
        t.contains("there is no Rust toolchain (cargo) on this runner"),
        "{t}"
    );
}

#[test]
fn an_unknown_platform_without_a_toolchain_fails_clearly() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let server = r.serve();
    let cache = tempfile::tempdir().unwrap();
    let out = install(&r, &server, cache.path(), "Plan9", &path_without_cargo());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(
            "no prebuilt bench-gate binary for Plan9/X64, and there is no Rust toolchain"
        ),
        "{}",
        text(&out)
    );
    assert!(server.hits().is_empty());
}

/// Gives the action copy a small crate of its own as its source, so the real
/// `cargo build --release --locked` runs in seconds.
fn small_source(r: &Release) {
    let src = r.action();
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::write(src.join("Cargo.toml"), "[package]\nname = \"bench-gate\"\nversion = \"9.9.8\"\nedition = \"2021\"\n\n[workspace]\n").unwrap();
    std::fs::write(
        src.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"bench-gate\"\nversion = \"9.9.8\"\n",
    )
    .unwrap();
    std::fs::write(
        src.join("src/main.rs"),
        "fn main() { println!(\"bench-gate 9.9.8 (from source)\"); }\n",
    )
    .unwrap();
}

/// A 404 with cargo present builds the action's source.
#[test]
fn a_missing_release_with_a_toolchain_builds_from_source() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.8");
    small_source(&r);
    let server = StaticServer::start(vec![]);
    let cache = tempfile::tempdir().unwrap();
    let out = install(
        &r,
        &server,
        cache.path(),
        "Linux",
        &std::env::var("PATH").unwrap(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("building from source"));
    let bin = cache
        .path()
        .join("bench-gate/source-9.9.8/X64/bin/bench-gate");
    let v = Command::new(bin).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        "bench-gate 9.9.8 (from source)"
    );
}

/// A script that, when run, writes `marker` and then runs its arguments (a
/// rustc wrapper or linker a pull request could plant).
fn planted_script(dir: &Path, name: &str, marker: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho ran > '{}'\nexec \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn a_tampered_cache_entry_is_refused_and_fetched_again() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let server = r.serve();
    let cache = tempfile::tempdir().unwrap();
    let out = install(&r, &server, cache.path(), "Linux", &path_without_cargo());
    assert!(out.status.success(), "{}", text(&out));
    let bin = cache.path().join("bench-gate/9.9.9/X64/bench-gate");
    let good = sha256(&bin);

    // Someone with write access to the tool cache swaps the binary.
    let marker = cache.path().join("planted-ran");
    std::fs::remove_file(&bin).unwrap();
    planted_script(
        &cache.path().join("bench-gate/9.9.9/X64"),
        "bench-gate",
        &marker,
    );
    let out = install(&r, &server, cache.path(), "Linux", &path_without_cargo());
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("does not match the checksum recorded"), "{t}");
    assert!(!t.contains("using the cached"), "{t}");
    assert_eq!(server.hits().len(), 2, "fetched again");
    assert_eq!(sha256(&bin), good);
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("bench-gate "));
    assert!(!marker.exists(), "the planted binary ran");

    // Tampered again, and the release is gone with no toolchain: the install
    // fails and the tampered entry is not left to be used.
    std::fs::remove_file(&bin).unwrap();
    planted_script(
        &cache.path().join("bench-gate/9.9.9/X64"),
        "bench-gate",
        &marker,
    );
    let gone = StaticServer::start(vec![]);
    let out = install(&r, &gone, cache.path(), "Linux", &path_without_cargo());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!bin.exists());
    assert!(!cache.path().join("bench-gate/9.9.9/X64.complete").exists());
    assert!(!marker.exists(), "the planted binary ran");
}

/// The source fallback builds in the action's directory with nothing from
/// the caller: a workspace `.cargo/config.toml` with a `rustc-wrapper`, and
/// RUSTC_WRAPPER, RUSTFLAGS, CARGO_BUILD_* and CARGO_TARGET_DIR in the
/// environment, all run or steer nothing.
#[test]
fn the_source_fallback_ignores_the_workspace_cargo_config_and_environment() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.8");
    small_source(&r);
    let server = StaticServer::start(vec![]);
    let cache = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    let w = workspace.path();
    std::fs::create_dir_all(w.join(".cargo")).unwrap();
    let marks = tempfile::tempdir().unwrap();
    let m = |n: &str| marks.path().join(n);
    let config_wrapper = planted_script(w, "config-wrapper.sh", &m("config-wrapper"));
    let config_linker = planted_script(w, "config-linker.sh", &m("config-linker"));
    std::fs::write(
        w.join(".cargo/config.toml"),
        format!(
            "[build]\nrustc-wrapper = \"{}\"\n[target.x86_64-unknown-linux-gnu]\nlinker = \"{}\"\n",
            config_wrapper.display(),
            config_linker.display()
        ),
    )
    .unwrap();
    let env_wrapper = planted_script(w, "env-wrapper.sh", &m("env-wrapper"));
    let build_wrapper = planted_script(w, "build-wrapper.sh", &m("build-wrapper"));
    let flags_linker = planted_script(w, "flags-linker.sh", &m("flags-linker"));
    let caller_target = w.join("caller-target");
    let out = install_cmd(
        &r,
        &server.uri,
        cache.path(),
        "Linux",
        &std::env::var("PATH").unwrap(),
    )
    .current_dir(w)
    .env("RUSTC_WRAPPER", &env_wrapper)
    .env("CARGO_BUILD_RUSTC_WRAPPER", &build_wrapper)
    .env("RUSTFLAGS", format!("-C linker={}", flags_linker.display()))
    .env("CARGO_TARGET_DIR", &caller_target)
    .output()
    .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("no verified prebuilt binary"), "{t}");
    assert!(t.contains("built from source in "), "{t}");
    for n in [
        "config-wrapper",
        "config-linker",
        "env-wrapper",
        "build-wrapper",
        "flags-linker",
    ] {
        assert!(!m(n).exists(), "{n} ran during the source build: {t}");
    }
    assert!(
        !caller_target.exists(),
        "the caller's CARGO_TARGET_DIR was used"
    );
    let bin = cache
        .path()
        .join("bench-gate/source-9.9.8/X64/bin/bench-gate");
    let v = Command::new(bin).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        "bench-gate 9.9.8 (from source)"
    );
}

#[test]
fn downloads_need_https_except_from_a_loopback_test_server() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let cache = tempfile::tempdir().unwrap();
    for base in [
        "http://example.com/releases",
        "http://127.0.0.1.example.com/releases",
        "ftp://127.0.0.1/releases",
        "file:///tmp/releases",
    ] {
        let out = install_cmd(&r, base, cache.path(), "Linux", &path_without_cargo())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{base}: {}", text(&out));
        assert!(
            text(&out).contains("BENCH_GATE_DOWNLOAD_BASE must be an https URL"),
            "{base}: {}",
            text(&out)
        );
        assert!(!text(&out).contains("downloading"), "{}", text(&out));
    }
}

/// A redirect to plain http is refused, even from the loopback test server.
#[test]
fn a_redirect_to_http_is_not_followed() {
    use std::io::{Read, Write};
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let target = r.serve();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let location = format!("{}/v9.9.9/bench-gate-v9.9.9-{TARGET}.tar.gz", target.uri);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = write!(
                c,
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let out = install_cmd(&r, &base, cache.path(), "Linux", &path_without_cargo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("could not download"), "{}", text(&out));
    assert!(target.hits().is_empty(), "the http redirect was followed");
    assert!(!cache.path().join("bench-gate/9.9.9/X64.complete").exists());
}

// ---- the composite action, step by step ----

/// Replaces `${{ … }}` the way the runner would, for the expressions the
/// action uses; any other expression fails the test.
fn expand(
    s: &str,
    inputs: &HashMap<String, String>,
    steps: &HashMap<String, HashMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").expect("closed expression") + i;
        let expr = rest[i + 3..j].trim();
        let value = if let Some(name) = expr.strip_prefix("inputs.") {
            inputs
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("no input {name}"))
        } else if expr == "github.token" {
            "ghs_workflow_token_abc123".to_string()
        } else if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, name) = rest.split_once(".outputs.").unwrap();
            steps
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default()
        } else {
            panic!("unexpected expression {expr}")
        };
        out.push_str(&value);
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

fn read_outputs(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

#[test]
fn the_composite_action_installs_and_gates_a_pull_request() {
    let _serial = crate::support::serial();
    let r = Release::new("9.9.9");
    let release_server = r.serve();
    let github = FakeGitHub::start();
    let work = tempfile::tempdir().unwrap();
    let checkout = work.path().join("checkout");
    std::fs::create_dir_all(checkout.join("baselines")).unwrap();
    std::fs::write(
        checkout.join("baselines/v1.12.0.yaml"),
        include_str!("../fixtures/persona-v1.12.0.yaml"),
    )
    .unwrap();
    std::fs::write(
        checkout.join("results.json"),
        json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x", "workload": "standard",
               "environment": {}, "scenarios": [],
               "metrics": {"generation.single.latency_p50_ms": {"value": 1900.0, "unit": "ms", "samples": [1900.0]},
                           "startup.cli_cold_ms": {"value": 480.0, "unit": "ms", "samples": [480.0]}}})
        .to_string(),
    )
    .unwrap();
    let temp = work.path().join("runner-temp");
    let cache = work.path().join("tool-cache");
    std::fs::create_dir_all(&temp).unwrap();
    let summary = work.path().join("summary.md");
    let gh_path = work.path().join("github_path");

    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(r.action().join("action.yml")).unwrap())
            .unwrap();
    // Inputs: the defaults, then what the workflow's `with:` sets.
    let mut inputs: HashMap<String, String> = HashMap::new();
    for (k, v) in action["inputs"].as_mapping().unwrap() {
        let default = v["default"].as_str().unwrap_or("").to_string();
        inputs.insert(k.as_str().unwrap().to_string(), default);
    }
    let token_default = inputs["github-token"].clone();
    inputs.insert(
        "github-token".into(),
        expand(&token_default, &HashMap::new(), &HashMap::new()),
    );
    inputs.insert("results".into(), "results.json".into());
    inputs.insert("working-directory".into(), checkout.display().to_string());

    let mut steps: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut extra_path: Vec<String> = Vec::new();
    let mut last_code = None;
    for (n, step) in action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .enumerate()
    {
        if step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/cache/"))
        {
            continue; // a cache miss: nothing restored, nothing saved
        }
        assert_eq!(step["shell"].as_str(), Some("bash"));
        let id = step["id"].as_str().unwrap().to_string();
        let output_file = work.path().join(format!("output-{n}"));
        let script = work.path().join(format!("step-{n}.sh"));
        std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
        let cwd = step["working-directory"]
            .as_str()
            .map(|w| expand(w, &inputs, &steps))
            .unwrap_or_else(|| work.path().display().to_string());
        let mut path = extra_path.clone();
        path.push(path_without_cargo());
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&cwd)
            .env_clear()
            .env("PATH", path.join(":"))
            .env("HOME", std::env::var("HOME").unwrap())
            .env("GITHUB_ACTION_PATH", r.action())
            .env("GITHUB_ACTIONS", "true")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", &temp)
            .env("RUNNER_TOOL_CACHE", &cache)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_PATH", &gh_path)
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env(
                "GITHUB_EVENT_PATH",
                Path::new(ROOT).join("tests/fixtures/events/pull_request.opened.json"),
            )
            .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
            .env("GITHUB_API_URL", &github.uri)
            .env("BENCH_GATE_DOWNLOAD_BASE", &release_server.uri);
        if let Some(env) = step["env"].as_mapping() {
            for (k, v) in env {
                cmd.env(
                    k.as_str().unwrap(),
                    expand(v.as_str().unwrap_or(""), &inputs, &steps),
                );
            }
        }
        let out = cmd.output().unwrap();
        let t = text(&out);
        assert!(
            !t.lines()
                .any(|l| l.contains("ghs_workflow_token_abc123") && !l.starts_with("::add-mask::")),
            "token leaked: {t}"
        );
        steps.insert(id.clone(), read_outputs(&output_file));
        // The runner adds GITHUB_PATH entries for the following steps.
        extra_path = std::fs::read_to_string(&gh_path)
            .unwrap_or_default()
            .lines()
            .rev()
            .map(str::to_string)
            .collect();
        last_code = out.status.code();
        if id == "install" {
            assert!(out.status.success(), "install step: {t}");
        }
    }
    // The gate step fails the job on a failure (+26.7 %).
    assert_eq!(last_code, Some(2));
    let mut outputs = HashMap::new();
    for (k, v) in action["outputs"].as_mapping().unwrap() {
        outputs.insert(
            k.as_str().unwrap().to_string(),
            expand(v["value"].as_str().unwrap(), &inputs, &steps),
        );
    }
    assert_eq!(outputs["result"], "fail");
    assert!(outputs["comment-url"].contains("#issuecomment-"));
    let run = &github.check_runs()[0];
    assert_eq!(outputs["check-run-id"], run.id.to_string());
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        Path::new(&outputs["results-path"]),
        temp.join("bench-gate/results.json").canonicalize().unwrap()
    );
    assert!(Path::new(&outputs["report-path"]).exists());
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("generation.single.latency_p50_ms"));
    let comments = github.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains("❌ bench-gate: Failed"));
    // The binary came from the release server, verified, into the tool cache.
    assert!(cache.join("bench-gate/9.9.9/X64.complete").exists());
    assert_eq!(release_server.hits().len(), 1);
}

/// `${{ }}` inside a `run:` script is how script injection happens.
#[test]
fn no_expression_inside_any_run_script() {
    let _serial = crate::support::serial();
    let mut files = vec![Path::new(ROOT).join("action.yml")];
    for dir in [
        ".github/workflows",
        "examples/persona-python/.github/workflows",
    ] {
        for e in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    fn walk(v: &serde_yaml::Value, file: &Path, found: &mut Vec<String>) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                for (k, val) in m {
                    if k.as_str() == Some("run") {
                        if let Some(s) = val.as_str() {
                            if s.contains("${{") {
                                found.push(format!("{}: {s}", file.display()));
                            }
                        }
                    }
                    walk(val, file, found);
                }
            }
            serde_yaml::Value::Sequence(s) => s.iter().for_each(|x| walk(x, file, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    let mut runs = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        runs += text.matches("run:").count();
        let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        walk(&v, f, &mut found);
    }
    assert!(
        runs >= 5,
        "the check saw only {runs} run: blocks in {files:?}"
    );
    assert!(
        found.is_empty(),
        "expressions inside run scripts:\n{}",
        found.join("\n")
    );
}

/// Runs dist/ab-cache.sh in `dir` on a `pull_request` event with `inputs`;
/// its outputs.
fn ab_cache_outputs(dir: &Path, inputs: &[(&str, &str)]) -> HashMap<String, String> {
    let out_file = dir.join("../ab-cache-output");
    let _ = std::fs::remove_file(&out_file);
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("dist/ab-cache.sh"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_OUTPUT", &out_file)
        .env("RUNNER_TEMP", "/runner/temp")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .envs(inputs.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    read_outputs(&out_file)
}

/// The cache of the built-in workload's base build is keyed by the first
/// parent of the test-merge commit (the base bench-gate measures), and is
/// used only when the built-in workload is measured in A/B on a pull request.
#[test]
fn the_base_build_cache_is_keyed_by_the_test_merge_commits_first_parent() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    std::fs::create_dir(&dir).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q"]);
    std::fs::write(dir.join("a.txt"), "a\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let main = git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    git(&["checkout", "-q", "-b", "pr"]);
    std::fs::write(dir.join("b.txt"), "b\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "pr"]);
    git(&["checkout", "-q", &main]);
    std::fs::write(dir.join("c.txt"), "c\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "main moves on"]);
    let first_parent = git(&["rev-parse", "HEAD"]);
    // Not a merge commit: nothing to key by.
    assert!(ab_cache_outputs(&dir, &[]).is_empty());
    git(&["merge", "-q", "--no-ff", "-m", "test merge", "pr"]);
    let o = ab_cache_outputs(&dir, &[]);
    assert_eq!(o["path"], "/runner/temp/bench-gate-ab-build");
    assert_eq!(
        o["key"],
        format!("bench-gate-ab-build-Linux-X64-{first_parent}")
    );
    assert_eq!(ab_cache_outputs(&dir, &[("INPUT_AB", "true")]).len(), 2);
    for inputs in [
        [("INPUT_AB", "false")],
        [("INPUT_AB", "origin/release")],
        [("INPUT_AB_SETUP", "make")],
        [("INPUT_RESULTS", "r.json")],
        [("INPUT_SHARD", "1/2")],
        [("INPUT_CONFIG", "bench.yml")],
    ] {
        assert!(ab_cache_outputs(&dir, &inputs).is_empty(), "{inputs:?}");
    }
    std::fs::write(dir.join("bench-gate.yml"), "scenarios: {}\n").unwrap();
    assert!(
        ab_cache_outputs(&dir, &[]).is_empty(),
        "a config of its own"
    );
}

/// A folder for PATH with only `tools` (linked from the system) and
/// `scripts` (name, body): no Valgrind in it.
fn bin_dir(tools: &[&str], scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for t in tools {
        let found = which::which(t).unwrap();
        std::os::unix::fs::symlink(found, d.path().join(t)).unwrap();
    }
    for (name, body) in scripts {
        let p = d.path().join(name);
        std::fs::write(&p, format!("#!/bin/bash\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    d
}

#[test]
fn valgrind_is_installed_only_when_a_scenario_counts_and_it_is_absent() {
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("apt.log");
    let bin = bin_dir(
        &["bash", "grep", "date", "uname", "id", "chmod"],
        &[
            ("sudo", "[ \"$1\" = -n ] && shift; exec \"$@\""),
            (
                "apt-get",
                &format!(
                    "echo \"$*\" >> {log}\nprintf '#!/bin/bash\\necho valgrind-3.19.0\\n' > \"${{0%/*}}/valgrind\"; chmod +x \"${{0%/*}}/valgrind\"",
                    log = log.display()
                ),
            ),
        ],
    );
    let script = Path::new(ROOT).join("dist/valgrind.sh");
    let run = |config: &str| {
        std::fs::write(work.path().join("bench-gate.yml"), config).unwrap();
        Command::new(bin.path().join("bash"))
            .arg(&script)
            .current_dir(work.path())
            .env_clear()
            .env("PATH", bin.path())
            .output()
            .unwrap()
    };
    // No counted measure: nothing installed.
    let o = run("scenarios:\n  a:\n    command: [x]\n    measure: [wall]\n");
    assert!(o.status.success());
    assert_eq!(text(&o), "");
    assert!(!log.exists());
    // Counted (block list form): installed with apt, timed in the log.
    let o = run(
        "scenarios:\n  a:\n    command: [x]\n    measure:\n      - wall\n      - instructions\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("installing Valgrind (the config counts instructions or allocations)"),
        "{out}"
    );
    assert!(out.contains("installed valgrind-3.19.0 in "), "{out}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "install -y -q valgrind\n"
    );
    // Present now: used, not installed again.
    let o = run("scenarios:\n  a:\n    command: [x]\n    measure: [allocations]\n");
    assert!(
        text(&o).contains("valgrind-3.19.0 counts instructions"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}
