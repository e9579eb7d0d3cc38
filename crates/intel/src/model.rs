//! What an indicator is: its observables, its provenance and its validity.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The kind of value an observable compares. Each kind has its own index in
/// the matcher and its own way to normalise values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An IPv4 or IPv6 network in CIDR notation.
    Cidr,
    /// A domain name; it also matches every name under it.
    Domain,
    /// A URL, compared without its scheme, default port and fragment.
    Url,
    /// An e-mail address.
    Email,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
    /// A SHA-512 file hash.
    Sha512,
    /// A PE import hash.
    Imphash,
    /// A JA3 TLS client fingerprint.
    Ja3,
    /// An HTTP User-Agent.
    UserAgent,
    /// A file name; only ever a condition beside another observable.
    FileName,
    /// A TCP or UDP port; only ever a condition beside another observable.
    Port,
}

impl Kind {
    /// Every kind, in the order lists and reports show them.
    pub const ALL: [Kind; 15] = [
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Cidr,
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
        Kind::FileName,
        Kind::Port,
    ];

    /// The name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
            Kind::Imphash => "imphash",
            Kind::Ja3 => "ja3",
            Kind::UserAgent => "user-agent",
            Kind::FileName => "file-name",
            Kind::Port => "port",
        }
    }

    /// Whether the matcher can find events by this kind alone. File names
    /// and ports only narrow a match found by another observable.
    pub fn is_anchor(self) -> bool {
        !matches!(self, Kind::FileName | Kind::Port)
    }

    /// Whether values of this kind compare without regard to case.
    pub fn folds_case(self) -> bool {
        !matches!(self, Kind::UserAgent | Kind::FileName | Kind::Url)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown indicator type '{text}'; use one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Which side of an event an observable must be on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Anywhere the event carries a value of the kind.
    #[default]
    Any,
    /// The source of a connection (`network-traffic:src_ref`, `src_port`).
    Source,
    /// The destination of a connection (`network-traffic:dst_ref`,
    /// `dst_port`).
    Destination,
    /// An address a DNS name resolved to (`domain-name:resolves_to_refs`).
    Resolved,
    /// The sender of a message (`email-message:from_ref`).
    Sender,
    /// A recipient of a message (`email-message:to_refs`, `cc_refs`).
    Recipient,
}

impl Role {
    /// Whether an event value found in role `found` satisfies this role.
    /// Values without a direction (a DNS query, a TLS server name) satisfy
    /// every role; an address a name resolved to satisfies "destination",
    /// since traffic to it follows.
    pub fn accepts(self, found: Role) -> bool {
        match self {
            Role::Any => true,
            Role::Destination => matches!(found, Role::Destination | Role::Resolved | Role::Any),
            _ => found == self || found == Role::Any,
        }
    }

    fn is_any(&self) -> bool {
        *self == Role::Any
    }
}

/// One comparison: a kind of value, where it must be, and the value
/// (normalised, see [`crate::normalize`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Observable {
    /// The kind of value.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Where in the event it must be.
    #[serde(default, skip_serializing_if = "Role::is_any")]
    pub role: Role,
    /// The value.
    pub value: String,
}

impl Observable {
    /// An observable in any role.
    pub fn new(kind: Kind, value: impl Into<String>) -> Self {
        Observable {
            kind,
            role: Role::Any,
            value: value.into(),
        }
    }

    /// The same observable in a given role.
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }
}

/// Observables that must all hold in one event (one AND-ed group of a STIX
/// pattern in disjunctive normal form).
pub type Term = Vec<Observable>;

/// A Traffic Light Protocol 2.0 marking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0's WHITE).
    #[serde(rename = "clear", alias = "white")]
    Clear,
    /// TLP:GREEN.
    #[serde(rename = "green")]
    Green,
    /// TLP:AMBER.
    #[serde(rename = "amber")]
    Amber,
    /// TLP:AMBER+STRICT.
    #[serde(rename = "amber+strict")]
    AmberStrict,
    /// TLP:RED.
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    /// Every level, from the least to the most restricted.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The lower-case name (`clear`, `green`, `amber`, `amber+strict`,
    /// `red`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.as_str().to_ascii_uppercase())
    }
}

impl FromStr for Tlp {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim().to_ascii_lowercase();
        let name = name.strip_prefix("tlp:").unwrap_or(&name);
        match name {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(format!(
                "unknown TLP level '{text}'; use clear, green, amber, amber+strict or red"
            )),
        }
    }
}

/// One indicator: what to look for, where it came from and how far to trust
/// it.
///
/// A simple indicator (one value, as feeds and lists give) has no `terms`:
/// its `kind` and `value` are the one observable. A STIX pattern with
/// several comparisons keeps them in `terms`, in disjunctive normal form:
/// the indicator matches an event when every observable of one term does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Its id: the STIX id it came with, `indicator--<MISP attribute
    /// uuid>`, or a name-based UUID derived from source, type and value.
    pub id: String,
    /// The kind of its main value.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Its main value, normalised.
    pub value: String,
    /// The full pattern in disjunctive normal form, when it is more than
    /// `kind` and `value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Term>,
    /// The feed, bundle or event it came from.
    pub source: Arc<str>,
    /// Whether it is meant for detection (MISP's `to_ids`; false for
    /// observed data). Only indicators meant for detection match.
    #[serde(default = "yes")]
    pub detect: bool,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The STIX pattern as received (kept verbatim for export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When it was last changed; of two versions the newer one is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Timestamp>,
    /// When the value was first seen doing harm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// When the value was last seen doing harm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// From when the indicator is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Timestamp>,
    /// Until when the indicator is valid; it does not match events after
    /// this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    /// How far the source trusts it, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// Its TLP marking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
    /// Its labels (STIX labels, MISP tags, list names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// ATT&CK technique ids it relates to (`T1071.001`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<String>,
    /// Malware families it indicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malware: Vec<String>,
    /// Threat actors and intrusion sets it is attributed to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    /// The STIX id of the identity that made it (`created_by_ref`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The STIX object it was imported or converted from, kept so that
    /// export gives it back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stix: Option<Box<serde_json::Value>>,
    /// The MISP attribute or object it was imported from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misp: Option<Box<serde_json::Value>>,
}

fn yes() -> bool {
    true
}

impl Indicator {
    /// A simple indicator for one value, meant for detection, with an id
    /// derived from its source, type and value.
    pub fn simple(kind: Kind, value: impl Into<String>, source: Arc<str>) -> Self {
        let value = value.into();
        Indicator {
            id: derived_id(&source, kind, &value),
            kind,
            value,
            terms: Vec::new(),
            source,
            detect: true,
            name: None,
            description: None,
            pattern: None,
            created: None,
            modified: None,
            first_seen: None,
            last_seen: None,
            valid_from: None,
            valid_until: None,
            confidence: None,
            tlp: None,
            labels: Vec::new(),
            attack: Vec::new(),
            malware: Vec::new(),
            actors: Vec::new(),
            created_by: None,
            stix: None,
            misp: None,
        }
    }

    /// The terms to match: `terms`, or the one observable `kind = value`.
    pub fn match_terms(&self) -> Vec<Term> {
        if self.terms.is_empty() {
            vec![vec![Observable::new(self.kind, self.value.clone())]]
        } else {
            self.terms.clone()
        }
    }

    /// Whether it has expired by `time`.
    pub fn expired_at(&self, time: Timestamp) -> bool {
        self.valid_until.is_some_and(|until| until <= time)
    }
}

/// The namespace of gsoc's name-based indicator ids.
const ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6a3f_0c55_2f0e_4d8a_9a57_1d2b_5c0e_a1f3);

/// A stable STIX id for an indicator that came without one: a version 5
/// UUID of its source, type and value, so that importing the same feed again
/// replaces instead of duplicating.
pub fn derived_id(source: &str, kind: Kind, value: &str) -> String {
    let name = format!("{source}\n{kind}\n{value}");
    format!(
        "indicator--{}",
        uuid::Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_tlp_parse_back() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
        }
        assert!("hostname".parse::<Kind>().is_err());
        for tlp in Tlp::ALL {
            assert_eq!(tlp.as_str().parse::<Tlp>(), Ok(tlp));
        }
        assert_eq!("TLP:WHITE".parse::<Tlp>(), Ok(Tlp::Clear));
        assert_eq!(Tlp::AmberStrict.to_string(), "TLP:AMBER+STRICT");
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = derived_id("maltrail", Kind::Domain, "evil.example");
        assert_eq!(a, derived_id("maltrail", Kind::Domain, "evil.example"));
        assert_ne!(a, derived_id("other", Kind::Domain, "evil.example"));
        assert!(a.starts_with("indicator--"));
        assert_eq!(a.len(), "indicator--".len() + 36);
    }

    #[test]
    fn expiry_is_exclusive_of_valid_until() {
        let mut ind = Indicator::simple(Kind::Ipv4, "192.0.2.1", Arc::from("t"));
        let t: Timestamp = "2024-01-01T00:00:00Z".parse().expect("valid");
        assert!(!ind.expired_at(t));
        ind.valid_until = Some(t);
        assert!(ind.expired_at(t));
        assert!(!ind.expired_at(t - jiff::SignedDuration::from_secs(1)));
    }
}
