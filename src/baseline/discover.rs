//! Finding baselines in a folder, and `latest`: the highest semantic version.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A baseline file found in a folder, with the version read from its name.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub path: PathBuf,
    /// From the file name (`v1.13.0.yaml` → 1.13.0), when it is a version.
    pub version: Option<semver::Version>,
}

/// `1.13.0`, `v1.13.0`, `1.13` (as 1.13.0).
pub fn parse_version(s: &str) -> Option<semver::Version> {
    let s = s.trim().trim_start_matches(['v', 'V']);
    semver::Version::parse(s).ok().or_else(|| {
        let parts: Vec<&str> = s.split('.').collect();
        match parts.as_slice() {
            [maj, min] => semver::Version::parse(&format!("{maj}.{min}.0")).ok(),
            [maj] => semver::Version::parse(&format!("{maj}.0.0")).ok(),
            _ => None,
        }
    })
}

/// Every `.yaml`/`.yml` file in `dir`, highest version first; files whose
/// name is not a version come last, by name.
pub fn list(dir: &Path) -> Result<Vec<Found>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the baselines folder", dir.display()))?;
    let mut found = Vec::new();
    for e in entries {
        let path = e?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !path.is_file() || !matches!(ext, "yaml" | "yml") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        found.push(Found {
            version: parse_version(stem),
            path,
        });
    }
    found.sort_by(|a, b| match (&a.version, &b.version) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.path.cmp(&b.path),
    });
    Ok(found)
}

/// Resolves `--baseline`: a path, or `latest` in `dir`.
pub fn resolve(spec: &str, dir: &Path) -> Result<PathBuf> {
    if spec != "latest" {
        return Ok(PathBuf::from(spec));
    }
    list(dir)?
        .into_iter()
        .find(|f| f.version.is_some())
        .map(|f| f.path)
        .with_context(|| {
            format!(
                "{}: no baseline named by version (such as v1.12.0.yaml); capture one with `bench-gate capture --output {}/v0.1.0.yaml`",
                dir.display(),
                dir.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_is_the_highest_semver_not_the_newest_name() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "v1.9.0.yaml",
            "v1.12.0.yaml",
            "v1.12.0-rc.1.yaml",
            "notes.yaml",
            "x.txt",
        ] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        let latest = resolve("latest", d.path()).unwrap();
        assert_eq!(latest.file_name().unwrap(), "v1.12.0.yaml");
        let names: Vec<_> = list(d.path())
            .unwrap()
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "v1.12.0.yaml",
                "v1.12.0-rc.1.yaml",
                "v1.9.0.yaml",
                "notes.yaml"
            ]
        );
        assert_eq!(parse_version("v2.1"), semver::Version::parse("2.1.0").ok());
    }

    #[test]
    fn latest_in_an_empty_folder_says_what_to_do() {
        let d = tempfile::tempdir().unwrap();
        let e = resolve("latest", d.path()).unwrap_err().to_string();
        assert!(e.contains("capture one with"), "{e}");
    }
}
