//! serde error messages end in " at line L column C"; bench-gate prints the
//! position first (`file:line:col: message`), so these split it off.

/// The message without serde's trailing " at line … column …".
pub fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A serde_yaml error as its message and, when known, its line and column.
pub fn yaml(e: &serde_yaml::Error) -> (String, Option<(usize, usize)>) {
    (
        strip_position(&e.to_string()),
        e.location().map(|l| (l.line(), l.column())),
    )
}

/// The deepest flow nesting (`[` and `{`) a baseline or config may have.
/// YAML parsers reject deep nesting, but only after a cost that grows with
/// the depth (200 KB of `[` took 25 s), so it is checked first, in one pass.
pub const MAX_YAML_FLOW_DEPTH: usize = 128;

/// Where `text` first opens a flow collection deeper than `limit`, as a
/// 1-based line and column. Quoted strings, comments and block scalars are
/// skipped; a bracket counts only where a flow collection can start (at the
/// start of a value, or inside another one), so `key: a[1]` is plain text.
pub fn yaml_too_deep(text: &str, limit: usize) -> Option<(usize, usize)> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut depth = 0usize;
    let mut quote = Quote::None;
    // A block scalar (`|` or `>`) and the indentation of the line that opened it.
    let mut block_of: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_of {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_of = None;
        }
        // The last character that can precede a token (None: line start).
        let mut prev: Option<char> = None;
        let mut escaped = false;
        let mut last_token: Option<char> = None;
        for (col, c) in line.char_indices() {
            match quote {
                Quote::Double => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        quote = Quote::None;
                    }
                    prev = Some('x');
                    continue;
                }
                Quote::Single => {
                    // '' inside is an escaped quote: closing and opening again.
                    if c == '\'' {
                        quote = Quote::None;
                    }
                    prev = Some('x');
                    continue;
                }
                Quote::None => {}
            }
            let at_token_start = matches!(prev, None | Some(' ' | '\t'))
                && matches!(last_token, None | Some('[' | '{' | ',' | ':' | '-' | '?'))
                || depth > 0 && matches!(prev, Some('[' | '{' | ',' | ':'));
            match c {
                ' ' | '\t' => {
                    prev = Some(c);
                    continue;
                }
                '#' if matches!(prev, None | Some(' ' | '\t')) => break,
                '"' if at_token_start => quote = Quote::Double,
                '\'' if at_token_start => quote = Quote::Single,
                '[' | '{' if depth > 0 || at_token_start => {
                    depth += 1;
                    if depth > limit {
                        return Some((n + 1, col + 1));
                    }
                }
                ']' | '}' if depth > 0 => depth -= 1,
                '|' | '>' if depth == 0 && at_token_start => {
                    block_of = Some(indent);
                }
                _ => {}
            }
            // A block indicator stays one only if nothing but its modifiers follow.
            if block_of.is_some() && !matches!(c, '|' | '>' | '-' | '+' | '0'..='9') {
                block_of = None;
            }
            prev = Some(c);
            last_token = Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_the_position_off() {
        let e = serde_yaml::from_str::<Vec<u8>>("a: [").unwrap_err();
        let (message, at) = super::yaml(&e);
        assert!(!message.contains(" at line "), "{message}");
        assert_eq!(at.map(|(l, _)| l), Some(1));
        assert_eq!(super::strip_position("x at line 3 column 4"), "x");
    }

    #[test]
    fn finds_deep_flow_nesting_and_ignores_text() {
        use super::yaml_too_deep;
        assert_eq!(yaml_too_deep("a: [[[1]]]\n", 3), None);
        assert_eq!(yaml_too_deep("a: [[[[1]]]]\n", 3), Some((1, 7)));
        let deep = format!("version: '1'\nmetrics:\n  x: {}\n", "[".repeat(200_000));
        assert_eq!(yaml_too_deep(&deep, 128), Some((3, 134)));
        // Brackets in strings, comments, plain text and block scalars do not count.
        let text = format!(
            "a: \"{0}\"\nb: '{0}'\nc: x{0}\n# {0}\nd: |\n  {0}\n  [[ -f x ]]\ne: >-\n  {0}\nf: [1, {{g: [2]}}]\n",
            "[".repeat(300)
        );
        assert_eq!(yaml_too_deep(&text, 128), None);
        // Quotes inside flow collections hide their brackets too.
        assert_eq!(yaml_too_deep("a: [\"[[\", {\"k\":\"[[\"}]\n", 2), None);
        // Still counted after a block scalar ends.
        let after = format!("d: |\n  x\ne: {}\n", "[".repeat(200));
        assert_eq!(yaml_too_deep(&after, 128), Some((3, 132)));
    }
}
