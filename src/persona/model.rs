//! The persona schema, shared by every provider, and its validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demographics {
    #[serde(default)]
    pub age_range: String,
    #[serde(default)]
    pub occupation: String,
    #[serde(default)]
    pub location: String,
}

/// One persona. Lists default to empty when a provider leaves them out, so that
/// validation (not deserialisation) reports what is missing, by field name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "Demographics::unknown")]
    pub demographics: Demographics,
    #[serde(default)]
    pub goals: Vec<String>,
    #[serde(default)]
    pub pain_points: Vec<String>,
    #[serde(default, alias = "behaviors")]
    pub behaviours: Vec<String>,
    #[serde(default)]
    pub quotes: Vec<String>,
    /// Field path (`goals[0]`) → source references (`interviews.csv:row 4 (P01)`).
    #[serde(default)]
    pub evidence: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
}

impl Demographics {
    fn unknown() -> Self {
        Demographics {
            age_range: String::new(),
            occupation: String::new(),
            location: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("persona {index} ({label}): {field} {problem}")]
pub struct ValidationError {
    /// 1-based position in the provider's answer.
    pub index: usize,
    pub label: String,
    pub field: &'static str,
    pub problem: &'static str,
}

/// Checks the fields every persona must have. Blank strings count as missing.
pub fn validate(personas: &[Persona]) -> Result<(), ValidationError> {
    for (i, p) in personas.iter().enumerate() {
        let label = if p.name.trim().is_empty() {
            if p.id.trim().is_empty() {
                "unnamed".to_string()
            } else {
                p.id.clone()
            }
        } else {
            p.name.clone()
        };
        let fail = |field, problem| {
            Err(ValidationError {
                index: i + 1,
                label: label.clone(),
                field,
                problem,
            })
        };
        if p.name.trim().is_empty() {
            return fail("name", "is missing");
        }
        if !p.goals.iter().any(|g| !g.trim().is_empty()) {
            return fail("goals", "is empty");
        }
        if !p.pain_points.iter().any(|g| !g.trim().is_empty()) {
            return fail("pain_points", "is empty");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persona() -> Persona {
        serde_json::from_str(
            r#"{"id":"p1","name":"Ada","goals":["g"],"pain_points":["p"],"behaviors":["b"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn accepts_american_spelling_and_missing_optional_fields() {
        let p = persona();
        assert_eq!(p.behaviours, ["b"]);
        assert!(validate(&[p]).is_ok());
    }

    #[test]
    fn names_persona_and_field() {
        let mut p = persona();
        p.pain_points = vec!["  ".into()];
        let err = validate(&[persona(), p]).unwrap_err();
        assert_eq!(err.to_string(), "persona 2 (Ada): pain_points is empty");
        let mut q = persona();
        q.name.clear();
        assert_eq!(
            validate(&[q]).unwrap_err().to_string(),
            "persona 1 (p1): name is missing"
        );
    }
}
