//! Persona Markdown, from an embedded minijinja template.

use minijinja::{context, Environment};

use super::model::Persona;

const TEMPLATE: &str = include_str!("templates/persona.md.j2");

/// Renders one persona as Markdown; each item is followed by its sources.
pub fn markdown(persona: &Persona) -> String {
    let mut env = Environment::new();
    env.set_trim_blocks(false);
    env.add_template("persona.md", TEMPLATE)
        .expect("embedded template parses");
    let evidence = persona.evidence.clone();
    env.add_function("cite", move |field: String, index: usize| -> String {
        match evidence.get(&format!("{field}[{index}]")) {
            Some(refs) if !refs.is_empty() => format!(" <sub>({})</sub>", refs.join("; ")),
            _ => String::new(),
        }
    });
    let mut out = env
        .get_template("persona.md")
        .and_then(|t| t.render(context! { p => persona }))
        .expect("embedded template renders any persona");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}
