//! Zeek logs: TSV with `#separator`/`#fields`/`#types` headers, and JSON
//! (Zeek's own `id.orig_h` naming and Corelight's `id_orig_h`, `@stream`).

use std::sync::Arc;

use gsoc_event::{Event, Fields, Format, LogSource, Normalization, Text, Value};

use crate::json::{NameMapper, parse_object};
use crate::time;

/// A TSV header: everything the `#` lines say.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekHeader {
    separator: String,
    set_separator: String,
    empty_field: String,
    unset_field: String,
    path: Option<String>,
    fields: Vec<String>,
    types: Vec<String>,
}

impl Default for ZeekHeader {
    fn default() -> Self {
        ZeekHeader {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty_field: "(empty)".into(),
            unset_field: "-".into(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

impl ZeekHeader {
    /// Applies one `#` line. Returns false for lines that are not header
    /// directives (`#close`, `#open` are accepted and ignored).
    pub(crate) fn apply(&mut self, line: &str) -> bool {
        let Some(rest) = line.strip_prefix('#') else {
            return false;
        };
        if let Some(sep) = rest.strip_prefix("separator ") {
            self.separator = unescape(sep.trim());
            return true;
        }
        let (key, value) = rest
            .split_once(self.separator.as_str())
            .unwrap_or((rest, ""));
        let values = || {
            value
                .split(self.separator.as_str())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match key {
            "set_separator" => self.set_separator = value.to_owned(),
            "empty_field" => self.empty_field = value.to_owned(),
            "unset_field" => self.unset_field = value.to_owned(),
            "path" => self.path = Some(value.to_owned()),
            "fields" => self.fields = values(),
            "types" => self.types = values(),
            "open" | "close" => {}
            _ => return false,
        }
        true
    }

    /// Whether a `#fields` line has been seen.
    pub(crate) fn is_ready(&self) -> bool {
        !self.fields.is_empty()
    }

    /// Decodes one data line.
    pub(crate) fn decode(&self, line: &str, file: &Arc<str>, record: u64) -> Result<Event, String> {
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            return Err(format!(
                "expected {} tab-separated columns as the #fields header says, found {}",
                self.fields.len(),
                values.len()
            ));
        }
        let mut fields = Fields::with_capacity(values.len());
        for (i, (name, raw)) in self.fields.iter().zip(values).enumerate() {
            if raw == self.unset_field {
                continue;
            }
            let kind = self.types.get(i).map_or("string", String::as_str);
            fields.push(name.as_str(), self.value(raw, kind));
        }
        let path = self.path.clone().or_else(|| path_from_file_name(file));
        Ok(finish(
            fields,
            Format::ZeekTsv,
            path.as_deref(),
            file,
            record,
        ))
    }

    fn value(&self, raw: &str, kind: &str) -> Value {
        if raw == self.empty_field {
            return if kind.starts_with("set") || kind.starts_with("vector") {
                Value::List(Vec::new())
            } else {
                Value::from("")
            };
        }
        if let Some(inner) = kind
            .strip_prefix("set[")
            .or_else(|| kind.strip_prefix("vector["))
        {
            let inner = inner.trim_end_matches(']');
            return Value::List(
                raw.split(self.set_separator.as_str())
                    .map(|v| scalar(v, inner))
                    .collect(),
            );
        }
        scalar(raw, kind)
    }
}

fn scalar(raw: &str, kind: &str) -> Value {
    match kind {
        "count" | "int" | "port" => raw.parse().map_or_else(|_| Value::from(raw), Value::Int),
        "double" | "interval" => raw.parse().map_or_else(|_| Value::from(raw), Value::Float),
        // Times become RFC 3339 text, as Zeek's JSON writer gives them with
        // ISO 8601 timestamps, so both layouts read the same.
        "time" => raw
            .parse()
            .ok()
            .and_then(time::epoch)
            .map_or_else(|| Value::from(raw), |t| Value::from(format!("{t:.6}"))),
        "bool" => match raw {
            "T" => Value::Bool(true),
            "F" => Value::Bool(false),
            _ => Value::from(raw),
        },
        _ => Value::Str(Text::from(unescape(raw))),
    }
}

/// Zeek's TSV writer escapes a backslash as two and other bytes (the
/// separators, non-printable bytes) as `\\xNN`.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let src = raw.as_bytes();
    let mut bytes = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        let hex = src
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (src[i], src.get(i + 1), hex) {
            (b'\\', Some(b'x'), Some(byte)) => {
                bytes.push(byte);
                i += 4;
            }
            (b'\\', Some(b'\\'), _) => {
                bytes.push(b'\\');
                i += 2;
            }
            (c, _, _) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    readable(&bytes)
}

/// Text from decoded bytes, the way Zeek's JSON writer shows it: valid
/// UTF-8 as is, control characters (other than tab and line breaks) and
/// invalid bytes as `\\xNN`.
fn readable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Corelight writes `id_orig_h`; Zeek writes `id.orig_h`.
struct ZeekNames;

impl NameMapper for ZeekNames {
    fn name(&self, path: &str) -> Option<Text> {
        Some(match path.strip_prefix("id_") {
            Some(rest) if matches!(rest, "orig_h" | "orig_p" | "resp_h" | "resp_p") => {
                Text::from(format!("id.{rest}"))
            }
            _ => Text::from(path),
        })
    }
}

/// Decodes one Zeek JSON record. `file_path` is the log path guessed from
/// the file name, used when the record does not say.
pub(crate) fn decode_json(
    text: &str,
    file_path: Option<&str>,
    file: &Arc<str>,
    record: u64,
) -> Result<Event, String> {
    let fields = parse_object(text, &ZeekNames)?;
    let path = fields
        .get_str("_path")
        .or_else(|| fields.get_str("@stream"))
        .map(str::to_owned)
        .or_else(|| file_path.map(str::to_owned));
    Ok(finish(
        fields,
        Format::ZeekJson,
        path.as_deref(),
        file,
        record,
    ))
}

fn finish(
    fields: Fields,
    format: Format,
    path: Option<&str>,
    file: &Arc<str>,
    record: u64,
) -> Event {
    let mut event = Event::new(format, file.clone(), record, String::new());
    event.time = match fields.get("ts") {
        Some(Value::Float(secs)) => time::epoch(*secs),
        Some(Value::Int(secs)) => time::epoch(*secs as f64),
        Some(Value::Str(s)) => time::parse(s),
        _ => None,
    };
    let mut logsource = LogSource::product("zeek");
    if let Some(path) = path {
        logsource = logsource.with_service(path);
    }
    event.logsource = logsource;
    event.normalization = NORMALIZATION;
    event.fields = fields;
    event
}

/// OCSF-style names for this format's fields.
const NORMALIZATION: Normalization = &[
    ("metadata.uid", &["uid"]),
    ("src_endpoint.ip", &["id.orig_h"]),
    ("src_endpoint.port", &["id.orig_p"]),
    ("dst_endpoint.ip", &["id.resp_h"]),
    ("dst_endpoint.port", &["id.resp_p"]),
    ("connection_info.protocol_name", &["proto"]),
    ("query.hostname", &["query"]),
    ("answers.rdata", &["answers"]),
    ("http_request.url.hostname", &["host"]),
    ("http_request.url.path", &["uri"]),
    ("http_request.user_agent", &["user_agent"]),
    ("http_request.http_method", &["method"]),
    ("http_response.code", &["status_code"]),
    ("tls.sni", &["server_name"]),
    ("tls.ja3.hash", &["ja3"]),
    ("file.hashes.md5", &["md5"]),
    ("file.hashes.sha1", &["sha1"]),
    ("file.hashes.sha256", &["sha256"]),
    ("email.from", &["mailfrom"]),
    ("email.to", &["rcptto"]),
    ("email.subject", &["subject"]),
];

/// Zeek's standard log names, for recognising a log from its file name.
const LOG_NAMES: &[&str] = &[
    "conn",
    "dns",
    "http",
    "ssl",
    "x509",
    "files",
    "smtp",
    "ssh",
    "ftp",
    "rdp",
    "ntlm",
    "kerberos",
    "smb_files",
    "smb_mapping",
    "dce_rpc",
    "notice",
    "weird",
    "dhcp",
    "snmp",
    "syslog",
    "software",
    "known_hosts",
    "known_services",
    "known_certs",
    "modbus",
    "dnp3",
    "sip",
    "tunnel",
    "pe",
    "irc",
    "mysql",
    "radius",
    "socks",
    "dpd",
    "ocsp",
    "signatures",
    "capture_loss",
    "stats",
    "reporter",
    "intel",
    "ntp",
    "quic",
];

/// The log path a file name suggests: `dns.log.gz` and `dns.json` give
/// `dns`, and so does `NASHUA_dns.log` (a standard name after `_` or `-`).
pub(crate) fn path_from_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next()?;
    let stem = base.split('.').next()?;
    if stem.is_empty() {
        return None;
    }
    let known = LOG_NAMES
        .iter()
        .filter(|n| {
            stem == **n || stem.ends_with(&format!("_{n}")) || stem.ends_with(&format!("-{n}"))
        })
        .max_by_key(|n| n.len());
    Some(known.map_or(stem, |n| *n).to_owned())
}

/// Whether parsed fields look like a Zeek JSON record.
pub(crate) fn looks_like(fields: &Fields) -> bool {
    fields.contains("_path")
        || fields.contains("@stream")
        || fields.contains("id.orig_h")
        || fields.contains("id_orig_h")
        || (fields.contains("ts") && fields.contains("uid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_header_and_records() {
        let mut header = ZeekHeader::default();
        for line in [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tdns",
            "#fields\tts\tuid\tid.orig_h\tid.resp_p\tquery\tanswers\tAA",
            "#types\ttime\tstring\taddr\tport\tstring\tvector[string]\tbool",
        ] {
            assert!(header.apply(line), "{line}");
        }
        let e = header
            .decode(
                "1528134000.5\tCx\t10.0.0.1\t53\tevil\\x2eexample\\\\\ta,b\tT",
                &Arc::from("dns.log"),
                9,
            )
            .expect("valid");
        assert_eq!(e.fields.get_str("query"), Some("evil.example\\"));
        assert_eq!(e.fields.get("id.resp_p"), Some(&Value::Int(53)));
        assert_eq!(
            e.fields.get("answers"),
            Some(&Value::List(vec![Value::from("a"), Value::from("b")]))
        );
        assert_eq!(e.fields.get("AA"), Some(&Value::Bool(true)));
        assert_eq!(e.logsource.service.as_deref(), Some("dns"));
        assert_eq!(e.time.map(|t| t.as_millisecond()), Some(1_528_134_000_500));
        let err = header
            .decode("1\t2", &Arc::from("dns.log"), 10)
            .expect_err("short line");
        assert!(err.contains("expected 7"));
    }

    #[test]
    fn escapes_read_like_zeek_json() {
        assert_eq!(unescape("a\\x09b"), "a\tb");
        assert_eq!(unescape("data: \\x01"), "data: \\x01");
        assert_eq!(unescape("caf\\xc3\\xa9"), "café");
        assert_eq!(unescape("bad \\xff"), "bad \\xff");
        assert_eq!(unescape("back\\\\slash"), "back\\slash");
    }

    #[test]
    fn log_path_from_file_names() {
        assert_eq!(path_from_file_name("/x/dns.log.gz").as_deref(), Some("dns"));
        assert_eq!(
            path_from_file_name("NASHUA_dns.log").as_deref(),
            Some("dns")
        );
        assert_eq!(
            path_from_file_name("otrf-apt29-smb_files.log").as_deref(),
            Some("smb_files")
        );
        assert_eq!(path_from_file_name("custom.log").as_deref(), Some("custom"));
    }

    #[test]
    fn corelight_json() {
        let text = r#"{"@stream":"conn","ts":"2020-05-02T03:39:50.270417Z","uid":"C1","id_orig_h":"10.0.1.6","id_orig_p":51380,"id_resp_h":"10.0.0.4","id_resp_p":53}"#;
        let e = decode_json(text, None, &Arc::from("x.log"), 1).expect("valid");
        assert_eq!(e.fields.get_str("id.orig_h"), Some("10.0.1.6"));
        assert_eq!(e.logsource.service.as_deref(), Some("conn"));
        assert!(e.time.is_some());
        assert_eq!(
            e.normalized("src_endpoint.ip").and_then(Value::as_str),
            Some("10.0.1.6")
        );
    }
}
