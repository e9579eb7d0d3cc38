//! Indicators from the maltrail lists planted into real Zeek and Suricata
//! logs from ../shared/data/network: `gsoc detect --intel` must find exactly
//! the planted records plus what the logs already held. What they already
//! hold (the baseline) are mass scanners from `mass_scanner_cidr.txt`
//! probing the honeypots, and a few addresses from the malware and
//! suspicious lists; the test prints it. Skips when the shared data is
//! absent.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{Dir, json_lines, run_ok};

/// One maltrail value.
struct Trail {
    value: String,
}

fn trails(root: &Path) -> Vec<Trail> {
    let mut files: Vec<_> = walkdir(root);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable list");
        out.extend(gsoc_testdata::trail_values(&text).map(|value| Trail {
            value: value.to_owned(),
        }));
    }
    out
}

fn walkdir(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).expect("a folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else if path.extension().is_some_and(|e| e == "txt") {
            out.push(path);
        }
    }
    out
}

fn ipv4(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (parts.len() == 4 && parts.iter().all(|p| *p < 256))
        .then(|| parts.iter().fold(0, |acc, p| (acc << 8) | p))
}

fn is_domain(text: &str) -> bool {
    text.contains('.')
        && ipv4(text).is_none()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// What a planted record must hit: every trail equal to its name or a
/// parent of it, or equal to its address (with its port, for `IP:port`
/// trails) or a network holding it. Values as gsoc reports them.
fn expected_for(trails: &[Trail], name: Option<&str>, ip: Option<(u32, u16)>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for trail in trails {
        let value = trail.value.as_str();
        if let Some(name) = name
            && is_domain(value)
            && (name == value || name.ends_with(&format!(".{value}")))
        {
            out.insert(value.to_owned());
        }
        let Some((address, port)) = ip else { continue };
        if let Some((host, trail_port)) = value.split_once(':') {
            if ipv4(host) == Some(address) && trail_port.parse() == Ok(port) {
                out.insert(host.to_owned());
            }
        } else if let Some((network, bits)) = value.split_once('/') {
            let (Some(network), Ok(bits)) = (ipv4(network), bits.parse::<u32>()) else {
                continue;
            };
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits.min(32))
            };
            if address & mask == network & mask {
                let n = network & mask;
                out.insert(format!(
                    "{}.{}.{}.{}/{bits}",
                    n >> 24,
                    (n >> 16) & 255,
                    (n >> 8) & 255,
                    n & 255
                ));
            }
        } else if ipv4(value) == Some(address) {
            out.insert(value.to_owned());
        }
    }
    out
}

type Hits = BTreeSet<(String, u64, String)>;

/// What a planted record carries: a name, an address and port.
type Planted = (Option<String>, Option<(u32, u16)>);

fn hits(dir: &Dir, trails_dir: &Path) -> Hits {
    let out = run_ok(dir.gsoc(&[
        "detect",
        "--format",
        "jsonl",
        "--no-progress",
        "--min-level",
        "critical",
        "--intel",
        &trails_dir.display().to_string(),
        "logs",
    ]));
    json_lines(&out)
        .into_iter()
        .filter(|d| d["kind"] == "indicator")
        .map(|d| {
            let file = d["source"]["file"].as_str().expect("file");
            let name = Path::new(file).file_name().expect("name").to_string_lossy();
            (
                name.into_owned(),
                d["source"]["record"].as_u64().expect("record"),
                d["indicator"]["value"].as_str().expect("value").to_owned(),
            )
        })
        .collect()
}

/// Appends lines to a log and returns the record number of each.
fn append(path: &Path, lines: &[String]) -> Vec<u64> {
    let mut text = std::fs::read_to_string(path).expect("a copied log");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let first = text.lines().count() as u64 + 1;
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(path, text).expect("written");
    (first..first + lines.len() as u64).collect()
}

/// A Zeek TSV line with some columns replaced.
fn zeek_line(template: &str, fields: &[&str], set: &[(&str, &str)]) -> String {
    let mut cells: Vec<String> = template.split('\t').map(str::to_owned).collect();
    for (name, value) in set {
        let i = fields
            .iter()
            .position(|f| f == name)
            .expect("a Zeek column");
        cells[i] = (*value).to_owned();
    }
    cells.join("\t")
}

fn zeek_fields(text: &str) -> Vec<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .expect("a #fields header")
        .split('\t')
        .collect()
}

/// The first data line of a log whose record had no hit.
fn quiet_line<'a>(text: &'a str, file: &str, baseline: &Hits) -> &'a str {
    text.lines()
        .enumerate()
        .find(|(n, l)| {
            !l.starts_with('#')
                && !baseline
                    .iter()
                    .any(|(f, r, _)| f == file && *r == *n as u64 + 1)
        })
        .map(|(_, l)| l)
        .expect("a line without hits")
}

#[test]
fn planted_maltrail_indicators_are_found_exactly() {
    let Some(shared) = gsoc_testdata::shared_data() else {
        return;
    };
    let trails_dir = shared.join("threat-intel/ioc-lists/maltrail");
    let trails = trails(&trails_dir);
    let dir = Dir::new();
    let zeek = shared.join("network/zeek/stratosphere/012-zeek-mixed/data");
    let eve = shared.join("network/suricata-eve/slips/test6-malicious.suricata.flowsplit-A.ndjson");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("a logs folder");
    for (from, to) in [
        (zeek.join("conn.log.labeled"), "conn.log"),
        (zeek.join("dns.log.labeled"), "dns.log"),
        (eve, "eve.json"),
    ] {
        std::fs::copy(from, logs.join(to)).expect("copied");
    }
    let baseline = hits(&dir, &trails_dir);
    assert!(
        !baseline.is_empty(),
        "the honeypot logs hold known scanners"
    );
    let scanners = baseline.iter().filter(|(_, _, v)| v.contains('/')).count();
    eprintln!(
        "baseline: {} hits, {scanners} of them mass-scanner networks; the others: {:?}",
        baseline.len(),
        baseline
            .iter()
            .filter(|(_, _, v)| !v.contains('/'))
            .collect::<Vec<_>>()
    );

    let domains: Vec<&str> = trails
        .iter()
        .map(|t| t.value.as_str())
        .filter(|v| is_domain(v))
        .step_by(7919)
        .take(12)
        .collect();
    let addresses: Vec<(&str, u16)> = trails
        .iter()
        .filter_map(|t| match t.value.split_once(':') {
            Some((ip, port)) => Some((ip, port.parse().ok()?)).filter(|(ip, _)| ipv4(ip).is_some()),
            None => ipv4(&t.value).map(|_| (t.value.as_str(), 443)),
        })
        .step_by(997)
        .take(12)
        .collect();
    assert!(domains.len() >= 10 && addresses.len() >= 10);

    let mut expected = baseline.clone();
    let mut plant = |file: &str, lines: Vec<String>, keys: Vec<Planted>| {
        let records = append(&logs.join(file), &lines);
        for (record, (name, ip)) in records.into_iter().zip(keys) {
            for value in expected_for(&trails, name.as_deref(), ip) {
                expected.insert((file.to_owned(), record, value));
            }
        }
    };

    let conn = std::fs::read_to_string(logs.join("conn.log")).expect("conn.log");
    let fields = zeek_fields(&conn);
    let template = quiet_line(&conn, "conn.log", &baseline);
    let lines = addresses
        .iter()
        .map(|(ip, port)| {
            let port = port.to_string();
            zeek_line(
                template,
                &fields,
                &[("id.resp_h", ip), ("id.resp_p", &port), ("proto", "tcp")],
            )
        })
        .collect();
    let keys = addresses
        .iter()
        .map(|(ip, port)| (None, Some((ipv4(ip).expect("an address"), *port))))
        .collect();
    plant("conn.log", lines, keys);

    let dns = std::fs::read_to_string(logs.join("dns.log")).expect("dns.log");
    let fields = zeek_fields(&dns);
    let template = quiet_line(&dns, "dns.log", &baseline);
    let names: Vec<String> = domains.iter().map(|d| format!("planted.{d}")).collect();
    let lines = names
        .iter()
        .map(|name| zeek_line(template, &fields, &[("query", name), ("answers", "-")]))
        .collect();
    plant(
        "dns.log",
        lines,
        names.iter().map(|n| (Some(n.clone()), None)).collect(),
    );

    let mut lines = Vec::new();
    let mut keys = Vec::new();
    for name in &domains {
        lines.push(format!(
            r#"{{"timestamp":"2021-06-06T16:34:44.056772+0200","event_type":"dns","src_ip":"10.9.9.9","src_port":5353,"dest_ip":"10.9.9.1","dest_port":53,"proto":"UDP","dns":{{"type":"query","id":7,"rrname":"{name}","rrtype":"A","tx_id":0}}}}"#
        ));
        keys.push((Some(name.to_string()), None));
    }
    for (ip, port) in &addresses {
        lines.push(format!(
            r#"{{"timestamp":"2021-06-06T16:34:45.000000+0200","event_type":"flow","src_ip":"10.9.9.9","src_port":50000,"dest_ip":"{ip}","dest_port":{port},"proto":"TCP","flow":{{"pkts_toserver":3,"pkts_toclient":0,"state":"new"}}}}"#
        ));
        keys.push((None, Some((ipv4(ip).expect("an address"), *port))));
    }
    plant("eve.json", lines, keys);

    let planted = expected.len() - baseline.len();
    assert!(planted >= 48, "only {planted} planted hits expected");
    let found = hits(&dir, &trails_dir);
    let missed: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed {missed:?}\nextra {extra:?}"
    );
}
