//! Matching events: what each log format's fields mean for indicators, the
//! values an event carries, and the detections for the indicators they hit.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use gsoc_event::names::{LastLayout, NameMeanings, Names, Numbered};
use gsoc_event::{
    Detection, DetectionKind, Event, Fields, IndicatorInfo, Level, Normalization, RuleInfo, Value,
};
use ipnet::IpNet;
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::index::{Matcher, Posting};
use super::screen::Screen;
use crate::model::{Kind, Observable, Role};
use crate::normalize;

/// A value in lower case, borrowed when it already is.
pub(super) fn lower(text: &str) -> Option<Cow<'_, str>> {
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
pub(super) fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Some(v4) = dotted_quad(text.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    if !text.contains(':') {
        return dotted_quad(text.as_bytes()).map(IpAddr::V4);
    }
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        ip => Some(ip),
    }
}

/// The common case of [`parse_ip`], a plain `a.b.c.d`, read in one pass.
/// Written by hand because it is on every network event's path and std's
/// general address parser costs several times more; anything else (IPv6,
/// leading zeros, spaces) returns `None` and goes to std's parser, so what
/// is accepted stays exactly what std accepts.
fn dotted_quad(bytes: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&bytes.len()) {
        return None;
    }
    let mut octets = [0u8; 4];
    let (mut octet, mut value, mut digits) = (0, 0u16, 0);
    for &b in bytes {
        if b == b'.' {
            if digits == 0 || octet == 3 {
                return None;
            }
            octets[octet] = u8::try_from(value).ok()?;
            (octet, value, digits) = (octet + 1, 0, 0);
        } else if b.is_ascii_digit() && digits < 3 && !(digits == 1 && value == 0) {
            value = value * 10 + u16::from(b - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if octet != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// What an event field holds, for indicators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Probe {
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

/// The fields to read for one normalisation table: those that can hold
/// what indicators are looked up by, read for every event, and those that
/// only narrow a match (ports, file names), read when a match needs them.
#[derive(Debug, Default)]
struct Plan {
    anchors: FieldSet,
    conditions: FieldSet,
    /// Where each numbered field name is among the anchors
    /// ([`NOT_READ`] when it is not one).
    meanings: NameMeanings<u16>,
    /// The anchors picked from the last layout.
    layout: LastLayout<Picks>,
}

/// Field names with what they hold, sorted by length, and where each
/// length's names start: an event's other fields are passed over with one
/// test each, and a name is compared only with the names of its length.
#[derive(Debug, Default)]
struct FieldSet {
    fields: Vec<(Probe, Role, &'static str)>,
    by_length: Vec<(u16, u16)>,
}

impl FieldSet {
    fn new(mut fields: Vec<(Probe, Role, &'static str)>) -> FieldSet {
        fields.sort_by_key(|(_, _, name)| name.len());
        let longest = fields.last().map_or(0, |(_, _, name)| name.len());
        let mut by_length = vec![(0u16, 0u16); longest + 1];
        for (i, (_, _, name)) in fields.iter().enumerate() {
            let range = &mut by_length[name.len()];
            if range.0 == range.1 {
                range.0 = i as u16;
            }
            range.1 = i as u16 + 1;
        }
        FieldSet { fields, by_length }
    }

    /// Where a field name is in the set.
    fn position(&self, name: &str) -> Option<usize> {
        let &(start, end) = self.by_length.get(name.len())?;
        let (start, end) = (start as usize, end as usize);
        self.fields[start..end]
            .iter()
            .position(|(_, _, n)| *n == name)
            .map(|at| start + at)
    }

    /// The fields of an event the set reads: each one's place in the event
    /// and what it holds.
    fn picks(&self, event: &Event) -> Picks {
        let mut picks = Picks::new();
        for (i, (name, _)) in event.fields.iter().enumerate() {
            if let Some(at) = self.position(name) {
                picks.push((i, self.fields[at]));
            }
        }
        picks
    }
}

/// What [`Plan::meanings`] holds for a name the plan does not read.
const NOT_READ: u16 = u16::MAX;

impl Plan {
    /// [`FieldSet::picks`] of the anchors, reading each field's name by
    /// its number (or, for the layout of the last event, kept).
    fn anchor_picks(&mut self, event: &Event, numbered: Numbered<'_>) -> &Picks {
        let Plan {
            anchors,
            meanings,
            layout,
            ..
        } = self;
        layout.get_or(numbered, || {
            picks_by_number(anchors, meanings, event, numbered)
        })
    }
}

/// [`FieldSet::picks`], reading each field's name by its number.
fn picks_by_number(
    anchors: &FieldSet,
    meanings: &mut NameMeanings<u16>,
    event: &Event,
    numbered: Numbered<'_>,
) -> Picks {
    meanings.use_table(numbered);
    let mut picks = Picks::new();
    for (i, &id) in numbered.ids().iter().enumerate() {
        let at = meanings.get(id, || {
            event
                .fields
                .at(i)
                .and_then(|(name, _)| anchors.position(name))
                .map_or(NOT_READ, |at| at as u16)
        });
        if at != NOT_READ {
            picks.push((i, anchors.fields[at as usize]));
        }
    }
    picks
}

/// Fields to read: each one's place in the event and what it holds.
pub(super) type Picks = SmallVec<[(usize, (Probe, Role, &'static str)); 8]>;

/// The values of one event, mostly few enough to stay on the stack.
type Observations<'e> = SmallVec<[Observation<'e>; 8]>;

/// The fields worth reading in events of one normalisation table: those
/// whose kind some indicator looks for.
fn plan_for(table: Normalization, matcher: &Matcher) -> Plan {
    let mut fields = Vec::new();
    if table.is_empty() {
        fields.extend(ECS_PROBES.iter().map(|&(n, p, r)| (p, r, n)));
    }
    for &(name, sources) in table {
        if let Some(&(_, probe, role)) = PROBES.iter().find(|(n, _, _)| *n == name) {
            fields.extend(sources.iter().map(|field| (probe, role, *field)));
        }
    }
    fields.retain(|(probe, _, _)| probe.kinds().iter().any(|k| matcher.has_kind(*k)));
    let (conditions, anchors) = fields
        .into_iter()
        .partition(|(probe, _, _)| matches!(probe, Probe::Port | Probe::FilePath));
    Plan {
        anchors: FieldSet::new(anchors),
        conditions: FieldSet::new(conditions),
        meanings: NameMeanings::default(),
        layout: LastLayout::default(),
    }
}

impl Probe {
    /// The indicator kinds a field of this sort can hit.
    fn kinds(self) -> &'static [Kind] {
        const ADDRESSES: &[Kind] = &[Kind::Ipv4, Kind::Ipv6, Kind::Cidr];
        const HOSTS: &[Kind] = &[Kind::Domain, Kind::Ipv4, Kind::Ipv6, Kind::Cidr];
        const URL_HOSTS: &[Kind] = &[Kind::Domain, Kind::Url, Kind::Ipv4, Kind::Ipv6, Kind::Cidr];
        const HASHES: &[Kind] = &[
            Kind::Md5,
            Kind::Sha1,
            Kind::Sha256,
            Kind::Sha512,
            Kind::Imphash,
        ];
        match self {
            Probe::Ip => ADDRESSES,
            Probe::Port => &[Kind::Port],
            Probe::Host => HOSTS,
            Probe::UrlHost => URL_HOSTS,
            Probe::UrlPath | Probe::UrlFull => &[Kind::Url],
            Probe::Email => &[Kind::Email],
            Probe::Hash(Kind::Md5) => &[Kind::Md5],
            Probe::Hash(Kind::Sha1) => &[Kind::Sha1],
            Probe::Hash(Kind::Sha256) => &[Kind::Sha256],
            Probe::Hash(_) | Probe::HashList => HASHES,
            Probe::Ja3 => &[Kind::Ja3],
            Probe::UserAgent => &[Kind::UserAgent],
            Probe::FilePath => &[Kind::FileName],
        }
    }
}

/// A value an event carries, normalised for lookup.
#[derive(Debug, Clone)]
struct Observation<'e> {
    kind: Kind,
    role: Role,
    field: &'static str,
    value: Cow<'e, str>,
    ip: Option<IpAddr>,
    port: Option<u16>,
}

/// Matching on one thread: caches what each log format's fields mean and
/// what each indicator's detections say.
#[derive(Debug)]
pub struct Session<'m> {
    matcher: &'m Matcher,
    plans: Vec<(usize, Plan)>,
    /// Numbers field names for [`detect`](Self::detect).
    names: Names,
    /// Turns away most events before their values are gathered.
    screen: Screen,
    described: FxHashMap<u32, (Arc<RuleInfo>, Arc<IndicatorInfo>)>,
    now: Timestamp,
}

impl Matcher {
    /// A session for matching events on one thread.
    pub fn session(&self) -> Session<'_> {
        Session {
            matcher: self,
            plans: Vec::new(),
            names: Names::new(),
            screen: Screen::default(),
            described: FxHashMap::default(),
            now: Timestamp::now(),
        }
    }
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
        let mut names = std::mem::take(&mut self.names);
        self.detect_numbered(event, names.number(&event.fields), emit);
        self.names = names;
    }

    /// [`detect`](Self::detect) for an event whose field names are already
    /// numbered (by a table shared with the other matchers of this thread).
    pub fn detect_numbered(
        &mut self,
        event: &Event,
        numbered: Numbered<'_>,
        emit: &mut dyn FnMut(Detection),
    ) {
        if self.matcher.is_empty() {
            return;
        }
        let plan = self.plan(event.normalization);
        let picks = self.plans[plan].1.anchor_picks(event, numbered);
        if picks.is_empty() || !self.screen.passes(self.matcher, event, picks) {
            return;
        }
        let picks = picks.clone();
        let observations = observe_fields(event, &picks);
        if observations.is_empty() {
            return;
        }
        let plan = &self.plans[plan].1;
        let time = event.time.unwrap_or(self.now);
        let mut conditions: Option<Observations<'_>> = None;
        let mut hits: Vec<(u32, usize)> = Vec::new();
        for (i, observation) in observations.iter().enumerate() {
            self.find(observation, &mut |posting| {
                let mut narrowing = |wanted: &Observable| {
                    let found = conditions.get_or_insert_with(|| {
                        observe_fields(event, &plan.conditions.picks(event))
                    });
                    satisfied(wanted, found)
                };
                if !hits.iter().any(|(e, _)| *e == posting.entry)
                    && self.holds(posting, observation, &observations, &mut narrowing, time)
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

    /// The index of the plan for a normalisation table, made on first use.
    fn plan(&mut self, table: Normalization) -> usize {
        let key = table.as_ptr() as usize;
        match self.plans.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.plans.push((key, plan_for(table, self.matcher)));
                self.plans.len() - 1
            }
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

    /// Whether the posting's term holds for the event; `narrowing` checks
    /// ports and file names, which are read only when a term needs them.
    fn holds(
        &self,
        posting: &Posting,
        anchor: &Observation<'_>,
        observations: &[Observation<'_>],
        narrowing: &mut dyn FnMut(&Observable) -> bool,
        time: Timestamp,
    ) -> bool {
        let entry = &self.matcher.entries[posting.entry as usize];
        if entry.expired_at(time) {
            return false;
        }
        let Some(terms) = entry.terms() else {
            return true;
        };
        let term = &terms[posting.term as usize];
        if !term[posting.observable as usize].role.accepts(anchor.role) {
            return false;
        }
        term.iter()
            .enumerate()
            .filter(|(i, _)| *i != posting.observable as usize)
            .all(|(_, wanted)| match wanted.kind {
                Kind::Port | Kind::FileName => narrowing(wanted),
                _ => satisfied(wanted, observations),
            })
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
            event_time: event.time,
            host: event.host().map(str::to_owned),
            indicator: Some(indicator),
            ..Detection::new(DetectionKind::Indicator, rule, event.source.clone(), fields)
        }
    }
}

/// The values an event carries in the fields picked.
fn observe_fields<'e>(event: &'e Event, picks: &Picks) -> Observations<'e> {
    let mut out = Observations::new();
    let mut url_host: Option<&'e str> = None;
    let mut url_paths: Vec<(&'static str, &'e str)> = Vec::new();
    for &(i, (probe, role, field)) in picks {
        let Some((_, value)) = event.fields.at(i) else {
            continue;
        };
        if probe == Probe::Port {
            out.extend(port_of(value).map(|port| Observation {
                kind: Kind::Port,
                role,
                field,
                value: Cow::Borrowed(""),
                ip: None,
                port: Some(port),
            }));
            continue;
        }
        for_each_text(value, &mut |text| match probe {
            Probe::UrlHost => {
                url_host = Some(text);
                observe_host(text, role, field, &mut out);
            }
            Probe::UrlPath => url_paths.push((field, text)),
            probe => observe(probe, role, field, text, &mut out),
        });
    }
    for (field, path) in url_paths {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
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
                port: None,
            });
        }
    }
    out
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
        Kind::Port => found.port.is_some() && found.port == wanted.value.parse().ok(),
        _ => found.value == wanted.value,
    }
}

/// Calls `f` with each text a field holds: a string, or each string of a
/// list. Generic, so that the common case (one string) inlines on the
/// screen's path.
pub(super) fn for_each_text<'e>(value: &'e Value, f: &mut impl FnMut(&'e str)) {
    match value {
        Value::Str(s) => f(s),
        Value::List(items) => items.iter().for_each(|item| for_each_text(item, f)),
        _ => {}
    }
}

/// A port, written as a number or as text.
fn port_of(value: &Value) -> Option<u16> {
    match value {
        Value::Int(n) => u16::try_from(*n).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Adds the observations one field value gives.
fn observe<'e>(
    probe: Probe,
    role: Role,
    field: &'static str,
    text: &'e str,
    out: &mut Observations<'e>,
) {
    let push = |out: &mut Observations<'e>, kind: Kind, value: Cow<'e, str>| {
        out.push(Observation {
            kind,
            role,
            field,
            value,
            ip: None,
            port: None,
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
        port: None,
    }
}

/// A host name or an address literal (a Host header, a DNS answer).
fn observe_host<'e>(text: &'e str, role: Role, field: &'static str, out: &mut Observations<'e>) {
    match host_of(text) {
        Some(Host::Ip(ip)) => out.push(ip_observation(ip, role, field, text)),
        Some(Host::Name(name)) => out.push(Observation {
            kind: Kind::Domain,
            role,
            field,
            value: name,
            ip: None,
            port: None,
        }),
        None => {}
    }
}

/// What a host field holds.
pub(super) enum Host<'e> {
    /// An address.
    Ip(IpAddr),
    /// A domain name, in lower case, without a trailing dot.
    Name(Cow<'e, str>),
}

/// Reads a host field: an address (a Host header's port dropped) or a name
/// with at least one dot.
pub(super) fn host_of(text: &str) -> Option<Host<'_>> {
    if let Some(v4) = dotted_quad(text.as_bytes()) {
        return Some(Host::Ip(IpAddr::V4(v4)));
    }
    let host = without_port(text);
    if let Some(ip) = parse_ip(host) {
        return Some(Host::Ip(ip));
    }
    lower(host.trim_end_matches('.'))
        .filter(|name| name.contains('.'))
        .map(Host::Name)
}

/// A host without the `:port` a Host header may end in (an IPv6 literal,
/// which holds colons itself, is left alone).
fn without_port(text: &str) -> &str {
    if !text.as_bytes().last().is_some_and(u8::is_ascii_digit) {
        return text;
    }
    match text.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.contains(':') => {
            host
        }
        _ => text,
    }
}

/// The rule and indicator parts of an indicator's detections.
fn describe(matcher: &Matcher, entry: u32) -> (Arc<RuleInfo>, Arc<IndicatorInfo>) {
    let e = &matcher.entries[entry as usize];
    let context = &matcher.contexts[e.context as usize];
    let id = matcher.id(entry).into_owned();
    let value = matcher.value(e);
    let name = e.extra.as_ref().and_then(|x| x.name.as_deref());
    let about: Vec<&str> = context
        .malware
        .iter()
        .chain(&context.actors)
        .map(String::as_str)
        .collect();
    let title = match (name, about.is_empty(), context.labels.first()) {
        (Some(name), _, _) => format!("Indicator: {name}"),
        (None, false, _) => format!("Indicator: {} {value} ({})", e.kind, about.join(", ")),
        (None, true, Some(label)) => format!("Indicator: {} {value} [{label}]", e.kind),
        (None, true, None) => format!("Indicator: {} {value}", e.kind),
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
        value: value.to_owned(),
        source: context.source.to_string(),
        confidence: e.confidence,
        tlp: e.tlp.map(|t| t.as_str().to_owned()),
        malware: context.malware.clone(),
        actors: context.actors.clone(),
        valid_until: e.valid_until(),
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
