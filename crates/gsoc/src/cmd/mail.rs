//! `gsoc mail`: suspicious e-mail: analyse messages, count them by fiscal
//! year and month, and receive them over SMTP/LMTP.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use gsoc_mail::dkim::DkimVerifier;
use gsoc_mail::source::{self, RawMessage};
use gsoc_mail::stats::Stats;
use gsoc_mail::{Analysis, Broken, Class, Protected, Settings, analyse};
use jiff::Timestamp;
use serde_json::json;

use crate::locale::Lang;
use crate::output::{OutputFormat, fit};
use crate::progress::Progress;

/// E-mail commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse messages (.eml, mbox, Maildir) and classify each one.
    #[command(
        after_help = "Each message is classed as attachment, url, phishing, bec, spam or \
benign, with a score from 0 to 100 and the reasons for it. Attachments are judged by their bytes \
(macros, encrypted archives, shortcuts, disk images, scripts, executables, HTML smuggling, PDF \
actions and links), links by where they lead, senders by authentication and impersonation.\n\n\
Examples:\n  gsoc mail analyze suspicious/\n  gsoc mail analyze inbox.mbox --format jsonl > mail.jsonl\n  \
gsoc mail analyze reported/ --to-intel --protected protected.toml"
    )]
    Analyze(AnalyzeArgs),
    /// Count suspicious mail by fiscal year (April to March) and month, by class.
    #[command(
        after_help = "Without paths, counts what `gsoc mail listen` has received into \
the data directory. Months are those of the Date header in Japan (Asia/Tokyo).\n\n\
Examples:\n  gsoc mail stats\n  gsoc mail stats archive/2024/ --format csv"
    )]
    Stats(StatsArgs),
    /// Receive messages over SMTP or LMTP, store and analyse each one.
    #[command(
        after_help = "Point the mail gateway's copy (BCC or journal) of suspicious mail \
at this address. Each message is stored as <data-dir>/mail/inbox/<time>-<n>.eml and its analysis \
appended to <data-dir>/mail/analyses.jsonl; a message that cannot be stored is refused with a \
temporary error so the gateway retries it.\n\nExamples:\n  gsoc mail listen --listen 127.0.0.1:2525\n  \
gsoc mail listen --listen 0.0.0.0:24 --lmtp"
    )]
    Listen(ListenArgs),
}

/// What `gsoc mail analyze` and `gsoc mail stats` read.
#[derive(Debug, ClapArgs)]
struct Input {
    /// Message files (.eml), mbox files and folders (walked; Maildir's
    /// cur/new are read, tmp is not).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    judging: Judging,
}

/// How messages are judged.
#[derive(Debug, ClapArgs)]
struct Judging {
    /// A TOML file of names and domains to protect from impersonation
    /// (`names = [...]`, `domains = [...]`, paired by position), added to
    /// the built-in list of brands phishing imitates.
    #[arg(long, value_name = "FILE")]
    protected: Option<PathBuf>,

    /// Verify DKIM signatures, looking the signers' keys up in DNS (without
    /// it, the results the receiving server recorded are read).
    #[arg(long)]
    verify_dkim: bool,

    /// A signer's key given beforehand, as its DNS name and TXT record:
    /// `SELECTOR._domainkey.DOMAIN=v=DKIM1; k=rsa; p=…` (repeatable;
    /// implies --verify-dkim; other keys are still looked up).
    #[arg(long, value_name = "NAME=RECORD")]
    dkim_key: Vec<String>,
}

/// `gsoc mail analyze`.
#[derive(Debug, ClapArgs)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    input: Input,

    /// Output format: `table` on a terminal, else `jsonl` (one object per
    /// message: source, class, score, reasons, indicators, headers, links,
    /// attachments).
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,

    /// Store the indicators of every suspicious message (its links and
    /// their domains, the sender, the attachments' hashes) in the indicator
    /// store, source `gsoc-mail`, so that `gsoc detect` finds them in logs.
    #[arg(long)]
    to_intel: bool,

    /// Write the messages that could not be analysed, one JSON object per
    /// line with the reason, to this file.
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
}

/// `gsoc mail stats`.
#[derive(Debug, ClapArgs)]
pub struct StatsArgs {
    #[command(flatten)]
    input: Input,

    /// Output format: `table` (with bars) on a terminal, else `jsonl`.
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
}

/// `gsoc mail listen`.
#[derive(Debug, ClapArgs)]
pub struct ListenArgs {
    /// The address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:2525")]
    listen: String,

    /// Speak LMTP (LHLO, one reply per recipient) instead of SMTP.
    #[arg(long)]
    lmtp: bool,

    #[command(flatten)]
    judging: Judging,
}

/// Runs a mail command.
pub fn run(command: Command, data_dir: &Path, lang: Lang) -> Result<()> {
    match command {
        Command::Analyze(args) => analyze(args, data_dir, lang),
        Command::Stats(args) => stats(args, data_dir, lang),
        Command::Listen(args) => listen(args, data_dir),
    }
}

fn settings(judging: &Judging) -> Result<Settings> {
    let protected = match &judging.protected {
        Some(path) => Protected::well_known_and(path)
            .context("fix the file (names = [\"Org\"], domains = [\"org.example\"]) or leave out --protected")?,
        None => Protected::well_known(),
    };
    let dkim = if judging.verify_dkim || !judging.dkim_key.is_empty() {
        let verifier = DkimVerifier::system().map_err(anyhow::Error::msg)?;
        for given in &judging.dkim_key {
            add_dkim_key(&verifier, given)?;
        }
        Some(Arc::new(verifier))
    } else {
        None
    };
    Ok(Settings { protected, dkim })
}

/// Adds a `SELECTOR._domainkey.DOMAIN=RECORD` key to the verifier.
fn add_dkim_key(verifier: &DkimVerifier, given: &str) -> Result<()> {
    let help = "give it as SELECTOR._domainkey.DOMAIN=v=DKIM1; k=...; p=...";
    let (name, record) = given
        .split_once('=')
        .with_context(|| format!("--dkim-key '{given}' has no '='; {help}"))?;
    let (selector, domain) = name.split_once("._domainkey.").with_context(|| {
        format!("--dkim-key name '{name}' is not SELECTOR._domainkey.DOMAIN; {help}")
    })?;
    verifier
        .add_key(selector, domain, record)
        .map_err(|e| anyhow::anyhow!("--dkim-key {name}: {e}; {help}"))
}

/// Analyses every message under the paths, calling `each` in order; reports
/// unreadable files and broken messages on stderr and returns them.
fn analyse_all(
    paths: &[PathBuf],
    settings: &Settings,
    each: &mut dyn FnMut(Result<Analysis, Broken>) -> Result<()>,
) -> Result<()> {
    if paths.is_empty() {
        bail!(
            "give message files, mbox files or folders of them, e.g. `gsoc mail analyze reported/`"
        );
    }
    let (files, problems) = source::message_files(paths);
    for problem in &problems {
        eprintln!("gsoc: {problem}; it is skipped");
    }
    if files.is_empty() {
        bail!(
            "no message files under {}; give .eml or mbox files or folders of them",
            show_paths(paths)
        );
    }
    let mut progress = Progress::counting(files.len(), false, "messages");
    for file in &files {
        progress.file_start(&file.to_string_lossy());
        match source::read_file(file) {
            Ok(messages) => {
                progress.add_events(messages.len() as u64);
                for message in &messages {
                    each(analyse(message, settings))?;
                }
            }
            Err(e) => eprintln!("gsoc: {e}; the file is skipped"),
        }
        progress.file_done();
    }
    progress.finish();
    Ok(())
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn analyze(args: AnalyzeArgs, data_dir: &Path, lang: Lang) -> Result<()> {
    let settings = settings(&args.input.judging)?;
    let format = OutputFormat::resolve(args.format);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut quarantine = args
        .quarantine
        .as_deref()
        .map(|p| {
            File::create(p)
                .map(BufWriter::new)
                .with_context(|| format!("cannot create {}", p.display()))
        })
        .transpose()?;
    let mut csv = (format == OutputFormat::Csv).then(csv_writer);
    if format == OutputFormat::Table {
        write_table_header(&mut out, lang)?;
    }
    let mut counts = gsoc_mail::stats::Counts::default();
    let mut broken = 0usize;
    let mut indicators = Vec::new();
    analyse_all(&args.input.paths, &settings, &mut |result| {
        match result {
            Ok(analysis) => {
                counts.add(analysis.class);
                if args.to_intel && analysis.class != Class::Benign {
                    indicators.extend(gsoc_detect::mail_indicators(&analysis));
                }
                match (&mut csv, format) {
                    (Some(writer), _) => write_csv_row(writer, &analysis)?,
                    (None, OutputFormat::Jsonl) => {
                        writeln!(out, "{}", analysis_json(&analysis, lang))?
                    }
                    (None, _) => write_table_row(&mut out, &analysis, lang)?,
                }
            }
            Err(b) => {
                broken += 1;
                eprintln!("gsoc: {b}; the message is skipped");
                if let Some(q) = quarantine.as_mut() {
                    writeln!(q, "{}", serde_json::to_string(&b)?)?;
                }
            }
        }
        Ok(())
    })?;
    if let Some(writer) = csv {
        out.write_all(&writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
    }
    out.flush()?;
    if let Some(q) = quarantine.as_mut() {
        q.flush()?;
    }
    if args.to_intel {
        let merged = gsoc_intel::store_indicators(data_dir, indicators, "mail-indicators")
            .with_context(|| {
                format!(
                    "cannot add to the indicator store in {}",
                    data_dir.display()
                )
            })?;
        eprintln!(
            "gsoc: {} indicators added to the store, {} updated",
            merged.added, merged.updated
        );
    }
    print_summary(&counts, broken, lang);
    Ok(())
}

/// A message's analysis as a JSON line, with each reason's sentence in the
/// chosen language.
fn analysis_json(analysis: &Analysis, lang: Lang) -> serde_json::Value {
    let mut value = serde_json::to_value(analysis).unwrap_or_default();
    let reasons: Vec<serde_json::Value> = analysis
        .reasons
        .iter()
        .map(|r| json!({"code": r.code, "weight": r.weight, "detail": r.detail, "text": r.sentence(lang == Lang::Ja)}))
        .collect();
    value["reasons"] = json!(reasons);
    value
}

fn class_name(class: Class, lang: Lang) -> &'static str {
    match lang {
        Lang::En => class.as_str(),
        Lang::Ja => class.japanese(),
    }
}

fn write_table_header(out: &mut dyn Write, lang: Lang) -> Result<()> {
    writeln!(
        out,
        "{} {} {} {} {}",
        fit(lang.pick("Class", "分類"), 18, false),
        fit(lang.pick("Score", "点数"), 5, false),
        fit(lang.pick("From", "送信者"), 30, false),
        fit(lang.pick("Subject", "件名"), 36, false),
        lang.pick("Reasons", "理由")
    )?;
    Ok(())
}

fn write_table_row(out: &mut dyn Write, analysis: &Analysis, lang: Lang) -> Result<()> {
    let reasons: Vec<&str> = analysis.reasons.iter().map(|r| r.code).collect();
    writeln!(
        out,
        "{} {:>5} {} {} {}",
        fit(class_name(analysis.class, lang), 18, false),
        analysis.score,
        fit(&analysis.headers.from, 30, false),
        fit(&analysis.headers.subject, 36, false),
        fit(&reasons.join(", "), 60, true)
    )?;
    Ok(())
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record([
        "file",
        "message",
        "class",
        "score",
        "from",
        "subject",
        "date",
        "reasons",
        "indicators",
    ]);
    writer
}

fn write_csv_row(writer: &mut csv::Writer<Vec<u8>>, analysis: &Analysis) -> Result<()> {
    let reasons: Vec<&str> = analysis.reasons.iter().map(|r| r.code).collect();
    let indicators: Vec<String> = analysis
        .indicators
        .iter()
        .map(|i| format!("{}:{}", i.kind, i.value))
        .collect();
    writer.write_record([
        analysis.source.file.display().to_string(),
        analysis
            .source
            .message
            .map(|n| n.to_string())
            .unwrap_or_default(),
        analysis.class.as_str().to_owned(),
        analysis.score.to_string(),
        analysis.headers.from.clone(),
        analysis.headers.subject.clone(),
        analysis
            .headers
            .date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        reasons.join(" "),
        indicators.join(" "),
    ])?;
    Ok(())
}

fn print_summary(counts: &gsoc_mail::stats::Counts, broken: usize, lang: Lang) {
    let total: u64 = Class::ALL.iter().map(|c| counts.get(*c)).sum();
    eprintln!();
    eprintln!(
        "{} {total} ({} {}), {} {broken}",
        lang.pick("messages analysed:", "分析したメール:"),
        lang.pick("suspicious", "不審"),
        counts.suspicious(),
        lang.pick("could not be analysed:", "分析できなかったメール:"),
    );
    for class in Class::ALL {
        eprintln!(
            "  {} {}",
            fit(class_name(class, lang), 20, false),
            counts.get(class)
        );
    }
}

fn inbox(data_dir: &Path) -> PathBuf {
    data_dir.join("mail").join("inbox")
}

fn stats(args: StatsArgs, data_dir: &Path, lang: Lang) -> Result<()> {
    let settings = settings(&args.input.judging)?;
    let paths = if args.input.paths.is_empty() {
        let stored = inbox(data_dir);
        if !stored.is_dir() {
            bail!(
                "nothing received yet in {}; give message files or folders, or run `gsoc mail listen`",
                stored.display()
            );
        }
        vec![stored]
    } else {
        args.input.paths.clone()
    };
    let mut stats = Stats::default();
    analyse_all(&paths, &settings, &mut |result| {
        if let Ok(analysis) = result {
            stats.add(analysis.headers.date, analysis.class);
        }
        Ok(())
    })?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    match OutputFormat::resolve(args.format) {
        OutputFormat::Jsonl => write_stats_jsonl(&mut out, &stats)?,
        OutputFormat::Csv => write_stats_csv(&mut out, &stats)?,
        OutputFormat::Table => write_stats_table(&mut out, &stats, lang)?,
    }
    out.flush()?;
    Ok(())
}

const SUSPICIOUS_CLASSES: [Class; 5] = [
    Class::Attachment,
    Class::Url,
    Class::Phishing,
    Class::Bec,
    Class::Spam,
];

fn write_stats_jsonl(out: &mut dyn Write, stats: &Stats) -> Result<()> {
    for (month, counts) in &stats.months {
        writeln!(
            out,
            "{}",
            json!({"fiscal_year": month.fiscal_year, "month": format!("{}-{:02}", month.year, month.month), "counts": counts, "suspicious": counts.suspicious()})
        )?;
    }
    for (year, counts) in stats.fiscal_years() {
        writeln!(
            out,
            "{}",
            json!({"fiscal_year": year, "month": null, "counts": counts, "suspicious": counts.suspicious()})
        )?;
    }
    if stats.undated != Default::default() {
        writeln!(
            out,
            "{}",
            json!({"fiscal_year": null, "month": null, "undated": true, "counts": stats.undated})
        )?;
    }
    Ok(())
}

fn write_stats_csv(out: &mut dyn Write, stats: &Stats) -> Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec!["fiscal_year".to_owned(), "month".to_owned()];
    header.extend(Class::ALL.iter().map(|c| c.as_str().to_owned()));
    writer.write_record(&header)?;
    for (month, counts) in &stats.months {
        let mut row = vec![
            month.fiscal_year.to_string(),
            format!("{}-{:02}", month.year, month.month),
        ];
        row.extend(Class::ALL.iter().map(|c| counts.get(*c).to_string()));
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

/// The table, with a bar per month of suspicious mail drawn in one letter
/// per class (A attachment, U url, P phishing, B bec, S spam), so that the
/// shape of each month shows at a glance.
fn write_stats_table(out: &mut dyn Write, stats: &Stats, lang: Lang) -> Result<()> {
    let widest = stats
        .months
        .values()
        .map(|c| c.suspicious())
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: u64| ((n * 40).div_ceil(widest)) as usize;
    write!(
        out,
        "{} ",
        fit(lang.pick("FY / month", "年度 / 月"), 16, false)
    )?;
    for class in SUSPICIOUS_CLASSES {
        write!(out, "{} ", fit(class_name(class, lang), 12, false))?;
    }
    writeln!(out, "{}", lang.pick("total", "合計"))?;
    let years = stats.fiscal_years();
    let mut current = None;
    for (month, counts) in &stats.months {
        if current != Some(month.fiscal_year) {
            current = Some(month.fiscal_year);
            let total = years.get(&month.fiscal_year).copied().unwrap_or_default();
            let label = match lang {
                Lang::En => format!("FY{}", month.fiscal_year),
                Lang::Ja => format!("{}年度", month.fiscal_year),
            };
            write_counts(out, &label, &total, None)?;
        }
        let bar: String = SUSPICIOUS_CLASSES
            .iter()
            .map(|c| {
                let letter = c
                    .as_str()
                    .chars()
                    .next()
                    .unwrap_or('?')
                    .to_ascii_uppercase();
                std::iter::repeat_n(letter, scale(counts.get(*c))).collect::<String>()
            })
            .collect();
        write_counts(
            out,
            &format!("  {}-{:02}", month.year, month.month),
            counts,
            Some(&bar),
        )?;
    }
    if stats.undated.suspicious() > 0 {
        write_counts(out, lang.pick("undated", "日付なし"), &stats.undated, None)?;
    }
    writeln!(
        out,
        "{}",
        lang.pick(
            "bars: A attachment, U url, P phishing, B bec, S spam",
            "棒: A 添付ファイル型, U URL型, P フィッシング, B ビジネスメール詐欺, S 迷惑メール"
        )
    )?;
    Ok(())
}

fn write_counts(
    out: &mut dyn Write,
    label: &str,
    counts: &gsoc_mail::stats::Counts,
    bar: Option<&str>,
) -> Result<()> {
    write!(out, "{} ", fit(label, 16, false))?;
    for class in SUSPICIOUS_CLASSES {
        write!(out, "{:>12} ", counts.get(class))?;
    }
    writeln!(out, "{:>5} {}", counts.suspicious(), bar.unwrap_or(""))?;
    Ok(())
}

fn listen(args: ListenArgs, data_dir: &Path) -> Result<()> {
    let settings = settings(&args.judging)?;
    let inbox = inbox(data_dir);
    std::fs::create_dir_all(&inbox)
        .with_context(|| format!("cannot create {}", inbox.display()))?;
    let analyses_path = data_dir.join("mail").join("analyses.jsonl");
    let analyses = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&analyses_path)
        .with_context(|| format!("cannot open {}", analyses_path.display()))?;
    let listener = TcpListener::bind(&args.listen).with_context(|| {
        format!(
            "cannot listen on {}; is the port in use or privileged?",
            args.listen
        )
    })?;
    eprintln!(
        "gsoc: listening for {} on {}; messages go to {}",
        if args.lmtp { "LMTP" } else { "SMTP" },
        listener.local_addr()?,
        inbox.display()
    );
    let receiver = Receiver {
        inbox,
        settings,
        analyses: Mutex::new(BufWriter::new(analyses)),
        counter: Mutex::new(0),
    };
    let receiver = Arc::new(receiver);
    let handler: Arc<gsoc_mail::listen::Handler> = Arc::new(
        move |envelope: &gsoc_mail::listen::Envelope, bytes: &[u8]| {
            receiver.receive(envelope, bytes)
        },
    );
    gsoc_mail::listen::serve(listener, args.lmtp, handler).context("the listener stopped")
}

/// Stores and analyses what the listener receives.
struct Receiver {
    inbox: PathBuf,
    settings: Settings,
    analyses: Mutex<BufWriter<File>>,
    counter: Mutex<u64>,
}

impl Receiver {
    fn receive(
        &self,
        envelope: &gsoc_mail::listen::Envelope,
        bytes: &[u8],
    ) -> std::result::Result<(), String> {
        let n = {
            let mut counter = self
                .counter
                .lock()
                .map_err(|_| "internal error".to_owned())?;
            *counter += 1;
            *counter
        };
        let now = Timestamp::now();
        let name = format!("{}-{n}.eml", now.strftime("%Y%m%dT%H%M%S%.6fZ"));
        let path = self.inbox.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot store the message: {e}"))?;
        let raw = RawMessage {
            origin: source::Origin {
                file: path.clone(),
                message: None,
            },
            bytes: bytes.to_vec(),
        };
        let record = match analyse(&raw, &self.settings) {
            Ok(analysis) => {
                eprintln!(
                    "gsoc: {} {} from {} ({})",
                    analysis.class.as_str(),
                    analysis.score,
                    envelope.from,
                    path.display()
                );
                json!({"received": now, "envelope": {"from": envelope.from, "to": envelope.to, "helo": envelope.helo, "peer": envelope.peer}, "analysis": analysis})
            }
            Err(broken) => {
                eprintln!("gsoc: {broken}");
                json!({"received": now, "envelope": {"from": envelope.from, "to": envelope.to}, "broken": broken.reason})
            }
        };
        let mut analyses = self
            .analyses
            .lock()
            .map_err(|_| "internal error".to_owned())?;
        writeln!(analyses, "{record}")
            .and_then(|_| analyses.flush())
            .map_err(|e| format!("cannot record the analysis: {e}"))
    }
}
