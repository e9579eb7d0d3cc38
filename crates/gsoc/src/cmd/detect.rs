//! `gsoc detect`: Sigma rules over log files, one detection per match.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use gsoc_decode::{Batch, Input, Quarantined, expand};
use gsoc_event::{Detection, Event, Level};
use gsoc_intel::{ImportOptions, Matcher, MatcherBuilder, Store, import_paths};
use gsoc_sigma::{Correlator, Engine};
use gsoc_triage::{BeaconFinder, BeaconSettings, Connection, connection};
use jiff::Timestamp;

use super::InputArgs;
use crate::locale::Lang;
use crate::output::{self, OutputFormat};
use crate::pipeline::{self, Item, Tracker};
use crate::progress::Progress;
use crate::rules::{self, RuleOptions};
use crate::summary::Summary;

/// Flags of `gsoc detect`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Indicators from the store (`gsoc intel import`) and from --intel are matched too; \
each hit is a detection of kind `indicator` naming the indicator, its source, confidence and TLP. \
Correlation rules among the rules are evaluated over the detections (kind `correlation`). Files ending \
.eml or .mbox are analysed as mail and matched as events of log source category `email`.\n\n\
Examples:\n  gsoc detect samples/\n  gsoc detect --min-level high --format jsonl Security.evtx > hits.jsonl\n  \
gsoc detect --intel maltrail/trails/static/ zeek-logs/\n  zcat eve.json.gz | gsoc detect -"
)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,

    #[command(flatten)]
    rules: RuleOptions,

    /// Output format: table (default on a terminal), jsonl (default when
    /// piped) or csv.
    #[arg(long, short = 'f', value_enum)]
    format: Option<OutputFormat>,

    /// Write detections to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Only run rules of this level or higher: informational, low, medium,
    /// high, critical.
    #[arg(long, value_name = "LEVEL", default_value = "informational")]
    min_level: Level,

    /// Only run rules with this status (repeatable): stable, test,
    /// experimental, deprecated, unsupported. Default: every status.
    #[arg(long = "status", value_name = "STATUS", value_delimiter = ',')]
    statuses: Vec<String>,

    /// Only events at or after this time (RFC 3339, or a date meaning its
    /// start in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: Option<Timestamp>,

    /// Only events before this time (RFC 3339, or a date meaning its start
    /// in UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    to: Option<Timestamp>,

    /// Also write every record that failed to decode, and every input that
    /// could not be read, with the reason, to this file as JSON lines.
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,

    /// Also match the indicators in these files or folders (STIX 2.1, MISP,
    /// CSV feeds, plain lists), without importing them (repeatable).
    #[arg(long = "intel", value_name = "PATH")]
    intel: Vec<PathBuf>,

    /// Do not match the indicators in the store (`gsoc intel import`); by
    /// default they are matched.
    #[arg(long)]
    no_stored_intel: bool,

    /// Also find beaconing: an internal host calling one external
    /// destination at regular intervals (at least 10 times, 80 % of the
    /// intervals within 25 % of their median, every 10 s or slower), in
    /// Zeek conn and Suricata EVE flow records; reported at the end of the
    /// run as detections of kind `beacon`.
    #[arg(long)]
    beacons: bool,
}

/// Parses `--from`/`--to`.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    if let Ok(dt) = text.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "'{text}' is not a time; write 2024-04-01, 2024-04-01T09:00:00Z or 2024-04-01T09:00:00+09:00"
    ))
}

/// What a worker makes of one batch.
#[derive(Default)]
struct BatchResult {
    events: u64,
    out_of_range: u64,
    quarantined: Vec<Quarantined>,
    detections: Vec<Detection>,
    /// Connections for the beaconing finder (with --beacons).
    connections: Vec<Connection>,
}

impl BatchResult {
    /// Counts one event and, unless it is outside --from/--to, adds what
    /// the rules and indicators find in it (and its connection, with
    /// --beacons).
    fn take(
        &mut self,
        event: &Event,
        (session, intel): (&mut gsoc_sigma::Session<'_>, &mut gsoc_intel::Session<'_>),
        (from, to): (Option<Timestamp>, Option<Timestamp>),
        beacons: Option<&BeaconSettings>,
    ) {
        self.events += 1;
        if !in_range(event.time, from, to) {
            self.out_of_range += 1;
            return;
        }
        session.detect(event, |d| self.detections.push(d));
        intel.detect(event, &mut |d| self.detections.push(d));
        if let Some(settings) = beacons {
            self.connections.extend(connection(event, settings));
        }
    }
}

/// Runs `gsoc detect`.
pub fn run(args: Args, data_dir: &Path, lang: Lang) -> Result<()> {
    let started = Instant::now();
    let set = rules::load(&args.rules.rules)?;
    let mut builder = args.rules.builder()?;
    builder
        .min_level(args.min_level)
        .statuses(args.statuses.clone());
    let engine = builder.build(&set);
    report_rules(&engine);
    let matcher = load_intel(&args, data_dir)?;

    let (inputs, problems) = expand(&args.input.paths);
    let (mail, inputs): (Vec<Input>, Vec<Input>) = inputs.into_iter().partition(is_mail);
    let mut tracker = Tracker {
        summary: Summary::new(lang, engine.rule_count(), engine.rejects().len())
            .with_indicators(matcher.len()),
        progress: Progress::new(inputs.len(), args.input.no_progress),
    };
    problems.iter().for_each(|p| tracker.summary.problem(p));

    let format = OutputFormat::resolve(args.format);
    let (out, color): (Box<dyn Write>, bool) = match &args.output {
        Some(path) => (
            Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            )),
            false,
        ),
        None => (
            Box::new(BufWriter::new(std::io::stdout().lock())),
            std::io::stdout().is_terminal(),
        ),
    };
    let mut writer = output::detection_writer(format, lang, out, color);
    let mut quarantine = match &args.quarantine {
        Some(path) => {
            Some(BufWriter::new(File::create(path).with_context(|| {
                format!("cannot create {}", path.display())
            })?))
        }
        None => None,
    };
    let (from, to) = (args.from, args.to);
    let mut correlator = engine.correlator();
    let beacons = args.beacons.then(BeaconSettings::default);
    let mut finder = BeaconFinder::new(beacons.clone().unwrap_or_default());
    let outcome = pipeline::run_until_error(
        &inputs,
        &args.input.options(),
        args.input.threads(),
        || (engine.session(), matcher.session()),
        |(session, intel), batch| detect_batch(session, intel, batch, (from, to), beacons.as_ref()),
        |mut item| {
            tracker.track(&item);
            if let Item::Done(result) = &mut item {
                std::mem::take(&mut result.connections)
                    .into_iter()
                    .for_each(|c| finder.add(c));
            }
            write_item(
                item,
                &mut *writer,
                &mut tracker,
                &mut correlator,
                quarantine.as_mut(),
            )
        },
    );
    outcome.context("cannot write output")?;
    if !mail.is_empty() {
        let mut sessions = (engine.session(), matcher.session());
        let settings = gsoc_mail::Settings::default();
        for input in &mail {
            let start = Item::Start {
                file: std::sync::Arc::from(input.name()),
                format: gsoc_event::Format::Json,
            };
            let items = [
                start,
                Item::Done(detect_mail(input, &settings, &mut sessions, (from, to))),
                Item::End,
            ];
            for item in items {
                tracker.track(&item);
                write_item(
                    item,
                    &mut *writer,
                    &mut tracker,
                    &mut correlator,
                    quarantine.as_mut(),
                )
                .context("cannot write output")?;
            }
        }
    }
    tracker.progress.finish();
    if args.beacons {
        for beacon in finder.finish() {
            let d = beacon.detection();
            writer.write(&d).context("cannot write output")?;
            tracker.summary.detection(&d);
        }
    }
    writer.finish().context("cannot write output")?;
    if let Some(q) = quarantine.as_mut() {
        q.flush().context("cannot write the quarantine file")?;
    }
    if correlator.overflow() > 0 {
        eprintln!(
            "gsoc: {} correlation groups were not kept: each correlation keeps at most {} at a time",
            correlator.overflow(),
            gsoc_sigma::MAX_GROUPS
        );
    }
    tracker.summary.print(started.elapsed());
    Ok(())
}

/// The indicators to match: the store's (unless --no-stored-intel) and
/// those in --intel files. What cannot be read is reported on stderr.
fn load_intel(args: &Args, data_dir: &Path) -> Result<Matcher> {
    let mut builder = MatcherBuilder::new();
    if !args.no_stored_intel {
        Store::for_each_indicator(data_dir, &mut |indicator| {
            builder.add(indicator);
        })
        .context("cannot read the indicator store (use --no-stored-intel to hunt without it)")?;
    }
    if !args.intel.is_empty() {
        let report = import_paths(&args.intel, &ImportOptions::default(), &mut |item| {
            if let gsoc_intel::Item::Indicator(indicator) = item {
                builder.add(indicator);
            }
        });
        for problem in report.errors.iter().take(10) {
            eprintln!(
                "gsoc: indicator not loaded: {} {}: {}",
                problem.file, problem.place, problem.reason
            );
        }
        if report.errors.len() > 10 {
            eprintln!(
                "gsoc: … {} more (`gsoc intel import --dry-run --format jsonl` lists them all)",
                report.errors.len() - 10
            );
        }
    }
    Ok(builder.build())
}

fn detect_batch(
    session: &mut gsoc_sigma::Session<'_>,
    intel: &mut gsoc_intel::Session<'_>,
    batch: Batch,
    range: (Option<Timestamp>, Option<Timestamp>),
    beacons: Option<&BeaconSettings>,
) -> BatchResult {
    let mut result = BatchResult::default();
    for decoded in batch.decode() {
        match decoded {
            Ok(event) => result.take(&event, (session, intel), range, beacons),
            Err(q) => result.quarantined.push(q),
        }
    }
    result
}

/// Whether an input is mail (`.eml` or `.mbox`), read by gsoc-mail and
/// matched as events of log source category `email`.
fn is_mail(input: &Input) -> bool {
    let Input::File(path) = input else {
        return false;
    };
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("eml") || e.eq_ignore_ascii_case("mbox"))
}

/// The detections for the messages of one mail file: each message analysed
/// and matched as an event; a message that cannot be read is quarantined.
fn detect_mail(
    input: &Input,
    settings: &gsoc_mail::Settings,
    (session, intel): &mut (gsoc_sigma::Session<'_>, gsoc_intel::Session<'_>),
    range: (Option<Timestamp>, Option<Timestamp>),
) -> BatchResult {
    let mut result = BatchResult::default();
    let Input::File(path) = input else {
        return result;
    };
    let file: std::sync::Arc<str> = std::sync::Arc::from(path.display().to_string());
    let quarantine = |record: u64, reason: String| Quarantined {
        file: std::sync::Arc::clone(&file),
        record,
        format: gsoc_event::Format::Json,
        reason,
        original: String::new(),
    };
    let messages = match gsoc_mail::source::read_file(path) {
        Ok(messages) => messages,
        Err(e) => {
            result.quarantined.push(quarantine(0, e.to_string()));
            return result;
        }
    };
    for message in &messages {
        let record = message.origin.message.unwrap_or(1) as u64;
        match gsoc_mail::analyse(message, settings) {
            Ok(analysis) => {
                let event = gsoc_mail::event::to_event(&analysis, &file);
                result.take(&event, (session, intel), range, None);
            }
            Err(broken) => result.quarantined.push(quarantine(record, broken.reason)),
        }
    }
    result
}

fn in_range(time: Option<Timestamp>, from: Option<Timestamp>, to: Option<Timestamp>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(t) = time else { return false };
    from.is_none_or(|f| t >= f) && to.is_none_or(|end| t < end)
}

/// Writes what an item adds to the output and the quarantine file (the
/// tracker has counted the rest).
fn write_item(
    item: Item<BatchResult>,
    writer: &mut dyn output::DetectionWriter,
    tracker: &mut Tracker,
    correlator: &mut Correlator,
    mut quarantine: Option<&mut BufWriter<File>>,
) -> Result<()> {
    match item {
        Item::Done(result) => {
            tracker.progress.add_events(result.events);
            tracker.summary.events(result.events, result.out_of_range);
            for d in &result.detections {
                let observed = correlator.observe(d);
                let shown = std::iter::once(d).filter(|_| !observed.suppressed);
                for d in shown.chain(&observed.fired) {
                    writer.write(d)?;
                    tracker.summary.detection(d);
                }
            }
            for q in &result.quarantined {
                tracker.summary.quarantined(q);
            }
            if let Some(file) = quarantine.as_deref_mut() {
                result
                    .quarantined
                    .iter()
                    .try_for_each(|q| write_quarantined(file, q))?;
            }
        }
        Item::Quarantined(q) => {
            if let Some(file) = quarantine {
                write_quarantined(file, &q)?;
            }
        }
        Item::Problem(p) => {
            if let Some(file) = quarantine {
                let line =
                    serde_json::json!({"file": &*p.file, "record": null, "reason": p.message});
                serde_json::to_writer(&mut *file, &line)?;
                file.write_all(b"\n")?;
            }
        }
        Item::Start { .. } | Item::End => {}
    }
    Ok(())
}

fn write_quarantined(file: &mut BufWriter<File>, q: &Quarantined) -> Result<()> {
    let line = serde_json::json!({
        "file": &*q.file, "record": q.record, "format": q.format, "reason": q.reason, "original": q.original,
    });
    serde_json::to_writer(&mut *file, &line)?;
    file.write_all(b"\n")?;
    Ok(())
}

fn report_rules(engine: &Engine) {
    for reject in engine.rejects() {
        eprintln!("gsoc: rule not loaded: {}", reject.error);
    }
    for warning in engine.warnings() {
        eprintln!("gsoc: rule note: {}: {}", warning.path, warning.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_flags() {
        assert_eq!(
            parse_time("2024-04-01"),
            "2024-04-01T00:00:00Z".parse().map_err(|_| String::new())
        );
        assert_eq!(
            parse_time("2024-04-01T09:00:00+09:00"),
            "2024-04-01T00:00:00Z".parse().map_err(|_| String::new())
        );
        assert!(
            parse_time("yesterday")
                .expect_err("not a time")
                .contains("2024-04-01")
        );
        let t = parse_time("2024-04-01").ok();
        assert!(in_range(t, t, None));
        assert!(!in_range(t, None, t));
        assert!(!in_range(None, t, None));
        assert!(in_range(None, None, None));
    }
}
