//! Reading a persona-generation prompt back: how many personas it asks for,
//! the research data it carries, and the JSON example the answer should
//! follow. `bench-gate serve` answers prompts with the offline synthesiser,
//! so its answers reflect the prompt's data and never its instructions.
//!
//! bench-gate's own prompt format (`- [P01 | role: … | experience: 6 |
//! location: …] text (source: file:row 2)`) is read back exactly. Other
//! prompts: data inside `<research_data>`/`<data>` tags, or else the Markdown
//! sections that are not instructions (requirements, output format,
//! examples, …): `**key**: value` records under `# Source:` headings (read
//! like that file's CSV rows), CSV or JSON blocks, else transcript lines.
//! The example's keys are filled from the personas by what they mean.

use serde_json::{json, Value};

use super::data::{self, Dataset, InputFile, LocatorKind, Source, Statement};
use super::model::Persona;

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

/// What a prompt asks for, read back: its research data, the number of
/// personas, the JSON example the answer should follow (when it shows one)
/// and whether the answer goes inside `<output></output>`.
#[derive(Debug, Default)]
pub struct Reading {
    pub data: Dataset,
    pub count: usize,
    /// The prompt's JSON example, when it has one (bench-gate's own prompt
    /// format answers in bench-gate's schema instead).
    pub example: Option<Value>,
    pub wrap_output: bool,
}

/// Words that mark a Markdown section as instructions rather than data.
const INSTRUCTION_HEADINGS: &[&str] = &[
    "requirement",
    "output",
    "format",
    "example",
    "instruction",
    "guideline",
    "rules",
    "constraint",
    "task",
    "schema",
    "response format",
    "answer format",
    "template",
];

/// One Markdown section: its heading (none before the first) and its lines.
struct Section<'a> {
    heading: Option<&'a str>,
    lines: Vec<&'a str>,
    /// Fenced blocks: (language, body).
    fences: Vec<(String, String)>,
}

fn sections(text: &str) -> Vec<Section<'_>> {
    let mut out = vec![Section {
        heading: None,
        lines: Vec::new(),
        fences: Vec::new(),
    }];
    let mut fence: Option<(String, String)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some((lang, body)) = fence.as_mut() {
            if t.starts_with("```") {
                let (lang, body) = (std::mem::take(lang), std::mem::take(body));
                if let Some(s) = out.last_mut() {
                    s.fences.push((lang, body));
                }
                fence = None;
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if let Some(lang) = t.strip_prefix("```") {
            fence = Some((lang.trim().to_lowercase(), String::new()));
        } else if t.starts_with('#') {
            out.push(Section {
                heading: Some(t.trim_start_matches('#').trim()),
                lines: Vec::new(),
                fences: Vec::new(),
            });
        } else if let Some(s) = out.last_mut() {
            s.lines.push(line);
        }
    }
    out
}

fn is_instruction_heading(h: &str) -> bool {
    let h = h.to_lowercase();
    INSTRUCTION_HEADINGS.iter().any(|w| h.contains(w))
}

/// `**key**: value`, `**key:** value` or `- **key**: value`.
fn key_value(line: &str) -> Option<(String, String)> {
    let t = line.trim().trim_start_matches(['-', ' ']).trim_start();
    let (key, rest) = t.strip_prefix("**")?.split_once("**")?;
    let (key, value) = match key.trim().strip_suffix(':') {
        Some(k) => (k, rest),
        None => (key, rest.trim_start().strip_prefix(':')?),
    };
    let key = key.trim();
    (!key.is_empty() && key.len() <= 60 && key.split_whitespace().count() <= 4)
        .then(|| (key.to_string(), value.trim().to_string()))
}

/// Markdown records (`**key**: value` lines, one record per heading or
/// until a key repeats) as a CSV table, read like a CSV file so that a
/// record's statements are the same as the row's in the original file.
fn records_to_csv(records: &[Vec<(String, String)>]) -> Option<String> {
    let mut columns: Vec<String> = Vec::new();
    for r in records {
        for (k, _) in r {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&columns).ok()?;
    for r in records {
        let row: Vec<&str> = columns
            .iter()
            .map(|c| {
                r.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("")
            })
            .collect();
        w.write_record(&row).ok()?;
    }
    String::from_utf8(w.into_inner().ok()?).ok()
}

/// A line that reads like an instruction to the model rather than research
/// data (used only when a prompt has no structured data).
fn instruction_like(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    l.contains("persona")
        || l.contains("json")
        || l.contains("<output")
        || l.contains("</output")
        || l.starts_with("you are")
        || l.starts_with("you're")
        || l.ends_with(':')
}

/// Statements from a block of data text: CSV or JSON (fenced or not),
/// Markdown records, else transcript lines.
fn block_statements(file: &str, lang: &str, body: &str) -> Vec<Statement> {
    let t = body.trim();
    let stem = file.rsplit_once('.').map(|(s, _)| s).unwrap_or(file);
    if lang == "json" || t.starts_with('[') || t.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            return data::parse_records(&format!("{stem}.json"), &v).unwrap_or_default();
        }
    }
    if lang == "csv"
        || t.lines()
            .next()
            .is_some_and(|l| l.matches(',').count() >= 1)
    {
        if let Ok(s) = data::parse_csv(&format!("{stem}.csv"), t) {
            if !s.is_empty() {
                return s;
            }
        }
    }
    Vec::new()
}

/// Reads a prompt: its data, count, JSON example and output wrapping.
pub fn read(prompt: &str) -> Reading {
    let wrap_output = prompt.to_lowercase().contains("<output>");
    let own: Vec<Statement> = prompt
        .lines()
        .enumerate()
        .filter_map(|(i, l)| parse_own_line(l, i + 1))
        .collect();
    if !own.is_empty() {
        let mut files: Vec<String> = own.iter().map(|s| s.source.file.clone()).collect();
        files.dedup();
        return Reading {
            data: Dataset {
                files,
                statements: own,
            },
            count: requested_count(prompt),
            example: None,
            wrap_output: true,
        };
    }
    // Data inside tags: the rest of the prompt is instructions.
    let tags = ["research_data", "data", "research", "input"];
    let (data_text, instructions) = match tagged(prompt, &tags) {
        Some(body) => {
            let at = prompt.find(body).unwrap_or(0);
            let rest = format!("{}\n{}", &prompt[..at], &prompt[at + body.len()..]);
            (Some(body), rest)
        }
        None => (None, String::new()),
    };
    let text = data_text.unwrap_or(prompt);
    let secs = sections(text);
    let mut statements: Vec<Statement> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut instruction_text = instructions;
    let mut example: Option<Value> = None;
    let mut loose: Vec<String> = Vec::new();
    // The text before the first heading, read as data only when nothing else is.
    let mut intro: Vec<&str> = Vec::new();
    let mut file = "prompt.txt".to_string();
    let mut records: Vec<Vec<(String, String)>> = Vec::new();
    let flush = |file: &str,
                 records: &mut Vec<Vec<(String, String)>>,
                 statements: &mut Vec<Statement>,
                 files: &mut Vec<String>,
                 loose: &mut Vec<String>| {
        let usable: Vec<Vec<(String, String)>> = std::mem::take(records)
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect();
        if usable.is_empty() {
            return;
        }
        let name = if file.to_lowercase().ends_with(".csv") {
            file.to_string()
        } else {
            format!("{file}.csv")
        };
        match records_to_csv(&usable).map(|csv| data::parse_csv(&name, &csv)) {
            Some(Ok(s)) if !s.is_empty() => {
                if !files.contains(&file.to_string()) {
                    files.push(file.to_string());
                }
                statements.extend(s);
            }
            // Not records with a text field (`**P3:** text` speaker lines): transcript text.
            _ => loose.extend(usable.iter().flatten().map(|(k, v)| format!("{k}: {v}"))),
        }
    };
    for (i, sec) in secs.iter().enumerate() {
        let instruction = match sec.heading {
            Some(h) => is_instruction_heading(h),
            // The text before the first heading introduces the task, unless
            // the data is in tags (then it is all data) or there are no headings.
            None => data_text.is_none() && secs.len() > 1,
        };
        if instruction {
            if sec.heading.is_none() {
                intro.extend(sec.lines.iter().copied());
            }
            if let Some(h) = sec.heading {
                instruction_text.push_str(h);
                instruction_text.push('\n');
            }
            for l in &sec.lines {
                instruction_text.push_str(l);
                instruction_text.push('\n');
            }
            for (lang, body) in &sec.fences {
                if lang.is_empty() || lang == "json" {
                    if let Some(v) = parse_example(body) {
                        example = Some(v);
                    }
                }
            }
            continue;
        }
        if let Some(h) = sec.heading {
            let lower = h.to_lowercase();
            if let Some(name) = lower.strip_prefix("source:").map(|_| h[7..].trim()) {
                flush(&file, &mut records, &mut statements, &mut files, &mut loose);
                file = name.to_string();
            }
            // A new heading starts a new record.
            records.push(Vec::new());
        } else if i == 0 {
            records.push(Vec::new());
        }
        for l in &sec.lines {
            match key_value(l) {
                Some((k, v)) => {
                    let fresh = records
                        .last()
                        .is_none_or(|r| r.iter().any(|(x, _)| *x == k));
                    if fresh {
                        records.push(Vec::new());
                    }
                    if let Some(r) = records.last_mut() {
                        r.push((k, v));
                    }
                }
                None => {
                    if !l.trim().is_empty() {
                        loose.push(l.to_string());
                    }
                }
            }
        }
        for (lang, body) in &sec.fences {
            let s = block_statements(&file, lang, body);
            if !s.is_empty() && !files.contains(&file) {
                files.push(file.clone());
            }
            statements.extend(s);
        }
    }
    flush(&file, &mut records, &mut statements, &mut files, &mut loose);
    if statements.is_empty() {
        // Unstructured data: CSV pasted as text, else transcript lines,
        // leaving out what reads like an instruction.
        let body = loose.join("\n");
        statements = block_statements("prompt.txt", "", &body);
        if statements.is_empty() {
            let kept: Vec<&str> = loose
                .iter()
                .map(String::as_str)
                .filter(|l| data_text.is_some() || !instruction_like(l))
                .chain(intro.iter().copied().filter(|l| !instruction_like(l)))
                .collect();
            statements = data::load(&[InputFile {
                name: "prompt.txt".into(),
                bytes: kept.join("\n").into_bytes(),
            }])
            .map(|d| d.statements)
            .unwrap_or_default();
        }
        if !statements.is_empty() {
            files = vec!["prompt.txt".into()];
        }
        for l in &loose {
            if instruction_like(l) {
                instruction_text.push_str(l);
                instruction_text.push('\n');
            }
        }
    }
    if example.is_none() && data_text.is_some() {
        // Data in tags: a fenced example anywhere in the instructions around them.
        example = sections(&instruction_text)
            .iter()
            .flat_map(|s| s.fences.iter())
            .filter(|(lang, _)| lang.is_empty() || lang == "json")
            .find_map(|(_, body)| parse_example(body));
    }
    if example.is_none() {
        // An example outside a Markdown section: a JSON object in the instructions.
        example = inline_example(&instruction_text).or_else(|| {
            data_text
                .is_none()
                .then(|| inline_example(prompt))
                .flatten()
        });
    }
    let count_text = if instruction_text.trim().is_empty() {
        prompt
    } else {
        &instruction_text
    };
    Reading {
        data: Dataset { files, statements },
        count: requested_count(count_text),
        example,
        wrap_output,
    }
}

/// A JSON example, tolerating the usual liberties of prompt authors
/// (`...` lines, trailing commas).
fn parse_example(body: &str) -> Option<Value> {
    let t = body.trim();
    if let Ok(v @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    let cleaned: String = t
        .lines()
        .filter(|l| {
            let l = l.trim().trim_end_matches(',');
            l != "..." && l != "…" && !l.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut no_trailing = String::new();
    let chars: Vec<char> = cleaned.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        no_trailing.push(*c);
    }
    match serde_json::from_str::<Value>(&no_trailing) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => Some(v),
        _ => None,
    }
}

/// The first `{…}` in a text that parses as a JSON object holding a list of objects.
fn inline_example(text: &str) -> Option<Value> {
    let mut from = 0;
    while let Some(i) = text[from..].find('{') {
        let start = from + i;
        let mut de = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        if let Some(Ok(v)) = de.next() {
            if persona_template(&v).is_some() {
                return Some(v);
            }
        }
        from = start + 1;
    }
    None
}

/// The research data in a prompt; empty when it holds none.
pub fn dataset(prompt: &str) -> Dataset {
    read(prompt).data
}

/// Where the per-persona template sits in an example: the path of keys to
/// its first list of objects (empty when the example is that list).
fn persona_template(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) if items.first().is_some_and(Value::is_object) => Some(Vec::new()),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            persona_template(x).map(|mut p| {
                p.insert(0, k.clone());
                p
            })
        }),
        _ => None,
    }
}

/// `painPoints`, `pain-points`, `Pain Points` → `pain_points`.
fn norm(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// What a persona field in someone else's schema holds, by its key.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Id,
    Name,
    Age,
    Occupation,
    Location,
    Goals,
    Pains,
    Behaviours,
    Quotes,
    Evidence,
    Description,
    Other,
}

fn field(key: &str) -> Field {
    let k = norm(key);
    // A word of the key (split at `_`, camelCase already lowercased) starts with one of these.
    let has = |ws: &[&str]| {
        k.split('_')
            .any(|part| ws.iter().any(|w| part.starts_with(w)))
    };
    if k == "id" || k.ends_with("_id") || k == "key" || k == "slug" {
        Field::Id
    } else if k == "name" || k.ends_with("_name") || k == "persona" {
        Field::Name
    } else if k.split('_').any(|p| p == "age" || p == "ages") {
        Field::Age
    } else if has(&[
        "occupation",
        "role",
        "job",
        "title",
        "position",
        "profession",
    ]) {
        Field::Occupation
    } else if has(&["location", "city", "region", "country", "place"]) {
        Field::Location
    } else if has(&["goal", "need", "motivation", "objective", "aim"]) {
        Field::Goals
    } else if has(&["pain", "frustration", "challenge", "problem", "struggle"]) {
        Field::Pains
    } else if has(&["behaviour", "behavior", "habit", "pattern", "practice"]) {
        Field::Behaviours
    } else if has(&["quote", "verbatim", "saying"]) {
        Field::Quotes
    } else if has(&["evidence", "source", "reference"]) {
        Field::Evidence
    } else {
        Field::Description
    }
}

fn description(p: &Persona) -> String {
    let mut s = format!(
        "{}, {} ({}).",
        p.demographics.occupation, p.demographics.age_range, p.demographics.location
    );
    if let Some(g) = p.goals.first() {
        s.push_str(&format!(" Wants to {}", lower_first(g)));
        if !s.ends_with('.') {
            s.push('.');
        }
    }
    s
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn list(p: &Persona, f: Field) -> Vec<String> {
    match f {
        Field::Goals => p.goals.clone(),
        Field::Pains => p.pain_points.clone(),
        Field::Behaviours => p.behaviours.clone(),
        Field::Quotes => p.quotes.clone(),
        Field::Evidence => p.evidence.values().flatten().cloned().collect(),
        _ => vec![scalar(p, f)],
    }
}

fn scalar(p: &Persona, f: Field) -> String {
    match f {
        Field::Id => p.id.clone(),
        Field::Name => p.name.clone(),
        Field::Age => p.demographics.age_range.clone(),
        Field::Occupation => p.demographics.occupation.clone(),
        Field::Location => p.demographics.location.clone(),
        Field::Goals | Field::Pains | Field::Behaviours | Field::Quotes | Field::Evidence => {
            list(p, f).into_iter().next().unwrap_or_default()
        }
        Field::Description | Field::Other => p.reasoning.clone().unwrap_or_else(|| description(p)),
    }
}

/// The example's persona template filled with one persona's values.
fn fill(template: &Value, p: &Persona, f: Field) -> Value {
    match template {
        Value::Object(map) => {
            if f == Field::Evidence {
                return serde_json::to_value(&p.evidence).unwrap_or(Value::Null);
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let kf = field(k);
                        // A nested object under an unknown key (demographics) is read by its own keys.
                        (k.clone(), fill(v, p, kf))
                    })
                    .collect(),
            )
        }
        Value::Array(items) => match items.first() {
            Some(Value::Object(_)) if f != Field::Evidence => {
                Value::Array(vec![fill(&items[0], p, f)])
            }
            _ => Value::Array(list(p, f).into_iter().map(Value::String).collect()),
        },
        Value::String(_) => Value::String(scalar(p, f)),
        Value::Number(_) => match f {
            Field::Age => {
                let digits: String = p
                    .demographics
                    .age_range
                    .chars()
                    .skip_while(|c| !c.is_ascii_digit())
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits
                    .parse::<u64>()
                    .map(|n| json!(n))
                    .unwrap_or(Value::Null)
            }
            Field::Quotes => json!(p.quotes.len()),
            _ => json!(p.evidence.len()),
        },
        other => other.clone(),
    }
}

/// The answer's JSON for these personas: the prompt's example filled with
/// them when it has one, else `{"personas": […]}`; inside `<output>` tags
/// when the prompt asks for them. Never holds the tags inside the JSON.
pub fn answer_text(reading: &Reading, personas: &[Persona]) -> String {
    let example = reading
        .example
        .as_ref()
        .and_then(|e| Some((e, persona_template(e)?)));
    let json = match (example, reading.example.as_ref()) {
        (Some((example, path)), _) => {
            let mut out = example.clone();
            let mut slot = &mut out;
            for k in &path {
                slot = &mut slot[k.as_str()];
            }
            let template = slot.get(0).cloned().unwrap_or(Value::Null);
            *slot = Value::Array(
                personas
                    .iter()
                    .map(|p| fill(&template, p, Field::Other))
                    .collect(),
            );
            // Anything else in the envelope gets data-derived values too.
            fill_envelope(&mut out, &path, personas);
            strip_tags(&mut out);
            serde_json::to_string_pretty(&out).unwrap_or_default()
        }
        // One persona object as the example: a list of such objects.
        (None, Some(one @ Value::Object(_))) => {
            let mut out = Value::Array(
                personas
                    .iter()
                    .map(|p| fill(one, p, Field::Other))
                    .collect(),
            );
            strip_tags(&mut out);
            serde_json::to_string_pretty(&out).unwrap_or_default()
        }
        _ => {
            let mut clean = personas.to_vec();
            for p in &mut clean {
                let mut v = serde_json::to_value(&*p).unwrap_or(Value::Null);
                strip_tags(&mut v);
                if let Ok(q) = serde_json::from_value(v) {
                    *p = q;
                }
            }
            super::to_json(&clean).trim_end().to_string()
        }
    };
    if reading.wrap_output {
        format!("<output>\n{json}\n</output>")
    } else {
        json
    }
}

fn fill_envelope(v: &mut Value, path: &[String], personas: &[Persona]) {
    let Value::Object(map) = v else { return };
    let participants: usize = personas.iter().map(|p| p.evidence.len()).sum();
    for (k, x) in map.iter_mut() {
        if path.first() == Some(k) {
            fill_envelope(x, &path[1..], personas);
            continue;
        }
        *x = match &*x {
            Value::String(_) => Value::String(format!(
                "{} personas from the research data ({} evidence references)",
                personas.len(),
                participants
            )),
            Value::Number(_) => json!(personas.len()),
            Value::Array(_) => Value::Array(Vec::new()),
            Value::Object(_) => Value::Object(Default::default()),
            other => other.clone(),
        };
    }
}

/// Removes `<output>`/`</output>` from every string (a client that cuts the
/// answer at the first `</output>` would otherwise get broken JSON).
fn strip_tags(v: &mut Value) {
    match v {
        Value::String(s) => {
            for tag in ["<output>", "</output>"] {
                while let Some(i) = s.to_lowercase().find(tag) {
                    s.replace_range(i..i + tag.len(), "");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_tags),
        Value::Object(map) => map.values_mut().for_each(strip_tags),
        _ => {}
    }
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

    const PERSONA_LIKE: &str = include_str!("../../tests/fixtures/prompts/persona-like.txt");

    fn synth(reading: &Reading) -> Vec<Persona> {
        crate::persona::synth::synthesise(
            &reading.data,
            &SynthOptions {
                count: reading.count,
                seed: 42,
                complexity: Complexity::Moderate,
                detail_level: DetailLevel::Standard,
                include_reasoning: false,
            },
        )
    }

    #[test]
    fn markdown_records_are_read_like_the_csv_they_came_from() {
        let r = read(PERSONA_LIKE);
        assert_eq!(r.count, 3);
        assert!(r.wrap_output);
        let csv = load(&[crate::persona::data::InputFile {
            name: "research.csv".into(),
            bytes: include_bytes!("../../tests/fixtures/prompts/research.csv").to_vec(),
        }])
        .unwrap();
        assert_eq!(r.data.files, ["research.csv"]);
        assert_eq!(r.data.statements, csv.statements);
        assert!(r.example.is_some());
    }

    #[test]
    fn answers_follow_the_example_with_data_not_placeholders() {
        let r = read(PERSONA_LIKE);
        let personas = synth(&r);
        let text = answer_text(&r, &personas);
        assert!(text.starts_with("<output>\n{") && text.ends_with("}\n</output>"));
        let inner = &text["<output>".len()..text.len() - "</output>".len()];
        assert!(!inner.contains("<output>") && !inner.contains("</output>"));
        let v: Value = serde_json::from_str(inner).unwrap();
        let list = v["personas"].as_array().unwrap();
        assert_eq!(list.len(), 3);
        for (p, j) in personas.iter().zip(list) {
            assert_eq!(j["name"], p.name.as_str());
            assert_eq!(j["id"], p.id.as_str());
            assert_eq!(
                j["demographics"]["occupation"],
                p.demographics.occupation.as_str()
            );
            assert_eq!(j["goals"], json!(p.goals));
            assert_eq!(j["quotes"], json!(p.quotes));
            let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                [
                    "behaviours",
                    "demographics",
                    "goals",
                    "id",
                    "name",
                    "pain_points",
                    "quotes"
                ]
            );
        }
        for placeholder in [
            "Goal 1",
            "Job Title",
            "Location Type",
            "Quote from research data",
            "Pain point 1",
            "Behaviour 1",
            "\"Name\"",
            "persona-001",
        ] {
            assert!(!text.contains(placeholder), "{placeholder} in {text}");
        }
        for instruction in [
            "distinct from each other",
            "Wrap your response",
            "valid JSON",
            "expert UX researcher",
        ] {
            assert!(!inner.contains(instruction), "{instruction} in {text}");
        }
    }

    #[test]
    fn other_shapes_csv_json_blocks_and_speaker_lines() {
        let csv = "Make 2 personas.\n\n## Data\n```csv\nid,role,comment\nA,Nurse,I want shorter handovers every shift\nB,Doctor,Paging is frustrating at night\n```\n## Output format\n```json\n[{\"persona_name\": \"X\", \"job\": \"Y\", \"frustrations\": [\"Z\"],}]\n```\n";
        let r = read(csv);
        assert_eq!(r.count, 2);
        assert!(!r.wrap_output);
        assert_eq!(r.data.statements.len(), 2);
        let text = answer_text(&r, &synth(&r));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        let jobs: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["job"].as_str().unwrap())
            .collect();
        assert!(
            jobs.contains(&"Nurse") && jobs.contains(&"Doctor"),
            "{jobs:?}"
        );
        let json = "Generate 1 persona.\n<data>\n[{\"respondent\": \"R1\", \"answer\": \"I usually plan the week on Sunday evening\"}]\n</data>";
        let r = read(json);
        assert_eq!(r.data.statements[0].participant, "R1");
        let talk = "# Interview\n**Interviewer:** What slows you down?\n**P3:** Waiting for the build is the worst part of my day\n\n## Task\nCreate 4 personas. Respond in JSON.";
        let r = read(talk);
        assert_eq!(r.count, 4);
        let texts: Vec<&str> = r.data.statements.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Waiting for the build is the worst part of my day"]);
        assert_eq!(r.data.statements[0].participant, "P3");
    }

    #[test]
    fn data_before_the_instructions_and_examples_around_tagged_data() {
        let r = read("P1: I want faster builds every day\nP2: Slow tests are frustrating for everyone\n\n## Output format\nReturn 2 personas as JSON.");
        assert_eq!(r.count, 2);
        assert_eq!(r.data.statements.len(), 2);
        let prompt = "Create 1 persona.\n<data>\nRole: Developer\nExperience: 6\nP1: I want code reviews to take less than a day\n</data>\n## Output format\n```json\n{\"people\": [{\"label\": \"X\", \"age\": 30, \"needs\": [\"Y\",],}]}\n```";
        let r = read(prompt);
        let v: Value = serde_json::from_str(&answer_text(&r, &synth(&r))).unwrap();
        let p = &v["people"][0];
        assert!(p["age"].is_u64(), "{v}");
        assert_eq!(
            p["needs"],
            json!(["Code reviews to take less than a day"]),
            "{v}"
        );
        assert!(
            p["label"].as_str().unwrap().starts_with("Developer, "),
            "{v}"
        );
    }

    #[test]
    fn keys_are_read_by_their_words() {
        let cases = [
            ("id", Field::Id),
            ("persona_id", Field::Id),
            ("fullName", Field::Name),
            ("age_range", Field::Age),
            ("engagement", Field::Description),
            ("job_title", Field::Occupation),
            ("location_type", Field::Location),
            ("user_goals", Field::Goals),
            ("claims", Field::Description),
            ("painPoints", Field::Pains),
            ("frustrations", Field::Pains),
            ("behaviors", Field::Behaviours),
            ("key_quotes", Field::Quotes),
            ("summary", Field::Description),
        ];
        for (key, want) in cases {
            assert!(field(key) == want, "{key}");
        }
    }

    #[test]
    fn output_tags_never_appear_inside_the_json() {
        let prompt = "Generate 1 persona. Wrap it in <output></output>.\n<data>\nP1: I always type </output> and <output> in my notes\n</data>";
        let r = read(prompt);
        let text = answer_text(&r, &synth(&r));
        assert_eq!(text.matches("<output>").count(), 1);
        assert_eq!(text.matches("</output>").count(), 1);
    }
}
