//! `gsoc rules`: check rule files.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use gsoc_sigma::RuleSet;
use serde::Serialize;

use crate::locale::Lang;
use crate::output::OutputFormat;
use crate::rules::{self, RuleOptions};

/// Rule commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and compile rules and say, for each one rejected, why.
    #[command(
        after_help = "In jsonl, one object per rule: {\"path\", \"id\", \"title\", \"ok\", \"error\", \"warning\"}.\n\n\
Examples:\n  gsoc rules check                      # the built-in SigmaHQ rules\n  gsoc rules check my-rules/ --format jsonl"
    )]
    Check(CheckArgs),
}

/// Flags of `gsoc rules check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Rule files or folders. Without any, the built-in SigmaHQ rules.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format: table (a list of rejected rules and the counts) or
    /// jsonl (every rule).
    #[arg(long, short = 'f', value_enum)]
    format: Option<OutputFormat>,

    #[command(flatten)]
    options: RuleOptions,
}

/// One line of `--format jsonl`.
#[derive(Serialize)]
struct Verdict<'a> {
    path: &'a str,
    id: Option<&'a str>,
    title: Option<&'a str>,
    ok: bool,
    error: Option<String>,
    warning: Option<&'a str>,
}

/// Runs a rules command.
pub fn run(command: Command, lang: Lang) -> Result<()> {
    let Command::Check(args) = command;
    let mut paths = args.paths.clone();
    paths.extend(args.options.rules.iter().cloned());
    let set: RuleSet = rules::load(&paths)?;
    let engine = args
        .options
        .builder()?
        .compile_regexes_now(true)
        .build(&set);
    let mut out = BufWriter::new(std::io::stdout().lock());
    match OutputFormat::resolve(args.format) {
        OutputFormat::Jsonl | OutputFormat::Csv => {
            for info in engine.rules() {
                let warning = engine
                    .warnings()
                    .iter()
                    .find(|w| w.path == info.path && w.id.as_deref() == Some(info.id.as_str()))
                    .map(|w| w.message.as_str());
                let verdict = Verdict {
                    path: &info.path,
                    id: Some(&info.id),
                    title: Some(&info.title),
                    ok: true,
                    error: None,
                    warning,
                };
                serde_json::to_writer(&mut out, &verdict)?;
                out.write_all(b"\n")?;
            }
            for reject in engine.rejects() {
                let verdict = Verdict {
                    path: &reject.path,
                    id: reject.id.as_deref(),
                    title: reject.title.as_deref(),
                    ok: false,
                    error: Some(reject.error.to_string()),
                    warning: None,
                };
                serde_json::to_writer(&mut out, &verdict)?;
                out.write_all(b"\n")?;
            }
        }
        OutputFormat::Table => {
            for reject in engine.rejects() {
                writeln!(out, "rejected  {}", reject.error)?;
            }
            for warning in engine.warnings() {
                writeln!(out, "note      {}: {}", warning.path, warning.message)?;
            }
            let (loaded, rejected) = (engine.rule_count(), engine.rejects().len());
            match lang {
                Lang::En => writeln!(
                    out,
                    "{loaded} rules loaded, {rejected} rejected, {} correlation rules, {} with notes",
                    engine.correlations().len(),
                    engine.warnings().len()
                )?,
                Lang::Ja => writeln!(
                    out,
                    "読み込み {loaded} 件、却下 {rejected} 件、相関ルール {} 件、注意 {} 件",
                    engine.correlations().len(),
                    engine.warnings().len()
                )?,
            }
        }
    }
    out.flush()?;
    Ok(())
}
