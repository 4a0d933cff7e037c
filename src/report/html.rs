//! A self-contained HTML report: inline CSS and one inline SVG chart per
//! metric, no scripts, fonts or images from anywhere (it opens offline).

use std::fmt::Write;

use super::escape::html as esc;
use super::svg::text_width;
use super::terminal::fmt_value;
use super::view;
use crate::compare::{Comparison, MetricComparison};

/// A chart's width, unless its labels need more.
const W: f64 = 560.0;
/// Where the bars start, right of "baseline" and "current".
const LEFT: f64 = 90.0;
/// The narrowest the bars' scale may become to make room for the labels.
const MIN_BARS: f64 = 200.0;
/// The font sizes the page's style sets for chart labels and the legend.
const LABEL_PX: f64 = 11.0;
const LEGEND_PX: f64 = 10.0;
/// Between a bar's end and its value label.
const GAP: f64 = 4.0;
const LEGEND: &str = "dashed: warning (orange) and failure (red) limits · dots: raw samples";

/// Bars for baseline and current, each with its value at its end, the
/// warning and failure limits as lines, and each raw sample as a dot under
/// its bar. The scale stops short of the right edge by the longest value
/// label, so no label runs past it.
fn chart(m: &MetricComparison) -> String {
    let b = m.baseline.unwrap_or(0.0);
    let c = m.current.unwrap_or(0.0);
    let limit = |pct: f64| match m.direction {
        crate::model::Direction::Lower => b * (1.0 + pct / 100.0),
        crate::model::Direction::Higher => b * (1.0 - pct / 100.0),
    };
    let (warn, fail) = (limit(m.thresholds.warning), limit(m.thresholds.failure));
    let samples = |s: &Option<crate::stats::Summary>| s.as_ref().map(|s| s.max).unwrap_or(0.0);
    let max = [
        b,
        c,
        warn,
        fail,
        samples(&m.baseline_summary),
        samples(&m.current_summary),
    ]
    .into_iter()
    .fold(f64::MIN_POSITIVE, f64::max)
        * 1.05;
    let value_label = |v: Option<f64>| v.map(|v| fmt_value(v, &m.unit));
    let room = [value_label(m.baseline), value_label(m.current)]
        .iter()
        .flatten()
        .map(|l| text_width(l, LABEL_PX))
        .fold(0.0, f64::max)
        + GAP
        + 4.0;
    let w = W
        .max(LEFT + MIN_BARS + room)
        .max(LEFT + text_width(LEGEND, LEGEND_PX) + 4.0)
        .ceil();
    let x = |v: f64| LEFT + (v / max) * (w - LEFT - room);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} 110\" width=\"{w}\" height=\"110\" role=\"img\" aria-label=\"{}\">",
        esc(&m.name)
    );
    let bar = |svg: &mut String, y: f64, label: &str, v: Option<f64>, class: &str| {
        let _ = write!(svg, "<text x=\"4\" y=\"{}\">{label}</text>", y + 14.0);
        if let (Some(v), Some(text)) = (v, value_label(v)) {
            let _ = write!(
                svg,
                "<rect class=\"{class}\" x=\"{LEFT}\" y=\"{y}\" width=\"{:.1}\" height=\"20\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
                (x(v) - LEFT).max(1.0),
                x(v) + GAP,
                y + 14.0,
                esc(&text)
            );
        }
    };
    bar(&mut svg, 8.0, "baseline", m.baseline, "base");
    bar(
        &mut svg,
        48.0,
        "current",
        m.current,
        &format!("cur {}", m.status.label()),
    );
    if m.baseline.is_some_and(|b| b > 0.0) {
        for (v, class) in [(warn, "warn"), (fail, "fail")] {
            let _ = write!(
                svg,
                "<line class=\"{class}\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"2\" y2=\"92\"/>",
                x(v),
                x(v)
            );
        }
    }
    for (summary, samples_y, values) in [
        (&m.baseline_summary, 32.0, m.baseline_samples.as_deref()),
        (&m.current_summary, 72.0, m.current_samples.as_deref()),
    ] {
        if summary.is_some() {
            for v in values.unwrap_or(&[]) {
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{samples_y}\" r=\"2\"/>",
                    x(*v)
                );
            }
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{LEFT}\" y=\"106\" class=\"legend\">{LEGEND}</text></svg>"
    );
    svg
}

fn table(h: &mut String, rows: &[view::Row]) {
    h.push_str("<table><tr><th>Metric</th><th>Baseline</th><th>Current</th><th>Change</th><th>Threshold</th><th>Status</th></tr>\n");
    for r in rows {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}{}</td></tr>",
            esc(&r.name),
            esc(&r.baseline),
            esc(&r.current),
            esc(&r.change),
            esc(&r.threshold),
            r.icon,
            r.status,
            if r.note.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&r.note))
            }
        );
    }
    h.push_str("</table>\n");
}

pub fn report(c: &Comparison) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bench-gate report</title><style>\
body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}}\
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}\
td:first-child,th:first-child{{text-align:left}}td:not(:first-child){{white-space:nowrap}}code{{font-size:.9em}}\
.chart text{{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}}.chart .legend{{fill:#666;font-size:10px}}\
.base{{fill:#9aa5b1}}.cur{{fill:#3b82f6}}.cur.failure{{fill:#dc2626}}.cur.warning{{fill:#f59e0b}}.cur.improved{{fill:#16a34a}}\
.warn{{stroke:#f59e0b;stroke-dasharray:4 3}}.fail{{stroke:#dc2626;stroke-dasharray:4 3}}circle{{fill:#111;opacity:.5}}\
section{{margin:1.5rem 0}}</style></head><body>\n<h1>bench-gate report</h1>\n<p>{}</p>\n<p>Workload <b>{}</b> compared with baseline <code>{}</code>{}.</p>\n",
        esc(&view::verdict_line(c).replace("**", "")),
        esc(&c.workload),
        esc(&c.baseline_file),
        esc(&view::version_suffix(&c.baseline_version))
    );
    for section in view::sections(c) {
        if !section.title_text.is_empty() {
            let _ = writeln!(h, "<h2>{}</h2>", esc(&section.title_text));
        }
        table(&mut h, &section.rows);
        for n in &section.notes_text {
            let _ = writeln!(h, "<p>{}</p>", esc(n));
        }
    }
    for m in &c.metrics {
        let _ = writeln!(
            h,
            "<section><h3><code>{}</code></h3>{}</section>",
            esc(&m.name),
            chart(m)
        );
    }
    h.push_str(&crate::report::why::html(&c.why));
    h.push_str(
        "<h2>Environment</h2><table><tr><th>Key</th><th>Baseline</th><th>This run</th></tr>\n",
    );
    let keys: std::collections::BTreeSet<&String> = c
        .baseline_environment
        .keys()
        .chain(c.current_environment.keys())
        .collect();
    for k in keys {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(k),
            esc(c.baseline_environment.get(k).map_or("—", |s| s)),
            esc(c.current_environment.get(k).map_or("—", |s| s))
        );
    }
    h.push_str("</table></body></html>\n");
    h
}
