//! `gsoc decode`: print decoded events, so users see what rules see (and
//! can convert EVTX to JSON lines).

use std::io::{BufWriter, Write};
use std::time::Instant;

use anyhow::{Context, Result};
use gsoc_decode::{Event, Quarantined, expand};
use gsoc_detect::{Item, pipeline};

use super::InputArgs;
use crate::locale::Lang;
use crate::output::{self, OutputFormat};
use crate::progress::Progress;
use crate::summary::{Summary, Tracker};

/// Flags of `gsoc decode`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Each JSON line holds: time, format, source {file, record}, logsource, fields (the \
normalised record, as rules see it), normalized (OCSF names) and original (the record as read).\n\n\
Examples:\n  gsoc decode Security.evtx > security.jsonl\n  gsoc decode --format table conn.log"
)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,

    /// Output format: jsonl (default), table or csv.
    #[arg(long, short = 'f', value_enum, default_value = "jsonl")]
    format: OutputFormat,
}

/// Runs `gsoc decode`.
pub fn run(args: Args, lang: Lang) -> Result<()> {
    let started = Instant::now();
    let (inputs, problems) = expand(&args.input.paths);
    let mut tracker = Tracker {
        summary: Summary::new(lang, 0, 0),
        progress: Progress::new(inputs.len(), args.input.no_progress),
    };
    problems.iter().for_each(|p| tracker.summary.problem(p));
    let out: Box<dyn Write> = Box::new(BufWriter::new(std::io::stdout().lock()));
    let mut writer = output::event_writer(args.format, lang, out);
    let outcome = pipeline::run_until_error::<_, _, anyhow::Error>(
        &inputs,
        &args.input.options(),
        args.input.threads(),
        || (),
        |(), batch| batch.decode().collect::<Vec<Result<Event, Quarantined>>>(),
        |item| {
            tracker.track(&item);
            let Item::Done(events) = item else {
                return Ok(());
            };
            tracker.progress.add_events(events.len() as u64);
            for decoded in events {
                match decoded {
                    Ok(event) => {
                        tracker.summary.events(1, 0);
                        writer.write(&event)?;
                    }
                    Err(q) => tracker.summary.quarantined(&q),
                }
            }
            Ok(())
        },
    );
    tracker.progress.finish();
    outcome.context("cannot write output")?;
    writer.finish().context("cannot write output")?;
    tracker.summary.print(started.elapsed());
    Ok(())
}
