//! Main's history end to end: pushes to the default branch (GitHub's
//! example `push` payload, edited) through the real binary against the fake
//! GitHub: the results kept on a data branch, a step change opening ONE
//! issue that names its first commit and pull request, a second change and
//! a drift updating it, and someone else's issue with the marker ignored.

use serde_json::json;

use crate::gatekit::{gate, payload, text, Checkout};
use crate::support::{FakeGitHub, FakeIssue, Fault};

const MARKER: &str = "<!-- bench-gate:main-change -->";
const DATA: &str = "bench-gate-data";

fn sha(i: usize) -> String {
    format!("{i:04x}{}", "c0ffee".repeat(6))
}

/// Push `i` of commit `sha(i)` with this value of the gated metric.
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
            "24",
        ],
    )
}

/// ±10 around `level`, deterministic.
fn noisy(level: f64, i: usize) -> f64 {
    level + ((i * 37) % 21) as f64 - 10.0
}

fn ours(fake: &FakeGitHub) -> Vec<FakeIssue> {
    fake.with(|s| s.issues.clone())
        .into_iter()
        .filter(|i| i.user == "github-actions[bot]")
        .collect()
}

#[test]
fn a_step_on_main_opens_one_issue_naming_its_commit_and_later_changes_update_it() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    // Someone else's issue with the marker, and a record claiming every
    // step reported: never trusted, never touched.
    let forged = format!(
        "{MARKER}\n<!-- bench-gate:main-state eyJzdGVwcyI6W10sImRyaWZ0IjpbXX0= -->\nnothing to see"
    );
    fake.with(|s| {
        s.issues.push(FakeIssue {
            number: 5,
            title: "Performance change on main".into(),
            body: forged.clone(),
            user: "mallory".into(),
            updates: 0,
        });
        s.commit_pulls
            .insert(sha(13), vec![(7, "Parse headers lazily".into())]);
    });
    // 13 runs at 1300 (below the baseline's 1500: no drift), then 1500
    // from commit 13 on (+15 %, above the 10 % warning threshold).
    for i in 0..16 {
        let value = noisy(if i < 13 { 1300.0 } else { 1500.0 }, i);
        let out = push(&fake, &co, i, value);
        assert_eq!(out.status.code(), Some(0), "push {i}: {}", text(&out));
        if i < 15 {
            assert!(ours(&fake).is_empty(), "push {i}: no issue yet");
        } else {
            assert!(
                text(&out).contains("bench-gate: main's history: opened "),
                "{}",
                text(&out)
            );
        }
    }
    let issues = ours(&fake);
    assert_eq!(issues.len(), 1, "one issue");
    let first = issues[0].clone();
    assert_eq!(first.title, "Performance change on main");
    assert!(first.body.starts_with(MARKER), "{}", first.body);
    assert!(
        first
            .body
            .contains("| 🔺 `generation.single.latency_p50_ms` | `000dc0f` |"),
        "{}",
        first.body
    );
    // The first commit of the change is commit 13, and its pull request.
    let line = first
        .body
        .lines()
        .find(|l| l.contains("generation.single.latency_p50_ms` |"))
        .unwrap();
    assert!(line.contains("#7 (Parse headers lazily)"), "{line}");
    assert!(first.body.contains(&format!("▶ {:.4}", noisy(1500.0, 13))));
    assert!(first
        .body
        .contains("bench-gate capture --output baselines/v1.12.1.yaml --baseline-version 1.12.1"));
    assert!(first.body.contains("generation.single.latency_p50_ms"));
    let mallory = fake.with(|s| s.issues.iter().find(|i| i.number == 5).cloned().unwrap());
    assert_eq!((mallory.updates, mallory.body), (0, forged));

    // The data branch was created, and holds one line per push, and the
    // chart the issue shows.
    let files = fake.with(|s| s.data_files.clone());
    let paths: Vec<&(String, String)> = files.keys().collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    let (branch, path) = paths[0].clone();
    assert_eq!(branch, DATA);
    assert!(
        path.starts_with("bench-gate/history/standard/") && path.ends_with(".jsonl"),
        "{path}"
    );
    assert_eq!(files[paths[0]].0.lines().count(), 16);
    let svg = path.replace(".jsonl", ".svg");
    assert!(files[&(branch.clone(), svg.clone())].0.starts_with("<svg"));
    let chart_commit = files[&(branch, svg.clone())].1.clone();
    assert!(
        first.body.contains(&format!(
            "![main's series of the metrics above](https://github.com/Codertocat/Hello-World/raw/{chart_commit}/{svg})"
        )),
        "{}",
        first.body
    );

    // Nothing new: the issue stays as it is.
    let out = push(&fake, &co, 16, noisy(1500.0, 16));
    assert!(text(&out).contains("reported already"), "{}", text(&out));
    assert_eq!(ours(&fake)[0].updates, 0);

    // A second step, back down at commit 23: the same issue, updated.
    for i in 17..26 {
        let out = push(
            &fake,
            &co,
            i,
            noisy(if i < 23 { 1500.0 } else { 1300.0 }, i),
        );
        assert_eq!(out.status.code(), Some(0), "push {i}: {}", text(&out));
    }
    let issues = ours(&fake);
    assert_eq!(issues.len(), 1, "still one issue");
    assert_eq!(issues[0].number, first.number);
    assert_eq!(issues[0].updates, 1);
    assert!(
        issues[0].body.contains(
            "| 🟢 `generation.single.latency_p50_ms` | `0017c0f` | none (pushed directly) |"
        ),
        "{}",
        issues[0].body
    );
    // Bounded: the last 24 runs.
    let content = fake.with(|s| s.data_files.values().next().unwrap().0.clone());
    assert!(content.starts_with('{'), "the JSON Lines file sorts first");
    assert_eq!(content.lines().count(), 24);
    assert!(content.contains(&sha(25)) && !content.contains(&sha(1)));

    // Main drifts beyond the warning threshold from the baseline: updated,
    // with the drift's table.
    let out = push(&fake, &co, 26, 1800.0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("bench-gate: main's history: updated "),
        "{}",
        text(&out)
    );
    let issues = ours(&fake);
    assert_eq!((issues.len(), issues[0].updates), (1, 2));
    assert!(
        issues[0]
            .body
            .contains("### Drift from the committed baseline `1.12.0`"),
        "{}",
        issues[0].body
    );
    // Still drifting on the next push: not newly, left alone.
    let out = push(&fake, &co, 27, 1790.0);
    assert!(
        text(&out).contains("no metric newly beyond the warning threshold (1 beyond it)"),
        "{}",
        text(&out)
    );
    assert_eq!(ours(&fake)[0].updates, 2);
}

/// A push to another branch keeps nothing; a write that lost a race is
/// tried again; a token that cannot write is an error.
#[test]
fn only_pushes_to_the_default_branch_are_kept() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let p = payload(&co, "push.branch.json", "other", |v| {
        v["ref"] = json!("refs/heads/feature");
    });
    let out = gate(
        &fake,
        &co,
        "push",
        &p,
        &["--results", "clean.json", "--history-branch", DATA],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(fake.requests().is_empty(), "no API call");

    // Another run wrote the file meanwhile (HTTP 409): read again, written.
    fake.with(|s| {
        s.faults.push(Fault {
            method: "PUT",
            path: "/contents/",
            status: 409,
            retry_after: None,
            apply: false,
        })
    });
    let out = gate(
        &fake,
        &co,
        "push",
        "push.branch.json",
        &["--results", "clean.json", "--history-branch", DATA],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(fake.with(|s| s.faults.is_empty()), "the fault was hit");
    let lines = fake.with(|s| s.data_files.values().next().unwrap().0.lines().count());
    assert_eq!(lines, 1);

    // The default branch itself as the data branch: refused, nothing written.
    let before = fake.requests().len();
    let out = gate(
        &fake,
        &co,
        "push",
        "push.branch.json",
        &["--results", "clean.json", "--history-branch", "master"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("--history-branch master: that is the branch pushed to"),
        "{}",
        text(&out)
    );
    assert_eq!(fake.requests().len(), before);

    // A token that cannot write: an error that names the permissions.
    fake.with(|s| s.read_only = true);
    let out = gate(
        &fake,
        &co,
        "push",
        "push.branch.json",
        &["--results", "clean.json", "--history-branch", DATA],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("main's history (needs `contents: write` and `issues: write`)"),
        "{}",
        text(&out)
    );
}
