//! Progress while measuring: a bar per scenario on a terminal, plain lines
//! (no control characters) when stderr is not a terminal, as in CI logs.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

pub trait Progress {
    fn start(&mut self, scenario: &str, warmup: u32, iterations: u32);
    /// Called after each iteration; `warmup` says which phase it belonged to.
    fn tick(&mut self, warmup: bool, last_wall_ms: f64);
    fn finish(&mut self, ok: bool);
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
        if let Some(bar) = &self.bar {
            if warmup {
                self.warmup_left = self.warmup_left.saturating_sub(1);
            }
            bar.inc(1);
            bar.set_message(if self.warmup_left > 0 {
                "warm-up".to_string()
            } else {
                format!("last {last_wall_ms:.1} ms")
            });
        }
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

/// Plain lines: one at the start, about every 25 % and at the end.
#[derive(Default)]
pub struct Lines {
    scenario: String,
    total: u32,
    warmup: u32,
    done: u32,
    next_report: u32,
    started: Option<Instant>,
}

impl Progress for Lines {
    fn start(&mut self, scenario: &str, warmup: u32, iterations: u32) {
        *self = Lines {
            scenario: scenario.to_string(),
            total: iterations,
            warmup,
            done: 0,
            next_report: (iterations / 4).max(1),
            started: Some(Instant::now()),
        };
        eprintln!("[{scenario}] {warmup} warm-up run(s), then {iterations} measured iteration(s)");
    }
    fn tick(&mut self, warmup: bool, last_wall_ms: f64) {
        if warmup {
            return;
        }
        self.done += 1;
        if self.done >= self.next_report && self.done < self.total {
            eprintln!(
                "[{}] {}/{} iterations (last {last_wall_ms:.1} ms)",
                self.scenario, self.done, self.total
            );
            self.next_report += (self.total / 4).max(1);
        }
    }
    fn finish(&mut self, ok: bool) {
        let secs = self
            .started
            .map(|s| s.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        let _ = self.warmup;
        eprintln!(
            "[{}] {} after {}/{} iterations in {secs:.1} s",
            self.scenario,
            if ok { "done" } else { "FAILED" },
            self.done,
            self.total
        );
        let _ = std::io::stderr().flush();
    }
}
