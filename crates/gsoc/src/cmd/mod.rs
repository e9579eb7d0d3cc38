//! One module per command.

pub mod bench;
pub mod decode;
pub mod detect;
pub mod rules;

use std::path::PathBuf;

use clap::ValueEnum;
use gsoc_event::Format;

/// `--input-format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Windows EVTX.
    Evtx,
    /// Windows events as JSON (evtx_dump, Winlogbeat, NXLog, Mordor).
    WinJson,
    /// Suricata EVE JSON.
    Eve,
    /// Zeek TSV with #fields headers.
    ZeekTsv,
    /// Zeek or Corelight JSON.
    ZeekJson,
    /// Syslog (RFC 3164 or 5424).
    Syslog,
    /// Common Event Format.
    Cef,
    /// Web server access logs.
    AccessLog,
    /// Any JSON object per record.
    Json,
}

impl From<InputFormat> for Format {
    fn from(f: InputFormat) -> Format {
        match f {
            InputFormat::Evtx => Format::Evtx,
            InputFormat::WinJson => Format::WinJson,
            InputFormat::Eve => Format::Eve,
            InputFormat::ZeekTsv => Format::ZeekTsv,
            InputFormat::ZeekJson => Format::ZeekJson,
            InputFormat::Syslog => Format::Syslog,
            InputFormat::Cef => Format::Cef,
            InputFormat::AccessLog => Format::AccessLog,
            InputFormat::Json => Format::Json,
        }
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
            format: self.input_format.map(Format::from),
            ..gsoc_decode::Options::default()
        }
    }
}
