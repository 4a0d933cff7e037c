//! Loading research data: CSV interview rows, JSON/YAML survey responses and
//! Markdown/plain-text transcripts, all turned into one flat list of
//! [`Statement`]s that remember exactly where they came from.
//!
//! Columns and keys are found by *name* (see [`FieldKind::classify`]), never by
//! position, so a CSV with its columns in another order loads the same.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a statement was read from: a file and a row, line or record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    pub file: String,
    pub kind: LocatorKind,
    pub index: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocatorKind {
    /// A CSV row, counted as the line number in the file (the header is line 1).
    Row,
    /// A line in a transcript.
    Line,
    /// The n-th record (1-based) of a JSON or YAML array.
    Record,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            LocatorKind::Row => "row",
            LocatorKind::Line => "line",
            LocatorKind::Record => "record",
        };
        write!(f, "{}:{} {}", self.file, kind, self.index)
    }
}

/// One thing a participant said or wrote, with what is known about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub participant: String,
    pub role: Option<String>,
    pub experience_years: Option<f64>,
    pub age: Option<f64>,
    pub location: Option<String>,
    pub context: Option<String>,
    pub text: String,
    pub source: Source,
}

/// Everything loaded from the inputs, in input order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Input files in the order they were read.
    pub files: Vec<String>,
    pub statements: Vec<Statement>,
}

impl Dataset {
    /// Number of distinct participants.
    pub fn participant_count(&self) -> usize {
        let mut seen: Vec<&str> = self
            .statements
            .iter()
            .map(|s| s.participant.as_str())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// Total bytes of statement text: the basis of the prompt-size estimate.
    pub fn text_bytes(&self) -> usize {
        self.statements.iter().map(|s| s.text.len()).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("{path}:{line}: invalid UTF-8 (byte {byte}); save the file as UTF-8")]
    Utf8 {
        path: String,
        line: usize,
        byte: usize,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("{path}: no text column; found columns [{found}], expected one of: {expected}")]
    NoTextColumn {
        path: String,
        found: String,
        expected: String,
    },
    #[error("the dataset is empty: no statements found in {inputs}")]
    Empty { inputs: String },
}

/// What a column or key means, decided from its name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Participant,
    Role,
    Experience,
    Age,
    Location,
    Context,
    Text,
    Other,
}

const PARTICIPANT_NAMES: &[&str] = &[
    "participant_id",
    "participant",
    "respondent_id",
    "respondent",
    "user_id",
    "interviewee",
    "id",
    "name",
];
const ROLE_NAMES: &[&str] = &[
    "role",
    "job_title",
    "title",
    "occupation",
    "job",
    "position",
    "segment",
];
const EXPERIENCE_NAMES: &[&str] = &[
    "experience_years",
    "years_experience",
    "years_of_experience",
    "experience",
    "tenure_years",
    "tenure",
];
const AGE_NAMES: &[&str] = &["age", "age_years"];
const LOCATION_NAMES: &[&str] = &["location", "city", "country", "region"];
const CONTEXT_NAMES: &[&str] = &["context", "topic", "session", "question", "theme"];
/// Names of columns whose values are things participants said.
pub const TEXT_NAMES: &[&str] = &[
    "quote",
    "quotes",
    "response",
    "answer",
    "text",
    "comment",
    "comments",
    "feedback",
    "statement",
    "notes",
    "note",
    "verbatim",
    "transcript",
    "pain_point",
    "goal",
];

impl FieldKind {
    pub fn classify(name: &str) -> FieldKind {
        let norm: String = name
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        let norm = norm.trim_matches('_');
        let is = |names: &[&str]| names.contains(&norm);
        if is(TEXT_NAMES) {
            FieldKind::Text
        } else if is(PARTICIPANT_NAMES) {
            FieldKind::Participant
        } else if is(ROLE_NAMES) {
            FieldKind::Role
        } else if is(EXPERIENCE_NAMES) {
            FieldKind::Experience
        } else if is(AGE_NAMES) {
            FieldKind::Age
        } else if is(LOCATION_NAMES) {
            FieldKind::Location
        } else if is(CONTEXT_NAMES) {
            FieldKind::Context
        } else {
            FieldKind::Other
        }
    }
}

/// An input file already in memory: a name to report and its bytes.
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The sample dataset compiled into the binary: the embedded default.
pub fn embedded_sample() -> Vec<InputFile> {
    [
        (
            "sample/interviews.csv",
            include_bytes!("../../data/sample/interviews.csv").as_slice(),
        ),
        (
            "sample/survey.json",
            include_bytes!("../../data/sample/survey.json").as_slice(),
        ),
        (
            "sample/transcript-p13.md",
            include_bytes!("../../data/sample/transcript-p13.md").as_slice(),
        ),
    ]
    .into_iter()
    .map(|(name, bytes)| InputFile {
        name: name.to_string(),
        bytes: bytes.to_vec(),
    })
    .collect()
}

/// Expands files and directories (recursively, in sorted order) into input files.
/// Inside a directory only known extensions are read; a file named directly is
/// read whatever its extension (as plain text when unknown).
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<InputFile>, DataError> {
    let mut out = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DataError::Missing {
                path: shown.clone(),
            },
            _ => DataError::Io {
                path: shown.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry.map_err(|e| DataError::Io {
                    path: e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| shown.clone()),
                    source: e.into(),
                })?;
                if entry.file_type().is_file() && Format::from_path(entry.path()).is_some() {
                    out.push(read_one(entry.path())?);
                }
            }
        } else {
            out.push(read_one(path)?);
        }
    }
    Ok(out)
}

fn read_one(path: &Path) -> Result<InputFile, DataError> {
    let bytes = crate::fsutil::read_capped(path, crate::fsutil::MAX_DATA_BYTES).map_err(|e| {
        DataError::Io {
            path: path.display().to_string(),
            source: e,
        }
    })?;
    Ok(InputFile {
        name: path.display().to_string(),
        bytes,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
    Yaml,
    Text,
}

impl Format {
    fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "md" | "markdown" | "txt" | "text" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Parses all inputs into one dataset. Fails on the first bad file, naming it,
/// and when nothing at all was found.
pub fn load(inputs: &[InputFile]) -> Result<Dataset, DataError> {
    let mut data = Dataset::default();
    for input in inputs {
        let text = decode(input)?;
        let format = Format::from_path(Path::new(&input.name)).unwrap_or(Format::Text);
        let statements = match format {
            Format::Csv => parse_csv(&input.name, &text)?,
            Format::Json => {
                let value: Value = serde_json::from_str(&text).map_err(|e| DataError::Format {
                    path: input.name.clone(),
                    message: format!(
                        "line {} column {}: malformed JSON: {}",
                        e.line(),
                        e.column(),
                        strip_position(&e.to_string())
                    ),
                })?;
                parse_records(&input.name, &value)?
            }
            Format::Yaml => {
                let value: Value = serde_yaml::from_str(&text).map_err(|e| DataError::Format {
                    path: input.name.clone(),
                    message: match e.location() {
                        Some(loc) => format!(
                            "line {} column {}: malformed YAML: {}",
                            loc.line(),
                            loc.column(),
                            strip_position(&e.to_string())
                        ),
                        None => format!("malformed YAML: {e}"),
                    },
                })?;
                parse_records(&input.name, &value)?
            }
            Format::Text => parse_transcript(&input.name, &text),
        };
        data.files.push(input.name.clone());
        data.statements.extend(statements);
    }
    if data.statements.is_empty() {
        return Err(DataError::Empty {
            inputs: if inputs.is_empty() {
                "(no input files)".to_string()
            } else {
                inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
    }
    Ok(data)
}

use crate::parse_error::strip_position;

fn decode(input: &InputFile) -> Result<String, DataError> {
    match std::str::from_utf8(&input.bytes) {
        Ok(s) => Ok(s.strip_prefix('\u{feff}').unwrap_or(s).to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = input.bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(DataError::Utf8 {
                path: input.name.clone(),
                line,
                byte: at + 1,
            })
        }
    }
}

fn clean(s: &str) -> Option<String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

fn parse_number(s: &str) -> Option<f64> {
    let digits: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok().filter(|v: &f64| v.is_finite())
}

pub(crate) fn parse_csv(name: &str, text: &str) -> Result<Vec<Statement>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(name, &e))?.clone();
    let kinds: Vec<FieldKind> = headers.iter().map(FieldKind::classify).collect();
    if !kinds.contains(&FieldKind::Text) {
        return Err(DataError::NoTextColumn {
            path: name.to_string(),
            found: headers.iter().collect::<Vec<_>>().join(", "),
            expected: TEXT_NAMES.join(", "),
        });
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(name, &e))?;
        let row = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let mut fields = RecordFields::default();
        let mut texts = Vec::new();
        for (kind, value) in kinds.iter().zip(record.iter()) {
            if *kind == FieldKind::Text {
                if let Some(t) = clean(value) {
                    texts.push(t);
                }
            } else {
                fields.set(*kind, value);
            }
        }
        let participant = fields
            .participant
            .clone()
            .unwrap_or_else(|| format!("{}#{row}", short_name(name)));
        for text in texts {
            out.push(fields.statement(
                &participant,
                text,
                Source {
                    file: name.to_string(),
                    kind: LocatorKind::Row,
                    index: row,
                },
            ));
        }
    }
    Ok(out)
}

fn csv_error(name: &str, e: &csv::Error) -> DataError {
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "row {}: {len} fields where the header has {expected_len}",
            pos.as_ref().map(|p| p.line()).unwrap_or(0)
        ),
        _ => format!("malformed CSV: {e}"),
    };
    DataError::Format {
        path: name.to_string(),
        message,
    }
}

#[derive(Default, Clone)]
struct RecordFields {
    participant: Option<String>,
    role: Option<String>,
    experience: Option<f64>,
    age: Option<f64>,
    location: Option<String>,
    context: Option<String>,
}

impl RecordFields {
    fn set(&mut self, kind: FieldKind, value: &str) {
        let v = clean(value);
        match kind {
            FieldKind::Participant => self.participant = v.or(self.participant.take()),
            FieldKind::Role => self.role = v.or(self.role.take()),
            FieldKind::Experience => self.experience = parse_number(value).or(self.experience),
            FieldKind::Age => self.age = parse_number(value).or(self.age),
            FieldKind::Location => self.location = v.or(self.location.take()),
            FieldKind::Context => self.context = v.or(self.context.take()),
            FieldKind::Text | FieldKind::Other => {}
        }
    }

    fn statement(&self, participant: &str, text: String, source: Source) -> Statement {
        Statement {
            participant: participant.to_string(),
            role: self.role.clone(),
            experience_years: self.experience,
            age: self.age,
            location: self.location.clone(),
            context: self.context.clone(),
            text,
            source,
        }
    }
}

fn short_name(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name)
        .to_string()
}

/// JSON or YAML: an array of objects, or an object holding one such array.
pub(crate) fn parse_records(name: &str, value: &Value) -> Result<Vec<Statement>, DataError> {
    let records = find_records(value).ok_or_else(|| DataError::Format {
        path: name.to_string(),
        message: "expected an array of response objects, or an object holding one".into(),
    })?;
    let mut out = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let Value::Object(map) = record else {
            return Err(DataError::Format {
                path: name.to_string(),
                message: format!("record {}: expected an object", i + 1),
            });
        };
        let mut fields = RecordFields::default();
        let mut texts = Vec::new();
        let mut loose = Vec::new();
        for (key, v) in map {
            let kind = FieldKind::classify(key);
            let as_text = match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            match (kind, v) {
                (FieldKind::Text, Value::Array(items)) => {
                    texts.extend(items.iter().filter_map(|x| x.as_str()).filter_map(clean))
                }
                (FieldKind::Text, _) => texts.extend(as_text.as_deref().and_then(clean)),
                (FieldKind::Other, Value::String(s)) if s.split_whitespace().count() >= 4 => {
                    loose.extend(clean(s))
                }
                (kind, _) => {
                    if let Some(t) = as_text {
                        fields.set(kind, &t)
                    }
                }
            }
        }
        // Free-text answers under keys we do not know are still what people said.
        if texts.is_empty() {
            texts = loose;
        }
        let participant = fields
            .participant
            .clone()
            .unwrap_or_else(|| format!("{}#{}", short_name(name), i + 1));
        for text in texts {
            out.push(fields.statement(
                &participant,
                text,
                Source {
                    file: name.to_string(),
                    kind: LocatorKind::Record,
                    index: i + 1,
                },
            ));
        }
    }
    Ok(out)
}

fn find_records(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) => Some(items),
        Value::Object(map) => map.values().find_map(|v| match v {
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                Some(items)
            }
            _ => None,
        }),
        _ => None,
    }
}

/// Speakers whose lines are questions, not research data.
const INTERVIEWER_NAMES: &[&str] = &[
    "interviewer",
    "moderator",
    "facilitator",
    "researcher",
    "q",
    "question",
];

/// Markdown or plain text. Lines like `- Role: Designer` set what is known
/// about the participant; `**P3:** text` or `P3: text` are statements by P3;
/// interviewer lines and headings are skipped; other lines of three or more
/// words are statements by the file's participant.
fn parse_transcript(name: &str, text: &str) -> Vec<Statement> {
    let mut fields = RecordFields::default();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("```") {
            continue;
        }
        let line = line.trim_start_matches(['-', '*', '>', ' ']).trim_start();
        let (speaker, body) = split_speaker(line);
        if let Some(speaker) = speaker {
            let kind = FieldKind::classify(&speaker);
            if !matches!(kind, FieldKind::Other | FieldKind::Text)
                && body.split_whitespace().count() <= 6
            {
                fields.set(kind, &body);
                continue;
            }
            if INTERVIEWER_NAMES.contains(&speaker.to_lowercase().as_str()) {
                continue;
            }
            if body.split_whitespace().count() >= 3 {
                let statement = fields.statement(
                    &speaker,
                    body,
                    Source {
                        file: name.to_string(),
                        kind: LocatorKind::Line,
                        index: i + 1,
                    },
                );
                out.push(statement);
            }
            continue;
        }
        if let Some(body) = clean(line.trim_matches('*')) {
            if body.split_whitespace().count() >= 3 {
                let participant = fields
                    .participant
                    .clone()
                    .unwrap_or_else(|| short_name(name));
                out.push(fields.statement(
                    &participant,
                    body,
                    Source {
                        file: name.to_string(),
                        kind: LocatorKind::Line,
                        index: i + 1,
                    },
                ));
            }
        }
    }
    // Statements by the file's participant take the metadata found anywhere in the file.
    let file_participant = fields.participant.clone();
    for s in &mut out {
        if Some(&s.participant) == file_participant.as_ref() || file_participant.is_none() {
            s.role = s.role.clone().or(fields.role.clone());
            s.experience_years = s.experience_years.or(fields.experience);
            s.age = s.age.or(fields.age);
            s.location = s.location.clone().or(fields.location.clone());
        }
    }
    out
}

/// `**Name:** text`, `**Name**: text` or `Name: text` with a short name.
fn split_speaker(line: &str) -> (Option<String>, String) {
    let stripped = line.replace("**", "");
    if let Some((head, body)) = stripped.split_once(':') {
        let head = head.trim();
        let words = head.split_whitespace().count();
        if !head.is_empty() && words <= 3 && head.len() <= 40 && !head.contains("http") {
            if let Some(body) = clean(body) {
                return (Some(head.to_string()), body);
            }
        }
    }
    (None, line.to_string())
}

/// Groups statements by participant, in order of first appearance.
pub fn by_participant(data: &Dataset) -> Vec<(String, Vec<&Statement>)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<&Statement>> = BTreeMap::new();
    for s in &data.statements {
        if !groups.contains_key(&s.participant) {
            order.push(s.participant.clone());
        }
        groups.entry(s.participant.clone()).or_default().push(s);
    }
    order
        .into_iter()
        .map(|p| {
            let v = groups.remove(&p).unwrap_or_default();
            (p, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> InputFile {
        InputFile {
            name: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn csv_columns_are_found_by_name_not_position() {
        let a = load(&[file(
            "a.csv",
            "participant_id,role,quote\nP1,Designer,I want fewer meetings please\n",
        )])
        .unwrap();
        let b = load(&[file(
            "a.csv",
            "Quote,Role,Participant ID\nI want fewer meetings please,Designer,P1\n",
        )])
        .unwrap();
        assert_eq!(a.statements, b.statements);
        let s = &a.statements[0];
        assert_eq!(s.participant, "P1");
        assert_eq!(s.role.as_deref(), Some("Designer"));
        assert_eq!(s.source.to_string(), "a.csv:row 2");
    }

    #[test]
    fn csv_without_text_column_is_an_error_naming_the_columns() {
        let err = load(&[file("x.csv", "id,role\n1,Dev\n")]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.csv: no text column"), "{msg}");
        assert!(msg.contains("found columns [id, role]"), "{msg}");
    }

    #[test]
    fn csv_ragged_row_names_the_row() {
        let err = load(&[file("x.csv", "id,quote\n1,hello there friend\n2,a,b\n")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.csv: row 3: 3 fields where the header has 2"
        );
    }

    #[test]
    fn json_array_or_object_holding_one() {
        let arr = r#"[{"id":"A","answer":"I need faster reports every week"}]"#;
        let obj =
            r#"{"meta":"x","responses":[{"id":"A","answer":"I need faster reports every week"}]}"#;
        let a = load(&[file("s.json", arr)]).unwrap();
        let b = load(&[file("s.json", obj)]).unwrap();
        assert_eq!(a.statements, b.statements);
        assert_eq!(a.statements[0].source.to_string(), "s.json:record 1");
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = load(&[file("s.json", "[\n{\"a\": }\n]")]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("s.json: line 2 column 7: malformed JSON"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_yaml_names_line() {
        let err = load(&[file("s.yaml", "- a: [1, 2\n- b: 3\n")]).unwrap_err();
        assert!(err.to_string().contains("s.yaml: line "), "{err}");
    }

    #[test]
    fn yaml_records_load() {
        let d = load(&[file(
            "s.yml",
            "responses:\n  - id: Y1\n    role: Analyst\n    comment: I always check the numbers twice\n",
        )])
        .unwrap();
        assert_eq!(d.statements[0].participant, "Y1");
        assert_eq!(d.statements[0].role.as_deref(), Some("Analyst"));
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut bytes = b"id,quote\n1,fine words here\n2,bad ".to_vec();
        bytes.push(0xff);
        let err = load(&[InputFile {
            name: "b.csv".into(),
            bytes,
        }])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.csv:3: invalid UTF-8 (byte 34); save the file as UTF-8"
        );
    }

    #[test]
    fn transcript_speakers_metadata_and_interviewer() {
        let text = "# Notes\n- Role: Nurse\n- Experience: 4 years\n**Interviewer:** What is hard?\n**P9:** Night shifts are hard to plan around.\nJust a loose line with words.\n";
        let d = load(&[file("t.md", text)]).unwrap();
        let texts: Vec<_> = d.statements.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Night shifts are hard to plan around.",
                "Just a loose line with words."
            ]
        );
        assert_eq!(d.statements[0].participant, "P9");
        assert_eq!(d.statements[0].source.to_string(), "t.md:line 5");
        // The loose line belongs to the file's participant and gets its metadata.
        assert_eq!(d.statements[1].participant, "t");
        assert_eq!(d.statements[1].role.as_deref(), Some("Nurse"));
        assert_eq!(d.statements[1].experience_years, Some(4.0));
    }

    #[test]
    fn empty_dataset_is_an_error() {
        let err = load(&[file("e.csv", "id,quote\n")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the dataset is empty: no statements found in e.csv"
        );
    }

    #[test]
    fn embedded_sample_loads() {
        let d = load(&embedded_sample()).unwrap();
        assert!(d.participant_count() >= 15, "{}", d.participant_count());
        let p13: Vec<_> = d
            .statements
            .iter()
            .filter(|s| s.participant == "P13")
            .collect();
        assert_eq!(p13.len(), 4);
        assert!(p13
            .iter()
            .all(|s| s.role.as_deref() == Some("Software Engineer")));
    }
}
