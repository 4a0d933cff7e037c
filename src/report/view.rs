//! One table, formatted once: the rows every report shows (terminal,
//! Markdown, HTML), with units made human.

use serde::Serialize;

use super::terminal::fmt_value;
use crate::compare::{Comparison, MetricComparison, Status, Verdict};
use crate::stats::Summary;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub baseline: String,
    pub current: String,
    pub change: String,
    pub threshold: String,
    pub status: &'static str,
    pub icon: &'static str,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetailRow {
    pub name: String,
    pub side: &'static str,
    pub n: usize,
    pub p50: String,
    pub p95: String,
    pub p99: String,
    pub mean_sd: String,
    pub cv: String,
    pub outliers: usize,
}

pub fn icon(s: Status) -> &'static str {
    match s {
        Status::Failure => "❌",
        Status::Warning => "⚠️",
        Status::Missing => "❔",
        Status::New => "🆕",
        Status::Pass => "✅",
        Status::Improved => "✨",
    }
}

pub fn fmt_pct(p: f64) -> String {
    if p.abs() < 0.05 {
        "0.0%".into()
    } else {
        format!("{p:+.1}%")
    }
}

pub fn row(m: &MetricComparison) -> Row {
    let v = |x: Option<f64>| {
        x.map(|x| fmt_value(x, &m.unit))
            .unwrap_or_else(|| "—".into())
    };
    let sign = if m.direction == crate::workload::Direction::Higher {
        "−"
    } else {
        "+"
    };
    Row {
        name: m.name.clone(),
        baseline: v(m.baseline),
        current: v(m.current),
        change: match (m.change_pct, m.interval) {
            (Some(c), Some(i)) => format!("{} [{}, {}]", fmt_pct(c), fmt_pct(i.lo), fmt_pct(i.hi)),
            (Some(c), None) => fmt_pct(c),
            _ => "—".into(),
        },
        threshold: format!(
            "{sign}{}% / {sign}{}%",
            trim_num(m.thresholds.warning),
            trim_num(m.thresholds.failure)
        ),
        status: m.status.label(),
        icon: icon(m.status),
        note: m.note.clone().unwrap_or_default(),
    }
}

fn trim_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

fn detail(name: &str, side: &'static str, s: &Summary, unit: &str) -> DetailRow {
    DetailRow {
        name: name.to_string(),
        side,
        n: s.n,
        p50: fmt_value(s.p50, unit),
        p95: fmt_value(s.p95, unit),
        p99: fmt_value(s.p99, unit),
        mean_sd: format!(
            "{} ± {}",
            fmt_value(s.mean, unit),
            fmt_value(s.stddev, unit)
        ),
        cv: format!("{:.1}%", s.cv * 100.0),
        outliers: s.outliers.len(),
    }
}

pub fn details(c: &Comparison) -> Vec<DetailRow> {
    let mut out = Vec::new();
    for m in &c.metrics {
        if let Some(s) = &m.baseline_summary {
            out.push(detail(&m.name, "baseline", s, &m.unit));
        }
        if let Some(s) = &m.current_summary {
            out.push(detail(&m.name, "current", s, &m.unit));
        }
    }
    out
}

/// One line a person understands in ten seconds.
pub fn verdict_line(c: &Comparison) -> String {
    let n = |k: usize, what: &str| format!("{k} metric{} {what}", if k == 1 { "" } else { "s" });
    match c.verdict {
        Verdict::Fail => format!(
            "❌ **Failed**: {} the failure threshold{}",
            n(c.counts.failure, "above"),
            if c.counts.warning > 0 {
                format!(", {} the warning threshold", n(c.counts.warning, "above"))
            } else {
                String::new()
            }
        ),
        Verdict::Warn => format!(
            "⚠️ **Passed with warnings**: {} the warning threshold",
            n(c.counts.warning, "above")
        ),
        Verdict::Pass => format!(
            "✅ **Passed**: {} within thresholds{}",
            n(c.counts.pass + c.counts.improved, "are"),
            if c.counts.improved > 0 {
                format!(" ({} improved)", c.counts.improved)
            } else {
                String::new()
            }
        ),
    }
}
