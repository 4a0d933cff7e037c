//! A compact record of results over time (JSON Lines, one run per line).
//! Its trend charts are drawn by [`crate::report::history`].

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::Results;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    pub workload: String,
    /// The runner's environment fingerprint (main's history only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub metrics: BTreeMap<String, f64>,
    #[serde(default)]
    pub units: BTreeMap<String, String>,
}

pub fn entry(results: &Results, commit: Option<String>, git_ref: Option<String>) -> Entry {
    Entry {
        time: results.created_at.clone(),
        commit,
        git_ref,
        workload: results.workload.clone(),
        fingerprint: None,
        metrics: results
            .metrics
            .iter()
            .map(|(k, m)| (k.clone(), m.value))
            .collect(),
        units: results
            .metrics
            .iter()
            .map(|(k, m)| (k.clone(), m.unit.clone()))
            .collect(),
    }
}

pub fn load(path: &Path) -> Result<Vec<Entry>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    parse(&text, &path.display().to_string())
}

/// Entries from JSON Lines text; `name` (a file) names a bad line.
pub fn parse(text: &str, name: &str) -> Result<Vec<Entry>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{name}:{}: not a history entry", i + 1))
        })
        .collect()
}

/// JSON Lines text of `entries`, the inverse of [`parse`].
pub fn to_text(entries: &[Entry]) -> String {
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).expect("an entry serialises"));
        text.push('\n');
    }
    text
}

/// Appends an entry: the whole file is written aside and renamed, so a
/// failure never leaves a torn line.
pub fn append(path: &Path, e: &Entry, keep: Option<usize>) -> Result<usize> {
    let mut entries = load(path)?;
    entries.push(e.clone());
    if let Some(k) = keep {
        let drop = entries.len().saturating_sub(k);
        entries.drain(..drop);
    }
    crate::fsutil::write_atomic(path, to_text(&entries).as_bytes())?;
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: f64, commit: &str) -> Entry {
        Entry {
            time: "t".into(),
            commit: Some(commit.into()),
            git_ref: None,
            workload: "w".into(),
            fingerprint: None,
            metrics: [("a.latency_ms".to_string(), v)].into_iter().collect(),
            units: [("a.latency_ms".to_string(), "ms".to_string())]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn append_keeps_the_last_n_and_names_a_bad_line() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("h.jsonl");
        for (i, v) in [10.0, 11.0, 10.5, 15.0].iter().enumerate() {
            append(&f, &e(*v, &format!("c{i}abcdef1234")), Some(3)).unwrap();
        }
        let all = load(&f).unwrap();
        assert_eq!(
            all.iter()
                .map(|x| x.metrics["a.latency_ms"])
                .collect::<Vec<_>>(),
            [11.0, 10.5, 15.0]
        );
        assert_eq!(all[2].commit.as_deref(), Some("c3abcdef1234"));
        std::fs::write(&f, "{bad\n").unwrap();
        assert!(load(&f)
            .unwrap_err()
            .to_string()
            .contains("h.jsonl:1: not a history entry"));
    }
}
