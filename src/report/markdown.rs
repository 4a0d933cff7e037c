//! Markdown reports from minijinja templates. The table macros in
//! `table.md.j2` are shared with the pull-request comment.

use minijinja::{context, Environment};

use super::view;
use crate::compare::Comparison;

pub const TABLE_TEMPLATE: &str = include_str!("templates/table.md.j2");
const REPORT_TEMPLATE: &str = include_str!("templates/report.md.j2");

/// An environment holding the shared table macros plus `extra` templates.
pub fn environment(extra: &[(&'static str, &'static str)]) -> Environment<'static> {
    let mut env = Environment::new();
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
        .expect("embedded template renders")
}
