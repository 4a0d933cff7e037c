//! The HTML report and the history charts, opened in a real browser
//! (headless Chromium, as Debian packages it): no console error, and no
//! text label cut off by its SVG's edge.
//!
//! Each page is opened with a small script added around it: one at the top
//! records errors (uncaught exceptions, failed loads, `console.error`), one
//! at the end measures every SVG `text` against its `svg` and writes what it
//! found into the page, which `--dump-dom` prints. Chromium's own log of
//! console messages is read too. The browser is `$BENCH_GATE_CHROMIUM`, or
//! the first of chromium, chromium-browser and google-chrome on `PATH`.
//! Without one the tests skip, saying so,
//! except under CI (`CI` set), where `scripts/ci/install-test-deps.sh` has
//! installed it and its absence is a failure. Linux only, as that script is.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Chromium's path, or `None` (after saying why) when the test should skip.
fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let found = match std::env::var_os("BENCH_GATE_CHROMIUM") {
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .flat_map(|dir| candidates.iter().map(move |c| dir.join(c)))
                .find(|p| p.is_file())
        }),
    }
    .filter(|p| p.is_file());
    if found.is_none() {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        assert!(
            !ci,
            "CI is set but Chromium is not installed: scripts/ci/install-test-deps.sh installs it"
        );
        // Straight to stderr, past the test harness' capture, so a skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: Chromium is not installed (apt-get install chromium, or \
             scripts/ci/install-test-deps.sh); the report and charts were not checked in a browser"
        );
    }
    found
}

/// Runs first: keeps every error the page raises.
const BEFORE: &str = r#"<script>
window.__benchGateErrors = [];
addEventListener('error', function (e) {
  var what = e.message || (e.target && e.target.outerHTML) || String(e);
  window.__benchGateErrors.push(String(what));
}, true);
addEventListener('securitypolicyviolation', function (e) {
  window.__benchGateErrors.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__benchGateErrors.push(Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
</script>"#;

/// Runs last: every SVG `text` whose box leaves its `svg`'s box (the
/// rendered one, so the viewBox's scaling counts) is cut; one whose box
/// meets another label's or a data point's is covered.
const AFTER: &str = r#"<script>
(function () {
  var cut = [], covered = [], texts = 0, svgs = document.querySelectorAll('svg');
  var slack = 0.5;
  function meet(a, b) {
    return a.left < b.right - slack && b.left < a.right - slack &&
           a.top < b.bottom - slack && b.top < a.bottom - slack;
  }
  svgs.forEach(function (svg, i) {
    var box = svg.getBoundingClientRect();
    var labels = Array.prototype.slice.call(svg.querySelectorAll('text'));
    var points = Array.prototype.slice.call(svg.querySelectorAll('circle'));
    labels.forEach(function (t, j) {
      texts++;
      var r = t.getBoundingClientRect();
      if (r.left < box.left - slack || r.right > box.right + slack ||
          r.top < box.top - slack || r.bottom > box.bottom + slack) {
        cut.push({svg: i, text: t.textContent,
                  left: r.left - box.left, right: box.right - r.right,
                  top: r.top - box.top, bottom: box.bottom - r.bottom});
      }
      labels.slice(j + 1).concat(points).forEach(function (o) {
        if (meet(r, o.getBoundingClientRect())) {
          covered.push({svg: i, text: t.textContent,
                        by: o.tagName === 'text' ? o.textContent : 'a point'});
        }
      });
    });
  });
  var out = document.createElement('pre');
  out.id = 'bench-gate-check';
  out.textContent = JSON.stringify({errors: window.__benchGateErrors, cut: cut,
                                    covered: covered, svgs: svgs.length, texts: texts});
  document.body.appendChild(out);
})();
</script>"#;

/// What the browser saw on one page.
#[derive(Debug)]
struct Seen {
    errors: Vec<String>,
    cut: Vec<Value>,
    covered: Vec<Value>,
    svgs: u64,
    texts: u64,
}

impl Seen {
    fn assert_clean(&self, what: &str) {
        assert!(self.errors.is_empty(), "{what}: errors: {:#?}", self.errors);
        assert!(
            self.cut.is_empty(),
            "{what}: labels cut off by their SVG's edge (px inside each edge): {:#?}",
            self.cut
        );
        assert!(
            self.covered.is_empty(),
            "{what}: labels over another label or a data point: {:#?}",
            self.covered
        );
    }
}

/// Opens `page` (an HTML document) in Chromium with the checks around it.
fn open(chromium: &Path, dir: &Path, name: &str, page: &str) -> Seen {
    let head = page.find("<head>").map(|i| i + "<head>".len());
    let body_end = page.rfind("</body>").expect("the page has a </body>");
    let mut checked = String::new();
    match head {
        Some(h) => {
            checked.push_str(&page[..h]);
            checked.push_str(BEFORE);
            checked.push_str(&page[h..body_end]);
        }
        None => {
            checked.push_str(BEFORE);
            checked.push_str(&page[..body_end]);
        }
    }
    checked.push_str(AFTER);
    checked.push_str(&page[body_end..]);
    let file = dir.join(format!("checked-{name}"));
    std::fs::write(&file, checked).unwrap();

    let profile = tempfile::tempdir().unwrap();
    let dom_path = dir.join(format!("{name}.dom"));
    let log_path = dir.join(format!("{name}.log"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1024",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", file.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom_path).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start chromium");
    // A safety net, not a measure: a hung browser must not hang the suite.
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{name}: Chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "{name}: Chromium failed: {status}\n{log}");
    let start = dom
        .find("<pre id=\"bench-gate-check\">")
        .unwrap_or_else(|| panic!("{name}: the check did not run; DOM:\n{dom}\nlog:\n{log}"))
        + "<pre id=\"bench-gate-check\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let text = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut errors: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap_or_default().to_string())
        .collect();
    // The pages run no script of their own, and ours log nothing: any
    // console message Chromium reports is the page's.
    errors.extend(
        log.lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(|l| format!("console: {l}")),
    );
    Seen {
        errors,
        cut: v["cut"].as_array().unwrap().clone(),
        covered: v["covered"].as_array().unwrap().clone(),
        svgs: v["svgs"].as_u64().unwrap(),
        texts: v["texts"].as_u64().unwrap(),
    }
}

/// A results file: each metric's value, unit and direction, three samples.
fn results(
    dir: &Path,
    name: &str,
    created_at: &str,
    metrics: &[(&str, f64, &str, &str)],
) -> PathBuf {
    let metrics: serde_json::Map<String, Value> = metrics
        .iter()
        .map(|(k, v, unit, direction)| {
            (
                k.to_string(),
                json!({"value": v, "unit": unit, "direction": direction,
                       "samples": [v * 0.98, *v, v * 1.02]}),
            )
        })
        .collect();
    let r = json!({
        "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
        "created_at": created_at, "workload": "standard",
        "environment": {"platform": "linux-x86_64", "python_version": "3.12", "cpu_model": "Test CPU"},
        "scenarios": [], "metrics": metrics,
    });
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    p
}

const LONG: &str =
    "generation.batch_of_fifty_requests_with_a_long_system_prompt_and_streaming.latency_p95_ms";

/// The metrics both pages show, each scaled by `scale(name)`: a long name
/// with a big value, and a throughput, either of whose bars can be the
/// longest in its chart, with its label at the chart's edge.
fn metrics(scale: impl Fn(&str) -> f64) -> Vec<(&'static str, f64, &'static str, &'static str)> {
    [
        ("generation.single.latency_p50_ms", 1500.0, "ms", "lower"),
        (LONG, 123_456_789.0, "ms", "lower"),
        ("throughput.requests_per_s", 3.0, "req/s", "higher"),
        ("memory.single_peak_mb", 512.0, "MB", "lower"),
        ("startup.cold_start_ms", 480.0, "ms", "lower"),
    ]
    .into_iter()
    .map(|(name, v, unit, direction)| (name, v * scale(name), unit, direction))
    .collect()
}

fn bench_gate(dir: &Path, args: &[&str]) {
    assert_cmd::Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .assert()
        .success();
}

#[test]
fn the_html_report_renders_without_errors_or_cut_labels() {
    let Some(chromium) = chromium() else { return };
    let d = tempfile::tempdir().unwrap();
    let base = results(
        d.path(),
        "base.json",
        "2026-11-26T10:00:00Z",
        &metrics(|_| 1.0),
    );
    let cur = results(
        d.path(),
        "cur.json",
        "2026-11-27T10:00:00Z",
        &metrics(|name| match name {
            // A failure, a warning (higher is better: 3.29 req/s, today's
            // longest bar), an improvement and a pass.
            LONG => 1.4,
            "throughput.requests_per_s" => 1.0966,
            "generation.single.latency_p50_ms" => 1.12,
            "memory.single_peak_mb" => 0.7,
            _ => 1.0,
        }),
    );
    std::fs::create_dir(d.path().join("baselines")).unwrap();
    bench_gate(
        d.path(),
        &[
            "capture",
            "--from",
            base.to_str().unwrap(),
            "--output",
            "baselines/v1.0.0.yaml",
        ],
    );
    bench_gate(
        d.path(),
        &[
            "report",
            "--format",
            "html",
            "--results",
            cur.to_str().unwrap(),
            "--output",
            "report.html",
        ],
    );
    let page = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    let seen = open(&chromium, d.path(), "report.html", &page);
    assert_eq!(seen.svgs, 5, "one chart per metric: {seen:?}");
    assert!(
        seen.texts >= 5 * 5,
        "every chart's labels were measured: {seen:?}"
    );
    seen.assert_clean("report");
}

#[test]
fn the_history_chart_renders_without_errors_or_cut_labels() {
    let Some(chromium) = chromium() else { return };
    let d = tempfile::tempdir().unwrap();
    // The oldest run is the slowest: its point sits at the top left, where
    // the axis labels are.
    for (i, scale) in [1.3, 1.0, 1.02, 0.97].iter().enumerate() {
        let r = results(
            d.path(),
            &format!("r{i}.json"),
            &format!("2026-11-2{i}T10:00:00Z"),
            &metrics(|_| *scale),
        );
        bench_gate(
            d.path(),
            &[
                "history",
                "append",
                "--results",
                r.to_str().unwrap(),
                "--commit",
                &format!("{i}{i}{i}{i}{i}{i}{i}abcdef"),
            ],
        );
    }
    bench_gate(d.path(), &["history", "chart", "--output", "history.html"]);
    let page = std::fs::read_to_string(d.path().join("history.html")).unwrap();
    let seen = open(&chromium, d.path(), "history.html", &page);
    assert_eq!(seen.svgs, 1);
    assert_eq!(seen.texts, 5 * 3, "a title and two axis labels per metric");
    seen.assert_clean("history chart (HTML)");

    // The SVG on its own, at its own size, in an otherwise empty page.
    bench_gate(d.path(), &["history", "chart", "--output", "history.svg"]);
    let svg = std::fs::read_to_string(d.path().join("history.svg")).unwrap();
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0\">{svg}</body></html>"
    );
    let seen = open(&chromium, d.path(), "history-svg.html", &page);
    assert_eq!(seen.texts, 5 * 3);
    seen.assert_clean("history chart (SVG)");
}

/// The check itself sees what it is for: a label past the edge, a label
/// over a point, a script error and a console error.
#[test]
fn the_check_sees_a_cut_label_and_a_console_error() {
    let Some(chromium) = chromium() else { return };
    let d = tempfile::tempdir().unwrap();
    let page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\
        <svg width=\"100\" height=\"40\" viewBox=\"0 0 100 40\"><text x=\"4\" y=\"20\">fits</text>\
        <text x=\"60\" y=\"20\">3.29 req/s</text>\
        <circle cx=\"10\" cy=\"16\" r=\"2\"/></svg>\
        <script>console.error('bad thing'); undefinedFunction();</script></body></html>";
    let seen = open(&chromium, d.path(), "broken.html", page);
    assert_eq!(seen.texts, 2);
    assert_eq!(seen.cut.len(), 1, "{seen:?}");
    assert_eq!(seen.cut[0]["text"], "3.29 req/s");
    assert_eq!(seen.covered.len(), 1, "{seen:?}");
    assert_eq!(seen.covered[0]["text"], "fits");
    assert!(
        seen.errors.iter().any(|e| e.contains("bad thing")),
        "{seen:?}"
    );
    assert!(
        seen.errors.iter().any(|e| e.contains("undefinedFunction")),
        "{seen:?}"
    );
}
