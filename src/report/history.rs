//! The history's trend charts as SVG or HTML (the record itself is
//! [`crate::history`]), so reviewers see whether a change is a step or drift.

use std::fmt::Write;

use super::escape::html as esc;
use super::svg::{bold_width, text_width};
use super::terminal::fmt_value;
use crate::history::Entry;

/// A chart's width, unless a label needs more, and one metric's height.
const W: f64 = 640.0;
const ROW_H: f64 = 150.0;
/// Right of the last point, and the narrowest the plot may be.
const RIGHT: f64 = 40.0;
const MIN_PLOT: f64 = 240.0;
const FONT_PX: f64 = 11.0;
/// Left of every label, and between the axis labels and the plot.
const MARGIN: f64 = 4.0;
const GAP: f64 = 8.0;

/// One line chart per metric, x = run (oldest left), y = value; each point's
/// tooltip names the commit. The lowest and highest values of the axis
/// stand left of the plot, which starts right of the wider of them; the
/// chart widens for a metric name longer than it is.
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
    let charts: Vec<Chart> = names.iter().map(|n| Chart::new(entries, n)).collect();
    let left = charts
        .iter()
        .filter_map(Chart::axis_labels)
        .flat_map(|(lo, hi)| [text_width(&lo, FONT_PX), text_width(&hi, FONT_PX)])
        .fold(0.0, f64::max);
    let left = (MARGIN + left + GAP).max(RIGHT);
    let w = charts
        .iter()
        .map(|c| MARGIN + bold_width(c.name, FONT_PX) + MARGIN)
        .fold(W.max(left + MIN_PLOT + RIGHT), f64::max)
        .ceil();
    let total_h = ROW_H * names.len().max(1) as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{total_h}\" viewBox=\"0 0 {w} {total_h}\" font-family=\"sans-serif\" font-size=\"{FONT_PX}\">\n"
    );
    for (row, chart) in charts.iter().enumerate() {
        chart.draw(&mut s, entries, row as f64 * ROW_H, left, w - RIGHT);
    }
    s.push_str("</svg>\n");
    s
}

/// One metric's line.
struct Chart<'a> {
    name: &'a str,
    unit: String,
    /// (run index, value, run) for each run that measured it.
    points: Vec<(usize, f64, &'a Entry)>,
    /// The value axis, lowest and highest: the values' span with a tenth
    /// more below and above; none without a point.
    range: Option<(f64, f64)>,
}

impl<'a> Chart<'a> {
    fn new(entries: &'a [Entry], name: &'a str) -> Chart<'a> {
        let points: Vec<(usize, f64, &Entry)> = entries
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
        let range = (!points.is_empty()).then(|| {
            let lo = points.iter().map(|p| p.1).fold(f64::MAX, f64::min);
            let hi = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
            (lo - span * 0.1, hi + span * 0.1)
        });
        Chart {
            name,
            unit,
            points,
            range,
        }
    }

    /// The axis' lowest and highest values, as shown.
    fn axis_labels(&self) -> Option<(String, String)> {
        self.range
            .map(|(lo, hi)| (fmt_value(lo, &self.unit), fmt_value(hi, &self.unit)))
    }

    /// Draws this chart in the row starting at `y0`, its plot from x
    /// `left` to `right`.
    fn draw(&self, s: &mut String, entries: &[Entry], y0: f64, left: f64, right: f64) {
        let _ = writeln!(
            s,
            "<text x=\"{MARGIN}\" y=\"{}\" font-weight=\"bold\">{}</text>",
            y0 + 14.0,
            esc(self.name)
        );
        let (Some((lo, hi)), Some((lo_label, hi_label))) = (self.range, self.axis_labels()) else {
            return;
        };
        let n = entries.len().max(2) - 1;
        let x = |i: usize| left + (right - left) * i as f64 / n as f64;
        let y = |v: f64| y0 + ROW_H - 20.0 - (ROW_H - 45.0) * (v - lo) / (hi - lo);
        let path: Vec<String> = self
            .points
            .iter()
            .map(|(i, v, _)| format!("{:.1},{:.1}", x(*i), y(*v)))
            .collect();
        let _ = writeln!(
            s,
            "<line x1=\"{left:.1}\" x2=\"{left:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d1d5db\"/>",
            y(hi),
            y(lo)
        );
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"#3b82f6\" stroke-width=\"1.5\" points=\"{}\"/>",
            path.join(" ")
        );
        for (i, v, e) in &self.points {
            // Char-safe: a history file's commit is not always a SHA.
            let commit: String = e
                .commit
                .as_deref()
                .map(|c| c.chars().take(7).collect())
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#1d4ed8\"><title>{} {} {v:.4} {}</title></circle>",
                x(*i),
                y(*v),
                esc(&e.time),
                esc(&commit),
                esc(&self.unit)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{MARGIN}\" y=\"{:.1}\">{}</text>",
            y(hi) + 8.0,
            esc(&hi_label)
        );
        let _ = writeln!(
            s,
            "<text x=\"{MARGIN}\" y=\"{:.1}\">{}</text>",
            y(lo),
            esc(&lo_label)
        );
    }
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

    fn entry(metrics: &[(&str, f64, &str)], commit: &str) -> Entry {
        Entry {
            time: "t".into(),
            commit: Some(commit.into()),
            git_ref: None,
            workload: "w".into(),
            fingerprint: None,
            metrics: metrics
                .iter()
                .map(|(k, v, _)| (k.to_string(), *v))
                .collect(),
            units: metrics
                .iter()
                .map(|(k, _, u)| (k.to_string(), u.to_string()))
                .collect(),
        }
    }

    /// The first number in `s` after `needle`.
    fn number_after(s: &str, needle: &str) -> f64 {
        let i = s.find(needle).unwrap() + needle.len();
        let end = s[i..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap();
        s[i..i + end].parse().unwrap()
    }

    #[test]
    fn charts_every_point_with_its_commit() {
        let all: Vec<Entry> = [11.0, 10.5, 15.0]
            .iter()
            .enumerate()
            .map(|(i, v)| entry(&[("a.latency_ms", *v, "ms")], &format!("c{i}abcdef1234")))
            .collect();
        let svg = svg(&all, None);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<title>t c2abcde 15.0000 ms</title>"));
        // The axis: 10.5 - 0.45 and 15 + 0.45, in the metric's unit.
        assert!(svg.contains(">10.1 ms</text>"), "{svg}");
        assert!(svg.contains(">15.4 ms</text>"), "{svg}");
        assert_eq!(number_after(&svg, "width=\""), W);
    }

    #[test]
    fn the_plot_starts_right_of_the_axis_labels_and_a_long_name_widens_the_chart() {
        let long = format!("{}.latency_ms", "a_long_scenario_name_".repeat(6));
        let all = [
            entry(
                &[
                    ("big.latency_ms", 1_234_567_890.0, "ms"),
                    (long.as_str(), 1.0, "ms"),
                ],
                "c1",
            ),
            entry(
                &[
                    ("big.latency_ms", 1_034_567_890.0, "ms"),
                    (long.as_str(), 2.0, "ms"),
                ],
                "c2",
            ),
        ];
        let svg = svg(&all, None);
        let hi = fmt_value(1_254_567_890.0, "ms");
        assert_eq!(hi, "1254567.89 s");
        let first_point = number_after(&svg, "<circle cx=\"");
        assert!(
            first_point >= MARGIN + text_width(&hi, FONT_PX) + GAP,
            "{svg}"
        );
        let width = number_after(&svg, "width=\"");
        assert!(width >= MARGIN + bold_width(&long, FONT_PX), "{svg}");
        assert!(
            svg.contains(&format!("viewBox=\"0 0 {width} 300\"")),
            "{svg}"
        );
        // One metric only: the other is not drawn.
        let one = super::svg(&all, Some("big.latency_ms"));
        assert_eq!(one.matches("<polyline").count(), 1);
        assert!(!one.contains(&long));
    }
}
