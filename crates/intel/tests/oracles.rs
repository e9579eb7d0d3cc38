//! The shared threat-intelligence corpus (../shared/data/threat-intel) as
//! oracle: misp-stix's expected STIX for each MISP attribute type, the STIX
//! examples imported and exported unchanged, and every file imported with
//! nothing lost. Skips when the shared data is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gsoc_intel::{
    ImportOptions, Indicator, Item, Kind, Merged, Selection, Store, import_paths, misp, stix,
};
use jiff::Timestamp;
use serde_json::{Value, json};

fn intel(path: &str) -> Option<PathBuf> {
    Some(
        gsoc_testdata::shared_data()?
            .join("threat-intel")
            .join(path),
    )
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable oracle file");
    serde_json::from_str(&text).expect("valid JSON oracle file")
}

/// The MISP attribute types gsoc turns into indicators it matches.
const SUPPORTED: [&str; 25] = [
    "domain",
    "domain|ip",
    "email",
    "email-dst",
    "email-src",
    "filename|imphash",
    "filename|md5",
    "filename|sha1",
    "filename|sha256",
    "filename|sha512",
    "hostname",
    "hostname|port",
    "imphash",
    "ip-dst",
    "ip-dst|port",
    "ip-src",
    "ip-src|port",
    "link",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "uri",
    "url",
    "user-agent",
];

/// For every MISP attribute type in misp-stix's mapping that gsoc matches,
/// gsoc's MISP → STIX export writes the indicator misp-stix writes, key for
/// key; the others are not imported as indicators.
#[test]
fn misp_to_stix_agrees_with_misp_stix() {
    let Some(path) = intel("misp-stix-mapping/misp_attributes_to_stix21.json") else {
        return;
    };
    let mapping = read_json(&path);
    let mut agreed = BTreeSet::new();
    let mut not_imported = BTreeSet::new();
    for (kind, case) in mapping.as_object().expect("an object of cases") {
        let mut attribute = case["MISP"].clone();
        attribute["to_ids"] = json!(true);
        let event = json!({"Event": {
            "Orgc": {"uuid": "a0c22599-9e58-4da4-96ac-7051603fa951", "name": "MISP-Project"},
            "Attribute": [attribute],
        }});
        let imported = misp::import("case.json", &event.to_string(), &Arc::from("misp"));
        let Some(indicator) = imported.indicators.first() else {
            not_imported.insert(kind.as_str());
            continue;
        };
        let bundle = stix::export(&[indicator], &imported.objects, Timestamp::now());
        let exported = find_indicator(&bundle["objects"]).expect("an exported indicator");
        let expected = find_indicator(&case["STIX"])
            .unwrap_or_else(|| panic!("misp-stix writes no indicator for {kind}"));
        assert_eq!(exported, expected, "MISP type {kind}");
        agreed.insert(kind.as_str());
    }
    let supported: BTreeSet<&str> = SUPPORTED
        .iter()
        .copied()
        .filter(|k| mapping.get(k).is_some())
        .collect();
    assert_eq!(agreed, supported, "not imported: {not_imported:?}");
    assert!(agreed.len() >= 25, "{agreed:?}");
}

fn find_indicator(stix: &Value) -> Option<&Value> {
    match stix {
        Value::Array(items) => items.iter().find(|o| o["type"] == "indicator"),
        Value::Object(_) if stix["type"] == "indicator" => Some(stix),
        _ => None,
    }
}

/// Everything imported from a folder: indicators and context objects.
fn import_all(path: &Path) -> (Vec<Indicator>, Vec<Value>, gsoc_intel::Report) {
    let mut indicators = Vec::new();
    let mut objects = Vec::new();
    let report = import_paths(
        &[path.to_owned()],
        &ImportOptions::default(),
        &mut |item| match item {
            Item::Indicator(i) => indicators.push(i),
            Item::Object(o) => objects.push(o),
        },
    );
    (indicators, objects, report)
}

/// STIX → gsoc → STIX: every indicator of the OASIS and python-stix2
/// examples comes back with the same id, pattern, markings and validity
/// (the whole object, key for key), with the marking definitions it
/// refers to.
#[test]
fn stix_round_trip_keeps_ids_patterns_markings_and_validity() {
    let Some(root) = intel("stix21") else { return };
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let mut store = Store::open(dir.path()).expect("an empty store");
    let mut merged = Merged::default();
    let now = Timestamp::now();
    let report = import_paths(
        std::slice::from_ref(&root),
        &ImportOptions::default(),
        &mut |item| store.add(item, now, &mut merged),
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    store.save().expect("saved");
    let store = Store::open(dir.path()).expect("reopened");
    let all = store.select(&Selection {
        include_observables: true,
        ..Selection::default()
    });
    let bundle = stix::export(&all, &store.objects, now);
    let exported: BTreeMap<&str, &Value> = bundle["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| (o["id"].as_str().expect("an id"), o))
        .collect();
    let mut checked = 0;
    for original in newest_versions(originals(&root)) {
        if original["type"] != "indicator" {
            continue;
        }
        let id = original["id"].as_str().expect("an id");
        let Some(back) = exported.get(id) else {
            let kept = store.objects.iter().any(|o| o == &original);
            assert!(kept, "{id} neither exported nor kept");
            continue;
        };
        assert_eq!(**back, original, "{id}");
        for marking in original["object_marking_refs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let marking = marking.as_str().expect("a marking id");
            assert!(
                exported.contains_key(marking),
                "{id}: {marking} not exported"
            );
        }
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} indicators compared");
}

/// Of several objects with one id (the examples reuse some), the one a
/// store keeps: the latest `modified`, the later file on a tie.
fn newest_versions(objects: Vec<Value>) -> Vec<Value> {
    let mut newest: BTreeMap<String, Value> = BTreeMap::new();
    for object in objects {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        let newer = newest
            .get(&id)
            .is_none_or(|kept| object["modified"].as_str() >= kept["modified"].as_str());
        if newer {
            newest.insert(id, object);
        }
    }
    newest.into_values().collect()
}

/// Every STIX object in the files under a folder.
fn originals(root: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.expect("walkable");
        if entry.path().extension().is_none_or(|e| e != "json") {
            continue;
        }
        match read_json(entry.path()) {
            Value::Object(o) if o.get("type") == Some(&json!("bundle")) => {
                out.extend(o["objects"].as_array().cloned().unwrap_or_default())
            }
            other => out.push(other),
        }
    }
    out
}

/// The whole threat-intel folder imports without a panic; every line of
/// every maltrail list is an indicator, a counted skip or a reported error;
/// the counts by type and source are what the lists hold.
#[test]
fn whole_corpus_imports_and_nothing_is_lost() {
    let Some(root) = intel("") else { return };
    let (indicators, _, report) = import_all(&root);
    assert!(report.files > 1100, "{} files", report.files);
    assert_eq!(indicators.len(), report.indicators() + report.observables);

    let maltrail = root.join("ioc-lists/maltrail");
    let values = maltrail_values(&maltrail);
    let (from_lists, _, list_report) = import_all(&maltrail);
    let skipped: usize = list_report.skipped.values().sum();
    assert_eq!(
        from_lists.len() + skipped + list_report.errors.len(),
        values.len(),
        "every value accounted for"
    );
    let mut by_kind = BTreeMap::new();
    for value in &values {
        let kind = guess(value);
        *by_kind.entry(kind).or_insert(0usize) += 1;
    }
    assert_eq!(
        list_report.by_kind.get(&Kind::Domain).copied(),
        by_kind.get("domain").copied(),
        "{:?} vs {by_kind:?}",
        list_report.by_kind
    );
    assert_eq!(
        list_report.by_kind.get(&Kind::Cidr).copied(),
        by_kind.get("cidr").copied()
    );
    for error in &list_report.errors {
        assert!(error.place.starts_with("line "), "{error:?}");
    }
    let folder_named = report
        .by_source
        .iter()
        .any(|(s, n)| s == "threat-intel" && *n > 100_000);
    assert!(folder_named, "{:?}", report.by_source);
    assert_eq!(report.by_source.get("CIRCL").copied(), Some(113));
}

/// The values of maltrail lists, read the simplest way.
fn maltrail_values(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.expect("walkable");
        if entry.path().extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("readable list");
        out.extend(gsoc_testdata::trail_values(&text).map(str::to_owned));
    }
    out
}

/// An independent, rough classification: enough to check the domain and
/// network counts.
fn guess(value: &str) -> &'static str {
    let host_only = ["http://", "https://"]
        .iter()
        .find_map(|scheme| value.strip_prefix(scheme))
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|rest| !rest.contains('/'));
    let value = host_only.unwrap_or(value);
    let is_ipish = value
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'/' || b == b':');
    if value.contains('/') && is_ipish && !value.contains(':') && !value.starts_with('/') {
        "cidr"
    } else if is_ipish {
        "ip"
    } else if value.contains('/') || value.contains('\\') || value.contains('[') {
        "other"
    } else if value.contains('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b) || b >= 0x80)
        && !value
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        "domain"
    } else {
        "other"
    }
}
