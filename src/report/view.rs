//! One table, formatted once: the rows every report shows (terminal,
//! Markdown, HTML), with units made human.

use serde::Serialize;

use super::escape::Rich;
use super::terminal::fmt_value;
use crate::compare::{Comparison, MetricComparison, Status, Verdict};
use crate::model::GateOn;
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
        Status::Skipped => "⏭️",
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
    let sign = if m.direction == crate::model::Direction::Higher {
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
        status: match m.counts_as {
            Some(Status::Failure) => "missing (failure)",
            Some(Status::Warning) => "missing (warning)",
            _ => m.status.label(),
        },
        icon: icon(m.effective_status()),
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

/// A titled table: in A/B mode there are two, the change against the base
/// commit measured side by side, then the change against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Markdown, its data escaped; empty without an A/B run (one table, no title).
    pub title: String,
    /// The same title as plain text, data as is (for renderers that escape it their way).
    pub title_text: String,
    pub rows: Vec<Row>,
    /// Lines under the table (scenarios not measured side by side), as Markdown.
    pub notes: Vec<String>,
    /// The same lines as plain text.
    pub notes_text: Vec<String>,
}

impl Section {
    fn new(title: Rich, rows: Vec<Row>, notes: Vec<Rich>) -> Section {
        Section {
            title: title.markdown,
            title_text: title.text,
            rows,
            notes_text: notes.iter().map(|n| n.text.clone()).collect(),
            notes: notes.into_iter().map(|n| n.markdown).collect(),
        }
    }
}

pub fn sections(c: &Comparison) -> Vec<Section> {
    let rows = |c: &Comparison| c.metrics.iter().map(row).collect::<Vec<_>>();
    let Some(sbs) = &c.side_by_side else {
        return vec![Section::new(Rich::new(), rows(c), Vec::new())];
    };
    let (base, order, pairs) = c.ab.as_ref().map_or(("base", "ABBA", 0), |a| {
        (
            a.base_label.as_str(),
            a.order.as_str(),
            a.pairs.values().copied().max().unwrap_or(0),
        )
    });
    // The base label is Markdown already (see `AbRun::base_label`).
    let ab_title = Rich::new()
        .words("Against the ")
        .markdown(base, base)
        .words(&format!(
            ", measured side by side on this runner ({pairs} pairs per scenario, "
        ))
        .data(order)
        .words(&format!(
            " order; median change = Hodges–Lehmann estimate of the paired ratios) · {}",
            role(c, GateOn::Ab)
        ));
    // Which commits were compared, when the base was chosen for a pull request.
    let compared = c.ab.as_ref().and_then(|a| {
        let how = a.base_how.as_deref()?;
        let short = |s: &str| s.chars().take(7).collect::<String>();
        Some(
            Rich::new()
                .words("Compared: head ")
                .code(&short(&a.head_commit))
                .words(" with base ")
                .code(&short(&a.base_commit))
                .words(", ")
                .data(how)
                .words("."),
        )
    });
    let mut skipped: Vec<Rich> =
        c.ab.iter()
            .flat_map(|a| &a.skipped)
            .map(|s| {
                // The reason may come from a fork's results.
                Rich::new()
                    .words("Scenario ")
                    .code(&s.scenario)
                    .words(" was not measured on the base commit: ")
                    .data(&s.reason)
            })
            .chain(
                c.ab.iter()
                    .filter_map(|a| a.base_config_error.as_deref())
                    .map(|e| {
                        Rich::new()
                            .words("The base commit's bench-gate.yml could not be used (")
                            .data(e)
                            .words("): it is treated as absent, so metrics it defines and the head's does not are not checked.")
                    }),
            )
            .collect();
    skipped.splice(0..0, compared);
    let baseline_title = if c.baseline_file == crate::baseline::NO_BASELINE {
        Rich::new().words(&format!(
            "No committed baseline yet: every metric is new · {}",
            role(c, GateOn::Baseline)
        ))
    } else {
        Rich::new()
            .words("Against the committed baseline ")
            .code(&c.baseline_file)
            .words(" (version ")
            .data(&c.baseline_version)
            .words(&format!(") · {}", role(c, GateOn::Baseline)))
    };
    vec![
        Section::new(ab_title, rows(sbs), skipped),
        Section::new(baseline_title, rows(c), Vec::new()),
    ]
}

/// ` (version V)` after a baseline's name; nothing when there is no
/// version (no baseline yet).
pub fn version_suffix(version: &str) -> String {
    if version.is_empty() {
        String::new()
    } else {
        format!(" (version {version})")
    }
}

/// One line a person understands in ten seconds: the verdict of the view
/// that decides (in A/B mode, saying which).
pub fn verdict_line(c: &Comparison) -> String {
    let (Some(_), Some(gate_on)) = (&c.side_by_side, c.gate_on) else {
        return counts_line(c.verdict, &c.counts);
    };
    let against_base = format!(
        "against the {}, measured side by side",
        c.ab.as_ref().map_or("base", |a| a.base_label.as_str())
    );
    let (view, side_by_side) = c.deciding_view();
    let verdict = if side_by_side {
        view.verdict
    } else {
        c.baseline_verdict()
    };
    let what = match (side_by_side, gate_on) {
        (true, GateOn::Both) => format!("{against_base}; the worse of both views"),
        (true, _) => against_base,
        (false, GateOn::Both) => "against the committed baseline; the worse of both views".into(),
        (false, _) => "against the committed baseline".into(),
    };
    format!("{} ({what})", counts_line(verdict, &view.counts))
}

/// What a view's role is in A/B mode.
pub fn role(c: &Comparison, view: GateOn) -> &'static str {
    match c.gate_on {
        Some(GateOn::Both) => "decides, with the other view",
        Some(g) if g == view => "decides the check",
        _ => "for information",
    }
}

fn counts_line(verdict: Verdict, counts: &crate::compare::Counts) -> String {
    use crate::model::MissingPolicy;
    let c = counts;
    let n = |k: usize, what: &str| format!("{k} metric{} {what}", if k == 1 { "" } else { "s" });
    // Missing metrics, said with the level they count at (or as ignored).
    let missing = |level: MissingPolicy, first: bool| match c.missing {
        0 => String::new(),
        m if c.missing_policy == level && first => n(m, "missing from the results"),
        m if c.missing_policy == level => format!(", {}", n(m, "missing from the results")),
        _ => String::new(),
    };
    let ignored = if c.missing > 0 && c.missing_policy == MissingPolicy::Ignore {
        format!(
            " ({} ignored: missing: ignore)",
            n(c.missing, "missing from the results")
        )
    } else {
        String::new()
    };
    let line = match verdict {
        Verdict::Fail if c.failure == 0 => format!(
            "❌ **Failed**: {}{}",
            missing(MissingPolicy::Fail, true),
            if c.warning > 0 {
                format!(", {} the warning threshold", n(c.warning, "above"))
            } else {
                String::new()
            }
        ),
        Verdict::Fail => format!(
            "❌ **Failed**: {} the failure threshold{}{}",
            n(c.failure, "above"),
            missing(MissingPolicy::Fail, false),
            if c.warning > 0 {
                format!(", {} the warning threshold", n(c.warning, "above"))
            } else {
                String::new()
            }
        ),
        Verdict::Warn if c.warning == 0 => format!(
            "⚠️ **Passed with warnings**: {}",
            missing(MissingPolicy::Warn, true)
        ),
        Verdict::Warn => format!(
            "⚠️ **Passed with warnings**: {} the warning threshold{}",
            n(c.warning, "above"),
            missing(MissingPolicy::Warn, false)
        ),
        Verdict::Pass => format!(
            "✅ **Passed**: {} within thresholds{}{ignored}",
            n(c.pass + c.improved, "are"),
            if c.improved > 0 {
                format!(" ({} improved)", c.improved)
            } else {
                String::new()
            }
        ),
    };
    if c.skipped > 0 {
        format!(
            "{line}; {} (not measured here, see the table)",
            n(c.skipped, "skipped")
        )
    } else {
        line
    }
}
