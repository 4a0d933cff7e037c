//! Publishing to GitHub: the context from the Actions environment, the REST
//! calls (the only place octocrab is used), the comment, and the gate's
//! flow: `route` (event → request), `outcome` (request → decision and what
//! is said), `sinks` (the outputs, in order), tied together by `gate`.

pub mod actions;
pub mod api;
pub mod command;
pub mod comment;
pub mod context;
#[cfg(test)]
mod fake;
pub mod gate;
pub mod mainline;
pub mod outcome;
pub mod outputs;
pub mod route;
pub mod sinks;
pub mod state;
