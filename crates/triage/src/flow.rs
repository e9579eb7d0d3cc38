//! Connection records (Zeek `conn`, Suricata EVE `flow`, proxy access
//! logs) as flows, and the networks that tell inside from outside.

use std::net::IpAddr;

use gsoc_event::{Event, EventFacts, Source, Value};
use ipnet::IpNet;

/// One connection a log records.
#[derive(Clone, Debug)]
pub struct Flow {
    /// Who opened it.
    pub source: IpAddr,
    /// The address it went to, when the log has it.
    pub target: Option<IpAddr>,
    /// The destination port.
    pub port: Option<u16>,
    /// The destination host name, when the log has one (proxy logs).
    pub host: Option<String>,
    /// When, in milliseconds since the epoch.
    pub time: i64,
    /// Whether it got an answer.
    pub answered: Option<bool>,
    /// The record it came from.
    pub record: Source,
}

impl Flow {
    /// The destination: the host name when the log has one, else the
    /// address.
    pub fn destination(&self) -> String {
        match (&self.host, self.target) {
            (Some(host), _) => host.clone(),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// The flow an event records, when it is a connection record with a time
/// and addresses: Zeek `conn`, EVE `flow`, or a proxy log line (log source
/// category `proxy`, or an access-log request for an absolute URL).
pub fn flow(event: &Event) -> Option<Flow> {
    let logsource = &event.logsource;
    let service = logsource.service.as_deref();
    let proxy = logsource.category.as_deref() == Some("proxy") || is_proxy_request(event);
    if !matches!(service, Some("conn") | Some("flow")) && !proxy {
        return None;
    }
    let time = event.time?.as_millisecond();
    let facts = EventFacts::network(event);
    let host = event
        .normalized("dst_endpoint.hostname")
        .or_else(|| {
            proxy
                .then(|| event.normalized("http_request.url.hostname"))
                .flatten()
        })
        .and_then(Value::as_str)
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .or_else(|| proxy.then(|| proxied_host(event)).flatten());
    Some(Flow {
        source: facts.src_ip?,
        target: facts.dst_ip,
        port: facts.dst_port,
        host,
        time,
        answered: facts.answered,
        record: event.source.clone(),
    })
}

/// One request a web server answered.
#[derive(Clone, Debug)]
pub struct WebRequest {
    /// The client.
    pub source: IpAddr,
    /// The HTTP status.
    pub status: u16,
    /// What was asked for: the path with its query.
    pub path: String,
    /// When, in milliseconds since the epoch.
    pub time: i64,
    /// The record it came from.
    pub record: Source,
}

/// The request a web server log line records (log source category
/// `webserver`, not a proxied request), when it has a client and a status.
pub fn web_request(event: &Event) -> Option<WebRequest> {
    if event.logsource.category.as_deref() != Some("webserver") || is_proxy_request(event) {
        return None;
    }
    let facts = EventFacts::network(event);
    let path = event
        .normalized("http_request.url.path")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(WebRequest {
        source: facts.src_ip?,
        status: facts.http_status?,
        path: path.to_owned(),
        time: event.time?.as_millisecond(),
        record: event.source.clone(),
    })
}

/// An access-log line whose request names an absolute URL, the way
/// clients talk to a forward proxy (`GET http://host/path`, `CONNECT
/// host:443`).
fn is_proxy_request(event: &Event) -> bool {
    let method = event.fields.get_str("cs-method");
    let uri = event.fields.get_str("cs-uri").unwrap_or("");
    method == Some("CONNECT") || uri.starts_with("http://") || uri.starts_with("https://")
}

/// The host of a proxied request's URL.
fn proxied_host(event: &Event) -> Option<String> {
    let uri = event.fields.get_str("cs-uri")?;
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
        .unwrap_or(uri);
    let authority = rest.split(['/', '?']).next()?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The networks that are the organisation's own.
#[derive(Clone, Debug)]
pub struct Networks {
    internal: Vec<IpNet>,
}

impl Networks {
    /// These networks as internal.
    pub fn new(internal: Vec<IpNet>) -> Self {
        Networks { internal }
    }

    /// Whether an address is internal.
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        self.internal.iter().any(|n| n.contains(&ip))
    }

    /// A unicast address outside the internal networks (not multicast,
    /// broadcast or unspecified).
    pub fn is_external(&self, ip: IpAddr) -> bool {
        let special = match ip {
            IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified(),
            IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
        };
        !special && !self.is_internal(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;
    use gsoc_event::{Format, LogSource};

    #[test]
    fn inside_and_outside_follow_the_policy() {
        let networks = Policy::default().internal;
        assert!(networks.is_internal("192.168.1.4".parse().unwrap()));
        assert!(networks.is_external("8.8.8.8".parse().unwrap()));
        assert!(!networks.is_external("239.255.255.250".parse().unwrap()));
        assert!(!networks.is_external("255.255.255.255".parse().unwrap()));
        assert!(!networks.is_external("fd00::1".parse().unwrap()));
    }

    #[test]
    fn proxy_requests_are_flows_to_their_host() {
        let mut event = Event::new(Format::AccessLog, "proxy.log", 1, "");
        event.time = Some("2024-01-01T00:00:00Z".parse().unwrap());
        event.logsource = LogSource::default().with_category("webserver");
        event.normalization = &[("src_endpoint.ip", &["c-ip"])];
        event.fields.push("c-ip", Value::from("10.1.1.1"));
        event.fields.push("cs-method", Value::from("GET"));
        event
            .fields
            .push("cs-uri", Value::from("http://Evil.example:8080/gate.php"));
        let found = flow(&event).expect("a proxied request is a flow");
        assert_eq!(found.destination(), "evil.example");
        event.fields.set("cs-uri", Value::from("/index.html"));
        assert!(flow(&event).is_none(), "a plain request is not a flow");
    }
}
