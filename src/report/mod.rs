//! Reports for people and machines: terminal tables, Markdown, JSON, HTML.

pub mod terminal;
