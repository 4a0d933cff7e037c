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

/// A key given twice in one YAML mapping: serde_yaml keeps the last value of
/// a map silently, so the readers look for these first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The dotted path of the key (`metrics.startup.cli_cold_ms`).
    pub key: String,
    /// Line and column (1-based) of the second occurrence.
    pub line: usize,
    pub column: usize,
    /// Line of the first occurrence.
    pub first_line: usize,
}

impl std::fmt::Display for DuplicateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "duplicate key `{}` (first given on line {}); each key may appear once",
            self.key, self.first_line
        )
    }
}

/// The key of a block-mapping line (`key: value`, `"key": value`) and where
/// its value starts; `None` for anything else.
fn block_key(s: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(q @ ('"' | '\'')) = s.chars().next() {
        let end = s[1..].find(q)? + 1;
        (s[1..end].to_string(), &s[end + 1..])
    } else {
        if s.starts_with(['{', '[', '&', '*', '!', '|', '>', '%', '@', '`', '?']) {
            return None;
        }
        let end = s
            .char_indices()
            .find(|&(i, c)| {
                c == ':'
                    && s[i + 1..]
                        .chars()
                        .next()
                        .is_none_or(|n| n == ' ' || n == '\t')
            })
            .map(|(i, _)| i)?;
        (s[..end].trim_end().to_string(), &s[end..])
    };
    let rest = rest.trim_start().strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    Some((key, rest.trim_start()))
}

/// The first key given twice in one block mapping of `text`, found by an
/// indentation-aware scan (the files bench-gate reads are block YAML; flow
/// mappings, `{a: 1}`, are not looked into). Block scalars (`|`, `>`) and
/// quoted or bracketed values spanning lines are skipped.
pub fn duplicate_key(text: &str) -> Option<DuplicateKey> {
    // Open mappings: the column of their keys, their keys with first lines
    // (hashed: a mapping may hold many thousands), and the latest key.
    struct Frame {
        col: usize,
        keys: std::collections::HashMap<String, usize>,
        last: String,
    }
    let mut stack: Vec<Frame> = Vec::new();
    // Skip lines indented deeper than this (a block scalar's body).
    let mut skip_deeper: Option<usize> = None;
    // Skip lines until one holding this (a multi-line quoted or flow value).
    let mut skip_until: Option<char> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        if let Some(close) = skip_until {
            if raw.contains(close) {
                skip_until = None;
            }
            continue;
        }
        if let Some(d) = skip_deeper {
            if trimmed.is_empty() || indent > d {
                continue;
            }
            skip_deeper = None;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with("---") || trimmed.starts_with("...") {
            stack.clear();
            continue;
        }
        // `- key: v` opens a new mapping at the column after the dashes.
        let mut col = indent;
        let mut rest = trimmed;
        let mut new_item = false;
        while rest == "-" || rest.starts_with("- ") || rest.starts_with("-\t") {
            let after = rest[1..].trim_start();
            col += rest.len() - after.len();
            rest = after;
            new_item = true;
        }
        while stack
            .last()
            .is_some_and(|f| f.col > col || (new_item && f.col >= col))
        {
            stack.pop();
        }
        if new_item {
            // The item's own indentation closes mappings at the dash's column.
            while stack.last().is_some_and(|f| f.col >= indent && f.col < col) {
                stack.pop();
            }
        }
        let Some((key, value)) = block_key(rest) else {
            // A scalar starting a multi-line quoted string.
            if let Some(q @ ('"' | '\'')) = rest.chars().next() {
                if !rest[1..].contains(q) {
                    skip_until = Some(q);
                }
            }
            continue;
        };
        let value = value.split(" #").next().unwrap_or(value).trim_end();
        if value.starts_with(['|', '>']) {
            skip_deeper = Some(col);
        } else if let Some(q @ ('"' | '\'')) = value.chars().next() {
            if !value[1..].contains(q) {
                skip_until = Some(q);
            }
        } else if let Some(open @ ('[' | '{')) = value.chars().next() {
            let close = if open == '[' { ']' } else { '}' };
            if value.matches(open).count() > value.matches(close).count() {
                skip_until = Some(close);
            }
        }
        if stack.last().is_none_or(|f| f.col != col) {
            stack.push(Frame {
                col,
                keys: Default::default(),
                last: String::new(),
            });
        }
        let depth = stack.len() - 1;
        let (parents, top) = stack.split_at_mut(depth);
        let top = &mut top[0];
        if let Some(first) = top.keys.get(&key) {
            let mut parts: Vec<&str> = parents.iter().map(|f| f.last.as_str()).collect();
            parts.push(&key);
            return Some(DuplicateKey {
                key: parts.join("."),
                line: line_no,
                column: col + 1,
                first_line: *first,
            });
        }
        top.keys.insert(key.clone(), line_no);
        top.last = key;
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

    #[test]
    fn finds_duplicate_keys_with_both_lines() {
        use super::duplicate_key;
        let d = duplicate_key(
            "version: 1\nmetrics:\n  startup:\n    cli_cold_ms: 500\n    cli_cold_ms: 5\n",
        )
        .unwrap();
        assert_eq!(
            (d.key.as_str(), d.line, d.column, d.first_line),
            ("metrics.startup.cli_cold_ms", 5, 5, 4)
        );
        let d = duplicate_key("a: 1\nb:\n  x: 1\n\"a\": 2\n").unwrap();
        assert_eq!(
            (d.key.as_str(), d.line, d.column, d.first_line),
            ("a", 4, 1, 1)
        );
        // Lists of mappings: each item is its own mapping.
        let d = duplicate_key("s:\n  - name: a\n    x: 1\n  - name: b\n    name: c\n").unwrap();
        assert_eq!((d.key.as_str(), d.line, d.first_line), ("s.name", 5, 4));
        for fine in [
            "a:\n  x: 1\nb:\n  x: 1\n",
            "s:\n- name: a\n- name: b\n",
            "a: |\n  x: 1\n  x: 1\nb: 2\n",
            "a: \"x: 1\n  x: 1\"\nb: [1,\n  2]\nc: http://x:1\n",
            "# a: 1\na: 1 # a: 2\n---\na: 2\n",
            "a:\n  - x: 1\n    y: 2\n  - x: 1\n    y: 2\n",
        ] {
            assert_eq!(duplicate_key(fine), None, "{fine}");
        }
        // Many keys in one mapping: a hash lookup each, not a pass over all.
        let mut big: String = (0..100_000).map(|i| format!("  k{i}: 1\n")).collect();
        big.insert_str(0, "metrics:\n");
        assert_eq!(duplicate_key(&big), None);
        big.push_str("  k7: 2\n");
        let d = duplicate_key(&big).unwrap();
        assert_eq!(
            (d.key.as_str(), d.line, d.first_line),
            ("metrics.k7", 100_002, 9)
        );
    }
}
