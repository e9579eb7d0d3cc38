//! `gsoc mail analyze|stats|listen` on the fixtures in tests/data/mail (see
//! its README): classes and reasons, the broken message quarantined while
//! the rest is analysed, fiscal-year counting across 31 March / 1 April in
//! Japan, indicators into the store, and messages received over SMTP.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Dir, data, json_lines, run_ok, stderr};

fn analyze(dir: &Dir, extra: &[&str]) -> (Vec<Value>, String) {
    let folder = data("mail").display().to_string();
    let mut args = vec!["mail", "analyze", "--format", "jsonl"];
    args.extend_from_slice(extra);
    args.push(&folder);
    let out = run_ok(dir.gsoc(&args));
    (json_lines(&out), stderr(&out))
}

fn analysis_of<'v>(analyses: &'v [Value], file: &str) -> &'v Value {
    analyses
        .iter()
        .find(|a| {
            a["source"]["file"]
                .as_str()
                .is_some_and(|f| f.ends_with(file))
        })
        .unwrap_or_else(|| panic!("{file} not analysed"))
}

fn class_of<'v>(analyses: &'v [Value], file: &str) -> &'v str {
    analysis_of(analyses, file)["class"]
        .as_str()
        .unwrap_or_default()
}

fn codes(analysis: &Value) -> Vec<&str> {
    analysis["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect()
}

#[test]
fn each_fixture_gets_its_class_and_reasons() {
    let dir = Dir::new();
    let (analyses, _) = analyze(&dir, &[]);
    assert_eq!(class_of(&analyses, "emotet.eml"), "attachment");
    assert_eq!(class_of(&analyses, "phish.eml"), "phishing");
    assert_eq!(class_of(&analyses, "bec.eml"), "bec");
    assert_eq!(class_of(&analyses, "ham.eml"), "benign");
    let emotet = analysis_of(&analyses, "emotet.eml");
    assert!(
        codes(emotet).contains(&"encrypted-archive-password-in-body"),
        "{:?}",
        codes(emotet)
    );
    let hash = emotet["attachments"][0]["sha256"].as_str().unwrap();
    assert!(
        emotet["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["type"] == "sha256" && i["value"] == hash)
    );
    let phish = analysis_of(&analyses, "phish.eml");
    for expected in [
        "ip-host-link",
        "link-text-mismatch",
        "auth-failed",
        "display-name-impersonation",
    ] {
        assert!(
            codes(phish).contains(&expected),
            "{expected} missing from {:?}",
            codes(phish)
        );
    }
    assert!(phish["score"].as_u64().unwrap() >= 40);
    assert!(
        phish["reasons"][0]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
}

#[test]
fn a_broken_message_is_quarantined_with_its_reason_and_the_rest_analysed() {
    let dir = Dir::new();
    let quarantine = dir.path().join("quarantine.jsonl");
    let q = quarantine.display().to_string();
    let (analyses, err) = analyze(&dir, &["--quarantine", &q]);
    assert_eq!(
        analyses.len(),
        8,
        "seven messages and two in the mbox, less the broken one"
    );
    assert!(err.contains("broken.eml") && err.contains("empty"), "{err}");
    assert!(err.contains("could not be analysed: 1"), "{err}");
    let quarantined = std::fs::read_to_string(&quarantine).unwrap();
    let record: Value = serde_json::from_str(quarantined.trim()).unwrap();
    assert!(
        record["source"]["file"]
            .as_str()
            .unwrap()
            .ends_with("broken.eml")
    );
    assert!(record["reason"].as_str().unwrap().contains("empty"));
}

#[test]
fn stats_split_fiscal_years_at_april_in_japan() {
    let dir = Dir::new();
    let mbox = data("mail/fiscal-boundary.mbox").display().to_string();
    let out = run_ok(dir.gsoc(&["mail", "stats", "--format", "jsonl", &mbox]));
    let rows = json_lines(&out);
    let month = |m: &str| {
        rows.iter()
            .find(|r| r["month"] == m)
            .unwrap_or_else(|| panic!("{m} in {rows:?}"))
    };
    assert_eq!(month("2024-03")["fiscal_year"], 2023);
    assert_eq!(month("2024-04")["fiscal_year"], 2024);
    assert_eq!(month("2024-03")["counts"]["phishing"], 1);
    let years: Vec<&Value> = rows
        .iter()
        .filter(|r| r["month"].is_null() && !r["fiscal_year"].is_null())
        .collect();
    assert_eq!(years.len(), 2, "{rows:?}");
}

#[test]
fn the_table_speaks_japanese_for_a_ja_locale() {
    let dir = Dir::new();
    let folder = data("mail").display().to_string();
    let out = run_ok(
        dir.gsoc(&["mail", "analyze", "--format", "table", &folder])
            .env("GSOC_LANG", "ja"),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("分類")
            && table.contains("添付ファイル型")
            && table.contains("フィッシング"),
        "{table}"
    );
    let out = run_ok(
        dir.gsoc(&["mail", "stats", "--format", "table", &folder])
            .env("GSOC_LANG", "ja"),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("2023年度") && table.contains("2024年度"),
        "{table}"
    );
}

#[test]
fn indicators_of_suspicious_mail_go_to_the_store() {
    let dir = Dir::new();
    analyze(&dir, &["--to-intel"]);
    let out = run_ok(dir.gsoc(&[
        "intel",
        "list",
        "--source",
        "gsoc-mail",
        "--format",
        "jsonl",
    ]));
    let stored = json_lines(&out);
    let values: Vec<&str> = stored.iter().filter_map(|i| i["value"].as_str()).collect();
    assert!(values.contains(&"203.0.113.45"), "{values:?}");
    assert!(
        values.contains(&"tanaka.ichiro.ceo@gmail.com"),
        "{values:?}"
    );
    assert!(
        !values
            .iter()
            .any(|v| v.contains("wiki.agency.example.go.jp")),
        "benign mail stays out: {values:?}"
    );
    let audit = std::fs::read_to_string(dir.path().join("gsoc-data/audit.jsonl")).unwrap();
    assert!(audit.contains("mail-indicators"), "{audit}");
}

/// A listener child process, killed when dropped.
struct Listener(Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn connect(port: u16) -> TcpStream {
    let started = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return stream,
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("the listener did not start: {e}"),
        }
    }
}

fn smtp_send(port: u16, message: &[u8]) -> Vec<String> {
    let mut stream = connect(port);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut replies = Vec::new();
    let mut read = |replies: &mut Vec<String>| loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let last = line.as_bytes().get(3) != Some(&b'-');
        replies.push(line.trim_end().to_owned());
        if last {
            return;
        }
    };
    read(&mut replies);
    for command in [
        "EHLO gateway.example",
        "MAIL FROM:<keiri@invoice-center.example>",
        "RCPT TO:<soc@agency.example.go.jp>",
        "DATA",
    ] {
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        read(&mut replies);
    }
    stream.write_all(message).unwrap();
    let end: &[u8] = if message.ends_with(b"\r\n") {
        b".\r\n"
    } else {
        b"\r\n.\r\n"
    };
    stream.write_all(end).unwrap();
    read(&mut replies);
    stream.write_all(b"QUIT\r\n").unwrap();
    read(&mut replies);
    replies
}

#[test]
fn listen_stores_and_analyses_what_a_gateway_sends() {
    let dir = Dir::new();
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let child = dir
        .gsoc(&["mail", "listen", "--listen", &address])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gsoc starts");
    let _listener = Listener(child);
    let message = std::fs::read(data("mail/emotet.eml")).unwrap();
    let replies = smtp_send(port, &message);
    assert!(
        replies
            .iter()
            .any(|r| r.starts_with("250 2.0.0 OK: received")),
        "{replies:?}"
    );
    let inbox = dir.path().join("gsoc-data/mail/inbox");
    let stored: Vec<_> = std::fs::read_dir(&inbox)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(std::fs::read(stored[0].path()).unwrap(), message);
    let analyses =
        std::fs::read_to_string(dir.path().join("gsoc-data/mail/analyses.jsonl")).unwrap();
    let record: Value = serde_json::from_str(analyses.lines().next().unwrap()).unwrap();
    assert_eq!(record["analysis"]["class"], "attachment");
    assert_eq!(record["envelope"]["from"], "keiri@invoice-center.example");
    let out = run_ok(dir.gsoc(&["mail", "stats", "--format", "jsonl"]));
    let rows = json_lines(&out);
    let may = rows
        .iter()
        .find(|r| r["month"] == "2024-05")
        .expect("May 2024 counted");
    assert_eq!(may["counts"]["attachment"], 1);
}

#[test]
fn dkim_signatures_are_verified_with_a_key_given_beforehand() {
    let dir = Dir::new();
    let key = "gsoc-test._domainkey.partner.example=v=DKIM1; k=ed25519; p=v90tcTmZYKc60SK6egMgcbBp/OU9Luu0cv8c2lktb44=";
    let signed = data("mail/dkim-signed.eml").display().to_string();
    let tampered = data("mail/dkim-tampered.eml").display().to_string();
    let out = run_ok(dir.gsoc(&[
        "mail",
        "analyze",
        "--format",
        "jsonl",
        "--dkim-key",
        key,
        &signed,
        &tampered,
    ]));
    let analyses = json_lines(&out);
    let signed = analysis_of(&analyses, "dkim-signed.eml");
    assert_eq!(signed["headers"]["dkim"][0]["result"], "pass");
    assert_eq!(signed["headers"]["dkim"][0]["domain"], "partner.example");
    assert!(!codes(signed).contains(&"dkim-failed"));
    let tampered = analysis_of(&analyses, "dkim-tampered.eml");
    assert_ne!(tampered["headers"]["dkim"][0]["result"], "pass");
    assert!(
        codes(tampered).contains(&"dkim-failed"),
        "{:?}",
        codes(tampered)
    );
    let bad = dir
        .gsoc(&[
            "mail",
            "analyze",
            "--dkim-key",
            "no-equals-sign",
            &data("mail").display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("SELECTOR._domainkey.DOMAIN"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn detect_matches_mail_as_events_with_sigma_rules_and_indicators() {
    let dir = Dir::new();
    let rule = dir.write(
        "rules/mail.yml",
        "title: Encrypted archive with its password in the mail\n\
         id: 6b1f6f0e-2c55-4d8e-9a51-1f6d7c3c9e01\nstatus: experimental\nauthor: gsoc tests\n\
         logsource:\n    category: email\n\
         detection:\n    selection:\n        reasons: encrypted-archive-password-in-body\n    condition: selection\n\
         level: high\n",
    );
    let indicators = dir.write("intel/phish-hosts.txt", "203.0.113.45\n");
    let folder = data("mail").display().to_string();
    let (rule, indicators) = (rule.display().to_string(), indicators.display().to_string());
    let out = run_ok(dir.gsoc(&[
        "detect",
        "--no-stored-intel",
        "--rules",
        &rule,
        "--intel",
        &indicators,
        "--format",
        "jsonl",
        &folder,
    ]));
    let detections = json_lines(&out);
    let sigma: Vec<&Value> = detections.iter().filter(|d| d["kind"] == "sigma").collect();
    assert_eq!(sigma.len(), 1, "{detections:?}");
    assert!(
        sigma[0]["source"]["file"]
            .as_str()
            .unwrap()
            .ends_with("emotet.eml")
    );
    let intel: Vec<&Value> = detections
        .iter()
        .filter(|d| d["kind"] == "indicator")
        .collect();
    assert_eq!(intel.len(), 1, "{detections:?}");
    assert!(
        intel[0]["source"]["file"]
            .as_str()
            .unwrap()
            .ends_with("phish.eml")
    );
    assert!(
        stderr(&out).contains("broken.eml"),
        "the broken message is reported"
    );
}
