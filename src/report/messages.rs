//! What bench-gate says to the person running it, on stderr: notes
//! (`wrote FILE`), warnings, and the error a command ends with. Reports and
//! tables go to stdout (the rest of this module's siblings). Every message
//! passes [`log_text`]: data it quotes (a file name, a key, an API's
//! answer) cannot run as a workflow command in the job's log.

use std::fmt::Display;
use std::path::Path;

use super::escape::log_text;

/// A line on stderr.
pub fn note(text: impl Display) {
    eprintln!("{}", log_text(&text.to_string()));
}

/// `wrote PATH`, after a file is written.
pub fn wrote(path: &Path) {
    note(format_args!("wrote {}", path.display()));
}

/// `warning: TEXT`: something the user should know that does not stop the
/// command.
pub fn warning(text: impl Display) {
    note(format_args!("warning: {text}"));
}

/// `error: CAUSE: CAUSE...`: why the command stopped (it then exits 3).
pub fn error(e: &anyhow::Error) {
    note(format_args!("error: {}", chain(e)));
}

/// An error and its causes, `: `-separated, each said once: a cause whose
/// text the message already holds (an error type that prints its source
/// and also reports it as its source) is not repeated.
pub fn chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_says_each_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone (os error 2)");
        #[derive(Debug, thiserror::Error)]
        #[error("f.yml: cannot read: {source}")]
        struct Wraps {
            source: std::io::Error,
        }
        let e = anyhow::Error::new(Wraps { source: io() });
        assert_eq!(chain(&e), "f.yml: cannot read: gone (os error 2)");
        let e = anyhow::Error::new(io()).context("f.yml: cannot read");
        assert_eq!(chain(&e), "f.yml: cannot read: gone (os error 2)");
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(chain(&e), "outer: middle: inner");
    }
}
