//! Terminal tables (comfy-table).

use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};

use super::escape::log as esc;
use crate::model::Results;

pub use crate::model::units::{fmt_ms, fmt_value};

/// The run table: one row per scenario with its wall-time distribution.
pub fn results_table(results: &Results) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "scenario",
        "P50",
        "P95",
        "P99",
        "mean ± sd",
        "peak MB",
        "n",
        "outliers",
    ]);
    for s in &results.scenarios {
        let Some(w) = s.summaries.get("wall_ms") else {
            continue;
        };
        let peak = s
            .summaries
            .get("peak_mb")
            .map(|p| format!("{:.1}", p.max))
            .unwrap_or_default();
        t.add_row(vec![
            esc(&s.name),
            fmt_ms(w.p50),
            fmt_ms(w.p95),
            fmt_ms(w.p99),
            format!("{} ± {}", fmt_ms(w.mean), fmt_ms(w.stddev)),
            peak,
            w.n.to_string(),
            w.outliers.len().to_string(),
        ]);
    }
    for i in 1..8 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t.to_string();
    out.push('\n');
    out
}

/// The comparison table: metric, baseline, current, change, threshold,
/// status. Every value from data goes through [`esc`]: this is printed to
/// the log, where a line can be a workflow command.
pub fn comparison_table(c: &crate::compare::Comparison) -> String {
    use super::view;
    use crate::model::GateOn;
    let mut out = format!("{}\n", view::verdict_line(c).replace("**", ""));
    if let Some(sbs) = &c.side_by_side {
        out.push_str(&format!(
            "\nagainst {} ({})\n",
            esc(&sbs.baseline_file),
            view::role(c, GateOn::Ab)
        ));
        out.push_str(&metrics_table(sbs));
        if let Some(ab) = &c.ab {
            for s in &ab.skipped {
                out.push_str(&format!(
                    "not side by side: scenario {}: {}\n",
                    esc(&s.scenario),
                    esc(&s.reason)
                ));
            }
            if let Some(e) = &ab.base_config_error {
                out.push_str(&format!(
                    "the base commit's bench-gate.yml could not be used ({e}): treated as absent, so metrics only it defines are not checked\n"
                ));
            }
        }
        out.push_str(&format!(
            "\nagainst the committed baseline {}{} · workload {} ({})\n",
            esc(&c.baseline_file),
            esc(&view::version_suffix(&c.baseline_version)),
            esc(&c.workload),
            view::role(c, GateOn::Baseline)
        ));
    } else {
        out.push_str(&format!(
            "baseline {}{} · workload {}\n",
            esc(&c.baseline_file),
            esc(&view::version_suffix(&c.baseline_version)),
            esc(&c.workload)
        ));
    }
    out.push_str(&metrics_table(c));
    if !c.environment_differences.is_empty() {
        out.push_str("environment differs from the baseline's:\n");
        for d in &c.environment_differences {
            out.push_str(&format!(
                "  {}: {} (baseline) vs {} (this run)\n",
                esc(&d.key),
                esc(&d.baseline),
                esc(&d.current)
            ));
        }
    }
    out
}

/// One view's table, then its metrics' notes.
fn metrics_table(c: &crate::compare::Comparison) -> String {
    use super::view;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "metric",
        "baseline",
        "current",
        "change",
        "threshold",
        "status",
    ]);
    for m in &c.metrics {
        let r = view::row(m);
        t.add_row(vec![
            esc(&r.name),
            esc(&r.baseline),
            esc(&r.current),
            r.change,
            r.threshold,
            r.status.to_string(),
        ]);
    }
    for i in 1..5 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t.to_string();
    out.push('\n');
    for m in c.metrics.iter().filter(|m| m.note.is_some()) {
        out.push_str(&format!(
            "note: {}: {}\n",
            esc(&m.name),
            esc(m.note.as_deref().unwrap_or(""))
        ));
    }
    out
}

/// `calibrate`'s table: per metric the A/A noise, the smallest detectable
/// change, and the thresholds proposed (with the defaults beside them).
pub fn calibration_table(noise: &[crate::compare::calibration::Noise]) -> String {
    let pct = |v: Option<f64>| v.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "–".into());
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "metric",
        "pairs",
        "noise (sd of log-ratios)",
        "detectable (1% / 90%)",
        "proposed warn / fail",
        "default warn / fail",
    ]);
    for n in noise {
        let name = match &n.note {
            Some(note) => format!("{}\n  ({})", esc(&n.name), esc(note)),
            None => esc(&n.name),
        };
        t.add_row(vec![
            name,
            n.pairs.to_string(),
            pct(n.noise_pct),
            pct(n.detectable_pct),
            format!("+{}% / +{}%", n.proposed.warning, n.proposed.failure),
            format!("+{}% / +{}%", n.default.warning, n.default.failure),
        ]);
    }
    for i in 1..6 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t.to_string();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(fmt_ms(0.4567), "0.46 ms");
        assert_eq!(fmt_ms(12.34), "12.3 ms");
        assert_eq!(fmt_ms(1500.0), "1.50 s");
        assert_eq!(fmt_value(512.0, "MB"), "512.0 MB");
        assert_eq!(fmt_value(3.0, "ops/s"), "3 ops/s");
    }

    /// Without a baseline there is no version to show: no "(version )".
    #[test]
    fn no_baseline_shows_no_empty_version() {
        let r = crate::model::Results::parse(
            "r",
            r#"{"schema_version": 1, "tool": "bench-gate", "tool_version": "0", "created_at": "x",
                "workload": "w", "environment": {}, "scenarios": [],
                "metrics": {"a_ms": {"value": 1.0, "unit": "ms"}}}"#,
        )
        .unwrap();
        let none = crate::compare::compare(
            &crate::baseline::Baseline::default(),
            crate::baseline::NO_BASELINE,
            &r,
            Default::default(),
        );
        let with = crate::compare::compare(
            &crate::baseline::Baseline::parse("b", "version: '1.2.0'\nmetrics:\n  a_ms: 1\n")
                .unwrap(),
            "b.yaml",
            &r,
            Default::default(),
        );
        for (c, version) in [(&none, false), (&with, true)] {
            for text in [
                comparison_table(c),
                crate::report::markdown::report(c),
                crate::report::html::report(c),
            ] {
                assert!(!text.contains("(version )"), "{text}");
                assert_eq!(text.contains("(version 1.2.0"), version, "{text}");
            }
        }
        // `compare --format markdown` leads with the verdict.
        let md = crate::report::markdown::verdict_and_table(&with);
        assert!(
            md.starts_with(&crate::report::view::verdict_line(&with)),
            "{md}"
        );
        assert!(md.contains("a_ms"), "{md}");
    }
}
