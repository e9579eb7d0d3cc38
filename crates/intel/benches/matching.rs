//! The intel hot paths, per operation: lookups in a million indicators (the
//! maltrail lists grown as `gsoc bench --suite intel` grows them), and a
//! matching session over decoded network events with no indicators, with
//! the maltrail lists, and with a million. Uses the shared data when present
//! (GSOC_SHARED_DATA or ../shared/data), else the repository's fixtures.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gsoc_decode::{Chunk, Event, Options, read_input};
use gsoc_intel::{Kind, Matcher, MatcherBuilder, normalize};

fn maltrail() -> PathBuf {
    gsoc_testdata::shared("threat-intel/ioc-lists/maltrail")
        .unwrap_or_else(|| gsoc_testdata::repo().join("crates/gsoc/tests/data/intel/trails"))
}

fn list_values(root: &Path) -> Vec<(String, String)> {
    let (inputs, _) = gsoc_decode::expand(&[root.to_owned()]);
    let mut out = Vec::new();
    for input in inputs {
        let gsoc_decode::Input::File(path) = input else {
            continue;
        };
        let list = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        out.extend(gsoc_testdata::trail_values(&text).map(|v| (list.clone(), v.to_owned())));
    }
    out
}

/// A matcher holding `copies` variants of every list value.
fn matcher(values: &[(String, String)], copies: u32) -> Matcher {
    let source: Arc<str> = Arc::from("maltrail");
    let mut builder = MatcherBuilder::new();
    for copy in 0..copies {
        for (list, value) in values {
            let Some(variant) = gsoc_testdata::trail_variant(value, copy) else {
                continue;
            };
            if let Ok(found) = normalize::infer(&variant) {
                let mut indicator =
                    gsoc_intel::Indicator::simple(found.kind, found.value, Arc::clone(&source));
                indicator.terms = found.terms;
                indicator.labels.push(list.clone());
                builder.add(indicator);
            }
        }
    }
    builder.build()
}

fn network_events() -> Vec<Event> {
    let root = gsoc_testdata::shared("network")
        .unwrap_or_else(|| gsoc_testdata::repo().join("crates/gsoc/tests/data/intel/logs"));
    let (inputs, _) = gsoc_decode::expand(&[root]);
    let mut events = Vec::new();
    for input in &inputs {
        read_input(input, &Options::default(), &mut |chunk| {
            if let Chunk::Batch(batch) = chunk {
                events.extend(batch.decode().flatten());
            }
            true
        });
    }
    events
}

fn benches(c: &mut Criterion) {
    let values = list_values(&maltrail());
    let copies = (1_000_000 / values.len().max(1) as u32 + 1).min(64);
    let million = matcher(&values, copies);
    let queries: Vec<(Kind, String)> = values
        .iter()
        .filter_map(|(_, v)| normalize::infer(v).ok())
        .map(|found| match found.kind {
            Kind::Domain => (Kind::Domain, format!("www.{}", found.value)),
            kind => (kind, found.value),
        })
        .flat_map(|hit| [hit, (Kind::Domain, "www.absent.example".to_owned())])
        .collect();
    let mut group = c.benchmark_group("intel");
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function(format!("lookups in {} indicators", million.len()), |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for (kind, value) in &queries {
                million.lookup(*kind, value, &mut |_| hits += 1);
            }
            hits
        })
    });
    let events = network_events();
    group.throughput(Throughput::Elements(events.len() as u64));
    for (name, m) in [
        ("no indicators", MatcherBuilder::new().build()),
        ("the maltrail lists", matcher(&values, 1)),
        ("a million indicators", million),
    ] {
        group.bench_function(format!("match network events, {name}"), |b| {
            b.iter(|| {
                let mut session = m.session();
                let mut found = 0usize;
                for event in &events {
                    session.detect(event, &mut |_| found += 1);
                }
                found
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = intel;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(intel);
