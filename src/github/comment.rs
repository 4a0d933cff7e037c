//! The pull-request comment: found again by a hidden marker, carrying the
//! results in a hidden block so a label event can re-decide without
//! benchmarking, and kept under GitHub's size limit.

use base64::Engine;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};

use super::api::Comment as ApiComment;
use crate::compare::gate::{GateDecision, GateResult, Override, Role};
use crate::compare::{Comparison, EnvDifference};
use crate::model::Results;
use crate::report::escape::{self, md_code, md_text};
use crate::report::{markdown, view};

/// GitHub rejects bodies over 65,536 characters; we stay well below, in bytes.
pub const BODY_LIMIT: usize = 60_000;

const RESULTS_OPEN: &str = "<!-- bench-gate:results ";
const CLOSE: &str = " -->";

pub fn marker(check: &str) -> String {
    format!(
        "<!-- bench-gate:comment check=\"{}\" -->",
        escape::html_comment(check)
    )
}

pub fn is_ours(body: &str, check: &str) -> bool {
    body.contains(&marker(check))
}

/// This gate's comments, oldest first (the newest is last): those with its
/// marker AND written by the gate's own identity `me`. Anyone else's
/// comment is never read, edited or deleted, whatever it holds.
pub fn ours(comments: Vec<ApiComment>, check: &str, me: &str) -> Vec<ApiComment> {
    let mut v: Vec<ApiComment> = comments
        .into_iter()
        .filter(|c| c.author().is_some_and(|a| a.eq_ignore_ascii_case(me)))
        .filter(|c| c.body.as_deref().is_some_and(|b| is_ours(b, check)))
        .collect();
    v.sort_by(|a, b| (a.created_at.as_str(), a.id).cmp(&(b.created_at.as_str(), b.id)));
    v
}

/// What the hidden block holds: enough to decide again for the same commit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Embedded {
    pub version: u32,
    pub check: String,
    pub head_sha: String,
    pub results: Results,
}

pub fn encode(e: &Embedded) -> String {
    let json = serde_json::to_vec(e).expect("embedded results serialise");
    format!(
        "{RESULTS_OPEN}{}{CLOSE}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

/// Reads the hidden block back. It is treated as untrusted: a body with
/// more than one block, or with its block anywhere but where the gate puts
/// it (on a line of its own at the very end), is refused rather than
/// guessed at; so is anything that does not decode and validate as results.
pub fn decode(body: &str) -> Option<Embedded> {
    if body.matches(RESULTS_OPEN).count() != 1 {
        return None;
    }
    let at = body.find(RESULTS_OPEN)?;
    if at > 0 && !body[..at].ends_with('\n') {
        return None;
    }
    let start = at + RESULTS_OPEN.len();
    let end = start + body[start..].find(CLOSE)?;
    if !body[end + CLOSE.len()..].trim().is_empty() {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body[start..end].trim())
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let results =
        Results::parse("the comment's results", &value.get("results")?.to_string()).ok()?;
    Some(Embedded {
        version: value.get("version")?.as_u64()? as u32,
        check: value.get("check")?.as_str()?.to_string(),
        head_sha: value.get("head_sha")?.as_str()?.to_string(),
        results,
    })
}

/// Everything the comment says.
pub struct CommentInput<'a> {
    pub check_name: &'a str,
    pub decision: &'a GateDecision,
    pub comparison: Option<&'a Comparison>,
    pub head_sha: &'a str,
    pub workload: &'a str,
    pub override_state: &'a Override,
    pub override_label: &'a str,
    pub override_permission: Role,
    /// Protected files the pull request changes (baselines, workflows,
    /// `bench-gate.yml` and what it names).
    pub changed_setup: &'a [String],
    /// The gate's own record, as a hidden block (never trimmed).
    pub state_block: String,
    pub baselines_dir: &'a str,
    pub run_url: Option<String>,
    /// Extra lines (re-used results, confirmation runs, …).
    pub notes: Vec<String>,
    pub embedded: Option<&'a Embedded>,
}

/// The steps, as Markdown: every value in them escaped.
fn next_steps(i: &CommentInput) -> Vec<String> {
    let label = md_code(i.override_label);
    let perm = md_code(i.override_permission.name());
    let capture = format!(
        "to accept new numbers, run {} on the same runner class and commit it (a baseline change needs a maintainer's approval: the label {label})",
        md_code(&format!("bench-gate capture --output {}/vX.Y.Z.yaml", i.baselines_dir))
    );
    match i.decision.result {
        GateResult::Fail if i.decision.approval_needed => vec![
            format!("a maintainer (permission {perm} or higher) reviews the change to the benchmark's setup and applies the label {label} to approve it for this commit"),
        ],
        GateResult::Fail => vec![
            format!(
                "reproduce locally: {} and look at the failing metrics above",
                md_code(&format!(
                    "bench-gate compare --workload {}{}",
                    i.workload,
                    i.comparison
                        .and_then(|c| c.ab.as_ref())
                        .map(|a| format!(" --ab {}", &a.base_commit[..a.base_commit.len().min(12)]))
                        .unwrap_or_default()
                ))
            ),
            format!("if the slowdown is intended, a maintainer (permission {perm} or higher) applies the label {label}"),
            capture,
        ],
        GateResult::Overridden => vec!["nothing: the failure was overridden and does not block the merge".into(), capture],
        GateResult::Warn => vec!["nothing blocks the merge; the warnings are worth a look before they grow".into(), capture],
        GateResult::Pass => vec!["nothing: no metric regressed".into()],
        GateResult::NoBaseline => vec![format!(
            "capture a baseline: {}, commit it, and later runs compare with it",
            md_code(&format!("bench-gate capture --output {}/v0.1.0.yaml", i.baselines_dir))
        )],
    }
}

/// The notices, as Markdown: every value in them escaped. `notes` from the
/// caller are Markdown already.
fn notices(i: &CommentInput) -> Vec<String> {
    let mut out = Vec::new();
    let label = md_code(i.override_label);
    match i.override_state {
        Override::Granted { by, role } if i.decision.result == GateResult::Overridden || i.decision.approval_needed || !i.changed_setup.is_empty() => {
            out.push(format!("🔓 **Overridden** by {} ({}) with the label {label}.", mention(by), md_text(role)))
        }
        Override::Insufficient { by, role, required } => out.push(format!(
            "⛔ The label {label} was applied by {}, whose permission is {}; overriding needs {} or higher, so the label is ignored.",
            mention(by),
            md_code(role),
            md_code(required.name())
        )),
        Override::Unverified { reason } => out.push(format!(
            "⛔ The label {label} is on this pull request, but who applied it could not be checked ({}), so it is ignored.",
            md_text(reason)
        )),
        Override::Ignored => out.push(format!(
            "Release tags need a clean run: the label {label} does not apply."
        )),
        Override::Stale {
            by,
            given_for,
            removed,
        } => out.push(format!(
            "⛔ The override was given for {} by {}; {}apply the label {label} again to override {}.",
            md_code(&given_for.chars().take(7).collect::<String>()),
            mention(by),
            if *removed {
                "the label was removed because new commits arrived; "
            } else {
                "new commits arrived, so it does not cover this one (the label could not be removed); "
            },
            md_code(&i.head_sha.chars().take(7).collect::<String>())
        )),
        _ => {}
    }
    if !i.changed_setup.is_empty() {
        out.push(format!(
            "📌 This pull request changes files the benchmark's verdict rests on ({}); that needs a maintainer's approval.",
            i.changed_setup
                .iter()
                .map(|f| md_code(f))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(c) = i.comparison {
        if !c.environment_mismatch.is_empty() {
            let downgraded = c
                .metrics
                .iter()
                .filter(|m| {
                    m.note
                        .as_deref()
                        .is_some_and(|n| n.contains("different machine"))
                })
                .count();
            out.push(format!(
                "🖥️ **This runner is not the machine the baseline was measured on** (it differs in {}). {}{}",
                md_text(&c.environment_mismatch.join(", ")),
                if downgraded > 0 {
                    format!("{downgraded} failure(s) are counted as warnings (policy `warn`; `env-mismatch: strict` keeps them). ")
                } else {
                    String::new()
                },
                if c.side_by_side.is_some() {
                    "The side-by-side view is not affected: base and head ran on this runner."
                } else {
                    "To compare like with like, turn on A/B mode (on by default for pull requests once `ab.setup` in bench-gate.yml builds each tree; or action input `ab: true`), which measures the base commit on this same runner, or re-capture the baseline on this runner class."
                }
            ));
        }
    }
    out.extend(i.notes.iter().cloned());
    out
}

/// A GitHub login, mentioned on purpose (it comes from the API, not from
/// results): only a login's characters, else the name is shown escaped.
fn mention(login: &str) -> String {
    let is_login =
        !login.is_empty() && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if is_login {
        format!("@{login}")
    } else {
        md_code(login)
    }
}

fn icon(r: GateResult) -> &'static str {
    match r {
        GateResult::Pass => "✅",
        GateResult::Warn => "⚠️",
        GateResult::Fail => "❌",
        GateResult::Overridden => "🔓",
        GateResult::NoBaseline => "➖",
    }
}

/// How much the body was cut to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trim {
    pub details: bool,
    pub samples: bool,
    /// The hidden results block was left out: a label event will benchmark again.
    pub results: bool,
    pub rows: Option<usize>,
}

fn render(i: &CommentInput, trim: Trim) -> String {
    let env = markdown::environment(&[(
        "comment.md.j2",
        include_str!("../report/templates/comment.md.j2"),
    )]);
    let c = i.comparison;
    let mut sections: Vec<view::Section> = c.map(view::sections).unwrap_or_default();
    let mut notes = notices(i);
    if let Some(keep) = trim.rows {
        let total = sections.first().map_or(0, |s| s.rows.len());
        for s in &mut sections {
            s.rows.truncate(keep);
        }
        notes.push(format!(
            "_{} the worst {keep} of {total} metrics._",
            if sections.len() > 1 {
                "Each table shows"
            } else {
                "The table shows"
            }
        ));
    }
    let details = match (c, trim.details) {
        (Some(c), false) => view::details(c),
        _ => Vec::new(),
    };
    // Raw values: the template escapes them.
    let env_rows: Vec<EnvDifference> = match (c, trim.details) {
        (Some(c), false) => c
            .current_environment
            .iter()
            .map(|(k, v)| EnvDifference {
                key: k.clone(),
                baseline: c.baseline_environment.get(k).map_or("—", |s| s).to_string(),
                current: v.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let env_diffs: Vec<EnvDifference> = c
        .map(|c| c.environment_differences.clone())
        .unwrap_or_default();
    let results_block = match i.embedded {
        _ if trim.results => String::new(),
        Some(e) if trim.samples => {
            let mut slim = e.clone();
            for m in slim.results.metrics.values_mut() {
                m.samples.clear();
            }
            slim.results.scenarios.clear();
            if let Some(ab) = slim.results.ab.as_mut() {
                for m in ab.base.metrics.values_mut() {
                    m.samples.clear();
                }
                ab.base.scenarios.clear();
            }
            encode(&slim)
        }
        Some(e) => encode(e),
        None => String::new(),
    };
    env.get_template("comment.md.j2")
        .and_then(|t| {
            t.render(context! {
                marker => Value::from_safe_string(marker(i.check_name)),
                state_block => Value::from_safe_string(i.state_block.clone()),
                check_name => i.check_name,
                icon => icon(i.decision.result),
                title => i.decision.title,
                verdict_line => c.map(view::verdict_line),
                sections,
                notices => notes,
                short_sha => i.head_sha.chars().take(7).collect::<String>(),
                workload => i.workload,
                baseline_file => c
                    .map(|c| c.baseline_file.clone())
                    .filter(|f| f != crate::baseline::NO_BASELINE),
                baseline_version => c.map(|c| c.baseline_version.clone()),
                run_url => i.run_url.as_deref().and_then(escape::md_url).map(Value::from_safe_string),
                env_diffs,
                next_steps => next_steps(i),
                details,
                why => Value::from_safe_string(match (c, trim.details) {
                    (Some(c), false) => crate::report::why::markdown(&c.why),
                    _ => String::new(),
                }),
                env => env_rows,
                trimmed => trim != Trim::default(),
                results_block => Value::from_safe_string(results_block),
            })
        })
        .expect("embedded template renders")
}

/// The comment body, cut to fit under [`BODY_LIMIT`] bytes: first the
/// details, then the raw samples in the hidden block, then the hidden block
/// itself, and table rows last.
pub fn body(i: &CommentInput) -> (String, Trim) {
    let mut trim = Trim::default();
    let mut text = render(i, trim);
    if text.len() > BODY_LIMIT {
        trim.details = true;
        text = render(i, trim);
    }
    if text.len() > BODY_LIMIT {
        trim.samples = true;
        text = render(i, trim);
    }
    if text.len() > BODY_LIMIT {
        trim.results = true;
        text = render(i, trim);
    }
    if text.len() > BODY_LIMIT {
        // The most rows (worst first) that fit: binary search.
        let (mut lo, mut hi) = (1, i.comparison.map_or(1, |c| c.metrics.len()));
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            trim.rows = Some(mid);
            if render(i, trim).len() <= BODY_LIMIT {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        trim.rows = Some(lo);
        text = render(i, trim);
    }
    (text, trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_results_round_trip_and_reject_garbage() {
        let results = Results::parse(
            "r",
            r#"{"schema_version":1,"tool":"bench-gate","tool_version":"0.1.0","created_at":"x","workload":"w","environment":{},"scenarios":[],"metrics":{"a.b_ms":{"value":1.5,"unit":"ms","samples":[1.5]}}}"#,
        )
        .unwrap();
        let e = Embedded {
            version: 1,
            check: "bench-gate".into(),
            head_sha: "abc".into(),
            results,
        };
        let body = format!("{}\ntext\n{}\n", marker("bench-gate"), encode(&e));
        assert!(is_ours(&body, "bench-gate"));
        assert!(!is_ours(&body, "other"));
        assert_eq!(decode(&body), Some(e));
        assert_eq!(decode("<!-- bench-gate:results !!!notbase64 -->"), None);
        let evil = base64::engine::general_purpose::STANDARD
            .encode(br#"{"version":1,"check":"c","head_sha":"h","results":{"schema_version":1}}"#);
        assert_eq!(decode(&format!("<!-- bench-gate:results {evil} -->")), None);
    }

    fn embedded(value: f64) -> Embedded {
        let results = Results::parse(
            "r",
            &format!(r#"{{"schema_version":1,"tool":"bench-gate","tool_version":"0.1.0","created_at":"x","workload":"w","environment":{{}},"scenarios":[],"metrics":{{"a.b_ms":{{"value":{value},"unit":"ms"}}}}}}"#),
        )
        .unwrap();
        Embedded {
            version: 1,
            check: "bench-gate".into(),
            head_sha: "abc".into(),
            results,
        }
    }

    #[test]
    fn a_body_with_several_results_blocks_is_refused() {
        let (real, forged) = (encode(&embedded(2.0)), encode(&embedded(1.0)));
        let ours = format!("{}\ntext\n{real}\n", marker("bench-gate"));
        assert_eq!(decode(&ours), Some(embedded(2.0)));
        // A second block placed first, last, or inside the text: not guessed at.
        for body in [
            format!("{}\n{forged}\ntext\n{real}\n", marker("bench-gate")),
            format!("{}\ntext\n{real}\n{forged}\n", marker("bench-gate")),
            format!("{}\ntext {forged} more\n{real}\n", marker("bench-gate")),
            format!("{}\ntext\n{real}\n{real}", marker("bench-gate")),
        ] {
            assert_eq!(decode(&body), None, "{body}");
        }
    }

    #[test]
    fn a_block_anywhere_but_at_the_end_on_its_own_line_is_refused() {
        let block = encode(&embedded(1.0));
        assert!(decode(&format!("text\n{block}")).is_some());
        assert!(decode(&format!("{block}\n\n")).is_some());
        for body in [
            format!("text\n{block}\nmore text after it"),
            format!("text {block}"),
            format!("| cell | {block}"),
        ] {
            assert_eq!(decode(&body), None, "{body}");
        }
    }

    #[test]
    fn data_cannot_add_a_block_to_the_gate_s_comment() {
        // A results file whose free text holds a block: the comment escapes
        // it, so the body keeps exactly one, the gate's own.
        let mut e = embedded(2.0);
        e.results
            .environment
            .insert("os".into(), encode(&embedded(1.0)));
        let decision = crate::compare::gate::decide(&crate::compare::gate::GateInputs {
            verdict: Some(crate::compare::Verdict::Pass),
            failures: 0,
            warnings: 0,
            release: false,
            missing: 0,
            missing_policy: Default::default(),
            override_state: Override::Absent,
            setup: crate::compare::gate::SetupCheck::Unchanged,
            fail_on_regression: true,
            fail_on_warning: false,
            failing: Vec::new(),
            accepted: Vec::new(),
            earlier_failure: None,
        });
        let baseline = crate::baseline::Baseline::parse(
            "b.yaml",
            "version: '1'\nenvironment: {os: linux}\nmetrics:\n  a:\n    b_ms: 2\n",
        )
        .unwrap();
        let c = crate::compare::compare(&baseline, "b.yaml", &e.results, Default::default());
        let input = CommentInput {
            check_name: "bench-gate",
            decision: &decision,
            comparison: Some(&c),
            head_sha: "abc",
            workload: "w",
            override_state: &Override::Absent,
            override_label: "performance-override",
            override_permission: Role::Maintain,
            changed_setup: &[],
            state_block: String::new(),
            baselines_dir: "baselines",
            run_url: None,
            notes: vec![],
            embedded: Some(&e),
        };
        let (text, _) = body(&input);
        assert_eq!(text.matches("<!--").count(), 2, "{text}");
        assert!(text.contains("&lt;\\!-- bench-gate:results "), "{text}");
        assert_eq!(decode(&text), Some(e));
    }

    #[test]
    fn why_it_got_slower_is_a_collapsed_section_with_its_data_escaped() {
        let e = embedded(2.0);
        let decision = crate::compare::gate::decide(&crate::compare::gate::GateInputs {
            verdict: Some(crate::compare::Verdict::Fail),
            failures: 1,
            warnings: 0,
            release: false,
            missing: 0,
            missing_policy: Default::default(),
            override_state: Override::Absent,
            setup: crate::compare::gate::SetupCheck::Unchanged,
            fail_on_regression: true,
            fail_on_warning: false,
            failing: Vec::new(),
            accepted: Vec::new(),
            earlier_failure: None,
        });
        let baseline = crate::baseline::Baseline::parse(
            "b.yaml",
            "version: '1'\nmetrics:\n  a:\n    b_ms: 2\n",
        )
        .unwrap();
        let mut c = crate::compare::compare(&baseline, "b.yaml", &e.results, Default::default());
        c.why = vec![crate::model::Why {
            scenario: "a".into(),
            metric: "a.instructions".into(),
            kind: crate::model::WhyKind::Changed,
            base_total: Some(100.0),
            head_total: 150.0,
            functions: vec![crate::model::FunctionCost {
                name: "busy_work <!-- -->".into(),
                file: Some("prog.c".into()),
                line: Some(1),
                before_self: Some(50.0),
                before_inclusive: Some(50.0),
                after_self: 100.0,
                after_inclusive: 100.0,
            }],
            flamegraph: None,
            flamegraph_svg: None,
            seconds: 0.5,
        }];
        let input = CommentInput {
            check_name: "bench-gate",
            decision: &decision,
            comparison: Some(&c),
            head_sha: "abc",
            workload: "w",
            override_state: &Override::Absent,
            override_label: "performance-override",
            override_permission: Role::Maintain,
            changed_setup: &[],
            state_block: String::new(),
            baselines_dir: "baselines",
            run_url: None,
            notes: vec![],
            embedded: Some(&e),
        };
        let (text, _) = body(&input);
        assert!(
            text.contains("<details><summary>Why it got slower: scenario a"),
            "{text}"
        );
        assert!(
            text.contains("`prog.c:1` | 50 | 100 | +50 (+100.0 %)"),
            "{text}"
        );
        assert_eq!(text.matches("<!--").count(), 2, "{text}");
        assert_eq!(decode(&text), Some(e));
    }

    #[test]
    fn markers_cannot_be_broken_out_of() {
        assert_eq!(
            marker("perf --> <script>"),
            "<!-- bench-gate:comment check=\"perf - script\" -->"
        );
    }
}
