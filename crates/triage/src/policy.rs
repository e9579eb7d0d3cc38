//! The triage policy: category mappings, the asset inventory, the windows
//! and the analyst suppressions, read from TOML over the shipped default
//! (`policy/default.toml`, explained line by line in the README).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use gsoc_event::Level;
use ipnet::IpNet;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::Category;
use crate::flow::Networks;

/// The shipped default policy, as TOML.
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.toml");

/// What is wrong with a policy file.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct PolicyError {
    /// The file (or `default policy`).
    pub origin: String,
    /// What is wrong, and where.
    pub message: String,
}

/// A triage policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The internal networks.
    pub internal: Networks,
    /// Duplicate folding window.
    pub duplicate: SignedDuration,
    /// How long a scan waits for a follow-up.
    pub reconnaissance: SignedDuration,
    /// How long a failed logon waits for a success.
    pub failed_logon: SignedDuration,
    /// How long an alert is held for what follows it.
    pub hold: SignedDuration,
    /// The most alerts held at once.
    pub max_pending: usize,
    /// Sensor actions that mean the traffic was stopped, lower case.
    pub blocked_actions: Vec<String>,
    /// Unanswered attempts before a source is a prober.
    pub probe_min_attempts: u32,
    /// Different paths answered 4xx before a web client is a prober.
    pub probe_min_web_paths: u32,
    /// The category mappings.
    pub categories: CategoryMaps,
    /// The asset inventory.
    pub assets: Vec<Asset>,
    /// Product names and the words in titles that name them.
    pub products: BTreeMap<String, Vec<String>>,
    /// Analyst suppressions.
    pub suppressions: Vec<Suppression>,
}

/// The mappings from what a detection says to a category.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryMaps {
    /// By rule id.
    #[serde(default)]
    pub rules: BTreeMap<String, Category>,
    /// By tag (ATT&CK tags, indicator labels), lower case.
    #[serde(default)]
    pub tags: BTreeMap<String, Category>,
    /// By Suricata classtype (short name or description).
    #[serde(default)]
    pub classtypes: BTreeMap<String, Category>,
    /// By text in the title.
    #[serde(default)]
    pub titles: BTreeMap<String, Category>,
    /// By Sigma log source product, category or service.
    #[serde(default)]
    pub logsources: BTreeMap<String, Category>,
}

/// One asset of the inventory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Its name.
    pub name: String,
    /// Its addresses (or networks).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Its host names.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// `windows`, `linux`, `macos`, …
    pub platform: Option<String>,
    /// What it runs (names as in `[products]`).
    #[serde(default)]
    pub software: Vec<String>,
    /// CVEs it is patched against.
    #[serde(default)]
    pub patched: Vec<String>,
    /// `low`, `normal`, `high` or `critical`.
    #[serde(default = "normal")]
    pub criticality: String,
    #[serde(skip)]
    networks: Vec<IpNet>,
}

fn normal() -> String {
    "normal".to_owned()
}

impl Asset {
    /// Whether the asset has this address.
    pub fn has_address(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(&ip))
    }

    /// Whether the asset has this host name (case and a domain suffix
    /// aside: `web01` is `web01.example.jp`).
    pub fn has_host(&self, host: &str) -> bool {
        let short = |h: &str| h.split('.').next().unwrap_or(h).to_ascii_lowercase();
        self.hosts.iter().any(|h| short(h) == short(host))
    }

    /// How criticality moves severity: -1, 0, +1 or +2.
    pub fn severity_shift(&self) -> i8 {
        match self.criticality.as_str() {
            "low" => -1,
            "high" => 1,
            "critical" => 2,
            _ => 0,
        }
    }
}

/// An analyst's suppression.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Rule id or title.
    pub rule: Option<String>,
    /// Host name.
    pub host: Option<String>,
    /// Source address or network.
    pub source: Option<String>,
    /// Who decided it.
    pub by: String,
    /// Why.
    pub reason: String,
    /// Until when (a date or a time); for ever when absent.
    pub until: Option<String>,
    #[serde(skip)]
    pub(crate) source_net: Option<IpNet>,
    #[serde(skip)]
    pub(crate) until_time: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    networks: RawNetworks,
    windows: RawWindows,
    blocked: RawBlocked,
    probes: RawProbes,
    categories: CategoryMaps,
    #[serde(default)]
    assets: Vec<Asset>,
    #[serde(default)]
    products: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    suppress: Vec<Suppression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetworks {
    internal: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindows {
    duplicate: String,
    reconnaissance: String,
    failed_logon: String,
    hold: String,
    max_pending: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlocked {
    actions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbes {
    min_attempts: u32,
    min_web_paths: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_toml(&[("default policy", DEFAULT_POLICY)])
            .expect("the shipped default policy is valid")
    }
}

impl Policy {
    /// The default policy with the file at `path` read over it.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            origin: origin.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        Policy::from_toml(&[("default policy", DEFAULT_POLICY), (&origin, &text)])
    }

    /// A policy from TOML texts, each read over the ones before it.
    pub fn from_toml(layers: &[(&str, &str)]) -> Result<Policy, PolicyError> {
        let mut merged = toml::Table::new();
        for (origin, text) in layers {
            let table: toml::Table = toml::from_str(text).map_err(|e| PolicyError {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
            merge(&mut merged, table);
        }
        let origin = layers.last().map_or("policy", |(o, _)| *o).to_owned();
        let fail = |message: String| PolicyError {
            origin: origin.clone(),
            message,
        };
        let raw: RawPolicy = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| fail(e.to_string()))?;
        raw.resolve().map_err(fail)
    }
}

impl RawPolicy {
    fn resolve(self) -> Result<Policy, String> {
        let mut assets = self.assets;
        for asset in &mut assets {
            asset.networks = asset
                .addresses
                .iter()
                .map(|a| network(a).map_err(|e| format!("assets '{}': {e}", asset.name)))
                .collect::<Result<_, _>>()?;
            asset.criticality = asset.criticality.to_ascii_lowercase();
        }
        let mut suppressions = self.suppress;
        for s in &mut suppressions {
            s.source_net = s.source.as_deref().map(network).transpose()?;
            s.until_time = s.until.as_deref().map(until).transpose()?;
        }
        let w = &self.windows;
        Ok(Policy {
            internal: Networks::new(
                self.networks
                    .internal
                    .iter()
                    .map(|n| network(n).map_err(|e| format!("networks.internal: {e}")))
                    .collect::<Result<_, _>>()?,
            ),
            duplicate: duration("windows.duplicate", &w.duplicate)?,
            reconnaissance: duration("windows.reconnaissance", &w.reconnaissance)?,
            failed_logon: duration("windows.failed_logon", &w.failed_logon)?,
            hold: duration("windows.hold", &w.hold)?,
            max_pending: w.max_pending.max(1),
            blocked_actions: self
                .blocked
                .actions
                .iter()
                .map(|a| a.to_ascii_lowercase())
                .collect(),
            probe_min_attempts: self.probes.min_attempts.max(1),
            probe_min_web_paths: self.probes.min_web_paths.max(1),
            categories: lower_tags(self.categories),
            assets,
            products: self.products,
            suppressions,
        })
    }
}

impl Policy {
    /// The asset with this address or host name.
    pub fn asset(&self, ip: Option<IpAddr>, host: Option<&str>) -> Option<&Asset> {
        self.assets
            .iter()
            .find(|a| ip.is_some_and(|ip| a.has_address(ip)) || host.is_some_and(|h| a.has_host(h)))
    }
}

fn lower_tags(mut maps: CategoryMaps) -> CategoryMaps {
    maps.tags = maps
        .tags
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    maps
}

/// Merges `over` into `base`: tables key by key, anything else replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// An address or a network.
fn network(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("'{text}' is neither an address nor a network (write 10.0.0.5 or 10.0.0.0/8)")
        })
}

fn duration(key: &str, text: &str) -> Result<SignedDuration, String> {
    text.parse::<SignedDuration>()
        .map_err(|_| format!("{key}: '{text}' is not a duration (write 90s, 10m or 1h)"))
}

fn until(text: &str) -> Result<Timestamp, String> {
    gsoc_event::time::parse_time(text)
        .ok_or_else(|| format!("suppress.until: '{text}' is not a date (write 2027-03-31)"))
}

/// How a rule level moves with a shift, clamped to Sigma's five levels.
pub fn shifted(level: Level, shift: i8) -> Level {
    let at = Level::ALL.iter().position(|l| *l == level).unwrap_or(2) as i8;
    Level::ALL[(at + shift).clamp(0, 4) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_reads_and_a_user_file_overrides_it() {
        let policy = Policy::default();
        assert!(policy.internal.is_internal("192.168.1.4".parse().unwrap()));
        assert_eq!(
            policy.categories.tags.get("attack.t1595"),
            Some(&Category::Reconnaissance)
        );
        let user = r#"
            [networks]
            internal = ["147.32.0.0/16"]
            [categories.tags]
            "attack.t1595" = "other"
            [[assets]]
            name = "web01"
            addresses = ["147.32.1.1"]
            platform = "linux"
        "#;
        let policy = Policy::from_toml(&[("d", DEFAULT_POLICY), ("u.toml", user)]).unwrap();
        assert!(!policy.internal.is_internal("192.168.1.4".parse().unwrap()));
        assert_eq!(
            policy.categories.tags.get("attack.t1595"),
            Some(&Category::Other)
        );
        assert_eq!(
            policy.categories.tags.get("attack.t1190"),
            Some(&Category::TargetedAttack),
            "tables merge key by key"
        );
        let asset = policy.asset(Some("147.32.1.1".parse().unwrap()), None);
        assert_eq!(asset.map(|a| a.name.as_str()), Some("web01"));
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let bad = "[windows]\nduplicate = \"soon\"\n";
        let e = Policy::from_toml(&[("d", DEFAULT_POLICY), ("mine.toml", bad)]).unwrap_err();
        assert_eq!(e.origin, "mine.toml");
        assert!(e.message.contains("windows.duplicate"), "{e}");
        let bad = "[categories.tags]\n\"attack.t1\" = \"nonsense\"\n";
        let e = Policy::from_toml(&[("d", DEFAULT_POLICY), ("mine.toml", bad)]).unwrap_err();
        assert!(e.message.contains("nonsense"), "{e}");
    }

    #[test]
    fn levels_shift_within_bounds() {
        assert_eq!(shifted(Level::High, 1), Level::Critical);
        assert_eq!(shifted(Level::Critical, 2), Level::Critical);
        assert_eq!(shifted(Level::Low, -3), Level::Informational);
    }
}
