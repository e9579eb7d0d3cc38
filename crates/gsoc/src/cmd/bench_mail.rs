//! `gsoc bench --suite mail`: messages per second over the e-mail corpus
//! on one core, against mail-parser's parsing alone measured in the same
//! run, and the command end to end.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use gsoc_mail::source::{self, RawMessage};
use gsoc_mail::{Settings, analyse};

use super::bench::{Measured, Row, median_of_three, row, time_process};

/// The least time each in-process measurement runs for.
const MEASURE_FOR: Duration = Duration::from_secs(3);

/// Runs the suite.
pub fn run(shared: &Path) -> Result<Vec<Row>> {
    let corpus = shared.join("email");
    if !corpus.is_dir() {
        bail!(
            "the e-mail corpus is missing at {}; point --shared-data at the public test data",
            corpus.display()
        );
    }
    let messages = read_corpus(&corpus);
    eprintln!(
        "gsoc bench: {} messages in {}",
        messages.len(),
        corpus.display()
    );
    let parse = repeat(&messages, &mut |m| {
        std::hint::black_box(mail_parser::MessageParser::default().parse(&m.bytes));
    });
    let settings = Settings::default();
    let analysed = repeat(&messages, &mut |m| {
        let _ = std::hint::black_box(analyse(m, &settings));
    });
    let me = std::env::current_exe()?;
    let end_to_end = median_of_three(|| {
        let mut cmd = std::process::Command::new(&me);
        cmd.args(["mail", "analyze", "--format", "jsonl"])
            .arg(&corpus);
        time_process(cmd, true)
    })?;
    let mut baseline = row(
        "parse only (mail-parser)",
        "mail-parser",
        1,
        parse.0,
        &parse.1,
        None,
    );
    baseline.baseline = Some("parsing alone, same messages".into());
    let mut full = row(
        "analyse and classify, in process",
        "gsoc",
        1,
        analysed.0,
        &analysed.1,
        None,
    );
    full.ratio = Some(full.events_per_second / baseline.events_per_second);
    full.baseline = Some("parse only".into());
    let command = row(
        "gsoc mail analyze over the corpus, end to end",
        "gsoc",
        1,
        messages.len() as u64,
        &end_to_end,
        None,
    );
    Ok(vec![baseline, full, command])
}

fn read_corpus(corpus: &Path) -> Vec<RawMessage> {
    source::message_files(&[corpus.to_owned()])
        .0
        .iter()
        .filter_map(|file| source::read_file(file).ok())
        .flatten()
        .collect()
}

/// Runs `work` over every message, again and again for at least
/// [`MEASURE_FOR`]; returns the messages handled and the time taken.
fn repeat(messages: &[RawMessage], work: &mut dyn FnMut(&RawMessage)) -> (u64, Measured) {
    let started = Instant::now();
    let mut handled = 0u64;
    while started.elapsed() < MEASURE_FOR {
        for message in messages {
            work(message);
        }
        handled += messages.len() as u64;
    }
    (
        handled,
        Measured {
            elapsed: started.elapsed(),
            peak_kb: 0,
        },
    )
}
