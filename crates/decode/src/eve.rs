//! Suricata EVE JSON: one object per record, nested objects flattened
//! (`alert.signature`, `dns.rrname`, `http.hostname`).

use std::sync::Arc;

use gsoc_event::{Event, Fields, Format, LogSource, Normalization};

use crate::json::{Dotted, parse_object};
use crate::time;

/// Decodes one EVE record.
pub(crate) fn decode(text: &str, file: &Arc<str>, record: u64) -> Result<Event, String> {
    let fields = parse_object(text, &Dotted)?;
    let mut event = Event::new(Format::Eve, file.clone(), record, String::new());
    event.time = fields.get_str("timestamp").and_then(time::parse);
    let mut logsource = LogSource::product("suricata");
    if let Some(kind) = fields.get_str("event_type") {
        logsource = logsource.with_service(kind);
    }
    event.logsource = logsource;
    event.normalization = NORMALIZATION;
    event.fields = fields;
    Ok(event)
}

/// OCSF-style names for this format's fields.
const NORMALIZATION: Normalization = &[
    ("src_endpoint.ip", &["src_ip"]),
    ("src_endpoint.port", &["src_port"]),
    ("dst_endpoint.ip", &["dest_ip"]),
    ("dst_endpoint.port", &["dest_port"]),
    ("connection_info.protocol_name", &["proto"]),
    ("app_name", &["app_proto"]),
    ("finding.title", &["alert.signature"]),
    ("finding.uid", &["alert.signature_id"]),
    ("finding.types", &["alert.category"]),
    ("disposition", &["alert.action"]),
    ("query.hostname", &["dns.rrname"]),
    (
        "answers.rdata",
        &["dns.answers.rdata", "dns.grouped.A", "dns.grouped.AAAA"],
    ),
    ("http_request.url.hostname", &["http.hostname"]),
    ("http_request.url.path", &["http.url"]),
    ("http_request.user_agent", &["http.http_user_agent"]),
    ("http_request.http_method", &["http.http_method"]),
    ("http_response.code", &["http.status"]),
    ("tls.sni", &["tls.sni"]),
    ("tls.ja3.hash", &["tls.ja3.hash"]),
    ("file.name", &["fileinfo.filename"]),
    ("file.hashes.md5", &["fileinfo.md5"]),
    ("file.hashes.sha1", &["fileinfo.sha1"]),
    ("file.hashes.sha256", &["fileinfo.sha256"]),
];

/// Whether parsed fields look like an EVE record.
pub(crate) fn looks_like(fields: &Fields) -> bool {
    fields.contains("event_type")
        && (fields.contains("timestamp") || fields.contains("src_ip") || fields.contains("flow_id"))
}

#[cfg(test)]
mod tests {
    use gsoc_event::Value;

    use super::*;

    #[test]
    fn alert_record() {
        let text = r#"{"timestamp":"2021-06-06T15:59:39.420497+0200","flow_id":1,"event_type":"alert","src_ip":"10.0.2.15","src_port":49704,"dest_ip":"1.2.3.4","dest_port":80,"proto":"TCP","alert":{"action":"allowed","signature_id":2013028,"signature":"ET POLICY curl User-Agent Outbound","category":"Attempted Information Leak","severity":2}}"#;
        let e = decode(text, &Arc::from("eve.json"), 3).expect("valid");
        assert_eq!(
            e.fields.get_str("alert.signature"),
            Some("ET POLICY curl User-Agent Outbound")
        );
        assert_eq!(e.logsource.service.as_deref(), Some("alert"));
        assert_eq!(e.normalized("dst_endpoint.port"), Some(&Value::Int(80)));
        assert_eq!(
            e.normalized("disposition").and_then(Value::as_str),
            Some("allowed")
        );
        assert_eq!(e.time, "2021-06-06T13:59:39.420497Z".parse().ok());
    }
}
