//! ArcSight Common Event Format, alone or after a syslog header:
//! `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value …`.
//! No maintained crate parses CEF, so this is written here: header fields
//! split on unescaped `|`; extension values run to the next ` key=`.

use std::sync::Arc;

use gsoc_event::{Event, Fields, Format, LogSource, Normalization, Value};

use crate::time;

const HEADER: [&str; 7] = [
    "cef.version",
    "deviceVendor",
    "deviceProduct",
    "deviceVersion",
    "deviceEventClassId",
    "name",
    "severity",
];

/// Decodes one CEF line.
pub(crate) fn decode(line: &str, file: &Arc<str>, record: u64) -> Result<Event, String> {
    let start = line.find("CEF:").ok_or("no 'CEF:' marker")?;
    let (header, extension) = split_header(line[start + 4..].trim_start())?;
    let mut fields = Fields::new();
    for (name, value) in HEADER.iter().zip(&header) {
        fields.push(*name, Value::from(value.as_str()));
    }
    let prefix = line[..start].trim();
    if !prefix.is_empty() {
        fields.push("syslog.header", Value::from(prefix));
    }
    let pairs = parse_extension(extension);
    for (key, value) in &pairs {
        fields.push(key.as_str(), typed(key, value));
    }
    for (key, value) in &pairs {
        if let Some(n) = key.strip_suffix("Label")
            && let Some((_, v)) = pairs.iter().find(|(k, _)| k == n)
        {
            fields.set_if_absent(value, Value::from(v.as_str()));
        }
    }
    let mut event = Event::new(Format::Cef, file.clone(), record, String::new());
    event.time = ["rt", "end", "start"]
        .iter()
        .filter_map(|k| fields.get_str(k))
        .find_map(|t| {
            time::parse(t).or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .and_then(|ms| time::epoch(ms / 1000.0))
            })
        });
    let product = header[2].trim().to_ascii_lowercase().replace(' ', "_");
    event.logsource = LogSource::product(&product);
    event.normalization = NORMALIZATION;
    event.fields = fields;
    Ok(event)
}

fn split_header(text: &str) -> Result<(Vec<String>, &str), String> {
    let mut header = Vec::with_capacity(7);
    let mut current = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    current.push(next);
                }
            }
            '|' => {
                header.push(std::mem::take(&mut current));
                if header.len() == 7 {
                    return Ok((header, &text[i + 1..]));
                }
            }
            c => current.push(c),
        }
    }
    Err(format!(
        "CEF header has {} of its 7 '|'-separated fields",
        header.len() + usize::from(!current.is_empty())
    ))
}

fn parse_extension(text: &str) -> Vec<(String, String)> {
    let bytes = text.as_bytes();
    // Positions of `key=` starts: an unescaped '=' whose preceding token is a key.
    let mut keys = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'=' || (i > 0 && bytes[i - 1] == b'\\') {
            continue;
        }
        let start = bytes[..i]
            .iter()
            .rposition(|c| {
                !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'[' | b']' | b'-'))
            })
            .map_or(0, |p| p + 1);
        if start < i && (start == 0 || bytes[start - 1] == b' ') {
            keys.push((start, i));
        }
    }
    keys.iter()
        .enumerate()
        .map(|(n, (start, eq))| {
            let end = keys
                .get(n + 1)
                .map_or(text.len(), |(next, _)| next.saturating_sub(1));
            let value = text.get(eq + 1..end.max(eq + 1)).unwrap_or_default();
            (text[*start..*eq].to_owned(), unescape(value.trim_end()))
        })
        .collect()
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn typed(key: &str, value: &str) -> Value {
    let numeric = matches!(
        key,
        "spt" | "dpt" | "cnt" | "in" | "out" | "cn1" | "cn2" | "cn3"
    );
    match value.parse::<i64>() {
        Ok(n) if numeric => Value::Int(n),
        _ => Value::from(value),
    }
}

/// OCSF-style names for this format's fields.
const NORMALIZATION: Normalization = &[
    ("src_endpoint.ip", &["src"]),
    ("src_endpoint.port", &["spt"]),
    ("src_endpoint.hostname", &["shost"]),
    ("dst_endpoint.ip", &["dst"]),
    ("dst_endpoint.port", &["dpt"]),
    ("dst_endpoint.hostname", &["dhost"]),
    ("actor.user.name", &["suser"]),
    ("user.name", &["duser"]),
    ("http_request.url.path", &["request"]),
    ("http_request.user_agent", &["requestClientApplication"]),
    ("disposition", &["act"]),
    ("finding.title", &["name"]),
    ("file.hashes.sha256", &["fileHash"]),
    ("file.name", &["fname"]),
];

/// Whether a line holds CEF.
pub(crate) fn looks_like(line: &str) -> bool {
    line.find("CEF:")
        .is_some_and(|i| line[i + 4..].starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_extension_and_escapes() {
        let line = r"Sep 19 08:26:10 host CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=a\=b c\|d cs1Label=Policy cs1=Block all act=blocked";
        let e = decode(line, &Arc::from("c.log"), 1).expect("valid");
        assert_eq!(e.fields.get_str("deviceVendor"), Some("Security"));
        assert_eq!(e.fields.get_str("name"), Some("worm successfully stopped"));
        assert_eq!(e.fields.get("spt"), Some(&Value::Int(1232)));
        assert_eq!(e.fields.get_str("msg"), Some("a=b c|d"));
        assert_eq!(e.fields.get_str("Policy"), Some("Block all"));
        assert_eq!(e.fields.get_str("act"), Some("blocked"));
        assert_eq!(
            e.normalized("src_endpoint.ip").and_then(Value::as_str),
            Some("10.0.0.1")
        );
        assert!(decode("CEF:0|a|b", &Arc::from("c"), 2).is_err());
    }
}
