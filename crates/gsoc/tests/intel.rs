//! `gsoc intel` and `gsoc detect --intel` on the fixtures in
//! tests/data/intel (see its README): what is imported, what is refused and
//! why, what is found in the logs and what is not.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::{Dir, data, json_lines, run_ok, stderr};

/// The indicator fixtures (not the logs).
fn fixtures() -> Vec<String> {
    [
        "partner-bundle.json",
        "circl-event.json",
        "c2.csv",
        "trails",
    ]
    .iter()
    .map(|f| data(&format!("intel/{f}")).display().to_string())
    .collect()
}

fn import(dir: &Dir, extra: &[&str]) -> Value {
    let mut args = vec!["intel", "import", "--format", "jsonl"];
    args.extend_from_slice(extra);
    let paths = fixtures();
    args.extend(paths.iter().map(String::as_str));
    let out = run_ok(dir.gsoc(&args));
    json_lines(&out).remove(0)
}

/// The line of a fixture log that holds `needle`, counted from 1.
fn line_of(log: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(data(&format!("intel/logs/{log}"))).expect("fixture");
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {log}"));
    index as u64 + 1
}

/// (log file name, record, indicator value) of each indicator detection.
fn indicator_hits(out: &std::process::Output) -> BTreeSet<(String, u64, String)> {
    json_lines(out)
        .into_iter()
        .filter(|d| d["kind"] == "indicator")
        .map(|d| {
            let file = d["source"]["file"].as_str().expect("file");
            let name = Path::new(file)
                .file_name()
                .expect("a name")
                .to_string_lossy();
            (
                name.into_owned(),
                d["source"]["record"].as_u64().expect("record"),
                d["indicator"]["value"].as_str().expect("value").to_owned(),
            )
        })
        .collect()
}

/// What the fixture logs must hit, and nothing else: the expired
/// indicator, the `to_ids` false address, the wrong port, the look-alike
/// name and the other URL path must not.
fn expected_hits() -> BTreeSet<(String, u64, String)> {
    [
        ("conn.log", "\tC1\t", "c2.examplebot.test"),
        ("conn.log", "\tC2\t", "203.0.113.7"),
        ("conn.log", "\tC4\t", "192.0.2.200"),
        ("dns.log", "\tD1\t", "c2.examplebot.test"),
        ("dns.log", "\tD2\t", "update.examplebot.test"),
        ("eve.json", "alice", "login.phish.test/verify.php"),
        ("eve.json", "gate.php", "cdn.examplebot.test/gate.php"),
    ]
    .iter()
    .map(|(log, needle, value)| (log.to_string(), line_of(log, needle), value.to_string()))
    .collect()
}

fn detect(dir: &Dir, extra: &[&str]) -> std::process::Output {
    let logs = data("intel/logs").display().to_string();
    let mut args = vec!["detect", "--format", "jsonl", "--no-progress"];
    args.extend_from_slice(extra);
    args.push(&logs);
    run_ok(dir.gsoc(&args))
}

#[test]
fn import_counts_by_type_and_source_and_reports_what_it_refuses() {
    let dir = Dir::new();
    let report = import(&dir, &[]);
    assert_eq!(report["files"], 4);
    assert_eq!(report["indicators"], 9, "{report:#}");
    assert_eq!(
        report["added"], 10,
        "and the to_ids false address: {report:#}"
    );
    assert_eq!(report["by_type"]["domain"], 2, "{report:#}");
    assert_eq!(report["by_type"]["ipv4"], 4, "{report:#}");
    assert_eq!(report["by_type"]["url"], 2, "{report:#}");
    assert_eq!(report["by_type"]["email"], 1, "{report:#}");
    assert_eq!(report["by_source"]["Example Partner CSIRT"], 2);
    assert_eq!(report["by_source"]["Example Sharing Community"], 2);
    assert_eq!(report["observables"], 1, "the to_ids false address");
    let errors: Vec<String> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| format!("{} {} {}", e["file"], e["place"], e["reason"]))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("indicator--c4e6a3b2") && e.contains("pattern"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("af407052") && e.contains("not-an-address"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("examplebot.txt") && e.contains("line 7"))
    );

    let again = import(&dir, &[]);
    assert_eq!(again["added"], 0, "importing again adds nothing");
    assert_eq!(again["updated"], 10);
    let audit = std::fs::read_to_string(dir.path().join("gsoc-data/audit.jsonl")).expect("audit");
    assert_eq!(
        audit.lines().filter(|l| l.contains("intel.import")).count(),
        2
    );
}

#[test]
fn list_filters_by_type_and_source() {
    let dir = Dir::new();
    import(&dir, &["--tlp", "red"]);
    let out = run_ok(dir.gsoc(&["intel", "list", "--type", "ipv4", "--format", "jsonl"]));
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|i| i["type"] == "ipv4"));
    let feodo = listed
        .iter()
        .find(|i| i["value"] == "203.0.113.7")
        .expect("c2.csv row");
    assert_eq!(feodo["tlp"], "red", "--tlp fills in a missing marking");
    assert_eq!(feodo["malware"][0], "ExampleBot");
    let out = run_ok(dir.gsoc(&["intel", "list", "--type", "domain", "--format", "jsonl"]));
    let marked = json_lines(&out)
        .into_iter()
        .find(|i| i["value"] == "c2.examplebot.test")
        .expect("the bundle's C2");
    assert_eq!(marked["tlp"], "amber", "--tlp does not override a marking");
    let out = run_ok(dir.gsoc(&["intel", "list", "--source", "c2", "--format", "csv"]));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let out = run_ok(dir.gsoc(&[
        "intel",
        "list",
        "--include-observables",
        "--format",
        "jsonl",
    ]));
    assert_eq!(json_lines(&out).len(), 10);
}

#[test]
fn detect_matches_stored_indicators_and_intel_files_alike() {
    let dir = Dir::new();
    let fixture_args: Vec<String> = fixtures()
        .into_iter()
        .flat_map(|f| ["--intel".to_owned(), f])
        .collect();
    let args: Vec<&str> = fixture_args.iter().map(String::as_str).collect();
    let from_files = detect(&dir, &args);
    assert_eq!(
        indicator_hits(&from_files),
        expected_hits(),
        "{}",
        stderr(&from_files)
    );

    import(&dir, &[]);
    let from_store = detect(&dir, &[]);
    assert_eq!(indicator_hits(&from_store), expected_hits());
    let without = detect(&dir, &["--no-stored-intel"]);
    assert!(indicator_hits(&without).is_empty());
    assert!(
        stderr(&from_store).contains("indicators matched"),
        "{}",
        stderr(&from_store)
    );

    let hits = json_lines(&from_store);
    let c2 = hits
        .iter()
        .find(|d| d["indicator"]["id"] == "indicator--a2c4e1f0-3b5d-4e6f-8a9b-0c1d2e3f4a5b")
        .expect("the bundle's C2 indicator");
    assert_eq!(c2["indicator"]["tlp"], "amber");
    assert_eq!(c2["indicator"]["confidence"], 90);
    assert_eq!(c2["indicator"]["malware"][0], "ExampleBot");
    assert_eq!(c2["indicator"]["source"], "Example Partner CSIRT");
    assert_eq!(c2["rule_author"], "Example Partner CSIRT");
    assert_eq!(c2["level"], "high");
}

#[test]
fn export_stix_and_misp_and_remove() {
    let dir = Dir::new();
    import(&dir, &[]);
    run_ok(dir.gsoc(&["intel", "export", "--format", "stix", "-o", "out.json"]));
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).expect("written"))
            .expect("JSON");
    let objects = bundle["objects"].as_array().expect("objects");
    let original: Value =
        serde_json::from_slice(&std::fs::read(data("intel/partner-bundle.json")).expect("fixture"))
            .expect("JSON");
    let c2 = |list: &[Value]| {
        list.iter()
            .find(|o| o["id"] == "indicator--a2c4e1f0-3b5d-4e6f-8a9b-0c1d2e3f4a5b")
            .cloned()
    };
    assert_eq!(
        c2(objects),
        c2(original["objects"].as_array().expect("objects"))
    );
    for kind in ["identity", "marking-definition", "malware", "relationship"] {
        assert!(
            objects.iter().any(|o| o["type"] == kind),
            "no {kind} exported"
        );
    }
    validate_stix(&dir.path().join("out.json"));

    let out = run_ok(dir.gsoc(&["intel", "export", "--format", "misp", "--type", "url"]));
    let event: Value = serde_json::from_slice(&out.stdout).expect("a MISP event");
    let attributes = event["Event"]["Attribute"].as_array().expect("attributes");
    let types: BTreeSet<&str> = attributes
        .iter()
        .filter_map(|a| a["type"].as_str())
        .collect();
    assert_eq!(types, BTreeSet::from(["url"]));
    assert_eq!(attributes.len(), 2);

    let refused = dir.gsoc(&["intel", "remove"]).output().expect("runs");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--all"), "{}", stderr(&refused));
    let out = run_ok(dir.gsoc(&["intel", "remove", "--source", "c2"]));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("2 "));
    let out = run_ok(dir.gsoc(&["intel", "list", "--format", "jsonl"]));
    assert_eq!(json_lines(&out).len(), 7);
}

/// Runs OASIS's stix2-validator on a bundle when it is installed (the
/// README's test command installs it).
fn validate_stix(path: &Path) {
    let Ok(out) = Command::new("stix2_validator").arg(path).output() else {
        eprintln!("skipped: stix2_validator is not installed (pip install stix2-validator)");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("STIX JSON: Valid"),
        "{text}"
    );
}

#[test]
fn japanese_import_report() {
    let dir = Dir::new();
    let mut cmd = dir.gsoc(&["intel", "import", "--format", "table"]);
    cmd.env("GSOC_LANG", "ja").arg(data("intel/c2.csv"));
    let out = run_ok(cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("件の指標"), "{text}");
    assert!(text.contains("種類別"), "{text}");
}
