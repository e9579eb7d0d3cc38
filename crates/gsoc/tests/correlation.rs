//! Sigma correlation rules in `gsoc detect`, all seven types, on a real
//! Kerberos password spray (EVTX-ATTACK-SAMPLES
//! `kerberos_pwd_spray_4771.evtx` in ../shared/data/windows: a log cleared
//! at 20:29:27, then at 20:29:36 eight TGT requests (4768) from
//! 172.16.66.1 for eight users, two pre-authentication failures (4771) for
//! Administrator and backdoor, and a ninth request from
//! ::ffff:172.16.66.1). Skips, saying why, without the shared data.

use serde_json::Value;

use crate::util::{Dir, json_lines, run_ok};

const BASE_RULES: &str = "\
title: Kerberos TGT requested
id: 0a9c1b0e-5e49-4c39-9d55-6f0d7a1c4768
name: tgt_request
status: test
author: gsoc tests
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4768
    condition: selection
level: low
---
title: Kerberos pre-authentication failed
id: 0a9c1b0e-5e49-4c39-9d55-6f0d7a1c4771
name: preauth_failed
status: test
author: gsoc tests
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4771
    condition: selection
level: low
---
title: Security log cleared
id: 0a9c1b0e-5e49-4c39-9d55-6f0d7a1c1102
name: log_cleared
status: test
author: gsoc tests
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 1102
    condition: selection
level: low
";

fn spray() -> Option<String> {
    let data = gsoc_testdata::shared_data()?;
    let evtx = data
        .join("windows/evtx/evtx-attack-samples/Credential Access/kerberos_pwd_spray_4771.evtx");
    Some(evtx.display().to_string())
}

/// Runs detect with the base rules and one correlation; returns every
/// detection.
fn correlate(correlation: &str) -> Option<Vec<Value>> {
    let evtx = spray()?;
    let dir = Dir::new();
    let rules = dir.write("rules/spray.yml", format!("{BASE_RULES}---\n{correlation}"));
    let rules = rules.display().to_string();
    let out = run_ok(dir.gsoc(&[
        "detect",
        "--no-stored-intel",
        "--rules",
        &rules,
        "--format",
        "jsonl",
        &evtx,
    ]));
    Some(json_lines(&out))
}

fn correlation(
    kind: &str,
    rules: &[&str],
    group_by: &[&str],
    timespan: &str,
    condition: &str,
) -> String {
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|i| format!("\n        - {i}"))
            .collect::<String>()
    };
    format!(
        "title: {kind} correlation\nid: 5d6e7f80-0000-4000-8000-{:012}\nstatus: test\nauthor: gsoc tests\n\
         correlation:\n    type: {kind}\n    rules:{}\n    group-by:{}\n    timespan: {timespan}\n{condition}level: high\n",
        kind.len(),
        list(rules),
        list(group_by)
    )
}

fn fired(detections: &[Value]) -> Vec<&Value> {
    detections
        .iter()
        .filter(|d| d["kind"] == "correlation")
        .collect()
}

#[test]
fn event_count_per_group_resets_after_firing() {
    let condition = "    condition:\n        gte: 5\n";
    let Some(all) = correlate(&correlation(
        "event_count",
        &["tgt_request"],
        &["IpAddress"],
        "1m",
        condition,
    )) else {
        return;
    };
    let fired = fired(&all);
    assert_eq!(
        fired.len(),
        1,
        "8 requests from one address fire once at the 5th: {fired:?}"
    );
    assert_eq!(fired[0]["fields"]["IpAddress"], "172.16.66.1");
    assert_eq!(fired[0]["fields"]["event_count"], 5);
    assert!(
        all.iter()
            .all(|d| d["rule_id"] != "0a9c1b0e-5e49-4c39-9d55-6f0d7a1c4768"),
        "tgt_request is not generated on its own"
    );
}

#[test]
fn group_by_decides_what_is_counted_together() {
    let condition = "    condition:\n        gte: 2\n";
    let Some(all) = correlate(&correlation(
        "event_count",
        &["tgt_request"],
        &["TargetUserName"],
        "1m",
        condition,
    )) else {
        return;
    };
    let fired = fired(&all);
    assert_eq!(
        fired.len(),
        1,
        "only 'normal' asked twice (from two address forms): {fired:?}"
    );
    assert_eq!(fired[0]["fields"]["TargetUserName"], "normal");
}

#[test]
fn value_count_counts_distinct_users_per_address() {
    let condition = "    condition:\n        field: TargetUserName\n        gte: 7\n";
    let Some(all) = correlate(&correlation(
        "value_count",
        &["tgt_request"],
        &["IpAddress"],
        "1m",
        condition,
    )) else {
        return;
    };
    let fired = fired(&all);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0]["fields"]["value_count"], 7);
}

#[test]
fn temporal_fires_when_every_rule_matched_in_any_order() {
    let Some(all) = correlate(&correlation(
        "temporal",
        &["tgt_request", "preauth_failed"],
        &["IpAddress"],
        "1m",
        "",
    )) else {
        return;
    };
    assert_eq!(
        fired(&all).len(),
        2,
        "at Administrator's failure, then again at the request after backdoor's: {:?}",
        fired(&all)
    );
}

#[test]
fn temporal_ordered_needs_the_order() {
    let failure_first = correlation(
        "temporal_ordered",
        &["preauth_failed", "tgt_request"],
        &["IpAddress"],
        "1m",
        "",
    );
    let Some(all) = correlate(&failure_first) else {
        return;
    };
    let fired = fired(&all);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!(fired[0]["source"]["record"].as_u64().is_some());
}

#[test]
fn state_expires_with_the_timespan() {
    let rules = ["log_cleared", "tgt_request"];
    let Some(short) = correlate(&correlation("temporal", &rules, &[], "5s", "")) else {
        return;
    };
    assert!(
        fired(&short).is_empty(),
        "the log was cleared 9 s before the first request: {:?}",
        fired(&short)
    );
    let long = correlate(&correlation("temporal", &rules, &[], "10s", "")).unwrap_or_default();
    assert_eq!(fired(&long).len(), 1);
}

#[test]
fn value_sum_avg_and_percentile_of_a_field() {
    let sum = "    condition:\n        field: IpPort\n        gte: 200000\n";
    let Some(all) = correlate(&correlation(
        "value_sum",
        &["tgt_request"],
        &["IpAddress"],
        "1m",
        sum,
    )) else {
        return;
    };
    let sums: Vec<i64> = fired(&all)
        .iter()
        .filter_map(|d| d["fields"]["value_sum"].as_i64())
        .collect();
    assert_eq!(
        sums,
        vec![55961 + 55958 + 55963 + 55962, 55960 + 55957 + 55966 + 55969]
    );

    let avg = "    condition:\n        field: IpPort\n        lte: 55950\n";
    let all = correlate(&correlation(
        "value_avg",
        &["tgt_request"],
        &["IpAddress"],
        "1m",
        avg,
    ))
    .unwrap_or_default();
    let fired_avg = fired(&all);
    assert_eq!(fired_avg.len(), 1, "{fired_avg:?}");
    assert_eq!(fired_avg[0]["fields"]["IpAddress"], "::ffff:172.16.66.1");
    assert_eq!(fired_avg[0]["fields"]["value_avg"], 52559);

    let p90 = "    condition:\n        field: IpPort\n        percentile: 90\n        gte: 55966\n";
    let all = correlate(&correlation(
        "value_percentile",
        &["tgt_request"],
        &["IpAddress"],
        "1m",
        p90,
    ))
    .unwrap_or_default();
    let values: Vec<i64> = fired(&all)
        .iter()
        .filter_map(|d| d["fields"]["value_percentile"].as_i64())
        .collect();
    assert_eq!(
        values,
        vec![55966, 55969],
        "at admin02's request, then 'normal' alone"
    );
}

#[test]
fn generate_keeps_the_referenced_rules_in_the_output() {
    let condition = "    generate: true\n    condition:\n        gte: 5\n";
    let Some(all) = correlate(&correlation(
        "event_count",
        &["tgt_request"],
        &["IpAddress"],
        "1m",
        condition,
    )) else {
        return;
    };
    let own = all
        .iter()
        .filter(|d| d["rule_id"] == "0a9c1b0e-5e49-4c39-9d55-6f0d7a1c4768")
        .count();
    assert_eq!(own, 9);
    assert_eq!(fired(&all).len(), 1);
}
