//! Writers for detections and events: a table for people, JSON lines for
//! machines, CSV for spreadsheets. All stream; none holds more than a row.

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};
use clap::ValueEnum;
use gsoc_event::{Assessment, Detection, Event, Level, Verdict};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::locale::{Lang, Phrase, Phrases};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people (the default on a terminal).
    Table,
    /// One JSON object per line (the default when piped).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

impl OutputFormat {
    /// The format given, else `table` on a terminal and `jsonl` otherwise.
    pub fn resolve(given: Option<OutputFormat>) -> OutputFormat {
        given.unwrap_or_else(|| {
            if io::IsTerminal::is_terminal(&io::stdout()) {
                OutputFormat::Table
            } else {
                OutputFormat::Jsonl
            }
        })
    }
}

/// Something detections can be written to.
pub trait DetectionWriter {
    /// Writes one detection.
    fn write(&mut self, detection: &Detection) -> io::Result<()>;
    /// Flushes what is buffered.
    fn finish(&mut self) -> io::Result<()>;
}

/// Creates the writer for a format.
pub fn detection_writer(
    format: OutputFormat,
    lang: Lang,
    out: Box<dyn Write>,
    color: bool,
) -> Box<dyn DetectionWriter> {
    match format {
        OutputFormat::Jsonl => Box::new(JsonLines { out }),
        OutputFormat::Csv => Box::new(CsvDetections {
            out: csv::Writer::from_writer(out),
            header: false,
            triaged: false,
        }),
        OutputFormat::Table => Box::new(Table::new(out, lang, color)),
    }
}

struct JsonLines {
    out: Box<dyn Write>,
}

impl DetectionWriter for JsonLines {
    fn write(&mut self, detection: &Detection) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, detection)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct CsvDetections {
    out: csv::Writer<Box<dyn Write>>,
    header: bool,
    /// Whether the alerts carry triage columns (decided by the first).
    triaged: bool,
}

impl DetectionWriter for CsvDetections {
    fn write(&mut self, d: &Detection) -> io::Result<()> {
        if !self.header {
            let mut header = vec![
                "event_time",
                "level",
                "rule_title",
                "rule_id",
                "rule_author",
                "tags",
                "host",
                "file",
                "record",
                "fields",
            ];
            self.triaged = d.assessment.is_some();
            if self.triaged {
                header.extend(["category", "verdict", "reason_code", "reason", "severity"]);
            }
            self.out.write_record(header)?;
            self.header = true;
        }
        let time = d.event_time.map(|t| t.to_string()).unwrap_or_default();
        let mut record = vec![
            time,
            d.rule.level.as_str().to_owned(),
            d.rule.title.clone(),
            d.rule.id.clone(),
            d.rule.author.clone(),
            d.rule.tags.join(" "),
            d.host.clone().unwrap_or_default(),
            d.source.file.to_string(),
            d.source.record.to_string(),
            fields_text(d),
        ];
        if self.triaged
            && let Some(a) = &d.assessment
        {
            record.extend([
                a.category.to_owned(),
                a.verdict.as_str().to_owned(),
                a.reason.code.to_owned(),
                a.reason.text.clone(),
                a.severity.as_str().to_owned(),
            ]);
        }
        self.out.write_record(record)?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn fields_text(d: &Detection) -> String {
    d.fields
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(" ¦ ")
}

/// Column widths of the table, in terminal cells.
const TIME: usize = 23;
const LEVEL: usize = 13;
const RULE: usize = 46;
const HOST: usize = 18;
const AUTHOR: usize = 26;

struct Table {
    out: Box<dyn Write>,
    lang: Lang,
    color: bool,
    details: usize,
    header: bool,
}

impl Table {
    fn new(out: Box<dyn Write>, lang: Lang, color: bool) -> Table {
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(200usize);
        Table {
            out,
            lang,
            color,
            details: columns
                .saturating_sub(TIME + LEVEL + RULE + HOST + AUTHOR + 15)
                .max(30),
            header: false,
        }
    }

    fn row(&mut self, cells: [(&str, usize, Style); 6]) -> io::Result<()> {
        let mut line = String::new();
        for (i, (text, width, style)) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str(" │ ");
            }
            let cell = fit(text, *width, i == cells.len() - 1);
            if self.color && *style != Style::new() {
                line.push_str(&format!("{}{cell}{}", style.render(), style.render_reset()));
            } else {
                line.push_str(&cell);
            }
        }
        writeln!(self.out, "{}", line.trim_end())
    }
}

impl DetectionWriter for Table {
    fn write(&mut self, d: &Detection) -> io::Result<()> {
        let lang = self.lang;
        if !self.header {
            let bold = Style::new().effects(Effects::BOLD);
            self.row([
                (lang.text(Phrase::Time), TIME, bold),
                (lang.text(Phrase::LevelHeader), LEVEL, bold),
                (lang.text(Phrase::Rule), RULE, bold),
                (lang.text(Phrase::Host), HOST, bold),
                (lang.text(Phrase::Author), AUTHOR, bold),
                (lang.text(Phrase::Details), self.details, bold),
            ])?;
            self.header = true;
        }
        let time = lang.format_time(d.event_time);
        let details = match &d.assessment {
            Some(a) => format!(
                "[{}] {} ¦ {}",
                verdict_text(a, lang),
                a.reason.text,
                fields_text(d)
            ),
            None => fields_text(d),
        };
        let level = d.assessment.as_ref().map_or(d.rule.level, |a| a.severity);
        let width = self.details;
        self.row([
            (&time, TIME, Style::new()),
            (lang.level(level), LEVEL, level_style(level)),
            (&d.rule.title, RULE, Style::new()),
            (d.host.as_deref().unwrap_or("-"), HOST, Style::new()),
            (&d.rule.author, AUTHOR, Style::new()),
            (&details, width, Style::new()),
        ])
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.header {
            writeln!(self.out, "{}", self.lang.text(Phrase::NoDetections))?;
        }
        self.out.flush()
    }
}

/// `vigilance/targeted-attack` or `noise/reconnaissance`, in the reader's
/// language.
fn verdict_text(a: &Assessment, lang: Lang) -> String {
    let verdict = match a.verdict {
        Verdict::Vigilance => lang.pick("vigilance", "要警戒"),
        Verdict::Noise => lang.pick("noise", "ノイズ"),
    };
    format!("{verdict}/{}", a.category)
}

/// The colour of a level.
pub fn level_style(level: Level) -> Style {
    match level {
        Level::Critical => AnsiColor::Red.on_default().effects(Effects::BOLD),
        Level::High => AnsiColor::Red.on_default(),
        Level::Medium => AnsiColor::Yellow.on_default(),
        Level::Low => AnsiColor::Green.on_default(),
        Level::Informational => Style::new().effects(Effects::DIMMED),
    }
}

/// Pads or cuts text to `width` terminal cells (wide characters count two),
/// on one line. The last column is cut but not padded.
pub fn fit(text: &str, width: usize, last: bool) -> String {
    let mut out = String::with_capacity(width + 4);
    let mut used = 0;
    let total = UnicodeWidthStr::width(text);
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        let w = c.width().unwrap_or(0);
        if total > width && used + w + 1 > width {
            out.push('…');
            used += 1;
            break;
        }
        if used + w > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if !last {
        out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    }
    out
}

/// Something decoded events can be written to (`gsoc decode`).
pub trait EventWriter {
    /// Writes one event.
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// Flushes what is buffered.
    fn finish(&mut self) -> io::Result<()>;
}

/// Creates the event writer for a format.
pub fn event_writer(format: OutputFormat, lang: Lang, out: Box<dyn Write>) -> Box<dyn EventWriter> {
    match format {
        OutputFormat::Jsonl => Box::new(EventJson { out }),
        OutputFormat::Csv => Box::new(EventCsv {
            out: csv::Writer::from_writer(out),
            header: false,
        }),
        OutputFormat::Table => Box::new(EventTable { out, lang }),
    }
}

struct EventJson {
    out: Box<dyn Write>,
}

impl EventWriter for EventJson {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct EventCsv {
    out: csv::Writer<Box<dyn Write>>,
    header: bool,
}

impl EventWriter for EventCsv {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        if !self.header {
            self.out
                .write_record(["time", "format", "file", "record", "host", "fields"])?;
            self.header = true;
        }
        let fields = event
            .fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(" ¦ ");
        self.out.write_record([
            event
                .time
                .map(|t| t.to_string())
                .unwrap_or_default()
                .as_str(),
            event.format.as_str(),
            &event.source.file,
            &event.source.record.to_string(),
            event.host().unwrap_or_default(),
            &fields,
        ])?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct EventTable {
    out: Box<dyn Write>,
    lang: Lang,
}

impl EventWriter for EventTable {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        writeln!(
            self.out,
            "{} {}:{} [{}]",
            self.lang.format_time(event.time),
            event.source.file,
            event.source.record,
            event.format
        )?;
        for (name, value) in event.fields.iter() {
            writeln!(
                self.out,
                "    {} = {}",
                fit(name, 32, false),
                fit(&value.to_text(), 160, true)
            )?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_counts_wide_characters() {
        assert_eq!(fit("abc", 5, false), "abc  ");
        assert_eq!(fit("日本語", 6, false), "日本語");
        assert_eq!(
            UnicodeWidthStr::width(fit("日本語テキスト", 7, false).as_str()),
            7
        );
        assert_eq!(fit("abcdefgh", 5, true), "abcd…");
        assert_eq!(fit("a\tb", 5, true), "a b");
    }
}
