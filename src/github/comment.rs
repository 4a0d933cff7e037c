//! The pull-request comment: found again by a hidden marker, carrying the
//! results in a hidden block so a label event can re-decide without
//! benchmarking, and kept under GitHub's size limit.

use base64::Engine;
use minijinja::context;
use serde::{Deserialize, Serialize};

use crate::compare::gate::{GateDecision, GateResult, Override, Role};
use crate::compare::{Comparison, EnvDifference};
use crate::report::{markdown, view};
use crate::results::Results;

/// GitHub rejects bodies over 65,536 characters; we stay well below, in bytes.
pub const BODY_LIMIT: usize = 60_000;

const RESULTS_OPEN: &str = "<!-- bench-gate:results ";
const CLOSE: &str = " -->";

pub fn marker(check: &str) -> String {
    let safe: String = check
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '/'))
        .collect();
    // "--" may not appear inside an HTML comment.
    let mut safe = safe;
    while safe.contains("--") {
        safe = safe.replace("--", "-");
    }
    format!("<!-- bench-gate:comment check=\"{safe}\" -->")
}

pub fn is_ours(body: &str, check: &str) -> bool {
    body.contains(&marker(check))
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

/// Reads the hidden block back. It is treated as untrusted: anything that
/// does not decode and validate as results is ignored.
pub fn decode(body: &str) -> Option<Embedded> {
    let start = body.find(RESULTS_OPEN)? + RESULTS_OPEN.len();
    let end = start + body[start..].find(CLOSE)?;
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

/// A value shown inside a code span: no backticks, pipes or line breaks.
fn code_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' | '|' | '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

fn next_steps(i: &CommentInput) -> Vec<String> {
    let label = format!("`{}`", i.override_label);
    let perm = format!("`{}`", i.override_permission.name());
    let capture = format!(
        "to accept new numbers, run `bench-gate capture --output {}/vX.Y.Z.yaml` on the same runner class and commit it (a baseline change needs a maintainer's approval: the label {label})",
        i.baselines_dir
    );
    match i.decision.result {
        GateResult::Fail if i.decision.approval_needed => vec![
            format!("a maintainer (permission {perm} or higher) reviews the change to the benchmark's setup and applies the label {label} to approve it for this commit"),
        ],
        GateResult::Fail => vec![
            format!(
                "reproduce locally: `bench-gate compare --workload {}{}` and look at the failing metrics above",
                i.workload,
                i.comparison
                    .and_then(|c| c.ab.as_ref())
                    .map(|a| format!(" --ab {}", &a.base_commit[..a.base_commit.len().min(12)]))
                    .unwrap_or_default()
            ),
            format!("if the slowdown is intended, a maintainer (permission {perm} or higher) applies the label {label}"),
            capture,
        ],
        GateResult::Overridden => vec!["nothing: the failure was overridden and does not block the merge".into(), capture],
        GateResult::Warn => vec!["nothing blocks the merge; the warnings are worth a look before they grow".into(), capture],
        GateResult::Pass => vec!["nothing: no metric regressed".into()],
        GateResult::NoBaseline => vec![format!(
            "capture a baseline: `bench-gate capture --output {}/v0.1.0.yaml`, commit it, and later runs compare with it",
            i.baselines_dir
        )],
    }
}

fn notices(i: &CommentInput) -> Vec<String> {
    let mut out = Vec::new();
    match i.override_state {
        Override::Granted { by, role } if i.decision.result == GateResult::Overridden || i.decision.approval_needed || !i.changed_setup.is_empty() => {
            out.push(format!("🔓 **Overridden** by @{by} ({role}) with the label `{}`.", i.override_label))
        }
        Override::Insufficient { by, role, required } => out.push(format!(
            "⛔ The label `{}` was applied by @{by}, whose permission is `{role}`; overriding needs `{}` or higher, so the label is ignored.",
            i.override_label,
            required.name()
        )),
        Override::Unverified { reason } => out.push(format!(
            "⛔ The label `{}` is on this pull request, but who applied it could not be checked ({reason}), so it is ignored.",
            i.override_label
        )),
        Override::Ignored => out.push(format!(
            "Release tags need a clean run: the label `{}` does not apply.",
            i.override_label
        )),
        Override::Stale {
            by,
            given_for,
            removed,
        } => out.push(format!(
            "⛔ The override was given for `{}` by @{by}; {}apply the label `{}` again to override `{}`.",
            &given_for[..given_for.len().min(7)],
            if *removed {
                "the label was removed because new commits arrived; "
            } else {
                "new commits arrived, so it does not cover this one (the label could not be removed); "
            },
            i.override_label,
            i.head_sha.chars().take(7).collect::<String>()
        )),
        _ => {}
    }
    if !i.changed_setup.is_empty() {
        out.push(format!(
            "📌 This pull request changes files the benchmark's verdict rests on ({}); that needs a maintainer's approval.",
            i.changed_setup
                .iter()
                .map(|f| format!("`{}`", code_safe(f)))
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
                c.environment_mismatch.join(", "),
                if downgraded > 0 {
                    format!("{downgraded} failure(s) are counted as warnings (policy `warn`; `env-mismatch: strict` keeps them). ")
                } else {
                    String::new()
                },
                if c.side_by_side.is_some() {
                    "The side-by-side view is not affected: base and head ran on this runner."
                } else {
                    "To compare like with like, turn on A/B mode (action input `ab: true`), which measures the base commit on this same runner, or re-capture the baseline on this runner class."
                }
            ));
        }
    }
    out.extend(i.notes.iter().cloned());
    out
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
    let env_rows: Vec<EnvDifference> = match (c, trim.details) {
        (Some(c), false) => c
            .current_environment
            .iter()
            .map(|(k, v)| EnvDifference {
                key: code_safe(k),
                baseline: code_safe(c.baseline_environment.get(k).map_or("—", |s| s)),
                current: code_safe(v),
            })
            .collect(),
        _ => Vec::new(),
    };
    let env_diffs: Vec<EnvDifference> = c
        .map(|c| {
            c.environment_differences
                .iter()
                .map(|d| EnvDifference {
                    key: code_safe(&d.key),
                    baseline: code_safe(&d.baseline),
                    current: code_safe(&d.current),
                })
                .collect()
        })
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
                marker => marker(i.check_name),
                state_block => i.state_block,
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
                run_url => i.run_url,
                env_diffs,
                next_steps => next_steps(i),
                details,
                env => env_rows,
                trimmed => trim != Trim::default(),
                results_block,
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

    #[test]
    fn markers_cannot_be_broken_out_of() {
        assert_eq!(
            marker("perf --> <script>"),
            "<!-- bench-gate:comment check=\"perf - script\" -->"
        );
    }
}
