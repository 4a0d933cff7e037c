//! Turning a provider's answer into validated personas.

use serde_json::Value;

use super::model::{validate, Persona};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("the answer holds no JSON (expected it inside <output></output>)")]
    NoJson,
    #[error("the JSON in the answer is malformed at line {line} column {column}: {message}")]
    Malformed {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the JSON in the answer is not a persona list: {0}")]
    Shape(String),
    #[error("asked for {expected} personas, the answer has {got}")]
    Count { expected: usize, got: usize },
    #[error(transparent)]
    Invalid(#[from] super::model::ValidationError),
}

/// The text between `<output>` and `</output>` when present, else the whole
/// answer; Markdown code fences around it are ignored.
pub fn extract(answer: &str) -> &str {
    let inner = match (answer.find("<output>"), answer.rfind("</output>")) {
        (Some(a), Some(b)) if b > a => &answer[a + "<output>".len()..b],
        _ => answer,
    };
    let t = inner.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .unwrap_or(t);
    t.strip_suffix("```").unwrap_or(t).trim()
}

/// Accepts `{"personas": [...]}`, a bare list, or one persona object.
pub fn parse(answer: &str, expected: usize) -> Result<Vec<Persona>, ParseError> {
    let json = extract(answer);
    if !(json.starts_with('{') || json.starts_with('[')) {
        return Err(ParseError::NoJson);
    }
    let value: Value = serde_json::from_str(json).map_err(|e| ParseError::Malformed {
        line: e.line(),
        column: e.column(),
        message: {
            let m = e.to_string();
            m.split(" at line ").next().unwrap_or(&m).to_string()
        },
    })?;
    let list = match value {
        Value::Object(mut map) if map.contains_key("personas") => {
            map.remove("personas").unwrap_or(Value::Null)
        }
        v @ Value::Object(_) => Value::Array(vec![v]),
        v => v,
    };
    let personas: Vec<Persona> =
        serde_json::from_value(list).map_err(|e| ParseError::Shape(e.to_string()))?;
    if personas.len() != expected {
        return Err(ParseError::Count {
            expected,
            got: personas.len(),
        });
    }
    validate(&personas)?;
    Ok(personas)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"name":"Ada","goals":["g"],"pain_points":["p"]}"#;

    #[test]
    fn accepts_tags_fences_bare_lists_and_objects() {
        for answer in [
            format!("Sure!\n<output>\n{{\"personas\":[{ONE}]}}\n</output>"),
            format!("<output>```json\n[{ONE}]\n```</output>"),
            format!("[{ONE}]"),
            ONE.to_string(),
        ] {
            let p = parse(&answer, 1).unwrap();
            assert_eq!(p[0].name, "Ada", "{answer}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(parse("no idea", 1).unwrap_err(), ParseError::NoJson);
        assert!(matches!(
            parse("<output>{\"personas\": [</output>", 1).unwrap_err(),
            ParseError::Malformed { line: 1, .. }
        ));
        assert_eq!(
            parse(&format!("[{ONE},{ONE}]"), 1).unwrap_err(),
            ParseError::Count {
                expected: 1,
                got: 2
            }
        );
        assert!(matches!(
            parse("{\"personas\": 3}", 1).unwrap_err(),
            ParseError::Shape(_)
        ));
        assert_eq!(
            parse(r#"[{"name":"Bo","goals":["g"]}]"#, 1)
                .unwrap_err()
                .to_string(),
            "persona 1 (Bo): pain_points is empty"
        );
    }
}
