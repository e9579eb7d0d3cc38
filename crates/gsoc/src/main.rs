//! The `gsoc` binary: parses the command line and hands off to one module
//! per command. Prints an error chain once and exits non-zero only when a
//! command could not run.

mod cli;
mod cmd;
mod locale;
mod output;
mod progress;
mod rules;
mod summary;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::locale::Lang;

/// mimalloc: decoding allocates many short strings per event, and it
/// handles that pattern markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (the Rust binding
/// names only the options of older versions).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Streaming work frees and reallocates the same amount of memory all the
    // time (EVTX chunk arenas, batches); returning it to the OS after 10 ms,
    // mimalloc's default, made the kernel zero fresh pages for 15% of an EVTX
    // run. Keep freed memory for a second instead.
    // SAFETY: setting an option is always sound; this one only changes when
    // freed memory goes back to the OS.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gsoc: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let lang = Lang::resolve(cli.lang);
    match cli.command {
        Command::Detect(args) => cmd::detect::run(args, &cli.data_dir, lang),
        Command::Intel(command) => cmd::intel::run(command, &cli.data_dir, lang),
        Command::Mail(command) => cmd::mail::run(command, &cli.data_dir, lang),
        Command::Decode(args) => cmd::decode::run(args, lang),
        Command::Rules(command) => cmd::rules::run(command, lang),
        Command::Bench(args) => cmd::bench::run(args, lang),
        Command::TriagePolicy => {
            print!("{}", gsoc_triage::DEFAULT_POLICY);
            Ok(())
        }
    }
}

/// A closed pipe (`gsoc detect … | head`) is a normal way to stop.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
