//! A message as an event, so that Sigma rules (`logsource: category:
//! email`) and indicators see mail the way they see logs.

use std::sync::Arc;

use gsoc_event::{
    Detection, DetectionKind, Event, Fields, Format, Level, LogSource, Normalization, RuleInfo,
    Text, Value,
};

use crate::Class;
use crate::analysis::Analysis;

/// What the event's fields mean for indicators: the sender and recipients,
/// the links and their hosts, the attachments' hashes and names.
pub const NORMALIZATION: Normalization = &[
    ("email.from", &["from"]),
    ("email.to", &["to"]),
    ("http_request.url.path", &["links"]),
    ("dst_endpoint.hostname", &["link_hosts"]),
    ("file.hashes.sha256", &["attachment_sha256"]),
    ("file.hashes.sha1", &["attachment_sha1"]),
    ("file.name", &["attachment_names"]),
];

fn text(value: &str) -> Value {
    Value::Str(Text::from(value))
}

fn list<'a>(values: impl Iterator<Item = &'a str>) -> Value {
    Value::List(values.map(text).collect())
}

/// The event of an analysed message: its headers, class, score, reason
/// codes, links and attachments as fields (`from`, `to`, `subject`,
/// `class`, `score`, `reasons`, `links`, `link_hosts`, `attachment_names`,
/// `attachment_types`, `attachment_sha256`, `spf`, `dkim`, `dmarc`, …),
/// format `json`, log source category `email`, the message's position as
/// its record number.
pub fn to_event(analysis: &Analysis, file: &Arc<str>) -> Event {
    let original = serde_json::to_string(analysis).unwrap_or_default();
    let record = analysis.source.message.unwrap_or(1) as u64;
    let mut event = Event::new(Format::Json, Arc::clone(file), record, original);
    event.time = analysis.headers.date;
    event.logsource = LogSource::default().with_category("email");
    event.normalization = NORMALIZATION;
    event.fields = fields(analysis);
    event
}

/// The detection for a message the analysis judged suspicious (kind
/// `mail`; attachment, URL, phishing or fraud mail), with the ATT&CK
/// technique of its class as tags, its level from the score (80 and over
/// high, else medium), the first recipient as its host, and the sender,
/// subject, score and reason codes as fields. Benign mail and spam give
/// none.
pub fn detection(analysis: &Analysis, event: &Event) -> Option<Detection> {
    let tags: &[&str] = match analysis.class {
        Class::Attachment => &["attack.initial-access", "attack.t1566.001"],
        Class::Url | Class::Phishing => &["attack.initial-access", "attack.t1566.002"],
        Class::Bec => &["attack.initial-access", "attack.t1566", "attack.t1656"],
        Class::Spam | Class::Benign => return None,
    };
    let h = &analysis.headers;
    let rule = RuleInfo {
        id: format!(
            "mail:{}:{}",
            analysis.class.as_str(),
            h.from.to_ascii_lowercase()
        ),
        title: format!(
            "Suspicious e-mail ({}) from {}",
            analysis.class.as_str(),
            h.from
        ),
        level: if analysis.score >= 80 {
            Level::High
        } else {
            Level::Medium
        },
        author: "gsoc mail analysis".to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        status: String::new(),
        path: String::new(),
    };
    let mut fields = Fields::with_capacity(4);
    fields.push("from", text(&h.from));
    fields.push("subject", text(&h.subject));
    fields.push("score", Value::Int(i64::from(analysis.score)));
    fields.push("reasons", list(analysis.reasons.iter().map(|r| r.code)));
    Some(Detection {
        event_time: event.time,
        host: h.to.first().cloned(),
        ..Detection::new(
            DetectionKind::Mail,
            Arc::new(rule),
            event.source.clone(),
            fields,
        )
    })
}

fn fields(analysis: &Analysis) -> Fields {
    let h = &analysis.headers;
    let mut fields = Fields::with_capacity(24);
    fields.push("from", text(&h.from));
    fields.push("from_name", text(&h.from_name));
    fields.push("to", list(h.to.iter().map(String::as_str)));
    fields.push("subject", text(&h.subject));
    for (name, value) in [
        ("reply_to", &h.reply_to),
        ("return_path", &h.return_path),
        ("message_id", &h.message_id),
    ] {
        if let Some(value) = value {
            fields.push(name, text(value));
        }
    }
    for (name, value) in [
        ("spf", &h.auth.spf),
        ("dkim", &h.auth.dkim),
        ("dmarc", &h.auth.dmarc),
    ] {
        if let Some(value) = value {
            fields.push(name, text(value));
        }
    }
    fields.push("class", text(analysis.class.as_str()));
    fields.push("score", Value::Int(i64::from(analysis.score)));
    fields.push("reasons", list(analysis.reasons.iter().map(|r| r.code)));
    fields.push("links", list(analysis.links.iter().map(|l| l.url.as_str())));
    fields.push(
        "link_hosts",
        list(analysis.links.iter().map(|l| l.host.as_str())),
    );
    let attachments = &analysis.attachments;
    fields.push(
        "attachment_names",
        list(attachments.iter().filter_map(|a| a.name.as_deref())),
    );
    let types: Vec<String> = attachments
        .iter()
        .map(|a| {
            serde_json::to_value(a.content)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    fields.push("attachment_types", list(types.iter().map(String::as_str)));
    fields.push(
        "attachment_sha256",
        list(attachments.iter().map(|a| a.sha256.as_str())),
    );
    fields.push(
        "attachment_sha1",
        list(attachments.iter().map(|a| a.sha1.as_str())),
    );
    fields
}
