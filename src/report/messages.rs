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
    note(format_args!("error: {e:#}"));
}
