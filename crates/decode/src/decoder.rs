//! The per-file decoder: one format, plus what the file's header said.

use std::sync::Arc;

use gsoc_event::{Event, Fields, Format, LogSource};

use crate::json::{Dotted, parse_object};
use crate::zeek::ZeekHeader;
use crate::{Frame, Quarantined, cef, eve, syslog, time, web, winjson, zeek};

/// Decodes the records of one file (or one header section of a Zeek file).
#[derive(Clone, Debug)]
pub(crate) enum Decoder {
    /// Windows JSON or EVTX renderings (the format tells which).
    Windows(Format),
    Eve,
    /// Zeek JSON, with the log path guessed from the file name.
    ZeekJson(Option<String>),
    ZeekTsv(ZeekHeader),
    Syslog,
    Cef,
    AccessLog,
    Json,
}

impl Decoder {
    /// The format this decoder reads.
    pub(crate) fn format(&self) -> Format {
        match self {
            Decoder::Windows(f) => *f,
            Decoder::Eve => Format::Eve,
            Decoder::ZeekJson(_) => Format::ZeekJson,
            Decoder::ZeekTsv(_) => Format::ZeekTsv,
            Decoder::Syslog => Format::Syslog,
            Decoder::Cef => Format::Cef,
            Decoder::AccessLog => Format::AccessLog,
            Decoder::Json => Format::Json,
        }
    }

    /// The decoder for a format chosen by hand or by sniffing.
    pub(crate) fn for_format(format: Format, file: &str) -> Decoder {
        match format {
            Format::Evtx | Format::WinJson => Decoder::Windows(format),
            Format::Eve => Decoder::Eve,
            Format::ZeekJson => Decoder::ZeekJson(zeek::path_from_file_name(file)),
            Format::ZeekTsv => Decoder::ZeekTsv(ZeekHeader::default()),
            Format::Syslog => Decoder::Syslog,
            Format::Cef => Decoder::Cef,
            Format::AccessLog => Decoder::AccessLog,
            Format::Json => Decoder::Json,
        }
    }

    /// Decodes one record. The record's text becomes the event's
    /// `original` (moved, not copied), or the quarantined record's.
    pub(crate) fn decode(&self, frame: Frame, file: &Arc<str>) -> Result<Event, Quarantined> {
        let text = frame.text.as_str();
        let record = frame.record;
        let result = match self {
            Decoder::Windows(format) => winjson::decode(text, *format, file, record),
            Decoder::Eve => eve::decode(text, file, record),
            Decoder::ZeekJson(path) => zeek::decode_json(text, path.as_deref(), file, record),
            Decoder::ZeekTsv(header) => header.decode(text, file, record),
            Decoder::Syslog => syslog::decode(text, file, record),
            Decoder::Cef => cef::decode(text, file, record),
            Decoder::AccessLog => web::decode(text, file, record),
            Decoder::Json => generic(text, file, record),
        };
        match result {
            Ok(mut event) => {
                event.original = frame.text;
                Ok(event)
            }
            Err(reason) => Err(Quarantined {
                file: file.clone(),
                record,
                format: self.format(),
                reason,
                original: frame.text,
            }),
        }
    }
}

/// Any other JSON object: flattened, with a time from the usual keys and a
/// log source where the layout is recognisable (AWS CloudTrail).
fn generic(text: &str, file: &Arc<str>, record: u64) -> Result<Event, String> {
    let fields = parse_object(text, &Dotted)?;
    let mut event = Event::new(Format::Json, file.clone(), record, String::new());
    event.time = [
        "@timestamp",
        "timestamp",
        "time",
        "eventTime",
        "EventTime",
        "date",
        "ts",
    ]
    .iter()
    .filter_map(|k| fields.get_str(k))
    .find_map(time::parse);
    event.logsource = logsource(&fields);
    event.fields = fields;
    Ok(event)
}

fn logsource(fields: &Fields) -> LogSource {
    if fields.contains("eventSource")
        && fields.contains("eventName")
        && fields.contains("awsRegion")
    {
        return LogSource::product("aws").with_service("cloudtrail");
    }
    LogSource::default()
}
