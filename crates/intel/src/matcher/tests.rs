//! Matching decoded events end to end.

use std::sync::Arc;

use gsoc_decode::{Chunk, Options, read_bytes};
use gsoc_event::{DetectionKind, Event, Level};

use super::{Matcher, MatcherBuilder};
use crate::model::{Indicator, Kind, Observable, Tlp};
use crate::normalize;

fn events(name: &str, text: &str) -> Vec<Event> {
    let mut out = Vec::new();
    read_bytes(name, text.as_bytes(), &Options::default(), &mut |chunk| {
        if let Chunk::Batch(batch) = chunk {
            out.extend(batch.decode().filter_map(Result::ok));
        }
        true
    });
    out
}

fn ind(kind: Kind, value: &str) -> Indicator {
    Indicator::simple(kind, value, Arc::from("test"))
}

fn matcher(indicators: Vec<Indicator>) -> Matcher {
    let mut builder = MatcherBuilder::new();
    for i in indicators {
        builder.add(i);
    }
    builder.build()
}

/// The indicator values each event hits.
fn hits(matcher: &Matcher, events: &[Event]) -> Vec<Vec<String>> {
    let mut session = matcher.session();
    events
        .iter()
        .map(|event| {
            let mut found = Vec::new();
            session.detect(event, &mut |d| {
                found.push(d.indicator.expect("indicator detection").value.clone())
            });
            found
        })
        .collect()
}

const CONN: &str = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1528134000.0\tC1\t10.0.0.5\t50000\t198.51.100.7\t8080\ttcp\n1528134001.0\tC2\t10.0.0.5\t50001\t203.0.113.9\t443\ttcp\n1528134002.0\tC3\t198.51.100.7\t443\t10.0.0.5\t50002\ttcp\n";

#[test]
fn addresses_exact_by_network_and_with_ports() {
    let events = events("conn.log", CONN);
    assert_eq!(events.len(), 3);
    let m = matcher(vec![ind(Kind::Cidr, "203.0.113.0/24")]);
    assert_eq!(
        hits(&m, &events),
        [vec![], vec!["203.0.113.0/24".to_owned()], vec![]]
    );

    let found = normalize::infer("198.51.100.7:8080").expect("ip:port");
    let mut with_port = ind(found.kind, &found.value);
    with_port.terms = found.terms;
    let m = matcher(vec![with_port]);
    assert_eq!(hits(&m, &events)[0].len(), 1, "destination and port match");
    assert!(
        hits(&m, &events)[2].is_empty(),
        "as the source, on another port: no"
    );

    let m = matcher(vec![ind(Kind::Ipv4, "198.51.100.7")]);
    assert_eq!(
        hits(&m, &events).iter().filter(|h| !h.is_empty()).count(),
        2
    );
}

#[test]
fn domains_match_their_subdomains_only() {
    let dns = "#fields\tts\tuid\tquery\tanswers\n1.0\tC1\tcdn.EVIL.example\t192.0.2.1\n2.0\tC2\tnotevil.example\t-\n3.0\tC3\tevil.example.org\t-\n";
    let events = events("dns.log", dns);
    let m = matcher(vec![
        ind(Kind::Domain, "evil.example"),
        ind(Kind::Ipv4, "192.0.2.1"),
    ]);
    let found = hits(&m, &events);
    assert_eq!(found[0].len(), 2, "the query and the answer: {found:?}");
    assert!(found[1].is_empty() && found[2].is_empty(), "{found:?}");
}

#[test]
fn urls_user_agents_and_ja3_in_eve() {
    let eve = r#"{"timestamp":"2021-06-06T16:34:44.056772+0200","event_type":"http","src_ip":"10.0.0.5","src_port":1,"dest_ip":"192.0.2.80","dest_port":80,"proto":"TCP","http":{"hostname":"Evil.example","url":"/gate.php?id=1","http_user_agent":"EvilBot/1.0"}}
{"timestamp":"2021-06-06T16:34:45Z","event_type":"tls","src_ip":"10.0.0.5","src_port":2,"dest_ip":"192.0.2.81","dest_port":443,"proto":"TCP","tls":{"sni":"ok.example","ja3":{"hash":"E7D705A3286E19EA42F587B344EE6865"}}}
"#;
    let events = events("eve.json", eve);
    let m = matcher(vec![
        ind(Kind::Url, "evil.example/gate.php"),
        ind(Kind::UserAgent, "EvilBot/1.0"),
        ind(Kind::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
    ]);
    let found = hits(&m, &events);
    assert_eq!(found[0].len(), 2, "{found:?}");
    assert_eq!(found[1], vec!["e7d705a3286e19ea42f587b344ee6865"]);
}

#[test]
fn expired_and_observed_only_do_not_match() {
    let events = events("conn.log", CONN);
    let mut expired = ind(Kind::Ipv4, "203.0.113.9");
    expired.valid_until = "2018-06-04T17:40:00Z".parse().ok();
    let mut still_valid = ind(Kind::Ipv4, "198.51.100.7");
    still_valid.valid_until = "2018-06-04T17:40:01.5Z".parse().ok();
    let mut observed = ind(Kind::Ipv4, "10.0.0.5");
    observed.detect = false;
    let m = matcher(vec![expired, still_valid, observed]);
    assert_eq!(m.len(), 2);
    let found = hits(&m, &events);
    assert_eq!(found[0], vec!["198.51.100.7"], "valid at 17:40:00");
    assert!(
        found[1].is_empty(),
        "expired at 17:40:00, event at 17:40:01"
    );
}

#[test]
fn sysmon_hashes_and_file_names() {
    let sysmon = r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"pc1","Image":"C:\\Temp\\evil.exe","Hashes":"SHA1=2920D5E6C579FCE772E5506CAF03AF65579088BD,MD5=B2A5ABFEEF9E36964281A31E17B57C97,IMPHASH=68F013D7437AA653A8A98A05807AFEB1"}"#;
    let events = events("sysmon.json", sysmon);
    let mut named = ind(Kind::Sha1, "2920d5e6c579fce772e5506caf03af65579088bd");
    named.terms = vec![vec![
        Observable::new(Kind::FileName, "EVIL.EXE"),
        Observable::new(Kind::Sha1, "2920d5e6c579fce772e5506caf03af65579088bd"),
    ]];
    let mut misnamed = ind(Kind::Md5, "b2a5abfeef9e36964281a31e17b57c97");
    misnamed.terms = vec![vec![
        Observable::new(Kind::Md5, "b2a5abfeef9e36964281a31e17b57c97"),
        Observable::new(Kind::FileName, "other.exe"),
    ]];
    let m = matcher(vec![
        named,
        misnamed,
        ind(Kind::Imphash, "68f013d7437aa653a8a98a05807afeb1"),
    ]);
    let mut found = hits(&m, &events).remove(0);
    found.sort();
    assert_eq!(
        found,
        [
            "2920d5e6c579fce772e5506caf03af65579088bd",
            "68f013d7437aa653a8a98a05807afeb1"
        ]
    );
}

#[test]
fn detections_name_the_indicator() {
    let events = events("conn.log", CONN);
    let mut c2 = ind(Kind::Ipv4, "203.0.113.9");
    c2.confidence = Some(60);
    c2.tlp = Some(Tlp::Amber);
    c2.malware = vec!["Emotet".into()];
    let id = c2.id.clone();
    let m = matcher(vec![c2]);
    let mut session = m.session();
    let mut detections = Vec::new();
    session.detect(&events[1], &mut |d| detections.push(d));
    let d = &detections[0];
    assert_eq!(d.kind, DetectionKind::Indicator);
    assert_eq!(d.rule.id, id);
    assert_eq!(d.rule.level, Level::Medium);
    assert_eq!(d.rule.author, "test");
    assert!(d.rule.title.contains("Emotet"), "{}", d.rule.title);
    assert_eq!(d.fields.get_str("id.resp_h"), Some("203.0.113.9"));
    let info = d.indicator.as_ref().expect("indicator");
    assert_eq!(info.tlp.as_deref(), Some("amber"));
    assert_eq!(info.confidence, Some(60));
}

#[test]
fn addresses_parse_as_std_parses_them() {
    for text in [
        "10.0.0.1",
        "255.255.255.255",
        "0.0.0.0",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.5",
        "1..3.4",
        "1.2.3.4 ",
        "1.2.3.-4",
        "::ffff:10.1.2.3",
        "[2001:db8::1]",
        "example.org",
        "1.2.3.",
        ".1.2.3",
        "1.2.3.4x",
        "1234.1.1.1",
        "1.2.3.00",
        "10.0.0.10",
        "100.200.250.255",
        " 1.2.3.4",
        "beef::1",
        "deadbeef.example",
    ] {
        let expected = text
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| match ip {
                std::net::IpAddr::V6(v6) => v6
                    .to_ipv4_mapped()
                    .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
                ip => ip,
            });
        assert_eq!(super::parse_ip(text), expected, "{text}");
    }
}

#[test]
fn values_the_screen_has_seen_clear_do_not_hide_listed_ones() {
    let dns = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n\
        1.0\tC1\t10.0.0.5\t10.0.0.53\twww.example.org\t93.184.216.34\n\
        2.0\tC2\t10.0.0.5\t10.0.0.53\tcdn.evil.example\t198.51.100.7\n\
        3.0\tC3\t10.0.0.5\t10.0.0.53\twww.example.org\t93.184.216.34\n\
        4.0\tC4\t10.0.0.5\t10.0.0.53\tWWW.Evil.Example.\t93.184.216.34\n\
        5.0\tC5\t198.51.100.7\t10.0.0.53\twww.example.org\t93.184.216.34\n";
    let events = events("dns.log", dns);
    assert_eq!(events.len(), 5);
    let m = matcher(vec![
        ind(Kind::Domain, "evil.example"),
        ind(Kind::Ipv4, "198.51.100.7"),
    ]);
    let mut found = hits(&m, &events);
    found.iter_mut().for_each(|values| values.sort());
    assert_eq!(
        found,
        [
            vec![],
            vec!["198.51.100.7".to_owned(), "evil.example".to_owned()],
            vec![],
            vec!["evil.example".to_owned()],
            vec!["198.51.100.7".to_owned()],
        ]
    );
}
