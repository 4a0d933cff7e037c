//! Finding baselines in a folder, `latest` (the highest semantic version),
//! and [`choose`]: the one place `--baseline` becomes the baseline a
//! comparison uses.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Baseline, NO_BASELINE};

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

/// Resolves `--baseline`: a path, a version (`v1.11.0`, `1.11.0`) naming a
/// baseline in `dir`, or `latest` in `dir`. A path that exists wins over a
/// version of the same spelling.
pub fn resolve(spec: &str, dir: &Path) -> Result<PathBuf> {
    if spec != "latest" {
        let path = PathBuf::from(spec);
        let looks_like_version =
            !spec.contains(['/', '\\']) && !spec.ends_with(".yaml") && !spec.ends_with(".yml");
        let version = parse_version(spec).filter(|_| looks_like_version && !path.exists());
        let Some(version) = version else {
            return Ok(path);
        };
        let found = list(dir).with_context(|| {
            format!("--baseline {spec}: a version, looked up in the baselines folder")
        })?;
        return found
            .iter()
            .find(|f| f.version.as_ref() == Some(&version))
            .map(|f| f.path.clone())
            .with_context(|| {
                let versions: Vec<String> = found
                    .iter()
                    .filter_map(|f| f.version.as_ref().map(|v| format!("v{v}")))
                    .collect();
                format!(
                    "--baseline {spec}: no baseline of version {version} in {} (it holds: {})",
                    dir.display(),
                    if versions.is_empty() {
                        "none named by version".to_string()
                    } else {
                        versions.join(", ")
                    }
                )
            });
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

/// The baseline a comparison uses, as [`choose`] found it.
#[derive(Debug)]
pub enum Chosen {
    /// A baseline file, loaded.
    File {
        path: PathBuf,
        baseline: Box<Baseline>,
    },
    /// `latest` found no baseline yet, and A/B mode compares with the base
    /// commit alone.
    BaseCommitOnly,
    /// `latest` found no baseline yet, and there is nothing else to compare
    /// with: why (what [`resolve`] said, with how to capture one).
    NoneYet(anyhow::Error),
}

impl Chosen {
    /// The baseline file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Chosen::File { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The baseline and the name a report shows for it ([`NO_BASELINE`]
    /// before one was captured, in A/B mode); for none, why as the error.
    pub fn baseline(self) -> Result<(Baseline, String)> {
        match self {
            Chosen::File { path, baseline } => Ok((*baseline, path.display().to_string())),
            Chosen::BaseCommitOnly => Ok((Baseline::default(), NO_BASELINE.to_string())),
            Chosen::NoneYet(why) => Err(why),
        }
    }
}

/// Whether [`choose`] prints a warning for each key the baseline file has
/// that it did not understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownKeys {
    Warn,
    /// For a caller that loads the same file again later, which warns.
    Quiet,
}

/// Resolves `--baseline` (a path, or `latest` in `dir`) and loads it.
/// `latest` in a folder with no baseline named by version (or no folder)
/// is no baseline yet: in A/B mode (`ab`) the base commit alone is
/// compared with, otherwise [`Chosen::NoneYet`] says why. A baseline that
/// exists but does not load, or a path given that does not exist, is an
/// error (exit 3), never "no baseline".
pub fn choose(spec: &str, dir: &Path, ab: bool, unknown_keys: UnknownKeys) -> Result<Chosen> {
    let path = match resolve(spec, dir) {
        Ok(path) => path,
        Err(_) if spec == "latest" && ab => return Ok(Chosen::BaseCommitOnly),
        Err(why) if spec == "latest" => return Ok(Chosen::NoneYet(why)),
        Err(e) => return Err(e),
    };
    let baseline = match unknown_keys {
        UnknownKeys::Warn => super::load_warning(&path)?,
        UnknownKeys::Quiet => Baseline::load(&path)?,
    };
    Ok(Chosen::File {
        path,
        baseline: Box::new(baseline),
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
    fn a_version_names_a_baseline_in_the_folder() {
        let d = tempfile::tempdir().unwrap();
        for f in ["v1.11.0.yaml", "v1.12.0.yaml", "notes.yaml"] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        for spec in ["v1.11.0", "1.11.0", "V1.11", "1.11"] {
            let p = resolve(spec, d.path()).unwrap();
            assert_eq!(p.file_name().unwrap(), "v1.11.0.yaml", "{spec}");
        }
        let e = resolve("v1.10.0", d.path()).unwrap_err().to_string();
        assert!(
            e.contains("--baseline v1.10.0: no baseline of version 1.10.0")
                && e.contains("it holds: v1.12.0, v1.11.0"),
            "{e}"
        );
        // A path stays a path.
        assert_eq!(
            resolve("b/v1.11.0.yaml", d.path()).unwrap(),
            PathBuf::from("b/v1.11.0.yaml")
        );
    }

    #[test]
    fn latest_in_an_empty_folder_says_what_to_do() {
        let d = tempfile::tempdir().unwrap();
        let e = resolve("latest", d.path()).unwrap_err().to_string();
        assert!(e.contains("capture one with"), "{e}");
    }

    const ONE: &str = "version: '1.0.0'\nmetrics:\n  x_ms: 100\n";

    #[test]
    fn choose_loads_the_latest_or_the_path_given() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("v1.0.0.yaml"), ONE).unwrap();
        std::fs::write(d.path().join("v0.9.0.yaml"), "not: [a baseline").unwrap();
        for ab in [false, true] {
            let chosen = choose("latest", d.path(), ab, UnknownKeys::Quiet).unwrap();
            assert_eq!(chosen.path().unwrap().file_name().unwrap(), "v1.0.0.yaml");
            let (baseline, _) = chosen.baseline().unwrap();
            assert_eq!(baseline.metrics["x_ms"].value, 100.0);
        }
        let given = d.path().join("v1.0.0.yaml");
        let (b, shown) = choose(given.to_str().unwrap(), d.path(), false, UnknownKeys::Warn)
            .unwrap()
            .baseline()
            .unwrap();
        assert_eq!(
            (b.version.as_str(), shown),
            ("1.0.0", given.display().to_string())
        );
    }

    #[test]
    fn no_baseline_yet_is_the_base_commit_in_ab_mode_and_none_otherwise() {
        let d = tempfile::tempdir().unwrap();
        let chosen = choose("latest", d.path(), true, UnknownKeys::Quiet).unwrap();
        assert_eq!(chosen.path(), None);
        let (b, shown) = chosen.baseline().unwrap();
        assert_eq!((b.metrics.len(), shown.as_str()), (0, NO_BASELINE));
        let none = choose("latest", d.path(), false, UnknownKeys::Quiet).unwrap();
        assert!(matches!(none, Chosen::NoneYet(_)), "{none:?}");
        let why = none.baseline().unwrap_err();
        assert!(why.to_string().contains("capture one with"), "{why}");
        // No folder at all is no baseline yet too.
        let gone = d.path().join("gone");
        assert!(matches!(
            choose("latest", &gone, true, UnknownKeys::Quiet).unwrap(),
            Chosen::BaseCommitOnly
        ));
    }

    #[test]
    fn a_baseline_that_does_not_load_is_an_error_even_in_ab_mode() {
        let d = tempfile::tempdir().unwrap();
        let bad = d.path().join("v2.0.0.yaml");
        std::fs::write(&bad, "version: '2.0.0'\nmetrics: [oops\n").unwrap();
        for ab in [false, true] {
            let e = choose("latest", d.path(), ab, UnknownKeys::Quiet).unwrap_err();
            assert!(format!("{e:#}").contains("v2.0.0.yaml"), "{e:#}");
        }
        // A path given that is not there is not "no baseline yet".
        let missing = d.path().join("v9.yaml");
        for ab in [false, true] {
            assert!(choose(missing.to_str().unwrap(), d.path(), ab, UnknownKeys::Quiet).is_err());
        }
    }
}
