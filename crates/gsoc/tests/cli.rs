//! `gsoc` from the command line, end to end: real processes, real files.

use std::io::Write;
use std::process::Stdio;

use gsoc_testdata::repo;

use crate::util::{Dir, data, json_lines, run_ok, stderr};

const EICAR_RULE: &str = "RedSun - TieringEngineService.exe Detected as EICAR Test File";

#[test]
fn detect_jsonl_has_the_documented_shape() {
    let dir = Dir::new();
    let evtx = data("evtx/defender-redsun-eicar.evtx");
    let out = run_ok(dir.gsoc(&["detect", "--format", "jsonl"]).arg(&evtx));
    let lines = json_lines(&out);
    let hit = lines
        .iter()
        .find(|d| d["rule_title"] == EICAR_RULE)
        .unwrap_or_else(|| panic!("the EICAR rule must match: {lines:?}"));
    assert_eq!(hit["rule_id"], "a7c3e5f2-8b1d-4e9a-b6c2-3d7f5e8a9b4c");
    assert_eq!(hit["level"], "critical");
    assert_eq!(
        hit["rule_author"],
        "Swachchhanda Shrawan Poudel (Nextron Systems)"
    );
    assert!(hit["tags"].as_array().is_some_and(|t| !t.is_empty()));
    assert_eq!(hit["event_time"], "2026-04-17T04:14:33.653414Z");
    assert_eq!(hit["source"]["file"], evtx.display().to_string());
    assert_eq!(hit["source"]["record"], 542);
    assert_eq!(hit["fields"]["EventID"], 1119);
    assert_eq!(hit["fields"]["Source Name"], "Real-Time Protection");
    assert_eq!(hit["host"], "swachchhanda");
}

#[test]
fn the_json_twin_gives_the_same_detections() {
    let dir = Dir::new();
    let titles = |name: &str| {
        let out = run_ok(dir.gsoc(&["detect", "--format", "jsonl"]).arg(data(name)));
        let mut t: Vec<String> = json_lines(&out)
            .iter()
            .map(|d| d["rule_id"].to_string())
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        titles("evtx/defender-redsun-eicar.evtx"),
        titles("evtx/defender-redsun-eicar.json")
    );
}

#[test]
fn table_and_csv_name_the_rule_author() {
    let dir = Dir::new();
    let evtx = data("evtx/defender-redsun-eicar.evtx");
    let out = run_ok(
        dir.gsoc(&["detect", "--format", "table"])
            .arg(&evtx)
            .env("COLUMNS", "300"),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Rule author"), "{table}");
    assert!(table.contains("Swachchhanda Shrawan"), "{table}");
    assert!(table.contains("2026-04-17 04:14:33 UTC"));
    let out = run_ok(dir.gsoc(&["detect", "--format", "csv"]).arg(&evtx));
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    assert!(lines.next().is_some_and(|h| h.contains("rule_author")));
    assert!(csv.contains("Swachchhanda Shrawan Poudel (Nextron Systems)"));
}

#[test]
fn japanese_output_uses_tokyo_time() {
    let dir = Dir::new();
    let evtx = data("evtx/defender-redsun-eicar.evtx");
    let out = run_ok(
        dir.gsoc(&["detect", "--format", "table", "--lang", "ja"])
            .arg(&evtx)
            .env("COLUMNS", "300"),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("ルール作成者"), "{table}");
    assert!(table.contains("2026-04-17 13:14:33 JST"), "{table}");
    assert!(table.contains("重大"));
    assert!(stderr(&out).contains("読み込んだイベント"));
}

#[test]
fn a_broken_record_is_quarantined_and_the_rest_is_processed() {
    let dir = Dir::new();
    let log = dir.write(
        "mixed.ndjson",
        concat!(
            "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Image\":\"C:\\\\Windows\\\\System32\\\\whoami.exe\",\"CommandLine\":\"whoami\"}\n",
            "{\"EventID\":1, \"Channel\": broken\n",
            "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Image\":\"C:\\\\Windows\\\\System32\\\\whoami.exe\",\"CommandLine\":\"whoami /priv\"}\n",
        ),
    );
    let out = run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--quarantine", "q.jsonl"])
            .arg(&log),
    );
    let err = stderr(&out);
    assert!(err.contains("           2  events read"), "{err}");
    assert!(
        err.contains("           1  records that failed to decode"),
        "{err}"
    );
    assert!(
        err.contains("mixed.ndjson:2: win-json record skipped: invalid JSON"),
        "{err}"
    );
    let detections = json_lines(&out);
    let records: Vec<u64> = detections
        .iter()
        .filter_map(|d| d["source"]["record"].as_u64())
        .collect();
    assert!(records.contains(&1) && records.contains(&3), "{records:?}");
    let quarantine = std::fs::read_to_string(dir.path().join("q.jsonl")).expect("quarantine file");
    let q: serde_json::Value = serde_json::from_str(quarantine.trim()).expect("one JSON line");
    assert_eq!(q["record"], 2);
    assert!(
        q["reason"]
            .as_str()
            .is_some_and(|r| r.contains("line 1 column"))
    );
    assert!(q["original"].as_str().is_some_and(|o| o.contains("broken")));
}

#[test]
fn a_file_that_is_not_a_log_is_reported_once() {
    let dir = Dir::new();
    let binary: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    dir.write("logs/picture.bin", &binary);
    dir.write(
        "logs/access.log",
        "10.0.0.1 - - [10/Oct/2023:13:55:36 +0000] \"GET /index.html HTTP/1.1\" 200 12\n",
    );
    let out = run_ok(dir.gsoc(&["detect", "--format", "jsonl", "logs"]));
    let err = stderr(&out);
    assert_eq!(err.matches("picture.bin").count(), 1, "{err}");
    assert!(err.contains("not a log"), "{err}");
    assert!(err.contains("           1  events read"), "{err}");
}

#[test]
fn stdin_and_gzip_give_the_same_detections_as_the_file() {
    let dir = Dir::new();
    let sample = repo().join("samples/windows/otrf-psh-lsass-memory-dump-comsvcs.json");
    let from_file = json_lines(&run_ok(
        dir.gsoc(&["detect", "--format", "jsonl"]).arg(&sample),
    ));
    assert!(from_file.len() > 5, "the sample must produce detections");
    let bytes = std::fs::read(&sample).expect("sample");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).expect("compress");
    let gz = gz.finish().expect("compress");
    let mut child = dir
        .gsoc(&["detect", "--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gsoc starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&gz)
        .expect("feed stdin");
    let out = child.wait_with_output().expect("gsoc runs");
    assert!(out.status.success());
    let from_stdin = json_lines(&out);
    let ids = |v: &[serde_json::Value]| {
        v.iter()
            .map(|d| (d["rule_id"].to_string(), d["source"]["record"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&from_file), ids(&from_stdin));
    assert!(from_stdin.iter().all(|d| d["source"]["file"] == "-"));
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let dir = Dir::new();
    let samples = repo().join("samples");
    let one = run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--threads", "1"])
            .arg(&samples),
    );
    let two = run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--threads", "2"])
            .arg(&samples),
    );
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn level_status_and_time_filters() {
    let dir = Dir::new();
    let samples = repo().join("samples/windows");
    let all = json_lines(&run_ok(
        dir.gsoc(&["detect", "--format", "jsonl"]).arg(&samples),
    ));
    let high = json_lines(&run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--min-level", "high"])
            .arg(&samples),
    ));
    assert!(high.len() < all.len() && !high.is_empty());
    assert!(
        high.iter()
            .all(|d| d["level"] == "high" || d["level"] == "critical")
    );
    let stable = json_lines(&run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--status", "stable"])
            .arg(&samples),
    ));
    assert!(stable.iter().all(|d| d["rule_status"] == "stable"));
    assert!(stable.len() < all.len());
    let out = run_ok(
        dir.gsoc(&[
            "detect",
            "--format",
            "jsonl",
            "--from",
            "2020-10-18T10:50:00Z",
            "--to",
            "2020-10-19",
        ])
        .arg(&samples),
    );
    let ranged = json_lines(&out);
    assert!(!ranged.is_empty() && ranged.len() < all.len());
    assert!(ranged.iter().all(|d| {
        d["event_time"]
            .as_str()
            .is_some_and(|t| ("2020-10-18T10:50:00Z".."2020-10-19").contains(&t))
    }));
    assert!(stderr(&out).contains("events outside --from/--to"));
}

#[test]
fn custom_rules_and_missing_rule_paths() {
    let dir = Dir::new();
    dir.write(
        "rules/whoami.yml",
        "title: Whoami Run\nid: 11111111-2222-4333-8444-555555555555\nauthor: Test Author\nlogsource: {category: webserver}\ndetection:\n  sel:\n    cs-uri-query|contains: '.htpasswd'\n  condition: sel\nlevel: high\n",
    );
    let log = repo().join("samples/web/crowdsec-apache2-sensitive-files.log");
    let out = run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--rules", "rules"])
            .arg(&log),
    );
    let hits = json_lines(&out);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["rule_author"], "Test Author");
    assert_eq!(hits[0]["fields"]["cs-uri-query"], "/.htpasswd");
    assert!(stderr(&out).contains("           1  rules loaded"));
    let out = dir
        .gsoc(&["detect", "--rules", "nope"])
        .arg(&log)
        .output()
        .expect("gsoc runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rule path nope does not exist"));
}

#[test]
fn no_detections_is_still_success() {
    let dir = Dir::new();
    let log = dir.write(
        "quiet.log",
        "10.0.0.1 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200 12\n",
    );
    let out = run_ok(dir.gsoc(&["detect", "--format", "table"]).arg(&log));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No detections."));
}

#[test]
fn rules_check_says_why_a_rule_is_rejected() {
    let dir = Dir::new();
    dir.write("rules/good.yml", "title: Good\nid: g\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\n");
    dir.write("rules/bad.yml", "title: Bad\nid: b\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|endwith: '\\x.exe'\n  condition: sel\n");
    dir.write("rules/regex.yml", "title: Re\nid: r\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|re: '(unclosed'\n  condition: sel\n");
    let out = run_ok(dir.gsoc(&["rules", "check", "--format", "jsonl", "rules"]));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    let by_id = |id: &str| {
        lines
            .iter()
            .find(|l| l["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed"))
    };
    assert_eq!(by_id("g")["ok"], true);
    assert_eq!(by_id("b")["ok"], false);
    let error = by_id("b")["error"].as_str().expect("an error").to_owned();
    assert!(
        error.contains("bad.yml:6:5: unknown modifier 'endwith' (did you mean 'endswith'?)"),
        "{error}"
    );
    assert!(
        by_id("r")["error"]
            .as_str()
            .is_some_and(|e| e.contains("invalid regular expression"))
    );
    let out = run_ok(dir.gsoc(&["rules", "check", "--format", "table", "rules"]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("1 rules loaded, 2 rejected"), "{table}");
}

#[test]
fn rules_check_accepts_the_whole_built_in_set() {
    let dir = Dir::new();
    let out = run_ok(dir.gsoc(&["rules", "check", "--format", "table"]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("3754 rules loaded, 0 rejected"), "{table}");
}

#[test]
fn decode_prints_fields_normalized_and_original() {
    let dir = Dir::new();
    let out = run_ok(
        dir.gsoc(&["decode"])
            .arg(data("evtx/defender-redsun-eicar.evtx")),
    );
    let events = json_lines(&out);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["format"], "evtx");
    assert_eq!(e["fields"]["Threat Name"], "Tool:Win32/EICAR_Test_File");
    assert_eq!(
        e["fields"]["Channel"],
        "Microsoft-Windows-Windows Defender/Operational"
    );
    assert_eq!(e["normalized"]["metadata.event_code"], 1119);
    assert_eq!(e["logsource"]["product"], "windows");
    let original: serde_json::Value =
        serde_json::from_str(e["original"].as_str().expect("text")).expect("JSON");
    assert_eq!(original["Event"]["System"]["EventRecordID"], 542);
}

#[test]
fn help_explains_every_flag() {
    let dir = Dir::new();
    let out = run_ok(dir.gsoc(&["detect", "--help"]));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--rules",
        "--format",
        "--min-level",
        "--status",
        "--from",
        "--to",
        "--threads",
        "--input-format",
        "--mapping",
        "--placeholders",
        "--quarantine",
        "--output",
        "--no-progress",
        "--lang",
    ] {
        assert!(help.contains(flag), "{flag} missing from help:\n{help}");
    }
}

#[test]
fn input_format_overrides_recognition() {
    let dir = Dir::new();
    let log = dir.write(
        "eve.json",
        "{\"timestamp\":\"2021-06-06T15:59:39.420497+0200\",\"event_type\":\"dns\",\"src_ip\":\"10.0.0.1\",\"dns\":{\"rrname\":\"example.org\"}}\n",
    );
    let auto = json_lines(&run_ok(dir.gsoc(&["decode"]).arg(&log)));
    assert_eq!(auto[0]["format"], "eve");
    assert_eq!(auto[0]["normalized"]["query.hostname"], "example.org");
    let forced = json_lines(&run_ok(
        dir.gsoc(&["decode", "--input-format", "json"]).arg(&log),
    ));
    assert_eq!(forced[0]["format"], "json");
    assert_eq!(forced[0]["fields"]["dns.rrname"], "example.org");
    let out = run_ok(dir.gsoc(&["decode", "--input-format", "syslog"]).arg(&log));
    assert!(json_lines(&out).is_empty());
    assert!(
        stderr(&out).contains("1  records that failed to decode"),
        "{}",
        stderr(&out)
    );
}
