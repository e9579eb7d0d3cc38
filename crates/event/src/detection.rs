use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::{Assessment, EventFacts, Fields, Level, Source};

/// What produced a detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectionKind {
    /// A Sigma rule.
    Sigma,
    /// A Sigma correlation rule.
    Correlation,
    /// A threat-intelligence indicator.
    Indicator,
    /// Regular connections from one internal host to one external
    /// destination (triage's beaconing finder).
    Beacon,
    /// An alert the sensor itself raised (a Suricata alert, a Zeek notice).
    Sensor,
    /// Unanswered connection attempts from outside to internal hosts
    /// (triage's probe finder).
    Probe,
    /// A message the e-mail analysis judged suspicious (attachment, URL,
    /// phishing or fraud mail).
    Mail,
}

/// What a detection says about the rule that fired. Shared between all
/// detections of one rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleInfo {
    /// The rule's id (its UUID for Sigma rules).
    pub id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's level.
    pub level: Level,
    /// The rule's author. The Detection Rule License of the SigmaHQ rules
    /// requires every output that shows a match to name it.
    pub author: String,
    /// The rule's tags (`attack.t1059.001`, …).
    pub tags: Vec<String>,
    /// The rule's status (`stable`, `test`, `experimental`, …).
    pub status: String,
    /// The file the rule was loaded from.
    pub path: String,
}

/// The threat-intelligence indicator behind an indicator detection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorInfo {
    /// The indicator's id (a STIX id).
    pub id: String,
    /// Its type (`ipv4`, `domain`, `sha256`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its value.
    pub value: String,
    /// The feed, bundle or event it came from.
    pub source: String,
    /// How far the source trusts it, 0 to 100.
    pub confidence: Option<u8>,
    /// Its TLP marking (`clear`, `green`, `amber`, `amber+strict`, `red`).
    pub tlp: Option<String>,
    /// Malware families it indicates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malware: Vec<String>,
    /// Threat actors it is attributed to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    /// Until when it is valid.
    pub valid_until: Option<Timestamp>,
}

/// One match of one rule (or indicator) on one event.
///
/// In `gsoc detect --format jsonl` each detection is one line:
///
/// | key | meaning |
/// |---|---|
/// | `kind` | `sigma`, `correlation`, `indicator`, `beacon`, `sensor`, `probe` or `mail` |
/// | `rule_id`, `rule_title`, `level`, `rule_author`, `tags`, `rule_status`, `rule_path` | the rule |
/// | `event_time` | the event's time, RFC 3339 in UTC, or null |
/// | `host` | the host the event is about, when known |
/// | `source` | `{"file": …, "record": N}` |
/// | `fields` | the event fields the rule matched on |
/// | `indicator` | for indicator matches: id, type, value, source, confidence, tlp, malware, actors, valid_until |
/// | `category`, `verdict`, `reason`, `severity`, `duplicates`, `last_seen` | with `--triage`: see [`Assessment`] |
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// What produced it.
    pub kind: DetectionKind,
    /// The rule.
    pub rule: Arc<RuleInfo>,
    /// The event's time.
    pub event_time: Option<Timestamp>,
    /// The host the event is about.
    pub host: Option<String>,
    /// The event's origin.
    pub source: Source,
    /// The event fields the rule matched on.
    pub fields: Fields,
    /// The indicator, for indicator matches.
    pub indicator: Option<Arc<IndicatorInfo>>,
    /// Event fields a correlation rule reads from this detection (its
    /// group-by and value fields); not part of the output.
    pub context: Fields,
    /// What the event says about the outcome, for triage; not part of the
    /// output.
    pub facts: Option<Arc<EventFacts>>,
    /// Triage's conclusion, once triaged.
    pub assessment: Option<Box<Assessment>>,
}

impl Detection {
    /// A detection of kind `kind` by `rule` on the record at `source`,
    /// naming `fields`; it has no time, host, indicator, correlation
    /// context, facts or assessment until they are set (struct update
    /// syntax: `Detection { event_time, ..Detection::new(…) }`).
    pub fn new(kind: DetectionKind, rule: Arc<RuleInfo>, source: Source, fields: Fields) -> Self {
        Detection {
            kind,
            rule,
            event_time: None,
            host: None,
            source,
            fields,
            indicator: None,
            context: Fields::new(),
            facts: None,
            assessment: None,
        }
    }
}

impl Serialize for Detection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let rule = &self.rule;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("rule_id", &rule.id)?;
        map.serialize_entry("rule_title", &rule.title)?;
        map.serialize_entry("level", &rule.level)?;
        map.serialize_entry("rule_author", &rule.author)?;
        map.serialize_entry("tags", &rule.tags)?;
        map.serialize_entry("rule_status", &rule.status)?;
        map.serialize_entry("rule_path", &rule.path)?;
        map.serialize_entry("event_time", &self.event_time)?;
        map.serialize_entry("host", &self.host)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("fields", &self.fields)?;
        if let Some(indicator) = &self.indicator {
            map.serialize_entry("indicator", indicator)?;
        }
        if let Some(a) = &self.assessment {
            map.serialize_entry("category", a.category)?;
            map.serialize_entry("verdict", &a.verdict)?;
            map.serialize_entry("reason", &a.reason)?;
            map.serialize_entry("severity", &a.severity)?;
            if a.duplicates > 0 {
                map.serialize_entry("duplicates", &a.duplicates)?;
                map.serialize_entry("last_seen", &a.last_seen)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn jsonl_shape() {
        let rule = Arc::new(RuleInfo {
            id: "r1".into(),
            title: "Test".into(),
            level: Level::High,
            author: "A. Author".into(),
            tags: vec!["attack.t1059".into()],
            status: "test".into(),
            path: "x.yml".into(),
        });
        let detection = Detection {
            context: Fields::new(),
            facts: None,
            assessment: None,
            kind: DetectionKind::Sigma,
            rule,
            event_time: Some(
                "2024-01-02T03:04:05Z"
                    .parse()
                    .expect("valid timestamp literal"),
            ),
            host: None,
            source: Source {
                file: "a.evtx".into(),
                record: 7,
            },
            fields: [("Image", Value::from("c:\\x.exe"))].into_iter().collect(),
            indicator: None,
        };
        let json: serde_json::Value = serde_json::to_value(&detection).expect("serialisable");
        assert_eq!(json["rule_id"], "r1");
        assert_eq!(json["level"], "high");
        assert_eq!(json["rule_author"], "A. Author");
        assert_eq!(json["event_time"], "2024-01-02T03:04:05Z");
        assert_eq!(json["source"]["record"], 7);
        assert_eq!(json["fields"]["Image"], "c:\\x.exe");
    }
}
