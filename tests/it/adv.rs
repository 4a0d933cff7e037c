//! Adversary, session 21: attacks on the features that landed today
//! (issues 16, 18, 19). As in `attacks.rs`, each test asserts the SAFE
//! outcome: a failing test is an attack that works.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::gatekit::*;
use crate::support::FakeGitHub;

const METRIC: &str = "generation.single.latency_p50_ms";

/// What a required status check accepts as passing.
fn passes_required_check(c: Option<&str>) -> bool {
    matches!(c, Some("success" | "neutral" | "skipped"))
}

// ---------------------------------------------------------------------------
// adv01: a `skipped:` block hides a failing wall-clock metric
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, two-workflow setup; also `gate --results`):
/// the artifact drops the regressed metric from `metrics` and lists it
/// under `skipped:` ("valgrind not installed"). `skipped` is meant for
/// counted measures (instructions/allocations) without Valgrind, but any
/// metric name is accepted: the baseline's wall-clock latency becomes
/// `skipped` instead of `missing` (a failure by default), and the check
/// passes. The same with `warning: true` ("not deterministic") gives
/// "Passed with warnings", also green. docs/security.md promises that "a
/// renamed or dropped metric" never decides.
///
/// Safe outcome: the check on the head does not pass.
/// Fault: src/model/results.rs validation accepts `skipped` keys for any
/// metric; src/compare/rules/presence.rs turns any skipped baseline metric
/// into `Skipped`/`Warning`, never `Missing`.
#[test]
fn adv01_a_skipped_block_hides_a_failing_wall_clock_metric() {
    for (tag, skip) in [
        ("skip", json!({"reason": "valgrind is not installed here"})),
        (
            "nondet",
            json!({"reason": "not deterministic: two runs counted 1 and 2", "warning": true}),
        ),
    ] {
        let fake = FakeGitHub::start();
        let co = Checkout::new();
        fork_pr(&fake, WR_A);
        fake.with(|s| s.files = vec!["src/lib.rs".into()]);
        let mut r = Checkout::results_value(7500.0, 20); // 5x slower
        r["metrics"].as_object_mut().unwrap().remove(METRIC);
        r["skipped"] = json!({ METRIC: skip });
        r["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": 2, "head_sha": WR_A});
        let a = co.write(&format!("{tag}.json"), &r);
        let wr = run_payload(&co, tag, WR_A, "author");
        let out = gate(&fake, &co, "workflow_run", &wr, &["--results", &a]);
        let shown = shown_conclusion(&fake, WR_A);
        assert!(
            !passes_required_check(shown.as_deref()),
            "{tag}: {WR_A} shows bench-gate {shown:?}, title {:?} (exit {:?}): {}",
            last_check(&fake).title,
            out.status.code(),
            text(&out)
        );
    }
}

// ---------------------------------------------------------------------------
// adv02: serve --record writes a credential from the query string to disk
// ---------------------------------------------------------------------------

/// ATTACK (careless user, no attacker needed): providers that take the key
/// in the query string (Gemini's `?key=`, Azure's `?api-key=` style
/// proxies, `?token=`) recorded through `serve --record`: the request's
/// path and query are stored verbatim in the answer file (the store is
/// meant to be committed as a fixture) and written to the `--log`.
/// The Authorization header is kept out of both; the query is not.
///
/// Safe outcome: no file in the store or log holds the key.
/// Fault: src/serve.rs `record_or_replay` (`Stored.request.path` and the
/// hash take `path_and_query` as is).
#[test]
fn adv02_serve_record_stores_a_query_string_api_key() {
    let _serial = crate::support::serial();
    const BIN: &str = env!("CARGO_BIN_EXE_bench-gate");
    let start = |extra: &[&str]| {
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--max-seconds", "60"])
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
            .unwrap()
            .to_string();
        (child, url)
    };
    let d = tempfile::tempdir().unwrap();
    let store = d.path().join("answers");
    let log = d.path().join("record.jsonl");
    let (mut upstream, up_url) = start(&[]);
    let (mut recorder, url) = start(&[
        "--record",
        store.to_str().unwrap(),
        "--upstream",
        &up_url,
        "--log",
        log.to_str().unwrap(),
    ]);
    let dry = Command::new(BIN)
        .args(["generate", "--dry-run", "--count", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8(dry.stdout).unwrap();
    let prompt = text.rsplit_once("\n--- dry run").unwrap().0.to_string();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": prompt}]});
    let r = reqwest::blocking::Client::new()
        .post(format!(
            "{url}/v1/chat/completions?key=AIzaSyDO-NOT-STORE-0123456789"
        ))
        .json(&body)
        .send()
        .unwrap();
    let status = r.status();
    let _ = r.text();
    let _ = recorder.kill();
    let _ = recorder.wait();
    let _ = upstream.kill();
    let _ = upstream.wait();
    assert!(status.is_success(), "{status}");
    let mut leaked = Vec::new();
    for e in std::fs::read_dir(&store).unwrap() {
        let p = e.unwrap().path();
        if std::fs::read_to_string(&p)
            .unwrap()
            .contains("DO-NOT-STORE")
        {
            leaked.push(p.display().to_string());
        }
    }
    if std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("DO-NOT-STORE")
    {
        leaked.push(log.display().to_string());
    }
    assert!(leaked.is_empty(), "the API key is on disk in {leaked:?}");
}

// ---------------------------------------------------------------------------
// adv03: relevant_paths under `working-directory:` fail open
// ---------------------------------------------------------------------------

/// ATTACK (careless user; then any pull request): with the action's
/// `working-directory: sub`, the setup paths are made repository-relative
/// (`sub/bench-gate.yml`, `sub/baselines`), but `relevant_paths` are taken
/// as written. A monorepo's `sub/bench-gate.yml` saying `["src/**"]` (the
/// README's own example) matches no file of the repository, so EVERY pull
/// request, including one changing `sub/src/lib.rs` 5x slower, is "Not
/// benchmarked: no benchmarked path changed", green, silently.
///
/// Safe outcome: a pull request changing `sub/src/lib.rs` is benchmarked
/// (globs resolved like the other paths, or a glob that matches no file of
/// the checkout refused/warned so it cannot fail open).
/// Fault: src/app.rs `relevant_paths` (no working-directory prefix, no
/// check that a glob matches anything).
#[test]
fn adv03_relevant_paths_in_a_sub_folder_make_every_pull_request_irrelevant() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let sub = co.path("sub");
    std::fs::create_dir_all(sub.join("src")).unwrap();
    std::fs::create_dir_all(sub.join("baselines")).unwrap();
    std::fs::write(sub.join("src/lib.rs"), "// hot path\n").unwrap();
    std::fs::write(sub.join("baselines/v1.12.0.yaml"), DESIGN).unwrap();
    std::fs::write(
        sub.join("bench-gate.yml"),
        "relevant_paths: [\"src/**\"]\nscenarios:\n  single:\n    command: [\"false\"]\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    fake.with(|s| s.files = vec!["sub/src/lib.rs".into()]);
    let out = Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(&sub)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_WORKSPACE", co.dir.path())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event("pull_request.opened.json"))
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_STEP_SUMMARY", co.path("summary.md"))
        .env("GITHUB_OUTPUT", co.path("output.txt"))
        .env("BENCH_GATE_RETRY_BASE_MS", "20")
        .args(["gate", "--results", &regressed(&co)])
        .output()
        .unwrap();
    let shown = shown_conclusion(&fake, HEAD);
    assert!(
        !passes_required_check(shown.as_deref()),
        "sub/src/lib.rs changed, yet {HEAD} shows bench-gate {shown:?}, title {:?}: {}",
        last_check(&fake).title,
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// adv04: `expect.files` counts what earlier runs left: a run that did
// nothing passes its check
// ---------------------------------------------------------------------------

/// ATTACK (careless user; or a change that breaks the tool after its first
/// run): `expect.files` with a glob into a fixed output folder (what a CLI
/// with `--output out` writes, e.g. Persona's) counts the files any earlier
/// run left there, the warm-up's included, or files left in the checkout
/// before the benchmark. Here the command writes its 3 files only on the
/// first (warm-up) run and does nothing on every measured iteration; each
/// check finds the 3 stale files and passes, so the benchmark times runs
/// that did not do their job: the promise of issue 16 item 2 ("a benchmark
/// never times a run that did not do its job").
///
/// Safe outcome: exit 3 naming the iteration (files older than the
/// iteration do not count, or a glob without `{iteration}`/`{run_dir}`
/// is refused or emptied before each run).
/// Fault: src/measure/check.rs `run_checks` (counts whatever matches).
#[test]
fn adv04_expect_files_counts_files_left_by_earlier_runs() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("bench-gate.yml");
    std::fs::write(
        &cfg,
        "scenarios:\n  gen:\n    command: \"if [ ! -e done ]; then mkdir -p out && touch out/1.json out/2.json out/3.json done; fi\"\n    shell: true\n    iterations: 3\n    warmup: 1\n    expect:\n      files: {glob: \"out/*.json\", count: 3}\n",
    )
    .unwrap();
    let out = d.path().join("r.json");
    let o = Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(d.path())
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "3 measured iterations wrote nothing, yet the run was timed: {}",
        text(&o)
    );
}

// ---------------------------------------------------------------------------
// adv05: with `gate-on: both`, a metric missing from the results is
// "accepted"
// ---------------------------------------------------------------------------

/// `comment` by `user`, seeded in the fake, and its `issue_comment` payload
/// on pull request 2.
fn comment_event(fake: &FakeGitHub, co: &Checkout, tag: &str, user: &str, body: &str) -> String {
    let id = fake.with(|s| s.seed_comment(body, user));
    let created = fake.comments().last().unwrap().created_at.clone();
    payload(co, "issue_comment.created.json", tag, |v| {
        v["issue"]["number"] = json!(2);
        v["issue"]["pull_request"] =
            json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"});
        v["comment"]["id"] = json!(id);
        v["comment"]["body"] = json!(body);
        v["comment"]["user"]["login"] = json!(user);
        v["comment"]["created_at"] = json!(created);
        v["comment"]["updated_at"] = json!(created);
    })
}

/// ATTACK (pull-request author, with a maintainer accepting what the
/// gate lists as failing): the gate promises that only a measured
/// failure can be accepted, never a metric missing from the results
/// (src/compare/gate.rs). With `gate-on: both`, a baseline metric the
/// results dropped (`startup.cli_cold_ms`, renamed away by the pull
/// request) is missing in the committed-baseline view only; the deciding
/// view is the side-by-side one, where nothing is missing. The gate's
/// list of "failing" metrics includes the missing one (its effective
/// status is failure), so `/bench-gate accept startup.cli_cold_ms` is
/// recorded, and with the real regression accepted too the check is
/// "Accepted", green, with a metric that was never measured. Without A/B
/// the same two acceptances leave the check failing ("missing").
///
/// Safe outcome: the check stays failing while a baseline metric is
/// missing from the results.
/// Fault: src/github/outcome.rs `failing_metrics` (effective status, so
/// missing metrics count as acceptable) with src/github/outcome.rs
/// `gate_inputs` (`missing` from the deciding view only).
#[test]
fn adv05_a_missing_metric_is_accepted_under_gate_on_both() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.permissions.push(("maint".into(), "maintain".into())));
    let mut head = Checkout::results_value(1890.0, 20);
    head["metrics"]
        .as_object_mut()
        .unwrap()
        .remove("startup.cli_cold_ms");
    let mut base = Checkout::results_value(1500.0, 20);
    base["metrics"]
        .as_object_mut()
        .unwrap()
        .remove("startup.cli_cold_ms");
    head["ab"] = json!({"requested": "main", "base_commit": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "head_commit": HEAD, "order": "ABBA", "base": base, "skipped": []});
    let r = co.write("ab.json", &head);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &r, "--gate-on", "both"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let summary = last_check(&fake).summary;
    for metric in ["startup.cli_cold_ms", METRIC] {
        let ev = comment_event(
            &fake,
            &co,
            &format!("acc-{metric}"),
            "maint",
            &format!("/bench-gate accept {metric} intended"),
        );
        let out = gate(&fake, &co, "issue_comment", &ev, &["--gate-on", "both"]);
        eprintln!("{metric}: exit {:?}: {}", out.status.code(), text(&out));
    }
    let run = last_check(&fake);
    assert!(
        !passes_required_check(run.conclusion.as_deref()),
        "startup.cli_cold_ms was never measured, yet {HEAD} shows {:?} {:?}\nfirst summary: {summary}\nnow: {}",
        run.conclusion,
        run.title,
        run.summary
    );
}

// ---------------------------------------------------------------------------
// adv06: A/B (the default on pull requests): a base that measured nothing
// is a pass
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author; or no attacker at all: a flaky base):
/// with A/B on (the default for `pull_request`) and `gate-on: ab` (the
/// default), a scenario that fails on the base tree is recorded in
/// `ab.skipped` and its metrics are `new` in the side-by-side view: not
/// gated. When every scenario fails on the base (the head's build scripts
/// run as the same user right after the base's build, and can break the
/// base worktree or the cached base build; or the base is simply flaky),
/// nothing is compared and the check says "✅ Passed: 0 metrics are
/// within thresholds", green, while the committed baseline shows the head
/// 5x slower "for information". Issue 13 item 2 closed exactly this
/// ("Nothing compared is a pass") for the baseline view.
///
/// Safe outcome: the check does not pass (no metric compared side by side
/// is an error, or the base-less metrics fall back to the committed
/// baseline, or count as missing).
/// Fault: src/compare/mod.rs (the side-by-side view: metrics of a scenario
/// in `ab.skipped` are `New`; no "nothing in common" check on that view).
#[test]
fn adv06_a_base_that_measured_nothing_passes_side_by_side() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let scenario = |name: &str| {
        let parts: Vec<&str> = name.split('.').collect();
        if parts[0] == "generation" {
            parts[1].to_string()
        } else {
            parts[0].to_string()
        }
    };
    let mut head = Checkout::results_value(7500.0, 20); // 5x slower
    let mut scenarios = std::collections::BTreeSet::new();
    for (name, m) in head["metrics"].as_object_mut().unwrap() {
        m["scenario"] = json!(scenario(name));
        scenarios.insert(scenario(name));
    }
    let mut base = Checkout::results_value(1500.0, 20);
    base["metrics"] = json!({});
    let skipped: Vec<_> = scenarios
        .iter()
        .map(|s| json!({"scenario": s, "reason": "exited with status 1 on the base tree"}))
        .collect();
    head["ab"] = json!({"requested": "main", "base_commit": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "head_commit": HEAD, "order": "ABBA", "base": base, "skipped": skipped});
    let r = co.write("ab-nothing.json", &head);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &r],
    );
    let run = last_check(&fake);
    assert!(
        !passes_required_check(run.conclusion.as_deref()),
        "nothing was measured on the base, yet {HEAD} shows {:?} {:?} (exit {:?}): {}",
        run.conclusion,
        run.title,
        out.status.code(),
        text(&out)
    );
}

/// adv06, for real: no results file, a real A/B run (what the gate runs on
/// a pull request by default). Two scenarios; the head's `hot` program (a
/// pull request's code, run as the same user as the base tree) is 5x
/// slower and, when it first runs, replaces the base worktree's `hot`
/// (found with `git worktree list`) with one that fails. The base's `hot`
/// runs fail, `hot` is "measured on the head alone", its metrics are `new`
/// side by side, `job` compares equal, and `compare --fail-on-regression`
/// passes, exit 0, although the committed baseline shows `hot` 5x slower.
/// (With a single scenario the "nothing can be compared" refusal catches
/// it; with a second, unchanged scenario it does not.)
#[test]
fn adv06b_a_head_that_breaks_one_base_scenario_passes_side_by_side() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    let write = |p: &str, t: &str| std::fs::write(dir.join(p), t).unwrap();
    git(&["init", "-q"]);
    std::fs::create_dir_all(dir.join("baselines")).unwrap();
    write(".gitignore", "prog\nhot\n");
    write(
        "bench-gate.yml",
        "scenarios:\n  job:\n    command: ./prog\n    iterations: 8\n    warmup: 1\n  hot:\n    command: ./hot\n    iterations: 8\n    warmup: 1\nab:\n  setup: cp prog.in prog && cp hot.in hot && chmod +x prog hot\n",
    );
    write(
        "baselines/v1.0.0.yaml",
        "version: '1.0.0'\nmetrics:\n  job:\n    latency_p50_ms: 25\n    latency_p95_ms: 40\n  hot:\n    latency_p50_ms: 25\n    latency_p95_ms: 40\n",
    );
    write("prog.in", "#!/bin/sh\nsleep 0.02\n");
    write("hot.in", "#!/bin/sh\nsleep 0.02\n");
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    write(
        "hot.in",
        "#!/bin/sh\nhere=$(pwd -P)\ngit worktree list --porcelain | sed -n 's/^worktree //p' | while read -r w; do\n  [ \"$(cd \"$w\" && pwd -P)\" = \"$here\" ] || printf '#!/bin/sh\\nexit 1\\n' > \"$w/hot\"\ndone\nsleep 0.1\n",
    );
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "head: hot 5x slower"]);
    let out = Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(dir)
        .args(["compare", "--ab", "HEAD~1", "--fail-on-regression"])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "hot is 5x slower and the base never measured it, yet: {}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// adv07: relevance judged from another commit's file list
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, one-job setup with `relevant_paths`): the
/// author pushes A (a +26 % failure in `src/`), then at once B, which
/// reverts `src/` and touches only docs. A's run starts after B landed:
/// it lists the pull request's files as they are NOW (B's: docs only)
/// and completes A's check as "Not benchmarked: no benchmarked path
/// changed", `success`, though A changes `src/`. The author force-pushes
/// A back: until A's new run has created its check (the job's queue
/// time), the check GitHub shows for the head A is that `success`, which
/// passes a required check (auto-merge merges in that window). This is
/// b02 in attacks2.rs (a stand-down's `skipped` on a commit that comes
/// back), through relevance. A run for a commit the pull request has left
/// knows it (`stale`), but relevance is decided before that is looked at.
///
/// Safe outcome: a stale run leaves nothing that passes on its commit
/// (it benchmarks, or stands down as `cancelled`).
/// Fault: src/github/gate.rs `with_check_open` (relevance checked with
/// the current file list, whatever `PullRequest::stale` says).
#[test]
fn adv07_a_stale_run_calls_its_commit_irrelevant_from_the_newer_file_list() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("bench-gate.yml"),
        "relevant_paths: [\"src/**\"]\nscenarios:\n  single:\n    command: [\"false\"]\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    // B (docs only) has landed; A's run (the payload's head, HEAD) starts.
    fake.with(|s| {
        s.head_sha = B_SHA.into();
        s.files = vec!["docs/guide.md".into()];
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--results", &regressed(&co)],
    );
    // Force-pushed back to A.
    fake.with(|s| s.head_sha = HEAD.into());
    let shown = shown_conclusion(&fake, HEAD);
    assert!(
        !passes_required_check(shown.as_deref()),
        "A ({HEAD}, +26 % in src/) shows bench-gate {shown:?} {:?}: {}",
        last_check(&fake).title,
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// adv08: a maintainer's `/bench-gate accept` carried to a later commit by
// re-running its workflow run
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author with write access, as for a branch in the
/// same repository; a writer's own `/bench-gate accept` is ignored): the
/// maintainer accepts `generation.single.latency_p50_ms` (+26 %) on A.
/// The author pushes B, where the same metric is 5x slower: B fails, the
/// acceptance was for A. The author then re-runs the maintainer's
/// `issue_comment` workflow run ("Re-run jobs", which write access
/// allows): the same payload, the same comment, unedited, by the
/// maintainer. The gate reads the pull request's head NOW (B), finds its
/// own results for B, and records the maintainer's acceptance for B: B is
/// "Accepted", green, 5x slower, and nobody with the permission ever saw
/// B's numbers. This is the issue 13 attack "a label for commit A carried
/// to B through a maintainer's re-run", through a command; for the label
/// the gate records the head from the event's own payload.
///
/// Safe outcome: B still fails (a command covers at most the head it was
/// posted on: e.g. a comment older than the gate's first decision for the
/// head, or a re-run of a command event (`GITHUB_RUN_ATTEMPT` > 1), or a
/// comment already recorded, accepts nothing).
/// Fault: src/github/route.rs `issue_comment` (`info.head_sha`, the head
/// now, whatever the comment's time).
#[test]
fn adv08_a_rerun_of_the_maintainers_command_accepts_a_later_commit() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("author".into(), "write".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let ev = comment_event(
        &fake,
        &co,
        "adv08",
        "maint",
        &format!("/bench-gate accept {METRIC} the new sampler, +26 % is fine"),
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(shown_conclusion(&fake, HEAD).as_deref(), Some("success"));

    // B: 5x slower; its run fails (the acceptance was for A).
    let five_x = co.results("five-x.json", 7500.0, 50);
    let push = payload(&co, "pull_request.synchronize.json", "adv08-push", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
    });
    fake.with(|s| s.head_sha = B_SHA.into());
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &push,
        &["--results", five_x.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(shown_conclusion(&fake, B_SHA).as_deref(), Some("failure"));

    // The author re-runs the maintainer's command run: same payload.
    let out = Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", "issue_comment")
        .env("GITHUB_EVENT_PATH", &ev)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_STEP_SUMMARY", co.path("summary.md"))
        .env("GITHUB_OUTPUT", co.path("output.txt"))
        .env("GITHUB_RUN_ID", "77")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env("GITHUB_TRIGGERING_ACTOR", "author")
        .env("BENCH_GATE_RETRY_BASE_MS", "20")
        .arg("gate")
        .output()
        .unwrap();
    let run = last_check(&fake);
    assert!(
        !(run.head_sha == B_SHA && passes_required_check(run.conclusion.as_deref())),
        "B ({B_SHA}, 5x slower) shows {:?} {:?} after the author re-ran the maintainer's command for A: {}",
        run.conclusion,
        run.title,
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// adv09: `label-events: benchmark` is not honoured by `/bench-gate` commands
// ---------------------------------------------------------------------------

/// ATTACK (collaborator with write access, under the README's recommended
/// defence, as a02 in attacks.rs): docs/security.md's answer to "a
/// workflow of their own can comment as `github-actions[bot]`" is
/// `label-events: benchmark`: results are then never read back from a
/// comment. But a `/bench-gate accept|revoke` always re-decides from the
/// results in the gate's newest own comment. Mallory's branch workflow
/// posts, as `github-actions[bot]`, the gate's marker and a results block
/// for the head with the regressed metric back at 1500 ms (the rest as
/// measured). The maintainer then accepts a metric (here: on the genuine
/// failure table; any accept or revoke will do): the gate re-decides from
/// the forged block, and the head's check turns green.
///
/// Safe outcome: with `label-events: benchmark` a command never decides
/// from a comment's results (it benchmarks, or refuses: "commands need
/// label-events: reuse").
/// Fault: src/github/route.rs `command_request` (`reuse_results` whatever
/// `opts.label_events`).
#[test]
fn adv09_a_command_reads_a_forged_results_comment_under_label_events_benchmark() {
    use base64::Engine as _;
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("mallory".into(), "write".into()));
    });
    let args = ["--label-events", "benchmark"];
    let mut first: Vec<&str> = args.to_vec();
    let r = regressed(&co);
    first.extend(["--results", &r]);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &first,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Mallory's own workflow posts as the gate's identity.
    let clean = Checkout::results_value(1500.0, 50);
    let e = json!({"version": 1, "check": "bench-gate", "head_sha": HEAD, "results": clean});
    let block = format!(
        "<!-- bench-gate:results {} -->",
        base64::engine::general_purpose::STANDARD.encode(e.to_string())
    );
    fake.with(|s| {
        s.seed_comment(
            &format!("{MARKER}\n### ✅ bench-gate: Passed\n{block}"),
            "github-actions[bot]",
        )
    });
    let ev = comment_event(
        &fake,
        &co,
        "adv09",
        "maint",
        &format!("/bench-gate revoke {METRIC}"),
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &args);
    let run = last_check(&fake);
    assert!(
        !(run.head_sha == HEAD && passes_required_check(run.conclusion.as_deref())),
        "{HEAD} (+26 %) shows {:?} {:?} from a forged comment: {}",
        run.conclusion,
        run.title,
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// adv10: a maintainer's old acceptance re-bound to a new head by a forged
// record
// ---------------------------------------------------------------------------

/// ATTACK (collaborator with write access, under the README's recommended
/// defence, `label-events: benchmark`; a02 in attacks.rs for acceptances):
/// a record is only as good as what it can be checked against. For the
/// label, a02's fix checks the timeline (the recorded maintainer applied
/// it last). For an acceptance, the gate checks that the comment it names
/// is there, unedited, by the recorded maintainer, says `accept` for the
/// metric, and was not revoked, but nothing binds that comment to the head
/// the record names. The maintainer accepted the metric (+26 %) on A; the
/// author pushes B, 5x slower, which fails. Mallory's branch workflow
/// posts, as `github-actions[bot]`, the marker and a record naming the
/// maintainer's real comment with `head_sha` B; she closes and reopens the
/// pull request: B is benchmarked again, 5x slower, and "Accepted", green.
///
/// Safe outcome: B fails (an acceptance counts only for a head the gate
/// itself recorded the command on, e.g. the comment newer than the gate's
/// first decision for that head, or the record bound to something such a
/// workflow cannot write).
/// Fault: src/github/outcome.rs `resolve_acceptances` (no check of the
/// comment against the head).
#[test]
fn adv10_an_old_acceptance_rebound_to_a_new_head_by_a_forged_record() {
    use bench_gate::github::state;
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("mallory".into(), "write".into()));
    });
    let lb = ["--label-events", "benchmark"];
    let r = regressed(&co);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--label-events", "benchmark", "--results", &r],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let ev = comment_event(
        &fake,
        &co,
        "adv10",
        "maint",
        &format!("/bench-gate accept {METRIC}"),
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &lb);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let accepted = state::decode(
        &fake
            .comments()
            .into_iter()
            .find(|c| c.user == "github-actions[bot]" && c.body.contains(MARKER))
            .unwrap()
            .body,
    )
    .unwrap()
    .unwrap()
    .acceptances[0]
        .clone();

    // B: 5x slower, fails.
    let five_x = co.results("five-x.json", 7500.0, 50);
    let five_x = five_x.to_str().unwrap();
    let push = payload(&co, "pull_request.synchronize.json", "adv10-push", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
    });
    fake.with(|s| s.head_sha = B_SHA.into());
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &push,
        &["--label-events", "benchmark", "--results", five_x],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // Mallory's workflow, as the gate's identity: the same acceptance, for B.
    let mut record = state::GateState::new("bench-gate");
    let mut a = accepted;
    a.head_sha = B_SHA.into();
    record.acceptances = vec![a];
    record.head = Some(B_SHA.into());
    fake.with(|s| {
        s.seed_comment(
            &format!(
                "{MARKER}\n{}\n### ❌ bench-gate: Failed",
                state::encode(&record)
            ),
            "github-actions[bot]",
        )
    });
    let reopened = payload(&co, "pull_request.reopened.json", "adv10-reopen", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
        v["sender"]["login"] = json!("mallory");
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &reopened,
        &["--label-events", "benchmark", "--results", five_x],
    );
    let run = last_check(&fake);
    assert!(
        !(run.head_sha == B_SHA && passes_required_check(run.conclusion.as_deref())),
        "B ({B_SHA}, 5x slower) shows {:?} {:?}: {}",
        run.conclusion,
        run.title,
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// adv11: re-running a failing measurement until the noise says "pass"
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author with write access: "Re-run jobs"): a
/// borderline regression fails on attempt 1 of the head's run; the author
/// re-runs the job until one attempt lands under the threshold. The gate
/// records the attempts and says "The verdict changed between attempts of
/// the same commit", but the newest attempt alone decides: the check is
/// green. Re-rolling measurement noise is a way to a pass that the
/// commit's code did not earn; a maintainer who relies on the check would
/// expect an earlier failing attempt of the same commit to stand until
/// someone with the permission overrides it (or a verdict that changed
/// between attempts to be at best inconclusive, not `success`).
///
/// Safe outcome: with a failing attempt on record for the same head, a
/// later passing attempt does not turn the check green by itself.
/// Fault: src/github/outcome.rs `record_attempt` (a note only).
#[test]
fn adv11_a_rerun_until_the_noise_passes_turns_the_check_green() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let attempt = |n: &str, results: &str| {
        Command::new(env!("CARGO_BIN_EXE_bench-gate"))
            .current_dir(co.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", event("pull_request.opened.json"))
            .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
            .env("GITHUB_API_URL", &fake.uri)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_STEP_SUMMARY", co.path("summary.md"))
            .env("GITHUB_OUTPUT", co.path("output.txt"))
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_RUN_ATTEMPT", n)
            .env("BENCH_GATE_RETRY_BASE_MS", "20")
            .args(["gate", "--results", results])
            .output()
            .unwrap()
    };
    let out = attempt("1", &regressed(&co)); // +26 %: fails
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let lucky = co.results("lucky.json", 1870.0, 50); // +24.7 %: passes with a warning
    let out = attempt("2", lucky.to_str().unwrap());
    let run = last_check(&fake);
    assert!(
        !passes_required_check(run.conclusion.as_deref()),
        "attempt 1 failed, attempt 2 of the same commit shows {:?} {:?}: {}",
        run.conclusion,
        run.title,
        text(&out)
    );
}
