//! Markdown reports from minijinja templates. The table macros in
//! `table.md.j2` are shared with the pull-request comment.
//!
//! Every template escapes by default: `{{ x }}` writes `x` as Markdown text
//! ([`escape::md_text`]); `{{ x|code }}` and `{{ x|cell_code }}` write a
//! code span (in a table cell, with pipes escaped); only values built as
//! Markdown with their data already escaped (see [`escape::Rich`]) are
//! written with `|safe`.

use minijinja::value::Value;
use minijinja::{context, AutoEscape, Environment, Error, Output, State};

use super::{escape, view};
use crate::compare::Comparison;

pub const TABLE_TEMPLATE: &str = include_str!("templates/table.md.j2");
const REPORT_TEMPLATE: &str = include_str!("templates/report.md.j2");

/// `{{ value }}`: strings as escaped Markdown text, numbers as they are,
/// nothing for none; strings marked safe pass through.
fn markdown_formatter(out: &mut Output, _: &State, value: &Value) -> Result<(), Error> {
    let text = if value.is_none() || value.is_undefined() {
        String::new()
    } else if value.is_safe() {
        value.to_string()
    } else {
        escape::md_text(&value.to_string())
    };
    out.write_str(&text).map_err(Error::from)
}

fn code(value: String) -> Value {
    Value::from_safe_string(escape::md_code(&value))
}

fn cell_code(value: String) -> Value {
    Value::from_safe_string(escape::md_code_cell(&value))
}

/// An environment holding the shared table macros plus `extra` templates,
/// escaping for Markdown.
pub fn environment(extra: &[(&'static str, &'static str)]) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Custom("markdown"));
    env.set_formatter(markdown_formatter);
    env.add_filter("code", code);
    env.add_filter("cell_code", cell_code);
    env.add_template("table.md.j2", TABLE_TEMPLATE)
        .expect("embedded template parses");
    for (name, source) in extra {
        env.add_template(name, source)
            .expect("embedded template parses");
    }
    env
}

/// The regression table alone (the summary of every report).
pub fn table(c: &Comparison) -> String {
    let env = environment(&[(
        "t",
        "{% from \"table.md.j2\" import sections_tables %}{{ sections_tables(sections) }}",
    )]);
    env.get_template("t")
        .and_then(|t| t.render(context! { sections => view::sections(c) }))
        .expect("embedded template renders")
}

/// `compare --format markdown`: the verdict line, then the table.
pub fn verdict_and_table(c: &Comparison) -> String {
    format!("{}\n\n{}", view::verdict_line(c), table(c))
}

/// The full Markdown report: summary table, per-metric detail, environment.
pub fn report(c: &Comparison) -> String {
    let env = environment(&[("report.md.j2", REPORT_TEMPLATE)]);
    env.get_template("report.md.j2")
        .and_then(|t| {
            t.render(context! {
                c,
                sections => view::sections(c),
                details => view::details(c),
                verdict_line => view::verdict_line(c),
            })
        })
        .map(|text| text + &crate::report::why::markdown(&c.why))
        .expect("embedded template renders")
}
