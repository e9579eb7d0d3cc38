//! The command line: one definition per flag, documented once.

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::locale::Lang;

/// gsoc: security operation coordination for a centre that watches many
/// organisations.
///
/// `gsoc detect` hunts through log files with the complete Sigma language
/// (the SigmaHQ rules are built in), the way analysts use Chainsaw or
/// Hayabusa. Every command exits 0 when it ran, whatever it found.
#[derive(Debug, Parser)]
#[command(name = "gsoc", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,

    /// Language of human-readable output: `ja` shows Japanese and times in
    /// Asia/Tokyo. Default: from LC_ALL/LC_MESSAGES/LANG, else English.
    #[arg(long, global = true, value_enum, env = "GSOC_LANG")]
    pub lang: Option<Lang>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Sigma rules over log files and report every match.
    Detect(cmd::detect::Args),
    /// Print the events gsoc decodes from log files (what the rules see).
    Decode(cmd::decode::Args),
    /// Work with Sigma rule files.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Measure decode and detection speed (events per second).
    Bench(cmd::bench::Args),
}
