//! The brimdata WRCCDC 2018 Zeek logs come in both TSV and JSON with the
//! same records: both decoders must agree on every record, field by field.

use std::path::Path;

use gsoc_decode::{Chunk, Event, Format, Input, Options, read_input};
use gsoc_event::Value;

fn decode(path: &Path) -> (Format, Vec<Event>, usize) {
    let mut events = Vec::new();
    let mut format = None;
    let mut quarantined = 0;
    read_input(
        &Input::File(path.to_owned()),
        &Options::default(),
        &mut |chunk| {
            match chunk {
                Chunk::Start { format: f, .. } => format = Some(f),
                Chunk::Batch(b) => {
                    for e in b.decode() {
                        match e {
                            Ok(e) => events.push(e),
                            Err(_) => quarantined += 1,
                        }
                    }
                }
                Chunk::Quarantined(_) => quarantined += 1,
                Chunk::Problem(p) => panic!("{p}"),
                Chunk::End { .. } => {}
            }
            true
        },
    );
    (format.expect("a format"), events, quarantined)
}

fn same(a: &Value, b: &Value) -> bool {
    let as_time = |v: &Value| v.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok());
    if let (Some(x), Some(y)) = (as_time(a), as_time(b)) {
        return (x.as_microsecond() - y.as_microsecond()).abs() <= 1;
    }
    // TSV writes an empty set and a set of one empty string both as
    // `(empty)`; the JSON export chose the second reading.
    let empty = |v: &Value| matches!(v, Value::List(items) if items.iter().all(|i| i.as_str() == Some("")) && items.len() <= 1);
    if empty(a) && empty(b) {
        return true;
    }
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
            (*x as f64 - y).abs() < 1e-6
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

#[test]
fn tsv_and_json_decode_to_the_same_records() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let root = data.join("network/zeek/brimdata-wrccdc2018");
    let mut total = 0;
    let mut logs = 0;
    for entry in std::fs::read_dir(root.join("zeek-default")).expect("zeek-default folder") {
        let tsv = entry.expect("entry").path();
        let name = tsv
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .replace(".log.gz", "");
        let json = root.join("zeek-json").join(format!("{name}.json.gz"));
        let (tf, tsv_events, tq) = decode(&tsv);
        let (jf, json_events, jq) = decode(&json);
        assert_eq!((tf, jf), (Format::ZeekTsv, Format::ZeekJson), "{name}");
        assert_eq!((tq, jq), (0, 0), "{name}: nothing may be quarantined");
        assert_eq!(tsv_events.len(), json_events.len(), "{name}: record counts");
        for (t, j) in tsv_events.iter().zip(&json_events) {
            assert_eq!(t.logsource.service.as_deref(), Some(name.as_str()));
            assert_eq!(j.logsource.service.as_deref(), Some(name.as_str()));
            let micros = |e: &Event| e.time.map(|t| t.as_microsecond());
            match (micros(t), micros(j)) {
                (Some(a), Some(b)) => assert!((a - b).abs() <= 1, "{name}: times {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{name}: a record has a time in one layout only"),
            }
            for (field, value) in t.fields.iter().filter(|(f, _)| *f != "ts") {
                let other = j
                    .fields
                    .get(field)
                    .unwrap_or_else(|| panic!("{name}: {field} missing in JSON"));
                assert!(same(value, other), "{name} {field}: {value:?} vs {other:?}");
            }
        }
        total += tsv_events.len();
        logs += 1;
    }
    assert_eq!(
        total, 158_439,
        "the README gives 158,439 records per format"
    );
    println!("{logs} Zeek logs, {total} records, TSV and JSON agree");
}
