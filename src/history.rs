//! A compact record of results over time (JSON Lines, one run per line),
//! and its trend charts as SVG or HTML, so reviewers see whether a change
//! is a step or drift.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::escape::html as esc;
use crate::model::Results;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    pub workload: String,
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
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a history entry", path.display(), i + 1))
        })
        .collect()
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
    let mut text = String::new();
    for e in &entries {
        text.push_str(&serde_json::to_string(e)?);
        text.push('\n');
    }
    crate::fsutil::write_atomic(path, text.as_bytes())?;
    Ok(entries.len())
}

/// One line chart per metric, x = run (oldest left), y = value; each point's
/// tooltip names the commit.
pub fn svg(entries: &[Entry], only: Option<&str>) -> String {
    let mut names: Vec<String> = entries
        .iter()
        .flat_map(|e| e.metrics.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    if let Some(m) = only {
        names.retain(|n| n == m);
    }
    let (w, h, pad) = (640.0, 150.0, 40.0);
    let total_h = h * names.len().max(1) as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{total_h}\" viewBox=\"0 0 {w} {total_h}\" font-family=\"sans-serif\" font-size=\"11\">\n"
    );
    for (row, name) in names.iter().enumerate() {
        let y0 = row as f64 * h;
        let pts: Vec<(usize, f64, &Entry)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.metrics.get(name).map(|v| (i, *v, e)))
            .collect();
        let unit = entries
            .iter()
            .rev()
            .find_map(|e| e.units.get(name))
            .cloned()
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{}\" font-weight=\"bold\">{}</text>",
            y0 + 14.0,
            esc(name)
        );
        if pts.is_empty() {
            continue;
        }
        let lo = pts.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        let hi = pts.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
        let (lo, hi) = (lo - span * 0.1, hi + span * 0.1);
        let n = entries.len().max(2) - 1;
        let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n as f64;
        let y = |v: f64| y0 + h - 20.0 - (h - 45.0) * (v - lo) / (hi - lo);
        let path: Vec<String> = pts
            .iter()
            .map(|(i, v, _)| format!("{:.1},{:.1}", x(*i), y(*v)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"#3b82f6\" stroke-width=\"1.5\" points=\"{}\"/>",
            path.join(" ")
        );
        for (i, v, e) in &pts {
            let commit = e
                .commit
                .as_deref()
                .map(|c| &c[..c.len().min(7)])
                .unwrap_or("");
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#1d4ed8\"><title>{} {} {v:.4} {}</title></circle>",
                x(*i),
                y(*v),
                esc(&e.time),
                esc(commit),
                esc(&unit)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{:.1}\">{:.4} {}</text>",
            y(hi) + 8.0,
            hi,
            esc(&unit)
        );
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{:.1}\">{:.4} {}</text>",
            y(lo),
            lo,
            esc(&unit)
        );
    }
    s.push_str("</svg>\n");
    s
}

pub fn html(entries: &[Entry], only: Option<&str>) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bench-gate history</title></head><body style=\"font-family:sans-serif\">\n<h1>bench-gate history</h1>\n<p>{} runs, oldest left; hover a point for its commit.</p>\n{}</body></html>\n",
        entries.len(),
        svg(entries, only)
    )
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
            metrics: [("a.latency_ms".to_string(), v)].into_iter().collect(),
            units: [("a.latency_ms".to_string(), "ms".to_string())]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn append_keeps_the_last_n_and_charts_every_point() {
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
        let svg = svg(&all, None);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<title>t c3abcde 15.0000 ms</title>"));
        std::fs::write(&f, "{bad\n").unwrap();
        assert!(load(&f)
            .unwrap_err()
            .to_string()
            .contains("h.jsonl:1: not a history entry"));
    }
}
