//! `gsoc intel`: the indicator store: import, list, export, remove.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use gsoc_intel::{
    ImportOptions, Indicator, Item, Kind, Merged, Report, Selection, SourceFormat, Store, Tlp,
    import_paths,
};
use jiff::Timestamp;
use serde_json::json;

use crate::locale::Lang;
use crate::output::{OutputFormat, fit};

/// Indicator store commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import indicators from STIX 2.1, MISP, CSV feeds and plain lists.
    #[command(
        after_help = "Formats are recognised from the content: STIX 2.1 bundles or objects \
(also a python-stix2 FileSystemStore folder), MISP events or a MISP feed folder (manifest.json \
and event files), CSV feeds (abuse.ch, value,type), and plain lists with one value per line \
(maltrail; types inferred). Importing the same file again updates instead of duplicating.\n\n\
Examples:\n  gsoc intel import feeds/ipblocklist.csv --source feodo --tlp clear\n  \
gsoc intel import maltrail/trails/static/ --source maltrail\n  gsoc intel import report.json misp-feed/"
    )]
    Import(ImportArgs),
    /// List stored indicators.
    #[command(
        after_help = "Examples:\n  gsoc intel list --type domain --source maltrail\n  \
gsoc intel list --format jsonl > indicators.jsonl"
    )]
    List(ListArgs),
    /// Export stored indicators as a STIX 2.1 bundle or a MISP event.
    #[command(
        after_help = "Indicators that came as STIX objects or MISP attributes are written \
back as they came (same ids, patterns, markings and validity); the rest become new STIX indicators \
or MISP attributes.\n\nExamples:\n  gsoc intel export --format stix -o bundle.json\n  \
gsoc intel export --format misp --source feodo --info 'Feodo C2 for partners'"
    )]
    Export(ExportArgs),
    /// Remove stored indicators.
    #[command(
        after_help = "Examples:\n  gsoc intel remove --source maltrail\n  gsoc intel remove --all"
    )]
    Remove(RemoveArgs),
}

/// `--input-format` of `gsoc intel import`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum IntelFormat {
    /// STIX 2.1 JSON.
    Stix,
    /// MISP event JSON.
    Misp,
    /// A CSV feed.
    Csv,
    /// One value per line.
    List,
}

impl From<IntelFormat> for SourceFormat {
    fn from(format: IntelFormat) -> Self {
        match format {
            IntelFormat::Stix => SourceFormat::Stix,
            IntelFormat::Misp => SourceFormat::Misp,
            IntelFormat::Csv => SourceFormat::Csv,
            IntelFormat::List => SourceFormat::List,
        }
    }
}

/// What to label imported indicators with (shared by `intel import` and
/// `detect --intel`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LabelArgs {
    /// The source name to record (default: the folder's or file's name).
    #[arg(long, value_name = "NAME")]
    source: Option<String>,

    /// TLP level for indicators that come without one: clear, green,
    /// amber, amber+strict, red.
    #[arg(long, value_name = "LEVEL")]
    tlp: Option<Tlp>,

    /// Confidence (0-100) for indicators that come without one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    confidence: Option<u8>,

    /// Read every file as this format instead of recognising it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    intel_format: Option<IntelFormat>,
}

impl LabelArgs {
    /// Import options from the flags.
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            source: self.source.clone(),
            tlp: self.tlp,
            confidence: self.confidence,
            format: self.intel_format.map(Into::into),
        }
    }
}

/// Flags of `gsoc intel import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Files or folders to import (folders are read recursively; gzip is
    /// read transparently).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    labels: LabelArgs,

    /// Check and count without changing the store.
    #[arg(long)]
    dry_run: bool,

    /// Report format: table (default on a terminal) or jsonl (one object).
    #[arg(long, short = 'f', value_enum)]
    format: Option<OutputFormat>,
}

/// Which indicators (shared by list, export and remove).
#[derive(clap::Args, Debug, Clone)]
struct SelectArgs {
    /// Only this type (repeatable): ipv4, ipv6, cidr, domain, url, email,
    /// md5, sha1, sha256, sha512, imphash, ja3, user-agent.
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    kinds: Vec<Kind>,

    /// Only from this source (repeatable).
    #[arg(long = "source", value_name = "NAME")]
    sources: Vec<String>,

    /// Only this indicator id (repeatable).
    #[arg(long = "id", value_name = "ID")]
    ids: Vec<String>,

    /// Also observables and indicators not meant for detection (MISP
    /// to_ids false, STIX cyber-observables).
    #[arg(long)]
    include_observables: bool,
}

impl SelectArgs {
    fn selection(&self) -> Selection {
        Selection {
            kinds: self.kinds.clone(),
            sources: self.sources.clone(),
            ids: self.ids.clone(),
            include_observables: self.include_observables,
        }
    }
}

/// Flags of `gsoc intel list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    select: SelectArgs,

    /// Output format: table (default on a terminal), jsonl or csv.
    #[arg(long, short = 'f', value_enum)]
    format: Option<OutputFormat>,

    /// Show at most this many.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

/// `--format` of `gsoc intel export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ExportFormat {
    /// A STIX 2.1 bundle.
    Stix,
    /// A MISP event.
    Misp,
}

/// Flags of `gsoc intel export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The format to write.
    #[arg(long, short = 'f', value_enum)]
    format: ExportFormat,

    #[command(flatten)]
    select: SelectArgs,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// The MISP event's title.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "Indicators exported by gsoc"
    )]
    info: String,
}

/// Flags of `gsoc intel remove`.
#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    #[command(flatten)]
    select: SelectArgs,

    /// Remove every indicator (needed when no --type, --source or --id is
    /// given).
    #[arg(long)]
    all: bool,
}

/// Runs an intel command.
pub fn run(command: Command, data_dir: &Path, lang: Lang) -> Result<()> {
    match command {
        Command::Import(args) => import(args, data_dir, lang),
        Command::List(args) => list(args, data_dir, lang),
        Command::Export(args) => export(args, data_dir),
        Command::Remove(args) => remove(args, data_dir, lang),
    }
}

fn open(data_dir: &Path) -> Result<Store> {
    Store::open(data_dir).context("cannot open the indicator store")
}

fn import(args: ImportArgs, data_dir: &Path, lang: Lang) -> Result<()> {
    let mut store = open(data_dir)?;
    let now = Timestamp::now();
    let mut merged = Merged::default();
    let report = import_paths(&args.paths, &args.labels.options(), &mut |item: Item| {
        store.add(item, now, &mut merged)
    });
    if !args.dry_run {
        store.save().context("cannot write the indicator store")?;
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        gsoc_intel::audit(
            data_dir,
            "intel.import",
            json!({"paths": paths, "added": merged.added, "updated": merged.updated,
                   "errors": report.errors.len()}),
        )?;
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    match OutputFormat::resolve(args.format) {
        OutputFormat::Table => print_report(&mut out, &report, &merged, args.dry_run, lang)?,
        _ => {
            let line = json!({
                "files": report.files,
                "indicators": report.indicators(),
                "added": merged.added, "updated": merged.updated, "kept": merged.kept,
                "observables": report.observables,
                "by_type": report.by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
                "by_source": report.by_source,
                "objects": report.objects,
                "skipped": report.skipped,
                "errors": report.errors,
                "notes": report.notes,
                "dry_run": args.dry_run,
            });
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// How many problems of each kind the table shows.
const SHOWN_PROBLEMS: usize = 20;

fn print_report(
    out: &mut dyn Write,
    report: &Report,
    merged: &Merged,
    dry_run: bool,
    lang: Lang,
) -> Result<()> {
    let n = |v: usize| group(v as u64);
    writeln!(
        out,
        "{} {}{}: {} {} ({} {}, {} {}), {} {}",
        n(report.files),
        lang.pick("files read", "ファイルを読み込み"),
        if dry_run {
            lang.pick(
                " (dry run, store unchanged)",
                " (試行のみ、ストアは変更なし)",
            )
        } else {
            ""
        },
        n(report.indicators()),
        lang.pick("indicators", "件の指標"),
        n(merged.added),
        lang.pick("new", "件新規"),
        n(merged.updated),
        lang.pick("updated", "件更新"),
        n(report.observables),
        lang.pick(
            "observables not meant for detection",
            "件の検知対象外の観測値"
        ),
    )?;
    let section = |out: &mut dyn Write, title: &str, rows: Vec<(String, usize)>| -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n{title}")?;
        for (name, count) in rows {
            writeln!(out, "  {} {:>10}", fit(&name, 60, false), n(count))?;
        }
        Ok(())
    };
    section(
        out,
        lang.pick("By type", "種類別"),
        report
            .by_kind
            .iter()
            .map(|(k, c)| (k.to_string(), *c))
            .collect(),
    )?;
    section(
        out,
        lang.pick("By source", "提供元別"),
        report
            .by_source
            .iter()
            .map(|(s, c)| (s.clone(), *c))
            .collect(),
    )?;
    section(
        out,
        lang.pick(
            "Context objects kept (STIX)",
            "保持したコンテキストオブジェクト (STIX)",
        ),
        report
            .objects
            .iter()
            .map(|(s, c)| (s.clone(), *c))
            .collect(),
    )?;
    section(
        out,
        lang.pick("Not indicators (skipped)", "指標ではないもの (スキップ)"),
        report
            .skipped
            .iter()
            .map(|(s, c)| (s.clone(), *c))
            .collect(),
    )?;
    for (title, problems) in [
        (
            lang.pick("Not imported", "取り込めなかったもの"),
            &report.errors,
        ),
        (
            lang.pick("Imported in part", "一部のみ取り込んだもの"),
            &report.notes,
        ),
    ] {
        if problems.is_empty() {
            continue;
        }
        writeln!(out, "\n{title} ({})", n(problems.len()))?;
        for p in problems.iter().take(SHOWN_PROBLEMS) {
            writeln!(out, "  {} {}: {}", p.file, p.place, p.reason)?;
        }
        if problems.len() > SHOWN_PROBLEMS {
            writeln!(
                out,
                "  … {}",
                lang.pick(
                    "(--format jsonl lists them all)",
                    "(--format jsonl で全件を表示)"
                )
            )?;
        }
    }
    Ok(())
}

/// A number with thousands separators.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn list(args: ListArgs, data_dir: &Path, lang: Lang) -> Result<()> {
    let store = open(data_dir)?;
    let selected = store.select(&args.select.selection());
    let shown = &selected[..selected.len().min(args.limit.unwrap_or(usize::MAX))];
    let mut out = BufWriter::new(std::io::stdout().lock());
    match OutputFormat::resolve(args.format) {
        OutputFormat::Jsonl => {
            for indicator in shown {
                let mut value = serde_json::to_value(indicator)?;
                if let Some(map) = value.as_object_mut() {
                    map.remove("stix");
                    map.remove("misp");
                }
                writeln!(out, "{value}")?;
            }
        }
        OutputFormat::Csv => write_csv(&mut out, shown)?,
        OutputFormat::Table => write_table(&mut out, shown, selected.len(), lang)?,
    }
    out.flush()?;
    Ok(())
}

fn tlp_text(indicator: &Indicator) -> String {
    indicator.tlp.map(|t| t.to_string()).unwrap_or_default()
}

fn write_csv(out: &mut dyn Write, indicators: &[&Indicator]) -> Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "id",
        "type",
        "value",
        "source",
        "detect",
        "tlp",
        "confidence",
        "valid_from",
        "valid_until",
        "malware",
        "labels",
    ])?;
    for i in indicators {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        writer.write_record([
            i.id.as_str(),
            i.kind.as_str(),
            &i.value,
            &i.source,
            if i.detect { "true" } else { "false" },
            &tlp_text(i),
            &i.confidence.map(|c| c.to_string()).unwrap_or_default(),
            &time(i.valid_from),
            &time(i.valid_until),
            &i.malware.join(" "),
            &i.labels.join(" "),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

fn write_table(out: &mut dyn Write, shown: &[&Indicator], total: usize, lang: Lang) -> Result<()> {
    if shown.is_empty() {
        writeln!(
            out,
            "{}",
            lang.pick(
                "No indicators. Import some with `gsoc intel import PATH`.",
                "指標がありません。`gsoc intel import PATH` で取り込んでください。"
            )
        )?;
        return Ok(());
    }
    let header = [
        (lang.pick("Type", "種類"), 10),
        (lang.pick("Value", "値"), 48),
        (lang.pick("Source", "提供元"), 18),
        ("TLP", 16),
        (lang.pick("Conf.", "確度"), 5),
        (lang.pick("Valid until", "有効期限"), 23),
        (lang.pick("Malware / labels", "マルウェア / ラベル"), 30),
    ];
    let line = |cells: Vec<(String, usize)>| -> String {
        let last = cells.len() - 1;
        cells
            .into_iter()
            .enumerate()
            .map(|(i, (text, width))| fit(&text, width, i == last))
            .collect::<Vec<_>>()
            .join(" │ ")
    };
    writeln!(
        out,
        "{}",
        line(header.iter().map(|(t, w)| (t.to_string(), *w)).collect())
    )?;
    for i in shown {
        let about = if i.malware.is_empty() {
            i.labels.join(", ")
        } else {
            i.malware.join(", ")
        };
        let cells = vec![
            (i.kind.to_string(), 10),
            (i.value.clone(), 48),
            (i.source.to_string(), 18),
            (tlp_text(i), 16),
            (i.confidence.map(|c| c.to_string()).unwrap_or_default(), 5),
            (lang.format_time(i.valid_until), 23),
            (about, 30),
        ];
        writeln!(out, "{}", line(cells).trim_end())?;
    }
    if shown.len() < total {
        writeln!(
            out,
            "… {} / {}",
            group(shown.len() as u64),
            group(total as u64)
        )?;
    }
    Ok(())
}

fn export(args: ExportArgs, data_dir: &Path) -> Result<()> {
    let store = open(data_dir)?;
    let selected = store.select(&args.select.selection());
    let now = Timestamp::now();
    let document = match args.format {
        ExportFormat::Stix => gsoc_intel::stix::export(&selected, &store.objects, now),
        ExportFormat::Misp => gsoc_intel::misp::export(&selected, &args.info, now),
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut out = out;
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    out.flush()?;
    eprintln!("gsoc: exported {} indicators", group(selected.len() as u64));
    Ok(())
}

fn remove(args: RemoveArgs, data_dir: &Path, lang: Lang) -> Result<()> {
    let selection = args.select.selection();
    if !selection.is_narrowed() && !args.all {
        bail!("say which indicators to remove (--type, --source or --id), or --all for every one");
    }
    let mut store = open(data_dir)?;
    let selection = Selection {
        include_observables: true,
        ..selection
    };
    let removed = store.remove(&selection);
    store.save().context("cannot write the indicator store")?;
    gsoc_intel::audit(
        data_dir,
        "intel.remove",
        json!({"types": args.select.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
               "sources": args.select.sources, "ids": args.select.ids, "removed": removed}),
    )?;
    println!(
        "{} {}",
        group(removed as u64),
        lang.pick("indicators removed", "件の指標を削除しました")
    );
    Ok(())
}
