//! bench-gate: a performance regression gate for pull requests.
//!
//! Data flows one way: workload → measurement → statistics → comparison →
//! report → publish. Each module takes the previous stage's value and knows
//! nothing about later ones.

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
