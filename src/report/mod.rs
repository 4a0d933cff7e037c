//! Reports for people and machines: terminal tables, Markdown, JSON, HTML.
//! Each takes a finished [`crate::compare::Comparison`] and decides nothing.

pub mod escape;
pub mod html;
pub mod markdown;
pub mod terminal;
pub mod view;

/// The comparison as pretty JSON (`##[` kept out of it: see [`escape::json_text`]).
pub fn json(c: &crate::compare::Comparison) -> String {
    let mut s = escape::json_text(&serde_json::to_string_pretty(c).expect("comparison serialises"));
    s.push('\n');
    s
}
