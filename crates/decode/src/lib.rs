//! The decode stage: log records in many formats to [`Event`]s.
//!
//! Takes files, directories, gzip files or standard input; recognises each
//! input's format from its content (or takes `--input-format`); cuts it into
//! records and hands them out in [`Batch`]es that any thread can decode. A
//! record that does not decode becomes a [`Quarantined`] with its place and
//! reason; the rest of the input goes on. An input that is not a log at all
//! is reported once, as a [`Problem`].
//!
//! Formats: EVTX; Windows events as JSON (evtx_dump, Winlogbeat, NXLog,
//! Mordor); Suricata EVE; Zeek TSV and JSON (Zeek and Corelight naming);
//! syslog (RFC 3164 and 5424); CEF; web access logs; any JSON object.
//!
//! # Example
//!
//! ```
//! use gsoc_decode::{Chunk, Options, read_bytes};
//! use gsoc_event::Format;
//!
//! let mut events = Vec::new();
//! let log = "#fields\tts\tquery\n1528134000.0\texample.org\n";
//! read_bytes("dns.log", log.as_bytes(), &Options::default(), &mut |chunk| {
//!     if let Chunk::Batch(batch) = chunk {
//!         events.extend(batch.decode().filter_map(Result::ok));
//!     }
//!     true
//! });
//! assert_eq!(events[0].format, Format::ZeekTsv);
//! assert_eq!(events[0].fields.get_str("query"), Some("example.org"));
//! ```
#![deny(missing_docs)]

mod cef;
mod decoder;
mod eve;
mod input;
mod json;
mod syslog;
mod time;
mod web;
mod winjson;
mod zeek;

use std::sync::Arc;

pub use gsoc_event::{Event, Format};
pub use gsoc_input::{Input, Problem, expand};
pub use input::read_input;

use decoder::Decoder;

/// How to read inputs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Force a format instead of recognising it (default: recognise).
    pub format: Option<Format>,
    /// Records per batch (default: 512).
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: None,
            batch_size: 512,
        }
    }
}

/// One record as read: its number in the input and its text.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Line, document or EVTX record number.
    pub record: u64,
    /// The record's text (for EVTX, its JSON rendering).
    pub text: String,
}

/// Records of one input that share a decoder.
#[derive(Debug)]
pub struct Batch {
    /// The input's name.
    pub file: Arc<str>,
    decoder: Arc<Decoder>,
    payload: Payload,
}

/// What a batch carries: records cut out by the reader, or a whole EVTX
/// chunk that the worker decoding the batch parses (so EVTX parsing runs on
/// every worker, not only on the reader).
enum Payload {
    Frames(Vec<Frame>),
    EvtxChunk(Box<evtx::EvtxChunkData>, Arc<evtx::ParserSettings>),
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Frames(frames) => f.debug_tuple("Frames").field(&frames.len()).finish(),
            Payload::EvtxChunk(chunk, _) => f
                .debug_tuple("EvtxChunk")
                .field(&evtx_record_count(chunk))
                .finish(),
        }
    }
}

impl Batch {
    /// The format of these records.
    pub fn format(&self) -> Format {
        self.decoder.format()
    }

    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        match &self.payload {
            Payload::Frames(frames) => frames.len(),
            Payload::EvtxChunk(chunk, _) => evtx_record_count(chunk),
        }
    }

    /// Whether the batch holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decodes every record, in order. Each record's text moves into its
    /// event (or quarantined record), so nothing is copied.
    pub fn decode(self) -> impl Iterator<Item = Result<Event, Quarantined>> {
        let Batch {
            file,
            decoder,
            payload,
        } = self;
        let frames = match payload {
            Payload::Frames(frames) => frames.into_iter().map(Ok).collect::<Vec<_>>(),
            Payload::EvtxChunk(chunk, settings) => input::evtx_frames(*chunk, settings, &file),
        };
        frames.into_iter().map(move |frame| match frame {
            Ok(frame) => decoder.decode(frame, &file),
            Err(quarantined) => Err(quarantined),
        })
    }
}

fn evtx_record_count(chunk: &evtx::EvtxChunkData) -> usize {
    let header = &chunk.header;
    usize::try_from(
        header
            .last_event_record_number
            .saturating_sub(header.first_event_record_number)
            + 1,
    )
    .unwrap_or(0)
}

/// What reading an input produces, in order.
#[derive(Debug)]
pub enum Chunk {
    /// An input starts; its format is known.
    Start {
        /// The input's name.
        file: Arc<str>,
        /// Its format.
        format: Format,
    },
    /// Records to decode.
    Batch(Batch),
    /// A record that could not be cut out of the input.
    Quarantined(Quarantined),
    /// An input is done.
    End {
        /// The input's name.
        file: Arc<str>,
        /// How many records it held (decoded or not).
        records: u64,
    },
    /// An input that could not be read at all.
    Problem(Problem),
}

/// A record that could not be decoded, kept with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    /// The input's name.
    pub file: Arc<str>,
    /// Line, document or record number.
    pub record: u64,
    /// The format it was read as.
    pub format: Format,
    /// Why it was not decoded.
    pub reason: String,
    /// The record's text.
    pub original: String,
}

impl std::fmt::Display for Quarantined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} record skipped: {}",
            self.file, self.record, self.format, self.reason
        )
    }
}

/// Reads bytes held in memory as if they were a file named `name` (a
/// message received over the network, a fixture, a fuzzer's input).
pub fn read_bytes(
    name: &str,
    bytes: impl Into<Arc<[u8]>>,
    options: &Options,
    sink: &mut dyn FnMut(Chunk) -> bool,
) {
    let input = Input::Memory {
        name: name.to_owned(),
        bytes: bytes.into(),
    };
    read_input(&input, options, sink);
}
