//! Matching throughput, in events, of the whole SigmaHQ rule set (the
//! repository's rules/sigmahq) on Windows events: the shared flat-JSON
//! benchmark corpus when present (GSOC_SHARED_DATA or ../shared/data), else
//! the repository samples. Also the cost of compiling the rule set.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gsoc_decode::{Chunk, Event, Options, read_input};
use gsoc_sigma::{EngineBuilder, RuleSet};

fn events() -> Vec<Event> {
    let path = gsoc_testdata::shared("windows/bench/eas-flat.ndjson")
        .unwrap_or_else(|| gsoc_testdata::repo().join("samples/windows"));
    let (inputs, _) = gsoc_decode::expand(&[path]);
    let mut out = Vec::new();
    for input in &inputs {
        read_input(input, &Options::default(), &mut |chunk| {
            if let Chunk::Batch(b) = chunk {
                out.extend(b.decode().flatten());
            }
            true
        });
    }
    out
}

fn rules() -> RuleSet {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/sigmahq");
    let mut set = RuleSet::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        set.load_path(&root.join(folder));
    }
    set
}

fn bench(c: &mut Criterion) {
    let set = rules();
    let events = events();
    let mut group = c.benchmark_group("Engine");
    group.sample_size(10);
    group.bench_function("build (all SigmaHQ rules)", |b| {
        b.iter(|| EngineBuilder::new().build(&set))
    });
    let engine = EngineBuilder::new().build(&set);
    let mut session = engine.session();
    // Warm the per-class indexes, as a long run would.
    events.iter().for_each(|e| {
        session.detect(e, drop);
    });
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("detect (all SigmaHQ rules, one thread)", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| session.detect(e, drop))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
