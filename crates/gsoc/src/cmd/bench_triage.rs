//! `gsoc bench --suite triage`: what correlation and triage add to `gsoc
//! detect` on the EVTX corpus, and memory while 10,000,000 events stream
//! through them.
//!
//! Both runs of a pair read the same inputs with the same SigmaHQ rules;
//! the second adds one correlation rule of each of the seven types (over
//! base rules that match thousands of the corpus's events) and `--triage`.
//! The memory runs pipe the flat-JSON corpus into `gsoc detect -` again and
//! again, so nothing is written to disk, at 1 M and 10 M events.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::bench::{Measured, Row, export_rules, gsoc_detect, median_of_three, row, time_process};

/// Base rules that match often in the EVTX corpus, and one correlation of
/// each type over them.
const CORRELATIONS: &str = include_str!("bench_correlations.yml");

/// Runs the suite.
pub fn run(shared: &Path) -> Result<Vec<Row>> {
    let evtx = shared.join("windows/evtx/evtx-attack-samples");
    let flat = shared.join("windows/bench/eas-flat.ndjson");
    if !evtx.is_dir() || !flat.is_file() {
        bail!(
            "the EVTX corpus or windows/bench/eas-flat.ndjson is missing under {}; point --shared-data at the public test data",
            shared.display()
        );
    }
    let work = tempfile::tempdir().context("cannot create a temporary folder")?;
    let rules = work.path().join("rules");
    export_rules(&rules)?;
    let correlations = work.path().join("correlations.yml");
    std::fs::write(&correlations, CORRELATIONS)?;
    let me = std::env::current_exe().context("cannot find the gsoc binary")?;
    let rule_args = |triaged: bool| -> Vec<PathBuf> {
        let mut args = vec![PathBuf::from("--rules"), rules.clone()];
        if triaged {
            args.extend([
                PathBuf::from("--rules"),
                correlations.clone(),
                PathBuf::from("--triage"),
            ]);
        }
        args
    };
    let inputs: Vec<&Path> = std::iter::repeat_n(evtx.as_path(), 10).collect();
    let events = super::bench::evtx_events(&evtx) * 10;
    let mut rows = Vec::new();
    let mut baseline = None;
    for triaged in [false, true] {
        let measured = median_of_three(|| {
            let mut cmd = gsoc_detect(&me, 2, &inputs);
            cmd.args(rule_args(triaged));
            time_process(cmd, false)
        })?;
        let what = if triaged {
            "EVTX corpus x10, + 7 correlations + --triage"
        } else {
            "EVTX corpus x10, SigmaHQ rules"
        };
        let mut r = row(what, "gsoc", 2, events, &measured, None);
        match baseline {
            None => baseline = Some(r.events_per_second),
            Some(base) => {
                r.ratio = Some(r.events_per_second / base);
                r.baseline = Some("the same without correlation and triage".into());
            }
        }
        rows.push(r);
    }
    let per_copy = count_lines(&flat)?;
    for target in [1_000_000u64, 10_000_000] {
        let copies = target.div_ceil(per_copy);
        let measured = streamed(&me, &flat, copies, &rule_args(true))?;
        let what = format!(
            "memory: {} events streamed, + correlations + --triage",
            copies * per_copy
        );
        rows.push(row(&what, "gsoc", 2, copies * per_copy, &measured, None));
    }
    Ok(rows)
}

fn count_lines(file: &Path) -> Result<u64> {
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(text.iter().filter(|b| **b == b'\n').count() as u64)
}

/// Runs `gsoc detect -` with the corpus written into its standard input
/// `copies` times, from a thread of this process.
fn streamed(me: &Path, corpus: &Path, copies: u64, rule_args: &[PathBuf]) -> Result<Measured> {
    let body =
        std::fs::read(corpus).with_context(|| format!("cannot read {}", corpus.display()))?;
    let mut cmd: Command = gsoc_detect(me, 2, &[Path::new("-")]);
    cmd.args(rule_args).stdin(Stdio::piped());
    super::bench::time_process_feeding(cmd, move |mut stdin| {
        for _ in 0..copies {
            if stdin.write_all(&body).is_err() {
                break;
            }
        }
    })
}
