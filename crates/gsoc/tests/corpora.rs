//! Every public corpus runs through `gsoc detect` with the whole built-in
//! rule set: no panic, every log read, bad records counted rather than
//! fatal. Skips when ../shared/data is absent.

use crate::util::{Dir, run_ok, stderr};

/// The number before a summary line's label.
fn count(summary: &str, label: &str) -> u64 {
    summary
        .lines()
        .find(|l| {
            l.trim_start()
                .split_once("  ")
                .is_some_and(|(_, rest)| rest.starts_with(label))
        })
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no '{label}' in the summary:\n{summary}"))
}

fn detect(corpus: &str) -> Option<(String, Vec<serde_json::Value>)> {
    let data = gsoc_testdata::shared_data()?;
    let dir = Dir::new();
    let out = run_ok(
        dir.gsoc(&["detect", "--format", "jsonl", "--quarantine", "q.jsonl"])
            .arg(data.join(corpus)),
    );
    let summary = stderr(&out);
    assert!(!summary.contains("panicked"), "{summary}");
    Some((summary, crate::util::json_lines(&out)))
}

#[test]
fn windows_corpus() {
    let Some((summary, detections)) = detect("windows") else {
        return;
    };
    // 8,255 EVTX records (two files hold one record that is recovered
    // twice), 5,862 OTRF JSON events and the 8,253-event flat benchmark file.
    assert_eq!(count(&summary, "events read"), 22_370, "{summary}");
    assert_eq!(
        count(&summary, "records that failed to decode"),
        0,
        "{summary}"
    );
    assert!(detections.len() > 3_000, "{}", detections.len());
    assert!(detections.iter().all(|d| d["rule_author"].is_string()));
    // The metadata YAML files are not logs, and say so once each.
    assert_eq!(count(&summary, "inputs not read"), 16, "{summary}");
}

#[test]
fn network_corpus() {
    let Some((summary, detections)) = detect("network") else {
        return;
    };
    assert_eq!(count(&summary, "events read"), 341_081, "{summary}");
    assert_eq!(
        count(&summary, "records that failed to decode"),
        0,
        "{summary}"
    );
    assert!(!detections.is_empty());
}

#[test]
fn web_and_syslog_corpus() {
    let Some((summary, _)) = detect("web-and-syslog") else {
        return;
    };
    assert!(count(&summary, "events read") > 2_000, "{summary}");
    let failed = count(&summary, "records that failed to decode");
    assert!(failed < 20, "only a few odd lines may fail: {summary}");
}
