//! Adversary round 2: main's history (a hostile data branch) and
//! `calibrate`'s proposals. Each test asserts the SAFE outcome.

use serde_json::json;

use crate::gatekit::{gate, payload, text, Checkout};
use crate::support::FakeGitHub;

const DATA: &str = "bench-gate-data";
const METRIC: &str = "generation.single.latency_p50_ms";

fn sha(i: usize) -> String {
    format!("{i:04x}{}", "c0ffee".repeat(6))
}

fn push(fake: &FakeGitHub, co: &Checkout, i: usize, value: f64) -> std::process::Output {
    co.results("main.json", value, 5);
    let p = payload(co, "push.branch.json", &format!("push{i}"), |v| {
        v["after"] = json!(sha(i));
    });
    gate(
        fake,
        co,
        "push",
        &p,
        &[
            "--results",
            &co.path("main.json").display().to_string(),
            "--history-branch",
            DATA,
            "--history-keep",
            "50",
        ],
    )
}

fn noisy(level: f64, i: usize) -> f64 {
    level + ((i * 37) % 21) as f64 - 10.0
}

/// The data file's key on the fake (after a first push created it).
fn data_key(fake: &FakeGitHub) -> (String, String) {
    fake.with(|s| {
        s.data_files
            .keys()
            .find(|(b, p)| b == DATA && p.ends_with(".jsonl"))
            .cloned()
            .expect("the history file")
    })
}

fn line(workload: &str, commit: &str, value: f64) -> String {
    json!({
        "time": "2026-11-30T00:00:00Z",
        "commit": commit,
        "workload": workload,
        "metrics": { METRIC: value },
    })
    .to_string()
}

/// HIGH: a line on the data branch whose `commit` is not a SHA (a
/// multi-byte character at byte 7) crashes the gate (a panic slicing
/// `&sha[..7]`) on every push to main that writes the issue. Anyone who can
/// push to the data branch (or a bug) breaks main's CI. Safe: the line is
/// ignored or refused with an error, never a panic.
#[test]
fn adv2_history_line_with_a_non_sha_commit_does_not_panic_the_gate() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = push(&fake, &co, 0, 1300.0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let key = data_key(&fake);
    fake.with(|s| {
        let entry = s.data_files.get_mut(&key).unwrap();
        entry
            .0
            .push_str(&line("standard", "aaaaaa\u{e9}bbbbbb", 1300.0));
        entry.0.push('\n');
    });
    // Main drifts beyond the warning threshold: the issue is written.
    let out = push(&fake, &co, 1, 1800.0);
    let t = text(&out);
    assert!(!t.contains("panicked"), "the gate panicked: {t}");
    assert_ne!(out.status.code(), Some(101), "{t}");
}

/// MEDIUM: the history file's lines carry a workload, but the gate never
/// checks it: lines of another workload (forged, or a file shared by
/// mistake) are taken as main's series, and a step is reported against a
/// commit whose own runs never changed. Safe: only lines of this workload
/// count (no step, no issue here).
#[test]
fn adv2_history_lines_of_another_workload_are_not_main_series() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = push(&fake, &co, 100, 1500.0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let key = data_key(&fake);
    // Thirteen forged runs of another workload, at 1300, before ours.
    let mut forged = String::new();
    for i in 0..13 {
        forged.push_str(&line("someone-else", &sha(i), noisy(1300.0, i)));
        forged.push('\n');
    }
    fake.with(|s| {
        let entry = s.data_files.get_mut(&key).unwrap();
        entry.0 = forged + &entry.0;
    });
    // Our own runs: steady at 1500 (the baseline's level: no drift).
    for i in 101..104 {
        let out = push(&fake, &co, i, noisy(1500.0, i));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let issues: Vec<_> = fake
        .with(|s| s.issues.clone())
        .into_iter()
        .filter(|i| i.user == "github-actions[bot]")
        .collect();
    assert!(
        issues.is_empty(),
        "a step was reported from another workload's lines: {}",
        issues[0].body
    );
}

/// MEDIUM: `calibrate` proposes failure = max(5 %, detectable) with no cap:
/// a few wildly noisy pairs give a failure threshold of thousands of
/// percent, which `--write` stores, and then a 10x regression passes.
/// Safe: a proposal is capped (here: at most 100 %) or the metric keeps its
/// default with a note.
#[test]
fn adv2_calibrate_never_proposes_a_threshold_that_lets_a_10x_regression_pass() {
    use bench_gate::compare::calibration::assess;
    let a = [100.0, 100.0, 100.0];
    let b = [1000.0, 10.0, 3000.0];
    let n = assess(METRIC, "ms", Some("p50"), &a, &b);
    assert!(
        n.proposed.failure <= 100.0,
        "proposed failure {} % (warning {} %): a 10x slowdown passes",
        n.proposed.failure,
        n.proposed.warning
    );
}

/// MEDIUM: a re-run of an older push's workflow (GitHub's "Re-run jobs", or
/// runs finishing out of order) removes that commit's line and appends it
/// at the END of the series, as if it were main's newest run. After a step
/// up at commit 13, re-running pushes 0, 1 and 2 reports a step "back
/// down" (🟢) whose first commit is 0000, older than the step itself. Safe: a
/// re-run keeps its commit's place (or is not appended), and no step names
/// a commit older than the runs before it.
#[test]
fn adv2_a_rerun_of_an_old_push_does_not_become_main_newest_run() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let level = |i: usize| noisy(if i < 13 { 1300.0 } else { 1500.0 }, i);
    for i in 0..25 {
        let out = push(&fake, &co, i, level(i));
        assert_eq!(out.status.code(), Some(0), "push {i}: {}", text(&out));
    }
    // Re-runs of the workflows of pushes 0, 1, 2 (same commits, same level).
    for i in 0..3 {
        let out = push(&fake, &co, i, level(i));
        assert_eq!(out.status.code(), Some(0), "re-run {i}: {}", text(&out));
    }
    let key = data_key(&fake);
    let content = fake.with(|s| s.data_files[&key].0.clone());
    let last = content.lines().last().unwrap().to_string();
    let body = fake
        .with(|s| s.issues.clone())
        .into_iter()
        .find(|i| i.user == "github-actions[bot]")
        .map(|i| i.body)
        .unwrap_or_default();
    assert!(
        !body.contains("| `0000c0f` |") || !body.contains("🟢"),
        "a step back down is claimed at commit 0000, a commit before the step:\n{body}"
    );
    assert!(
        last.contains(&sha(24)),
        "the newest line is not main's newest commit: {last}"
    );
}

/// LOW (MEDIUM with the workload finding above): the data file's name
/// folds every character but `[A-Za-z0-9._-]` to `_`, so workloads
/// `import:a`, `import/a` and `import_a` (all valid workload names) share
/// one file on the data branch (their runs
/// become one series, and the file's lines are not checked for their
/// workload); a workload of only dots leaves an empty folder name
/// (`bench-gate/history//….jsonl`). Safe: distinct workloads, distinct
/// files, and no empty path segment.
#[test]
fn adv2_distinct_workloads_get_distinct_history_files() {
    use bench_gate::github::mainline::data_path;
    let results = |w: &str| -> bench_gate::model::Results {
        serde_json::from_value(json!({
            "schema_version": 1, "tool": "bench-gate", "tool_version": "0",
            "created_at": "x", "workload": w,
            "environment": {"cpu_model": "X"}, "scenarios": [], "metrics": {}
        }))
        .unwrap()
    };
    let paths: Vec<String> = ["import:a", "import/a", "import_a"]
        .iter()
        .map(|w| data_path(&results(w)))
        .collect();
    assert!(
        paths[0] != paths[1] && paths[1] != paths[2] && paths[0] != paths[2],
        "one file for three workloads: {paths:?}"
    );
    let dots = data_path(&results(".."));
    assert!(!dots.contains("//"), "{dots}");
}

/// MEDIUM: the Contents API returns a file's content only up to 1 MB, and
/// the gate reads the whole history file on every push; nothing bounds
/// what it writes but `--history-keep` (default 100, up to 100,000 runs).
/// A workload with many (long-named) metrics crosses 1 MB after a few
/// pushes, and from then on every push to main fails ("larger than 1 MB")
/// until someone edits the data branch by hand. Safe: the gate never
/// writes a history file GitHub cannot give back (it drops old runs, or
/// splits the file), here: every file written stays under 1 MB.
#[test]
fn adv2_the_history_file_never_grows_past_what_the_contents_api_returns() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let mut v = Checkout::results_value(1500.0, 1);
    for k in 0..400 {
        let name = format!("app.{}.m{k:03}_ms", "x".repeat(180));
        v["metrics"][name] = json!({"value": 1.0, "unit": "ms", "samples": [1.0]});
    }
    for i in 0..8 {
        co.write("big.json", &v);
        let p = payload(&co, "push.branch.json", &format!("big{i}"), |p| {
            p["after"] = json!(sha(i));
        });
        let out = gate(
            &fake,
            &co,
            "push",
            &p,
            &[
                "--results",
                &co.path("big.json").display().to_string(),
                "--history-branch",
                DATA,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "push {i}: {}", text(&out));
    }
    let largest = fake.with(|s| s.data_files.values().map(|(c, _)| c.len()).max().unwrap());
    assert!(
        largest < 1_000_000,
        "a {largest}-byte history file: the Contents API returns no content past 1 MB"
    );
}

/// LOW: the issue's hidden record (`metric@commit` of every step, base64)
/// sits at the top of the body, and the body is cut at 60,000 characters.
/// With a few hundred long metric names stepping at once, the record alone
/// passes the limit: the cut leaves an unclosed `<!--` (the whole issue
/// renders empty) and the record no longer decodes, so each later push
/// reports the "new" steps again. Safe: the record always survives the cut
/// (the next push with nothing new leaves the issue alone).
#[test]
fn adv2_the_issue_record_survives_the_body_limit() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let big = |level: f64| {
        let mut v = Checkout::results_value(1500.0, 1);
        for k in 0..300 {
            let name = format!("app.{}.m{k:03}_ms", "x".repeat(180));
            v["metrics"][name] = json!({"value": level, "unit": "ms", "samples": [level]});
        }
        v
    };
    for i in 0..17 {
        co.write("big.json", &big(if i < 13 { 100.0 } else { 200.0 }));
        let p = payload(&co, "push.branch.json", &format!("rec{i}"), |p| {
            p["after"] = json!(sha(i));
        });
        let out = gate(
            &fake,
            &co,
            "push",
            &p,
            &[
                "--results",
                &co.path("big.json").display().to_string(),
                "--history-branch",
                DATA,
                "--history-keep",
                "20",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "push {i}: {}", text(&out));
    }
    let ours: Vec<_> = fake
        .with(|s| s.issues.clone())
        .into_iter()
        .filter(|i| i.user == "github-actions[bot]")
        .collect();
    assert_eq!(ours.len(), 1, "one issue");
    let state_end = ours[0]
        .body
        .find("<!-- bench-gate:main-state ")
        .and_then(|s| ours[0].body[s..].find(" -->"));
    assert!(
        state_end.is_some(),
        "the record was cut: the body is one unclosed comment ({} bytes; updated {} time(s) since)",
        ours[0].body.len(),
        ours[0].updates
    );
    assert_eq!(ours[0].updates, 0, "the same steps were reported again");
}

/// MEDIUM (end to end): on a noisy machine `calibrate --write` stores the
/// uncapped proposal in the baseline, and `compare` then lets a 5x
/// slowdown pass. Safe: what `--write` stores never lets a doubling pass
/// (failure at most 100 %), or it refuses/keeps the default with a note.
#[cfg(target_os = "linux")]
#[test]
fn adv2_calibrate_write_never_stores_a_threshold_that_passes_a_5x_slowdown() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(
        dir.join("bench-gate.yml"),
        "scenarios:
  wild:
    command: \"n=$(od -An -N1 -tu1 /dev/urandom | tr -d ' '); if [ $((n % 2)) = 0 ]; then sleep 0.01; else sleep 0.6; fi\"
    shell: true
    iterations: 8
    warmup: 0
    metrics:
      app.wild.latency_p50_ms: wall_ms.p50
workloads:
  standard: [wild]
",
    )
    .unwrap();
    let bg = || {
        let mut c = assert_cmd::Command::cargo_bin("bench-gate").unwrap();
        c.current_dir(dir);
        c
    };
    bg().args([
        "calibrate",
        "--max-time",
        "1s",
        "-q",
        "--write",
        "v1.0.0.yaml",
    ])
    .assert()
    .success();
    let yaml = std::fs::read_to_string(dir.join("v1.0.0.yaml")).unwrap();
    let b = bench_gate::baseline::Baseline::parse("v1.0.0.yaml", &yaml).unwrap();
    let m = &b.metrics["app.wild.latency_p50_ms"];
    // Results 5x the baseline's value.
    let slow = m.value * 5.0;
    std::fs::write(
        dir.join("slow.json"),
        json!({
            "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
            "created_at": "2026-11-27T10:00:00Z", "workload": "standard",
            "environment": {}, "scenarios": [],
            "metrics": {"app.wild.latency_p50_ms": {"value": slow, "unit": "ms", "samples": [slow, slow, slow]}},
        })
        .to_string(),
    )
    .unwrap();
    let out = bg()
        .args([
            "compare",
            "--results",
            "slow.json",
            "--baseline",
            "v1.0.0.yaml",
            // Without it, `compare` reports and exits 0 (docs/commands.md).
            "--fail-on-regression",
        ])
        .output()
        .unwrap();
    assert!(
        m.failure.is_some_and(|f| f <= 100.0) && !out.status.success(),
        "stored failure {:?} %: compare of a 5x slowdown exits {:?}\n{yaml}",
        m.failure,
        out.status.code()
    );
}
