//! Publishing to GitHub: the context from the Actions environment, the REST
//! calls (the only place octocrab is used), the comment, and the gate's flow.

pub mod actions;
pub mod api;
pub mod comment;
pub mod context;
pub mod gate;
pub mod state;
