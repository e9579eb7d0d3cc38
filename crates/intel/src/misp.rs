//! MISP: importing events (attributes, objects, tags, galaxies; `to_ids`
//! decides whether an indicator matches) and feed folders, exporting an
//! event.
//!
//! An attribute becomes the STIX indicator MISP's own exporter (misp-stix)
//! would write for it, pattern for pattern, so that MISP → gsoc → STIX
//! agrees with MISP → STIX.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::import::Imported;
use crate::model::{Indicator, Kind, Observable, Role, Term, Tlp};
use crate::stix::pattern::{self, url_with_scheme};
use crate::stix::{marking, stix_time};

/// Imports a MISP document: an event (bare, under `Event`, or in a
/// `response` list), a list of events, or a feed's `manifest.json`.
pub fn import(file: &str, text: &str, source: &Arc<str>) -> Imported {
    let mut imported = Imported::default();
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            imported.error(
                file,
                format!("line {} column {}", e.line(), e.column()),
                format!("not valid JSON: {e}"),
            );
            return imported;
        }
    };
    for (n, event) in events(file, &root, &mut imported).into_iter().enumerate() {
        EventImport::new(file, n, event, source).run(&mut imported);
    }
    imported
}

/// The events in a MISP document; what is not an event is counted as
/// skipped with what it is.
fn events<'a>(file: &str, root: &'a Value, imported: &mut Imported) -> Vec<&'a Value> {
    match root {
        Value::Array(items) => items
            .iter()
            .map(|item| item.get("Event").unwrap_or(item))
            .collect(),
        Value::Object(o) if o.contains_key("response") => match &o["response"] {
            Value::Array(items) => items
                .iter()
                .map(|item| item.get("Event").unwrap_or(item))
                .collect(),
            other => vec![other.get("Event").unwrap_or(other)],
        },
        Value::Object(o) if o.contains_key("Event") => vec![&o["Event"]],
        Value::Object(o) if o.is_empty() => {
            imported.skip("empty MISP document");
            Vec::new()
        }
        Value::Object(o) if o.contains_key("requiredOneOf") || o.contains_key("attributes") => {
            imported.skip("MISP object template (not indicators)");
            Vec::new()
        }
        Value::Object(o) if o.contains_key("GalaxyCluster") => {
            imported.skip("MISP galaxy definition (not indicators)");
            Vec::new()
        }
        Value::Object(o) if file.ends_with("manifest.json") || is_manifest(o) => {
            imported.skip(format!(
                "MISP feed manifest listing {} events (the events are read from their own files)",
                o.len()
            ));
            Vec::new()
        }
        Value::Object(o)
            if ["Attribute", "Object", "info", "uuid"]
                .iter()
                .any(|k| o.contains_key(*k)) =>
        {
            vec![root]
        }
        Value::Object(o) if o.contains_key("value") && o.contains_key("timestamp") => {
            imported.skip("MISP sighting (not an indicator)");
            Vec::new()
        }
        _ => {
            imported.error(file, "", "not a MISP event, event list or feed manifest");
            Vec::new()
        }
    }
}

/// A feed manifest maps event uuids to event summaries.
fn is_manifest(object: &Map<String, Value>) -> bool {
    !object.is_empty()
        && object
            .iter()
            .all(|(k, v)| k.len() == 36 && v.get("info").is_some())
}

/// Reading one event.
struct EventImport<'a> {
    file: &'a str,
    event: &'a Value,
    place: String,
    source: &'a Arc<str>,
    org: Option<String>,
    tags: Tags,
}

/// What tags and galaxies say.
#[derive(Clone, Debug, Default)]
struct Tags {
    tlp: Option<Tlp>,
    confidence: Option<u8>,
    labels: Vec<String>,
    attack: Vec<String>,
    malware: Vec<String>,
    actors: Vec<String>,
}

impl Tags {
    fn read(&mut self, holder: &Value) {
        for tag in holder
            .get("Tag")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = tag.get("name").and_then(Value::as_str) {
                self.tag(name);
            }
        }
        for galaxy in holder
            .get("Galaxy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = galaxy.get("type").and_then(Value::as_str).unwrap_or("");
            for cluster in galaxy
                .get("GalaxyCluster")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(value) = cluster.get("value").and_then(Value::as_str) {
                    self.galaxy(kind, value);
                }
            }
        }
    }

    fn tag(&mut self, name: &str) {
        if name.to_ascii_lowercase().starts_with("tlp:") {
            if let Ok(tlp) = name.parse::<Tlp>() {
                self.tlp = self.tlp.max(Some(tlp));
            }
            return;
        }
        if let Some(certainty) = name.strip_prefix("osint:certainty=") {
            self.confidence = certainty
                .trim_matches('"')
                .parse()
                .ok()
                .map(|c: u8| c.min(100));
            return;
        }
        if let Some(rest) = name.strip_prefix("misp-galaxy:")
            && let Some((kind, value)) = rest.split_once('=')
        {
            self.galaxy(kind, value.trim_matches('"'));
            return;
        }
        push_unique(&mut self.labels, name.to_owned());
    }

    fn galaxy(&mut self, kind: &str, value: &str) {
        let target = match kind {
            "mitre-attack-pattern" | "mitre-enterprise-attack-attack-pattern" => {
                let id = value.rsplit(" - ").next().unwrap_or(value);
                push_unique(&mut self.attack, id.to_owned());
                return;
            }
            "threat-actor" | "mitre-intrusion-set" | "microsoft-activity-group" => &mut self.actors,
            "malpedia" | "mitre-malware" | "malware" | "tool" | "mitre-tool" | "ransomware"
            | "rat" | "banker" | "stealer" | "botnet" | "backdoor" => &mut self.malware,
            _ => &mut self.labels,
        };
        push_unique(target, value.to_owned());
    }

    fn merged(&self, other: &Tags) -> Tags {
        let mut tags = self.clone();
        tags.tlp = tags.tlp.max(other.tlp);
        tags.confidence = other.confidence.or(tags.confidence);
        for (into, from) in [
            (&mut tags.labels, &other.labels),
            (&mut tags.attack, &other.attack),
            (&mut tags.malware, &other.malware),
            (&mut tags.actors, &other.actors),
        ] {
            from.iter().for_each(|v| push_unique(into, v.clone()));
        }
        tags
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

impl<'a> EventImport<'a> {
    fn new(file: &'a str, n: usize, event: &'a Value, source: &'a Arc<str>) -> Self {
        let mut tags = Tags::default();
        tags.read(event);
        let org = event
            .pointer("/Orgc/uuid")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let place = match event.get("uuid").and_then(Value::as_str) {
            Some(uuid) => format!("event {uuid}"),
            None => format!("event {}", n + 1),
        };
        EventImport {
            file,
            event,
            place,
            source,
            org,
            tags,
        }
    }

    fn run(&self, imported: &mut Imported) {
        if let Some(identity) = self.identity() {
            imported.objects.push(identity);
        }
        let attributes = list(self.event, "Attribute");
        let objects = list(self.event, "Object");
        if attributes.is_empty() && objects.is_empty() {
            imported.skip("MISP event without attributes");
        }
        for (n, attribute) in attributes.iter().enumerate() {
            self.attribute(n, attribute, imported);
        }
        for (n, object) in objects.iter().enumerate() {
            self.object(n, object, imported);
        }
    }

    /// The STIX identity of the event's creator organisation.
    fn identity(&self) -> Option<Value> {
        let org = self.event.get("Orgc")?;
        let uuid = org.get("uuid")?.as_str()?;
        let created = event_time(self.event).map(stix_time);
        let mut identity = json!({
            "type": "identity", "spec_version": "2.1",
            "id": format!("identity--{uuid}"),
            "name": org.get("name").and_then(Value::as_str).unwrap_or(uuid),
            "identity_class": "organization",
        });
        if let Some(created) = created {
            identity["created"] = json!(created);
            identity["modified"] = json!(created);
        }
        Some(identity)
    }

    fn attribute(&self, n: usize, attribute: &Value, imported: &mut Imported) {
        let place = format!("{}, attribute {}", self.place, uuid_or_index(attribute, n));
        if attribute.get("deleted").and_then(Value::as_bool) == Some(true) {
            imported.skip("deleted MISP attribute");
            return;
        }
        let kind = text(attribute, "type");
        let value = text(attribute, "value");
        let Some(comparisons) = attribute_pattern(kind, value) else {
            imported.skip(format!(
                "MISP attribute of type {kind} (not an indicator gsoc matches)"
            ));
            return;
        };
        let pattern_text = format!("[{comparisons}]");
        let mut tags = Tags::default();
        tags.read(attribute);
        let tags = self.tags.merged(&tags);
        let labels = vec![
            format!("misp:type=\"{kind}\""),
            format!("misp:category=\"{}\"", text(attribute, "category")),
        ];
        let detect = to_ids(attribute, kind);
        self.add(
            &place,
            attribute,
            &pattern_text,
            labels,
            tags,
            detect,
            imported,
        );
    }

    fn object(&self, n: usize, object: &Value, imported: &mut Imported) {
        let place = format!("{}, object {}", self.place, uuid_or_index(object, n));
        let name = text(object, "name");
        let attributes = list(object, "Attribute");
        let comparisons: Vec<String> = attributes
            .iter()
            .filter(|a| a.get("deleted").and_then(Value::as_bool) != Some(true))
            .filter_map(|a| {
                object_comparison(
                    name,
                    text(a, "object_relation"),
                    text(a, "type"),
                    text(a, "value"),
                )
            })
            .collect();
        if comparisons.is_empty() {
            imported.skip(format!("MISP object {name} (nothing gsoc matches)"));
            return;
        }
        let pattern_text = format!("[{}]", comparisons.join(" AND "));
        let mut tags = Tags::default();
        tags.read(object);
        attributes.iter().for_each(|a| tags.read(a));
        let tags = self.tags.merged(&tags);
        let labels = vec![
            format!("misp:name=\"{name}\""),
            format!("misp:meta-category=\"{}\"", text(object, "meta-category")),
        ];
        let detect = attributes
            .iter()
            .any(|a| a.get("to_ids").and_then(Value::as_bool) == Some(true));
        self.add(
            &place,
            object,
            &pattern_text,
            labels,
            tags,
            detect,
            imported,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        place: &str,
        record: &Value,
        pattern_text: &str,
        labels: Vec<String>,
        tags: Tags,
        detect: bool,
        imported: &mut Imported,
    ) {
        let compiled = match pattern::compile(pattern_text) {
            Ok(c) if !c.terms.is_empty() => c,
            Ok(c) if c.notes.is_empty() => {
                imported.skip("MISP object with nothing logs can match (a file name alone)");
                return;
            }
            Ok(c) => {
                imported.error(self.file, place, c.notes.join("; "));
                return;
            }
            Err(e) => {
                imported.error(self.file, place, format!("bad value: {e}"));
                return;
            }
        };
        for note in compiled.notes {
            imported.note(self.file, place, note);
        }
        let id = match record.get("uuid").and_then(Value::as_str) {
            Some(uuid) => format!("indicator--{uuid}"),
            None => crate::model::derived_id(self.source, Kind::Url, pattern_text),
        };
        let stix = self.stix_object(&id, record, pattern_text, &labels, tags.tlp);
        let mut terms = compiled.terms;
        let main = terms
            .iter()
            .flatten()
            .find(|o| o.kind.is_anchor())
            .cloned()
            .unwrap_or_else(|| terms[0][0].clone());
        if terms.len() == 1 && terms[0].len() == 1 && terms[0][0].role == Role::Any {
            terms.clear();
        }
        let created = record_time(record);
        let mut indicator = Indicator::simple(main.kind, main.value, Arc::clone(self.source));
        indicator.id = id;
        indicator.terms = terms;
        indicator.detect = detect;
        indicator.description = Some(text(record, "comment").to_owned()).filter(|c| !c.is_empty());
        indicator.pattern = Some(pattern_text.to_owned());
        indicator.created = created;
        indicator.modified = created;
        indicator.first_seen = seen(record, "first_seen");
        indicator.last_seen = seen(record, "last_seen");
        indicator.valid_from = indicator.first_seen.or(created);
        indicator.valid_until = indicator.last_seen;
        indicator.confidence = tags.confidence;
        indicator.tlp = tags.tlp;
        indicator.labels = labels.into_iter().chain(tags.labels).collect();
        indicator.attack = tags.attack;
        indicator.malware = tags.malware;
        indicator.actors = tags.actors;
        indicator.created_by = self.org.as_ref().map(|o| format!("identity--{o}"));
        indicator.stix = Some(Box::new(stix));
        indicator.misp = Some(Box::new(record.clone()));
        imported.indicators.push(indicator);
    }

    /// The STIX indicator misp-stix writes for an attribute or object.
    fn stix_object(
        &self,
        id: &str,
        record: &Value,
        pattern_text: &str,
        labels: &[String],
        tlp: Option<Tlp>,
    ) -> Value {
        let mut object = Map::new();
        object.insert("type".into(), json!("indicator"));
        object.insert("spec_version".into(), json!("2.1"));
        object.insert("id".into(), json!(id));
        if let Some(org) = &self.org {
            object.insert("created_by_ref".into(), json!(format!("identity--{org}")));
        }
        let created = record_time(record).or_else(|| event_time(self.event));
        if let Some(created) = created {
            object.insert("created".into(), json!(stix_time(created)));
            object.insert("modified".into(), json!(stix_time(created)));
        }
        let comment = text(record, "comment");
        if !comment.is_empty() {
            object.insert("description".into(), json!(comment));
        }
        object.insert("pattern".into(), json!(pattern_text));
        object.insert("pattern_type".into(), json!("stix"));
        object.insert("pattern_version".into(), json!("2.1"));
        let valid_from = seen(record, "first_seen").or(created);
        if let Some(from) = valid_from {
            object.insert("valid_from".into(), json!(from.to_string()));
        }
        if let Some(until) = seen(record, "last_seen").filter(|u| Some(*u) > valid_from) {
            object.insert("valid_until".into(), json!(until.to_string()));
        }
        let phase = text(record, "category");
        let phase = if phase.is_empty() {
            text(record, "meta-category")
        } else {
            phase
        };
        object.insert(
            "kill_chain_phases".into(),
            json!([{"kill_chain_name": "misp-category", "phase_name": phase}]),
        );
        object.insert("labels".into(), json!(labels));
        if let Some(tlp) = tlp {
            object.insert("object_marking_refs".into(), json!([marking::tlp2_id(tlp)]));
        }
        Value::Object(object)
    }
}

fn list<'a>(holder: &'a Value, key: &str) -> &'a [Value] {
    holder
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn uuid_or_index(record: &Value, n: usize) -> String {
    record
        .get("uuid")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| (n + 1).to_string())
}

/// `to_ids`, or MISP's default for the type when it is missing.
fn to_ids(attribute: &Value, kind: &str) -> bool {
    match attribute.get("to_ids") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => !matches!(kind, "link" | "user-agent"),
    }
}

/// A MISP timestamp (seconds since the epoch, as a string or a number).
fn record_time(record: &Value) -> Option<Timestamp> {
    let seconds = match record.get("timestamp")? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    Timestamp::from_second(seconds).ok()
}

fn event_time(event: &Value) -> Option<Timestamp> {
    record_time(event)
}

/// `first_seen`/`last_seen` (ISO 8601, as MISP writes them).
fn seen(record: &Value, key: &str) -> Option<Timestamp> {
    let text = record.get(key)?.as_str()?;
    text.parse::<Timestamp>().ok().or_else(|| {
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text)
            .ok()?
            .to_timestamp()
            .ok()
    })
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn address_type(value: &str) -> &'static str {
    if value.contains(':') {
        "ipv6-addr"
    } else {
        "ipv4-addr"
    }
}

/// The comparison misp-stix writes for an IP attribute on one side.
fn traffic(side: &str, ip: &str) -> String {
    format!(
        "network-traffic:{side}_ref.type = '{}' AND network-traffic:{side}_ref.value = {}",
        address_type(ip),
        quote(ip)
    )
}

/// The STIX comparisons (without brackets) misp-stix writes for an
/// attribute, for the types gsoc matches.
pub fn attribute_pattern(kind: &str, value: &str) -> Option<String> {
    let (first, second) = value.split_once('|').unwrap_or((value, ""));
    let pattern = match kind {
        "ip-src" | "ip-dst" => traffic(&kind[3..], value),
        "ip-src|port" | "ip-dst|port" => {
            let side = &kind[3..6];
            format!(
                "{} AND network-traffic:{side}_port = {}",
                traffic(side, first),
                quote(second)
            )
        }
        "domain" | "hostname" => format!("domain-name:value = {}", quote(value)),
        "domain|ip" => format!(
            "domain-name:value = {} AND domain-name:resolves_to_refs[*].value = {}",
            quote(first),
            quote(second)
        ),
        "hostname|port" => format!(
            "domain-name:value = {} AND network-traffic:dst_port = {}",
            quote(first),
            quote(second)
        ),
        "url" | "uri" | "link" => format!("url:value = {}", quote(value)),
        "email" => format!("email-addr:value = {}", quote(value)),
        "email-src" => format!("email-message:from_ref.value = {}", quote(value)),
        "email-dst" => format!("email-message:to_refs[*].value = {}", quote(value)),
        "user-agent" => format!(
            "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {}",
            quote(value)
        ),
        "ja3-fingerprint-md5" => format!("network-traffic:x_ja3_md5 = {}", quote(value)),
        _ => {
            if let Some(hash) = kind.strip_prefix("filename|") {
                return Some(format!(
                    "file:name = {} AND {}",
                    quote(first),
                    hash_comparison(hash, second)?
                ));
            }
            hash_comparison(kind, value)?
        }
    };
    Some(pattern)
}

fn hash_comparison(kind: &str, value: &str) -> Option<String> {
    let path = match kind {
        "md5" => "MD5",
        "sha1" => "'SHA-1'",
        "sha256" => "'SHA-256'",
        "sha512" => "'SHA-512'",
        "imphash" => "IMPHASH",
        _ => return None,
    };
    Some(format!("file:hashes.{path} = {}", quote(value)))
}

/// The comparison for one attribute of a MISP object, for the objects and
/// relations gsoc matches.
fn object_comparison(object: &str, relation: &str, kind: &str, value: &str) -> Option<String> {
    match (object, relation) {
        ("domain-ip", "ip") => Some(format!(
            "domain-name:resolves_to_refs[*].value = {}",
            quote(value)
        )),
        ("domain-ip" | "url", "domain" | "hostname" | "host") if object == "domain-ip" => {
            Some(format!("domain-name:value = {}", quote(value)))
        }
        ("ip-port" | "network-connection", "ip" | "ip-dst") => Some(traffic("dst", value)),
        ("network-connection", "ip-src") => Some(traffic("src", value)),
        ("ip-port" | "network-connection", "dst-port") => {
            Some(format!("network-traffic:dst_port = {}", quote(value)))
        }
        ("ip-port" | "network-connection", "domain" | "hostname" | "hostname-dst") => {
            Some(format!(
                "network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = {}",
                quote(value)
            ))
        }
        ("url", "url") => Some(format!("url:value = {}", quote(value))),
        ("email", "from") => Some(format!("email-message:from_ref.value = {}", quote(value))),
        ("email", "to" | "cc") => {
            Some(format!("email-message:to_refs[*].value = {}", quote(value)))
        }
        ("file", "filename") => Some(format!("file:name = {}", quote(value))),
        ("file", _) => hash_comparison(kind, value),
        _ => None,
    }
}

/// Builds one MISP event holding the indicators: the attribute or object
/// each came from when it came from MISP, new attributes otherwise.
pub fn export(indicators: &[&Indicator], info: &str, now: Timestamp) -> Value {
    let mut attributes = Vec::new();
    let mut objects = Vec::new();
    for indicator in indicators {
        match indicator.misp.as_deref() {
            Some(record) if record.get("Attribute").is_some() => {
                objects.push(exported_record(record, indicator))
            }
            Some(record) => attributes.push(exported_record(record, indicator)),
            None => attributes.extend(new_attributes(indicator, now)),
        }
    }
    let date = now.strftime("%Y-%m-%d").to_string();
    json!({"Event": {
        "uuid": uuid::Uuid::new_v4().to_string(),
        "info": info,
        "date": date,
        "timestamp": now.as_second().to_string(),
        "published": false,
        "analysis": "2",
        "threat_level_id": "2",
        "distribution": "0",
        "Attribute": attributes,
        "Object": objects,
    }})
}

/// A MISP record as imported, without the ids of the instance it came
/// from, with `to_ids` as gsoc has it.
fn exported_record(record: &Value, indicator: &Indicator) -> Value {
    let mut record = record.clone();
    if let Some(map) = record.as_object_mut() {
        for key in ["id", "event_id", "object_id", "sharing_group_id"] {
            map.remove(key);
        }
        if map.get("Attribute").is_none() {
            map.insert("to_ids".into(), json!(indicator.detect));
        }
    }
    record
}

/// New attributes for an indicator that did not come from MISP: one per
/// term.
fn new_attributes(indicator: &Indicator, now: Timestamp) -> Vec<Value> {
    let terms = indicator.match_terms();
    let uuid_text = indicator.id.rsplit("--").next().unwrap_or(&indicator.id);
    let mut tags: Vec<Value> = Vec::new();
    if let Some(tlp) = indicator.tlp {
        tags.push(json!({"name": format!("tlp:{}", tlp.as_str())}));
    }
    for (galaxy, names) in [
        ("malpedia", &indicator.malware),
        ("threat-actor", &indicator.actors),
        ("mitre-attack-pattern", &indicator.attack),
    ] {
        tags.extend(
            names
                .iter()
                .map(|n| json!({"name": format!("misp-galaxy:{galaxy}=\"{n}\"")})),
        );
    }
    tags.extend(indicator.labels.iter().map(|l| json!({ "name": l })));
    let timestamp = indicator.modified.or(indicator.created).unwrap_or(now);
    terms
        .iter()
        .enumerate()
        .filter_map(|(n, term)| {
            let (kind, value) = attribute_for(term)?;
            let uuid = if terms.len() == 1 && uuid::Uuid::parse_str(uuid_text).is_ok() {
                uuid_text.to_owned()
            } else {
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}\n{n}", indicator.id).as_bytes())
                    .to_string()
            };
            let mut attribute = json!({
                "uuid": uuid,
                "type": kind,
                "category": category(kind),
                "value": value,
                "to_ids": indicator.detect,
                "comment": indicator.description.clone().or_else(|| indicator.name.clone()).unwrap_or_default(),
                "timestamp": timestamp.as_second().to_string(),
                "Tag": tags,
            });
            if let Some(first) = indicator.first_seen {
                attribute["first_seen"] = json!(first.to_string());
            }
            if let Some(last) = indicator.last_seen {
                attribute["last_seen"] = json!(last.to_string());
            }
            Some(attribute)
        })
        .collect()
}

/// The MISP attribute type and value for a term.
fn attribute_for(term: &Term) -> Option<(&'static str, String)> {
    let main = term.iter().find(|o| o.kind.is_anchor())?;
    let extra = |kind: Kind| term.iter().find(|o| o.kind == kind);
    let port = extra(Kind::Port);
    let file_name = extra(Kind::FileName);
    let resolved = term
        .iter()
        .find(|o| o.role == Role::Resolved && o.kind != Kind::Domain);
    let value = main.value.clone();
    let found = match main.kind {
        Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => {
            let side = if main.role == Role::Source {
                "src"
            } else {
                "dst"
            };
            match port {
                Some(p) => (ip_port_type(side), format!("{value}|{}", p.value)),
                None => (ip_type(side), value),
            }
        }
        Kind::Domain => match (resolved, port) {
            (Some(ip), _) => ("domain|ip", format!("{value}|{}", ip.value)),
            (None, Some(p)) => ("hostname|port", format!("{value}|{}", p.value)),
            (None, None) => ("domain", value),
        },
        Kind::Url => ("url", url_with_scheme(&value)),
        Kind::Email => match main.role {
            Role::Sender => ("email-src", value),
            Role::Recipient => ("email-dst", value),
            _ => ("email", value),
        },
        Kind::Ja3 => ("ja3-fingerprint-md5", value),
        Kind::UserAgent => ("user-agent", value),
        hash => hash_attribute(hash, file_name, value)?,
    };
    Some(found)
}

fn ip_type(side: &str) -> &'static str {
    if side == "src" { "ip-src" } else { "ip-dst" }
}

fn ip_port_type(side: &str) -> &'static str {
    if side == "src" {
        "ip-src|port"
    } else {
        "ip-dst|port"
    }
}

fn hash_attribute(
    kind: Kind,
    file_name: Option<&Observable>,
    value: String,
) -> Option<(&'static str, String)> {
    let (plain, with_name) = match kind {
        Kind::Md5 => ("md5", "filename|md5"),
        Kind::Sha1 => ("sha1", "filename|sha1"),
        Kind::Sha256 => ("sha256", "filename|sha256"),
        Kind::Sha512 => ("sha512", "filename|sha512"),
        Kind::Imphash => ("imphash", "filename|imphash"),
        _ => return None,
    };
    Some(match file_name {
        Some(name) => (with_name, format!("{}|{value}", name.value)),
        None => (plain, value),
    })
}

/// MISP's default category for an attribute type (describeTypes.json).
fn category(kind: &str) -> &'static str {
    match kind {
        "email" => "Social network",
        "md5" | "sha1" | "sha256" | "sha512" | "imphash" | "email-src" => "Payload delivery",
        k if k.starts_with("filename|") => "Payload delivery",
        _ => "Network activity",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"Event": {
        "uuid": "5a3c2fcd-8328-42bb-a95e-4f4402de0b81", "info": "test", "timestamp": "1513948642",
        "Orgc": {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
        "Tag": [{"name": "tlp:white"}, {"name": "misp-galaxy:threat-actor=\"Sofacy\""}],
        "Attribute": [
          {"uuid": "518b4bcb-a86b-4783-9457-391d548b605b", "type": "ip-dst", "category": "Network activity",
           "value": "5.6.7.8", "to_ids": true, "timestamp": "1603642920", "comment": "C2",
           "Tag": [{"name": "misp-galaxy:mitre-attack-pattern=\"Application Layer Protocol - T1071\""}, {"name": "osint:certainty=\"93\""}]},
          {"uuid": "5a3c2fda-78f4-44b7-8366-46da02de0b81", "type": "link", "category": "External analysis",
           "value": "https://www.welivesecurity.com/x/", "to_ids": false, "timestamp": "1513893921"},
          {"uuid": "11111111-78f4-44b7-8366-46da02de0b81", "type": "text", "value": "note", "to_ids": false},
          {"uuid": "22222222-78f4-44b7-8366-46da02de0b81", "type": "ip-src", "value": "not-an-ip", "to_ids": true}
        ],
        "Object": [{"uuid": "33333333-78f4-44b7-8366-46da02de0b81", "name": "file", "meta-category": "file",
          "Attribute": [
            {"type": "filename", "object_relation": "filename", "value": "a.exe", "to_ids": true},
            {"type": "sha1", "object_relation": "sha1", "value": "2920d5e6c579fce772e5506caf03af65579088bd", "to_ids": true},
            {"type": "text", "object_relation": "state", "value": "Malicious", "to_ids": false}]}]
    }}"#;

    #[test]
    fn event_imports_with_tags_and_to_ids() {
        let imported = import("e.json", EVENT, &Arc::from("circl"));
        assert_eq!(imported.indicators.len(), 3, "{:?}", imported.errors);
        let ip = &imported.indicators[0];
        assert_eq!((ip.kind, ip.value.as_str()), (Kind::Ipv4, "5.6.7.8"));
        assert_eq!(ip.terms[0][0].role, Role::Destination);
        assert_eq!(ip.tlp, Some(Tlp::Clear));
        assert_eq!(ip.confidence, Some(93));
        assert_eq!(ip.attack, vec!["T1071"]);
        assert_eq!(ip.actors, vec!["Sofacy"]);
        assert!(ip.detect);
        assert!(
            !imported.indicators[1].detect,
            "to_ids false is kept, not matched"
        );
        let file = &imported.indicators[2];
        assert_eq!(file.kind, Kind::Sha1);
        assert_eq!(file.terms[0].len(), 2);
        assert_eq!(imported.errors.len(), 1);
        assert!(imported.errors[0].place.contains("22222222"));
        assert_eq!(imported.skipped.values().sum::<usize>(), 1);
        assert_eq!(imported.objects[0]["type"], "identity");
    }

    #[test]
    fn export_round_trips_misp_records_and_writes_new_ones() {
        let imported = import("e.json", EVENT, &Arc::from("circl"));
        let mut list_item = Indicator::simple(Kind::Ipv4, "192.0.2.7", Arc::from("list"));
        list_item.terms = vec![vec![
            Observable::new(Kind::Ipv4, "192.0.2.7").with_role(Role::Destination),
            Observable::new(Kind::Port, "8080").with_role(Role::Destination),
        ]];
        let mut all: Vec<&Indicator> = imported.indicators.iter().collect();
        all.push(&list_item);
        let event = export(&all, "gsoc export", Timestamp::now());
        let attributes = event["Event"]["Attribute"].as_array().expect("attributes");
        assert_eq!(attributes.len(), 3);
        assert_eq!(
            attributes[0]["uuid"],
            "518b4bcb-a86b-4783-9457-391d548b605b"
        );
        assert_eq!(attributes[2]["type"], "ip-dst|port");
        assert_eq!(attributes[2]["value"], "192.0.2.7|8080");
        assert_eq!(event["Event"]["Object"][0]["name"], "file");
        let back = import("again.json", &event.to_string(), &Arc::from("again"));
        assert_eq!(back.indicators.len(), 4, "{:?}", back.errors);
    }
}
