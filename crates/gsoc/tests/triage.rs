//! `gsoc detect --triage`: every detection an alert with category, verdict,
//! reason and severity, checked on repository fixtures and on the labelled
//! public data in ../shared/data (OWASP CRS payloads rendered as access-log
//! lines, the CrowdSec probing scenarios, the Stratosphere CTU captures).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use gsoc_testdata::repo;

use crate::util::{Dir, json_lines, run_ok, stderr};

fn triage(dir: &Dir, extra: &[&str], input: &Path) -> (Vec<Value>, String) {
    let mut args = vec!["detect", "--triage", "--format", "jsonl"];
    args.extend_from_slice(extra);
    let out = run_ok(dir.gsoc(&args).arg(input));
    (json_lines(&out), stderr(&out))
}

fn verdict(alert: &Value) -> (&str, &str) {
    (
        alert["verdict"].as_str().unwrap_or("?"),
        alert["reason"]["code"].as_str().unwrap_or("?"),
    )
}

#[test]
fn every_alert_has_category_verdict_reason_and_severity() {
    let dir = Dir::new();
    let log = repo().join("samples/web/crowdsec-apache2-sensitive-files.log");
    let (alerts, summary) = triage(&dir, &[], &log);
    assert!(!alerts.is_empty());
    for a in &alerts {
        assert!(a["category"].is_string(), "{a}");
        assert!(
            matches!(a["verdict"].as_str(), Some("vigilance" | "noise")),
            "{a}"
        );
        assert!(
            a["reason"]["code"].is_string() && a["reason"]["text"].is_string(),
            "{a}"
        );
        assert!(a["severity"].is_string(), "{a}");
    }
    let probe = alerts
        .iter()
        .find(|a| a["kind"] == "probe")
        .expect("the client asked for 13 paths that were refused");
    assert_eq!(verdict(probe), ("noise", "reconnaissance"));
    assert!(summary.contains("Alerts by category"), "{summary}");
    assert!(
        summary.contains("reconnaissance only (reconnaissance)"),
        "{summary}"
    );

    let csv = run_ok(
        dir.gsoc(&["detect", "--triage", "--format", "csv"])
            .arg(&log),
    );
    let csv = String::from_utf8_lossy(&csv.stdout);
    let header = csv.lines().next().unwrap_or_default();
    assert!(
        header.ends_with("category,verdict,reason_code,reason,severity"),
        "{header}"
    );
    assert!(
        csv.contains(",reconnaissance,noise,reconnaissance,"),
        "{csv}"
    );

    let (vigilant, _) = triage(&dir, &["--only", "vigilance"], &log);
    assert!(vigilant.iter().all(|a| a["verdict"] == "vigilance"));
    assert!(vigilant.len() < alerts.len());

    let ja = run_ok(
        dir.gsoc(&["detect", "--triage", "--format", "jsonl"])
            .env("GSOC_LANG", "ja")
            .arg(&log),
    );
    let text = stderr(&ja);
    assert!(text.contains("分類別のアラート数"), "{text}");
    assert!(json_lines(&ja).iter().any(|a| {
        a["reason"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("偵察"))
    }));
}

#[test]
fn a_broken_policy_is_named_with_its_key() {
    let dir = Dir::new();
    let policy = dir.write("policy.toml", "[windows]\nduplicate = \"soon\"\n");
    let out = dir
        .gsoc(&["detect", "--policy"])
        .arg(&policy)
        .arg(repo().join("samples/web"))
        .output()
        .expect("gsoc runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("policy.toml") && err.contains("windows.duplicate"),
        "{err}"
    );
    assert!(
        err.contains("gsoc triage-policy"),
        "says what to do next: {err}"
    );
    let printed = run_ok(dir.gsoc(&["triage-policy"]));
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.contains("[categories.tags]") && text.contains("duplicate = \"1h\""));
}

/// The requests of the OWASP CRS regression tests (method and URI).
fn crs_requests(root: &Path) -> Vec<(String, String)> {
    let mut requests = Vec::new();
    let mut files: Vec<_> = walk(root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| p.to_string_lossy().contains("/REQUEST-"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut method = "GET".to_owned();
        for line in text.lines().map(str::trim) {
            if line.starts_with("- test_id:") {
                method = "GET".to_owned();
            } else if let Some(m) = line.strip_prefix("method:") {
                method = unquote(m).unwrap_or(method);
            } else if let Some(uri) = line.strip_prefix("uri:").and_then(unquote) {
                requests.push((method.clone(), uri));
            }
        }
    }
    requests
}

fn unquote(text: &str) -> Option<String> {
    let text = text.trim();
    if text.starts_with('"') {
        serde_json::from_str(text).ok()
    } else if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner.replace("''", "'"))
    } else {
        Some(text.to_owned())
    }
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_same_attack_is_noise_when_refused_and_vigilance_when_served() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let requests = crs_requests(&data.join("web-and-syslog/owasp-crs-regression"));
    assert!(requests.len() > 3_000, "{}", requests.len());
    let mut log = String::new();
    for (n, (method, uri)) in requests.iter().enumerate() {
        if uri.contains(char::is_whitespace) || uri.contains('"') {
            continue;
        }
        // Each request three times, from its own client each time (so none
        // is a duplicate of another): refused 403, not found 404, served 200.
        for (k, status) in [403, 404, 200].into_iter().enumerate() {
            let client = n * 3 + k;
            log.push_str(&format!(
                "10.{}.{}.{} - - [10/Oct/2024:{:02}:{:02}:{:02} +0000] \"{method} {uri} HTTP/1.1\" {status} 512 \"-\" \"Mozilla/5.0\"\n",
                client / 65_536,
                client / 256 % 256,
                client % 256,
                n / 3600 % 24,
                n / 60 % 60,
                n % 60
            ));
        }
    }
    let dir = Dir::new();
    let path = dir.write("crs-access.log", log);
    let (alerts, _) = triage(&dir, &[], &path);
    let attacks: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["kind"] == "sigma" && a["category"] != "reconnaissance")
        .collect();
    let mut by_status: BTreeMap<u64, Vec<(&str, &str)>> = BTreeMap::new();
    let text = std::fs::read_to_string(&path).expect("the log");
    let lines: Vec<&str> = text.lines().collect();
    for a in &attacks {
        let record = a["source"]["record"].as_u64().expect("a line number") as usize;
        let status: u64 = lines[record - 1]
            .split("HTTP/1.1\" ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status in {}", lines[record - 1]));
        by_status.entry(status).or_default().push(verdict(a));
    }
    let served = &by_status[&200];
    assert!(
        served.len() >= 20,
        "Sigma's web rules find CRS payloads: {}",
        served.len()
    );
    assert!(served.iter().all(|v| v.0 == "vigilance"), "{served:?}");
    let refused = &by_status[&403];
    assert_eq!(
        refused.len(),
        served.len(),
        "the same attacks, answered 403"
    );
    assert!(
        refused.iter().all(|v| *v == ("noise", "failed")),
        "{refused:?}"
    );
    // Many SigmaHQ web rules leave 404 answers out themselves; those that
    // keep them are noise too.
    let missing = by_status.get(&404).cloned().unwrap_or_default();
    assert!(
        missing.iter().all(|v| *v == ("noise", "failed")),
        "{missing:?}"
    );
}

/// The sources a CrowdSec scenario test expects to be flagged.
fn crowdsec_sources(assertions: &str) -> BTreeSet<String> {
    assertions
        .lines()
        .filter_map(|l| l.split_once("\" in results"))
        .filter_map(|(head, _)| head.rsplit('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn probing_only_sources_in_crowdsec_tests_are_reconnaissance_noise() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let tests = data.join("web-and-syslog/crowdsec-hub-tests");
    let dir = Dir::new();
    for scenario in [
        "http-admin-interface-probing",
        "http-cve-probing",
        "http-wordpress-scan",
        "http-sensitive-files",
        "apache2-http-sensitive-files",
        "bunkerweb-http-sensitive-files",
        "nginx-http-sqli-probing",
    ] {
        let folder = tests.join(scenario);
        let Ok(assertions) = std::fs::read_to_string(folder.join("scenario.assert")) else {
            continue;
        };
        let expected = crowdsec_sources(&assertions);
        assert!(!expected.is_empty(), "{scenario}");
        let (alerts, _) = triage(&dir, &[], &folder);
        for source in &expected {
            let probe = alerts
                .iter()
                .find(|a| a["kind"] == "probe" && a["fields"]["source"] == source.as_str())
                .unwrap_or_else(|| panic!("{scenario}: no probe from {source}: {alerts:?}"));
            assert_eq!(probe["category"], "reconnaissance", "{scenario}");
            assert_eq!(verdict(probe), ("noise", "reconnaissance"), "{scenario}");
        }
    }
}

/// Per conn.log flow of the Stratosphere captures: its source and whether
/// it is labelled Malicious.
fn labelled_flows(root: &Path) -> Vec<(String, bool)> {
    let mut flows = Vec::new();
    for capture in ["008", "010", "012"] {
        let file = root.join(format!("{capture}-zeek-mixed/data/conn.log.labeled"));
        let text = std::fs::read_to_string(&file).expect("a labelled conn.log");
        let header: Vec<&str> = text
            .lines()
            .find_map(|l| l.strip_prefix("#fields\t"))
            .expect("a #fields line")
            .split('\t')
            .collect();
        let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (src, label) = (column("id.orig_h"), column("label"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let cells: Vec<&str> = line.split('\t').collect();
            flows.push((cells[src].to_owned(), cells[label] == "Malicious"));
        }
    }
    flows
}

#[test]
fn stratosphere_attacks_are_found_and_judged_as_noise() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let root = data.join("network/zeek/stratosphere");
    let dir = Dir::new();
    let policy = repo().join("samples/policy/ctu.toml");
    let policy = policy.to_string_lossy();
    let mut all = Vec::new();
    for capture in ["008", "010", "012"] {
        let (alerts, _) = triage(
            &dir,
            &["--policy", &policy],
            &root.join(format!("{capture}-zeek-mixed/data")),
        );
        all.extend(alerts);
    }
    let alerted: BTreeSet<&str> = all
        .iter()
        .filter_map(|a| a["fields"]["source"].as_str())
        .collect();
    let flows = labelled_flows(&root);
    let malicious = flows.iter().filter(|(_, m)| *m).count();
    let flagged = flows.iter().filter(|(s, _)| alerted.contains(s.as_str()));
    let (hits, flagged): (Vec<_>, Vec<_>) = flagged.partition(|(_, m)| *m);
    let precision = hits.len() as f64 / (hits.len() + flagged.len()) as f64;
    let recall = hits.len() as f64 / malicious as f64;
    println!(
        "stratosphere: {} alerts; flows: {malicious} malicious, precision {precision:.3}, recall {recall:.3}",
        all.len()
    );
    assert!(precision >= 0.99 && recall >= 0.99, "{precision} {recall}");
    assert!(
        all.iter()
            .all(|a| verdict(a) == ("noise", "reconnaissance"))
    );
}

#[test]
fn slips_probes_are_noise_and_exploits_need_vigilance() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let dir = Dir::new();
    let (alerts, _) = triage(&dir, &[], &data.join("network/suricata-eve/slips"));
    let count = |kind: &str, category: &str, v: (&str, &str)| {
        alerts
            .iter()
            .filter(|a| a["kind"] == kind && a["category"] == category && verdict(a) == v)
            .count()
    };
    assert!(count("sensor", "reconnaissance", ("noise", "reconnaissance")) > 300);
    assert!(count("probe", "reconnaissance", ("noise", "reconnaissance")) > 400);
    let exploits: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["verdict"] == "vigilance")
        .collect();
    assert!(!exploits.is_empty());
    assert!(
        exploits.iter().all(|a| a["category"] == "targeted-attack"),
        "{exploits:?}"
    );
    assert!(exploits.iter().any(|a| {
        a["rule_title"]
            .as_str()
            .is_some_and(|t| t.contains("Netgear"))
    }));
}

#[test]
fn suspicious_mail_becomes_a_targeted_attack_alert() {
    let dir = Dir::new();
    let mail = crate::util::data("mail");
    let (alerts, _) = triage(&dir, &[], &mail);
    let from = |file: &str| {
        alerts
            .iter()
            .filter(|a| a["kind"] == "mail")
            .filter(|a| {
                a["source"]["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with(file))
            })
            .collect::<Vec<_>>()
    };
    for file in ["phish.eml", "emotet.eml", "bec.eml"] {
        let found = from(file);
        assert_eq!(found.len(), 1, "{file}: {alerts:?}");
        assert_eq!(found[0]["category"], "targeted-attack", "{file}");
        assert_eq!(found[0]["verdict"], "vigilance", "{file}");
        assert!(
            found[0]["tags"].to_string().contains("attack.t1566"),
            "{file}"
        );
    }
    assert!(from("ham.eml").is_empty(), "ordinary mail is no alert");
}
