//! Syslog, RFC 5424 and RFC 3164 (parsed with `syslog_loose`). Times
//! without a zone are UTC; RFC 3164 times without a year take the current
//! year.

use std::sync::Arc;

use chrono::Utc;
use gsoc_event::{Event, Fields, Format, LogSource, Normalization, Value};
use syslog_loose::{Message, Variant};

/// Decodes one syslog line.
pub(crate) fn decode(line: &str, file: &Arc<str>, record: u64) -> Result<Event, String> {
    let year = jiff::Zoned::now().year().into();
    let message =
        syslog_loose::parse_message_with_year_exact_tz(line, |_| year, Some(Utc), Variant::Either)
            .map_err(|_| "not a syslog message (RFC 5424 or RFC 3164)".to_owned())?;
    let mut event = Event::new(Format::Syslog, file.clone(), record, String::new());
    event.time = message
        .timestamp
        .and_then(|t| jiff::Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32).ok());
    let fields = fields(&message);
    let mut logsource = LogSource::product("linux");
    if let Some(app) = message.appname {
        logsource = logsource.with_service(&app.to_ascii_lowercase());
    }
    event.logsource = logsource;
    event.normalization = NORMALIZATION;
    event.fields = fields;
    Ok(event)
}

fn fields(message: &Message<&str>) -> Fields {
    let mut fields = Fields::new();
    if let Some(f) = message.facility {
        fields.push("facility", Value::from(f.as_str()));
    }
    if let Some(s) = message.severity {
        fields.push("severity", Value::from(s.as_str()));
    }
    if let Some(h) = message.hostname {
        fields.push("hostname", Value::from(h));
    }
    if let Some(a) = message.appname {
        fields.push("appname", Value::from(a));
    }
    if let Some(p) = &message.procid {
        fields.push("procid", Value::from(p.to_string()));
    }
    if let Some(m) = message.msgid {
        fields.push("msgid", Value::from(m));
    }
    for element in &message.structured_data {
        for (name, value) in element.params() {
            fields.push(
                format!("{}.{}", element.id, name),
                Value::from(value.to_string()),
            );
        }
    }
    fields.push("message", Value::from(message.msg));
    fields
}

/// OCSF-style names for this format's fields.
const NORMALIZATION: Normalization = &[
    ("device.hostname", &["hostname"]),
    ("metadata.product.name", &["appname"]),
    ("message", &["message"]),
    ("severity", &["severity"]),
];

/// Whether a line looks like syslog: a `<PRI>`, an RFC 3164 date, or an
/// RFC 3339 time (rsyslog's high-precision format) followed by a host and a
/// `program:` or `program[pid]:` tag.
pub(crate) fn looks_like(line: &str) -> bool {
    let bytes = line.as_bytes();
    if bytes.first() == Some(&b'<') {
        return bytes
            .iter()
            .skip(1)
            .take(4)
            .take_while(|b| b.is_ascii_digit())
            .count()
            > 0
            && line[1..].find('>').is_some_and(|end| end <= 4);
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if MONTHS.iter().any(|m| line.starts_with(m)) {
        return bytes.get(3) == Some(&b' ')
            && line.get(7..16).is_some_and(|t| t.matches(':').count() == 2);
    }
    let iso = bytes.len() > 20 && bytes[4] == b'-' && bytes[7] == b'-' && bytes[10] == b'T';
    let mut tokens = line.split(' ');
    iso && tokens
        .next()
        .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok())
        && tokens.next().is_some_and(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        })
        && tokens
            .next()
            .is_some_and(|tag| tag.ends_with(':') && tag.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164_and_rfc5424() {
        let e = decode(
            "Dec  9 12:33:53 myhost sshd[4221]: Failed password for root from 1.2.3.4 port 22 ssh2",
            &Arc::from("auth.log"),
            1,
        )
        .expect("valid");
        assert_eq!(e.fields.get_str("appname"), Some("sshd"));
        assert_eq!(e.fields.get_str("hostname"), Some("myhost"));
        assert!(
            e.fields
                .get_str("message")
                .is_some_and(|m| m.contains("Failed password"))
        );
        assert_eq!(e.logsource.service.as_deref(), Some("sshd"));
        assert!(e.time.is_some());
        let e = decode(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut="3"] An application event"#,
            &Arc::from("x"),
            2,
        )
        .expect("valid");
        assert_eq!(e.fields.get_str("exampleSDID@32473.iut"), Some("3"));
        assert_eq!(e.fields.get_str("message"), Some("An application event"));
        assert_eq!(e.time, "2003-10-11T22:14:15.003Z".parse().ok());
    }

    #[test]
    fn recognises_syslog_lines() {
        assert!(looks_like(
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed"
        ));
        assert!(looks_like("Dec  9 12:33:53 myhost sshd[4221]: x"));
        assert!(looks_like(
            "2023-08-17T16:55:35.689651+02:00 mono endlessh[34256]: ACCEPT host=x"
        ));
        assert!(!looks_like(
            "2023-08-17T16:55:35Z [AUTH] WARN: Incorrect username"
        ));
        assert!(!looks_like(
            "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1"
        ));
    }
}
