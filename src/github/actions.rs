//! GitHub Actions workflow commands and files: masking, annotations, step
//! summary, escaped as the runner requires (outputs: `outputs.rs`).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// A command's message (`::error::MESSAGE`) and property values (`file=`,
/// `title=`), escaped as the runner unescapes them (the one definition is
/// in [`crate::report::escape`], with every other escaper).
pub use crate::report::escape::{command_data as escape_data, command_property as escape_property};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

/// `::error file=F,line=N,title=T::message`
pub fn annotation(
    level: Level,
    file: Option<&str>,
    line: Option<usize>,
    title: &str,
    message: &str,
) -> String {
    let name = match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut props = Vec::new();
    if let Some(f) = file {
        props.push(format!("file={}", escape_property(f)));
    }
    if let Some(l) = line {
        props.push(format!("line={l}"));
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{name} {}::{}", props.join(","), escape_data(message))
}

/// A warning about the run itself (no file or line).
pub fn warning(title: &str, message: &str) -> String {
    annotation(Level::Warning, None, None, title, message)
}

/// Tells the runner to mask `secret` in every later log line. Printed before
/// anything else could print the secret.
pub fn mask(secret: &str) {
    // A multi-line secret needs one mask per line.
    for line in secret.lines().filter(|l| !l.trim().is_empty()) {
        println!("::add-mask::{line}");
    }
}

/// Appends Markdown to the step summary file.
pub fn append_summary(path: &Path, markdown: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open the step summary", path.display()))?;
    writeln!(f, "{markdown}")
        .with_context(|| format!("{}: cannot write the step summary", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_escaped() {
        assert_eq!(
            annotation(Level::Error, Some("baselines/v1,2:3.yaml"), Some(7), "latency: +30%", "50% worse\nsee table"),
            "::error file=baselines/v1%2C2%3A3.yaml,line=7,title=latency%3A +30%25::50%25 worse%0Asee table"
        );
        assert_eq!(
            annotation(Level::Warning, None, None, "t", "m"),
            "::warning title=t::m"
        );
    }
}
