//! `/bench-gate accept <metric> [reason]` and `/bench-gate revoke <metric>`
//! in a pull request's comment: parsed from the comment's first line.

use crate::model::valid_metric_name;

use super::state::MAX_REASON;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Accept { metric: String, reason: String },
    Revoke { metric: String },
}

const PREFIX: &str = "/bench-gate";

/// `None`: not a `/bench-gate` command at all; `Some(Err)`: one, but not
/// understood (the message says what is).
pub fn parse(body: &str) -> Option<Result<Command, String>> {
    let line = body.trim_start().lines().next().unwrap_or("").trim();
    let rest = line.strip_prefix(PREFIX)?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let mut words = rest.split_whitespace();
    let verb = words.next().unwrap_or("");
    let metric = words.next().unwrap_or("");
    let reason = words.collect::<Vec<_>>().join(" ");
    let usage =
        "the commands are `/bench-gate accept <metric> [reason]` and `/bench-gate revoke <metric>`";
    if !matches!(verb, "accept" | "revoke") {
        return Some(Err(usage.into()));
    }
    if metric.is_empty() || !valid_metric_name(metric) {
        return Some(Err(format!("name one metric: {usage}")));
    }
    Some(Ok(match verb {
        "accept" => Command::Accept {
            metric: metric.into(),
            reason: reason.chars().take(MAX_REASON).collect(),
        },
        _ => Command::Revoke {
            metric: metric.into(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_from_the_first_line() {
        assert_eq!(
            parse("/bench-gate accept a.p50_ms the new parser is slower, on purpose\nmore"),
            Some(Ok(Command::Accept {
                metric: "a.p50_ms".into(),
                reason: "the new parser is slower, on purpose".into()
            }))
        );
        assert_eq!(
            parse("  /bench-gate   revoke a.p50_ms"),
            Some(Ok(Command::Revoke {
                metric: "a.p50_ms".into()
            }))
        );
        assert_eq!(parse("LGTM /bench-gate accept a"), None);
        assert_eq!(parse("/bench-gates accept a"), None);
        assert!(parse("/bench-gate").unwrap().is_err());
        assert!(parse("/bench-gate accept").unwrap().is_err());
        assert!(parse("/bench-gate accept `x`<b>").unwrap().is_err());
        assert!(parse("/bench-gate merge a").unwrap().is_err());
        let long = format!("/bench-gate accept a {}", "x".repeat(1000));
        let Some(Ok(Command::Accept { reason, .. })) = parse(&long) else {
            panic!()
        };
        assert_eq!(reason.chars().count(), MAX_REASON);
    }
}
