//! bench-gate: a performance regression gate for pull requests.
//!
//! Data flows one way: workload → measurement → statistics → comparison →
//! report → publish, over a model layer of plain types that every stage
//! shares. Each module may use only modules of a lower layer than its own
//! (never one of its own layer, never a higher one); `tests/it/layers.rs` reads
//! this table and every `crate::` path in `src/`, and fails on an edge the
//! table does not allow, and on any cycle.
//!
//! ```text
//! layer 0  stats escape fsutil parse_error interrupt
//! layer 1  model
//! layer 2  baseline workload import export history persona shard
//! layer 3  measure serve
//! layer 4  compare
//! layer 5  report
//! layer 6  github session
//! layer 7  cli
//! layer 8  app
//! ```
//!
//! - 0, utilities: statistics (pure, cited), escaping for every place text
//!   lands, atomic writes, positions in parse errors, the one interrupt handler.
//! - 1, the model: measures, statistics, directions, the results file, the
//!   A/B and shard records, policies; it imports only `stats`.
//! - 2, inputs and formats: baselines, workloads (`bench-gate.yml`), other
//!   harnesses' files, exports, the history series, the persona generator,
//!   shard assignment and merging.
//! - 3, measurement: running commands, services, A/B trees; `serve`.
//! - 4, comparison: the decision, and the gate's pure policy.
//! - 5, reports: terminal, Markdown, JSON, HTML, charts.
//! - 6, orchestration and publishing: a benchmarking session; the GitHub gate.
//! - 7, the command line's definitions, translated into plain options.
//! - 8, `app`: runs a parsed command (the binary's `main` calls only this).

pub mod app;
pub mod baseline;
pub mod cli;
pub mod compare;
pub mod escape;
pub mod export;
pub mod fsutil;
pub mod github;
pub mod history;
pub mod import;
pub mod interrupt;
pub mod measure;
pub mod model;
pub mod parse_error;
pub mod persona;
pub mod report;
pub mod serve;
pub mod session;
pub mod shard;
pub mod stats;
pub mod workload;
