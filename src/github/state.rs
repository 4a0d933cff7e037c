//! The gate's own record, kept in a hidden block of its own comment: which
//! override was given, by whom, for which head commit. It is small and is
//! never trimmed away (unlike the results block), so a later event of the
//! same pull request knows what the label on it means.
//!
//! Only a comment written by the gate's own identity is ever read for it
//! (see `comment::ours`), and a body with more than one block is refused.

use base64::Engine;
use serde::{Deserialize, Serialize};

const OPEN: &str = "<!-- bench-gate:state ";
const CLOSE: &str = " -->";
/// A state block larger than this is not ours.
const MAX_LEN: usize = 16_384;
/// At most this many acceptances are kept; a reason at most this long.
pub const MAX_ACCEPTANCES: usize = 20;
pub const MAX_REASON: usize = 300;

/// An override given with the label, for one head commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub label: String,
    pub by: String,
    pub role: String,
    /// The head commit the label was applied to (from the `labeled`
    /// event's own payload, never from commit dates).
    pub head_sha: String,
    pub at: String,
}

/// One benchmarked run of the gate for a head commit: the job's run and
/// attempt (`GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`) and its result, so that
/// a verdict that flips on a re-run is shown, not quietly replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub head_sha: String,
    #[serde(default)]
    pub run_id: Option<String>,
    pub attempt: u32,
    pub result: String,
}

/// At most this many attempts are kept (the latest).
pub const MAX_ATTEMPTS: usize = 10;

/// One metric accepted by a maintainer's `/bench-gate accept` comment, for
/// one head commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub metric: String,
    pub by: String,
    pub role: String,
    #[serde(default)]
    pub reason: String,
    /// The pull request's head when the comment was made.
    pub head_sha: String,
    pub at: String,
    /// The comment itself, checked again whenever the record is read.
    pub comment_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GateState {
    pub version: u32,
    pub check: String,
    #[serde(default)]
    pub grant: Option<Grant>,
    /// The head commit the gate last decided (or refused) for: a labeled
    /// event seen only through a workflow run counts for this head alone,
    /// once the gate has seen it as the head.
    #[serde(default)]
    pub head: Option<String>,
    /// How many times the override label had been applied (timeline
    /// `labeled` events) when the gate first decided for `head`: in the
    /// two-job setup only a later application can be for this head.
    #[serde(default)]
    pub label_mark: Option<u64>,
    /// The benchmarked runs for `head`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Metrics accepted with `/bench-gate accept`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acceptances: Vec<Acceptance>,
}

impl GateState {
    pub fn new(check: &str) -> GateState {
        GateState {
            version: 1,
            check: check.to_string(),
            grant: None,
            head: None,
            label_mark: None,
            attempts: Vec::new(),
            acceptances: Vec::new(),
        }
    }
}

pub fn encode(s: &GateState) -> String {
    let json = serde_json::to_vec(s).expect("state serialises");
    format!(
        "{OPEN}{}{CLOSE}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

/// `body` with its state block replaced by `s`'s (or, without one, added
/// after the first line, where the marker is).
pub fn with_record(body: &str, s: &GateState) -> String {
    let block = encode(s);
    if let Some(i) = body.find(OPEN) {
        if let Some(e) = body[i + OPEN.len()..].find(CLOSE) {
            let end = i + OPEN.len() + e + CLOSE.len();
            return format!("{}{block}{}", &body[..i], &body[end..]);
        }
    }
    match body.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{block}\n{rest}"),
        None => format!("{body}\n{block}"),
    }
}

pub fn valid_sha(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn valid_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '[' | ']'))
}

/// The state block of a body: `Ok(None)` when there is none, `Err` when
/// there are several or one does not decode and validate (the caller treats
/// that as "no record", which grants nothing).
pub fn decode(body: &str) -> Result<Option<GateState>, String> {
    let mut found = body.match_indices(OPEN);
    let Some((i, _)) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err("the comment holds more than one state block".into());
    }
    let start = i + OPEN.len();
    let end = body[start..]
        .find(CLOSE)
        .map(|e| start + e)
        .ok_or("the state block is not closed")?;
    if end - start > MAX_LEN {
        return Err("the state block is too long".into());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body[start..end].trim())
        .map_err(|e| format!("the state block is not base64: {e}"))?;
    let s: GateState = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the state block is not the gate's: {e}"))?;
    if let Some(g) = &s.grant {
        if !valid_sha(&g.head_sha) || !valid_login(&g.by) || g.label.len() > 200 {
            return Err("the state block's override record is malformed".into());
        }
    }
    let bad_attempt = |a: &Attempt| {
        !valid_sha(&a.head_sha)
            || a.run_id.as_ref().is_some_and(|r| {
                r.is_empty() || r.len() > 20 || !r.chars().all(|c| c.is_ascii_digit())
            })
            || !matches!(
                a.result.as_str(),
                "pass" | "warn" | "fail" | "overridden" | "no-baseline"
            )
    };
    if s.attempts.len() > MAX_ATTEMPTS || s.attempts.iter().any(bad_attempt) {
        return Err("the state block's attempts are malformed".into());
    }
    if s.acceptances.len() > MAX_ACCEPTANCES
        || s.acceptances.iter().any(|a| {
            !valid_sha(&a.head_sha)
                || !valid_login(&a.by)
                || !crate::model::valid_metric_name(&a.metric)
                || a.reason.chars().count() > MAX_REASON
        })
    {
        return Err("the state block's acceptance record is malformed".into());
    }
    if s.head.as_deref().is_some_and(|h| !valid_sha(h)) {
        return Err("the state block's head is not a commit SHA".into());
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            label: "perf-override".into(),
            by: "maint".into(),
            role: "maintain".into(),
            head_sha: "a".repeat(40),
            at: "2026-11-30T00:00:00Z".into(),
        }
    }

    #[test]
    fn round_trips_and_refuses_doubles_and_garbage() {
        let mut s = GateState::new("bench-gate");
        s.grant = Some(grant());
        let block = encode(&s);
        let body = format!("<!-- bench-gate:comment check=\"bench-gate\" -->\n{block}\ntext");
        assert_eq!(decode(&body).unwrap(), Some(s.clone()));
        assert_eq!(decode("no block here").unwrap(), None);
        let twice = format!("{body}\n{block}");
        assert!(decode(&twice).unwrap_err().contains("more than one"));
        assert!(decode("<!-- bench-gate:state !!! -->").is_err());
        assert!(decode("<!-- bench-gate:state e30=").is_err(), "not closed");
        let mut bad = s.clone();
        bad.grant.as_mut().unwrap().head_sha = "HEAD".into();
        assert!(decode(&encode(&bad)).unwrap_err().contains("malformed"));
        let mut accepted = s;
        accepted.acceptances.push(Acceptance {
            metric: "a.p50_ms".into(),
            by: "maint".into(),
            role: "maintain".into(),
            reason: "intended".into(),
            head_sha: "b".repeat(40),
            at: "2026-11-30T00:00:00Z".into(),
            comment_id: 7,
        });
        assert_eq!(decode(&encode(&accepted)).unwrap(), Some(accepted.clone()));
        accepted.acceptances[0].metric = "a b".into();
        assert!(decode(&encode(&accepted))
            .unwrap_err()
            .contains("acceptance"));
    }

    #[test]
    fn a_record_replaces_the_one_in_a_body_or_follows_the_marker() {
        let old = GateState::new("bench-gate");
        let mut new = GateState::new("bench-gate");
        new.grant = Some(grant());
        let marker = "<!-- bench-gate:comment check=\"bench-gate\" -->";
        let body = format!("{marker}\n{}\n### Failed\nrest", encode(&old));
        let out = with_record(&body, &new);
        assert_eq!(out, format!("{marker}\n{}\n### Failed\nrest", encode(&new)));
        let out = with_record(&format!("{marker}\n### Failed"), &new);
        assert_eq!(out, format!("{marker}\n{}\n### Failed", encode(&new)));
        assert_eq!(decode(&with_record(marker, &new)).unwrap(), Some(new));
    }
}
