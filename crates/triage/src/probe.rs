//! Probes: connection attempts from outside that internal hosts never
//! accepted (Zeek `S0`/`REJ`, flows the server reset or never answered),
//! and web requests answered 4xx (paths that are not there, or not for
//! the asker). One `probe` detection per source, naming how many attempts
//! it made to how many ports and hosts (or paths); triage then calls it
//! reconnaissance, noise unless the source does more.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use gsoc_event::{
    Detection, DetectionKind, EventFacts, Fields, Level, LogSource, RuleInfo, Source, Text, Value,
};
use jiff::Timestamp;
use rustc_hash::FxHashMap;

use crate::capped::entry_within;
use crate::flow::{Flow, Networks, WebRequest};

/// The most ports and hosts listed per source.
const LISTED: usize = 16;

/// What one source did.
#[derive(Debug)]
struct Prober {
    attempts: u64,
    first: i64,
    ports: BTreeSet<u16>,
    targets: BTreeSet<IpAddr>,
    record: Source,
}

/// What one web client did that the server refused.
#[derive(Debug)]
struct WebProber {
    errors: u64,
    first: i64,
    statuses: BTreeMap<u16, u64>,
    paths: BTreeSet<String>,
    record: Source,
}

/// Collects unanswered inbound attempts and refused web requests, by
/// source.
#[derive(Debug)]
pub struct ProbeFinder {
    networks: Networks,
    min_attempts: u64,
    min_web_errors: usize,
    max_sources: usize,
    sources: FxHashMap<IpAddr, Prober>,
    web: FxHashMap<IpAddr, WebProber>,
    overflow: u64,
}

impl ProbeFinder {
    /// A finder for attempts on these networks; a source is reported once
    /// it made `min_attempts`, or asked for `min_web_errors` different
    /// paths answered 4xx. At most `max_sources` sources are kept of each.
    pub fn new(
        networks: Networks,
        (min_attempts, min_web_errors): (u32, u32),
        max_sources: usize,
    ) -> Self {
        ProbeFinder {
            networks,
            min_attempts: u64::from(min_attempts.max(1)),
            min_web_errors: min_web_errors.max(1) as usize,
            max_sources,
            sources: FxHashMap::default(),
            web: FxHashMap::default(),
            overflow: 0,
        }
    }

    /// Takes one web request: counted when answered 4xx.
    pub fn add_request(&mut self, request: &WebRequest) {
        if !(400..500).contains(&request.status) {
            return;
        }
        let room = (self.max_sources, &mut self.overflow);
        let Some(prober) = entry_within(&mut self.web, request.source, room, || WebProber {
            errors: 0,
            first: request.time,
            statuses: BTreeMap::new(),
            paths: BTreeSet::new(),
            record: request.record.clone(),
        }) else {
            return;
        };
        prober.errors += 1;
        prober.first = prober.first.min(request.time);
        *prober.statuses.entry(request.status).or_default() += 1;
        if prober.paths.len() < LISTED.max(self.min_web_errors) {
            prober.paths.insert(request.path.clone());
        }
    }

    /// Sources not kept because `max_sources` were held.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// Takes one flow: counted when it came from outside to an internal
    /// host and was never answered.
    pub fn add(&mut self, flow: &Flow) {
        let Some(target) = flow.target else { return };
        if flow.answered != Some(false)
            || !self.networks.is_external(flow.source)
            || !self.networks.is_internal(target)
        {
            return;
        }
        let room = (self.max_sources, &mut self.overflow);
        let Some(prober) = entry_within(&mut self.sources, flow.source, room, || Prober {
            attempts: 0,
            first: flow.time,
            ports: BTreeSet::new(),
            targets: BTreeSet::new(),
            record: flow.record.clone(),
        }) else {
            return;
        };
        prober.attempts += 1;
        prober.first = prober.first.min(flow.time);
        if let Some(port) = flow.port
            && prober.ports.len() < LISTED
        {
            prober.ports.insert(port);
        }
        if prober.targets.len() < LISTED {
            prober.targets.insert(target);
        }
    }

    /// One detection per source with enough attempts, in order of first
    /// attempt (network probes, then web probes).
    pub fn finish(self) -> Vec<Detection> {
        let min = self.min_attempts;
        let mut found: Vec<(IpAddr, Prober)> = self
            .sources
            .into_iter()
            .filter(|(_, p)| p.attempts >= min)
            .collect();
        found.sort_by_key(|(ip, p)| (p.first, *ip));
        let min_paths = self.min_web_errors;
        let mut web: Vec<(IpAddr, WebProber)> = self
            .web
            .into_iter()
            .filter(|(_, p)| p.paths.len() >= min_paths)
            .collect();
        web.sort_by_key(|(ip, p)| (p.first, *ip));
        let network = found.into_iter().map(|(ip, p)| detection(ip, p));
        network
            .chain(web.into_iter().map(|(ip, p)| web_detection(ip, p)))
            .collect()
    }
}

fn list<T: ToString>(items: impl Iterator<Item = T>) -> Value {
    Value::List(
        items
            .map(|i| Value::Str(Text::from(i.to_string())))
            .collect(),
    )
}

fn rule(id: String, title: String) -> Arc<RuleInfo> {
    Arc::new(RuleInfo {
        id,
        title,
        level: Level::Low,
        author: "gsoc".to_owned(),
        tags: vec![
            "attack.reconnaissance".to_owned(),
            "attack.t1595".to_owned(),
        ],
        status: String::new(),
        path: String::new(),
    })
}

fn web_detection(source: IpAddr, prober: WebProber) -> Detection {
    let statuses: Vec<String> = prober
        .statuses
        .iter()
        .map(|(status, n)| format!("{status} ×{n}"))
        .collect();
    let title = format!(
        "Web probing from {source}: {} requests answered 4xx ({})",
        prober.errors,
        statuses.join(", ")
    );
    let mut fields = Fields::new();
    fields.push("source", Value::Str(Text::from(source.to_string())));
    fields.push("requests", Value::Int(prober.errors as i64));
    fields.push("paths", list(prober.paths.iter()));
    let facts = EventFacts {
        src_ip: Some(source),
        http_status: prober.statuses.keys().next().copied(),
        logsource: LogSource::default().with_category("webserver"),
        ..EventFacts::default()
    };
    let id = format!("probe:web:{source}");
    probe(
        rule(id, title),
        (prober.first, prober.record),
        fields,
        facts,
    )
}

/// A probe detection: its rule, its first attempt's time and record, its
/// fields and facts.
fn probe(
    rule: Arc<RuleInfo>,
    (first, record): (i64, Source),
    fields: Fields,
    facts: EventFacts,
) -> Detection {
    Detection {
        event_time: Timestamp::from_millisecond(first).ok(),
        facts: Some(Arc::new(facts)),
        ..Detection::new(DetectionKind::Probe, rule, record, fields)
    }
}

fn detection(source: IpAddr, prober: Prober) -> Detection {
    let title = format!(
        "Unanswered probes from {source}: {} attempts on {} ports of {} hosts",
        prober.attempts,
        prober.ports.len(),
        prober.targets.len()
    );
    let mut fields = Fields::new();
    fields.push("source", Value::Str(Text::from(source.to_string())));
    fields.push("attempts", Value::Int(prober.attempts as i64));
    fields.push("ports", list(prober.ports.iter()));
    fields.push("targets", list(prober.targets.iter()));
    if let Ok(first) = Timestamp::from_millisecond(prober.first) {
        fields.push("first_time", Value::Str(Text::from(first.to_string())));
    }
    let facts = EventFacts {
        src_ip: Some(source),
        dst_ip: prober.targets.iter().next().copied(),
        answered: Some(false),
        logsource: LogSource::default().with_category("network_connection"),
        ..EventFacts::default()
    };
    let id = format!("probe:{source}");
    probe(
        rule(id, title),
        (prober.first, prober.record),
        fields,
        facts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    fn attempt(source: &str, target: &str, port: u16, answered: bool) -> Flow {
        Flow {
            source: source.parse().unwrap(),
            target: Some(target.parse().unwrap()),
            port: Some(port),
            host: None,
            time: 1_000,
            answered: Some(answered),
            record: Source {
                file: "conn.log".into(),
                record: 1,
            },
        }
    }

    #[test]
    fn unanswered_inbound_attempts_make_one_probe_per_source() {
        let mut finder = ProbeFinder::new(Policy::default().internal, (2, 3), 10);
        finder.add(&attempt("203.0.113.5", "192.168.1.10", 23, false));
        finder.add(&attempt("203.0.113.5", "192.168.1.11", 445, false));
        finder.add(&attempt("203.0.113.6", "192.168.1.10", 22, false));
        finder.add(&attempt("203.0.113.7", "192.168.1.10", 443, true));
        finder.add(&attempt("192.168.1.10", "203.0.113.8", 443, false));
        let found = finder.finish();
        assert_eq!(found.len(), 1, "one source made two attempts: {found:?}");
        assert_eq!(found[0].fields.get("attempts"), Some(&Value::Int(2)));
        assert!(found[0].rule.title.contains("2 ports of 2 hosts"));
    }

    #[test]
    fn clients_refused_on_enough_paths_are_web_probers() {
        let mut finder = ProbeFinder::new(Policy::default().internal, (1, 3), 10);
        let request = |source: &str, path: &str, status: u16| WebRequest {
            source: source.parse().unwrap(),
            status,
            path: path.into(),
            time: 5_000,
            record: Source {
                file: "access.log".into(),
                record: 1,
            },
        };
        for path in ["/.env", "/.git/config", "/wp-login.php"] {
            finder.add_request(&request("198.51.100.7", path, 404));
            finder.add_request(&request("198.51.100.8", path, 200));
        }
        finder.add_request(&request("198.51.100.9", "/favicon.ico", 404));
        finder.add_request(&request("198.51.100.9", "/favicon.ico", 404));
        finder.add_request(&request("198.51.100.9", "/favicon.ico", 404));
        let found = finder.finish();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule.id, "probe:web:198.51.100.7");
        assert!(found[0].rule.title.contains("404 ×3"));
    }
}
