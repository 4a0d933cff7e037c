//! Issue 19 end to end: a merge queue's check (`merge_group`), with GitHub's
//! example payloads, through the binary against the fake GitHub.

use serde_json::json;

use crate::gatekit::*;
use crate::support::FakeGitHub;

/// The queue's head and the pull request head its branch names, in
/// GitHub's example `merge_group` payload.
const QUEUE_HEAD: &str = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d";
const QUEUED: &str = "929f8209d40f77f4abc622a499c93a83babdbe64";

fn comment_writes(fake: &FakeGitHub) -> usize {
    fake.requests()
        .iter()
        .filter(|(m, p, _)| m != "GET" && p.contains("/comments"))
        .count()
}

/// A maintainer's override on pull request #104 at the queued commit
/// carries over to the queue's commit: the check is set on the queue's
/// head, green as overridden, with no comment; a branch naming another
/// commit of #104, another base or no pull request carries nothing, and
/// the same regression fails the queue.
#[test]
fn a_merge_queue_check_carries_the_override_of_its_pull_request() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.head_sha = QUEUED.into();
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
        s.timeline
            .push(("labeled".into(), LABEL.into(), "maint".into()));
    });
    let labeled = payload(&co, "pull_request.labeled.json", "q-label", |v| {
        v["label"]["name"] = json!(LABEL);
        v["sender"]["login"] = json!("maint");
        v["number"] = json!(104);
        v["pull_request"]["number"] = json!(104);
        v["pull_request"]["head"]["sha"] = json!(QUEUED);
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &labeled,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(co.outputs()["result"], "overridden");
    let writes = comment_writes(&fake);

    let queue = event("merge_group.checks_requested.json")
        .display()
        .to_string();
    let out = gate(
        &fake,
        &co,
        "merge_group",
        &queue,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(run.head_sha, QUEUE_HEAD, "the check is on the queue's head");
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert!(run.title.starts_with("Overridden"), "{}", run.title);
    assert!(
        run.summary
            .contains("Merge queue: pull request #104 queued at `929f820`"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("by @maint"), "{}", run.summary);
    assert_eq!(co.outputs()["result"], "overridden");
    assert!(std::fs::read_to_string(co.path("summary.md"))
        .unwrap()
        .contains("bench-gate: Overridden"));
    assert_eq!(
        comment_writes(&fake),
        writes,
        "no comment for a merge queue"
    );

    let other = "c".repeat(40);
    for (tag, head_ref, why) in [
        (
            "q-other-sha",
            format!("refs/heads/gh-readonly-queue/main/pr-104-{other}"),
            "not at ccccccc which the merge queue's branch names",
        ),
        (
            "q-other-base",
            format!("refs/heads/gh-readonly-queue/release/pr-104-{QUEUED}"),
            "",
        ),
        ("q-no-pr", "refs/heads/main".to_string(), ""),
    ] {
        let p = payload(&co, "merge_group.checks_requested.json", tag, |v| {
            v["merge_group"]["head_ref"] = json!(head_ref);
        });
        let out = gate(
            &fake,
            &co,
            "merge_group",
            &p,
            &["--results", &regressed(&co)],
        );
        assert_eq!(out.status.code(), Some(2), "{tag}: {}", text(&out));
        let run = last_check(&fake);
        assert_eq!(run.head_sha, QUEUE_HEAD);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{tag}");
        assert!(!run.title.starts_with("Overridden"), "{tag}: {}", run.title);
        if why.is_empty() {
            assert!(
                run.summary.contains("names no pull request of this base"),
                "{tag}: {}",
                run.summary
            );
        } else {
            assert!(run.summary.contains(why), "{tag}: {}", run.summary);
        }
        assert_eq!(co.outputs()["result"], "fail", "{tag}");
    }
    assert_eq!(
        comment_writes(&fake),
        writes,
        "no comment for a merge queue"
    );
}

/// A queue whose pull request was not overridden gates as usual: the same
/// results pass when clean, with the check on the queue's head.
#[test]
fn a_clean_merge_queue_commit_passes() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.head_sha = QUEUED.into());
    let clean = co.path("clean.json").display().to_string();
    let queue = event("merge_group.checks_requested.json")
        .display()
        .to_string();
    let out = gate(&fake, &co, "merge_group", &queue, &["--results", &clean]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (QUEUE_HEAD, Some("success"))
    );
    assert_eq!(co.outputs()["result"], "pass");
    assert_eq!(comment_writes(&fake), 0);
}
