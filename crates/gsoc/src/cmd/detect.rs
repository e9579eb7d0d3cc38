//! `gsoc detect`: Sigma rules over log files, one detection per match.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use gsoc_decode::{Batch, Input, Quarantined, expand};
use gsoc_event::names::Names;
use gsoc_event::{Detection, Event, EventFacts, Level, Verdict};
use gsoc_intel::{ImportOptions, Matcher, MatcherBuilder, Store, import_paths};
use gsoc_sigma::{Correlator, Engine};
use gsoc_triage::{
    BeaconFinder, BeaconSettings, Flow, LogonSuccess, Policy, ProbeFinder, Triage, WebRequest,
    flow, sensor_alert, web_request,
};
use jiff::Timestamp;

use super::InputArgs;
use crate::locale::Lang;
use crate::output::{self, OutputFormat};
use crate::pipeline::{self, Item, Tracker};
use crate::progress::Progress;
use crate::rules::{self, RuleOptions};
use crate::summary::Summary;

/// The most sources the probe finder keeps (of each sort).
const MAX_PROBE_SOURCES: usize = 200_000;

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

/// What the workers look for besides detections (by default, nothing:
/// every event, no flows, no triage).
#[derive(Clone, Copy, Default)]
pub(crate) struct Wanted {
    range: (Option<Timestamp>, Option<Timestamp>),
    flows: bool,
    triage: bool,
}

/// Parses `--from`/`--to`.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    gsoc_event::time::parse_time(text).ok_or_else(|| {
        format!(
            "'{text}' is not a time; write 2024-04-01, 2024-04-01T09:00:00Z or 2024-04-01T09:00:00+09:00"
        )
    })
}

/// What a worker makes of one batch.
#[derive(Default)]
pub(crate) struct BatchResult {
    events: u64,
    out_of_range: u64,
    quarantined: Vec<Quarantined>,
    detections: Vec<Detection>,
    /// Flows for the beaconing and probe finders (with --beacons or
    /// --triage).
    flows: Vec<Flow>,
    /// Successful logons, for triage of failed ones (with --triage).
    successes: Vec<LogonSuccess>,
    /// Web requests, for the probe finder (with --triage).
    requests: Vec<WebRequest>,
}

impl BatchResult {
    /// The events of the batch and the detections in them.
    pub(crate) fn counts(&self) -> (u64, usize) {
        (self.events, self.detections.len())
    }

    /// Counts one event and, unless it is outside --from/--to, adds what
    /// the rules, the indicators and the sensor find in it (and, as
    /// wanted, its flow, its successful logon and its facts for triage).
    fn take(&mut self, event: &Event, matchers: &mut Matchers<'_>, wanted: Wanted) {
        self.events += 1;
        let (from, to) = wanted.range;
        if !in_range(event.time, from, to) {
            self.out_of_range += 1;
            return;
        }
        let before = self.detections.len();
        matchers.detect(event, &mut self.detections);
        self.detections.extend(sensor_alert(event));
        if wanted.flows {
            self.flows.extend(flow(event));
        }
        if wanted.triage {
            self.successes.extend(LogonSuccess::of(event));
            self.requests.extend(web_request(event));
            if self.detections.len() > before {
                let facts = std::sync::Arc::new(EventFacts::of(event));
                for d in &mut self.detections[before..] {
                    d.facts = Some(std::sync::Arc::clone(&facts));
                }
            }
        }
    }
}

/// Runs `gsoc detect`.
pub fn run(args: Args, data_dir: &Path, lang: Lang) -> Result<()> {
    let started = Instant::now();
    let (engine, matcher) = std::thread::scope(|scope| -> Result<_> {
        // The indicators load on a thread of their own, beside the rules:
        // the many short-lived allocations of reading them then stay out
        // of the heap this thread scans from (a million indicators left
        // it slower by a few percent).
        let intel = scope.spawn(|| load_intel(&args, data_dir));
        let engine = compile_rules(&args);
        let matcher = intel
            .join()
            .map_err(|_| anyhow::anyhow!("loading the indicators failed"))?;
        Ok((engine?, matcher?))
    })?;
    report_rules(&engine);
    let triage = args.triage || args.policy.is_some() || args.only.is_some();
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| {
            anyhow::anyhow!("{e}\n(`gsoc triage-policy` prints the default to start from)")
        })?,
        None => Policy::default(),
    };

    let (inputs, problems) = expand(&args.input.paths);
    let (mail, inputs): (Vec<Input>, Vec<Input>) = inputs.into_iter().partition(is_mail);
    let mut tracker = Tracker {
        summary: Summary::new(lang, engine.rule_count(), engine.rejects().len())
            .with_indicators(matcher.len()),
        progress: Progress::new(inputs.len(), args.input.no_progress),
    };
    problems.iter().for_each(|p| tracker.summary.problem(p));

    let networks = policy.internal.clone();
    let mut sink = Sink {
        writer: open_writer(&args, lang)?,
        tracker,
        correlator: engine.correlator(),
        beacons: args
            .beacons
            .then(|| BeaconFinder::new(BeaconSettings::default(), networks.clone())),
        probes: triage.then(|| {
            let minimum = (policy.probe_min_attempts, policy.probe_min_web_paths);
            ProbeFinder::new(networks, minimum, MAX_PROBE_SOURCES)
        }),
        triage: triage.then(|| Triage::new(policy, lang == Lang::Ja)),
        only: args.only,
        quarantine: match &args.quarantine {
            Some(path) => {
                Some(BufWriter::new(File::create(path).with_context(|| {
                    format!("cannot create {}", path.display())
                })?))
            }
            None => None,
        },
    };
    let wanted = Wanted {
        range: (args.from, args.to),
        flows: args.beacons || triage,
        triage,
    };
    pipeline::run_until_error(
        &inputs,
        &args.input.options(),
        args.input.threads(),
        || Matchers::new(&engine, &matcher),
        |matchers, batch| detect_batch(matchers, batch, wanted),
        |item| sink.item(item),
    )
    .context("cannot write output")?;
    if !mail.is_empty() {
        let mut matchers = Matchers::new(&engine, &matcher);
        let settings = gsoc_mail::Settings::default();
        for input in &mail {
            let start = Item::Start {
                file: std::sync::Arc::from(input.name()),
                format: gsoc_event::Format::Json,
            };
            let done = Item::Done(detect_mail(input, &settings, &mut matchers, wanted));
            for item in [start, done, Item::End] {
                sink.item(item).context("cannot write output")?;
            }
        }
    }
    sink.finish().context("cannot write output")?;
    sink.tracker.summary.print(started.elapsed());
    // Freeing a million indicators takes a tenth of a second, and the
    // process ends here: let the OS take the memory back at once.
    std::mem::forget(matcher);
    Ok(())
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

/// Where results go on the main thread: detections through correlation,
/// then triage (with --triage), to the writer and the summary; flows to
/// the beaconing and probe finders; failed records to the quarantine file.
struct Sink {
    writer: Box<dyn output::DetectionWriter>,
    tracker: Tracker,
    correlator: Correlator,
    beacons: Option<BeaconFinder>,
    probes: Option<ProbeFinder>,
    triage: Option<Triage>,
    only: Option<Verdict>,
    quarantine: Option<BufWriter<File>>,
}

impl Sink {
    /// Counts an item and writes what it adds.
    fn item(&mut self, item: Item<BatchResult>) -> Result<()> {
        self.tracker.track(&item);
        match item {
            Item::Done(result) => self.result(result)?,
            Item::Quarantined(q) => {
                if let Some(file) = self.quarantine.as_mut() {
                    write_quarantined(file, &q)?;
                }
            }
            Item::Problem(p) => {
                if let Some(file) = self.quarantine.as_mut() {
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

    fn result(&mut self, result: BatchResult) -> Result<()> {
        self.tracker.progress.add_events(result.events);
        self.tracker
            .summary
            .events(result.events, result.out_of_range);
        for f in &result.flows {
            self.beacons.iter_mut().for_each(|b| b.add(f));
            self.probes.iter_mut().for_each(|p| p.add(f));
        }
        for r in &result.requests {
            self.probes.iter_mut().for_each(|p| p.add_request(r));
        }
        if let Some(triage) = self.triage.as_mut() {
            result
                .successes
                .into_iter()
                .for_each(|s| triage.logon_success(s));
        }
        for d in result.detections {
            let observed = self.correlator.observe(&d);
            let shown = std::iter::once(d).filter(|_| !observed.suppressed);
            for d in shown.chain(observed.fired) {
                self.detection(d)?;
            }
        }
        for q in &result.quarantined {
            self.tracker.summary.quarantined(q);
        }
        if let Some(file) = self.quarantine.as_mut() {
            result
                .quarantined
                .iter()
                .try_for_each(|q| write_quarantined(file, q))?;
        }
        Ok(())
    }

    /// Writes a detection, or hands it to triage and writes the alerts
    /// that are ready.
    fn detection(&mut self, d: Detection) -> Result<()> {
        let Some(triage) = self.triage.as_mut() else {
            return self.write(&d);
        };
        let mut ready = Vec::new();
        triage.add(d, &mut ready);
        ready.iter().try_for_each(|a| self.write(a))
    }

    fn write(&mut self, d: &Detection) -> Result<()> {
        self.tracker.summary.detection(d);
        let verdict = d.assessment.as_ref().map(|a| a.verdict);
        if self.only.is_none_or(|only| verdict == Some(only)) {
            self.writer.write(d)?;
        }
        Ok(())
    }

    /// Reports what is found at the end (beacons, probes), the alerts still
    /// waiting, and flushes.
    fn finish(&mut self) -> Result<()> {
        self.tracker.progress.finish();
        let beacons = self
            .beacons
            .take()
            .map(BeaconFinder::finish)
            .unwrap_or_default();
        for beacon in beacons {
            self.detection(beacon.detection())?;
        }
        if let Some(probes) = self.probes.take() {
            if probes.overflow() > 0 {
                eprintln!(
                    "gsoc: {} probe sources were not kept: at most {MAX_PROBE_SOURCES} are",
                    probes.overflow()
                );
            }
            probes
                .finish()
                .into_iter()
                .try_for_each(|d| self.detection(d))?;
        }
        let mut rest = Vec::new();
        if let Some(triage) = self.triage.as_mut() {
            triage.finish(&mut rest);
        }
        rest.iter().try_for_each(|a| self.write(a))?;
        self.writer.finish()?;
        if let Some(q) = self.quarantine.as_mut() {
            q.flush().context("cannot write the quarantine file")?;
        }
        if self.correlator.overflow() > 0 {
            eprintln!(
                "gsoc: {} correlation groups were not kept: each correlation keeps at most {} at a time",
                self.correlator.overflow(),
                gsoc_sigma::MAX_GROUPS
            );
        }
        Ok(())
    }
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

/// The rules and the indicators of one thread, reading each event's field
/// names once for both.
pub(crate) struct Matchers<'a> {
    rules: gsoc_sigma::Session<'a>,
    indicators: gsoc_intel::Session<'a>,
    names: Names,
}

impl<'a> Matchers<'a> {
    /// Sessions of the rules and the indicators for this thread.
    pub(crate) fn new(engine: &'a Engine, matcher: &'a Matcher) -> Self {
        Matchers {
            rules: engine.session(),
            indicators: matcher.session(),
            names: Names::new(),
        }
    }

    /// Adds what the rules and the indicators find in the event.
    fn detect(&mut self, event: &Event, detections: &mut Vec<Detection>) {
        let numbered = self.names.number(&event.fields);
        self.rules
            .detect_numbered(event, numbered, |d| detections.push(d));
        self.indicators
            .detect_numbered(event, numbered, &mut |d| detections.push(d));
    }
}

/// Decodes a batch and matches every event (the scan `gsoc bench` times).
pub(crate) fn detect_batch(
    matchers: &mut Matchers<'_>,
    batch: Batch,
    wanted: Wanted,
) -> BatchResult {
    let mut result = BatchResult::default();
    for decoded in batch.decode() {
        match decoded {
            Ok(event) => result.take(&event, matchers, wanted),
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
    matchers: &mut Matchers<'_>,
    wanted: Wanted,
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
                result.take(&event, matchers, wanted);
                if in_range(event.time, wanted.range.0, wanted.range.1) {
                    result
                        .detections
                        .extend(gsoc_mail::event::detection(&analysis, &event));
                }
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
