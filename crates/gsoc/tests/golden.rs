//! Golden outputs: `gsoc decode` and `gsoc detect` (plain, and with
//! `--triage --beacons --intel`, in English and Japanese) over every corpus
//! of the shared test data give exactly the output recorded in
//! `crates/decode/tests/golden/<format>.tsv`, byte for byte.
//!
//! The shared data's licences (GPL, CC BY-NC) keep its decoded form out of
//! the repository, so each golden line holds, for one input file of one
//! run, the number of output lines that name that file and the SHA-256 of
//! those lines in output order; one more line per run pins the whole output
//! (so the order across files is pinned too) and the quarantine file.
//!
//! The goldens were recorded before the detect stage moved into its own
//! crate. To record them again, on purpose and with the diff reviewed:
//! `GSOC_GOLDEN_RECORD=1 cargo test -p gsoc --test integration golden`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::util::{Dir, run_ok};

/// One command over one corpus, named for the golden files.
struct Run {
    name: &'static str,
    args: &'static [&'static str],
    corpus: &'static str,
    lang: &'static str,
}

const INTEL: &str = "threat-intel/ioc-lists/maltrail";

const TRIAGE: &[&str] = &[
    "detect",
    "--triage",
    "--beacons",
    "--intel",
    INTEL,
    "--format",
    "jsonl",
];

const RUNS: &[Run] = &[
    Run {
        name: "decode",
        args: &["decode"],
        corpus: "windows",
        lang: "en",
    },
    Run {
        name: "decode",
        args: &["decode"],
        corpus: "network",
        lang: "en",
    },
    Run {
        name: "decode",
        args: &["decode"],
        corpus: "web-and-syslog",
        lang: "en",
    },
    Run {
        name: "decode",
        args: &["decode"],
        corpus: "sigma/sigmahq/regression_data",
        lang: "en",
    },
    Run {
        name: "detect",
        args: &["detect", "--format", "jsonl"],
        corpus: "windows",
        lang: "en",
    },
    Run {
        name: "detect",
        args: &["detect", "--format", "jsonl"],
        corpus: "network",
        lang: "en",
    },
    Run {
        name: "detect",
        args: &["detect", "--format", "jsonl"],
        corpus: "web-and-syslog",
        lang: "en",
    },
    Run {
        name: "detect",
        args: &["detect", "--format", "jsonl"],
        corpus: "email",
        lang: "en",
    },
    Run {
        name: "detect",
        args: &["detect", "--format", "jsonl"],
        corpus: "sigma/sigmahq/regression_data",
        lang: "en",
    },
    Run {
        name: "triage",
        args: TRIAGE,
        corpus: "windows",
        lang: "en",
    },
    Run {
        name: "triage",
        args: TRIAGE,
        corpus: "network",
        lang: "en",
    },
    Run {
        name: "triage",
        args: TRIAGE,
        corpus: "web-and-syslog",
        lang: "en",
    },
    Run {
        name: "triage",
        args: TRIAGE,
        corpus: "email",
        lang: "en",
    },
    Run {
        name: "triage",
        args: TRIAGE,
        corpus: "sigma/sigmahq/regression_data",
        lang: "en",
    },
    Run {
        name: "triage-ja",
        args: TRIAGE,
        corpus: "network",
        lang: "ja",
    },
    Run {
        name: "triage-ja",
        args: TRIAGE,
        corpus: "web-and-syslog",
        lang: "ja",
    },
    Run {
        name: "triage-csv",
        args: &["detect", "--triage", "--intel", INTEL, "--format", "csv"],
        corpus: "windows",
        lang: "en",
    },
];

fn golden_dir() -> PathBuf {
    gsoc_testdata::repo().join("crates/decode/tests/golden")
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// What one run printed, as golden rows: `run corpus file lines sha256`.
struct Outcome {
    /// file -> (lines, the lines in output order).
    per_file: BTreeMap<String, (usize, Vec<u8>)>,
    whole: String,
    quarantine: Option<String>,
    lines: usize,
}

fn execute(data: &Path, run: &Run) -> Outcome {
    let dir = Dir::new();
    let quarantine = dir.path().join("q.jsonl");
    let mut cmd = dir.gsoc(&["--data-dir"]);
    cmd.arg(dir.path().join("gsoc-data"))
        .args(run.args)
        .current_dir(data)
        .env("GSOC_LANG", run.lang)
        .arg("--no-progress");
    let detecting = run.args[0] == "detect";
    if detecting {
        cmd.arg("--quarantine").arg(&quarantine);
    }
    cmd.arg(run.corpus);
    let out = run_ok(cmd);
    let mut per_file: BTreeMap<String, (usize, Vec<u8>)> = BTreeMap::new();
    let csv = run.args.contains(&"csv");
    for line in out.stdout.split_inclusive(|b| *b == b'\n') {
        let file = if csv {
            csv_file(line)
        } else {
            let value: serde_json::Value = serde_json::from_slice(line)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", run.name));
            value["source"]["file"].as_str().unwrap_or("-").to_owned()
        };
        let entry = per_file.entry(file).or_default();
        entry.0 += 1;
        entry.1.extend_from_slice(line);
    }
    Outcome {
        per_file,
        whole: sha256(&out.stdout),
        quarantine: detecting
            .then(|| sha256(&std::fs::read(&quarantine).expect("the quarantine file"))),
        lines: out.stdout.iter().filter(|b| **b == b'\n').count(),
    }
}

/// The file column of a CSV row (the header row is `-`).
fn csv_file(line: &[u8]) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line);
    let record = reader
        .records()
        .next()
        .and_then(Result::ok)
        .expect("a CSV row");
    match record.get(7) {
        Some("file") | None => "-".to_owned(),
        Some(file) => file.to_owned(),
    }
}

/// The format a file's events were decoded as, from the decode runs
/// (`mail` for mail, `other` for what no decode run read).
fn formats(outcomes: &[(&Run, Outcome)]) -> BTreeMap<String, String> {
    let mut formats = BTreeMap::new();
    for (_, outcome) in outcomes.iter().filter(|(r, _)| r.name == "decode") {
        for (file, (_, lines)) in &outcome.per_file {
            let first = lines.split(|b| *b == b'\n').next().unwrap_or_default();
            let value: serde_json::Value = serde_json::from_slice(first).unwrap_or_default();
            if let Some(format) = value["format"].as_str() {
                formats.insert(file.clone(), format.to_owned());
            }
        }
    }
    formats
}

/// The golden files' texts, by file name (`runs` and one per format).
fn render(outcomes: &[(&Run, Outcome)]) -> BTreeMap<String, String> {
    let formats = formats(outcomes);
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (run, outcome) in outcomes {
        let key = format!("{}\t{}", run.name, run.corpus);
        let all = files.entry("runs".to_owned()).or_default();
        let _ = writeln!(
            all,
            "{key}\t*\t{}\t{}\t{}",
            outcome.lines,
            outcome.whole,
            outcome.quarantine.as_deref().unwrap_or("-")
        );
        for (file, (lines, bytes)) in &outcome.per_file {
            let format = match formats.get(file) {
                Some(f) => f.as_str(),
                None if file.ends_with(".eml") || file.contains("email/") => "mail",
                None => "other",
            };
            let golden = files.entry(format.to_owned()).or_default();
            let _ = writeln!(golden, "{key}\t{file}\t{lines}\t{}", sha256(bytes));
        }
    }
    files
}

#[test]
fn golden_outputs_over_the_shared_corpora() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let outcomes: Vec<(&Run, Outcome)> = RUNS.iter().map(|r| (r, execute(&data, r))).collect();
    let rendered = render(&outcomes);
    let dir = golden_dir();
    if std::env::var_os("GSOC_GOLDEN_RECORD").is_some() {
        std::fs::create_dir_all(&dir).expect("the golden folder");
        for (name, text) in &rendered {
            std::fs::write(dir.join(format!("{name}.tsv")), text).expect("write a golden file");
        }
        return;
    }
    let mut differences = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the golden folder") {
        let name = entry.expect("a golden file").file_name();
        let name = name.to_string_lossy();
        let Some(stem) = name.strip_suffix(".tsv") else {
            continue;
        };
        if !rendered.contains_key(stem) {
            differences.push(format!("{name}: no output of this format any more"));
        }
    }
    for (name, text) in &rendered {
        let path = dir.join(format!("{name}.tsv"));
        let expected =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected: Vec<&str> = expected.lines().collect();
        let got: Vec<&str> = text.lines().collect();
        for line in &got {
            if !expected.contains(line) {
                differences.push(format!("{name}: now   {line}"));
            }
        }
        for line in &expected {
            if !got.contains(line) {
                differences.push(format!("{name}: was   {line}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "outputs differ from the goldens:\n{}",
        differences.join("\n")
    );
}

/// The repository's samples (MIT) are small enough to pin whole, so that
/// a change shows as a readable diff: `gsoc decode` and `gsoc detect
/// --triage` over `samples/`, in `crates/decode/tests/golden/samples/`.
#[test]
fn golden_outputs_over_the_samples() {
    let dir = Dir::new();
    let repo = gsoc_testdata::repo();
    let expected = golden_dir().join("samples");
    let runs: [(&str, &[&str]); 2] = [
        ("decode.jsonl", &["decode", "--no-progress"]),
        (
            "triage.jsonl",
            &["detect", "--triage", "--format", "jsonl", "--no-progress"],
        ),
    ];
    for (name, args) in runs {
        let mut cmd = dir.gsoc(&["--data-dir"]);
        cmd.arg(dir.path().join("gsoc-data"))
            .args(args)
            .arg("samples/network")
            .arg("samples/web")
            .arg("samples/windows")
            .current_dir(&repo);
        let out = run_ok(cmd);
        let path = expected.join(name);
        if std::env::var_os("GSOC_GOLDEN_RECORD").is_some() {
            std::fs::create_dir_all(&expected).expect("the golden folder");
            std::fs::write(&path, &out.stdout).expect("write a golden file");
            continue;
        }
        let golden = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if golden != out.stdout {
            let (got, want) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&golden),
            );
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            panic!(
                "{name} differs from {} at line {}:\nnow: {}\nwas: {}",
                path.display(),
                first + 1,
                got.lines().nth(first).unwrap_or("(end)"),
                want.lines().nth(first).unwrap_or("(end)")
            );
        }
    }
}
