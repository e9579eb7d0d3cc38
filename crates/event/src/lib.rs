//! The gsoc data model, shared by every stage of the pipeline.
//!
//! Decoders turn log records into [`Event`]s; the Sigma engine and the
//! indicator matchers turn events into [`Detection`]s; later stages turn
//! detections into alerts and incidents. This crate holds only the types that
//! cross those boundaries, so that no stage has to depend on another.
//!
//! An event keeps three views of one record:
//!
//! * [`Event::fields`]: the record's own fields, flattened to dotted names
//!   (`alert.signature`, `id.orig_h`) and, for Windows events, to the names
//!   Sigma rules use (`EventID`, `Channel`, `Provider_Name`, the EventData
//!   names with spaces removed);
//! * [`Event::normalized`]: the same facts under OCSF-style names
//!   (`src_endpoint.ip`, `http_request.url.path`, `process.cmd_line`),
//!   resolved through the format's [`Normalization`] table;
//! * [`Event::original`]: the record as it was read.
//!
//! # Example
//!
//! ```
//! use gsoc_event::{Event, Format, Value};
//!
//! let mut event = Event::new(Format::Json, "demo.jsonl", 1, r#"{"user":"alice"}"#);
//! event.fields.push("user", Value::from("alice"));
//! assert_eq!(event.fields.get("user").and_then(Value::as_str), Some("alice"));
//! ```
#![deny(missing_docs)]

mod assessment;
mod detection;
mod event;
mod fields;
mod lang;
mod level;
pub mod names;
pub mod time;
mod value;

pub use assessment::{Assessment, EventFacts, Logon, Reason, Verdict};
pub use detection::{Detection, DetectionKind, IndicatorInfo, RuleInfo};
pub use event::{Event, Format, LogSource, Normalization, Source};
pub use fields::Fields;
pub use lang::Lang;
pub use level::Level;
pub use value::Value;

/// Inline string used for field names and short values (no heap allocation
/// up to 24 bytes, which covers nearly every field name).
pub type Text = compact_str::CompactString;
