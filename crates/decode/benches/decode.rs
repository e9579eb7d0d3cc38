//! Decoding throughput, in events: flat Windows JSON lines (the layout
//! rsigma and Zircolite read) and EVTX, from the shared corpus when present
//! (GSOC_SHARED_DATA or ../shared/data), else from the repository samples.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gsoc_decode::{Chunk, Options, read_bytes};

fn decode_all(name: &str, bytes: &[u8]) -> usize {
    let mut n = 0;
    read_bytes(name, bytes.to_vec(), &Options::default(), &mut |chunk| {
        if let Chunk::Batch(batch) = chunk {
            n += batch.decode().filter(Result::is_ok).count();
        }
        true
    });
    n
}

fn bench(c: &mut Criterion) {
    let flat = gsoc_testdata::shared("windows/bench/eas-flat.ndjson").unwrap_or_else(|| {
        gsoc_testdata::repo().join("samples/windows/otrf-psh-lsass-memory-dump-comsvcs.json")
    });
    // The largest EVTX sample of the shared corpus (many chunks), else the
    // one-record fixture.
    let evtx = gsoc_testdata::shared("windows/evtx/evtx-attack-samples/AutomatedTestingTools/panache_sysmon_vs_EDRTestingScript.evtx")
        .unwrap_or_else(|| gsoc_testdata::repo().join("crates/gsoc/tests/data/evtx/defender-redsun-eicar.evtx"));
    let mut group = c.benchmark_group("Decoder");
    for (label, path) in [("win-json flat lines", flat), ("evtx", evtx)] {
        let bytes = std::fs::read(&path).expect("benchmark input is readable");
        let events = decode_all("bench", &bytes);
        group.throughput(Throughput::Elements(events as u64));
        group.bench_function(label, |b| b.iter(|| decode_all("bench", &bytes)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
