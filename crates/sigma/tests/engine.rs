//! The Sigma language, feature by feature, on small inline rules and
//! events. Every case runs twice: with the literal pre-filter and without
//! it, which must agree.

use gsoc_event::{Event, Fields, Format, LogSource, Value};
use gsoc_sigma::{Engine, EngineBuilder, RuleSet};

fn engines(rules: &str) -> [Engine; 2] {
    let mut set = RuleSet::new();
    set.add_text("test.yml", rules);
    assert!(
        set.rejects().is_empty(),
        "rules must parse: {:?}",
        set.rejects()
    );
    let build = |prefilter| {
        let mut b = EngineBuilder::new();
        b.prefilter(prefilter)
            .placeholder("admins", vec!["adm_*".into(), "root".into()]);
        let engine = b.build(&set);
        assert!(
            engine.rejects().is_empty(),
            "rules must compile: {:?}",
            engine.rejects()
        );
        engine
    };
    [build(true), build(false)]
}

fn event(fields: serde_json::Value) -> Event {
    let mut e = Event::new(Format::Json, "test.json", 1, fields.to_string());
    e.logsource = LogSource::product("test");
    let mut f = Fields::new();
    f.push_json("", &fields);
    e.fields = f;
    e
}

/// The titles of the rules that match, the same with and without the
/// pre-filter.
fn hits(rules: &str, fields: serde_json::Value) -> Vec<String> {
    let ev = event(fields);
    let [fast, slow] = engines(rules);
    let run = |engine: &Engine| {
        let mut out = Vec::new();
        engine
            .session()
            .detect(&ev, |d| out.push(d.rule.title.clone()));
        out
    };
    let (a, b) = (run(&fast), run(&slow));
    assert_eq!(a, b, "the pre-filter must not change results");
    a
}

fn rule(title: &str, detection: &str) -> String {
    format!(
        "title: {title}\nid: {title}\nlogsource: {{product: test}}\ndetection:\n{detection}\n---\n"
    )
}

fn matches(detection: &str, fields: serde_json::Value) -> bool {
    !hits(&rule("r", detection), fields).is_empty()
}

use serde_json::json;

#[test]
fn string_modifiers_and_case() {
    let d = "  sel:\n    CommandLine|contains: 'MiMiKaTz'\n  condition: sel";
    assert!(matches(d, json!({"CommandLine": "run mimikatz.exe"})));
    assert!(!matches(d, json!({"CommandLine": "run mimi"})));
    let d = "  sel:\n    Image|endswith: '\\cmd.exe'\n    ParentImage|startswith: 'C:\\Windows\\'\n  condition: sel";
    assert!(matches(
        d,
        json!({"Image": "C:\\WINDOWS\\system32\\CMD.EXE", "ParentImage": "c:\\windows\\explorer.exe"})
    ));
    assert!(!matches(
        d,
        json!({"Image": "C:\\cmd.exe.bak", "ParentImage": "c:\\windows\\explorer.exe"})
    ));
    let d = "  sel:\n    User: 'SYSTEM'\n  condition: sel";
    assert!(matches(d, json!({"User": "system"})));
    assert!(!matches(d, json!({"User": "systemd"})));
    let d = "  sel:\n    User|cased: 'SYSTEM'\n  condition: sel";
    assert!(!matches(d, json!({"User": "system"})));
    assert!(matches(d, json!({"User": "SYSTEM"})));
}

#[test]
fn all_and_lists() {
    let d = "  sel:\n    CommandLine|contains|all:\n      - ' -enc '\n      - 'hidden'\n  condition: sel";
    assert!(matches(
        d,
        json!({"CommandLine": "powershell -w hidden -enc AAA"})
    ));
    assert!(!matches(d, json!({"CommandLine": "powershell -enc AAA"})));
    let d = "  sel:\n    - Image|endswith: '\\a.exe'\n    - OriginalFileName: 'b.exe'\n  condition: sel";
    assert!(matches(d, json!({"OriginalFileName": "B.EXE"})));
    assert!(matches(d, json!({"Image": "x\\a.exe"})));
    assert!(!matches(d, json!({"Image": "x\\b.exe"})));
    let many = "  sel:\n    CommandLine|contains:\n      - 'aaa'\n      - 'bbb'\n      - 'ccc'\n      - 'ddd'\n      - 'eee'\n  condition: sel";
    assert!(matches(many, json!({"CommandLine": "x EEE y"})));
    assert!(!matches(many, json!({"CommandLine": "x ab y"})));
}

#[test]
fn wildcards_and_escapes() {
    let d = "  sel:\n    Path: 'C:\\Users\\\\*\\AppData\\\\*.exe'\n  condition: sel";
    assert!(matches(
        d,
        json!({"Path": "c:\\users\\bob\\appdata\\x.exe"})
    ));
    assert!(!matches(d, json!({"Path": "c:\\users\\bob\\x.exe"})));
    let d = "  sel:\n    Name: 'prog?.exe'\n  condition: sel";
    assert!(matches(d, json!({"Name": "progA.exe"})));
    assert!(!matches(d, json!({"Name": "prog.exe"})));
    let d = "  sel:\n    Name: 'what\\?'\n  condition: sel";
    assert!(matches(d, json!({"Name": "what?"})));
    assert!(!matches(d, json!({"Name": "whats"})));
}

#[test]
fn keywords() {
    let d = "  keywords:\n    - 'sekurlsa::'\n    - 'lsadump::'\n  condition: keywords";
    assert!(matches(
        d,
        json!({"Message": "ran SEKURLSA::logonpasswords"})
    ));
    assert!(matches(d, json!({"a": 1, "b": {"c": "lsadump::sam"}})));
    assert!(!matches(d, json!({"Message": "nothing here"})));
    let d = "  keywords:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords";
    assert!(matches(
        d,
        json!({"a": "Set-OabVirtualDirectory", "b": "x -ExternalUrl y"})
    ));
    assert!(!matches(d, json!({"a": "Set-OabVirtualDirectory"})));
}

#[test]
fn encodings() {
    // base64("/bin/sh") appears inside a longer base64 string.
    let d = "  sel:\n    CommandLine|base64offset|contains: '/bin/sh'\n  condition: sel";
    for prefix in ["", "x", "xy"] {
        let encoded = base64_encode(&format!("{prefix}/bin/sh -c id"));
        assert!(
            matches(
                d,
                json!({"CommandLine": format!("echo {encoded} | base64 -d")})
            ),
            "{prefix}"
        );
    }
    assert!(!matches(
        d,
        json!({"CommandLine": base64_encode("/usr/bin/id")})
    ));
    let d = "  sel:\n    CommandLine|wide|base64offset|contains: 'IEX'\n  condition: sel";
    let utf16: Vec<u8> = "a IEX b"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(matches(d, json!({"CommandLine": base64_bytes(&utf16)})));
    let d = "  sel:\n    Data|base64: 'hello'\n  condition: sel";
    assert!(matches(d, json!({"Data": "aGVsbG8="})));
}

fn base64_encode(s: &str) -> String {
    base64_bytes(s.as_bytes())
}

fn base64_bytes(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn windash() {
    let d = "  sel:\n    CommandLine|windash|contains: ' -exec bypass'\n  condition: sel";
    assert!(matches(
        d,
        json!({"CommandLine": "powershell /exec bypass"})
    ));
    assert!(matches(
        d,
        json!({"CommandLine": "powershell \u{2013}exec bypass"})
    ));
    assert!(matches(
        d,
        json!({"CommandLine": "powershell -exec bypass"})
    ));
    assert!(!matches(
        d,
        json!({"CommandLine": "powershell +exec bypass"})
    ));
}

#[test]
fn regular_expressions() {
    let d = "  sel:\n    CommandLine|re: '\\s-e(nc|ncodedcommand)?\\s+[A-Za-z0-9+/=]{20,}'\n  condition: sel";
    assert!(matches(
        d,
        json!({"CommandLine": "powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBi"})
    ));
    assert!(!matches(d, json!({"CommandLine": "powershell -enc short"})));
    let d = "  sel:\n    CommandLine|re: 'MIMIKATZ'\n  condition: sel";
    assert!(
        !matches(d, json!({"CommandLine": "mimikatz"})),
        "re is case-sensitive"
    );
    let d = "  sel:\n    CommandLine|re|i: 'MIMIKATZ'\n  condition: sel";
    assert!(matches(d, json!({"CommandLine": "mimikatz"})));
    let d = "  sel:\n    Text|re|m: '^second$'\n  condition: sel";
    assert!(matches(d, json!({"Text": "first\nsecond\nthird"})));
    let d = "  sel:\n    Text|re|s: 'first.second'\n  condition: sel";
    assert!(matches(d, json!({"Text": "first\nsecond"})));
    let d = "  sel:\n    CommandLine|re: '.{30,}'\n  condition: sel";
    assert!(matches(d, json!({"CommandLine": "x".repeat(40)})));
    assert!(!matches(d, json!({"CommandLine": "x".repeat(20)})));
    assert!(!matches(
        d,
        json!({"CommandLine": format!("{}\n{}", "x".repeat(20), "y".repeat(20))})
    ));
}

#[test]
fn networks_and_numbers() {
    let d = "  sel:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - 'fe80::/10'\n  condition: sel";
    assert!(matches(d, json!({"DestinationIp": "10.20.30.40"})));
    assert!(matches(d, json!({"DestinationIp": "fe80::1"})));
    assert!(!matches(d, json!({"DestinationIp": "11.0.0.1"})));
    let d = "  sel:\n    Count|gte: 10\n    Size|lt: 5\n  condition: sel";
    assert!(matches(d, json!({"Count": 10, "Size": "4"})));
    assert!(!matches(d, json!({"Count": 9, "Size": 4})));
    let d = "  sel:\n    EventID: 4688\n  condition: sel";
    assert!(matches(d, json!({"EventID": 4688})));
    assert!(matches(d, json!({"EventID": "4688"})));
    assert!(!matches(d, json!({"EventID": 46880})));
    let d = "  sel:\n    Enabled: true\n  condition: sel";
    assert!(matches(d, json!({"Enabled": true})));
    assert!(!matches(d, json!({"Enabled": false})));
}

#[test]
fn neq_exists_null_and_empty() {
    let d = "  sel:\n    Status|neq: 'ok'\n  condition: sel";
    assert!(matches(d, json!({"Status": "failed"})));
    assert!(!matches(d, json!({"Status": "OK"})));
    assert!(!matches(d, json!({"Other": 1})));
    let d = "  sel:\n    LogonType|neq: 3\n  condition: sel";
    assert!(matches(d, json!({"LogonType": 10})));
    assert!(!matches(d, json!({"LogonType": 3})));
    let d = "  sel:\n    Pass|exists: true\n  condition: sel";
    assert!(matches(d, json!({"Pass": ""})));
    assert!(!matches(d, json!({"Other": 1})));
    let d = "  sel:\n    Pass|exists: false\n  condition: sel";
    assert!(matches(d, json!({"Other": 1})));
    let d = "  sel:\n    Pass: null\n  condition: sel";
    assert!(matches(d, json!({"Other": 1})));
    assert!(matches(d, json!({"Pass": null})));
    assert!(!matches(d, json!({"Pass": "x"})));
    let d = "  sel:\n    Pass: ''\n  condition: sel";
    assert!(matches(d, json!({"Pass": ""})));
    assert!(!matches(d, json!({"Other": 1})));
}

#[test]
fn field_references_and_placeholders() {
    let d = "  sel:\n    TargetFilename|fieldref: Image\n  condition: sel";
    assert!(matches(
        d,
        json!({"TargetFilename": "C:\\a.exe", "Image": "c:\\A.exe"})
    ));
    assert!(!matches(
        d,
        json!({"TargetFilename": "C:\\a.exe", "Image": "c:\\b.exe"})
    ));
    let d = "  sel:\n    User|fieldref|neq: ParentUser\n  condition: sel";
    assert!(matches(d, json!({"User": "a", "ParentUser": "b"})));
    assert!(!matches(d, json!({"User": "a", "ParentUser": "a"})));
    let d = "  sel:\n    User|expand: '%admins%'\n  condition: sel";
    assert!(matches(d, json!({"User": "adm_bob"})));
    assert!(matches(d, json!({"User": "root"})));
    assert!(!matches(d, json!({"User": "bob"})));
}

#[test]
fn undefined_placeholders_match_nothing_and_warn() {
    let mut set = RuleSet::new();
    set.add_text(
        "p.yml",
        &rule(
            "p",
            "  sel:\n    Host|expand: '%servers%'\n  condition: sel",
        ),
    );
    let engine = EngineBuilder::new().build(&set);
    assert_eq!(engine.warnings().len(), 1);
    assert!(engine.warnings()[0].message.contains("%servers%"));
    let mut n = 0;
    engine
        .session()
        .detect(&event(json!({"Host": "%servers%"})), |_| n += 1);
    assert_eq!(n, 0);
}

#[test]
fn time_modifiers() {
    let d = "  sel:\n    UtcTime|hour|gte: 22\n  condition: sel";
    assert!(matches(d, json!({"UtcTime": "2024-01-01 23:10:00.000"})));
    assert!(!matches(d, json!({"UtcTime": "2024-01-01 08:10:00.000"})));
    let d = "  sel:\n    When|month: 4\n  condition: sel";
    assert!(matches(d, json!({"When": "2024-04-15T00:00:00Z"})));
}

#[test]
fn conditions() {
    let d = "  sel_a:\n    A: 1\n  sel_b:\n    B: 2\n  filter_x:\n    X: 3\n  _helper:\n    H: 4\n  condition: all of sel_* and not 1 of filter_*";
    assert!(matches(d, json!({"A": 1, "B": 2})));
    assert!(!matches(d, json!({"A": 1, "B": 2, "X": 3})));
    assert!(!matches(d, json!({"A": 1})));
    let d = "  a:\n    A: 1\n  b:\n    B: 2\n  _c:\n    C: 3\n  condition: all of them";
    assert!(
        matches(d, json!({"A": 1, "B": 2})),
        "identifiers starting with _ are not in 'them'"
    );
    let d = "  a:\n    A: 1\n  b:\n    B: 2\n  c:\n    C: 3\n  condition: 2 of them";
    assert!(matches(d, json!({"A": 1, "C": 3})));
    assert!(!matches(d, json!({"A": 1})));
    let d = "  a:\n    A: 1\n  b:\n    B: 2\n  c:\n    C: 3\n  condition: a and (b or c) and not (b and c)";
    assert!(matches(d, json!({"A": 1, "B": 2})));
    assert!(!matches(d, json!({"A": 1, "B": 2, "C": 3})));
    let d = "  a:\n    A: 1\n  b:\n    B: 2\n  condition:\n    - a\n    - b";
    assert!(matches(d, json!({"B": 2})));
}

#[test]
fn field_names_with_spaces_and_dashes() {
    let d = "  sel:\n    ThreatName|contains: 'EICAR'\n    cs-uri-query|contains: '/etc/passwd'\n  condition: sel";
    assert!(matches(
        d,
        json!({"Threat Name": "Virus:EICAR_Test", "cs-uri-query": "/a?f=../../etc/passwd"})
    ));
    let d = "  sel:\n    'Threat Name|contains': 'EICAR'\n  condition: sel";
    assert!(matches(d, json!({"ThreatName": "EICAR"})));
}

#[test]
fn log_sources_and_mapping() {
    let rules = "title: proc\nid: proc\nlogsource: {category: process_creation, product: windows}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";
    let mut set = RuleSet::new();
    set.add_text("r.yml", rules);
    let engine = EngineBuilder::new().build(&set);
    let windows = |channel: &str, id: i64, image_field: &str| {
        let mut e = event(
            json!({"Channel": channel, "EventID": id, image_field: "C:\\Windows\\whoami.exe"}),
        );
        e.logsource = LogSource::product("windows");
        e
    };
    let count = |e: &Event| {
        let mut n = 0;
        engine.session().detect(e, |_| n += 1);
        n
    };
    assert_eq!(
        count(&windows("Microsoft-Windows-Sysmon/Operational", 1, "Image")),
        1
    );
    assert_eq!(count(&windows("Security", 4688, "NewProcessName")), 1);
    assert_eq!(
        count(&windows("Security", 4688, "Image")),
        0,
        "4688 carries the image in NewProcessName"
    );
    assert_eq!(
        count(&windows(
            "Microsoft-Windows-Sysmon/Operational",
            11,
            "Image"
        )),
        0
    );
    let mut linux = windows("x", 1, "Image");
    linux.logsource = LogSource::product("linux");
    assert_eq!(count(&linux), 0);
}

#[test]
fn meta_filters() {
    let text = format!(
        "{}title: not admins\nlogsource: {{product: test}}\nfilter:\n  rules: [r]\n  sel:\n    User|startswith: 'adm_'\n  condition: not sel\n",
        rule("r", "  sel:\n    Action: login\n  condition: sel")
    );
    assert_eq!(
        hits(&text, json!({"Action": "login", "User": "bob"})),
        ["r"]
    );
    assert!(hits(&text, json!({"Action": "login", "User": "adm_bob"})).is_empty());
}

#[test]
fn detections_name_the_matched_fields_and_author() {
    let text = "title: t\nid: t\nauthor: Ann Author\nlogsource: {product: test}\ndetection:\n  sel:\n    A: 1\n  filter:\n    B: 2\n  condition: sel and not filter\n";
    let mut set = RuleSet::new();
    set.add_text("t.yml", text);
    let engine = EngineBuilder::new().build(&set);
    let mut found = Vec::new();
    engine
        .session()
        .detect(&event(json!({"A": 1, "B": 3, "C": 4})), |d| found.push(d));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule.author, "Ann Author");
    let names: Vec<&str> = found[0].fields.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["A"]);
    assert_eq!(found[0].fields.get("A"), Some(&Value::Int(1)));
}

#[test]
fn oversized_regexes_are_rejected_when_checked_and_inert_otherwise() {
    let text = rule(
        "big",
        "  sel:\n    A|re: '(a{1000}){1000}'\n  condition: sel",
    );
    let mut set = RuleSet::new();
    set.add_text("big.yml", &text);
    let checked = EngineBuilder::new().compile_regexes_now(true).build(&set);
    assert_eq!(checked.rejects().len(), 1);
    assert!(
        checked.rejects()[0]
            .error
            .message
            .contains("regular expression")
    );
    let lazy = EngineBuilder::new().build(&set);
    assert_eq!(lazy.rule_count(), 1);
    let mut n = 0;
    lazy.session()
        .detect(&event(json!({"A": "a".repeat(10)})), |_| n += 1);
    assert_eq!(n, 0);
}
