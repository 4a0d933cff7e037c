//! Rendering the prompt with minijinja. The embedded template can be replaced
//! with `--template FILE`; both get the same variables.

use minijinja::{context, Environment, UndefinedBehavior};
use serde::Serialize;

use super::data::Dataset;
use super::synth::SynthOptions;

pub const DEFAULT_TEMPLATE: &str = include_str!("templates/prompt.j2");

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct TemplateError {
    pub name: String,
    pub message: String,
}

impl TemplateError {
    fn from_minijinja(name: &str, e: &minijinja::Error) -> Self {
        let message = match e.line() {
            Some(line) => format!(
                "line {line}: {}",
                e.detail().unwrap_or(&e.kind().to_string())
            ),
            None => e.to_string(),
        };
        TemplateError {
            name: name.to_string(),
            message,
        }
    }
}

#[derive(Serialize)]
struct StatementView<'a> {
    participant: &'a str,
    role: Option<&'a str>,
    experience_years: Option<String>,
    age: Option<String>,
    location: Option<&'a str>,
    context: Option<&'a str>,
    text: &'a str,
    source: String,
}

/// `6` rather than `6.0` for whole numbers.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        x.to_string()
    }
}

/// Renders `template` (named `name` in errors) with the prompt variables:
/// `count`, `data` (the statements), `complexity`, `detail_level`, `include_reasoning`.
pub fn render(
    name: &str,
    template: &str,
    data: &Dataset,
    options: &SynthOptions,
) -> Result<String, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template(name, template)
        .map_err(|e| TemplateError::from_minijinja(name, &e))?;
    let statements: Vec<StatementView> = data
        .statements
        .iter()
        .map(|s| StatementView {
            participant: &s.participant,
            role: s.role.as_deref(),
            experience_years: s.experience_years.map(number),
            age: s.age.map(number),
            location: s.location.as_deref(),
            context: s.context.as_deref(),
            text: &s.text,
            source: s.source.to_string(),
        })
        .collect();
    let tmpl = env
        .get_template(name)
        .map_err(|e| TemplateError::from_minijinja(name, &e))?;
    tmpl.render(context! {
        count => options.count,
        data => statements,
        complexity => options.complexity,
        detail_level => options.detail_level,
        include_reasoning => options.include_reasoning,
    })
    .map_err(|e| TemplateError::from_minijinja(name, &e))
}

/// What the prompt will cost, for `--dry-run`: bytes, words and a token
/// estimate (bytes / 4, the usual rule of thumb for English text).
#[derive(Debug, Serialize, PartialEq)]
pub struct SizeEstimate {
    pub files: usize,
    pub participants: usize,
    pub statements: usize,
    pub prompt_bytes: usize,
    pub prompt_words: usize,
    pub estimated_tokens: usize,
}

pub fn estimate(data: &Dataset, prompt: &str) -> SizeEstimate {
    SizeEstimate {
        files: data.files.len(),
        participants: data.participant_count(),
        statements: data.statements.len(),
        prompt_bytes: prompt.len(),
        prompt_words: prompt.split_whitespace().count(),
        estimated_tokens: prompt.len().div_ceil(4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persona::data::{embedded_sample, load};
    use crate::persona::synth::{Complexity, DetailLevel};

    fn opts() -> SynthOptions {
        SynthOptions {
            count: 3,
            seed: 1,
            complexity: Complexity::Complex,
            detail_level: DetailLevel::Minimal,
            include_reasoning: true,
        }
    }

    #[test]
    fn default_template_has_every_variable_and_all_statements() {
        let data = load(&embedded_sample()).unwrap();
        let p = render("prompt.j2", DEFAULT_TEMPLATE, &data, &opts()).unwrap();
        assert!(p.contains("exactly 3 distinct user personas"));
        assert!(p.contains("Complexity: complex. Detail level: minimal."));
        assert!(p.contains("\"reasoning\""));
        assert!(p.contains("<output>"));
        assert_eq!(p.matches("(source: ").count(), data.statements.len());
        assert!(p.contains(
            "- [P01 | role: Product Manager | experience: 6 | location: Berlin] I want to see every customer request"
        ));
    }

    #[test]
    fn custom_template_errors_name_file_and_line() {
        let data = load(&embedded_sample()).unwrap();
        let err = render("mine.j2", "ok\n{{ count }\n", &data, &opts()).unwrap_err();
        assert!(err.to_string().starts_with("mine.j2: line 2: "), "{err}");
        let err = render("mine.j2", "{{ nope }}", &data, &opts()).unwrap_err();
        assert!(err.to_string().contains("mine.j2: line 1: "), "{err}");
    }
}
