//! Windows events as JSON, in every common layout, to the flat field names
//! Sigma rules use:
//!
//! * evtx_dump / the `evtx` crate: `{"Event":{"System":{…},"EventData":{…}}}`
//!   (System attributes become `Provider_Name`, `Execution_ProcessID`, …;
//!   EventData and UserData fields move to the top level);
//! * Winlogbeat: `winlog.event_data.*`, `winlog.channel`, `winlog.event_id`;
//! * NXLog and the flat "Mordor" layout: fields at the top level, with
//!   `SourceName`/`Hostname` also given as `Provider_Name`/`Computer`.
//!
//! Field names keep their spaces (Defender writes `Threat Name`); the Sigma
//! engine compares names without spaces, as the Sigma specification asks.

use gsoc_event::{Event, Fields, Format, LogSource, Normalization, Text, Value};

use crate::json::{NameMapper, parse_object};
use crate::time;

/// Maps every Windows JSON layout's paths to Sigma's names.
pub(crate) struct WindowsNames;

impl NameMapper for WindowsNames {
    fn name(&self, path: &str) -> Option<Text> {
        if let Some(rest) = path.strip_prefix("Event.") {
            return evtx_name(rest);
        }
        if let Some(rest) = path.strip_prefix("winlog.") {
            return Some(winlogbeat_name(rest));
        }
        Some(Text::from(path))
    }
}

fn evtx_name(rest: &str) -> Option<Text> {
    if let Some(system) = rest.strip_prefix("System.") {
        // `Provider.#attributes.Name` becomes `Provider_Name`, built in place
        // (this runs for every System value of every event).
        let mut name = Text::default();
        for part in system
            .split('.')
            .filter(|p| *p != "#attributes" && *p != "#text")
        {
            if !name.is_empty() {
                name.push('_');
            }
            name.push_str(part);
        }
        return Some(name);
    }
    if let Some(data) = rest.strip_prefix("EventData.") {
        return data_name(data);
    }
    if let Some(user) = rest.strip_prefix("UserData.") {
        // UserData holds one element named after the event; its children are
        // the fields.
        return user.split_once('.').and_then(|(_, field)| data_name(field));
    }
    if rest.starts_with("#attributes") {
        return None;
    }
    Some(Text::from(rest))
}

fn data_name(data: &str) -> Option<Text> {
    if data.starts_with("#attributes") || data.contains(".#attributes") {
        return None;
    }
    let name = data.strip_suffix(".#text").unwrap_or(data);
    if name == "#text" {
        return Some(Text::from("Data"));
    }
    Some(Text::from(name))
}

fn winlogbeat_name(rest: &str) -> Text {
    if let Some(field) = rest
        .strip_prefix("event_data.")
        .or_else(|| rest.strip_prefix("user_data."))
    {
        return Text::from(field);
    }
    Text::from(match rest {
        "channel" => "Channel",
        "event_id" => "EventID",
        "provider_name" => "Provider_Name",
        "provider_guid" => "Provider_Guid",
        "computer_name" => "Computer",
        "record_id" => "EventRecordID",
        "process.pid" => "Execution_ProcessID",
        "process.thread.id" => "Execution_ThreadID",
        "user.identifier" => "Security_UserID",
        "version" => "Version",
        "task" => "Task",
        "opcode" => "Opcode",
        "keywords" => "Keywords",
        other => return Text::from(format!("winlog.{other}")),
    })
}

/// Decodes one Windows event in any JSON layout.
pub(crate) fn decode(
    text: &str,
    format: Format,
    file: &std::sync::Arc<str>,
    record: u64,
) -> Result<Event, String> {
    let mut fields = parse_object(text, &WindowsNames)?;
    complete(&mut fields);
    let mut event = Event::new(format, file.clone(), record, String::new());
    event.time = event_time(&fields);
    event.logsource = LogSource::product("windows");
    event.normalization = NORMALIZATION;
    // For EVTX the record number shown is the event's own EventRecordID (as
    // Event Viewer shows it), not its position in an exported file.
    if format == Format::Evtx
        && let Some(id) = fields.get("EventRecordID").and_then(Value::as_i64)
    {
        event.source.record = u64::try_from(id).unwrap_or(record);
    }
    event.fields = fields;
    Ok(event)
}

/// Fills in the names Sigma expects from the names some layouts use.
fn complete(fields: &mut Fields) {
    if let Some(Value::Str(id)) = fields.get("EventID")
        && let Ok(n) = id.trim().parse::<i64>()
    {
        fields.set("EventID", Value::Int(n));
    }
    for (sigma, alternatives) in [
        ("Provider_Name", &["SourceName", "ProviderName"][..]),
        (
            "Computer",
            &["Hostname", "host.name", "host", "hostname"][..],
        ),
        ("EventID", &["EventId", "event_id"][..]),
    ] {
        if fields.contains(sigma) {
            continue;
        }
        if let Some(value) = alternatives.iter().find_map(|a| {
            fields
                .get(a)
                .filter(|v| v.as_str().is_some() || matches!(v, Value::Int(_)))
        }) {
            let value = value.clone();
            fields.push(sigma, value);
        }
    }
}

fn event_time(fields: &Fields) -> Option<jiff::Timestamp> {
    [
        "TimeCreated_SystemTime",
        "@timestamp",
        "TimeCreated",
        "UtcTime",
        "EventTime",
        "timestamp",
    ]
    .iter()
    .filter_map(|name| fields.get_str(name))
    .find_map(time::parse)
}

/// OCSF-style names for Windows event fields.
const NORMALIZATION: Normalization = &[
    ("metadata.event_code", &["EventID"]),
    ("metadata.log_name", &["Channel"]),
    ("metadata.product.name", &["Provider_Name"]),
    ("device.hostname", &["Computer"]),
    ("process.cmd_line", &["CommandLine"]),
    (
        "process.file.path",
        &["Image", "NewProcessName", "ProcessName"],
    ),
    ("process.pid", &["ProcessId", "NewProcessId"]),
    (
        "process.parent_process.file.path",
        &["ParentImage", "ParentProcessName"],
    ),
    ("process.parent_process.cmd_line", &["ParentCommandLine"]),
    ("actor.user.name", &["User", "SubjectUserName"]),
    ("user.name", &["TargetUserName"]),
    (
        "src_endpoint.ip",
        &["SourceIp", "IpAddress", "SourceAddress"],
    ),
    ("src_endpoint.port", &["SourcePort", "IpPort"]),
    ("dst_endpoint.ip", &["DestinationIp", "DestAddress"]),
    ("dst_endpoint.port", &["DestinationPort", "DestPort"]),
    ("dst_endpoint.hostname", &["DestinationHostname"]),
    ("query.hostname", &["QueryName"]),
    ("file.path", &["TargetFilename"]),
    ("file.hashes", &["Hashes"]),
    ("reg_key.path", &["TargetObject"]),
];

/// Whether a parsed JSON object looks like a Windows event.
pub(crate) fn looks_like(fields: &Fields) -> bool {
    let has = |n: &str| {
        fields
            .iter()
            .any(|(name, _)| name == n || name.starts_with(n))
    };
    has("Event.System.")
        || has("winlog.")
        || ((has("EventID") || has("EventId"))
            && (has("Channel") || has("SourceName") || has("Provider_Name") || has("ProviderName")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> std::sync::Arc<str> {
        std::sync::Arc::from("t.json")
    }

    #[test]
    fn evtx_dump_layout() {
        let text = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770}"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2019-03-18T16:57:38.546950Z"}},"EventRecordID":7,"Execution":{"#attributes":{"ProcessID":3,"ThreadID":4}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"PC1","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"Image":"C:\\x.exe","Threat Name":"EICAR"}}}"##;
        let e = decode(text, Format::WinJson, &file(), 1).expect("valid");
        assert_eq!(
            e.fields.get_str("Provider_Name"),
            Some("Microsoft-Windows-Sysmon")
        );
        assert_eq!(e.fields.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(e.fields.get("Execution_ProcessID"), Some(&Value::Int(3)));
        assert_eq!(e.fields.get_str("Security_UserID"), Some("S-1-5-18"));
        assert_eq!(e.fields.get_str("Image"), Some("C:\\x.exe"));
        assert_eq!(e.fields.get_str("Threat Name"), Some("EICAR"));
        assert!(!e.fields.contains("xmlns"));
        assert_eq!(e.time, "2019-03-18T16:57:38.546950Z".parse().ok());
        assert_eq!(
            e.normalized("process.file.path").and_then(Value::as_str),
            Some("C:\\x.exe")
        );
        assert_eq!(e.host(), Some("PC1"));
    }

    #[test]
    fn event_id_with_qualifiers_and_user_data() {
        let text = r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Channel":"System"},"UserData":{"LogFileCleared":{"SubjectUserName":"bob"}}}}"##;
        let e = decode(text, Format::WinJson, &file(), 1).expect("valid");
        assert_eq!(e.fields.get("EventID"), Some(&Value::Int(7045)));
        assert_eq!(e.fields.get("EventID_Qualifiers"), Some(&Value::Int(16384)));
        assert_eq!(e.fields.get_str("SubjectUserName"), Some("bob"));
    }

    #[test]
    fn winlogbeat_and_flat_layouts() {
        let beat = r#"{"@timestamp":"2020-01-01T00:00:00Z","winlog":{"channel":"Security","event_id":4688,"computer_name":"H","event_data":{"NewProcessName":"C:\\a.exe"}}}"#;
        let e = decode(beat, Format::WinJson, &file(), 1).expect("valid");
        assert_eq!(e.fields.get_str("Channel"), Some("Security"));
        assert_eq!(e.fields.get("EventID"), Some(&Value::Int(4688)));
        assert_eq!(e.fields.get_str("NewProcessName"), Some("C:\\a.exe"));
        assert!(e.time.is_some());
        let flat = r#"{"SourceName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2020-10-18 10:56:18.799","Hostname":"WS5","EventID":"4624","Channel":"security"}"#;
        let e = decode(flat, Format::WinJson, &file(), 2).expect("valid");
        assert_eq!(
            e.fields.get_str("Provider_Name"),
            Some("Microsoft-Windows-Security-Auditing")
        );
        assert_eq!(e.fields.get_str("Computer"), Some("WS5"));
        assert_eq!(e.fields.get("EventID"), Some(&Value::Int(4624)));
        assert_eq!(e.time, "2020-10-18T10:56:18.799Z".parse().ok());
    }
}
