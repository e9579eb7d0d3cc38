//! `gsoc bench --suite intel`: a million indicators (the maltrail lists
//! expanded) loaded, looked up, and matched during `gsoc detect`.
//!
//! Loading and matching are measured as real `gsoc detect` processes
//! (time and peak memory from the kernel); lookups in this process on one
//! thread, against a plain hash set of the same values measured in the same
//! run.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use gsoc_intel::{ImportOptions, Item, Kind, MatcherBuilder, import_paths, normalize};

use clap::Parser;

use super::bench::{
    Measured, Row, gsoc_detect, median_of_three, repeat_corpus, row, time_process,
    time_process_logging,
};
use super::detect;

/// Runs the suite.
pub fn run(shared: &Path, indicators: usize) -> Result<Vec<Row>> {
    let maltrail = shared.join("threat-intel/ioc-lists/maltrail");
    if !maltrail.is_dir() {
        bail!(
            "the maltrail lists are missing at {}; point --shared-data at the public test data",
            maltrail.display()
        );
    }
    let work = tempfile::tempdir().context("cannot create a temporary folder")?;
    let trails = work.path().join("trails");
    let written = expand_trails(&maltrail, indicators, &trails)?;
    eprintln!(
        "gsoc bench: {written} indicator values written to {}",
        trails.display()
    );
    let me = std::env::current_exe().context("cannot find the gsoc binary")?;
    let mut rows = load_rows(&me, &trails, work.path(), written as u64)?;
    let corpora = detect_corpora(shared, work.path())?;
    for (label, inputs, events) in &corpora {
        let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        rows.extend(with_and_without(&me, label, &inputs, *events, &trails)?);
    }
    // In this process, after the child processes: a forked child's peak
    // memory counts the pages it shares with a large parent.
    let million = load_matcher(&trails);
    for (label, inputs, _) in &corpora {
        rows.extend(interleaved_rows(label, inputs, &million)?);
    }
    drop(million);
    rows.push(lookup_row(&trails)?);
    let mut baseline = hash_set_row(&trails)?;
    baseline.baseline = Some("exact lookups only".into());
    rows.push(baseline);
    Ok(rows)
}

/// Writes the maltrail lists again and again, each copy with new values
/// (`v3-evil.example`, addresses moved by a fixed step), until at least
/// `target` values are written. Each copy keeps the folder layout, so list
/// names stay the malware families. Returns the number of values.
fn expand_trails(maltrail: &Path, target: usize, out: &Path) -> Result<usize> {
    let files = list_files(maltrail);
    let mut written = 0;
    let mut copy = 0u32;
    while written < target {
        for file in &files {
            let relative = file.strip_prefix(maltrail).unwrap_or(file);
            let path = out.join(format!("v{copy}")).join(relative);
            std::fs::create_dir_all(path.parent().unwrap_or(out))?;
            let text = std::fs::read_to_string(file)?;
            let mut writer = std::io::BufWriter::new(std::fs::File::create(&path)?);
            for value in gsoc_testdata::trail_values(&text) {
                if let Some(variant) = gsoc_testdata::trail_variant(value, copy) {
                    writeln!(writer, "{variant}")?;
                    written += 1;
                }
            }
            writer.flush()?;
        }
        copy += 1;
    }
    Ok(written)
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let (inputs, _) = gsoc_decode::expand(&[dir.to_owned()]);
    inputs
        .into_iter()
        .filter_map(|input| match input {
            gsoc_decode::Input::File(p) if p.extension().is_some_and(|e| e == "txt") => Some(p),
            _ => None,
        })
        .collect()
}

/// Loading: `gsoc detect` over one line with no rules, with and without the
/// indicators.
fn load_rows(me: &Path, trails: &Path, work: &Path, values: u64) -> Result<Vec<Row>> {
    let rules = work.join("no-rules");
    std::fs::create_dir_all(&rules)?;
    let log = work.join("one.log");
    std::fs::write(
        &log,
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1.0\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n",
    )?;
    let command = |with: bool| {
        let mut cmd = gsoc_detect(me, 1, &[&log]);
        cmd.arg("--rules").arg(&rules);
        if with {
            cmd.arg("--intel").arg(trails);
        }
        cmd
    };
    let without = median_of_three(|| time_process(command(false), true))?;
    let with = median_of_three(|| time_process(command(true), true))?;
    let mut start = row("start-up without indicators", "gsoc", 1, 0, &without, None);
    start.events_per_second = 0.0;
    let mut load = row(
        &format!("load {values} indicators (maltrail x)"),
        "gsoc",
        1,
        values,
        &with,
        None,
    );
    load.baseline = Some("indicators per second".into());

    let data = work.join("data");
    let mut import = std::process::Command::new(me);
    import
        .arg("--data-dir")
        .arg(&data)
        .args(["intel", "import", "--format", "jsonl"])
        .arg(trails);
    let imported = time_process(import, true)?;
    let mut import_row = row(
        "import them into the store",
        "gsoc",
        1,
        values,
        &imported,
        None,
    );
    import_row.baseline = Some("indicators per second".into());
    let stored = median_of_three(|| {
        let mut cmd = std::process::Command::new(me);
        cmd.arg("--data-dir")
            .arg(&data)
            .args(["detect", "--no-progress", "--threads", "1", "--rules"])
            .arg(&rules)
            .arg(&log);
        time_process(cmd, true)
    })?;
    let mut store_row = row("load them from the store", "gsoc", 1, values, &stored, None);
    store_row.baseline = Some("indicators per second".into());
    Ok(vec![start, load, import_row, store_row])
}

/// The scan `gsoc detect` runs (decoding, every default rule, the
/// indicators) timed in this process, batch by batch: each batch once with
/// no indicators and once with the million, alternating which goes first.
/// Both halves meet the machine in the same state within milliseconds, so
/// what its neighbours do cancels out of the ratio, which runs of separate
/// processes seconds apart cannot promise. The ratio is the median pair's
/// (each batch is 512 records; whichever runs second in a pair gains a
/// little from the first, which the alternation evens out).
fn interleaved_rows(
    label: &str,
    inputs: &[PathBuf],
    million: &gsoc_intel::Matcher,
) -> Result<Vec<Row>> {
    let cli = crate::cli::Cli::try_parse_from(["gsoc", "detect", "--no-stored-intel", "-"])?;
    let crate::cli::Command::Detect(args) = cli.command else {
        bail!("the detect arguments did not parse as detect");
    };
    let engine = detect::compile_rules(&args)?;
    let none = MatcherBuilder::new().build();
    let mut plain = gsoc_detect::Scanner::new(&engine, &none);
    let mut loaded = gsoc_detect::Scanner::new(&engine, million);
    let (inputs, _) = gsoc_decode::expand(inputs);
    let time = |matchers: &mut gsoc_detect::Scanner<'_>, batch| {
        let started = Instant::now();
        let (events, found) = gsoc_detect::scan_batch(matchers, batch, Default::default()).counts();
        (started.elapsed(), events, found)
    };
    let mut totals = [(std::time::Duration::ZERO, 0u64, 0usize); 2];
    let mut speed_ratios = Vec::new();
    let pairs = inputs
        .iter()
        .flat_map(|input| batches(input).into_iter().zip(batches(input)));
    for (n, (a, b)) in pairs.enumerate() {
        let order: [(usize, gsoc_decode::Batch); 2] = if n % 2 == 0 {
            [(0, a), (1, b)]
        } else {
            [(1, b), (0, a)]
        };
        let mut pair = [std::time::Duration::ZERO; 2];
        for (which, batch) in order {
            let matchers = if which == 0 { &mut plain } else { &mut loaded };
            let (elapsed, events, found) = time(matchers, batch);
            let total = &mut totals[which];
            (total.0, total.1, total.2) = (total.0 + elapsed, total.1 + events, total.2 + found);
            pair[which] = elapsed;
        }
        speed_ratios.push(pair[0].as_secs_f64() / pair[1].as_secs_f64().max(1e-9));
    }
    let [(without, events, found_without), (with, _, found_with)] = totals;
    eprintln!(
        "gsoc bench: {label}, in process: {found_without} detections without indicators, {found_with} with"
    );
    let scan = |what: &str, elapsed| {
        let measured = Measured {
            elapsed,
            peak_kb: 0,
        };
        row(
            &format!("{label}, scan in process, {what}"),
            "gsoc",
            1,
            events,
            &measured,
            None,
        )
    };
    let mut base = scan("no indicators", without);
    base.baseline = Some("events/s, decoding and all rules".into());
    let mut loaded_row = scan("1M indicators", with);
    speed_ratios.sort_by(f64::total_cmp);
    loaded_row.ratio = speed_ratios.get(speed_ratios.len() / 2).copied();
    loaded_row.baseline = Some(format!(
        "the same batches without indicators: median of {} interleaved pairs",
        speed_ratios.len()
    ));
    Ok(vec![base, loaded_row])
}

/// Every batch of one input, read ahead (one input at a time, so that
/// memory holds two copies of one file, not of the corpus).
fn batches(input: &gsoc_decode::Input) -> Vec<gsoc_decode::Batch> {
    let mut out = Vec::new();
    gsoc_decode::read_input(input, &gsoc_decode::Options::default(), &mut |chunk| {
        if let gsoc_decode::Chunk::Batch(batch) = chunk {
            out.push(batch);
        }
        true
    });
    out
}

/// The queries: half present (names under listed domains, listed and
/// covered addresses), half absent.
fn queries(trails: &Path) -> Result<Vec<(Kind, String)>> {
    let mut present = Vec::new();
    for file in list_files(trails) {
        let text = std::fs::read_to_string(&file)?;
        for value in text.lines() {
            match normalize::infer(value) {
                Ok(found) if found.kind == Kind::Domain => {
                    present.push((Kind::Domain, format!("www.{}", found.value)))
                }
                Ok(found) if found.kind == Kind::Ipv4 => present.push((Kind::Ipv4, found.value)),
                Ok(found) if found.kind == Kind::Cidr => {
                    let base = found.value.split('/').next().unwrap_or_default().to_owned();
                    present.push((Kind::Ipv4, base));
                }
                _ => {}
            }
        }
    }
    let absent: Vec<(Kind, String)> = (0..present.len() as u32)
        .map(|n| {
            if n % 2 == 0 {
                (Kind::Domain, format!("host{n}.absent-{}.example", n % 977))
            } else {
                (
                    Kind::Ipv4,
                    std::net::Ipv4Addr::from(0x0a00_0000 | n).to_string(),
                )
            }
        })
        .collect();
    Ok(present
        .into_iter()
        .zip(absent)
        .flat_map(|(a, b)| [a, b])
        .collect())
}

fn load_matcher(trails: &Path) -> gsoc_intel::Matcher {
    let mut builder = MatcherBuilder::new();
    import_paths(
        &[trails.to_owned()],
        &ImportOptions::default(),
        &mut |item| {
            if let Item::Indicator(indicator) = item {
                builder.add(indicator);
            }
        },
    );
    builder.build()
}

/// Lookups per second on this thread: a domain is looked up with each of
/// its parents, an address in the address table and the prefix trie.
fn lookup_row(trails: &Path) -> Result<Row> {
    let matcher = load_matcher(trails);
    let queries = queries(trails)?;
    let started = Instant::now();
    let mut hits = 0u64;
    for (kind, value) in &queries {
        matcher.lookup(*kind, value, &mut |_| hits += 1);
    }
    let measured = Measured {
        elapsed: started.elapsed(),
        peak_kb: 0,
    };
    eprintln!("gsoc bench: {} lookups, {hits} hits", queries.len());
    let mut r = row(
        "indicator lookups (domains, addresses, networks)",
        "gsoc",
        1,
        queries.len() as u64,
        &measured,
        None,
    );
    r.baseline = Some("lookups per second".into());
    Ok(r)
}

/// The same queries against a hash set of the same values, exact match
/// only: what a plain list lookup costs.
fn hash_set_row(trails: &Path) -> Result<Row> {
    let mut set = HashSet::new();
    for file in list_files(trails) {
        for value in std::fs::read_to_string(&file)?.lines() {
            if let Ok(found) = normalize::infer(value) {
                set.insert(found.value);
            }
        }
    }
    let queries = queries(trails)?;
    let started = Instant::now();
    let hits = queries
        .iter()
        .filter(|(_, v)| set.contains(v.as_str()))
        .count();
    let measured = Measured {
        elapsed: started.elapsed(),
        peak_kb: 0,
    };
    eprintln!("gsoc bench: hash set: {hits} exact hits");
    Ok(row(
        "the same lookups in a hash set (exact only)",
        "std HashSet",
        1,
        queries.len() as u64,
        &measured,
        None,
    ))
}

/// The corpora `gsoc detect` runs over with and without the indicators:
/// the network logs (five times over) and the flat Windows events.
fn detect_corpora(shared: &Path, work: &Path) -> Result<Vec<(String, Vec<PathBuf>, u64)>> {
    let network = shared.join("network");
    let mut corpora = Vec::new();
    if network.is_dir() {
        let inputs = vec![network; 5];
        let events = count(&inputs);
        corpora.push(("network logs x5 (Zeek, EVE)".to_owned(), inputs, events));
    }
    let flat = shared.join("windows/bench/eas-flat.ndjson");
    if flat.is_file() {
        let (path, events) = repeat_corpus(&flat, 250_000, work)?;
        corpora.push(("flat Windows JSON".to_owned(), vec![path], events));
    }
    Ok(corpora)
}

fn count(inputs: &[PathBuf]) -> u64 {
    let (inputs, _) = gsoc_decode::expand(inputs);
    let mut n = 0;
    for input in &inputs {
        gsoc_decode::read_input(input, &gsoc_decode::Options::default(), &mut |chunk| {
            if let gsoc_decode::Chunk::Batch(b) = chunk {
                n += b.len() as u64;
            }
            true
        });
    }
    n
}

/// How many interleaved pairs of runs the matching cost is measured over.
const PAIRS: usize = 5;

/// `gsoc detect` on one core with all rules, without and with the
/// indicators: wall time (loading included), and the rate while scanning
/// (from the run's summary, loading excluded). The two run in interleaved
/// pairs, alternating which goes first, so that the machine's neighbours
/// weigh on both alike; each ratio (with ÷ without) is taken within a pair
/// and the median pair is reported.
fn with_and_without(
    me: &Path,
    label: &str,
    inputs: &[&Path],
    events: u64,
    trails: &Path,
) -> Result<Vec<Row>> {
    let run = |with: bool| -> Result<(Measured, f64)> {
        let mut cmd = gsoc_detect(me, 1, inputs);
        cmd.env("GSOC_LANG", "en");
        if with {
            cmd.arg("--intel").arg(trails);
        }
        // A new file for each run: a shorter summary written over a longer
        // one would leave the old rate at the end.
        let log = tempfile::NamedTempFile::new()?;
        let m = time_process_logging(cmd, true, log.reopen()?)?;
        Ok((m, scanning_rate(log.path())?))
    };
    let mut pairs = Vec::new();
    for n in 0..PAIRS {
        let (without, with) = if n % 2 == 0 {
            let without = run(false)?;
            (without, run(true)?)
        } else {
            let with = run(true)?;
            (run(false)?, with)
        };
        pairs.push((without, with));
    }
    pairs.sort_by(|a, b| (a.1.1 / a.0.1).total_cmp(&(b.1.1 / b.0.1)));
    let ((without, without_rate), (with, with_rate)) = pairs.swap_remove(PAIRS / 2);
    let base = row(
        &format!("{label}, no indicators"),
        "gsoc",
        1,
        events,
        &without,
        None,
    );
    let mut loaded = row(
        &format!("{label}, 1M indicators"),
        "gsoc",
        1,
        events,
        &with,
        None,
    );
    loaded.ratio = Some(loaded.events_per_second / base.events_per_second);
    loaded.baseline = Some("the same pair without indicators, wall time".into());
    let mut scan_base = scanning_row(label, "no indicators", events, without_rate);
    scan_base.baseline = Some("events/s while scanning".into());
    let mut scan_loaded = scanning_row(label, "1M indicators", events, with_rate);
    scan_loaded.ratio = Some(with_rate / without_rate);
    scan_loaded.baseline = Some(format!(
        "the same, while scanning (loading excluded); median of {PAIRS} interleaved pairs"
    ));
    Ok(vec![base, loaded, scan_base, scan_loaded])
}

fn scanning_row(label: &str, what: &str, events: u64, rate: f64) -> Row {
    Row {
        what: format!("{label}, {what}, scanning only"),
        engine: "gsoc".into(),
        threads: 1,
        events,
        seconds: events as f64 / rate.max(1e-9),
        events_per_second: rate,
        peak_memory_mb: 0.0,
        ratio: None,
        baseline: None,
    }
}

/// The events per second a `gsoc detect` summary reports (scanning time,
/// after rules and indicators are loaded).
fn scanning_rate(log: &Path) -> Result<f64> {
    let text = std::fs::read_to_string(log)?;
    text.lines()
        .rev()
        .filter_map(|l| l.split_once(" events/s)"))
        .find_map(|(head, _)| head.rsplit_once('(')?.1.trim().parse().ok())
        .with_context(|| format!("no events/s in the summary:\n{text}"))
}
