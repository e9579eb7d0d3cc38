use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::{Fields, Text, Value};

/// The input format a record was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Binary Windows event log (`.evtx`).
    Evtx,
    /// Windows events as JSON: evtx_dump, Winlogbeat, NXLog or the flat
    /// "Mordor" layout.
    WinJson,
    /// Suricata EVE JSON.
    Eve,
    /// Zeek logs in TSV with `#fields` headers.
    ZeekTsv,
    /// Zeek (or Corelight) JSON logs.
    ZeekJson,
    /// Syslog, RFC 3164 or RFC 5424.
    Syslog,
    /// ArcSight Common Event Format.
    Cef,
    /// Web server access logs (common, combined, nginx, apache).
    AccessLog,
    /// Any other JSON object per record.
    Json,
}

impl Format {
    /// Every format, in the order `--input-format` lists them.
    pub const ALL: [Format; 9] = [
        Format::Evtx,
        Format::WinJson,
        Format::Eve,
        Format::ZeekTsv,
        Format::ZeekJson,
        Format::Syslog,
        Format::Cef,
        Format::AccessLog,
        Format::Json,
    ];

    /// A one-line description, for help texts.
    pub fn description(self) -> &'static str {
        match self {
            Format::Evtx => "Windows EVTX",
            Format::WinJson => "Windows events as JSON (evtx_dump, Winlogbeat, NXLog, Mordor)",
            Format::Eve => "Suricata EVE JSON",
            Format::ZeekTsv => "Zeek TSV with #fields headers",
            Format::ZeekJson => "Zeek or Corelight JSON",
            Format::Syslog => "syslog (RFC 3164 or 5424)",
            Format::Cef => "Common Event Format",
            Format::AccessLog => "web server access logs",
            Format::Json => "any JSON object per record",
        }
    }

    /// The name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::WinJson => "win-json",
            Format::Eve => "eve",
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::Syslog => "syslog",
            Format::Cef => "cef",
            Format::AccessLog => "access-log",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record came from: the file (or `-` for stdin) and its record
/// number (the line for line-based formats, the document for JSON documents,
/// the EventRecordID for EVTX).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The input path as given, `-` for standard input.
    pub file: Arc<str>,
    /// The record number in that input.
    pub record: u64,
}

/// The Sigma log source a decoder assigns to an event. Rules are only
/// matched against events whose log source fits theirs; for Windows events
/// the Sigma engine refines this from the channel and event id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct LogSource {
    /// Product, e.g. `windows`, `zeek`, `linux`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<Text>,
    /// Service, e.g. `dns` for Zeek's dns.log, `sshd` for a syslog program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Text>,
    /// Category, e.g. `webserver` for access logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Text>,
}

impl LogSource {
    /// A log source with only a product.
    pub fn product(product: &str) -> Self {
        LogSource {
            product: Some(Text::from(product)),
            ..Self::default()
        }
    }

    /// Sets the service.
    pub fn with_service(mut self, service: &str) -> Self {
        self.service = Some(Text::from(service));
        self
    }

    /// Sets the category.
    pub fn with_category(mut self, category: &str) -> Self {
        self.category = Some(Text::from(category));
        self
    }
}

/// A format's mapping from OCSF-style names to its own field names (the
/// first one present wins). Events refer to their format's table instead of
/// copying values, so normalising costs nothing until asked for.
pub type Normalization = &'static [(&'static str, &'static [&'static str])];

/// One decoded log record.
///
/// In `gsoc decode --format jsonl` each event is one line with `time`,
/// `org`, `format`, `source`, `logsource`, `fields`, `normalized` (the
/// OCSF-style view, resolved) and `original`.
#[derive(Clone, Debug)]
pub struct Event {
    /// When it happened, in UTC, when the record says.
    pub time: Option<Timestamp>,
    /// The organisation it belongs to, when known.
    pub org: Option<Text>,
    /// The format it was decoded from.
    pub format: Format,
    /// Where it came from.
    pub source: Source,
    /// The Sigma log source the decoder assigned.
    pub logsource: LogSource,
    /// The record's own fields, flattened (see the crate documentation).
    pub fields: Fields,
    /// How the format's fields map to OCSF-style names.
    pub normalization: Normalization,
    /// The record as read (for EVTX: its JSON rendering).
    pub original: String,
}

impl Event {
    /// A new event with no fields yet.
    pub fn new(
        format: Format,
        file: impl Into<Arc<str>>,
        record: u64,
        original: impl Into<String>,
    ) -> Self {
        Event {
            time: None,
            org: None,
            format,
            source: Source {
                file: file.into(),
                record,
            },
            logsource: LogSource::default(),
            fields: Fields::new(),
            normalization: &[],
            original: original.into(),
        }
    }

    /// The value under an OCSF-style name (`src_endpoint.ip`,
    /// `process.cmd_line`, …), when the event's format has it.
    pub fn normalized(&self, name: &str) -> Option<&Value> {
        let (_, sources) = self.normalization.iter().find(|(n, _)| *n == name)?;
        sources.iter().find_map(|s| self.fields.get(s))
    }

    /// Every OCSF-style field the event has, resolved.
    pub fn normalized_fields(&self) -> Fields {
        let mut out = Fields::new();
        for (name, sources) in self.normalization {
            if let Some(value) = sources.iter().find_map(|s| self.fields.get(s)) {
                out.push(*name, value.clone());
            }
        }
        out
    }

    /// The host the event is about, from the usual field names.
    pub fn host(&self) -> Option<&str> {
        ["Computer", "Hostname", "host.name", "hostname", "host"]
            .iter()
            .find_map(|name| self.fields.get_str(name))
            .or_else(|| self.normalized("device.hostname").and_then(Value::as_str))
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("time", &self.time)?;
        map.serialize_entry("org", &self.org)?;
        map.serialize_entry("format", &self.format)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("logsource", &self.logsource)?;
        map.serialize_entry("fields", &self.fields)?;
        map.serialize_entry("normalized", &self.normalized_fields())?;
        map.serialize_entry("original", &self.original)?;
        map.end()
    }
}
