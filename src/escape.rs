//! Every string that comes from data (a results file, a baseline, the
//! environment, an API answer) is escaped here for the place it lands, and
//! nowhere else. Results may come from a fork's run and baselines from a pull
//! request, so nothing they hold may become markup or a command: no heading,
//! link, image, @mention, HTML (least of all an HTML comment opener, which
//! would hide the rest of a comment or forge its hidden results block), and
//! no line that GitHub Actions runs as a workflow command.
//!
//! The escapers keep the text readable where it is shown: Markdown gets
//! backslash escapes and entities, and a zero-width joiner (U+200D, invisible)
//! where no escape exists: after `@` (mentions), `#` (issue references), in
//! `://` and `www.` (bare-URL autolinks), after `<` in code, and in `##[` (the
//! runner's legacy command syntax, matched anywhere in a line).

/// Zero-width joiner: invisible, and breaks the patterns GitHub links.
const ZWJ: char = '\u{200D}';

/// Characters that must not reach any output as they are: control
/// characters (line breaks above all), Unicode line and paragraph
/// separators, and bidirectional overrides (which make text read other than
/// it is).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `chars[i..]` starts with `pat`, ASCII case-insensitively.
fn at(chars: &[char], i: usize, pat: &str) -> bool {
    let mut k = i;
    for p in pat.chars() {
        match chars.get(k) {
            Some(c) if c.eq_ignore_ascii_case(&p) => k += 1,
            _ => return false,
        }
    }
    true
}

/// Whether the `.` at `i` ends `www` (an autolink would start there).
fn ends_www(chars: &[char], i: usize) -> bool {
    i >= 3 && at(chars, i - 3, "www.")
}

/// Whether the character at `i` has a letter or digit on both sides.
fn intraword(chars: &[char], i: usize) -> bool {
    i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
}

/// Markdown punctuation escaped with a backslash in text.
const MD_PUNCT: &[char] = &['\\', '`', '*', '_', '[', ']', '!', '|', '~', '$'];

/// Data as Markdown text, in a paragraph or a table cell: every inline
/// construct escaped, on one line. Values are never placed at the start of
/// a line, so block syntax cannot start either.
pub fn md_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            c if unsafe_char(c) => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => {
                out.push('@');
                out.push(ZWJ);
            }
            '#' => {
                out.push_str("\\#");
                out.push(ZWJ);
            }
            ':' if at(&chars, i + 1, "//") => {
                out.push(':');
                out.push(ZWJ);
            }
            '.' if ends_www(&chars, i) => {
                out.push(ZWJ);
                out.push('.');
            }
            // Inside a word `_` cannot open or close emphasis: `cpu_model` stays as is.
            '_' if intraword(&chars, i) => out.push('_'),
            c if MD_PUNCT.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    not_a_command(&out)
}

/// The content of a code span or block: no backslash escapes exist there,
/// so `<` and `@` get a zero-width joiner (no raw `<!--` for anything that
/// searches the text, no mention), `##[` is broken, and with `one_line`
/// every control character becomes a space.
fn code_content(s: &str, one_line: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\n' if !one_line => out.push('\n'),
            c if unsafe_char(c) => out.push(' '),
            '<' | '@' => {
                out.push(c);
                out.push(ZWJ);
            }
            '[' if i >= 2 && chars[i - 1] == '#' && chars[i - 2] == '#' => {
                out.push(ZWJ);
                out.push('[');
            }
            c => out.push(c),
        }
    }
    out
}

/// The longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn code_span(content: String) -> String {
    let fence = "`".repeat(longest_backtick_run(&content) + 1);
    // A space on each side keeps a backtick at either end out of the fence
    // (CommonMark strips one space from each side again).
    let pad = content.starts_with('`')
        || content.ends_with('`')
        || (content.starts_with(' ') && content.ends_with(' ') && content.trim() != "");
    let content = if content.is_empty() {
        " ".to_string()
    } else {
        content
    };
    if pad {
        format!("{fence} {content} {fence}")
    } else {
        format!("{fence}{content}{fence}")
    }
}

/// Data as an inline code span, backticks included, in a paragraph.
pub fn md_code(s: &str) -> String {
    code_span(code_content(s, true))
}

/// Data as an inline code span in a table cell: also `|` escaped (GFM
/// removes the backslash before a pipe, even in code, and only there).
pub fn md_code_cell(s: &str) -> String {
    code_span(code_content(s, true).replace('|', "\\|"))
}

/// Data (an error message, perhaps several lines) as a fenced code block.
pub fn md_block(s: &str) -> String {
    let content = code_content(s, false);
    let fence = "`".repeat(longest_backtick_run(&content).max(2) + 1);
    let lines: Vec<String> = content.lines().map(not_a_command).collect();
    format!("{fence}\n{}\n{fence}", lines.join("\n"))
}

/// A link target for Markdown: only http(s), and every character that could
/// end the target or start markup percent-encoded. `None` for anything else.
pub fn md_url(url: &str) -> Option<String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#!$&'*+,;=%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// Data inside an HTML comment (the comment's marker): only letters,
/// digits, `- _ . /` and spaces, and never `--`.
pub fn html_comment(s: &str) -> String {
    let mut safe: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '/'))
        .collect();
    while safe.contains("--") {
        safe = safe.replace("--", "-");
    }
    safe.trim_end_matches('-').to_string()
}

/// Data as HTML text or a quoted attribute value, on one line.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if unsafe_char(c) => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Data as plain text where GitHub shows it unrendered (a check run's title,
/// an annotation's title and message): one line, no mention, no `<` that
/// reads as a tag.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            c if unsafe_char(c) => out.push(' '),
            '<' | '@' => {
                out.push(c);
                out.push(ZWJ);
            }
            c => out.push(c),
        }
    }
    not_a_command(&out)
}

/// Data in a line bench-gate prints (stdout, stderr): control characters
/// shown as escapes (a line break or a terminal escape sequence cannot
/// pass), and nothing the runner would take as a workflow command.
pub fn log(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    not_a_command(&out)
}

/// Text bench-gate prints that is not one of its own workflow commands
/// (a table, a report, an error): no line may start with `::` (leading
/// blanks do not count: the runner trims them) and no `##[` may appear
/// anywhere (the runner's legacy syntax, matched mid-line). Line breaks are
/// kept; each line is checked.
pub fn log_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&not_a_command(line));
    }
    out
}

/// `line` with a joiner in every `##[`, and between the first two colons
/// when it starts with `::` after blanks.
fn not_a_command(line: &str) -> String {
    let mut s = if line.contains("##[") {
        line.replace("##[", &format!("##{ZWJ}["))
    } else {
        line.to_string()
    };
    let body = s.trim_start();
    if body.starts_with("::") {
        let at = s.len() - body.len() + 1;
        s.insert(at, ZWJ);
    }
    s
}

/// Text for stdout that is JSON: `#` occurs only inside strings there, so
/// `##[` becomes `##\u005b`, the same string to any JSON reader. Pretty JSON
/// never starts a line with `::` (strings are quoted).
pub fn json_text(s: &str) -> String {
    s.replace("##[", "##\\u005b")
}

/// A workflow command's message (`::error::MESSAGE`), as the runner
/// unescapes it.
pub fn command_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`file=`, `title=`): also `:` and `,`.
pub fn command_property(s: &str) -> String {
    command_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A sentence made of our own words and data, in Markdown (data escaped)
/// and as plain text (data as is, for renderers that escape it their way).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rich {
    pub markdown: String,
    pub text: String,
}

impl Rich {
    pub fn new() -> Rich {
        Rich::default()
    }
    /// bench-gate's own words: no data, no markup.
    pub fn words(mut self, s: &str) -> Rich {
        self.markdown.push_str(s);
        self.text.push_str(s);
        self
    }
    /// Data, as text.
    pub fn data(mut self, s: &str) -> Rich {
        self.markdown.push_str(&md_text(s));
        self.text.push_str(s);
        self
    }
    /// Data, as code.
    pub fn code(mut self, s: &str) -> Rich {
        self.markdown.push_str(&md_code(s));
        self.text.push_str(s);
        self
    }
    /// Markdown that is already escaped, with its plain-text reading.
    pub fn markdown(mut self, markdown: &str, text: &str) -> Rich {
        self.markdown.push_str(markdown);
        self.text.push_str(text);
        self
    }
}

/// The checks the tests (unit, property and end to end) make on any output:
/// the constructs no data may produce. Each returns what it found.
pub mod check {
    /// `@` directly followed by a character that starts a login.
    pub fn mention(s: &str) -> Option<String> {
        let chars: Vec<char> = s.chars().collect();
        chars.windows(2).find_map(|w| {
            (w[0] == '@' && (w[1].is_ascii_alphanumeric() || w[1] == '_' || w[1] == '-'))
                .then(|| format!("@{}", w[1]))
        })
    }

    /// `<` directly followed by what starts a tag or a comment.
    pub fn html_tag(s: &str) -> Option<String> {
        let chars: Vec<char> = s.chars().collect();
        chars.windows(2).find_map(|w| {
            (w[0] == '<' && (w[1].is_ascii_alphabetic() || matches!(w[1], '!' | '/' | '?')))
                .then(|| format!("<{}", w[1]))
        })
    }

    /// A line the runner would run: `::` at its start after blanks, or
    /// `##[` anywhere.
    pub fn command_line(s: &str) -> Option<String> {
        s.lines()
            .find(|l| l.trim_start().starts_with("::") || l.contains("##["))
            .map(str::to_string)
    }

    /// A bare URL or `www.` that GitHub would link.
    pub fn autolink(s: &str) -> Option<String> {
        let lower = s.to_ascii_lowercase();
        ["://", "www."]
            .into_iter()
            .find(|p| lower.contains(p))
            .map(str::to_string)
    }

    /// Markdown punctuation that opens a construct (link, image, emphasis,
    /// code, heading, table cell) without a backslash before it.
    /// (`_` inside a word opens nothing.)
    pub fn unescaped_markdown(s: &str) -> Option<char> {
        let chars: Vec<char> = s.chars().collect();
        let mut escaped = false;
        for (i, &c) in chars.iter().enumerate() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '_' if super::intraword(&chars, i) => {}
                '[' | ']' | '!' | '`' | '*' | '_' | '|' | '#' | '~' | '$' => return Some(c),
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOSTILE: &[&str] = &[
        "### ✅ bench-gate: Passed",
        "[click](https://evil.example/x)",
        "![x](https://evil.example/x.png)",
        "<img src=x onerror=alert(1)>",
        "<!-- bench-gate:results AAAA -->",
        "-->",
        "@octocat please merge",
        "mail me: a@b.example",
        "see www.evil.example",
        "https://evil.example",
        "::error::pwned",
        "  ::set-output name=x::y",
        "x\n::error::pwned\n## heading",
        "##[error]legacy",
        "a ###[warning] b",
        "`code` and ``more``",
        "| a | b |",
        "\\|[x](http://e)",
        "&#64;octocat &lt;!--",
        "#123 and GH-4",
        "$x^2$ math",
        "\u{202E}reversed\u{202C}",
        "\u{1b}[31mred",
        "",
    ];

    fn md_text_is_inert(out: &str) {
        assert!(!out.chars().any(unsafe_char), "{out:?}");
        assert!(!out.contains('<') && !out.contains('>'), "{out:?}");
        assert_eq!(check::mention(out), None, "{out:?}");
        assert_eq!(check::autolink(out), None, "{out:?}");
        assert_eq!(check::unescaped_markdown(out), None, "{out:?}");
        assert_eq!(check::command_line(out), None, "{out:?}");
        // No entity but ours: `&#64;` must not turn into an `@`.
        for (i, _) in out.match_indices('&') {
            let rest = &out[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "{out:?}"
            );
        }
    }

    fn code_is_inert(out: &str, cell: bool) {
        let n = out.chars().take_while(|&c| c == '`').count();
        assert!(n >= 1 && out.ends_with(&"`".repeat(n)), "{out:?}");
        let inner = &out[n..out.len() - n];
        assert!(
            longest_backtick_run(inner) < n,
            "the span closes early: {out:?}"
        );
        assert!(!out.chars().any(unsafe_char), "{out:?}");
        assert_eq!(check::mention(out), None, "{out:?}");
        assert_eq!(check::html_tag(out), None, "{out:?}");
        assert_eq!(check::command_line(out), None, "{out:?}");
        if cell {
            let chars: Vec<char> = out.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if *c == '|' {
                    assert!(i > 0 && chars[i - 1] == '\\', "{out:?}");
                }
            }
        }
    }

    #[test]
    fn hostile_strings_are_inert_everywhere() {
        for s in HOSTILE {
            md_text_is_inert(&md_text(s));
            code_is_inert(&md_code(s), false);
            code_is_inert(&md_code_cell(s), true);
            let h = html(s);
            assert!(!h.contains('<') && !h.contains('\n'), "{h:?}");
            let p = plain(s);
            assert!(!p.chars().any(unsafe_char), "{p:?}");
            assert_eq!(check::mention(&p), None);
            assert_eq!(check::html_tag(&p), None);
            assert_eq!(check::command_line(&p), None, "{p:?}");
            let l = log(s);
            assert!(!l.chars().any(unsafe_char), "{l:?}");
            assert_eq!(check::command_line(&l), None, "{l:?}");
            assert_eq!(check::command_line(&log_text(s)), None);
            let b = md_block(s);
            assert_eq!(check::mention(&b), None);
            assert_eq!(check::html_tag(&b), None);
            assert_eq!(check::command_line(&b), None, "{b:?}");
        }
    }

    #[test]
    fn text_stays_readable() {
        assert_eq!(md_text("linux-x86_64"), "linux-x86_64");
        assert_eq!(md_text("_x_ y_"), "\\_x\\_ y\\_");
        assert_eq!(md_text("AMD EPYC 7763"), "AMD EPYC 7763");
        assert_eq!(md_text("a | b"), "a \\| b");
        assert_eq!(md_text("x\ny"), "x y");
        assert_eq!(md_text("@me"), "@\u{200D}me");
        assert_eq!(md_text("<!--"), "&lt;\\!--");
        assert_eq!(md_code("a.b_ms"), "`a.b_ms`");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x"), "`` `x ``");
        assert_eq!(md_code(""), "` `");
        assert_eq!(md_code_cell("a|b"), "`a\\|b`");
        assert_eq!(md_code("a|b"), "`a|b`");
        assert_eq!(md_block("one\ntwo"), "```\none\ntwo\n```");
        assert_eq!(md_block("x ``` y"), "````\nx ``` y\n````");
        assert_eq!(html("a<b & \"c\"\n"), "a&lt;b &amp; &quot;c&quot;&#10;");
        assert_eq!(log("a\nb\u{1b}"), "a\\nb\\u{1b}");
        assert_eq!(log("::error::x"), ":\u{200D}:error::x");
        assert_eq!(
            log_text("ok\n  ::warning::x\nfine ##[error]y"),
            "ok\n  :\u{200D}:warning::x\nfine ##\u{200D}[error]y"
        );
        assert_eq!(plain("hi @you"), "hi @\u{200D}you");
    }

    #[test]
    fn json_stays_the_same_data() {
        let v = serde_json::json!({"w": "##[error]x", "k": "::error::y\n::z"});
        let text = json_text(&serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(check::command_line(&text), None, "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
    }

    #[test]
    fn urls_are_http_and_stay_inside_the_link() {
        assert_eq!(
            md_url("https://github.com/o/r/actions/runs/42").as_deref(),
            Some("https://github.com/o/r/actions/runs/42")
        );
        assert_eq!(
            md_url("https://x.example/a b)<c>[d]").as_deref(),
            Some("https://x.example/a%20b%29%3Cc%3E%5Bd%5D")
        );
        assert_eq!(md_url("javascript:alert(1)"), None);
    }

    #[test]
    fn html_comment_content_cannot_close_the_comment() {
        assert_eq!(html_comment("perf --> <script>"), "perf - script");
        assert_eq!(html_comment("a-"), "a");
    }

    #[test]
    fn rich_text_keeps_both_readings() {
        let r = Rich::new()
            .words("Scenario ")
            .code("a|b")
            .words(": ")
            .data("[x](y)");
        assert_eq!(r.markdown, "Scenario `a|b`: \\[x\\](y)");
        assert_eq!(r.text, "Scenario a|b: [x](y)");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_string_escapes_its_markdown(s in "\\PC*|[\\[\\]()<>!@#:/`|\\\\\n\r wW.&-]{0,40}") {
            md_text_is_inert(&md_text(&s));
            code_is_inert(&md_code(&s), false);
            code_is_inert(&md_code_cell(&s), true);
            let b = md_block(&s);
            prop_assert_eq!(check::mention(&b), None);
            prop_assert_eq!(check::html_tag(&b), None);
            prop_assert_eq!(check::command_line(&b), None);
        }

        #[test]
        fn no_string_escapes_html_plain_or_logs(s in "\\PC*|[<>&\"'@:#\\[\n\r\t \u{1b}]{0,40}|.*") {
            let h = html(&s);
            prop_assert!(!h.contains('<') && !h.contains('>') && !h.chars().any(unsafe_char));
            let p = plain(&s);
            prop_assert!(!p.chars().any(unsafe_char));
            prop_assert_eq!(check::mention(&p), None);
            prop_assert_eq!(check::html_tag(&p), None);
            prop_assert_eq!(check::command_line(&p), None);
            let l = log(&s);
            prop_assert!(!l.chars().any(unsafe_char));
            prop_assert_eq!(check::command_line(&l), None);
            prop_assert_eq!(check::command_line(&log_text(&s)), None);
            let c = html_comment(&s);
            prop_assert!(!c.contains("--") && !c.contains('>') && !c.ends_with('-'));
        }
    }
}
