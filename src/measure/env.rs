//! The environment of every process bench-gate starts that runs the
//! project's code: the benchmarked commands (and the measuring helper that
//! starts them), services, A/B setup commands, and the git commands of an
//! A/B run (which run the repository's hooks). It is bench-gate's own
//! environment without the secrets in it.
//!
//! This is defence in depth only. Code running as the same user can still
//! read bench-gate's own `/proc/<pid>/environ` and the credentials
//! `actions/checkout` leaves in `.git/config`; the boundary that holds is a
//! measuring job whose token can only read (see the README's trust model).

use std::ffi::{OsStr, OsString};
use std::process::Command;

use crate::model::EnvPolicy;

/// The complete environment of a child process: `parent` with `extra` set
/// over it, less every variable `policy` removes (whoever set it). Every
/// process bench-gate starts gets its environment from here, through
/// [`apply`].
pub fn child_env<K, V>(
    policy: &EnvPolicy,
    parent: impl IntoIterator<Item = (OsString, OsString)>,
    extra: impl IntoIterator<Item = (K, V)>,
) -> Vec<(OsString, OsString)>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut env: std::collections::BTreeMap<OsString, OsString> = parent.into_iter().collect();
    for (k, v) in extra {
        env.insert(k.as_ref().to_os_string(), v.as_ref().to_os_string());
    }
    env.into_iter()
        .filter(|(k, _)| !policy.removes(k))
        .collect()
}

/// Gives `cmd` exactly [`child_env`] of this process's environment and `extra`.
pub fn apply<K, V>(cmd: &mut Command, policy: &EnvPolicy, extra: impl IntoIterator<Item = (K, V)>)
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    cmd.env_clear()
        .envs(child_env(policy, std::env::vars_os(), extra));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DEFAULT_REMOVED;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn secrets_are_removed_others_kept_and_extra_set() {
        let mut parent: Vec<(&str, &str)> =
            DEFAULT_REMOVED.iter().map(|k| (*k, "s3cret")).collect();
        parent.extend([("PATH", "/bin"), ("NPM_TOKEN", "npm"), ("GH_TOKEN", "gh")]);
        let policy = EnvPolicy {
            remove: vec!["NPM_TOKEN".into()],
            pass_through: vec!["GH_TOKEN".into()],
        };
        let env = child_env(&policy, vars(&parent), [("EXTRA", "1")]);
        assert_eq!(
            env,
            vars(&[("EXTRA", "1"), ("GH_TOKEN", "gh"), ("PATH", "/bin")])
        );
    }

    #[test]
    fn an_extra_variable_cannot_bring_a_secret_back() {
        let env = child_env(
            &EnvPolicy::default(),
            vars(&[("A", "parent")]),
            [("GITHUB_TOKEN", "x"), ("A", "extra")],
        );
        assert_eq!(env, vars(&[("A", "extra")]));
    }

    #[test]
    fn names_are_compared_exactly() {
        let p = EnvPolicy::default();
        assert!(p.removes(OsStr::new("INPUT_GITHUB-TOKEN")));
        assert!(p.removes(OsStr::new("INPUT_GITHUB_TOKEN")));
        assert!(!p.removes(OsStr::new("GITHUB_TOKENS")));
        assert!(!p.removes(OsStr::new("github_token")));
    }
}
