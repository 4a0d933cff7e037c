//! Everything bench-gate shows, in one place: the comparison's reports
//! (terminal tables, Markdown, JSON, HTML), the baselines' `list` and
//! `trends`, and the history's charts. Each takes finished data and
//! decides nothing; every string from data goes through [`escape`]. What
//! bench-gate says on stderr is in [`messages`].

pub use crate::escape;
pub mod history;
pub mod html;
pub mod list;
pub mod markdown;
pub mod messages;
pub mod svg;
pub mod terminal;
pub mod trends;
pub mod view;
pub mod why;

/// The comparison as pretty JSON (`##[` kept out of it: see [`escape::json_text`]).
pub fn json(c: &crate::compare::Comparison) -> String {
    let mut s = escape::json_text(&serde_json::to_string_pretty(c).expect("comparison serialises"));
    s.push('\n');
    s
}

/// What a confirmation run found, as one sentence for the log (stdout,
/// stderr), its data escaped for it.
pub fn confirmation_log(c: &crate::model::Confirmation) -> String {
    c.sentence(&|s| format!("'{}'", escape::log(s)), &|names| {
        escape::log(&names.join(", "))
    })
}

/// The same sentence in Markdown, for comments and reports.
pub fn confirmation_markdown(c: &crate::model::Confirmation) -> String {
    c.sentence(&escape::md_code, &|names| {
        escape::md_text(&names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_read_as_text_in_logs_and_as_markdown_in_comments() {
        let c = crate::model::Confirmation {
            scenario: "spiky".into(),
            rounds: 2,
            failing_before: vec!["a.p50_ms".into(), "b_ms".into()],
            failing_after: vec!["b_ms".into()],
        };
        assert_eq!(
            confirmation_log(&c),
            "a.p50_ms, b_ms failed, so scenario 'spiky' was measured 2 more time(s) and decided on all its samples: b_ms still failing, a.p50_ms no longer"
        );
        assert_eq!(
            confirmation_markdown(&c),
            "a.p50_ms, b_ms failed, so scenario `spiky` was measured 2 more time(s) and decided on all its samples: b_ms still failing, a.p50_ms no longer"
        );
    }
}
