//! `gsoc detect --beacons`: a host generated to call out every 60 s ± 20 %
//! is found in a real Suricata EVE capture (Slips test6, where 192.168.1.129
//! browses and talks to Google and AWS hosts), and that browsing is not.

use std::path::Path;

use serde_json::Value;

use crate::util::{Dir, json_lines, run_ok};

/// The beacons `gsoc detect --beacons` reports for one input.
fn beacons(dir: &Dir, input: &Path) -> Vec<Value> {
    let out = run_ok(
        dir.gsoc(&[
            "detect",
            "--no-stored-intel",
            "--beacons",
            "--format",
            "jsonl",
        ])
        .arg(input),
    );
    json_lines(&out)
        .into_iter()
        .filter(|d| d["kind"] == "beacon")
        .collect()
}

/// The seconds, from the start, of 120 check-ins every 60 s with a
/// deterministic jitter of up to ±20 %.
fn check_ins() -> Vec<f64> {
    let mut at = 0.0f64;
    (0..120u32)
        .map(|n| {
            let jitter = ((n * 37 % 41) as f64 / 40.0 - 0.5) * 0.4; // -0.2 ..= +0.2
            at += 60.0 * (1.0 + jitter);
            at
        })
        .collect()
}

/// EVE flow records of 192.168.1.77 calling 198.51.100.99:443 for two
/// hours, every 60 s with a deterministic jitter of up to ±20 %.
fn generated_beacon() -> String {
    let start = jiff::Timestamp::from_second(1_622_988_000).expect("a time"); // 2021-06-06T14:00:00Z
    let mut lines = String::new();
    for (n, at) in (0u32..).zip(check_ins()) {
        let time = start + jiff::SignedDuration::from_secs_f64(at);
        lines.push_str(&format!(
            "{{\"timestamp\":\"{}\",\"flow_id\":{},\"event_type\":\"flow\",\"src_ip\":\"192.168.1.77\",\"src_port\":{},\
             \"dest_ip\":\"198.51.100.99\",\"dest_port\":443,\"proto\":\"TCP\",\"flow\":{{\"pkts_toserver\":5,\"pkts_toclient\":4,\
             \"bytes_toserver\":700,\"bytes_toclient\":1900,\"state\":\"closed\",\"reason\":\"timeout\",\"alerted\":false}}}}\n",
            time,
            900_000 + n,
            50_000 + n
        ));
    }
    lines
}

#[test]
fn a_generated_beacon_is_found_and_human_browsing_is_not() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let eve = data.join("network/suricata-eve/slips/test6-malicious.suricata.flowsplit-A.ndjson");
    let dir = Dir::new();
    let mut log = std::fs::read_to_string(&eve).expect("the capture");
    log.push_str(&generated_beacon());
    let path = dir.write("eve-with-beacon.json", log);
    let found = beacons(&dir, &path);
    assert_eq!(found.len(), 1, "only the generated host: {found:?}");
    let fields = &found[0]["fields"];
    assert_eq!(fields["source"], "192.168.1.77");
    assert_eq!(fields["destination"], "198.51.100.99");
    assert_eq!(fields["connections"], 120);
    let interval = fields["interval_seconds"].as_f64().unwrap();
    assert!((54.0..=66.0).contains(&interval), "{interval}");

    assert!(
        beacons(&dir, &eve).is_empty(),
        "192.168.1.129's traffic to Google and AWS is not beaconing"
    );
}

/// Proxy access-log lines (absolute URLs, as clients send them to a
/// forward proxy): 10.1.2.3 fetches one gate every 60 s ± 20 % for two
/// hours while 10.1.2.4 browses twenty sites at irregular times.
fn proxy_log() -> String {
    let mut lines = Vec::new();
    for at in check_ins() {
        lines.push((
            at as u64,
            "10.1.2.3",
            "http://cdn-check.example.net/gate.php?id=7".to_owned(),
        ));
    }
    for n in 0..200u64 {
        let t = (n * n * 13 + n * 101) % 7200;
        let site = format!("https://site{}.example.org/page/{n}", n % 20);
        lines.push((t, "10.1.2.4", site));
    }
    lines.sort();
    lines
        .iter()
        .map(|(t, client, url)| {
            let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
            format!(
                "{client} - - [06/Jun/2021:{:02}:{m:02}:{s:02} +0000] \"GET {url} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n",
                10 + h
            )
        })
        .collect()
}

#[test]
fn beaconing_is_found_in_proxy_logs() {
    let dir = Dir::new();
    let path = dir.write("proxy-access.log", proxy_log());
    let found = beacons(&dir, &path);
    assert_eq!(found.len(), 1, "only the gate, not the browsing: {found:?}");
    assert_eq!(found[0]["fields"]["source"], "10.1.2.3");
    assert_eq!(found[0]["fields"]["destination"], "cdn-check.example.net");
}
