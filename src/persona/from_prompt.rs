//! Reading a persona-generation prompt back: how many personas it asks for,
//! and the research data it carries. `bench-gate serve` answers prompts with
//! the offline synthesiser, so its answers reflect the prompt's data.
//!
//! bench-gate's own prompt format (`- [P01 | role: … | experience: 6 |
//! location: …] text (source: file:row 2)`) is read back exactly; any other
//! prompt (another tool's template) is read like a transcript: the part
//! inside `<research_data>`/`<data>` tags when there is one, else the whole
//! prompt, each line of three or more words a statement.

use super::data::{self, Dataset, InputFile, LocatorKind, Source, Statement};

/// The number of personas a prompt asks for: the first number followed
/// within three words by "persona(s)" (digits or a small number word);
/// 1 when none is found. Clamped to 1..=100.
pub fn requested_count(prompt: &str) -> usize {
    const WORDS: &[(&str, usize)] = &[
        ("one", 1),
        ("a", 1),
        ("an", 1),
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten", 10),
        ("twelve", 12),
        ("fifteen", 15),
        ("twenty", 20),
    ];
    let words: Vec<String> = prompt
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .map(|w| {
            // Keep a trailing full stop: a number never counts across a sentence.
            let stop = if w.ends_with('.') { "." } else { "" };
            format!(
                "{}{stop}",
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            )
        })
        .collect();
    for (i, w) in words.iter().enumerate() {
        let n = w
            .parse::<usize>()
            .ok()
            .or_else(|| WORDS.iter().find(|(k, _)| k == w).map(|(_, v)| *v));
        let Some(n) = n else { continue };
        // "3 distinct user personas": up to three words, none of them a number.
        for x in words[i + 1..].iter().take(4) {
            if x.trim_end_matches('.').starts_with("persona") {
                return n.clamp(1, 100);
            }
            if x.parse::<usize>().is_ok() || x.ends_with('.') {
                break;
            }
        }
    }
    1
}

/// One of our own data lines: `- [P01 | role: R | experience: 6] text (source: f:row 2)`.
fn parse_own_line(line: &str, index: usize) -> Option<Statement> {
    let rest = line.trim().strip_prefix("- [")?;
    let (head, rest) = rest.split_once("] ")?;
    let (text, source) = match rest.rfind(" (source: ") {
        Some(i) if rest.ends_with(')') => (&rest[..i], Some(&rest[i + 10..rest.len() - 1])),
        _ => (rest, None),
    };
    let mut parts = head.split(" | ");
    let participant = parts.next()?.trim().to_string();
    let mut s = Statement {
        participant,
        role: None,
        experience_years: None,
        age: None,
        location: None,
        context: None,
        text: text.trim().to_string(),
        source: Source {
            file: "prompt".into(),
            kind: LocatorKind::Line,
            index,
        },
    };
    for p in parts {
        let (k, v) = p.split_once(": ")?;
        match k.trim() {
            "role" => s.role = Some(v.trim().to_string()),
            "experience" => s.experience_years = v.trim().parse().ok(),
            "age" => s.age = v.trim().parse().ok(),
            "location" => s.location = Some(v.trim().to_string()),
            _ => {}
        }
    }
    if let Some(src) = source {
        // `file:row 2` → file, kind, index.
        if let Some((file, loc)) = src.rsplit_once(':') {
            let mut it = loc.split_whitespace();
            let kind = match it.next() {
                Some("row") => Some(LocatorKind::Row),
                Some("line") => Some(LocatorKind::Line),
                Some("record") => Some(LocatorKind::Record),
                _ => None,
            };
            if let (Some(kind), Some(Ok(n))) = (kind, it.next().map(str::parse::<usize>)) {
                s.source = Source {
                    file: file.to_string(),
                    kind,
                    index: n,
                };
            }
        }
    }
    (!s.text.is_empty()).then_some(s)
}

/// The text between the first `<tag …>` and `</tag>` for the given tags.
fn tagged<'a>(prompt: &'a str, tags: &[&str]) -> Option<&'a str> {
    for tag in tags {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        if let Some(start) = prompt.find(&open) {
            let after = &prompt[start..];
            let body_start = start + after.find('>')? + 1;
            if let Some(end) = prompt[body_start..].find(&close) {
                return Some(&prompt[body_start..body_start + end]);
            }
        }
    }
    None
}

/// The research data in a prompt; empty when it holds none.
pub fn dataset(prompt: &str) -> Dataset {
    let own: Vec<Statement> = prompt
        .lines()
        .enumerate()
        .filter_map(|(i, l)| parse_own_line(l, i + 1))
        .collect();
    if !own.is_empty() {
        let mut files: Vec<String> = own.iter().map(|s| s.source.file.clone()).collect();
        files.dedup();
        return Dataset {
            files,
            statements: own,
        };
    }
    let body = tagged(prompt, &["research_data", "data", "research", "input"]).unwrap_or(prompt);
    data::load(&[InputFile {
        name: "prompt.txt".into(),
        bytes: body.as_bytes().to_vec(),
    }])
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persona::data::{embedded_sample, load};
    use crate::persona::prompt::{render, DEFAULT_TEMPLATE};
    use crate::persona::synth::{Complexity, DetailLevel, SynthOptions};

    #[test]
    fn counts() {
        assert_eq!(
            requested_count("Create exactly 3 distinct user personas from"),
            3
        );
        assert_eq!(requested_count("Generate 10 personas."), 10);
        assert_eq!(requested_count("Please write five user personas"), 5);
        assert_eq!(requested_count("Generate a persona for our app"), 1);
        assert_eq!(
            requested_count("In 2024 we interviewed 12 people. Make 2 personas"),
            2
        );
        assert_eq!(requested_count("no number here"), 1);
        assert_eq!(requested_count("1000 personas"), 100);
    }

    #[test]
    fn our_own_prompt_reads_back_exactly() {
        let data = load(&embedded_sample()).unwrap();
        let opts = SynthOptions {
            count: 4,
            seed: 1,
            complexity: Complexity::Moderate,
            detail_level: DetailLevel::Standard,
            include_reasoning: false,
        };
        let prompt = render("p", DEFAULT_TEMPLATE, &data, &opts).unwrap();
        assert_eq!(requested_count(&prompt), 4);
        let back = dataset(&prompt);
        assert_eq!(back.statements.len(), data.statements.len());
        for (a, b) in back.statements.iter().zip(&data.statements) {
            assert_eq!(
                (&a.participant, &a.role, &a.text, &a.source),
                (&b.participant, &b.role, &b.text, &b.source)
            );
            assert_eq!(a.experience_years, b.experience_years);
            assert_eq!(a.location, b.location);
        }
    }

    #[test]
    fn other_prompts_are_read_as_transcripts() {
        let prompt = "You are a UX researcher. Generate 2 personas.\n<research_data>\nP1: I want faster builds every day\nP2: Slow tests are frustrating for everyone\n</research_data>\nAnswer in JSON.";
        let d = dataset(prompt);
        let texts: Vec<&str> = d.statements.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "I want faster builds every day",
                "Slow tests are frustrating for everyone"
            ]
        );
        assert_eq!(d.statements[1].participant, "P2");
        assert!(dataset("hi").statements.is_empty());
    }
}
