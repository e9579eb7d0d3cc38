//! Alerts the sensors raised themselves: Suricata EVE `alert` records and
//! the Zeek notices that name an attack. They become detections of kind
//! `sensor`, so they are triaged and counted with the rest.

use std::sync::Arc;

use gsoc_event::{Detection, DetectionKind, Event, Fields, Level, RuleInfo, Value};

/// Zeek notices that report an attack (others, such as
/// `ProtocolDetector::Protocol_Found`, describe the traffic).
const ATTACK_NOTICES: &[&str] = &[
    "Scan::Port_Scan",
    "Scan::Address_Scan",
    "SSH::Password_Guessing",
    "SSH::Login_By_Password_Guesser",
    "HTTP::SQL_Injection_Attacker",
    "HTTP::SQL_Injection_Victim",
    "FTP::Bruteforcing",
    "Intel::Notice",
    "TeamCymruMalwareHashRegistry::Match",
    "Signatures::Sensitive_Signature",
    "Signatures::Multiple_Signatures",
    "Traceroute::Detected",
];

/// The sensor's own alert in an event, as a detection.
pub fn sensor_alert(event: &Event) -> Option<Detection> {
    let service = event.logsource.service.as_deref()?;
    let product = event.logsource.product.as_deref()?;
    let (rule, keep) = match (product, service) {
        ("suricata", "alert") => (suricata_rule(event)?, SURICATA_FIELDS),
        ("zeek", "notice") => (zeek_rule(event)?, ZEEK_FIELDS),
        _ => return None,
    };
    let mut fields = Fields::new();
    for name in keep {
        if let Some(value) = event.fields.get(name) {
            fields.push(*name, value.clone());
        }
    }
    Some(Detection {
        event_time: event.time,
        host: event.host().map(str::to_owned),
        ..Detection::new(
            DetectionKind::Sensor,
            Arc::new(rule),
            event.source.clone(),
            fields,
        )
    })
}

const SURICATA_FIELDS: &[&str] = &[
    "alert.signature_id",
    "alert.category",
    "alert.action",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "app_proto",
];

const ZEEK_FIELDS: &[&str] = &[
    "note",
    "msg",
    "sub",
    "src",
    "dst",
    "p",
    "id.orig_h",
    "id.resp_h",
];

/// Suricata's severity 1 is high, 2 medium, 3 and above low.
fn suricata_rule(event: &Event) -> Option<RuleInfo> {
    let signature = event.fields.get_str("alert.signature")?;
    let sid = event.fields.get("alert.signature_id").map(Value::to_text);
    let level = match event.fields.get("alert.severity").and_then(Value::as_i64) {
        Some(1) => Level::High,
        Some(2) => Level::Medium,
        _ => Level::Low,
    };
    Some(RuleInfo {
        id: format!("suricata:{}", sid.unwrap_or_default()),
        title: signature.to_owned(),
        level,
        author: "Suricata".to_owned(),
        tags: Vec::new(),
        status: String::new(),
        path: String::new(),
    })
}

fn zeek_rule(event: &Event) -> Option<RuleInfo> {
    let note = event.fields.get_str("note")?;
    if !ATTACK_NOTICES.contains(&note) {
        return None;
    }
    let message = event.fields.get_str("msg").unwrap_or("");
    Some(RuleInfo {
        id: format!("zeek:{note}"),
        title: format!("{note}: {message}"),
        level: Level::Medium,
        author: "Zeek".to_owned(),
        tags: Vec::new(),
        status: String::new(),
        path: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gsoc_event::{Format, LogSource};

    #[test]
    fn suricata_alerts_and_attack_notices_are_detections() {
        let mut event = Event::new(Format::Eve, "eve.json", 1, "");
        event.logsource = LogSource::product("suricata").with_service("alert");
        event.fields.push(
            "alert.signature",
            Value::from("ET SCAN Suspicious inbound to MSSQL port 1433"),
        );
        event.fields.push("alert.signature_id", Value::Int(2010935));
        event.fields.push("alert.severity", Value::Int(2));
        let d = sensor_alert(&event).expect("an EVE alert is a detection");
        assert_eq!(d.rule.id, "suricata:2010935");
        assert_eq!(d.rule.level, Level::Medium);

        let mut notice = Event::new(Format::ZeekTsv, "notice.log", 1, "");
        notice.logsource = LogSource::product("zeek").with_service("notice");
        notice
            .fields
            .push("note", Value::from("ProtocolDetector::Protocol_Found"));
        assert!(sensor_alert(&notice).is_none(), "not an attack");
        notice.fields.set("note", Value::from("Scan::Port_Scan"));
        assert!(sensor_alert(&notice).is_some());
    }
}
