//! The index: every indicator in as little memory as a detection needs,
//! and the tables values are looked up in.
//!
//! Values live in one text arena; ids of the usual `<type>--<uuid>` form in
//! sixteen bytes; what many indicators share (source, labels, families) once.
//! So a million indicators take about a hundred megabytes and load without a
//! million small allocations.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Arc;

use hashbrown::HashTable;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use jiff::Timestamp;
use prefix_trie::PrefixMap;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::model::{Indicator, Kind, Role, Term, Tlp};
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

fn hash(text: &str) -> u64 {
    FxBuildHasher.hash_one(text)
}

/// What many indicators share: their source and what they are about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Context {
    pub(super) source: Arc<str>,
    pub(super) labels: Vec<String>,
    pub(super) attack: Vec<String>,
    pub(super) malware: Vec<String>,
    pub(super) actors: Vec<String>,
}

/// The object types whose ids are kept as a UUID.
const ID_TYPES: [&str; 7] = [
    "indicator",
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "file",
];

/// An indicator's id: `<type>--<uuid>` in 17 bytes, anything else as text.
#[derive(Debug)]
enum Id {
    Uuid { kind: u8, uuid: [u8; 16] },
    Text(Box<str>),
}

impl Id {
    fn new(id: String) -> Id {
        let parsed = id.split_once("--").and_then(|(kind, uuid)| {
            let kind = ID_TYPES.iter().position(|t| *t == kind)?;
            let canonical = uuid.len() == 36
                && !uuid.bytes().any(|b| b.is_ascii_uppercase())
                && uuid.as_bytes()[8] == b'-';
            let uuid = uuid::Uuid::parse_str(uuid).ok().filter(|_| canonical)?;
            Some(Id::Uuid {
                kind: kind as u8,
                uuid: *uuid.as_bytes(),
            })
        });
        parsed.unwrap_or_else(|| Id::Text(id.into_boxed_str()))
    }

    fn text(&self) -> Cow<'_, str> {
        match self {
            Id::Uuid { kind, uuid } => Cow::Owned(format!(
                "{}--{}",
                ID_TYPES[*kind as usize],
                uuid::Uuid::from_bytes(*uuid).hyphenated()
            )),
            Id::Text(text) => Cow::Borrowed(text),
        }
    }
}

/// A run of the text arena.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    len: u32,
}

/// What few indicators have: several terms, a name.
#[derive(Debug, Default)]
pub(super) struct Extra {
    pub(super) terms: Box<[Term]>,
    pub(super) name: Option<Box<str>>,
}

/// One indicator, as much as a detection needs.
#[derive(Debug)]
pub(super) struct Entry {
    id: Id,
    value: Span,
    pub(super) extra: Option<Box<Extra>>,
    /// Milliseconds since the epoch; `i64::MAX` when it does not expire.
    valid_until: i64,
    pub(super) context: u32,
    pub(super) kind: Kind,
    pub(super) tlp: Option<Tlp>,
    pub(super) confidence: Option<u8>,
}

impl Entry {
    /// Whether it had expired at `time`.
    pub(super) fn expired_at(&self, time: Timestamp) -> bool {
        self.valid_until <= time.as_millisecond()
    }

    /// Its validity end.
    pub(super) fn valid_until(&self) -> Option<Timestamp> {
        (self.valid_until != i64::MAX)
            .then(|| Timestamp::from_millisecond(self.valid_until).ok())
            .flatten()
    }

    /// Its terms, when it has more than its kind and value.
    pub(super) fn terms(&self) -> Option<&[Term]> {
        self.extra
            .as_ref()
            .map(|e| &*e.terms)
            .filter(|t| !t.is_empty())
    }
}

/// Where one observable of one indicator's term is found in the index.
#[derive(Clone, Copy, Debug)]
pub(super) struct Posting {
    pub(super) entry: u32,
    pub(super) term: u16,
    pub(super) observable: u16,
    /// The next posting with the same key.
    next: u32,
}

/// Builds a [`Matcher`], one indicator at a time.
#[derive(Debug, Default)]
pub struct MatcherBuilder {
    matcher: Matcher,
    contexts: HashTable<u32>,
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
        let value = m.push_text(&indicator.value);
        let extra = (!indicator.terms.is_empty() || indicator.name.is_some()).then(|| {
            Box::new(Extra {
                terms: indicator.terms.into_boxed_slice(),
                name: indicator.name.map(String::into_boxed_str),
            })
        });
        m.entries.push(Entry {
            id: Id::new(indicator.id),
            value,
            extra,
            valid_until: indicator
                .valid_until
                .map_or(i64::MAX, |t| t.as_millisecond()),
            context,
            kind: indicator.kind,
            tlp: indicator.tlp,
            confidence: indicator.confidence,
        });
        let anchors: Vec<(u16, u16)> = match m.entries[entry as usize].terms() {
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

    /// The index of the indicator's context, added when new; found without
    /// copying the indicator's lists.
    fn context(&mut self, indicator: &Indicator) -> u32 {
        let key = (
            &*indicator.source,
            &indicator.labels,
            &indicator.attack,
            &indicator.malware,
            &indicator.actors,
        );
        let contexts = &mut self.matcher.contexts;
        let same = |c: &Context| (&*c.source, &c.labels, &c.attack, &c.malware, &c.actors) == key;
        let hash_of = |c: &Context| {
            FxBuildHasher.hash_one((&*c.source, &c.labels, &c.attack, &c.malware, &c.actors))
        };
        let next = contexts.len() as u32;
        let found = self.contexts.entry(
            FxBuildHasher.hash_one(key),
            |&i| same(&contexts[i as usize]),
            |&i| hash_of(&contexts[i as usize]),
        );
        match found {
            hashbrown::hash_table::Entry::Occupied(entry) => *entry.get(),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                contexts.push(Context {
                    source: Arc::clone(&indicator.source),
                    labels: indicator.labels.clone(),
                    attack: indicator.attack.clone(),
                    malware: indicator.malware.clone(),
                    actors: indicator.actors.clone(),
                });
                slot.insert(next);
                next
            }
        }
    }

    /// The finished matcher.
    pub fn build(mut self) -> Matcher {
        self.matcher.text.shrink_to_fit();
        self.matcher.entries.shrink_to_fit();
        self.matcher.postings.shrink_to_fit();
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
    pub(super) entries: Vec<Entry>,
    pub(super) contexts: Vec<Context>,
    text: String,
    postings: Vec<Posting>,
    v4: FxHashMap<u32, u32>,
    v6: FxHashMap<u128, u32>,
    v4_nets: PrefixMap<Ipv4Net, u32>,
    v6_nets: PrefixMap<Ipv6Net, u32>,
    /// One bit per IPv4 /24 block that holds a listed address or meets a
    /// listed network: two megabytes that stay in cache and turn away most
    /// addresses before the tables are touched.
    v4_blocks: Vec<u64>,
    /// Per kind: (the key's hash, its first posting). The hash is kept so
    /// that a probe only reaches the indicator when the hashes agree.
    values: [HashTable<(u32, u32)>; TEXT_KINDS.len()],
    /// The kinds any term holds (anchors and conditions alike).
    kinds: Vec<Kind>,
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

    /// Whether any indicator looks for (or is narrowed by) this kind.
    pub(super) fn has_kind(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }

    fn push_text(&mut self, text: &str) -> Span {
        let start = u32::try_from(self.text.len()).expect("under 4 GB of indicator text");
        self.text.push_str(text);
        Span {
            start,
            len: text.len() as u32,
        }
    }

    fn span(&self, span: Span) -> &str {
        &self.text[span.start as usize..(span.start + span.len) as usize]
    }

    /// An entry's main value.
    pub(super) fn value(&self, entry: &Entry) -> &str {
        self.span(entry.value)
    }

    /// An entry's id.
    pub(super) fn id(&self, entry: u32) -> Cow<'_, str> {
        self.entries[entry as usize].id.text()
    }

    /// The key a posting is found under, with its kind and role.
    pub(super) fn observable(&self, posting: &Posting) -> (Kind, Role, &str) {
        observable_of(&self.entries, &self.text, posting)
    }

    fn note_kind(&mut self, kind: Kind) {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
    }

    fn insert(&mut self, mut posting: Posting) {
        let index = self.postings.len() as u32;
        let (kind, _, value) = self.observable(&posting);
        let value = value.to_owned();
        let entry = &self.entries[posting.entry as usize];
        let kinds: Vec<Kind> = match entry.terms() {
            Some(terms) => terms[posting.term as usize]
                .iter()
                .map(|o| o.kind)
                .collect(),
            None => vec![kind],
        };
        kinds.into_iter().for_each(|k| self.note_kind(k));
        let head = match kind {
            Kind::Ipv4 | Kind::Ipv6 => match value.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => {
                    self.mark_blocks(u32::from(ip), 32);
                    Some(self.v4.insert(u32::from(ip), index))
                }
                Ok(IpAddr::V6(ip)) => Some(self.v6.insert(u128::from(ip), index)),
                Err(_) => None,
            },
            Kind::Cidr => match value.parse::<IpNet>() {
                Ok(IpNet::V4(net)) => {
                    self.mark_blocks(u32::from(net.network()), net.prefix_len());
                    Some(self.v4_nets.insert(net, index))
                }
                Ok(IpNet::V6(net)) => Some(self.v6_nets.insert(net, index)),
                Err(_) => None,
            },
            kind => text_slot(kind).map(|slot| self.insert_value(slot, &value, index)),
        };
        let Some(previous) = head else { return };
        posting.next = previous.unwrap_or(END);
        self.postings.push(posting);
    }

    /// Sets the /24 block bits an address or network reaches.
    fn mark_blocks(&mut self, network: u32, prefix: u8) {
        if self.v4_blocks.is_empty() {
            self.v4_blocks = vec![0; (1 << 24) / 64];
        }
        let first = network >> 8;
        let count = if prefix >= 24 {
            1
        } else {
            1u32 << (24 - prefix)
        };
        for block in first..first.saturating_add(count).min(1 << 24) {
            self.v4_blocks[(block / 64) as usize] |= 1 << (block % 64);
        }
    }

    /// Whether an IPv4 address's /24 block may hold a listed address.
    fn may_list(&self, ip: u32) -> bool {
        let block = ip >> 8;
        self.v4_blocks
            .get((block / 64) as usize)
            .is_some_and(|word| word & (1 << (block % 64)) != 0)
    }

    /// Makes `index` the head of the chain for `value`; returns the old
    /// head.
    fn insert_value(&mut self, slot: usize, value: &str, index: u32) -> Option<u32> {
        let Matcher {
            entries,
            text,
            postings,
            values,
            ..
        } = self;
        let key_of = |p: u32| observable_of(entries, text, &postings[p as usize]).2;
        let full = hash(value);
        let short = full as u32;
        let found = values[slot].entry(
            full,
            |&(h, p)| h == short && key_of(p) == value,
            |&(_, p)| hash(key_of(p)),
        );
        match found {
            hashbrown::hash_table::Entry::Occupied(mut found) => {
                Some(std::mem::replace(&mut found.get_mut().1, index))
            }
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert((short, index));
                None
            }
        }
    }

    /// Calls `visit` with each posting whose key is `value` (normalised).
    pub(super) fn postings_for(&self, kind: Kind, value: &str, visit: &mut dyn FnMut(&Posting)) {
        let Some(slot) = text_slot(kind).filter(|&s| !self.values[s].is_empty()) else {
            return;
        };
        let full = hash(value);
        let short = full as u32;
        let head = self.values[slot]
            .find(full, |&(h, p)| {
                h == short && self.observable(&self.postings[p as usize]).2 == value
            })
            .map(|&(_, p)| p);
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

    /// Calls `visit` with each posting for an address: the address itself
    /// and every network that holds it.
    pub(super) fn postings_for_ip(&self, ip: IpAddr, visit: &mut dyn FnMut(&Posting)) {
        match ip {
            IpAddr::V4(v4) => {
                if !self.may_list(u32::from(v4)) {
                    return;
                }
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
    pub(super) fn postings_for_domain(&self, name: &str, visit: &mut dyn FnMut(&Posting)) {
        if text_slot(Kind::Domain).is_none_or(|slot| self.values[slot].is_empty()) {
            return;
        }
        let mut rest = name;
        loop {
            self.postings_for(Kind::Domain, rest, visit);
            match rest.find('.') {
                Some(dot) if rest[dot + 1..].contains('.') => rest = &rest[dot + 1..],
                _ => return,
            }
        }
    }

    /// Whether any indicator is found under an address (or a network
    /// holding it).
    pub(super) fn lists_ip(&self, ip: IpAddr) -> bool {
        let mut found = false;
        self.postings_for_ip(ip, &mut |_| found = true);
        found
    }

    /// Whether any indicator is found under a domain or one of its parents.
    pub(super) fn lists_domain(&self, name: &str) -> bool {
        let mut found = false;
        self.postings_for_domain(name, &mut |_| found = true);
        found
    }

    /// Looks a value up the way events are: an address also in the
    /// networks that cover it, a domain also by its parents. Calls `found`
    /// with every indicator meant for detection that it hits (without
    /// checking the other conditions of multi-part indicators or their
    /// validity). The value is normalised first.
    pub fn lookup(&self, kind: Kind, value: &str, found: &mut dyn FnMut(Hit<'_>)) {
        let mut visit = |p: &Posting| {
            found(Hit {
                matcher: self,
                entry: p.entry,
            })
        };
        match kind {
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => {
                if let Some(ip) = super::parse_ip(value) {
                    self.postings_for_ip(ip, &mut visit);
                }
            }
            Kind::Domain => {
                if let Some(name) = super::lower(value) {
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
}

fn observable_of<'a>(
    entries: &'a [Entry],
    text: &'a str,
    posting: &Posting,
) -> (Kind, Role, &'a str) {
    let entry = &entries[posting.entry as usize];
    match entry.terms() {
        None => {
            let span = entry.value;
            let value = &text[span.start as usize..(span.start + span.len) as usize];
            (entry.kind, Role::Any, value)
        }
        Some(terms) => {
            let o = &terms[posting.term as usize][posting.observable as usize];
            (o.kind, o.role, &o.value)
        }
    }
}

/// One indicator a lookup found.
#[derive(Clone, Copy, Debug)]
pub struct Hit<'m> {
    matcher: &'m Matcher,
    entry: u32,
}

impl<'m> Hit<'m> {
    /// The indicator's id.
    pub fn id(&self) -> Cow<'m, str> {
        self.matcher.id(self.entry)
    }

    /// The indicator's type.
    pub fn kind(&self) -> Kind {
        self.matcher.entries[self.entry as usize].kind
    }

    /// The indicator's main value.
    pub fn value(&self) -> &'m str {
        self.matcher
            .value(&self.matcher.entries[self.entry as usize])
    }

    /// Where the indicator came from.
    pub fn source(&self) -> &'m str {
        let entry = &self.matcher.entries[self.entry as usize];
        &self.matcher.contexts[entry.context as usize].source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_compact_and_given_back_unchanged() {
        for id in [
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F",
            "x-custom--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "not an id",
        ] {
            let kept = Id::new(id.to_owned());
            assert_eq!(kept.text(), id);
        }
        assert!(matches!(
            Id::new("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into()),
            Id::Uuid { .. }
        ));
        assert!(
            std::mem::size_of::<Entry>() <= 64,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
