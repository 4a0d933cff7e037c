//! The integration tests, as one test binary with a module per area (as
//! ripgrep and hyperfine do): one link instead of sixteen, and shared
//! helpers in `support`. Run one area with `cargo test --test it gate::`.

mod support;

mod ab;
mod action;
mod adv;
mod adv2;
mod attacks;
mod attacks2;
mod browser;
mod calibrate;
mod compare;
mod contract;
mod edges;
mod examples;
mod fuzz;
mod gate;
mod gatekit;
mod generate;
mod help;
mod import;
mod interrupts;
mod layers;
mod llm_cli;
mod mainline;
mod persona_mimic;
mod queue;
mod run;
mod serve;
mod shard;
mod valgrind;
