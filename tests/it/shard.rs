//! Sharding a workload over matrix jobs and merging it back: coverage,
//! refusals, and three shards through the action's script into one comment.
#![cfg(target_os = "linux")] // bash and process groups

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::FakeGitHub;

const BIN: &str = env!("CARGO_BIN_EXE_bench-gate");

fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut yml = String::from("scenarios:\n");
    for name in ["alpha", "bravo", "charlie", "delta", "echo"] {
        yml.push_str(&format!(
            "  {name}:\n    command: [\"true\"]\n    iterations: 3\n    warmup: 0\n"
        ));
    }
    std::fs::write(d.path().join("bench-gate.yml"), yml).unwrap();
    d
}

fn run_shard(dir: &Path, shard: &str, extra: &[&str]) -> Value {
    let out = dir.join(format!("shard-{}.json", shard.replace('/', "-")));
    let o = Command::new(BIN)
        .current_dir(dir)
        .args(["run", "-q", "--shard", shard])
        .args(extra)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn merge(dir: &Path, files: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .arg("merge")
        .args(files)
        .args(["--output", "merged.json"])
        .output()
        .unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn three_shards_cover_everything_once_and_merge() {
    let _serial = crate::support::serial();
    let d = setup();
    let mut all = Vec::new();
    for k in 1..=3 {
        let r = run_shard(d.path(), &format!("{k}/3"), &[]);
        assert_eq!(r["shard"]["index"], k);
        assert_eq!(r["shard"]["all_scenarios"].as_array().unwrap().len(), 5);
        all.extend(names(&r));
    }
    all.sort();
    assert_eq!(all, ["alpha", "bravo", "charlie", "delta", "echo"]);
    let o = merge(
        d.path(),
        &["shard-3-3.json", "shard-1-3.json", "shard-2-3.json"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("merged.json")).unwrap())
            .unwrap();
    assert_eq!(
        names(&m),
        ["alpha", "bravo", "charlie", "delta", "echo"],
        "workload order"
    );
    assert_eq!(m["metrics"].as_object().unwrap().len(), 15);
    assert_eq!(m["shards"].as_array().unwrap().len(), 3);
    assert!(
        m["shards"][0]["environment"]["cpu_model"].is_string(),
        "each shard's environment kept"
    );
    assert!(m.get("shard").is_none());

    // Balanced by the durations of a previous run: still each exactly once, and stable.
    let mut again = Vec::new();
    for k in 1..=2 {
        let a = run_shard(
            d.path(),
            &format!("{k}/2"),
            &["--shard-durations", "merged.json"],
        );
        let b = run_shard(
            d.path(),
            &format!("{k}/2"),
            &["--shard-durations", "merged.json"],
        );
        assert_eq!(names(&a), names(&b));
        again.extend(names(&a));
    }
    again.sort();
    assert_eq!(again.len(), 5);
}

#[test]
fn merge_refuses_gaps_overlaps_and_mixtures() {
    let _serial = crate::support::serial();
    let d = setup();
    for k in 1..=3 {
        run_shard(d.path(), &format!("{k}/3"), &[]);
    }
    let err = |o: std::process::Output| {
        assert_eq!(o.status.code(), Some(3));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    assert!(
        err(merge(d.path(), &["shard-1-3.json", "shard-2-3.json"])).contains("shard 3/3 missing")
    );
    assert!(err(merge(
        d.path(),
        &["shard-1-3.json", "shard-1-3.json", "shard-2-3.json"]
    ))
    .contains("shard 1/3 is given twice"));
    let mut other: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("shard-2-3.json")).unwrap())
            .unwrap();
    other["workload"] = "nightly".into();
    std::fs::write(d.path().join("other.json"), other.to_string()).unwrap();
    assert!(err(merge(
        d.path(),
        &["shard-1-3.json", "other.json", "shard-3-3.json"]
    ))
    .contains("workload 'nightly' does not match 'standard'"));
    // A scenario run by two shards.
    let mut dup: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("shard-2-3.json")).unwrap())
            .unwrap();
    let first: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("shard-1-3.json")).unwrap())
            .unwrap();
    dup["scenarios"]
        .as_array_mut()
        .unwrap()
        .push(first["scenarios"][0].clone());
    std::fs::write(d.path().join("dup.json"), dup.to_string()).unwrap();
    assert!(err(merge(
        d.path(),
        &["shard-1-3.json", "dup.json", "shard-3-3.json"]
    ))
    .contains("scenario 'alpha' is in both"));
    // Plain results are not shards.
    Command::new(BIN)
        .current_dir(d.path())
        .args(["run", "-q", "--output", "plain.json"])
        .output()
        .unwrap();
    assert!(err(merge(d.path(), &["plain.json"])).contains("plain.json: not shard results"));
    assert!(err(Command::new(BIN)
        .current_dir(d.path())
        .args(["run", "--shard", "4/3"])
        .output()
        .unwrap())
    .contains("must have 1 <= K <= N"));
}

fn action_script(
    dir: &Path,
    fake: Option<&FakeGitHub>,
    env: &[(&str, String)],
) -> std::process::Output {
    let bin_dir = PathBuf::from(BIN).parent().unwrap().to_path_buf();
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/run-gate.sh"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("RUNNER_TEMP", dir.join("runner-temp"))
        .env("GITHUB_OUTPUT", dir.join("output.txt"));
    if let Some(f) = fake {
        cmd.env("GITHUB_EVENT_NAME", "pull_request")
            .env(
                "GITHUB_EVENT_PATH",
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/events/pull_request.opened.json"),
            )
            .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
            .env("GITHUB_API_URL", &f.uri)
            .env("GITHUB_TOKEN", "ghs_shard_test");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn three_matrix_shards_through_the_action_make_one_comment_and_one_check() {
    let _serial = crate::support::serial();
    let d = setup();
    // The baseline: a full run, captured.
    let o = Command::new(BIN)
        .current_dir(d.path())
        .args(["capture", "-q", "--output", "baselines/v1.0.0.yaml"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.path().join("baselines/v1.0.0.yaml").exists());
    let shards = d.path().join("downloaded");
    std::fs::create_dir(&shards).unwrap();
    for k in 1..=3 {
        let o = action_script(d.path(), None, &[("INPUT_SHARD", format!("{k}/3"))]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let produced = d
            .path()
            .join(format!("runner-temp/bench-gate/shard-{k}-of-3.json"));
        // What upload-artifact / download-artifact would carry.
        std::fs::copy(&produced, shards.join(format!("shard-{k}.json"))).unwrap();
    }
    let outputs = std::fs::read_to_string(d.path().join("output.txt")).unwrap();
    assert!(outputs.contains("result=shard"));
    let fake = FakeGitHub::start();
    // The verdict is not what this test is about: `true` takes about a
    // millisecond and can take ten times that on a loaded machine.
    let o = action_script(
        d.path(),
        Some(&fake),
        &[
            ("INPUT_RESULTS", "downloaded/shard-*.json".into()),
            ("INPUT_WARN_THRESHOLD", "50000".into()),
            ("INPUT_FAIL_THRESHOLD", "100000".into()),
            (
                "INPUT_HISTORY_URL",
                "https://example.org/trends.html".into(),
            ),
        ],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("merged 3 shards: 5 scenarios, 15 metrics"),
        "{text}"
    );
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    for name in ["alpha", "bravo", "charlie", "delta", "echo"] {
        assert!(
            body.contains(&format!("`{name}.latency_p50_ms`")),
            "{name} missing from {body}"
        );
    }
    assert!(body
        .contains("[How each metric moved on the main branch](https://example.org/trends.html)"));
    assert_eq!(fake.check_runs().len(), 1);
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
}

#[test]
fn history_records_runs_and_charts_them() {
    let _serial = crate::support::serial();
    let d = setup();
    for (i, sha) in ["1111111aaaa", "2222222bbbb", "3333333cccc"]
        .iter()
        .enumerate()
    {
        let out = d.path().join(format!("r{i}.json"));
        Command::new(BIN)
            .current_dir(d.path())
            .args(["run", "-q", "--only", "alpha", "--output"])
            .arg(&out)
            .output()
            .unwrap();
        let o = Command::new(BIN)
            .current_dir(d.path())
            .args(["history", "append", "--results"])
            .arg(&out)
            .args(["--commit", sha, "--ref", "main", "--keep", "2"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let lines: Vec<Value> = std::fs::read_to_string(d.path().join("bench-gate-history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "--keep 2");
    assert_eq!(lines[1]["commit"], "3333333cccc");
    assert!(
        lines[1]["metrics"]["alpha.latency_p50_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let o = Command::new(BIN)
        .current_dir(d.path())
        .args(["history", "chart", "--output", "trend.html"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let html = std::fs::read_to_string(d.path().join("trend.html")).unwrap();
    assert_eq!(html.matches("<polyline").count(), 3, "one line per metric");
    assert_eq!(html.matches("<circle").count(), 6);
    assert!(html.contains("3333333"));
    let o = Command::new(BIN)
        .current_dir(d.path())
        .args(["history", "chart", "--output", "x.svg", "--metric", "nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
}

/// Through the action's script: `pull_request_target` is refused by the
/// gate and by a shard job (which measures without `gate`), unless
/// `allow-pull-request-target` is true, which reaches the gate.
#[test]
fn the_action_refuses_pull_request_target_unless_allowed() {
    let _serial = crate::support::serial();
    let d = setup();
    let fake = FakeGitHub::start();
    let prt = ("GITHUB_EVENT_NAME", "pull_request_target".to_string());
    let allow = |v: &str| ("INPUT_ALLOW_PULL_REQUEST_TARGET", v.to_string());
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    // The gate, then a shard job.
    for env in [
        vec![prt.clone()],
        vec![prt.clone(), ("INPUT_SHARD", "1/2".to_string())],
    ] {
        let o = action_script(d.path(), Some(&fake), &env);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        assert!(
            text(&o).contains("does not run on pull_request_target"),
            "{}",
            text(&o)
        );
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    let o = action_script(d.path(), Some(&fake), &[prt.clone(), allow("yes")]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).contains("allow-pull-request-target must be true or false"));

    let o = action_script(
        d.path(),
        Some(&fake),
        &[prt.clone(), allow("true"), ("INPUT_SHARD", "1/2".into())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = action_script(d.path(), Some(&fake), &[prt, allow("true")]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fake.check_runs().len(), 1);
}

/// `git` in `dir`, with an identity for commits.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

#[test]
fn three_ab_shards_through_the_action_make_one_comment_and_one_check_side_by_side() {
    let _serial = crate::support::serial();
    let d = setup();
    let dir = d.path();
    std::fs::write(
        dir.join(".gitignore"),
        "runner-temp/\ndownloaded/\n*.json\noutput.txt\n",
    )
    .unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("README"), "the head\n").unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "head"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    let shards = dir.join("downloaded");
    std::fs::create_dir(&shards).unwrap();
    for k in 1..=3 {
        let o = action_script(
            dir,
            None,
            &[
                ("INPUT_SHARD", format!("{k}/3")),
                ("INPUT_AB", base.clone()),
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let produced = dir.join(format!("runner-temp/bench-gate/shard-{k}-of-3.json"));
        let r: Value = serde_json::from_str(&std::fs::read_to_string(&produced).unwrap()).unwrap();
        // Each shard measured its own scenarios' pairs, both sides.
        assert_eq!(r["ab"]["base_commit"], base.as_str());
        assert_eq!(r["ab"]["head_commit"], head.as_str());
        assert_eq!(names(&r["ab"]["base"]), names(&r), "shard {k}");
        std::fs::copy(&produced, shards.join(format!("shard-{k}.json"))).unwrap();
    }
    // A shard against another base is refused, and so is a mixture.
    let other = dir.join("runner-temp/other.json");
    let o = Command::new(BIN)
        .current_dir(dir)
        .args(["run", "-q", "--shard", "1/3", "--ab", "HEAD", "--output"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plain = run_shard(dir, "2/3", &[]);
    assert!(plain["ab"].is_null());
    for (files, says) in [
        (
            vec![
                other.display().to_string(),
                "downloaded/shard-2.json".into(),
                "downloaded/shard-3.json".into(),
            ],
            "A/B shards must compare the same commits",
        ),
        (
            vec![
                "downloaded/shard-1.json".into(),
                "shard-2-3.json".into(),
                "downloaded/shard-3.json".into(),
            ],
            "holds an A/B run and shard-2-3.json does not",
        ),
    ] {
        let refs: Vec<&str> = files.iter().map(|s| s.as_str()).collect();
        let o = merge(dir, &refs);
        assert_eq!(o.status.code(), Some(3));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(says), "{e}");
    }
    let fake = FakeGitHub::start();
    let o = action_script(
        dir,
        Some(&fake),
        &[
            ("INPUT_RESULTS", "downloaded/shard-*.json".into()),
            ("INPUT_WARN_THRESHOLD", "50000".into()),
            ("INPUT_FAIL_THRESHOLD", "100000".into()),
        ],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("merged 3 shards: 5 scenarios, 15 metrics"),
        "{text}"
    );
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(
        body.contains(&format!(
            "**Against the base commit `{}`, measured side by side on this runner (3 pairs per scenario, ABBA order;",
            &base[..7]
        )),
        "{body}"
    );
    for name in ["alpha", "bravo", "charlie", "delta", "echo"] {
        assert!(
            body.contains(&format!("`{name}.latency_p50_ms`")),
            "{name} missing from {body}"
        );
    }
    assert_eq!(fake.check_runs().len(), 1);
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
}
