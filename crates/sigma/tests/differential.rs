//! The literal pre-filter must never change what matches: on real corpora
//! (the OTRF Windows JSON and the EVTX-ATTACK-SAMPLES files), the engine with
//! the pre-filter and the engine without it report the same detections.

use std::path::Path;

use gsoc_decode::{Chunk, Input, Options, expand, read_input};
use gsoc_sigma::{Engine, EngineBuilder, RuleSet};

fn detections(engine: &Engine, dir: &Path) -> Vec<(String, String, u64)> {
    let (inputs, _) = expand(&[dir.to_owned()]);
    let mut session = engine.session();
    let mut out = Vec::new();
    for input in &inputs {
        if matches!(input, Input::File(p) if p.extension().is_some_and(|e| e == "yaml" || e == "GPL"))
        {
            continue;
        }
        read_input(input, &Options::default(), &mut |chunk| {
            if let Chunk::Batch(batch) = chunk {
                for event in batch.decode().flatten() {
                    session.detect(&event, |d| {
                        out.push((
                            d.rule.id.clone(),
                            d.source.file.to_string(),
                            d.source.record,
                        ))
                    });
                }
            }
            true
        });
    }
    out.sort();
    out
}

#[test]
fn prefilter_agrees_with_full_evaluation_on_real_corpora() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let mut set = RuleSet::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        set.load_path(&data.join("sigma/sigmahq").join(folder));
    }
    let fast = EngineBuilder::new().build(&set);
    let slow = EngineBuilder::new().prefilter(false).build(&set);
    for corpus in ["windows/otrf-json", "windows/evtx/evtx-attack-samples"] {
        let dir = data.join(corpus);
        let (a, b) = (detections(&fast, &dir), detections(&slow, &dir));
        assert!(
            a.len() > 100,
            "{corpus}: expected real detections, got {}",
            a.len()
        );
        assert_eq!(a.len(), b.len(), "{corpus}: detection counts differ");
        assert!(a == b, "{corpus}: detections differ");
        println!(
            "{corpus}: {} detections, identical with and without the pre-filter",
            a.len()
        );
    }
}
