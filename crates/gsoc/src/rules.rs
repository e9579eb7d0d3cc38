//! The rule set: the SigmaHQ rules built into gsoc-sigma
//! ([`RuleSet::builtin`]), or the files the user names.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use gsoc_sigma::{EngineBuilder, Mapping, RuleSet};

/// Loads the rules at `paths`, or the built-in set when there are none.
pub fn load(paths: &[PathBuf]) -> Result<RuleSet> {
    let mut set = RuleSet::new();
    if paths.is_empty() {
        return Ok(RuleSet::builtin());
    }
    for path in paths {
        if !path.exists() {
            bail!(
                "rule path {} does not exist; give a Sigma rule file or folder with --rules",
                path.display()
            );
        }
        set.load_path(path);
    }
    Ok(set)
}

/// The options that shape how rules are compiled, shared by the commands
/// that compile rules.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RuleOptions {
    /// A Sigma rule file or folder (repeatable). Without it, the SigmaHQ
    /// rules built into gsoc are used.
    #[arg(
        long = "rules",
        short = 'r',
        value_name = "PATH",
        env = "GSOC_RULES",
        value_delimiter = ','
    )]
    pub rules: Vec<PathBuf>,

    /// A log-source mapping to use instead of the built-in one: gsoc's
    /// format or the `logsources` section of a sigmac/THOR config such as
    /// SigmaHQ's tests/thor.yml.
    #[arg(long, value_name = "FILE", env = "GSOC_MAPPING")]
    pub mapping: Option<PathBuf>,

    /// A YAML file giving placeholder values for rules that use `|expand`,
    /// e.g. `known_cdcs: [dc1.corp.example, 10.0.0.5]`.
    #[arg(long, value_name = "FILE", env = "GSOC_PLACEHOLDERS")]
    pub placeholders: Option<PathBuf>,
}

impl RuleOptions {
    /// A builder with the mapping and placeholders applied.
    pub fn builder(&self) -> Result<EngineBuilder> {
        let mut builder = EngineBuilder::new();
        if let Some(path) = &self.mapping {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read mapping {}", path.display()))?;
            let mapping = Mapping::parse(&path.display().to_string(), &text)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            builder.mapping(mapping);
        }
        if let Some(path) = &self.placeholders {
            for (name, values) in read_placeholders(path)? {
                builder.placeholder(&name, values);
            }
        }
        Ok(builder)
    }
}

fn read_placeholders(path: &PathBuf) -> Result<Vec<(String, Vec<String>)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read placeholders {}", path.display()))?;
    gsoc_sigma::parse_placeholders(&path.display().to_string(), &text)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p.yml");
        std::fs::write(
            &path,
            "known_cdcs: [dc1, '10.0.0.5']\nAdmins:\n  - adm_*\n  - root # comment\n",
        )
        .expect("write");
        let got = read_placeholders(&path).expect("valid");
        assert_eq!(
            got[0],
            (
                "known_cdcs".to_owned(),
                vec!["dc1".to_owned(), "10.0.0.5".to_owned()]
            )
        );
        assert_eq!(
            got[1],
            (
                "Admins".to_owned(),
                vec!["adm_*".to_owned(), "root".to_owned()]
            )
        );
    }
}
