//! One module per command.

pub mod bench;
mod bench_intel;
mod bench_mail;
mod bench_triage;
pub mod decode;
pub mod detect;
pub mod intel;
pub mod mail;
pub mod rules;

use std::path::PathBuf;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use gsoc_event::Format;

/// `--input-format` values: the decoder formats, named and described as
/// the event model names and describes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputFormat(pub Format);

impl ValueEnum for InputFormat {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [InputFormat; 9] = [
            InputFormat(Format::ALL[0]),
            InputFormat(Format::ALL[1]),
            InputFormat(Format::ALL[2]),
            InputFormat(Format::ALL[3]),
            InputFormat(Format::ALL[4]),
            InputFormat(Format::ALL[5]),
            InputFormat(Format::ALL[6]),
            InputFormat(Format::ALL[7]),
            InputFormat(Format::ALL[8]),
        ];
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.description()))
    }
}

/// Flags every command that reads log files shares.
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Log files or folders (searched recursively; gzip is read
    /// transparently). `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Read every input as this format instead of recognising it from its
    /// content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,

    /// Worker threads (default: the number of CPU cores).
    #[arg(long, short = 't', value_name = "N", env = "GSOC_THREADS")]
    pub threads: Option<usize>,

    /// Do not show a progress bar (it is only shown when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

impl InputArgs {
    /// The thread count to use.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// Decoder options.
    pub fn options(&self) -> gsoc_decode::Options {
        gsoc_decode::Options {
            format: self.input_format.map(|f| f.0),
            ..gsoc_decode::Options::default()
        }
    }
}
