//! Everything bench-gate shows, in one place: the comparison's reports
//! (terminal tables, Markdown, JSON, HTML), the baselines' `list` and
//! `trends`, and the history's charts. Each takes finished data and
//! decides nothing; every string from data goes through [`escape`]. What
//! bench-gate says on stderr is in [`messages`].

pub mod escape;
pub mod history;
pub mod html;
pub mod list;
pub mod markdown;
pub mod messages;
pub mod svg;
pub mod terminal;
pub mod trends;
pub mod view;

/// The comparison as pretty JSON (`##[` kept out of it: see [`escape::json_text`]).
pub fn json(c: &crate::compare::Comparison) -> String {
    let mut s = escape::json_text(&serde_json::to_string_pretty(c).expect("comparison serialises"));
    s.push('\n');
    s
}
