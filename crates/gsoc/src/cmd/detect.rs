//! `gsoc detect`: Sigma rules over log files, one detection per match.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use gsoc_decode::{Input, Problem, Quarantined, expand};
use gsoc_detect::{
    Chain, ChainOptions, Detector, IndicatorSources, Item, MAX_PROBE_SOURCES, Overflow, Sink,
    Wanted, is_mail, load_indicators, pipeline, scan_batch, scan_mail,
};
use gsoc_event::{Detection, Level, Verdict};
use gsoc_intel::Matcher;
use gsoc_sigma::Engine;
use gsoc_triage::Policy;
use jiff::Timestamp;

use super::InputArgs;
use crate::locale::Lang;
use crate::output::{self, OutputFormat};
use crate::progress::Progress;
use crate::rules::{self, RuleOptions};
use crate::summary::{Summary, Tracker};

/// Flags of `gsoc detect`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Indicators from the store (`gsoc intel import`) and from --intel are matched too; \
each hit is a detection of kind `indicator` naming the indicator, its source, confidence and TLP. \
Correlation rules among the rules are evaluated over the detections (kind `correlation`). Alerts the \
sensors raised themselves (Suricata EVE alerts, Zeek attack notices) are detections of kind `sensor`. \
Files ending .eml or .mbox are analysed as mail and matched as events of log source category `email`; \
a message the analysis judges suspicious is a detection of kind `mail`.\n\n\
With --triage every detection becomes an alert with a category, a verdict (vigilance or noise), the \
reason for it and a severity; unanswered connection attempts from outside become `probe` detections; \
the summary counts alerts by category before and after noise removal, and noise by reason.\n\n\
Examples:\n  gsoc detect samples/\n  gsoc detect --min-level high --format jsonl Security.evtx > hits.jsonl\n  \
gsoc detect --intel maltrail/trails/static/ zeek-logs/\n  zcat eve.json.gz | gsoc detect -\n  \
gsoc detect --triage --only vigilance --policy policy.toml eve.json access.log"
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
    /// Zeek conn, Suricata EVE flow and proxy access-log records (internal
    /// means the policy's `networks.internal`); reported at the end of the
    /// run as detections of kind `beacon`.
    #[arg(long)]
    beacons: bool,

    /// Triage every detection: category (malware-infection,
    /// targeted-attack, unauthorised-access, denial-of-service,
    /// policy-violation, reconnaissance, other), verdict (vigilance or
    /// noise) with a reason code and sentence, and severity. Also finds
    /// probes: unanswered connection attempts from outside.
    #[arg(long)]
    triage: bool,

    /// The triage policy (TOML) read over the default one: category
    /// mappings, asset inventory, windows, suppressions. Implies --triage.
    /// `gsoc triage-policy` prints the default.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// Only write alerts with this verdict: vigilance or noise (the summary
    /// still counts all). Implies --triage.
    #[arg(long, value_name = "VERDICT", value_parser = parse_verdict)]
    only: Option<Verdict>,
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    match text {
        "vigilance" => Ok(Verdict::Vigilance),
        "noise" => Ok(Verdict::Noise),
        _ => Err(format!(
            "'{text}' is not a verdict; write vigilance or noise"
        )),
    }
}

/// Parses `--from`/`--to`.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    gsoc_event::time::parse_time(text).ok_or_else(|| {
        format!(
            "'{text}' is not a time; write 2024-04-01, 2024-04-01T09:00:00Z or 2024-04-01T09:00:00+09:00"
        )
    })
}

/// Runs `gsoc detect`.
pub fn run(args: Args, data_dir: &Path, lang: Lang) -> Result<()> {
    let started = Instant::now();
    let detector = std::thread::scope(|scope| -> Result<_> {
        // The indicators load on a thread of their own, beside the rules:
        // the many short-lived allocations of reading them then stay out
        // of the heap this thread scans from (a million indicators left
        // it slower by a few percent).
        let intel = scope.spawn(|| load_intel(&args, data_dir));
        let engine = compile_rules(&args);
        let matcher = intel
            .join()
            .map_err(|_| anyhow::anyhow!("loading the indicators failed"))?;
        Ok(Detector::new(engine?, matcher?))
    })?;
    report_rules(&detector.engine);
    let triage = args.triage || args.policy.is_some() || args.only.is_some();
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| {
            anyhow::anyhow!("{e}\n(`gsoc triage-policy` prints the default to start from)")
        })?,
        None => Policy::default(),
    };

    let (inputs, problems) = expand(&args.input.paths);
    let (mail, inputs): (Vec<Input>, Vec<Input>) = inputs.into_iter().partition(is_mail);
    let engine = &detector.engine;
    let mut printer = Printer {
        writer: open_writer(&args, lang)?,
        tracker: Tracker {
            summary: Summary::new(lang, engine.rule_count(), engine.rejects().len())
                .with_indicators(detector.matcher.len()),
            progress: Progress::new(inputs.len(), args.input.no_progress),
        },
        only: args.only,
        quarantine: open_quarantine(args.quarantine.as_deref())?,
    };
    problems
        .iter()
        .for_each(|p| printer.tracker.summary.problem(p));
    let options = ChainOptions {
        beacons: args.beacons,
        triage: triage.then_some((policy, lang)),
    };
    let mut chain = Chain::new(engine.correlator(), options);
    let wanted = Wanted {
        from: args.from,
        to: args.to,
        flows: chain.wants_flows(),
        triage: chain.triages(),
    };
    pipeline::run_until_error(
        &inputs,
        &args.input.options(),
        args.input.threads(),
        || detector.scanner(),
        |scanner, batch| scan_batch(scanner, batch, wanted),
        |item| chain.item(item, &mut printer),
    )
    .context("cannot write output")?;
    if !mail.is_empty() {
        let mut scanner = detector.scanner();
        let settings = gsoc_mail::Settings::default();
        for input in &mail {
            let start = Item::Start {
                file: std::sync::Arc::from(input.name()),
                format: gsoc_event::Format::Json,
            };
            let done = Item::Done(scan_mail(input, &settings, &mut scanner, wanted));
            for item in [start, done, Item::End] {
                chain
                    .item(item, &mut printer)
                    .context("cannot write output")?;
            }
        }
    }
    printer.tracker.progress.finish();
    let overflow = chain.finish(&mut printer).context("cannot write output")?;
    printer.finish().context("cannot write output")?;
    report_overflow(overflow);
    printer.tracker.summary.print(started.elapsed());
    // Freeing a million indicators takes a tenth of a second, and the
    // process ends here: let the OS take the memory back at once.
    std::mem::forget(detector);
    Ok(())
}

fn open_quarantine(path: Option<&Path>) -> Result<Option<BufWriter<File>>> {
    path.map(|path| {
        File::create(path)
            .map(BufWriter::new)
            .with_context(|| format!("cannot create {}", path.display()))
    })
    .transpose()
}

fn report_overflow(overflow: Overflow) {
    if overflow.probe_sources > 0 {
        eprintln!(
            "gsoc: {} probe sources were not kept: at most {MAX_PROBE_SOURCES} are",
            overflow.probe_sources
        );
    }
    if overflow.correlation_groups > 0 {
        eprintln!(
            "gsoc: {} correlation groups were not kept: each correlation keeps at most {} at a time",
            overflow.correlation_groups,
            gsoc_sigma::MAX_GROUPS
        );
    }
}

/// The rules, compiled as --rules and the level and status filters ask.
pub(crate) fn compile_rules(args: &Args) -> Result<Engine> {
    let set = rules::load(&args.rules.rules)?;
    let mut builder = args.rules.builder()?;
    builder
        .min_level(args.min_level)
        .statuses(args.statuses.clone());
    Ok(builder.build(&set))
}

/// The detection writer --format and --output ask for.
fn open_writer(args: &Args, lang: Lang) -> Result<Box<dyn output::DetectionWriter>> {
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
    Ok(output::detection_writer(format, lang, out, color))
}

/// Where the detect stage's output goes in `gsoc detect`: alerts to the
/// writer (those --only asks for) and the summary, failed records and
/// unreadable inputs to the quarantine file, counts to the progress bar.
struct Printer {
    writer: Box<dyn output::DetectionWriter>,
    tracker: Tracker,
    only: Option<Verdict>,
    quarantine: Option<BufWriter<File>>,
}

impl Sink for Printer {
    type Error = anyhow::Error;

    fn alert(&mut self, d: &Detection) -> Result<()> {
        self.tracker.summary.detection(d);
        let verdict = d.assessment.as_ref().map(|a| a.verdict);
        if self.only.is_none_or(|only| verdict == Some(only)) {
            self.writer.write(d)?;
        }
        Ok(())
    }

    fn quarantined(&mut self, q: &Quarantined) -> Result<()> {
        self.tracker.quarantined(q);
        if let Some(file) = self.quarantine.as_mut() {
            let line = serde_json::json!({
                "file": &*q.file, "record": q.record, "format": q.format, "reason": q.reason, "original": q.original,
            });
            write_line(file, &line)?;
        }
        Ok(())
    }

    fn problem(&mut self, p: &Problem) -> Result<()> {
        self.tracker.problem(p);
        if let Some(file) = self.quarantine.as_mut() {
            let line = serde_json::json!({"file": &*p.file, "record": null, "reason": p.message});
            write_line(file, &line)?;
        }
        Ok(())
    }

    fn events(&mut self, events: u64, out_of_range: u64) -> Result<()> {
        self.tracker.progress.add_events(events);
        self.tracker.summary.events(events, out_of_range);
        Ok(())
    }

    fn input_start(&mut self, file: &str, format: gsoc_event::Format) -> Result<()> {
        self.tracker.input_start(file, format);
        Ok(())
    }

    fn input_end(&mut self) -> Result<()> {
        self.tracker.input_end();
        Ok(())
    }
}

impl Printer {
    /// Flushes the writer and the quarantine file.
    fn finish(&mut self) -> Result<()> {
        self.writer.finish()?;
        if let Some(q) = self.quarantine.as_mut() {
            q.flush().context("cannot write the quarantine file")?;
        }
        Ok(())
    }
}

fn write_line(file: &mut BufWriter<File>, line: &serde_json::Value) -> Result<()> {
    serde_json::to_writer(&mut *file, line)?;
    file.write_all(b"\n")?;
    Ok(())
}

/// The indicators to match: the store's (unless --no-stored-intel) and
/// those in --intel files. What cannot be read is reported on stderr.
fn load_intel(args: &Args, data_dir: &Path) -> Result<Matcher> {
    let sources = IndicatorSources {
        store: (!args.no_stored_intel).then(|| data_dir.to_owned()),
        feeds: args.intel.clone(),
    };
    let (matcher, problems) = load_indicators(&sources)
        .context("cannot read the indicator store (use --no-stored-intel to hunt without it)")?;
    for problem in problems.iter().take(10) {
        eprintln!(
            "gsoc: indicator not loaded: {} {}: {}",
            problem.file, problem.place, problem.reason
        );
    }
    if problems.len() > 10 {
        eprintln!(
            "gsoc: … {} more (`gsoc intel import --dry-run --format jsonl` lists them all)",
            problems.len() - 10
        );
    }
    Ok(matcher)
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
    }
}
