//! Progress while measuring: a bar per scenario on a terminal, plain lines
//! (no control characters) when stderr is not a terminal, as in CI logs.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

pub trait Progress {
    fn start(&mut self, scenario: &str, warmup: u32, iterations: u32);
    /// In A/B mode: `warmup` and `pairs` count pairs, each ticked once
    /// with [`Progress::tick_pair`].
    fn start_pairs(&mut self, scenario: &str, warmup: u32, pairs: u32) {
        self.start(scenario, warmup, pairs);
    }
    /// Called after each iteration; `warmup` says which phase it belonged to.
    fn tick(&mut self, warmup: bool, last_wall_ms: f64);
    /// In A/B mode, after each pair: both sides' last wall times.
    fn tick_pair(&mut self, warmup: bool, base_ms: f64, head_ms: f64) {
        let _ = base_ms;
        self.tick(warmup, head_ms);
    }
    fn finish(&mut self, ok: bool);
}

/// How the last iteration's time reads: one time, or a pair's two.
fn last_label(base_ms: Option<f64>, head_ms: f64) -> String {
    match base_ms {
        Some(b) => format!("last: base {b:.1} ms, head {head_ms:.1} ms"),
        None => format!("last {head_ms:.1} ms"),
    }
}

/// Chooses the bar or the plain lines by whether stderr is a terminal; none when quiet.
pub fn for_stderr(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bar::default())
    } else {
        Box::new(Lines::default())
    }
}

pub struct Silent;
impl Progress for Silent {
    fn start(&mut self, _: &str, _: u32, _: u32) {}
    fn tick(&mut self, _: bool, _: f64) {}
    fn finish(&mut self, _: bool) {}
}

#[derive(Default)]
pub struct Bar {
    bar: Option<ProgressBar>,
    warmup_left: u32,
}

impl Progress for Bar {
    fn start(&mut self, scenario: &str, warmup: u32, iterations: u32) {
        let bar = ProgressBar::new(u64::from(warmup + iterations));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(scenario.to_string());
        bar.set_message(if warmup > 0 { "warm-up" } else { "" });
        self.warmup_left = warmup;
        self.bar = Some(bar);
    }
    fn tick(&mut self, warmup: bool, last_wall_ms: f64) {
        self.step(warmup, None, last_wall_ms);
    }
    fn tick_pair(&mut self, warmup: bool, base_ms: f64, head_ms: f64) {
        self.step(warmup, Some(base_ms), head_ms);
    }
    fn finish(&mut self, ok: bool) {
        if let Some(bar) = self.bar.take() {
            if ok {
                bar.finish_with_message("done");
            } else {
                bar.abandon_with_message("failed");
            }
        }
    }
}

impl Bar {
    fn step(&mut self, warmup: bool, base_ms: Option<f64>, head_ms: f64) {
        if let Some(bar) = &self.bar {
            if warmup {
                self.warmup_left = self.warmup_left.saturating_sub(1);
            }
            bar.inc(1);
            bar.set_message(if self.warmup_left > 0 {
                "warm-up".to_string()
            } else {
                last_label(base_ms, head_ms)
            });
        }
    }
}

/// Plain lines: one at the start, about every 25 % and at the end.
#[derive(Default)]
pub struct Lines {
    scenario: String,
    total: u32,
    warmup: u32,
    done: u32,
    next_report: u32,
    started: Option<Instant>,
    /// Counting A/B pairs rather than iterations.
    pairs: bool,
}

impl Lines {
    fn reset(&mut self, scenario: &str, warmup: u32, total: u32, pairs: bool) {
        *self = Lines {
            scenario: scenario.to_string(),
            total,
            warmup,
            done: 0,
            next_report: (total / 4).max(1),
            started: Some(Instant::now()),
            pairs,
        };
    }

    /// Counts a measured iteration (or pair); the line to print, about
    /// every 25 %.
    fn step(&mut self, warmup: bool, base_ms: Option<f64>, head_ms: f64) -> Option<String> {
        if warmup {
            return None;
        }
        self.done += 1;
        if self.done >= self.next_report && self.done < self.total {
            self.next_report += (self.total / 4).max(1);
            let what = if self.pairs { "pairs" } else { "iterations" };
            return Some(format!(
                "[{}] {}/{} {what} ({})",
                self.scenario,
                self.done,
                self.total,
                last_label(base_ms, head_ms)
            ));
        }
        None
    }
}

impl Progress for Lines {
    fn start(&mut self, scenario: &str, warmup: u32, iterations: u32) {
        self.reset(scenario, warmup, iterations, false);
        eprintln!("[{scenario}] {warmup} warm-up run(s), then {iterations} measured iteration(s)");
    }
    fn start_pairs(&mut self, scenario: &str, warmup: u32, pairs: u32) {
        self.reset(scenario, warmup, pairs, true);
        eprintln!("[{scenario}] {warmup} warm-up pair(s), then {pairs} measured pair(s)");
    }
    fn tick(&mut self, warmup: bool, last_wall_ms: f64) {
        if let Some(line) = self.step(warmup, None, last_wall_ms) {
            eprintln!("{line}");
        }
    }
    fn tick_pair(&mut self, warmup: bool, base_ms: f64, head_ms: f64) {
        if let Some(line) = self.step(warmup, Some(base_ms), head_ms) {
            eprintln!("{line}");
        }
    }
    fn finish(&mut self, ok: bool) {
        let secs = self
            .started
            .map(|s| s.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        let _ = self.warmup;
        eprintln!(
            "[{}] {} after {}/{} {} in {secs:.1} s",
            self.scenario,
            if ok { "done" } else { "FAILED" },
            self.done,
            self.total,
            if self.pairs { "pairs" } else { "iterations" }
        );
        let _ = std::io::stderr().flush();
    }
}
