//! SigmaHQ's regression oracle (`sigma/sigmahq/regression_data`): every
//! case's rule must match its sample at least `match_count` times (once when
//! absent), on the `.evtx` file and on its `.json` twin, with gsoc's
//! built-in log-source mapping and with SigmaHQ's own `tests/thor.yml`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gsoc_decode::{Chunk, Input, Options, read_input};
use gsoc_sigma::{Engine, EngineBuilder, Mapping, RuleSet};

struct Case {
    info: PathBuf,
    rule_id: String,
    sample: PathBuf,
    match_count: usize,
}

/// Reads the few keys of an info.yml the oracle needs (the layout is fixed;
/// see ../shared/data/README.md).
fn cases(root: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root.join("regression_data")).sort_by_file_name() {
        let entry = entry.expect("readable regression data");
        if entry.file_name() != "info.yml" {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("readable info.yml");
        let value = |key: &str| {
            text.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_owned())
        };
        let Some(rule_id) = text
            .split("rule_metadata:")
            .nth(1)
            .and_then(|rest| {
                rest.lines()
                    .map(str::trim)
                    .find_map(|l| l.strip_prefix("- id:"))
            })
            .map(|v| v.trim().to_owned())
        else {
            continue;
        };
        // Only uncommented evtx tests count (the Cisco case is commented out).
        let Some(path) = value("path:").filter(|p| p.ends_with(".evtx")) else {
            continue;
        };
        out.push(Case {
            info: entry.path().to_owned(),
            rule_id,
            sample: root.join(path),
            match_count: value("match_count:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1),
        });
    }
    out
}

fn engine(root: &Path, mapping: Mapping) -> Engine {
    let mut set = RuleSet::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        set.load_path(&root.join(folder));
    }
    EngineBuilder::new().mapping(mapping).build(&set)
}

fn count_matches(engine: &Engine, sample: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut session = engine.session();
    read_input(
        &Input::File(sample.to_owned()),
        &Options::default(),
        &mut |chunk| {
            match chunk {
                Chunk::Batch(batch) => {
                    for event in batch.decode() {
                        let event =
                            event.unwrap_or_else(|q| panic!("sample record must decode: {q}"));
                        session.detect(&event, |d| {
                            *counts.entry(d.rule.id.clone()).or_default() += 1
                        });
                    }
                }
                Chunk::Problem(p) => panic!("sample must be readable: {p}"),
                Chunk::Quarantined(q) => panic!("sample record must decode: {q}"),
                _ => {}
            }
            true
        },
    );
    counts
}

fn run_oracle(mapping: Mapping, label: &str) {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let root = data.join("sigma/sigmahq");
    let engine = engine(&root, mapping);
    let cases = cases(&root);
    assert!(
        cases.len() >= 164,
        "expected the 164 EVTX cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        for sample in [case.sample.clone(), case.sample.with_extension("json")] {
            let got = count_matches(&engine, &sample)
                .get(&case.rule_id)
                .copied()
                .unwrap_or(0);
            if got < case.match_count {
                failures.push(format!(
                    "{}: rule {} matched {got} times, needs {} ({})",
                    sample.display(),
                    case.rule_id,
                    case.match_count,
                    case.info.display()
                ));
            }
        }
    }
    println!(
        "{label}: {} cases x 2 samples, {} failures",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{label} mapping failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn sigmahq_regression_with_builtin_mapping() {
    run_oracle(Mapping::builtin(), "built-in mapping");
}

#[test]
fn sigmahq_regression_with_thor_mapping() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let path = data.join("sigma/sigmahq/tests/thor.yml");
    let text = std::fs::read_to_string(&path).expect("thor.yml is readable");
    let mapping = Mapping::parse(&path.display().to_string(), &text).expect("thor.yml parses");
    run_oracle(mapping, "thor.yml mapping");
}
