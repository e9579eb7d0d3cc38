use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;

use crate::{Event, Level, LogSource, Text, Value};

/// How a logon recorded by an event ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logon {
    /// Windows 4624, sshd `Accepted …`.
    Success,
    /// Windows 4625 and 4771, 4776 with a non-zero status, sshd `Failed …`
    /// or `Invalid user …`.
    Failure,
}

/// What the event behind a detection says about the outcome of the
/// activity: the facts triage reads to tell noise from what needs
/// vigilance. Taken once per event that has detections.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFacts {
    /// Where it came from.
    pub src_ip: Option<IpAddr>,
    /// Where it went.
    pub dst_ip: Option<IpAddr>,
    /// The destination port.
    pub dst_port: Option<u16>,
    /// The user it names (the target user for logons).
    pub user: Option<Text>,
    /// The HTTP status the server answered.
    pub http_status: Option<u16>,
    /// What the sensor did (`allowed`, `blocked`, `deny`, `TCP_DENIED`, …).
    pub disposition: Option<Text>,
    /// Whether the connection was established: `false` for Zeek
    /// `S0`/`REJ`, EVE flows the server reset or never answered.
    pub answered: Option<bool>,
    /// The sensor's class of the alert (Suricata's classtype description).
    pub classtype: Option<Text>,
    /// The outcome of a logon.
    pub logon: Option<Logon>,
    /// The event's log source (`windows`, `zeek`/`conn`, category `email`, …).
    pub logsource: LogSource,
}

impl EventFacts {
    /// The facts an event records.
    pub fn of(event: &Event) -> Self {
        let text = |name: &str| {
            event
                .normalized(name)
                .and_then(Value::as_str)
                .map(Text::from)
        };
        EventFacts {
            user: text("user.name").or_else(|| text("actor.user.name")),
            disposition: text("disposition")
                .or_else(|| squid_result(event))
                .or_else(|| generic_action(event)),
            classtype: text("finding.types"),
            logon: Logon::of(event),
            logsource: event.logsource.clone(),
            ..EventFacts::network(event)
        }
    }

    /// Only the network facts: addresses, destination port, HTTP status
    /// and whether the connection was established. What the flow and web
    /// request finders read from every connection record and web log line.
    pub fn network(event: &Event) -> Self {
        let ip = |name: &str| {
            event
                .normalized(name)
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok())
        };
        let number = |name: &str| event.normalized(name).and_then(Value::as_i64);
        EventFacts {
            src_ip: ip("src_endpoint.ip"),
            dst_ip: ip("dst_endpoint.ip"),
            dst_port: number("dst_endpoint.port").and_then(|p| u16::try_from(p).ok()),
            http_status: number("http_response.code").and_then(|c| u16::try_from(c).ok()),
            answered: answered(event),
            ..EventFacts::default()
        }
    }
}

/// A Squid result code (`TCP_DENIED/403`) names what the proxy did.
fn squid_result(event: &Event) -> Option<Text> {
    let code = event.fields.get_str("result_code")?;
    Some(Text::from(code.split('/').next().unwrap_or(code)))
}

/// The action a firewall or other JSON log names (ECS `event.action`, or
/// a plain `action`), for logs no decoder maps.
fn generic_action(event: &Event) -> Option<Text> {
    ["event.action", "action"]
        .iter()
        .find_map(|name| event.fields.get_str(name))
        .map(Text::from)
}

/// Whether a connection record's connection was established.
fn answered(event: &Event) -> Option<bool> {
    if let Some(state) = event.fields.get_str("conn_state") {
        return match state {
            "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR" => Some(false),
            "OTH" => event
                .fields
                .get("resp_pkts")
                .and_then(Value::as_i64)
                .map(|p| p > 0),
            _ => Some(true),
        };
    }
    if let Some(flags) = event.fields.get_str("tcp.tcp_flags_tc") {
        // Suricata's TCP flags from the server, in hex: without SYN (0x02)
        // the server never accepted (a reset is an answer, not a session).
        return u8::from_str_radix(flags, 16).ok().map(|f| f & 0x02 != 0);
    }
    event
        .fields
        .get("flow.pkts_toclient")
        .and_then(Value::as_i64)
        .map(|p| p > 0)
}

impl Logon {
    /// How a logon the event records ended, for Windows security events
    /// and sshd; `None` when it records no logon.
    pub fn of(event: &Event) -> Option<Logon> {
        if let Some(id) = event.fields.get("EventID").and_then(Value::as_i64) {
            return match id {
                4624 => Some(Logon::Success),
                4625 | 4771 => Some(Logon::Failure),
                4776 => match event.fields.get_str("Status") {
                    Some("0x0") | Some("0") | None => None,
                    Some(_) => Some(Logon::Failure),
                },
                _ => None,
            };
        }
        let message = event.fields.get_str("message")?;
        if message.starts_with("Accepted ") {
            Some(Logon::Success)
        } else if message.starts_with("Failed ")
            || message.starts_with("Invalid user ")
            || message.contains("authentication failure")
        {
            Some(Logon::Failure)
        } else {
            None
        }
    }
}

/// Whether an alert needs vigilance or is noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// An event requiring continued vigilance.
    Vigilance,
    /// Kept and counted, but not needing action.
    Noise,
}

impl Verdict {
    /// `vigilance` or `noise`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Vigilance => "vigilance",
            Verdict::Noise => "noise",
        }
    }
}

/// Why an alert got its verdict: a stable code and a sentence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// Machine-readable: `blocked`, `failed`, `not-affected`,
    /// `reconnaissance`, `duplicate`, `suppressed` for noise; `attack`,
    /// `succeeded`, `followed-up`, `logon-succeeded`, `infection` for
    /// vigilance.
    pub code: &'static str,
    /// The reason in the reader's language.
    pub text: String,
}

/// What triage concluded about a detection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    /// The category code (`malware-infection`, `targeted-attack`, …).
    pub category: &'static str,
    /// Vigilance or noise.
    pub verdict: Verdict,
    /// Why.
    pub reason: Reason,
    /// How urgent.
    pub severity: Level,
    /// How many later alerts were folded into this one as duplicates.
    pub duplicates: u64,
    /// The time of the last duplicate.
    pub last_seen: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn facts_say_how_the_activity_ended() {
        let mut flow = Event::new(Format::ZeekTsv, "conn.log", 1, "");
        flow.fields.push("conn_state", Value::from("S0"));
        assert_eq!(EventFacts::of(&flow).answered, Some(false));
        flow.fields.set("conn_state", Value::from("SF"));
        assert_eq!(EventFacts::of(&flow).answered, Some(true));

        let mut eve = Event::new(Format::Eve, "eve.json", 1, "");
        eve.fields.push("tcp.tcp_flags_tc", Value::from("14"));
        assert_eq!(
            EventFacts::of(&eve).answered,
            Some(false),
            "reset, no SYN back"
        );
        eve.fields.set("tcp.tcp_flags_tc", Value::from("12"));
        assert_eq!(EventFacts::of(&eve).answered, Some(true));

        let mut firewall = Event::new(Format::Json, "fw.json", 1, "");
        firewall.fields.push("event.action", Value::from("deny"));
        assert_eq!(
            EventFacts::of(&firewall).disposition.as_deref(),
            Some("deny")
        );

        let mut logon = Event::new(Format::WinJson, "sec.json", 1, "");
        logon.fields.push("EventID", Value::Int(4625));
        assert_eq!(EventFacts::of(&logon).logon, Some(Logon::Failure));
        let mut sshd = Event::new(Format::Syslog, "auth.log", 1, "");
        sshd.fields.push(
            "message",
            Value::from("Accepted password for alice from 10.0.0.2"),
        );
        assert_eq!(EventFacts::of(&sshd).logon, Some(Logon::Success));
    }
}
