//! The command line: one definition per flag, documented once.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::locale::Lang;

/// gsoc: security operation coordination for a centre that watches many
/// organisations.
///
/// `gsoc detect` hunts through log files with the complete Sigma language
/// (the SigmaHQ rules are built in), the way analysts use Chainsaw or
/// Hayabusa, and with the threat-intelligence indicators `gsoc intel import`
/// has stored. Every command exits 0 when it ran, whatever it found.
#[derive(Debug, Parser)]
#[command(name = "gsoc", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,

    /// Language of human-readable output: `ja` shows Japanese and times in
    /// Asia/Tokyo. Default: from LC_ALL/LC_MESSAGES/LANG, else English.
    #[arg(long, global = true, env = "GSOC_LANG", value_parser = lang_parser())]
    pub lang: Option<Lang>,

    /// Where gsoc keeps its state (the indicator store, the audit log, the
    /// mail the listener received).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "GSOC_DATA_DIR",
        default_value = "gsoc-data"
    )]
    pub data_dir: PathBuf,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Sigma rules over log files and report every match.
    Detect(cmd::detect::Args),
    /// Print the events gsoc decodes from log files (what the rules see).
    Decode(cmd::decode::Args),
    /// Threat-intelligence indicators: import, list, export, remove.
    #[command(subcommand)]
    Intel(cmd::intel::Command),
    /// Suspicious e-mail: analyse, count by fiscal year, receive over SMTP/LMTP.
    #[command(subcommand)]
    Mail(cmd::mail::Command),
    /// Work with Sigma rule files.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Measure decode and detection speed (events per second).
    Bench(cmd::bench::Args),
    /// Print the default triage policy (TOML, commented), to copy and edit
    /// for `gsoc detect --policy`.
    TriagePolicy,
}

/// `en` or `ja`, listed as the possible values in `--help`.
fn lang_parser() -> impl clap::builder::TypedValueParser<Value = Lang> {
    // The possible values are checked first, so the parse cannot fail.
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["en", "ja"])
        .map(|code| code.parse::<Lang>().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// clap checks every flag definition (unique names, valid defaults)
    /// only when asked; ask for all commands at once.
    #[test]
    fn flag_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
