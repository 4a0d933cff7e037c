//! "Why it got slower": the functions whose instruction counts changed most
//! when an instruction metric failed, from a run under callgrind in both
//! trees (A/B), or the head's hottest functions (a baseline file only).

use serde::{Deserialize, Serialize};

/// One scenario's function table, and its differential flame graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Why {
    pub scenario: String,
    /// The failing metric that asked for it (`<scenario>.instructions`).
    pub metric: String,
    /// `changed`: the base and the head were run (`before` is set);
    /// `hottest`: the head alone, its most expensive functions by self cost.
    pub kind: WhyKind,
    /// Instructions of the whole run under callgrind, per side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_total: Option<f64>,
    pub head_total: f64,
    /// At most ten: the largest change of self cost first (`changed`), or
    /// the largest self cost first (`hottest`).
    pub functions: Vec<FunctionCost>,
    /// The flame graph's file name, beside the results file (set when the
    /// results are written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flamegraph: Option<String>,
    /// The flame graph itself (a self-contained SVG), while in memory.
    #[serde(skip)]
    pub flamegraph_svg: Option<String>,
    /// Seconds the callgrind runs added to the job.
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhyKind {
    Changed,
    Hottest,
}

/// A function's instructions: self (its own code) and inclusive (with what
/// it called), before (base) and after (head).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCost {
    pub name: String,
    /// Source file and line, when the program has debug information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_self: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_inclusive: Option<f64>,
    pub after_self: f64,
    pub after_inclusive: f64,
}

impl FunctionCost {
    /// The change of self cost (after − before; 0 without a before).
    pub fn self_change(&self) -> f64 {
        self.before_self.map_or(0.0, |b| self.after_self - b)
    }
    pub fn inclusive_change(&self) -> f64 {
        self.before_inclusive
            .map_or(0.0, |b| self.after_inclusive - b)
    }
}
