//! Log-source mapping: which events a rule's `logsource` covers, and how
//! the rule's field names translate for each of them.
//!
//! A Sigma rule says `category: process_creation, product: windows`; the
//! events that means are Sysmon event 1 and Security event 4688, and for
//! 4688 the rule's `Image` is the event's `NewProcessName`. The mapping holds
//! those facts in two tables:
//!
//! * services: which Windows channel (or which program name, for syslog) is
//!   which Sigma service;
//! * categories: which product, service, event ids and field values make a
//!   Sigma category, with the field renames that apply to its rules.
//!
//! gsoc ships a default ([`Mapping::default`], from `mapping/default.yml`)
//! and reads the same format, or the `logsources` section of a sigmac/THOR
//! configuration such as SigmaHQ's `tests/thor.yml`.

use gsoc_event::{Event, Value};

use crate::error::{Error, ErrorKind};
use crate::rule::LogSourceSpec;
use crate::yaml::{self, Node};

const DEFAULT_MAPPING: &str = include_str!("../mapping/default.yml");

/// A log-source mapping.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    services: Vec<ServiceEntry>,
    pub(crate) categories: Vec<CategoryEntry>,
}

#[derive(Clone, Debug)]
struct ServiceEntry {
    product: String,
    service: String,
    /// Lower-cased channel names (Windows) or program names (syslog).
    sources: Vec<String>,
}

/// One way of producing a category.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CategoryEntry {
    pub(crate) category: String,
    product: Option<String>,
    service: Option<String>,
    event_ids: Vec<i64>,
    /// Further field conditions (`EventType: CreateKey`), lower-cased values.
    pub(crate) conditions: Vec<(String, Vec<String>)>,
    /// Rule field → event field renames for rules of this category.
    pub(crate) fields: Vec<(String, String)>,
}

/// What the engine needs to know about an event to pick rules for it: its
/// product, services, event id and decoder-assigned category. Events with
/// the same class get the same candidate rules.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventClass {
    pub(crate) product: Option<String>,
    pub(crate) services: Vec<String>,
    pub(crate) event_id: Option<i64>,
    pub(crate) category: Option<String>,
}

/// How a rule applies to a class of events: through which category entries
/// (none when the rule has no category or the decoder assigned it).
#[derive(Clone, Debug)]
pub(crate) enum Applicability {
    /// Not at all.
    No,
    /// Directly, with the rule's own field names.
    Direct,
    /// Through these category entries (indices into the mapping).
    Via(Vec<usize>),
}

impl Mapping {
    /// The mapping gsoc ships (`crates/sigma/mapping/default.yml`).
    pub fn builtin() -> Mapping {
        // The shipped file is tested; failing here is a build defect.
        Mapping::parse("default.yml", DEFAULT_MAPPING).expect("the shipped mapping parses")
    }

    /// Parses gsoc's mapping format, or the `logsources` section of a
    /// sigmac/THOR configuration (detected by that key).
    pub fn parse(path: &str, text: &str) -> Result<Mapping, Error> {
        let docs = yaml::parse_documents(text)
            .map_err(|e| Error::at(ErrorKind::Yaml, e.pos, e.message).in_file(path))?;
        let Some(doc) = docs.first() else {
            return Ok(Mapping::default());
        };
        let mapping = if let Some(logsources) = doc.get("logsources") {
            Self::from_sigmac(logsources)
        } else {
            Self::from_gsoc(doc)
        };
        mapping.map_err(|e| e.in_file(path))
    }

    /// Adds another mapping's entries after this one's.
    pub fn extend(&mut self, other: Mapping) {
        self.services.extend(other.services);
        self.categories.extend(other.categories);
    }

    fn from_gsoc(doc: &Node) -> Result<Mapping, Error> {
        let mut mapping = Mapping::default();
        for entry in doc
            .get("services")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            mapping.services.push(ServiceEntry {
                product: required_text(entry, "product")?,
                service: required_text(entry, "service")?,
                sources: strings(entry, "sources")
                    .iter()
                    .map(|s| s.to_lowercase())
                    .collect(),
            });
        }
        for entry in doc
            .get("categories")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            mapping.categories.push(CategoryEntry {
                category: required_text(entry, "category")?,
                product: text(entry, "product"),
                service: text(entry, "service"),
                event_ids: event_ids(entry.get("event_ids"))?,
                conditions: conditions(entry.get("conditions")),
                fields: pairs(entry.get("fields")),
            });
        }
        Ok(mapping)
    }

    fn from_sigmac(logsources: &Node) -> Result<Mapping, Error> {
        let mut mapping = Mapping::default();
        for (_, entry) in logsources.as_map().unwrap_or_default() {
            let rewrite = entry.get("rewrite");
            let product =
                text(entry, "product").or_else(|| rewrite.and_then(|r| text(r, "product")));
            let service = rewrite
                .and_then(|r| text(r, "service"))
                .or_else(|| text(entry, "service"));
            for source in strings(entry, "sources") {
                if let (Some(channel), Some(product), Some(service)) =
                    (source.strip_prefix("WinEventLog:"), &product, &service)
                {
                    mapping.services.push(ServiceEntry {
                        product: product.clone(),
                        service: service.clone(),
                        sources: vec![channel.to_lowercase()],
                    });
                }
            }
            let (Some(category), Some(cond)) = (text(entry, "category"), entry.get("conditions"))
            else {
                continue;
            };
            let mut conditions = conditions(Some(cond));
            let ids = conditions
                .iter()
                .position(|(f, _)| f == "EventID")
                .map(|at| conditions.remove(at));
            let event_ids = ids
                .map(|(_, values)| values.iter().filter_map(|v| v.parse().ok()).collect())
                .unwrap_or_default();
            mapping.categories.push(CategoryEntry {
                category,
                product,
                service,
                event_ids,
                conditions,
                fields: pairs(entry.get("fieldmappings")),
            });
        }
        Ok(mapping)
    }

    /// Works out an event's class.
    pub fn classify(&self, event: &Event) -> EventClass {
        let product = event.logsource.product.as_deref().map(str::to_owned);
        let mut services: Vec<String> = event
            .logsource
            .service
            .iter()
            .map(|s| s.to_string())
            .collect();
        let source = match product.as_deref() {
            Some("windows") => event.fields.get_str("Channel").map(str::to_lowercase),
            _ => event.logsource.service.as_deref().map(str::to_lowercase),
        };
        if let (Some(product), Some(source)) = (&product, source) {
            for entry in &self.services {
                if &entry.product == product
                    && entry.sources.contains(&source)
                    && !services.contains(&entry.service)
                {
                    services.push(entry.service.clone());
                }
            }
        }
        let event_id = event.fields.get("EventID").and_then(Value::as_i64);
        EventClass {
            product,
            services,
            event_id,
            category: event.logsource.category.as_deref().map(str::to_owned),
        }
    }

    /// Whether (and how) a rule's log source covers a class of events.
    pub(crate) fn applicability(&self, rule: &LogSourceSpec, class: &EventClass) -> Applicability {
        if rule
            .product
            .as_ref()
            .is_some_and(|p| class.product.as_ref() != Some(p))
        {
            return Applicability::No;
        }
        if rule
            .service
            .as_ref()
            .is_some_and(|s| !class.services.contains(s))
        {
            return Applicability::No;
        }
        let Some(category) = &rule.category else {
            return Applicability::Direct;
        };
        if class.category.as_ref() == Some(category) {
            return Applicability::Direct;
        }
        let entries: Vec<usize> = self
            .categories
            .iter()
            .enumerate()
            .filter(|(_, e)| &e.category == category && e.covers(class))
            .map(|(i, _)| i)
            .collect();
        if entries.is_empty() {
            Applicability::No
        } else {
            Applicability::Via(entries)
        }
    }

    /// The field renames of every category entry a rule could go through,
    /// grouped: each distinct rename table once.
    pub(crate) fn field_maps_for(&self, rule: &LogSourceSpec) -> Vec<Vec<(String, String)>> {
        let mut maps: Vec<Vec<(String, String)>> = vec![Vec::new()];
        if let Some(category) = &rule.category {
            for entry in self.categories.iter().filter(|e| &e.category == category) {
                if !maps.contains(&entry.fields) {
                    maps.push(entry.fields.clone());
                }
            }
        }
        maps
    }
}

impl CategoryEntry {
    fn covers(&self, class: &EventClass) -> bool {
        self.product
            .as_ref()
            .is_none_or(|p| class.product.as_ref() == Some(p))
            && self
                .service
                .as_ref()
                .is_none_or(|s| class.services.contains(s))
            && (self.event_ids.is_empty()
                || class
                    .event_id
                    .is_some_and(|id| self.event_ids.contains(&id)))
    }
}

fn text(node: &Node, key: &str) -> Option<String> {
    node.get(key).and_then(Node::as_str).map(str::to_owned)
}

fn required_text(node: &Node, key: &str) -> Result<String, Error> {
    text(node, key).ok_or_else(|| {
        Error::at(
            ErrorKind::Structure,
            node.pos,
            format!("mapping entry needs '{key}'"),
        )
    })
}

fn strings(node: &Node, key: &str) -> Vec<String> {
    node.get(key).map(Node::strings).unwrap_or_default()
}

fn event_ids(node: Option<&Node>) -> Result<Vec<i64>, Error> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    node.strings()
        .iter()
        .map(|s| {
            s.parse().map_err(|_| {
                Error::at(
                    ErrorKind::Value,
                    node.pos,
                    format!("event id '{s}' is not a number"),
                )
            })
        })
        .collect()
}

fn conditions(node: Option<&Node>) -> Vec<(String, Vec<String>)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str()?.to_owned(),
                v.strings().iter().map(|s| s.to_lowercase()).collect(),
            ))
        })
        .collect()
}

fn pairs(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use gsoc_event::{Format, LogSource};

    use super::*;

    fn windows_event(channel: &str, id: i64) -> Event {
        let mut e = Event::new(Format::WinJson, "t", 1, "");
        e.logsource = LogSource::product("windows");
        e.fields.push("Channel", Value::from(channel));
        e.fields.push("EventID", Value::Int(id));
        e
    }

    fn spec(category: Option<&str>, product: Option<&str>, service: Option<&str>) -> LogSourceSpec {
        LogSourceSpec {
            category: category.map(str::to_owned),
            product: product.map(str::to_owned),
            service: service.map(str::to_owned),
        }
    }

    #[test]
    fn builtin_maps_process_creation_to_sysmon_and_security() {
        let mapping = Mapping::builtin();
        let rule = spec(Some("process_creation"), Some("windows"), None);
        let sysmon = mapping.classify(&windows_event("Microsoft-Windows-Sysmon/Operational", 1));
        assert_eq!(sysmon.services, ["sysmon"]);
        assert!(matches!(
            mapping.applicability(&rule, &sysmon),
            Applicability::Via(_)
        ));
        let security = mapping.classify(&windows_event("security", 4688));
        let Applicability::Via(entries) = mapping.applicability(&rule, &security) else {
            panic!("4688 is process creation")
        };
        assert!(
            mapping.categories[entries[0]]
                .fields
                .contains(&("Image".into(), "NewProcessName".into()))
        );
        let other = mapping.classify(&windows_event("Security", 4624));
        assert!(matches!(
            mapping.applicability(&rule, &other),
            Applicability::No
        ));
        let service_rule = spec(None, Some("windows"), Some("security"));
        assert!(matches!(
            mapping.applicability(&service_rule, &other),
            Applicability::Direct
        ));
    }

    #[test]
    fn reads_sigmac_logsources() {
        let text = "logsources:\n  pc:\n    category: process_creation\n    product: windows\n    conditions:\n      EventID: 4688\n    rewrite:\n      product: windows\n      service: security\n    fieldmappings:\n      Image: NewProcessName\n  sec:\n    product: windows\n    service: security\n    sources:\n      - 'WinEventLog:Security'\n";
        let mapping = Mapping::parse("thor.yml", text).expect("valid");
        let class = mapping.classify(&windows_event("Security", 4688));
        let rule = spec(Some("process_creation"), Some("windows"), None);
        assert!(matches!(
            mapping.applicability(&rule, &class),
            Applicability::Via(_)
        ));
    }
}
