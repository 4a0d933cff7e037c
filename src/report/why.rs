//! "Why it got slower": the function tables of [`crate::model::Why`] for the
//! PR comment and the Markdown report (collapsed), for the HTML report (with
//! the flame graph inline), and the flame graph itself (a self-contained
//! SVG drawn by `inferno`), written beside the results file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::escape;
use crate::model::{FunctionCost, Results, Why, WhyKind};

/// A flame graph of `after`'s folded stacks; with `before`, a differential
/// one (red: more instructions in the head, blue: fewer).
pub fn flamegraph(title: &str, before: Option<&str>, after: &str) -> Result<String, String> {
    let mut folded = Vec::new();
    match before {
        Some(b) => inferno::differential::from_readers(
            inferno::differential::Options::default(),
            b.as_bytes(),
            after.as_bytes(),
            &mut folded,
        )
        .map_err(|e| format!("cannot fold the two profiles: {e}"))?,
        None => folded = after.as_bytes().to_vec(),
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_string();
    opts.count_name = "instructions".into();
    if before.is_some() {
        opts.subtitle =
            Some("red: more instructions in the head than in the base; blue: fewer".into());
    }
    let mut svg = Vec::new();
    inferno::flamegraph::from_reader(&mut opts, folded.as_slice(), &mut svg)
        .map_err(|e| format!("cannot draw the flame graph: {e}"))?;
    String::from_utf8(svg).map_err(|e| format!("the flame graph is not UTF-8: {e}"))
}

/// The flame graphs' files for results written to `results_path`:
/// `<results file name>.<scenario>.why.svg`, beside it.
pub fn flamegraph_path(results_path: &Path, scenario: &str) -> PathBuf {
    let safe: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = results_path
        .file_name()
        .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    results_path.with_file_name(format!("{name}.{safe}.why.svg"))
}

/// Writes each flame graph held in memory beside `results_path` (atomically)
/// and names it in the results; returns the results to write there.
pub fn save_beside(results_path: &Path, results: &Results) -> anyhow::Result<Results> {
    let mut r = results.clone();
    for w in &mut r.why {
        if let Some(svg) = &w.flamegraph_svg {
            let path = flamegraph_path(results_path, &w.scenario);
            crate::fsutil::write_atomic(&path, svg.as_bytes())?;
            crate::report::messages::wrote(&path);
            w.flamegraph = path.file_name().map(|n| n.to_string_lossy().into_owned());
        }
    }
    Ok(r)
}

/// Reads back the flame graphs named in results read from `results_path`,
/// for the HTML report (one missing or unreadable is left out). The names
/// were checked as plain file names when the results were read; in the
/// report the SVG is an image, whose scripts do not run.
pub fn load_beside(results_path: &Path, results: &mut Results) {
    for w in &mut results.why {
        let Some(name) = &w.flamegraph else {
            continue;
        };
        let p = results_path.with_file_name(name);
        if let Ok(svg) = crate::fsutil::read_capped_string(&p, crate::fsutil::MAX_DATA_BYTES) {
            if svg.contains("<svg") {
                w.flamegraph_svg = Some(svg);
            }
        }
    }
}

fn count(v: f64) -> String {
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

fn change(after: f64, before: Option<f64>) -> String {
    match before {
        None => "—".into(),
        Some(b) => {
            let d = after - b;
            let pct = if b > 0.0 {
                format!(" ({:+.1} %)", d / b * 100.0)
            } else {
                String::new()
            };
            format!("{}{}{pct}", if d > 0.0 { "+" } else { "" }, count(d))
        }
    }
}

fn place(f: &FunctionCost) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => String::new(),
    }
}

fn heading(w: &Why) -> String {
    match w.kind {
        WhyKind::Changed => format!(
            "Why it got slower: scenario {} ({}; under callgrind, base {} → head {} instructions)",
            w.scenario,
            w.metric,
            w.base_total.map_or("?".into(), count),
            count(w.head_total)
        ),
        WhyKind::Hottest => format!(
            "Where the instructions go: scenario {} ({} failed; no base tree to compare with, so the head's hottest functions, {} instructions under callgrind)",
            w.scenario,
            w.metric,
            count(w.head_total)
        ),
    }
}

/// The cells of one function's row: name, place, self before/after/change,
/// inclusive before/after/change.
fn cells(f: &FunctionCost) -> [String; 8] {
    let opt = |v: Option<f64>| v.map_or("—".into(), count);
    [
        f.name.clone(),
        place(f),
        opt(f.before_self),
        count(f.after_self),
        change(f.after_self, f.before_self),
        opt(f.before_inclusive),
        count(f.after_inclusive),
        change(f.after_inclusive, f.before_inclusive),
    ]
}

const HEAD: [&str; 8] = [
    "Function",
    "Where",
    "Self before",
    "Self after",
    "Self change",
    "Inclusive before",
    "Inclusive after",
    "Inclusive change",
];

/// Collapsed Markdown sections, one per scenario (empty without any).
pub fn markdown(why: &[Why]) -> String {
    let mut out = String::new();
    for w in why {
        let _ = writeln!(
            out,
            "<details><summary>{}</summary>\n",
            escape::md_text(&heading(w))
        );
        if w.functions.is_empty() {
            out.push_str("No function's instruction count changed.\n");
        } else {
            let _ = writeln!(out, "| {} |", HEAD.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(HEAD.len()));
            for f in &w.functions {
                let c = cells(f);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    escape::md_code_cell(&c[0]),
                    if c[1].is_empty() {
                        String::new()
                    } else {
                        escape::md_code_cell(&c[1])
                    },
                    c[2..]
                        .iter()
                        .map(|x| escape::md_text(x))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
            }
        }
        let _ = writeln!(
            out,
            "\n{}",
            escape::md_text(&format!(
                "Ordered by the change of self instructions (the function's own code); inclusive counts what it called too. The callgrind runs took {:.1} s.{}",
                w.seconds,
                match (&w.flamegraph, &w.flamegraph_svg) {
                    (Some(f), _) => format!(" Flame graph: {f} (in the results artifact)."),
                    (None, Some(_)) => " A flame graph is saved beside the results file (the results artifact) and shown in the HTML report.".into(),
                    _ => String::new(),
                }
            ))
        );
        out.push_str("\n</details>\n\n");
    }
    out
}

/// HTML sections, one per scenario, the flame graph inline as an image.
pub fn html(why: &[Why]) -> String {
    use base64::Engine as _;
    let mut h = String::new();
    for w in why {
        let _ = writeln!(
            h,
            "<section class=\"why\"><h2>{}</h2>",
            escape::html(&heading(w))
        );
        h.push_str("<table><tr>");
        for c in HEAD {
            let _ = write!(h, "<th>{c}</th>");
        }
        h.push_str("</tr>\n");
        for f in &w.functions {
            let c = cells(f);
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td><code>{}</code></td>",
                escape::html(&c[0]),
                escape::html(&c[1])
            );
            for x in &c[2..] {
                let _ = write!(h, "<td>{}</td>", escape::html(x));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
        if let Some(svg) = &w.flamegraph_svg {
            let _ = writeln!(
                h,
                "<p><img alt=\"flame graph of scenario {}\" style=\"max-width:100%\" src=\"data:image/svg+xml;base64,{}\"></p>",
                escape::html(&w.scenario),
                base64::engine::general_purpose::STANDARD.encode(svg)
            );
        }
        h.push_str("</section>\n");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why() -> Why {
        Why {
            scenario: "s|x".into(),
            metric: "s.instructions".into(),
            kind: WhyKind::Changed,
            base_total: Some(1000.0),
            head_total: 1900.0,
            functions: vec![FunctionCost {
                name: "slow<T>|".into(),
                file: Some("prog.c".into()),
                line: Some(3),
                before_self: Some(900.0),
                before_inclusive: Some(900.0),
                after_self: 1800.0,
                after_inclusive: 1800.0,
            }],
            flamegraph: Some("r.json.s_x.why.svg".into()),
            flamegraph_svg: None,
            seconds: 1.25,
        }
    }

    #[test]
    fn tables_are_collapsed_and_escaped() {
        let md = markdown(&[why()]);
        assert!(md.starts_with("<details><summary>Why it got slower: scenario s\\|x"));
        assert!(
            md.contains("| `prog.c:3` | 900 | 1,800 | +900 (+100.0 %) |"),
            "{md}"
        );
        assert!(md.contains("| `slow<"), "{md}");
        assert!(md.contains("Flame graph: r.json.s"), "{md}");
        assert!(md.trim_end().ends_with("</details>"));
        let h = html(&[why()]);
        assert!(h.contains("<code>slow&lt;T&gt;|</code>"), "{h}");
        assert_eq!(markdown(&[]), "");
    }

    #[test]
    fn a_differential_flame_graph_names_the_functions() {
        let svg = flamegraph(
            "t",
            Some("main;slow 900\nmain;fast 90\n"),
            "main;slow 1800\nmain;fast 90\n",
        )
        .unwrap();
        assert!(svg.contains("<svg"));
        assert!(svg.contains("slow"));
        let plain = flamegraph("t", None, "main;slow 1800\n").unwrap();
        assert!(plain.contains("slow"));
    }

    #[test]
    fn flame_graphs_are_written_beside_the_results_and_named_in_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = why();
        w.flamegraph = None;
        w.flamegraph_svg = Some("<svg/>".into());
        let results = Results {
            why: vec![w],
            ..crate::model::Results::parse(
                "r",
                r#"{"schema_version":1,"tool":"bench-gate","tool_version":"0.1.0","created_at":"x","workload":"w","environment":{},"scenarios":[],"metrics":{"s.instructions":{"value":1.0,"unit":"instructions","samples":[]}}}"#,
            )
            .unwrap()
        };
        let out = save_beside(&dir.path().join("r.json"), &results).unwrap();
        assert_eq!(out.why[0].flamegraph.as_deref(), Some("r.json.s_x.why.svg"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("r.json.s_x.why.svg")).unwrap(),
            "<svg/>"
        );
        assert!(out
            .to_json()
            .contains("\"flamegraph\": \"r.json.s_x.why.svg\""));
    }
}
