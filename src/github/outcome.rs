//! Stage two of the gate: deciding the outcome. What the override label
//! means for this commit, whether the benchmark's setup changed, the
//! policy's decision (`compare::gate`), and everything that will be said:
//! the report, the comment body, the check run's text and annotations, all
//! as plain values in an [`Outcome`]. Nothing here writes a file or an
//! output; the override's resolution reads from GitHub and takes a stale
//! label off, so that the label on a pull request always means what it shows.

use serde_json::{json, Value};

use super::actions::{self, Level};
use super::api::{CheckOutput, GitHubApi};
use super::command::{self, Command};
use super::comment::{self, CommentInput, Embedded, Trim};
use super::gate::{is_protected, GateOptions, OverrideScope};
use super::route::{command_covers, label_applier, PullRequest, Queued};
use super::state::{self, Acceptance, GateState, Grant};
use crate::baseline::{self, discover};
use crate::compare::gate::{self as policy, GateDecision, GateInputs, Override, Role, SetupCheck};
use crate::compare::{self, Comparison, Status};
use crate::model::Results;
use crate::report::{self, escape};
use anyhow::Result;

fn now() -> String {
    crate::model::now_rfc3339()
}

/// The comparison, or `None` when `--baseline latest` finds no baseline yet.
pub fn compare_with_baseline(
    results: &Results,
    opts: &GateOptions,
) -> Result<Option<(Comparison, String)>> {
    // A/B mode compares with the base commit even before a baseline exists.
    let chosen = match discover::choose(
        &opts.baseline,
        &opts.baselines_dir,
        results.ab.is_some(),
        discover::UnknownKeys::Warn,
    )? {
        discover::Chosen::NoneYet(_) => return Ok(None),
        chosen => chosen,
    };
    let text = chosen
        .path()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .unwrap_or_default();
    let (b, shown): (baseline::Baseline, String) = chosen.baseline()?;
    Ok(Some((
        compare::compare_checked(&b, &shown, results, opts.flags)?,
        text,
    )))
}

// ---- the override label ----

/// What the override label means for `head`, by the configured scope.
/// With the default scope (one commit) it may update the record in
/// `pr.state`, and take a label given for another commit off the pull
/// request; a run for a commit the pull request has left changes nothing
/// about the label. The record notes `head` as the last one decided.
pub fn resolve_override(
    api: Option<&dyn GitHubApi>,
    pr: &mut PullRequest,
    head: &str,
    opts: &GateOptions,
) -> Override {
    let o = if pr.stale {
        Override::Unverified {
            reason: format!(
                "this run is for {}, no longer the pull request's head",
                &head[..head.len().min(7)]
            ),
        }
    } else {
        match opts.override_scope {
            OverrideScope::Commit => commit_override(api, pr, head, opts),
            OverrideScope::PullRequest => pull_request_override(api, pr, opts),
        }
    };
    pr.state.head = Some(head.to_string());
    o
}

/// The role of `by`, when it is enough to override; otherwise the
/// `Override` that says why not.
fn role_for_override(
    api: &dyn GitHubApi,
    by: &str,
    opts: &GateOptions,
) -> Result<String, Override> {
    match api.permission(by) {
        Ok(role_name) => match Role::parse(&role_name) {
            Some(role) if role >= opts.override_permission => Ok(role_name),
            _ => Err(Override::Insufficient {
                by: by.to_string(),
                role: role_name,
                required: opts.override_permission,
            }),
        },
        Err(e) => Err(Override::Unverified {
            reason: format!("the permission of @{by} could not be read: {e}"),
        }),
    }
}

/// What the label means for `head` when it covers one commit (the default):
/// it counts when the gate's own record says it was applied, by someone
/// with the permission, to this very head commit, and the timeline agrees
/// that the label's latest application was theirs (a record is only as
/// good as the comment it sits in). Applied now (`labeled` event), it is
/// recorded for the event payload's head commit. Given for another commit,
/// it is taken off the pull request (so the label always means what it
/// shows) and counts for nothing.
fn commit_override(
    api: Option<&dyn GitHubApi>,
    pr: &mut PullRequest,
    head: &str,
    opts: &GateOptions,
) -> Override {
    let label = &opts.override_label;
    let state = &mut pr.state;
    if !pr.labels.iter().any(|l| l == label) {
        state.grant = None;
        return Override::Absent;
    }
    let Some(api) = api else {
        return Override::Unverified {
            reason: "no token to look up who applied it".into(),
        };
    };
    if let Some(by) = &pr.applied_now_by {
        return match role_for_override(api, by, opts) {
            Ok(role) => {
                state.grant = Some(Grant {
                    label: label.clone(),
                    by: by.to_string(),
                    role: role.clone(),
                    head_sha: head.to_string(),
                    at: now(),
                });
                Override::Granted {
                    by: by.to_string(),
                    role,
                }
            }
            Err(o) => o,
        };
    }
    match state.grant.clone() {
        Some(g) if g.label == *label && g.head_sha == head => {
            let (o, disowned) = verify_grant(api, pr.number, g, opts);
            if disowned {
                state.grant = None;
            }
            o
        }
        Some(g) if g.label == *label => {
            let number = pr.number;
            let removed = match api.remove_label(number, label) {
                Ok(()) => {
                    println!(
                        "bench-gate: the override was given for {} by @{}; removed the label `{label}` from #{number}, now at {head}.",
                        g.head_sha, g.by
                    );
                    true
                }
                Err(e) => {
                    eprintln!("warning: could not remove the stale label `{label}`: {e}");
                    false
                }
            };
            state.grant = None;
            Override::Stale {
                by: g.by,
                given_for: g.head_sha,
                removed,
            }
        }
        _ => Override::Unverified {
            reason: format!(
                "the gate has no record of it being applied to commit {}; remove it and apply it again to override this commit",
                &head[..head.len().min(7)]
            ),
        },
    }
}

/// A recorded grant for this very head, checked: the timeline agrees that
/// its maintainer applied the label last, and they still have the
/// permission. `true` with it when the timeline disowns the record.
fn verify_grant(
    api: &dyn GitHubApi,
    number: u64,
    g: Grant,
    opts: &GateOptions,
) -> (Override, bool) {
    match label_applier(api, number, &opts.override_label) {
        Ok(Some(by)) if by.eq_ignore_ascii_case(&g.by) => {}
        Ok(by) => {
            return (
                Override::Unverified {
                    reason: format!(
                        "the record names @{}, but the label was last applied by {}",
                        g.by,
                        by.map_or("no one".into(), |b| format!("@{b}"))
                    ),
                },
                true,
            );
        }
        Err(e) => {
            return (
                Override::Unverified {
                    reason: format!("the timeline could not be read: {e}"),
                },
                false,
            )
        }
    }
    match role_for_override(api, &g.by, opts) {
        Ok(role) => (Override::Granted { by: g.by, role }, false),
        Err(o) => (o, false),
    }
}

/// What the override of the pull request a merge queue's branch names
/// means for the queue's commit. Read only (no label is taken off, no
/// record written): it carries over when the pull request's head now is
/// the commit the branch says was queued, and the gate's own record on it
/// holds a grant for that very commit that the timeline and permissions
/// still bear out (as for the label); with `override-scope: pull-request`,
/// whoever applied the label last, as on the pull request.
pub fn queue_override(api: &dyn GitHubApi, q: &Queued, opts: &GateOptions) -> Override {
    let label = &opts.override_label;
    if !q.labels.iter().any(|l| l == label) {
        return Override::Absent;
    }
    let short = |s: &str| s[..s.len().min(7)].to_string();
    if q.head_now != q.queued_head {
        return Override::Unverified {
            reason: format!(
                "pull request #{} is now at {}, not at {} which the merge queue's branch names",
                q.number,
                short(&q.head_now),
                short(&q.queued_head)
            ),
        };
    }
    if opts.override_scope == OverrideScope::PullRequest {
        return pull_request_override(Some(api), &q.as_pull_request(), opts);
    }
    match q.state.grant.clone() {
        Some(g) if g.label == *label && g.head_sha == q.queued_head => {
            verify_grant(api, q.number, g, opts).0
        }
        _ => Override::Unverified {
            reason: format!(
                "the gate has no record of it being applied to #{} at {}",
                q.number,
                short(&q.queued_head)
            ),
        },
    }
}

/// The label covering the whole pull request (`override-scope:
/// pull-request`): whoever applied it last, from the event or the timeline.
fn pull_request_override(
    api: Option<&dyn GitHubApi>,
    pr: &PullRequest,
    opts: &GateOptions,
) -> Override {
    if !pr.labels.iter().any(|l| l == &opts.override_label) {
        return Override::Absent;
    }
    let Some(api) = api else {
        return Override::Unverified {
            reason: "no token to look up who applied it".into(),
        };
    };
    let by = match &pr.applied_now_by {
        Some(u) => u.to_string(),
        None => match label_applier(api, pr.number, &opts.override_label) {
            Ok(Some(u)) => u,
            Ok(None) => {
                return Override::Unverified {
                    reason: "no labeled event for it in the timeline".into(),
                }
            }
            Err(e) => {
                return Override::Unverified {
                    reason: format!("the timeline could not be read: {e}"),
                }
            }
        },
    };
    match role_for_override(api, &by, opts) {
        Ok(role) => Override::Granted { by, role },
        Err(o) => o,
    }
}

// ---- the benchmark's setup ----

/// Which protected files the pull request changes. Fails closed: a file
/// list that cannot be read is not an approval.
pub fn setup_check(api: &dyn GitHubApi, pr: u64, protected: &[String]) -> SetupCheck {
    match api.pull_files(pr) {
        Ok(files) => {
            let changed: Vec<String> = files
                .into_iter()
                .filter(|f| is_protected(f, protected))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if changed.is_empty() {
                SetupCheck::Unchanged
            } else {
                SetupCheck::Changed(changed)
            }
        }
        Err(e) => {
            eprintln!("error: could not list the pull request's files, so a change to the benchmark's setup cannot be ruled out: {e}");
            SetupCheck::Unknown(format!(
                "the pull request's files could not be listed: HTTP {}",
                e.status().map_or("error".into(), |s| s.to_string())
            ))
        }
    }
}

// ---- accepted metrics ----

/// The acceptances in the gate's record that count for `head`, checked
/// again (a record is only as good as the comment it sits in): each names
/// a comment that is still there, by the same person, unedited, saying
/// `/bench-gate accept` for the same metric; no later `/bench-gate revoke`
/// of that metric by someone with the permission; and its author still
/// has the permission. Acceptances for another head are dropped from the
/// record (a push needs them again), and so are those that fail a check.
/// A comment list that cannot be read counts none (the record is kept).
pub fn resolve_acceptances(
    api: Option<&dyn GitHubApi>,
    pr: &mut PullRequest,
    head: &str,
    opts: &GateOptions,
) -> Vec<Acceptance> {
    if pr.stale {
        return Vec::new();
    }
    let state = &mut pr.state;
    state.acceptances.retain(|a| a.head_sha == head);
    if state.acceptances.is_empty() {
        return Vec::new();
    }
    let Some(api) = api else {
        return Vec::new();
    };
    let comments = match api.comments(pr.number) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warning: the acceptances could not be checked (the pull request's comments: {e}); none counts");
            return Vec::new();
        }
    };
    let permitted = |login: &str| role_for_override(api, login, opts).is_ok();
    let holds = |a: &Acceptance| {
        let Some(c) = comments.iter().find(|c| c.id == a.comment_id) else {
            return false;
        };
        let said = c.body.as_deref().and_then(command::parse);
        let edited = !c.updated_at.is_empty() && c.updated_at != c.created_at;
        let same = matches!(&said, Some(Ok(Command::Accept { metric, .. })) if *metric == a.metric);
        if edited || !same || !c.author().is_some_and(|u| u.eq_ignore_ascii_case(&a.by)) {
            return false;
        }
        if let Err(why) = command_covers(api, &a.head_sha, &c.created_at) {
            println!(
                "bench-gate: the acceptance of {} does not count: {}.",
                escape::log_text(&a.metric),
                escape::log_text(&why)
            );
            return false;
        }
        let revoked = comments
            .iter()
            .filter(|r| (r.created_at.as_str(), r.id) > (c.created_at.as_str(), c.id))
            .filter(|r| {
                matches!(r.body.as_deref().and_then(command::parse),
                    Some(Ok(Command::Revoke { metric })) if metric == a.metric)
            })
            .any(|r| r.author().is_some_and(permitted));
        !revoked && permitted(&a.by)
    };
    let before = state.acceptances.len();
    state.acceptances.retain(|a| holds(a));
    if state.acceptances.len() < before {
        println!(
            "bench-gate: {} recorded acceptance(s) no longer held (comment gone, edited, revoked, written before the commit was pushed, or the permission lost) and were dropped.",
            before - state.acceptances.len()
        );
    }
    state.acceptances.clone()
}

// ---- relevance ----

/// Why a pull request need not be benchmarked: it changes no path that
/// `relevant_paths` names and no file of the benchmark's setup. `None`
/// (benchmark) whenever that cannot be shown: a file list that cannot be
/// read or is not complete, globs that do not compile, a setup file, or
/// a pull request whose head is not (or no longer) `head`: GitHub lists
/// the files of the head now, so only a run for that head may judge by it.
pub fn not_relevant(
    api: &dyn GitHubApi,
    pr: u64,
    head: &str,
    globs: &[String],
    protected: &[String],
) -> Option<String> {
    let set = match crate::workload::config::relevant_set(globs) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("warning: relevant_paths: {e}; benchmarking");
            return None;
        }
    };
    let files = match api.pull_files(pr) {
        Ok(files) => files,
        Err(e) => {
            println!("bench-gate: the pull request's files could not be listed ({e}), so they may touch a benchmarked path; benchmarking.");
            return None;
        }
    };
    // Read after the list: a push between the two shows here.
    match api.pull(pr) {
        Ok(info) if info.head_sha == head => {}
        Ok(info) => {
            println!(
                "bench-gate: the pull request is now at {}, not {head}: its file list is not this commit's; benchmarking.",
                escape::log_text(&info.head_sha)
            );
            return None;
        }
        Err(e) => {
            println!("bench-gate: the pull request's head could not be read ({e}), so its file list may be another commit's; benchmarking.");
            return None;
        }
    }
    let relevant = files
        .iter()
        .filter(|f| set.is_match(f.as_str()) || is_protected(f, protected))
        .count();
    if relevant > 0 {
        println!(
            "bench-gate: {relevant} of the {} changed files are benchmarked paths (relevant_paths) or setup files; benchmarking.",
            files.len()
        );
        return None;
    }
    Some(format!(
        "no benchmarked path changed: {} changed {}, none matching the {} {} of relevant_paths in bench-gate.yml, and no setup file",
        files.len(),
        if files.len() == 1 { "file" } else { "files" },
        globs.len(),
        if globs.len() == 1 { "glob" } else { "globs" },
    ))
}

// ---- the decision and what is said about it ----

/// What the outcome is decided from: the results and what they were
/// compared with.
pub struct Evidence {
    /// With their `github` section for this run.
    pub results: Results,
    /// The comparison and the baseline's YAML text (for annotation lines);
    /// `None` without a baseline.
    pub compared: Option<(Comparison, String)>,
    pub setup: SetupCheck,
}

/// ... and what routing and the override label said.
pub struct Facts {
    pub override_state: Override,
    pub release: bool,
    pub head: String,
    /// The gate's record for its comment (pull requests only).
    pub state: Option<GateState>,
    /// Markdown lines for the comment, from routing.
    pub notes: Vec<String>,
    pub run_url: Option<String>,
    /// This job's run and attempt, when it measured (or was given) the
    /// results rather than re-using them: recorded in `state`.
    pub attempt: Option<(Option<String>, u32)>,
    /// Metrics accepted for this head, checked.
    pub accepted: Vec<Acceptance>,
    /// The metric this event's `/bench-gate accept` names.
    pub asked: Option<String>,
}

/// The check run's output, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckText {
    pub title: String,
    pub summary: String,
    pub text: String,
    pub annotations: Vec<Value>,
}

impl CheckText {
    pub fn output(&self) -> CheckOutput<'_> {
        CheckOutput {
            title: &self.title,
            summary: &self.summary,
            text: &self.text,
            annotations: &self.annotations,
        }
    }
}

/// Everything decided, and everything that will be said, before any of it
/// is written.
#[derive(Debug)]
pub struct Outcome {
    pub results: Results,
    pub decision: GateDecision,
    /// Markdown, for the report file and the step summary.
    pub report: String,
    /// The comparison as a terminal table, for a report-only run's log.
    pub table: String,
    /// The pull-request comment, and how much of it was cut to fit.
    pub comment: String,
    pub trim: Trim,
    pub check: CheckText,
    /// `::error`/`::warning` lines, for when no check run carries the
    /// annotations.
    pub log_annotations: Vec<String>,
    /// A reply to post on the pull request (an accepted metric that is not
    /// failing), Markdown.
    pub reply: Option<String>,
}

fn gate_inputs(
    c: Option<&Comparison>,
    release: bool,
    o: &Override,
    setup: SetupCheck,
    opts: &GateOptions,
    accepted: &[String],
    earlier_failure: Option<u32>,
) -> GateInputs {
    GateInputs {
        verdict: c.map(|c| c.verdict),
        failures: c.map_or(0, |c| c.deciding_view().0.counts.failure),
        warnings: c.map_or(0, |c| c.deciding_view().0.counts.warning),
        missing: c.map_or(0, |c| missing_metrics(c).len()),
        missing_policy: opts.flags.missing,
        release,
        override_state: o.clone(),
        setup,
        fail_on_regression: opts.fail_on_regression,
        fail_on_warning: opts.fail_on_warning,
        failing: c.map(failing_metrics).unwrap_or_default(),
        accepted: accepted.to_vec(),
        earlier_failure,
    }
}

/// The metrics measured above the failure threshold in the views that
/// decide, each once: what a maintainer may accept. A metric missing from
/// the results is never among them, whatever it counts as.
pub fn failing_metrics(c: &Comparison) -> Vec<String> {
    views_with(c, Status::Failure)
}

/// The metrics missing in any view that decides (with `gate-on: both`, the
/// committed baseline's too), each once: they keep counting as the missing
/// policy says, and cannot be accepted.
pub fn missing_metrics(c: &Comparison) -> Vec<String> {
    views_with(c, Status::Missing)
}

fn views_with(c: &Comparison, status: Status) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    c.deciding_views()
        .into_iter()
        .flat_map(|v| v.metrics.iter())
        .filter(|m| m.status == status)
        .filter(|m| seen.insert(m.name.clone()))
        .map(|m| m.name.clone())
        .collect()
}

/// The repository-relative baselines folder, as the comment names it.
fn baselines_dir(opts: &GateOptions) -> String {
    let dir = opts.baselines_dir.display().to_string();
    dir.trim_start_matches("./")
        .trim_end_matches('/')
        .to_string()
}

/// A run id as the record keeps it: digits only, at most 20.
fn valid_run_id(run_id: Option<String>) -> Option<String> {
    run_id.filter(|r| !r.is_empty() && r.len() <= 20 && r.chars().all(|c| c.is_ascii_digit()))
}

/// Records this attempt for `head` in the gate's record (which keeps the
/// attempts of one head commit only) with its `result` (an earlier failure
/// stands, so a later pass is recorded as `fail`); a note for the comment
/// when earlier attempts for the same commit exist, saying whether this
/// attempt's `measured` verdict differs from theirs.
fn record_attempt(
    st: &mut GateState,
    head: &str,
    run_id: Option<String>,
    attempt: u32,
    result: policy::GateResult,
    measured: policy::GateResult,
) -> Option<String> {
    if !state::valid_sha(head) {
        return None;
    }
    st.attempts.retain(|a| a.head_sha == head);
    let run_id = valid_run_id(run_id);
    let earlier = st.attempts.clone();
    st.attempts.push(state::Attempt {
        head_sha: head.to_string(),
        run_id: run_id.clone(),
        attempt,
        result: result.as_str().to_string(),
    });
    let extra = st.attempts.len().saturating_sub(state::MAX_ATTEMPTS);
    st.attempts.drain(..extra);
    if earlier.is_empty() {
        return None;
    }
    let name = |r: &Option<String>, n: u32| match r {
        Some(id) => format!("run {id} attempt {n}"),
        None => format!("attempt {n}"),
    };
    let list: Vec<String> = earlier
        .iter()
        .map(|a| {
            format!(
                "{} ({})",
                escape::md_code(&a.result),
                name(&a.run_id, a.attempt)
            )
        })
        .collect();
    let changed = earlier.iter().any(|a| a.result != measured.as_str());
    Some(format!(
        "🔄 **Measured again for this commit** ({}): earlier {}. {}",
        name(&run_id, attempt),
        list.join(", "),
        if changed {
            "**The verdict changed between attempts** of the same commit: the measurements vary more between runs than the thresholds allow for; an earlier failure stands (re-runs do not replace a failure: a maintainer can override)."
        } else {
            "Every attempt gave the same verdict."
        }
    ))
}

pub fn decide(opts: &GateOptions, e: Evidence, f: Facts) -> Outcome {
    let Evidence {
        results,
        compared,
        setup,
    } = e;
    let Facts {
        override_state,
        release,
        head,
        mut state,
        mut notes,
        run_url,
        attempt,
        accepted,
        asked,
    } = f;
    let c = compared.as_ref().map(|(c, _)| c);
    // Only a failing metric can be accepted: others are dropped from the
    // record, and the one this event asked for gets a reply naming the
    // failing ones.
    let failing = c.map(failing_metrics).unwrap_or_default();
    let accepted: Vec<Acceptance> = accepted
        .into_iter()
        .filter(|a| failing.contains(&a.metric))
        .collect();
    if let Some(s) = state.as_mut() {
        s.acceptances.retain(|a| failing.contains(&a.metric));
    }
    let missing = c.map(missing_metrics).unwrap_or_default();
    let reply = asked.filter(|m| !failing.contains(m)).map(|m| {
        let names: Vec<String> = failing.iter().map(|f| escape::md_code(f)).collect();
        let why = if missing.contains(&m) {
            "is missing from the results (missing metrics cannot be accepted: only a measured failure can)"
        } else {
            "is not a failing metric"
        };
        format!(
            "{} {why} for {}, so nothing was accepted; {}.",
            escape::md_code(&m),
            escape::md_code(&head[..head.len().min(7)]),
            if names.is_empty() {
                "no metric is failing".to_string()
            } else {
                format!("the failing ones: {}", names.join(", "))
            }
        )
    });
    for a in &accepted {
        let reason = if a.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", escape::md_text(&a.reason))
        };
        notes.push(format!(
            "✅ {} **accepted by {}**{reason} (for {}; a push needs it again).",
            escape::md_code(&a.metric),
            escape::md_text(&format!("@{}", a.by)),
            escape::md_code(&a.head_sha[..7.min(a.head_sha.len())])
        ));
    }
    let accepted_names: Vec<String> = accepted.iter().map(|a| a.metric.clone()).collect();
    notes.extend(confirmation_notes(&results));
    if let Some(url) = opts.history_url.as_deref().and_then(escape::md_url) {
        notes.push(format!(
            "📈 [How each metric moved on the main branch]({url})"
        ));
    }
    let changed = match &setup {
        SetupCheck::Changed(files) => files.clone(),
        SetupCheck::Unchanged | SetupCheck::Unknown(_) => Vec::new(),
    };
    // An earlier attempt of this very commit that failed stands (the
    // gate's own record, which keeps one head's attempts); the same run's
    // same attempt deciding again is not an earlier one.
    let this_attempt = attempt
        .as_ref()
        .map(|(run_id, n)| (valid_run_id(run_id.clone()), *n));
    let earlier_failure = state.as_ref().and_then(|st| {
        st.attempts
            .iter()
            .filter(|a| this_attempt.as_ref() != Some(&(a.run_id.clone(), a.attempt)))
            .find(|a| a.head_sha == head && a.result == policy::GateResult::Fail.as_str())
            .map(|a| a.attempt)
    });
    let inputs = gate_inputs(
        c,
        release,
        &override_state,
        setup,
        opts,
        &accepted_names,
        earlier_failure,
    );
    let decision = policy::decide(&inputs);
    // What this attempt's own measurements said, for the attempts note.
    let measured = policy::decide(&GateInputs {
        earlier_failure: None,
        ..inputs
    })
    .result;
    if let (Some(st), Some((run_id, n))) = (state.as_mut(), attempt) {
        if let Some(note) = record_attempt(st, &head, run_id, n, decision.result, measured) {
            notes.push(note);
        }
    }
    let report = report_markdown(&decision, c, &opts.check_name);
    let embedded = Embedded {
        version: 1,
        check: opts.check_name.clone(),
        head_sha: head.clone(),
        results,
    };
    let state_block = state.as_ref().map(state::encode).unwrap_or_default();
    let (body, trim) = comment::body(&CommentInput {
        check_name: &opts.check_name,
        decision: &decision,
        comparison: c,
        head_sha: &head,
        workload: &embedded.results.workload,
        override_state: &override_state,
        override_label: &opts.override_label,
        override_permission: opts.override_permission,
        changed_setup: &changed,
        state_block: state_block.clone(),
        baselines_dir: &baselines_dir(opts),
        run_url,
        notes,
        embedded: Some(&embedded),
    });
    let limit = |s: &str| truncate_bytes(s, 65_000);
    let check = CheckText {
        title: escape::plain(&decision.title),
        summary: limit(&strip_hidden(&body, &opts.check_name, &state_block)),
        text: limit(&c.map(report::markdown::report).unwrap_or_default()),
        annotations: check_annotations(compared.as_ref()),
    };
    Outcome {
        results: embedded.results,
        table: c
            .map(report::terminal::comparison_table)
            .unwrap_or_default(),
        log_annotations: log_annotations(compared.as_ref()),
        decision,
        report,
        comment: body,
        trim,
        check,
        reply,
    }
}

/// The comment's note for each confirmation run.
fn confirmation_notes(results: &Results) -> Vec<String> {
    results
        .confirmations
        .iter()
        .map(|conf| {
            format!(
                "🔁 **Confirmation run**: {}.",
                report::confirmation_markdown(conf)
            )
        })
        .collect()
}

/// Outside GitHub: the comment that would be posted, and the exit code
/// (the compare code; 0 without a baseline).
pub fn local(opts: &GateOptions, results: &Results) -> Result<(String, u8)> {
    let cmp = compare_with_baseline(results, opts)?;
    let c = cmp.as_ref().map(|(c, _)| c);
    let decision = policy::decide(&gate_inputs(
        c,
        false,
        &Override::Absent,
        SetupCheck::Unchanged,
        opts,
        &[],
        None,
    ));
    let (body, _) = comment::body(&CommentInput {
        check_name: &opts.check_name,
        decision: &decision,
        comparison: c,
        head_sha: "local",
        workload: &results.workload,
        override_state: &Override::Absent,
        override_label: &opts.override_label,
        override_permission: opts.override_permission,
        changed_setup: &[],
        state_block: String::new(),
        baselines_dir: &opts.baselines_dir.display().to_string(),
        run_url: None,
        notes: std::iter::once(
            "_Run outside GitHub Actions: this is the comment that would be posted._".into(),
        )
        .chain(confirmation_notes(results))
        .collect(),
        embedded: None,
    });
    let code = match c {
        Some(c) => compare::exit_code(c.verdict, opts.fail_on_regression, opts.fail_on_warning),
        None => 0,
    };
    Ok((body, code))
}

/// The Markdown report for the step summary and `report-path`.
fn report_markdown(decision: &GateDecision, c: Option<&Comparison>, check: &str) -> String {
    match c {
        Some(c) => format!(
            "## bench-gate · {}: {}\n\n{}",
            escape::md_text(check),
            escape::md_text(&decision.title),
            report::markdown::report(c)
        ),
        None => format!(
            "## bench-gate · {}: {}\n\nNo baseline was found; capture one with `bench-gate capture --output baselines/v0.1.0.yaml` and commit it.\n",
            escape::md_text(check),
            escape::md_text(&decision.title)
        ),
    }
}

/// 1-based line of a dotted metric in a baseline's YAML text, found by
/// following the keys' indentation.
pub fn metric_line(yaml: &str, name: &str) -> Option<usize> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, raw) in yaml.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, _)) = trimmed.split_once(':') else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        stack.push((indent, key.trim().trim_matches('"').to_string()));
        if stack.len() > 1 && stack[0].1 == "metrics" {
            let dotted: Vec<&str> = stack[1..].iter().map(|(_, k)| k.as_str()).collect();
            if dotted.join(".") == name {
                return Some(i + 1);
            }
        }
    }
    None
}

struct Flagged {
    level: Level,
    title: String,
    message: String,
    line: Option<usize>,
}

/// Failures and warnings of the views that decide, each metric once.
fn flagged(c: &Comparison, yaml: &str) -> Vec<Flagged> {
    let mut seen = std::collections::BTreeSet::new();
    c.deciding_views()
        .into_iter()
        .flat_map(|v| v.metrics.iter())
        .filter(|m| matches!(m.effective_status(), Status::Failure | Status::Warning))
        .filter(|m| seen.insert(m.name.clone()))
        .map(|m| {
            let r = report::view::row(m);
            Flagged {
                level: if m.effective_status() == Status::Failure {
                    Level::Error
                } else {
                    Level::Warning
                },
                // Shown as plain text, in the check run or the log: one line each.
                title: escape::plain(&format!("{}: {} ({})", m.name, r.change, r.status)),
                message: escape::plain(&format!(
                    "{} went from {} to {} ({}); thresholds {}.{}",
                    m.name,
                    r.baseline,
                    r.current,
                    r.change,
                    r.threshold,
                    m.note
                        .as_deref()
                        .map(|n| format!(" {n}."))
                        .unwrap_or_default()
                )),
                line: metric_line(yaml, &m.name),
            }
        })
        .collect()
}

/// The flagged metrics, each made into an annotation by `make` (given the
/// baseline file's path, which the annotations point into).
fn annotations<T>(c: Option<&(Comparison, String)>, make: impl Fn(&str, Flagged) -> T) -> Vec<T> {
    let Some((c, yaml)) = c else {
        return Vec::new();
    };
    let path = c.baseline_file.trim_start_matches("./");
    flagged(c, yaml)
        .into_iter()
        .map(|f| make(path, f))
        .collect()
}

/// The check run's annotations.
fn check_annotations(c: Option<&(Comparison, String)>) -> Vec<Value> {
    annotations(c, |path, f| {
        json!({
            "path": path,
            "start_line": f.line.unwrap_or(1),
            "end_line": f.line.unwrap_or(1),
            "annotation_level": if f.level == Level::Error { "failure" } else { "warning" },
            "title": f.title,
            "message": f.message,
        })
    })
}

/// Log annotations, for when no check run could carry them.
fn log_annotations(c: Option<&(Comparison, String)>) -> Vec<String> {
    annotations(c, |path, f| {
        actions::annotation(f.level, Some(path), f.line, &f.title, &f.message)
    })
}

/// The comment without its marker and hidden results: the check run's summary.
fn strip_hidden(body: &str, check: &str, state_block: &str) -> String {
    let mut s = body.replace(&comment::marker(check), "");
    if !state_block.is_empty() {
        s = s.replace(state_block, "");
    }
    if let Some(i) = s.find("<!-- bench-gate:results ") {
        s.truncate(i);
    }
    s.trim().to_string()
}

pub fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max - 40;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n_(trimmed to fit the limit)_", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relevance is judged only from the file list of the commit checked:
    /// when the pull request's head is another commit, it benchmarks.
    #[test]
    fn relevance_only_from_the_file_list_of_the_head_checked() {
        use super::super::fake::{FakeGitHub, HEAD};
        let fake = FakeGitHub::default();
        fake.0.borrow_mut().files = Ok(vec!["docs/guide.md".into()]);
        let globs = vec!["src/**".to_string()];
        let message = not_relevant(&fake, 2, HEAD, &globs, &[]).unwrap();
        assert!(
            message.starts_with("no benchmarked path changed: 1 changed file"),
            "{message}"
        );
        let other = "0123456789012345678901234567890123456789";
        assert_eq!(not_relevant(&fake, 2, other, &globs, &[]), None);
        fake.0.borrow_mut().files = Ok(vec!["src/lib.rs".into()]);
        assert_eq!(not_relevant(&fake, 2, HEAD, &globs, &[]), None);
    }

    #[test]
    fn metric_lines_follow_indentation() {
        let y = include_str!("../../tests/fixtures/persona-v1.12.0.yaml");
        assert_eq!(metric_line(y, "generation.single.latency_p50_ms"), Some(9));
        assert_eq!(
            metric_line(y, "generation.batch_10.latency_p50_ms"),
            Some(13)
        );
        assert_eq!(metric_line(y, "memory.batch_10_peak_mb"), Some(17));
        assert_eq!(metric_line(y, "startup.cli_cold_ms"), Some(19));
        assert_eq!(metric_line(y, "nope"), None);
    }

    #[test]
    fn truncation_is_on_a_char_boundary() {
        let s = "é".repeat(40_000);
        let t = truncate_bytes(&s, 65_000);
        assert!(t.len() <= 65_000);
        assert!(t.ends_with("_(trimmed to fit the limit)_"));
    }

    /// Each benchmarked attempt for one commit is recorded in the gate's
    /// record (read back from the comment), and a re-run whose verdict
    /// differs says so; a new head commit starts the record afresh.
    #[test]
    fn a_verdict_that_flips_on_a_re_run_is_shown() {
        use super::super::fake::{results, Checkout, HEAD};
        let co = Checkout::new();
        let opts = co.options();
        let run = |p50: f64, state: GateState, head: &str, attempt: u32| {
            let r = results(p50);
            let compared = compare_with_baseline(&r, &opts).unwrap();
            let o = decide(
                &opts,
                Evidence {
                    results: r,
                    compared,
                    setup: SetupCheck::Unchanged,
                },
                Facts {
                    override_state: Override::Absent,
                    release: false,
                    head: head.into(),
                    state: Some(state),
                    notes: Vec::new(),
                    run_url: None,
                    attempt: Some((Some("42".into()), attempt)),
                    accepted: Vec::new(),
                    asked: None,
                },
            );
            let st = state::decode(&o.comment).unwrap().unwrap();
            (o, st)
        };
        let (first, st) = run(1890.0, GateState::new("bench-gate"), HEAD, 1);
        assert_eq!(first.decision.result.as_str(), "fail");
        assert!(
            !first.comment.contains("Measured again"),
            "{}",
            first.comment
        );
        assert_eq!(st.attempts.len(), 1);
        // The same run's same attempt deciding again is not an earlier one.
        let (again, _) = run(1500.0, st.clone(), HEAD, 1);
        assert_eq!(again.decision.result.as_str(), "pass");
        // A passing re-run does not replace the failure: it stands.
        let (second, st) = run(1500.0, st, HEAD, 2);
        assert_eq!(second.decision.result.as_str(), "fail");
        assert_eq!(
            second.check.title,
            "Failed: an earlier attempt of this commit failed (attempt 1): re-runs do not replace a failure; a maintainer can override"
        );
        assert!(
            second.comment.contains("🔄 **Measured again for this commit** (run 42 attempt 2): earlier `fail` (run 42 attempt 1). **The verdict changed between attempts**"),
            "{}",
            second.comment
        );
        let (third, st) = run(1500.0, st, HEAD, 3);
        assert!(
            third.comment.contains("earlier `fail` (run 42 attempt 1), `fail` (run 42 attempt 2). **The verdict changed"),
            "{}",
            third.comment
        );
        assert_eq!(st.attempts.len(), 3);
        let other = "b".repeat(40);
        let (fourth, st) = run(1500.0, st, &other, 1);
        assert!(!fourth.comment.contains("Measured again"));
        assert_eq!(fourth.decision.result.as_str(), "pass", "another commit");
        assert_eq!(st.attempts.len(), 1);
        let mut many = st;
        for n in 2..30 {
            many = run(1500.0, many, &other, n).1;
        }
        assert_eq!(many.attempts.len(), state::MAX_ATTEMPTS);
        assert_eq!(many.attempts.last().unwrap().attempt, 29);
    }

    /// A metric missing from the results cannot be accepted: the reply to
    /// `/bench-gate accept` of it says so, and the check keeps failing.
    #[test]
    fn a_missing_metric_cannot_be_accepted() {
        use super::super::fake::{results, Checkout, HEAD};
        let co = Checkout::new();
        let opts = co.options();
        let mut r = results(1500.0);
        r.metrics.remove("startup.cli_cold_ms");
        let compared = compare_with_baseline(&r, &opts).unwrap();
        let o = decide(
            &opts,
            Evidence {
                results: r,
                compared,
                setup: SetupCheck::Unchanged,
            },
            Facts {
                override_state: Override::Absent,
                release: false,
                head: HEAD.into(),
                state: Some(GateState::new("bench-gate")),
                notes: Vec::new(),
                run_url: None,
                attempt: None,
                accepted: Vec::new(),
                asked: Some("startup.cli_cold_ms".into()),
            },
        );
        assert_eq!(o.decision.result.as_str(), "fail");
        let reply = o.reply.unwrap();
        assert!(
            reply.starts_with("`startup.cli_cold_ms` is missing from the results (missing metrics cannot be accepted: only a measured failure can)"),
            "{reply}"
        );
    }

    /// The outcome is plain values, decided without GitHub: a failing
    /// comparison with a granted override is overridden (green, exit 0)
    /// on a pull request, and fails on a release tag, where the label does
    /// not apply. The check run's summary never carries the hidden blocks.
    #[test]
    fn a_granted_override_turns_a_failure_green_except_on_a_release() {
        use super::super::fake::{results, Checkout, HEAD};
        use crate::compare::gate::GateResult;
        let co = Checkout::new();
        let opts = co.options();
        let r = results(1890.0);
        let compared = compare_with_baseline(&r, &opts).unwrap();
        let decided = |release: bool| {
            let evidence = Evidence {
                results: r.clone(),
                compared: compared.clone(),
                setup: SetupCheck::Unchanged,
            };
            let facts = Facts {
                override_state: Override::Granted {
                    by: "maint".into(),
                    role: "maintain".into(),
                },
                release,
                head: HEAD.into(),
                state: Some(GateState::new("bench-gate")),
                notes: vec!["_a note from routing_".into()],
                run_url: None,
                attempt: None,
                accepted: Vec::new(),
                asked: None,
            };
            decide(&opts, evidence, facts)
        };
        let o = decided(false);
        assert_eq!(
            (
                o.decision.result,
                o.decision.conclusion,
                o.decision.exit_code
            ),
            (GateResult::Overridden, "success", 0)
        );
        assert!(
            o.comment.contains("**Overridden** by @maint"),
            "{}",
            o.comment
        );
        assert!(o.comment.contains("_a note from routing_"));
        assert!(o.comment.contains("<!-- bench-gate:state "));
        assert!(o.comment.contains("<!-- bench-gate:results "));
        assert!(!o.check.summary.contains("<!--"), "{}", o.check.summary);
        assert_eq!(
            o.check.title,
            "Overridden: 1 metric above the failure threshold"
        );
        assert_eq!(o.check.annotations.len(), 1);
        assert_eq!(o.check.annotations[0]["start_line"], 9);
        assert!(o
            .report
            .starts_with("## bench-gate · bench-gate: Overridden"));

        let release = decided(true);
        assert_eq!(
            (release.decision.result, release.decision.exit_code),
            (GateResult::Fail, 2)
        );
    }
}
