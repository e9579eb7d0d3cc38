//! STIX 2.1: importing bundles and objects, exporting bundles.
//!
//! An imported object keeps its JSON, so that exporting it gives back the
//! same id, pattern, markings and validity. Indicators that came from
//! elsewhere (feeds, lists, MISP) are written as new STIX objects, with
//! `malware`, `intrusion-set` and `attack-pattern` objects and `indicates`
//! relationships for what they are known to indicate.

pub mod marking;
pub mod pattern;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::import::Imported;
use crate::model::{Indicator, Kind, Observable, Tlp};
use crate::normalize;

/// The cyber-observable types imported as (non-detecting) observables.
const OBSERVABLE_TYPES: [&str; 6] = [
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "file",
];

/// Imports a STIX 2.1 bundle, a single object, or a JSON array of objects.
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
    let objects = match root {
        Value::Object(mut o) if o.get("type").and_then(Value::as_str) == Some("bundle") => {
            match o.remove("objects") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        Value::Object(o) if o.contains_key("type") => vec![Value::Object(o)],
        Value::Array(items) => items,
        _ => {
            imported.error(file, "", "not a STIX bundle, object or array of objects");
            return imported;
        }
    };
    let context = BundleContext::new(&objects);
    for (n, object) in objects.iter().enumerate() {
        let id = object.get("id").and_then(Value::as_str).unwrap_or("no id");
        let place = format!("object {} ({id})", n + 1);
        match object.get("type").and_then(Value::as_str) {
            None => imported.error(file, place, "the object has no type"),
            Some(_) if object.get("id").is_none() => {
                imported.error(file, place, "the object has no id")
            }
            Some("indicator") => {
                import_indicator(file, &place, object, &context, source, &mut imported)
            }
            Some(t) if OBSERVABLE_TYPES.contains(&t) => {
                import_observable(file, &place, object, &context, source, &mut imported)
            }
            Some(_) => imported.objects.push(object.clone()),
        }
    }
    imported
}

/// What the other objects of a bundle say about an indicator: TLP levels of
/// marking definitions, and what relationships link it to.
struct BundleContext<'a> {
    tlp: HashMap<&'a str, Tlp>,
    by_id: HashMap<&'a str, &'a Value>,
    related: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> BundleContext<'a> {
    fn new(objects: &'a [Value]) -> Self {
        let mut context = BundleContext {
            tlp: HashMap::new(),
            by_id: HashMap::new(),
            related: HashMap::new(),
        };
        for object in objects {
            let Some(id) = object.get("id").and_then(Value::as_str) else {
                continue;
            };
            context.by_id.insert(id, object);
            match object.get("type").and_then(Value::as_str) {
                Some("marking-definition") => {
                    if let Some(tlp) = marking::tlp_of(object) {
                        context.tlp.insert(id, tlp);
                    }
                }
                Some("relationship") => {
                    let from = object.get("source_ref").and_then(Value::as_str);
                    let to = object.get("target_ref").and_then(Value::as_str);
                    if let (Some(from), Some(to)) = (from, to) {
                        context.related.entry(from).or_default().push(to);
                    }
                }
                _ => {}
            }
        }
        context
    }

    fn tlp(&self, object: &Value) -> Option<Tlp> {
        strings(object, "object_marking_refs")
            .iter()
            .filter_map(|id| {
                marking::standard_tlp(id).or_else(|| self.tlp.get(id.as_str()).copied())
            })
            .max()
    }

    /// Fills in malware families, actors and ATT&CK techniques from the
    /// objects the indicator's relationships point to.
    fn relate(&self, indicator: &mut Indicator) {
        let Some(targets) = self.related.get(indicator.id.as_str()) else {
            return;
        };
        for target in targets {
            let Some(object) = self.by_id.get(target) else {
                continue;
            };
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            match object.get("type").and_then(Value::as_str) {
                Some("malware") => indicator.malware.extend(name),
                Some("intrusion-set" | "threat-actor" | "campaign") => {
                    indicator.actors.extend(name)
                }
                Some("attack-pattern") => indicator.attack.extend(attack_id(object).or(name)),
                _ => {}
            }
        }
    }
}

/// The ATT&CK id (`T1566.001`) in an object's external references.
fn attack_id(object: &Value) -> Option<String> {
    object
        .get("external_references")?
        .as_array()?
        .iter()
        .filter(|r| {
            r.get("source_name")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("mitre"))
        })
        .find_map(|r| r.get("external_id").and_then(Value::as_str))
        .map(str::to_owned)
}

fn strings(object: &Value, key: &str) -> Vec<String> {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn time(object: &Value, key: &str) -> Option<Timestamp> {
    object.get(key)?.as_str()?.parse().ok()
}

fn import_indicator(
    file: &str,
    place: &str,
    object: &Value,
    context: &BundleContext<'_>,
    source: &Arc<str>,
    imported: &mut Imported,
) {
    let pattern_type = object
        .get("pattern_type")
        .and_then(Value::as_str)
        .unwrap_or("stix");
    if pattern_type != "stix" {
        imported.objects.push(object.clone());
        imported.skip(format!(
            "indicator with a {pattern_type} pattern (kept for export, not matched)"
        ));
        return;
    }
    let Some(text) = object.get("pattern").and_then(Value::as_str) else {
        imported.error(file, place, "the indicator has no pattern");
        return;
    };
    let compiled = match pattern::compile(text) {
        Ok(c) => c,
        Err(e) => {
            imported.error(file, place, format!("pattern {e}; indicator not imported"));
            return;
        }
    };
    for note in &compiled.notes {
        imported.note(file, place, note.as_str());
    }
    let Some(mut indicator) = indicator_from_terms(compiled.terms, object, source) else {
        if compiled.notes.is_empty() {
            imported.note(file, place, "nothing in the pattern can be matched in logs");
        }
        imported.objects.push(object.clone());
        imported.skip("indicator with nothing logs can match (kept for export)");
        return;
    };
    indicator.pattern = Some(text.to_owned());
    indicator.tlp = context.tlp(object);
    indicator.detect = !object
        .get("revoked")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    context.relate(&mut indicator);
    imported.indicators.push(indicator);
}

/// An indicator for compiled terms and the STIX object's common properties;
/// `None` when no term has an observable to find.
fn indicator_from_terms(
    mut terms: Vec<Vec<Observable>>,
    object: &Value,
    source: &Arc<str>,
) -> Option<Indicator> {
    let main = terms.iter().flatten().find(|o| o.kind.is_anchor())?.clone();
    let id = object.get("id").and_then(Value::as_str)?.to_owned();
    if terms.len() == 1 && terms[0].len() == 1 && terms[0][0].role == Default::default() {
        terms.clear();
    }
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut labels = strings(object, "labels");
    labels.extend(strings(object, "indicator_types"));
    Some(Indicator {
        id,
        kind: main.kind,
        value: main.value,
        terms,
        source: Arc::clone(source),
        detect: true,
        name: text("name"),
        description: text("description"),
        pattern: None,
        created: time(object, "created"),
        modified: time(object, "modified"),
        first_seen: time(object, "first_seen"),
        last_seen: time(object, "last_seen"),
        valid_from: time(object, "valid_from"),
        valid_until: time(object, "valid_until"),
        confidence: object
            .get("confidence")
            .and_then(Value::as_u64)
            .and_then(|c| u8::try_from(c.min(100)).ok()),
        tlp: None,
        labels,
        attack: Vec::new(),
        malware: Vec::new(),
        actors: Vec::new(),
        created_by: text("created_by_ref"),
        stix: Some(Box::new(object.clone())),
        misp: None,
    })
}

/// A cyber-observable object as a non-detecting indicator: it says what was
/// seen, not what is malicious.
fn import_observable(
    file: &str,
    place: &str,
    object: &Value,
    context: &BundleContext<'_>,
    source: &Arc<str>,
    imported: &mut Imported,
) {
    let observables = match observable_values(object) {
        Ok(found) => found,
        Err(reason) => {
            imported.error(file, place, reason);
            return;
        }
    };
    if observables.is_empty() {
        imported.objects.push(object.clone());
        imported.skip("file observable without a hash gsoc matches (kept for export)");
        return;
    }
    let terms = observables.into_iter().map(|o| vec![o]).collect();
    if let Some(mut indicator) = indicator_from_terms(terms, object, source) {
        indicator.detect = false;
        indicator.tlp = context.tlp(object);
        imported.indicators.push(indicator);
    }
}

fn observable_values(object: &Value) -> Result<Vec<Observable>, String> {
    let kind = match object.get("type").and_then(Value::as_str) {
        Some("file") => return Ok(file_hashes(object)),
        Some("ipv4-addr") => Kind::Ipv4,
        Some("ipv6-addr") => Kind::Ipv6,
        Some("domain-name") => Kind::Domain,
        Some("url") => Kind::Url,
        _ => Kind::Email,
    };
    let value = object
        .get("value")
        .and_then(Value::as_str)
        .ok_or("the observable has no value")?;
    let kind = if value.contains('/') && matches!(kind, Kind::Ipv4 | Kind::Ipv6) {
        Kind::Cidr
    } else {
        kind
    };
    Ok(vec![Observable::new(kind, normalize::value(kind, value)?)])
}

fn file_hashes(object: &Value) -> Vec<Observable> {
    let Some(hashes) = object.get("hashes").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut found: Vec<Observable> = hashes
        .iter()
        .filter_map(|(algorithm, value)| {
            let kind = pattern::hash_kind(algorithm)?;
            let value = normalize::value(kind, value.as_str()?).ok()?;
            Some(Observable::new(kind, value))
        })
        .collect();
    found.sort_by_key(|o| std::cmp::Reverse(o.kind));
    found
}

/// STIX timestamps as the specification writes them: UTC, milliseconds.
pub fn stix_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Builds a bundle of indicators, with the context objects they refer to:
/// marking definitions, identities, and relationships from them with their
/// targets.
pub fn export(indicators: &[&Indicator], context: &[Value], now: Timestamp) -> Value {
    let by_id: HashMap<&str, &Value> = context
        .iter()
        .filter_map(|o| Some((o.get("id")?.as_str()?, o)))
        .collect();
    let mut bundle = BundleBuilder::default();
    for indicator in indicators {
        match &indicator.stix {
            Some(object) => bundle.push((**object).clone()),
            None => {
                bundle.push(indicator_object(indicator, now));
                related_objects(indicator, now, &mut bundle);
            }
        }
    }
    let exported: HashSet<String> = bundle.ids.clone();
    for object in context {
        let from = object.get("source_ref").and_then(Value::as_str);
        if object.get("type").and_then(Value::as_str) == Some("relationship")
            && from.is_some_and(|f| exported.contains(f))
        {
            bundle.push(object.clone());
        }
    }
    bundle.add_references(&by_id);
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": bundle.objects,
    })
}

/// Objects collected for a bundle, each id once.
#[derive(Default)]
struct BundleBuilder {
    objects: Vec<Value>,
    ids: HashSet<String>,
}

impl BundleBuilder {
    fn push(&mut self, object: Value) {
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if self.ids.insert(id) {
            self.objects.push(object);
        }
    }

    /// Adds what the objects refer to (relationship targets, identities,
    /// marking definitions), until nothing new is referred to.
    fn add_references(&mut self, context: &HashMap<&str, &Value>) {
        let mut next = 0;
        while next < self.objects.len() {
            let object = self.objects[next].clone();
            next += 1;
            for id in references(&object) {
                if self.ids.contains(&id) {
                    continue;
                }
                if let Some(found) = context.get(id.as_str()) {
                    self.push((*found).clone());
                } else if let Some(tlp) = marking::standard_tlp(&id) {
                    self.push(standard_marking(&id, tlp));
                }
            }
        }
    }
}

/// The ids an object refers to that a bundle should carry.
fn references(object: &Value) -> Vec<String> {
    let mut refs = strings(object, "object_marking_refs");
    for key in ["created_by_ref", "target_ref"] {
        if let Some(id) = object.get(key).and_then(Value::as_str) {
            refs.push(id.to_owned());
        }
    }
    refs
}

/// A standard marking definition: TLP 2.0 objects as FIRST publishes them,
/// TLP 1.0 ones as the STIX 2.1 specification does.
fn standard_marking(id: &str, tlp: Tlp) -> Value {
    if marking::tlp2_id(tlp) == id {
        return marking::tlp2_object(tlp);
    }
    let name = if tlp == Tlp::Clear {
        "white"
    } else {
        tlp.as_str()
    };
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": id,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": format!("TLP:{}", name.to_ascii_uppercase()),
        "definition": {"tlp": name},
    })
}

/// A STIX indicator object for an indicator that did not come as one.
fn indicator_object(indicator: &Indicator, now: Timestamp) -> Value {
    let created = indicator.created.unwrap_or(now);
    let valid_from = indicator
        .valid_from
        .or(indicator.first_seen)
        .unwrap_or(created);
    let pattern = indicator
        .pattern
        .clone()
        .unwrap_or_else(|| pattern::render(&indicator.match_terms()));
    let mut object = Map::new();
    let mut set = |key: &str, value: Value| {
        object.insert(key.to_owned(), value);
    };
    set("type", json!("indicator"));
    set("spec_version", json!("2.1"));
    set("id", json!(indicator.id));
    if let Some(by) = &indicator.created_by {
        set("created_by_ref", json!(by));
    }
    set("created", json!(stix_time(created)));
    set(
        "modified",
        json!(stix_time(indicator.modified.unwrap_or(created))),
    );
    set(
        "name",
        json!(
            indicator
                .name
                .clone()
                .unwrap_or_else(|| format!("{} {}", indicator.kind, indicator.value))
        ),
    );
    if let Some(description) = &indicator.description {
        set("description", json!(description));
    }
    set("indicator_types", json!(["malicious-activity"]));
    set("pattern", json!(pattern));
    set("pattern_type", json!("stix"));
    set("pattern_version", json!("2.1"));
    set("valid_from", json!(stix_time(valid_from)));
    if let Some(until) = indicator.valid_until.filter(|u| *u > valid_from) {
        set("valid_until", json!(stix_time(until)));
    }
    if let Some(confidence) = indicator.confidence {
        set("confidence", json!(confidence));
    }
    if !indicator.labels.is_empty() {
        set("labels", json!(indicator.labels));
    }
    if let Some(tlp) = indicator.tlp {
        set("object_marking_refs", json!([marking::tlp2_id(tlp)]));
    }
    Value::Object(object)
}

/// `malware`, `intrusion-set` and `attack-pattern` objects for what an
/// indicator indicates, with the `indicates` relationships, under
/// name-based ids so that exports agree with each other.
fn related_objects(indicator: &Indicator, now: Timestamp, bundle: &mut BundleBuilder) {
    let created = stix_time(indicator.created.unwrap_or(now));
    let targets = indicator
        .malware
        .iter()
        .map(|m| ("malware", m))
        .chain(indicator.actors.iter().map(|a| ("intrusion-set", a)))
        .chain(indicator.attack.iter().map(|t| ("attack-pattern", t)));
    for (kind, name) in targets {
        let id = format!("{kind}--{}", name_uuid(&format!("{kind}\n{name}")));
        let mut object = json!({
            "type": kind, "spec_version": "2.1", "id": id,
            "created": created, "modified": created, "name": name,
        });
        if kind == "malware" {
            object["is_family"] = json!(true);
        }
        if kind == "attack-pattern" {
            object["external_references"] =
                json!([{"source_name": "mitre-attack", "external_id": name}]);
        }
        bundle.push(object);
        bundle.push(json!({
            "type": "relationship", "spec_version": "2.1",
            "id": format!("relationship--{}", name_uuid(&format!("{}\n{id}", indicator.id))),
            "created": created, "modified": created,
            "relationship_type": "indicates",
            "source_ref": indicator.id, "target_ref": id,
        }));
    }
}

/// A version 5 UUID in gsoc's namespace.
fn name_uuid(name: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x1c6e_44a1_83d0_4c9e_b4a4_2f6a_9d0e_77c2);
    uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{
      "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
      "objects": [
        {"type": "marking-definition", "spec_version": "2.1",
         "id": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
         "created": "2022-10-01T00:00:00.000Z", "name": "TLP:GREEN",
         "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
            {"extension_type": "property-extension", "tlp_2_0": "green"}}},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
         "name": "C2", "pattern": "[ipv4-addr:value = '198.51.100.3'] OR [domain-name:value = 'c2.example']",
         "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z", "valid_until": "2017-01-01T00:00:00Z",
         "confidence": 85, "labels": ["c2"],
         "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
        {"type": "malware", "spec_version": "2.1", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
         "created": "2016-04-06T20:07:09.000Z", "modified": "2016-04-06T20:07:09.000Z",
         "name": "Poison Ivy", "is_family": true},
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
         "created": "2016-04-06T20:06:37.000Z", "modified": "2016-04-06T20:06:37.000Z",
         "relationship_type": "indicates",
         "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--bad",
         "pattern": "[ipv4-addr:value = ", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z"},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "10.0.0.1"}
      ]}"#;

    #[test]
    fn bundle_imports_with_context() {
        let imported = import("b.json", BUNDLE, &Arc::from("test"));
        assert_eq!(imported.indicators.len(), 2, "{:?}", imported.errors);
        let c2 = &imported.indicators[0];
        assert_eq!(c2.terms.len(), 2);
        assert_eq!(c2.tlp, Some(Tlp::Green));
        assert_eq!(c2.confidence, Some(85));
        assert_eq!(c2.malware, vec!["Poison Ivy"]);
        assert!(c2.detect);
        assert_eq!(c2.valid_until, "2017-01-01T00:00:00Z".parse().ok());
        let observed = &imported.indicators[1];
        assert!(!observed.detect, "observables are not indicators");
        assert_eq!(observed.value, "10.0.0.1");
        assert_eq!(imported.errors.len(), 1);
        assert!(imported.errors[0].place.contains("indicator--bad"));
        assert_eq!(imported.objects.len(), 3, "marking, malware, relationship");
    }

    #[test]
    fn export_gives_back_what_came_in() {
        let imported = import("b.json", BUNDLE, &Arc::from("test"));
        let refs: Vec<&Indicator> = imported.indicators.iter().collect();
        let bundle = export(&refs, &imported.objects, Timestamp::now());
        let objects = bundle["objects"].as_array().expect("objects");
        let original: Value = serde_json::from_str(BUNDLE).expect("valid");
        for id in [
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
            "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        ] {
            let find = |list: &[Value]| list.iter().find(|o| o["id"] == id).cloned();
            let before = find(original["objects"].as_array().expect("objects"));
            assert_eq!(find(objects), before, "{id}");
        }
    }

    #[test]
    fn new_indicators_become_stix_objects() {
        let mut indicator = Indicator::simple(Kind::Domain, "evil.example", Arc::from("list"));
        indicator.tlp = Some(Tlp::Amber);
        indicator.malware = vec!["Emotet".into()];
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().expect("valid");
        let bundle = export(&[&indicator], &[], now);
        let objects = bundle["objects"].as_array().expect("objects");
        let types: Vec<&str> = objects.iter().filter_map(|o| o["type"].as_str()).collect();
        assert_eq!(
            types,
            ["indicator", "malware", "relationship", "marking-definition"]
        );
        assert_eq!(
            objects[0]["pattern"],
            "[domain-name:value = 'evil.example']"
        );
        assert_eq!(objects[0]["valid_from"], "2024-05-01T12:00:00.000Z");
        assert_eq!(
            objects[0]["object_marking_refs"][0],
            marking::tlp2_id(Tlp::Amber)
        );
    }
}
