//! Finding indicators in events: an index built once, looked up for every
//! value an event carries.
//!
//! Addresses are looked up in hash maps and networks in a prefix trie
//! (every network that covers the address, not a scan); domain names as
//! themselves and each parent; everything else (URLs, e-mail addresses,
//! hashes, JA3, user agents) in one hash table per type. The index keeps
//! only what a detection needs, so a million indicators take little memory,
//! and indicators that share a source and labels share them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Arc;

use gsoc_event::{
    Detection, DetectionKind, Event, Fields, IndicatorInfo, Level, Normalization, RuleInfo, Value,
};
use hashbrown::HashTable;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use jiff::Timestamp;
use prefix_trie::PrefixMap;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::model::{Indicator, Kind, Observable, Role, Term, Tlp, derived_id};
use crate::normalize;

/// The end of a posting chain.
const END: u32 = u32::MAX;

/// The kinds looked up in a hash table of their own.
const TEXT_KINDS: [Kind; 10] = [
    Kind::Domain,
    Kind::Url,
    Kind::Email,
    Kind::Md5,
    Kind::Sha1,
    Kind::Sha256,
    Kind::Sha512,
    Kind::Imphash,
    Kind::Ja3,
    Kind::UserAgent,
];

fn text_slot(kind: Kind) -> Option<usize> {
    TEXT_KINDS.iter().position(|k| *k == kind)
}

/// What many indicators share: their source and what they are about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Context {
    source: Arc<str>,
    labels: Vec<String>,
    attack: Vec<String>,
    malware: Vec<String>,
    actors: Vec<String>,
}

/// One indicator, as much as a detection needs.
#[derive(Debug)]
struct Entry {
    /// `None` when the id is the one derived from source, type and value.
    id: Option<Box<str>>,
    kind: Kind,
    value: Box<str>,
    terms: Option<Box<[Term]>>,
    context: u32,
    confidence: Option<u8>,
    tlp: Option<Tlp>,
    valid_until: Option<Timestamp>,
    name: Option<Box<str>>,
}

/// Where one observable of one indicator's term is found in the index.
#[derive(Clone, Copy, Debug)]
struct Posting {
    entry: u32,
    term: u16,
    observable: u16,
    /// The next posting with the same key.
    next: u32,
}

/// Builds a [`Matcher`], one indicator at a time.
#[derive(Debug, Default)]
pub struct MatcherBuilder {
    matcher: Matcher,
    contexts: HashMap<Context, u32>,
}

impl MatcherBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an indicator. Indicators not meant for detection are left out;
    /// returns whether it was added.
    pub fn add(&mut self, indicator: Indicator) -> bool {
        if !indicator.detect {
            return false;
        }
        let context = self.context(&indicator);
        let m = &mut self.matcher;
        let entry = u32::try_from(m.entries.len()).expect("fewer than 4 billion indicators");
        let derived = indicator.terms.is_empty()
            && indicator.id == derived_id(&indicator.source, indicator.kind, &indicator.value);
        let terms = (!indicator.terms.is_empty()).then(|| indicator.terms.into_boxed_slice());
        m.entries.push(Entry {
            id: (!derived).then(|| indicator.id.into_boxed_str()),
            kind: indicator.kind,
            value: indicator.value.into_boxed_str(),
            terms,
            context,
            confidence: indicator.confidence,
            tlp: indicator.tlp,
            valid_until: indicator.valid_until,
            name: indicator.name.map(String::into_boxed_str),
        });
        let anchors: Vec<(u16, u16)> = match &m.entries[entry as usize].terms {
            None => vec![(0, 0)],
            Some(terms) => terms
                .iter()
                .enumerate()
                .filter_map(|(t, term)| Some((t as u16, anchor(term)? as u16)))
                .collect(),
        };
        for (term, observable) in anchors {
            m.insert(Posting {
                entry,
                term,
                observable,
                next: END,
            });
        }
        true
    }

    fn context(&mut self, indicator: &Indicator) -> u32 {
        let context = Context {
            source: Arc::clone(&indicator.source),
            labels: indicator.labels.clone(),
            attack: indicator.attack.clone(),
            malware: indicator.malware.clone(),
            actors: indicator.actors.clone(),
        };
        let next = self.matcher.contexts.len() as u32;
        *self.contexts.entry(context.clone()).or_insert_with(|| {
            self.matcher.contexts.push(context);
            next
        })
    }

    /// The finished matcher.
    pub fn build(self) -> Matcher {
        self.matcher
    }
}

/// The observable of a term to look events up by: the most selective
/// kind that can be found alone.
fn anchor(term: &Term) -> Option<usize> {
    let rank = |kind: Kind| match kind {
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 | Kind::Imphash => 0,
        Kind::Url => 1,
        Kind::Email => 2,
        Kind::Domain => 3,
        Kind::Ja3 => 4,
        Kind::Ipv4 | Kind::Ipv6 => 5,
        Kind::Cidr => 6,
        _ => 7,
    };
    term.iter()
        .enumerate()
        .filter(|(_, o)| o.kind.is_anchor())
        .min_by_key(|(_, o)| rank(o.kind))
        .map(|(i, _)| i)
}

/// Indicators indexed for lookup. Cheap to share between threads.
#[derive(Debug, Default)]
pub struct Matcher {
    entries: Vec<Entry>,
    contexts: Vec<Context>,
    postings: Vec<Posting>,
    v4: FxHashMap<u32, u32>,
    v6: FxHashMap<u128, u32>,
    v4_nets: PrefixMap<Ipv4Net, u32>,
    v6_nets: PrefixMap<Ipv6Net, u32>,
    text: [HashTable<u32>; TEXT_KINDS.len()],
}

fn hash(text: &str) -> u64 {
    FxBuildHasher.hash_one(text)
}

impl Matcher {
    /// How many indicators it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no indicator.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn observable(&self, posting: &Posting) -> (Kind, Role, &str) {
        let entry = &self.entries[posting.entry as usize];
        match &entry.terms {
            None => (entry.kind, Role::Any, &entry.value),
            Some(terms) => {
                let o = &terms[posting.term as usize][posting.observable as usize];
                (o.kind, o.role, &o.value)
            }
        }
    }

    fn insert(&mut self, mut posting: Posting) {
        let index = self.postings.len() as u32;
        let (kind, _, value) = self.observable(&posting);
        let value = value.to_owned();
        let head = match kind {
            Kind::Ipv4 | Kind::Ipv6 => match value.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => Some(self.v4.insert(u32::from(ip), index)),
                Ok(IpAddr::V6(ip)) => Some(self.v6.insert(u128::from(ip), index)),
                Err(_) => None,
            },
            Kind::Cidr => match value.parse::<IpNet>() {
                Ok(IpNet::V4(net)) => Some(self.v4_nets.insert(net, index)),
                Ok(IpNet::V6(net)) => Some(self.v6_nets.insert(net, index)),
                Err(_) => None,
            },
            kind => text_slot(kind).map(|slot| self.insert_text(slot, &value, index)),
        };
        let Some(previous) = head else { return };
        posting.next = previous.unwrap_or(END);
        self.postings.push(posting);
    }

    /// Makes `index` the head of the chain for `value`; returns the old
    /// head.
    fn insert_text(&mut self, slot: usize, value: &str, index: u32) -> Option<u32> {
        let Matcher {
            entries,
            postings,
            text,
            ..
        } = self;
        let key_of = |p: u32| -> &str { posting_key(entries, &postings[p as usize]) };
        match text[slot].entry(hash(value), |&p| key_of(p) == value, |&p| hash(key_of(p))) {
            hashbrown::hash_table::Entry::Occupied(mut found) => {
                Some(std::mem::replace(found.get_mut(), index))
            }
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(index);
                None
            }
        }
    }

    /// Calls `visit` with each posting whose key is `value` (normalised).
    fn postings_for(&self, kind: Kind, value: &str, visit: &mut dyn FnMut(&Posting)) {
        let head = text_slot(kind).and_then(|slot| {
            self.text[slot]
                .find(hash(value), |&p| {
                    posting_key(&self.entries, &self.postings[p as usize]) == value
                })
                .copied()
        });
        self.walk(head, visit);
    }

    fn walk(&self, head: Option<u32>, visit: &mut dyn FnMut(&Posting)) {
        let mut next = head.unwrap_or(END);
        while next != END {
            let posting = &self.postings[next as usize];
            visit(posting);
            next = posting.next;
        }
    }

    fn postings_for_ip(&self, ip: IpAddr, visit: &mut dyn FnMut(&Posting)) {
        match ip {
            IpAddr::V4(v4) => {
                self.walk(self.v4.get(&u32::from(v4)).copied(), visit);
                if !self.v4_nets.is_empty() {
                    let host = Ipv4Net::new(v4, 32).expect("/32 is a valid prefix");
                    for head in self.v4_nets.cover_values(&host) {
                        self.walk(Some(*head), visit);
                    }
                }
            }
            IpAddr::V6(v6) => {
                self.walk(self.v6.get(&u128::from(v6)).copied(), visit);
                if !self.v6_nets.is_empty() {
                    let host = Ipv6Net::new(v6, 128).expect("/128 is a valid prefix");
                    for head in self.v6_nets.cover_values(&host) {
                        self.walk(Some(*head), visit);
                    }
                }
            }
        }
    }

    /// Calls `visit` with each posting for a domain and each of its
    /// parents.
    fn postings_for_domain(&self, name: &str, visit: &mut dyn FnMut(&Posting)) {
        let mut rest = name;
        loop {
            self.postings_for(Kind::Domain, rest, visit);
            match rest.find('.') {
                Some(dot) if rest[dot + 1..].contains('.') => rest = &rest[dot + 1..],
                _ => return,
            }
        }
    }

    /// Looks a value up the way events are: an address also in the
    /// networks that cover it, a domain also by its parents. Calls `found`
    /// with the id of every indicator meant for detection that it hits
    /// (without checking the other conditions of multi-part indicators or
    /// their validity). The value is normalised first.
    pub fn lookup(&self, kind: Kind, value: &str, found: &mut dyn FnMut(&str)) {
        let mut visit = |p: &Posting| found(&self.id(p.entry));
        match kind {
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => {
                if let Some(ip) = parse_ip(value) {
                    self.postings_for_ip(ip, &mut visit);
                }
            }
            Kind::Domain => {
                if let Some(name) = lower(value) {
                    self.postings_for_domain(name.trim_end_matches('.'), &mut visit);
                }
            }
            kind => {
                if let Ok(key) = normalize::value(kind, value) {
                    self.postings_for(kind, &key, &mut visit);
                }
            }
        }
    }

    /// The id of an entry.
    fn id(&self, entry: u32) -> Cow<'_, str> {
        let e = &self.entries[entry as usize];
        match &e.id {
            Some(id) => Cow::Borrowed(id),
            None => Cow::Owned(derived_id(
                &self.contexts[e.context as usize].source,
                e.kind,
                &e.value,
            )),
        }
    }

    /// A session for matching events on one thread.
    pub fn session(&self) -> Session<'_> {
        Session {
            matcher: self,
            plans: Vec::new(),
            described: FxHashMap::default(),
            now: Timestamp::now(),
        }
    }
}

fn posting_key<'a>(entries: &'a [Entry], posting: &Posting) -> &'a str {
    let entry = &entries[posting.entry as usize];
    match &entry.terms {
        None => &entry.value,
        Some(terms) => &terms[posting.term as usize][posting.observable as usize].value,
    }
}

/// A value in lower case, borrowed when it already is.
fn lower(text: &str) -> Option<Cow<'_, str>> {
    let text = text.trim();
    if text.is_empty() {
        None
    } else if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(text.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(text))
    }
}

/// An address from a log field: brackets and IPv4-mapped IPv6 undone.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_hexdigit() || first == b':') {
        return None;
    }
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        ip => Some(ip),
    }
}

/// What an event field holds, for indicators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Probe {
    /// An IP address.
    Ip,
    /// A port.
    Port,
    /// A host name or an address.
    Host,
    /// The host of an HTTP request (also part of its URL).
    UrlHost,
    /// The path (or whole URL) of an HTTP request.
    UrlPath,
    /// A whole URL.
    UrlFull,
    /// An e-mail address.
    Email,
    /// A hash of one kind.
    Hash(Kind),
    /// Sysmon's `SHA1=…,MD5=…,SHA256=…,IMPHASH=…`.
    HashList,
    /// A JA3 fingerprint.
    Ja3,
    /// A user agent.
    UserAgent,
    /// A file path or name; its last component is compared.
    FilePath,
}

/// Which OCSF-style names carry what, in the decoders' normalisation
/// tables.
const PROBES: &[(&str, Probe, Role)] = &[
    ("src_endpoint.ip", Probe::Ip, Role::Source),
    ("dst_endpoint.ip", Probe::Ip, Role::Destination),
    ("src_endpoint.port", Probe::Port, Role::Source),
    ("dst_endpoint.port", Probe::Port, Role::Destination),
    ("src_endpoint.hostname", Probe::Host, Role::Source),
    ("dst_endpoint.hostname", Probe::Host, Role::Destination),
    ("query.hostname", Probe::Host, Role::Any),
    ("answers.rdata", Probe::Host, Role::Resolved),
    (
        "http_request.url.hostname",
        Probe::UrlHost,
        Role::Destination,
    ),
    ("http_request.url.path", Probe::UrlPath, Role::Any),
    ("http_request.user_agent", Probe::UserAgent, Role::Any),
    ("tls.sni", Probe::Host, Role::Any),
    ("tls.ja3.hash", Probe::Ja3, Role::Any),
    ("file.hashes.md5", Probe::Hash(Kind::Md5), Role::Any),
    ("file.hashes.sha1", Probe::Hash(Kind::Sha1), Role::Any),
    ("file.hashes.sha256", Probe::Hash(Kind::Sha256), Role::Any),
    ("file.hashes", Probe::HashList, Role::Any),
    ("file.name", Probe::FilePath, Role::Any),
    ("file.path", Probe::FilePath, Role::Any),
    ("process.file.path", Probe::FilePath, Role::Any),
    ("email.from", Probe::Email, Role::Sender),
    ("email.to", Probe::Email, Role::Recipient),
];

/// Elastic Common Schema names, for JSON logs no decoder knows.
const ECS_PROBES: &[(&str, Probe, Role)] = &[
    ("source.ip", Probe::Ip, Role::Source),
    ("client.ip", Probe::Ip, Role::Source),
    ("sourceIPAddress", Probe::Ip, Role::Source),
    ("destination.ip", Probe::Ip, Role::Destination),
    ("server.ip", Probe::Ip, Role::Destination),
    ("source.port", Probe::Port, Role::Source),
    ("destination.port", Probe::Port, Role::Destination),
    ("destination.domain", Probe::Host, Role::Destination),
    ("dns.question.name", Probe::Host, Role::Any),
    ("dns.resolved_ip", Probe::Ip, Role::Resolved),
    ("url.domain", Probe::UrlHost, Role::Destination),
    ("url.original", Probe::UrlFull, Role::Any),
    ("url.full", Probe::UrlFull, Role::Any),
    ("user_agent.original", Probe::UserAgent, Role::Any),
    ("tls.client.ja3", Probe::Ja3, Role::Any),
    ("tls.client.server_name", Probe::Host, Role::Any),
    ("file.hash.md5", Probe::Hash(Kind::Md5), Role::Any),
    ("file.hash.sha1", Probe::Hash(Kind::Sha1), Role::Any),
    ("file.hash.sha256", Probe::Hash(Kind::Sha256), Role::Any),
    ("email.from.address", Probe::Email, Role::Sender),
    ("email.to.address", Probe::Email, Role::Recipient),
];

/// The fields to read for one normalisation table.
type Plan = Vec<(Probe, Role, &'static str)>;

fn plan_for(table: Normalization) -> Plan {
    if table.is_empty() {
        return ECS_PROBES.iter().map(|&(n, p, r)| (p, r, n)).collect();
    }
    let mut plan = Plan::new();
    for &(name, sources) in table {
        if let Some(&(_, probe, role)) = PROBES.iter().find(|(n, _, _)| *n == name) {
            plan.extend(sources.iter().map(|field| (probe, role, *field)));
        }
    }
    plan
}

/// A value an event carries, normalised for lookup.
#[derive(Debug)]
struct Observation<'e> {
    kind: Kind,
    role: Role,
    field: &'static str,
    value: Cow<'e, str>,
    ip: Option<IpAddr>,
}

/// Matching on one thread: caches what each log format's fields mean and
/// what each indicator's detections say.
#[derive(Debug)]
pub struct Session<'m> {
    matcher: &'m Matcher,
    plans: Vec<(usize, Plan)>,
    described: FxHashMap<u32, (Arc<RuleInfo>, Arc<IndicatorInfo>)>,
    now: Timestamp,
}

impl<'m> Session<'m> {
    /// Calls `emit` with one detection for each indicator meant for
    /// detection that the event matches: one of its terms holds (the
    /// anchor found, every other observable either equal to one the event
    /// carries or of a kind the event does not carry), and it had not
    /// expired at the event's time (or now, for events without one).
    pub fn detect(&mut self, event: &Event, emit: &mut dyn FnMut(Detection)) {
        if self.matcher.is_empty() {
            return;
        }
        let observations = self.observations(event);
        if observations.is_empty() {
            return;
        }
        let time = event.time.unwrap_or(self.now);
        let mut hits: Vec<(u32, usize)> = Vec::new();
        for (i, observation) in observations.iter().enumerate() {
            self.find(observation, &mut |posting| {
                if !hits.iter().any(|(e, _)| *e == posting.entry)
                    && self.holds(posting, observation, &observations, time)
                {
                    hits.push((posting.entry, i));
                }
            });
        }
        for (entry, i) in hits {
            let detection = self.detection(entry, &observations[i], &observations, event);
            emit(detection);
        }
    }

    fn find(&self, observation: &Observation<'_>, visit: &mut dyn FnMut(&Posting)) {
        let m = self.matcher;
        match (observation.kind, observation.ip) {
            (_, Some(ip)) => m.postings_for_ip(ip, visit),
            (Kind::Domain, _) => m.postings_for_domain(&observation.value, visit),
            (Kind::Url, _) => {
                m.postings_for(Kind::Url, &observation.value, visit);
                if let Some((without_query, _)) = observation.value.split_once('?') {
                    m.postings_for(Kind::Url, without_query, visit);
                }
            }
            (kind, _) if kind.is_anchor() => m.postings_for(kind, &observation.value, visit),
            _ => {}
        }
    }

    /// Whether the posting's term holds for the event.
    fn holds(
        &self,
        posting: &Posting,
        anchor: &Observation<'_>,
        observations: &[Observation<'_>],
        time: Timestamp,
    ) -> bool {
        let entry = &self.matcher.entries[posting.entry as usize];
        if entry.valid_until.is_some_and(|until| until <= time) {
            return false;
        }
        let Some(terms) = &entry.terms else {
            return true;
        };
        let term = &terms[posting.term as usize];
        if !term[posting.observable as usize].role.accepts(anchor.role) {
            return false;
        }
        term.iter()
            .enumerate()
            .filter(|(i, _)| *i != posting.observable as usize)
            .all(|(_, wanted)| satisfied(wanted, observations))
    }

    fn observations<'e>(&mut self, event: &'e Event) -> Vec<Observation<'e>> {
        let key = event.normalization.as_ptr() as usize;
        let index = match self.plans.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.plans.push((key, plan_for(event.normalization)));
                self.plans.len() - 1
            }
        };
        let plan = &self.plans[index].1;
        let mut out = Vec::new();
        let mut url_host: Option<&'e str> = None;
        let mut url_paths: Vec<(&'static str, &'e str)> = Vec::new();
        for &(probe, role, field) in plan {
            let Some(value) = event.fields.get(field) else {
                continue;
            };
            for_each_text(value, &mut |text| match (probe, text) {
                (Probe::UrlHost, Cow::Borrowed(text)) => {
                    url_host = Some(text);
                    observe_host(text, role, field, &mut out);
                }
                (Probe::UrlPath, Cow::Borrowed(text)) => url_paths.push((field, text)),
                (Probe::Port, text) => out.push(Observation {
                    kind: Kind::Port,
                    role,
                    field,
                    value: text,
                    ip: None,
                }),
                (probe, Cow::Borrowed(text)) => observe(probe, role, field, text, &mut out),
                (_, Cow::Owned(_)) => {}
            });
        }
        for (field, path) in url_paths {
            let url = if path.contains("://") {
                normalize::url_key(path)
            } else {
                url_host.and_then(|host| normalize::url_key(&format!("{host}{path}")))
            };
            if let Some(url) = url {
                out.push(Observation {
                    kind: Kind::Url,
                    role: Role::Any,
                    field,
                    value: Cow::Owned(url),
                    ip: None,
                });
            }
        }
        out
    }

    fn detection(
        &mut self,
        entry: u32,
        observation: &Observation<'_>,
        observations: &[Observation<'_>],
        event: &Event,
    ) -> Detection {
        let (rule, indicator) = self
            .described
            .entry(entry)
            .or_insert_with(|| describe(self.matcher, entry))
            .clone();
        let mut fields = Fields::new();
        for o in observations {
            let same = std::ptr::eq(o, observation)
                || (observation.kind == Kind::Url && o.kind == Kind::Domain);
            if same
                && !fields.contains(o.field)
                && let Some(value) = event.fields.get(o.field)
            {
                fields.push(o.field, value.clone());
            }
        }
        Detection {
            kind: DetectionKind::Indicator,
            rule,
            event_time: event.time,
            host: event.host().map(str::to_owned),
            source: event.source.clone(),
            fields,
            indicator: Some(indicator),
        }
    }
}

/// Whether an observable a term asks for holds in the event: a value of
/// its kind in an accepted role equals it, or the event carries no value
/// of its kind at all.
fn satisfied(wanted: &Observable, observations: &[Observation<'_>]) -> bool {
    let mut relevant = observations
        .iter()
        .filter(|o| same_family(wanted.kind, o.kind) && wanted.role.accepts(o.role))
        .peekable();
    if relevant.peek().is_none() {
        return true;
    }
    relevant.any(|o| equal(wanted, o))
}

fn same_family(wanted: Kind, found: Kind) -> bool {
    let ip = |k: Kind| matches!(k, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr);
    wanted == found || (ip(wanted) && ip(found))
}

fn equal(wanted: &Observable, found: &Observation<'_>) -> bool {
    match wanted.kind {
        Kind::Ipv4 | Kind::Ipv6 => found.ip == wanted.value.parse().ok(),
        Kind::Cidr => match (wanted.value.parse::<IpNet>(), found.ip) {
            (Ok(net), Some(ip)) => net.contains(&ip),
            _ => false,
        },
        Kind::Domain => {
            found.value == wanted.value
                || found
                    .value
                    .strip_suffix(wanted.value.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        }
        Kind::FileName => found.value.eq_ignore_ascii_case(&wanted.value),
        _ => found.value == wanted.value,
    }
}

/// Calls `f` with each text a field holds: a string, each string of a
/// list, a number (ports) as its decimal text.
fn for_each_text<'e>(value: &'e Value, f: &mut dyn FnMut(Cow<'e, str>)) {
    match value {
        Value::Str(s) => f(Cow::Borrowed(s)),
        Value::Int(n) => f(Cow::Owned(n.to_string())),
        Value::List(items) => items.iter().for_each(|item| for_each_text(item, f)),
        _ => {}
    }
}

/// Adds the observations one field value gives.
fn observe<'e>(
    probe: Probe,
    role: Role,
    field: &'static str,
    text: &'e str,
    out: &mut Vec<Observation<'e>>,
) {
    let push = |out: &mut Vec<Observation<'e>>, kind: Kind, value: Cow<'e, str>| {
        out.push(Observation {
            kind,
            role,
            field,
            value,
            ip: None,
        })
    };
    match probe {
        Probe::Ip => {
            if let Some(ip) = parse_ip(text) {
                out.push(ip_observation(ip, role, field, text));
            }
        }
        Probe::Host | Probe::UrlHost => observe_host(text, role, field, out),
        Probe::UrlFull => {
            if let Some(url) = normalize::url_key(text) {
                push(out, Kind::Url, Cow::Owned(url));
            }
        }
        Probe::Email => {
            if let Some(address) = normalize::email(text) {
                push(out, Kind::Email, Cow::Owned(address));
            }
        }
        Probe::Hash(kind) => {
            if let Some(hex) = lower(text) {
                push(out, kind, hex);
            }
        }
        Probe::HashList => {
            for (algorithm, hex) in text
                .split(',')
                .filter_map(|part| part.trim().split_once('='))
            {
                if let (Some(kind), Some(hex)) =
                    (crate::stix::pattern::hash_kind(algorithm), lower(hex))
                {
                    push(out, kind, hex);
                }
            }
        }
        Probe::Ja3 => {
            if let Some(hex) = lower(text) {
                push(out, Kind::Ja3, hex);
            }
        }
        Probe::UserAgent => push(out, Kind::UserAgent, Cow::Borrowed(text.trim())),
        Probe::FilePath => {
            let name = text.rsplit(['\\', '/']).next().unwrap_or(text);
            push(out, Kind::FileName, Cow::Borrowed(name));
        }
        Probe::Port | Probe::UrlPath => {}
    }
}

fn ip_observation<'e>(
    ip: IpAddr,
    role: Role,
    field: &'static str,
    text: &'e str,
) -> Observation<'e> {
    Observation {
        kind: if ip.is_ipv4() { Kind::Ipv4 } else { Kind::Ipv6 },
        role,
        field,
        value: Cow::Borrowed(text),
        ip: Some(ip),
    }
}

/// A host name or an address literal (a Host header, a DNS answer).
fn observe_host<'e>(
    text: &'e str,
    role: Role,
    field: &'static str,
    out: &mut Vec<Observation<'e>>,
) {
    let host = text.rsplit_once(':').map_or(text, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') {
            h
        } else {
            text
        }
    });
    if let Some(ip) = parse_ip(host) {
        out.push(ip_observation(ip, role, field, text));
    } else if let Some(name) = lower(host) {
        let name = match name {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim_end_matches('.')),
            Cow::Owned(o) => Cow::Owned(o.trim_end_matches('.').to_owned()),
        };
        if name.contains('.') {
            out.push(Observation {
                kind: Kind::Domain,
                role,
                field,
                value: name,
                ip: None,
            });
        }
    }
}

/// The rule and indicator parts of an indicator's detections.
fn describe(matcher: &Matcher, entry: u32) -> (Arc<RuleInfo>, Arc<IndicatorInfo>) {
    let e = &matcher.entries[entry as usize];
    let context = &matcher.contexts[e.context as usize];
    let id = matcher.id(entry).into_owned();
    let about: Vec<&str> = context
        .malware
        .iter()
        .chain(&context.actors)
        .map(String::as_str)
        .collect();
    let title = match (&e.name, about.is_empty(), context.labels.first()) {
        (Some(name), _, _) => format!("Indicator: {name}"),
        (None, false, _) => format!("Indicator: {} {} ({})", e.kind, e.value, about.join(", ")),
        (None, true, Some(label)) => format!("Indicator: {} {} [{label}]", e.kind, e.value),
        (None, true, None) => format!("Indicator: {} {}", e.kind, e.value),
    };
    let mut tags: Vec<String> = context
        .attack
        .iter()
        .map(|t| format!("attack.{}", t.to_ascii_lowercase()))
        .collect();
    tags.extend(context.labels.iter().cloned());
    let rule = RuleInfo {
        id: id.clone(),
        title,
        level: level(e.confidence),
        author: context.source.to_string(),
        tags,
        status: String::new(),
        path: context.source.to_string(),
    };
    let indicator = IndicatorInfo {
        id,
        kind: e.kind.to_string(),
        value: e.value.to_string(),
        source: context.source.to_string(),
        confidence: e.confidence,
        tlp: e.tlp.map(|t| t.as_str().to_owned()),
        malware: context.malware.clone(),
        actors: context.actors.clone(),
        valid_until: e.valid_until,
    };
    (Arc::new(rule), Arc::new(indicator))
}

/// The level of an indicator's detections: high, unless its source gives
/// a confidence under 75 (medium) or under 40 (low).
pub fn level(confidence: Option<u8>) -> Level {
    match confidence {
        Some(c) if c < 40 => Level::Low,
        Some(c) if c < 75 => Level::Medium,
        _ => Level::High,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gsoc_decode::{Chunk, Options, read_bytes};

    fn events(name: &str, text: &str) -> Vec<Event> {
        let mut out = Vec::new();
        read_bytes(name, text.as_bytes(), &Options::default(), &mut |chunk| {
            if let Chunk::Batch(batch) = chunk {
                out.extend(batch.decode().filter_map(Result::ok));
            }
            true
        });
        out
    }

    fn ind(kind: Kind, value: &str) -> Indicator {
        Indicator::simple(kind, value, Arc::from("test"))
    }

    fn matcher(indicators: Vec<Indicator>) -> Matcher {
        let mut builder = MatcherBuilder::new();
        for i in indicators {
            builder.add(i);
        }
        builder.build()
    }

    /// The indicator values each event hits.
    fn hits(matcher: &Matcher, events: &[Event]) -> Vec<Vec<String>> {
        let mut session = matcher.session();
        events
            .iter()
            .map(|event| {
                let mut found = Vec::new();
                session.detect(event, &mut |d| {
                    found.push(d.indicator.expect("indicator detection").value.clone())
                });
                found
            })
            .collect()
    }

    const CONN: &str = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1528134000.0\tC1\t10.0.0.5\t50000\t198.51.100.7\t8080\ttcp\n1528134001.0\tC2\t10.0.0.5\t50001\t203.0.113.9\t443\ttcp\n1528134002.0\tC3\t198.51.100.7\t443\t10.0.0.5\t50002\ttcp\n";

    #[test]
    fn addresses_exact_by_network_and_with_ports() {
        let events = events("conn.log", CONN);
        assert_eq!(events.len(), 3);
        let m = matcher(vec![ind(Kind::Cidr, "203.0.113.0/24")]);
        assert_eq!(
            hits(&m, &events),
            [vec![], vec!["203.0.113.0/24".to_owned()], vec![]]
        );

        let found = normalize::infer("198.51.100.7:8080").expect("ip:port");
        let mut with_port = ind(found.kind, &found.value);
        with_port.terms = found.terms;
        let m = matcher(vec![with_port]);
        assert_eq!(hits(&m, &events)[0].len(), 1, "destination and port match");
        assert!(
            hits(&m, &events)[2].is_empty(),
            "as the source, on another port: no"
        );

        let m = matcher(vec![ind(Kind::Ipv4, "198.51.100.7")]);
        assert_eq!(
            hits(&m, &events).iter().filter(|h| !h.is_empty()).count(),
            2
        );
    }

    #[test]
    fn domains_match_their_subdomains_only() {
        let dns = "#fields\tts\tuid\tquery\tanswers\n1.0\tC1\tcdn.EVIL.example\t192.0.2.1\n2.0\tC2\tnotevil.example\t-\n3.0\tC3\tevil.example.org\t-\n";
        let events = events("dns.log", dns);
        let m = matcher(vec![
            ind(Kind::Domain, "evil.example"),
            ind(Kind::Ipv4, "192.0.2.1"),
        ]);
        let found = hits(&m, &events);
        assert_eq!(found[0].len(), 2, "the query and the answer: {found:?}");
        assert!(found[1].is_empty() && found[2].is_empty(), "{found:?}");
    }

    #[test]
    fn urls_user_agents_and_ja3_in_eve() {
        let eve = r#"{"timestamp":"2021-06-06T16:34:44.056772+0200","event_type":"http","src_ip":"10.0.0.5","src_port":1,"dest_ip":"192.0.2.80","dest_port":80,"proto":"TCP","http":{"hostname":"Evil.example","url":"/gate.php?id=1","http_user_agent":"EvilBot/1.0"}}
{"timestamp":"2021-06-06T16:34:45Z","event_type":"tls","src_ip":"10.0.0.5","src_port":2,"dest_ip":"192.0.2.81","dest_port":443,"proto":"TCP","tls":{"sni":"ok.example","ja3":{"hash":"E7D705A3286E19EA42F587B344EE6865"}}}
"#;
        let events = events("eve.json", eve);
        let m = matcher(vec![
            ind(Kind::Url, "evil.example/gate.php"),
            ind(Kind::UserAgent, "EvilBot/1.0"),
            ind(Kind::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
        ]);
        let found = hits(&m, &events);
        assert_eq!(found[0].len(), 2, "{found:?}");
        assert_eq!(found[1], vec!["e7d705a3286e19ea42f587b344ee6865"]);
    }

    #[test]
    fn expired_and_observed_only_do_not_match() {
        let events = events("conn.log", CONN);
        let mut expired = ind(Kind::Ipv4, "203.0.113.9");
        expired.valid_until = "2018-06-04T17:40:00Z".parse().ok();
        let mut still_valid = ind(Kind::Ipv4, "198.51.100.7");
        still_valid.valid_until = "2018-06-04T17:40:01.5Z".parse().ok();
        let mut observed = ind(Kind::Ipv4, "10.0.0.5");
        observed.detect = false;
        let m = matcher(vec![expired, still_valid, observed]);
        assert_eq!(m.len(), 2);
        let found = hits(&m, &events);
        assert_eq!(found[0], vec!["198.51.100.7"], "valid at 17:40:00");
        assert!(
            found[1].is_empty(),
            "expired at 17:40:00, event at 17:40:01"
        );
    }

    #[test]
    fn sysmon_hashes_and_file_names() {
        let sysmon = r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"pc1","Image":"C:\\Temp\\evil.exe","Hashes":"SHA1=2920D5E6C579FCE772E5506CAF03AF65579088BD,MD5=B2A5ABFEEF9E36964281A31E17B57C97,IMPHASH=68F013D7437AA653A8A98A05807AFEB1"}"#;
        let events = events("sysmon.json", sysmon);
        let mut named = ind(Kind::Sha1, "2920d5e6c579fce772e5506caf03af65579088bd");
        named.terms = vec![vec![
            Observable::new(Kind::FileName, "EVIL.EXE"),
            Observable::new(Kind::Sha1, "2920d5e6c579fce772e5506caf03af65579088bd"),
        ]];
        let mut misnamed = ind(Kind::Md5, "b2a5abfeef9e36964281a31e17b57c97");
        misnamed.terms = vec![vec![
            Observable::new(Kind::Md5, "b2a5abfeef9e36964281a31e17b57c97"),
            Observable::new(Kind::FileName, "other.exe"),
        ]];
        let m = matcher(vec![
            named,
            misnamed,
            ind(Kind::Imphash, "68f013d7437aa653a8a98a05807afeb1"),
        ]);
        let mut found = hits(&m, &events).remove(0);
        found.sort();
        assert_eq!(
            found,
            [
                "2920d5e6c579fce772e5506caf03af65579088bd",
                "68f013d7437aa653a8a98a05807afeb1"
            ]
        );
    }

    #[test]
    fn detections_name_the_indicator() {
        let events = events("conn.log", CONN);
        let mut c2 = ind(Kind::Ipv4, "203.0.113.9");
        c2.confidence = Some(60);
        c2.tlp = Some(Tlp::Amber);
        c2.malware = vec!["Emotet".into()];
        let id = c2.id.clone();
        let m = matcher(vec![c2]);
        let mut session = m.session();
        let mut detections = Vec::new();
        session.detect(&events[1], &mut |d| detections.push(d));
        let d = &detections[0];
        assert_eq!(d.kind, DetectionKind::Indicator);
        assert_eq!(d.rule.id, id);
        assert_eq!(d.rule.level, Level::Medium);
        assert_eq!(d.rule.author, "test");
        assert!(d.rule.title.contains("Emotet"), "{}", d.rule.title);
        assert_eq!(d.fields.get_str("id.resp_h"), Some("203.0.113.9"));
        let info = d.indicator.as_ref().expect("indicator");
        assert_eq!(info.tlp.as_deref(), Some("amber"));
        assert_eq!(info.confidence, Some(60));
    }
}
