//! The rule set: the SigmaHQ rules built into the binary (see `build.rs`
//! and `rules/sigmahq/NOTICE.md`), or the files the user names.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use flate2::read::DeflateDecoder;
use gsoc_sigma::{EngineBuilder, Mapping, RuleSet};

static DEFAULT_RULES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default-rules.bin"));

/// Loads the built-in SigmaHQ rules (DRL 1.1; authors kept per rule).
pub fn load_default(set: &mut RuleSet) {
    let mut files = Vec::new();
    let result: Result<(), std::convert::Infallible> = for_each_default_rule(|name, body| {
        files.push((name.to_owned(), String::from_utf8_lossy(body).into_owned()));
        Ok(())
    });
    match result {
        Ok(()) => set.add_texts(&files),
        Err(never) => match never {},
    }
}

/// Calls `f` with the name and text of every built-in rule file.
pub fn for_each_default_rule<E>(mut f: impl FnMut(&str, &[u8]) -> Result<(), E>) -> Result<(), E> {
    let mut bytes = Vec::new();
    // The blob is produced by build.rs from files in this repository.
    DeflateDecoder::new(DEFAULT_RULES)
        .read_to_end(&mut bytes)
        .expect("the built-in rule set decompresses");
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let name = take(&mut rest);
        let body = take(&mut rest);
        f(&String::from_utf8_lossy(name), body)?;
    }
    Ok(())
}

fn take<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let (len, tail) = rest.split_at(4);
    let len = u32::from_le_bytes(len.try_into().expect("four length bytes")) as usize;
    let (record, tail) = tail.split_at(len);
    *rest = tail;
    record
}

/// Loads the rules at `paths`, or the built-in set when there are none.
pub fn load(paths: &[PathBuf]) -> Result<RuleSet> {
    let mut set = RuleSet::new();
    if paths.is_empty() {
        load_default(&mut set);
        return Ok(set);
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
    fn builtin_rules_are_all_there() {
        let mut set = RuleSet::new();
        load_default(&mut set);
        assert_eq!(set.rules().len() + set.rejects().len(), 3754);
        assert!(
            set.rules()
                .iter()
                .all(|r| r.meta.path.starts_with("sigmahq/"))
        );
    }

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
