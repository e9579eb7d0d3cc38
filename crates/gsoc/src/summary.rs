//! The summary `gsoc detect` prints on stderr at the end of a run.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gsoc_decode::{Problem, Quarantined};
use gsoc_detect::{Item, Tally};
use gsoc_event::{Detection, Format, Level, RuleInfo};
use gsoc_triage::Category;

use crate::locale::{Lang, Phrase, Phrases};
use crate::output::{fit, level_style};
use crate::progress::Progress;

const EXAMPLES: usize = 5;
const PROBLEM_EXAMPLES: usize = 10;

/// Counts gathered during a run.
pub struct Summary {
    lang: Lang,
    rules: usize,
    rules_rejected: usize,
    indicators: usize,
    files: u64,
    events: u64,
    out_of_range: u64,
    quarantined: u64,
    quarantine_examples: Vec<String>,
    problems: Vec<String>,
    problem_count: usize,
    by_level: [u64; 5],
    by_rule: HashMap<String, (Arc<RuleInfo>, u64)>,
    by_format: Vec<(Format, u64)>,
    alerts: Tally,
    scan_started: Instant,
}

/// Writes the alert statistics as the closing summary shows them: the
/// counts by category before and after noise removal, and noise by reason.
fn write_tally(tally: &Tally, out: &mut dyn Write, lang: Lang) -> std::io::Result<()> {
    let total = tally.total();
    if total == 0 {
        return Ok(());
    }
    let ja = lang == Lang::Ja;
    let (before, after) = (lang.pick("all", "全件"), lang.pick("vigilance", "要警戒"));
    writeln!(
        out,
        "\n{}",
        lang.pick(
            "Alerts by category, before and after noise removal",
            "分類別のアラート数 (ノイズ除去の前と後)"
        )
    )?;
    writeln!(
        out,
        "  {} {} {}",
        fit("", 30, false),
        right(before, 8),
        right(after, 10)
    )?;
    for category in Category::ALL {
        let n = tally.all.get(category.as_str()).copied().unwrap_or(0);
        let v = tally.vigilance.get(category.as_str()).copied().unwrap_or(0);
        if n > 0 {
            let label = fit(category.label(ja), 30, false);
            writeln!(out, "  {label} {n:>8} {v:>10}  {}", bar(v, total))?;
        }
    }
    let vigilant = tally.vigilant();
    let label = fit(lang.pick("total", "合計"), 30, false);
    writeln!(out, "  {label} {total:>8} {vigilant:>10}")?;
    let noise = tally.noisy();
    if noise == 0 {
        return Ok(());
    }
    writeln!(out, "\n{}", lang.pick("Noise by reason", "理由別のノイズ"))?;
    for (code, n) in &tally.noise {
        let label = fit(&format!("{} ({code})", reason_label(code, lang)), 40, false);
        writeln!(out, "  {label} {n:>8}  {}", bar(*n, noise))?;
    }
    Ok(())
}

/// Text right-aligned in `width` terminal cells.
fn right(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(unicode_width::UnicodeWidthStr::width(text));
    format!("{}{text}", " ".repeat(pad))
}

/// A name for a noise reason code.
fn reason_label(code: &str, lang: Lang) -> &'static str {
    match code {
        "blocked" => lang.pick("blocked by the sensor", "センサーが遮断"),
        "failed" => lang.pick("failed", "失敗"),
        "not-affected" => lang.pick("target not affected", "対象に影響なし"),
        "reconnaissance" => lang.pick("reconnaissance only", "偵察のみ"),
        "duplicate" => lang.pick("duplicate", "重複"),
        "suppressed" => lang.pick("suppressed by an analyst", "分析者が抑制"),
        _ => lang.pick("other", "その他"),
    }
}

/// The bookkeeping every file-reading command does besides its results:
/// the summary's counts and the progress bar.
pub struct Tracker {
    /// The counts for the closing summary.
    pub summary: Summary,
    /// The progress bar.
    pub progress: Progress,
}

impl Tracker {
    /// An input starts, read as `format`.
    pub fn input_start(&mut self, file: &str, format: Format) {
        self.summary.file_start(format);
        self.progress.file_start(file);
    }

    /// An input has been read to its end.
    pub fn input_end(&mut self) {
        self.summary.file_done();
        self.progress.file_done();
    }

    /// A record that could not be decoded.
    pub fn quarantined(&mut self, q: &Quarantined) {
        self.summary.quarantined(q);
    }

    /// An input that could not be read.
    pub fn problem(&mut self, p: &Problem) {
        self.summary.problem(p);
        self.progress.file_done();
    }

    /// Counts one pipeline item that is not a result (results are the
    /// caller's to count).
    pub fn track<R>(&mut self, item: &Item<R>) {
        match item {
            Item::Start { file, format } => self.input_start(file, *format),
            Item::Quarantined(q) => self.quarantined(q),
            Item::End => self.input_end(),
            Item::Problem(p) => self.problem(p),
            Item::Done(_) => {}
        }
    }
}

/// How long a run took and what it used.
struct Timing {
    total: Duration,
    scanning: Duration,
    peak_memory_mb: Option<f64>,
}

/// The process's peak resident memory, from /proc on Linux.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

impl Summary {
    /// Says how many indicators are matched.
    pub fn with_indicators(mut self, indicators: usize) -> Summary {
        self.indicators = indicators;
        self
    }

    /// An empty summary.
    pub fn new(lang: Lang, rules: usize, rules_rejected: usize) -> Summary {
        Summary {
            lang,
            rules,
            rules_rejected,
            indicators: 0,
            files: 0,
            events: 0,
            out_of_range: 0,
            quarantined: 0,
            quarantine_examples: Vec::new(),
            problems: Vec::new(),
            problem_count: 0,
            by_level: [0; 5],
            by_rule: HashMap::new(),
            by_format: Vec::new(),
            alerts: Tally::default(),
            scan_started: Instant::now(),
        }
    }

    /// Counts decoded events.
    pub fn events(&mut self, events: u64, out_of_range: u64) {
        self.events += events;
        self.out_of_range += out_of_range;
    }

    /// Notes the format an input was read as.
    pub fn file_start(&mut self, format: Format) {
        match self.by_format.iter_mut().find(|(f, _)| *f == format) {
            Some((_, n)) => *n += 1,
            None => self.by_format.push((format, 1)),
        }
    }

    /// Counts a finished input.
    pub fn file_done(&mut self) {
        self.files += 1;
    }

    /// Counts a detection.
    pub fn detection(&mut self, d: &Detection) {
        self.by_level[d.rule.level as usize] += 1;
        self.by_rule
            .entry(d.rule.id.clone())
            .or_insert_with(|| (Arc::clone(&d.rule), 0))
            .1 += 1;
        if let Some(a) = &d.assessment {
            self.alerts.add(a);
        }
    }

    /// Counts a record that failed to decode.
    pub fn quarantined(&mut self, q: &Quarantined) {
        self.quarantined += 1;
        if self.quarantine_examples.len() < EXAMPLES {
            self.quarantine_examples.push(q.to_string());
        }
    }

    /// Notes an input that could not be read.
    pub fn problem(&mut self, p: &Problem) {
        self.problem_count += 1;
        if self.problems.len() < PROBLEM_EXAMPLES {
            self.problems.push(p.to_string());
        }
    }

    /// The total number of detections.
    pub fn detections(&self) -> u64 {
        self.by_level.iter().sum()
    }

    /// Prints the summary to stderr. `elapsed` is the whole run; the event
    /// rate is taken over the time since the summary was created (after the
    /// rules were loaded).
    pub fn print(&self, elapsed: Duration) {
        let mut err = anstream::stderr().lock();
        let timing = Timing {
            total: elapsed,
            scanning: self.scan_started.elapsed(),
            peak_memory_mb: peak_memory_mb(),
        };
        let _ = self.write(&mut err, &timing, std::io::stderr().is_terminal());
    }

    fn write(&self, out: &mut dyn Write, timing: &Timing, color: bool) -> std::io::Result<()> {
        let t = |p| self.lang.text(p);
        writeln!(out, "\n── {} ──", t(Phrase::Summary))?;
        writeln!(out, "{:>12}  {}", self.rules, t(Phrase::Rules))?;
        if self.indicators > 0 {
            writeln!(out, "{:>12}  {}", self.indicators, t(Phrase::Indicators))?;
        }
        if self.rules_rejected > 0 {
            writeln!(
                out,
                "{:>12}  {}",
                self.rules_rejected,
                t(Phrase::RulesRejected)
            )?;
        }
        let formats: Vec<String> = self
            .by_format
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        writeln!(
            out,
            "{:>12}  {} ({})",
            self.files,
            t(Phrase::Files),
            formats.join(", ")
        )?;
        writeln!(out, "{:>12}  {}", self.events, t(Phrase::Events))?;
        if self.out_of_range > 0 {
            writeln!(out, "{:>12}  {}", self.out_of_range, t(Phrase::OutOfRange))?;
        }
        writeln!(out, "{:>12}  {}", self.quarantined, t(Phrase::Quarantined))?;
        for example in &self.quarantine_examples {
            writeln!(out, "              {}: {example}", t(Phrase::Examples))?;
        }
        if self.problem_count > 0 {
            writeln!(out, "{:>12}  {}", self.problem_count, t(Phrase::NotRead))?;
            if self.problem_count > self.problems.len() {
                writeln!(out, "              {}", t(Phrase::MoreInQuarantine))?;
            }
            for problem in &self.problems {
                writeln!(out, "              {problem}")?;
            }
        }
        writeln!(out, "{:>12}  {}", self.detections(), t(Phrase::Detections))?;
        let scanning = timing.scanning.as_secs_f64();
        writeln!(
            out,
            "{:>12}  {} ({:.0} {})",
            format!("{:.2}s", timing.total.as_secs_f64()),
            t(Phrase::Elapsed),
            self.events as f64 / scanning.max(1e-9),
            t(Phrase::Rate)
        )?;
        if let Some(mb) = timing.peak_memory_mb {
            writeln!(
                out,
                "{:>12}  {}",
                format!("{mb:.0} MB"),
                t(Phrase::PeakMemory)
            )?;
        }
        if self.detections() == 0 {
            return Ok(());
        }
        writeln!(out, "\n{}", t(Phrase::ByLevel))?;
        for level in Level::ALL.iter().rev() {
            let n = self.by_level[*level as usize];
            let name = fit(self.lang.level(*level), 14, false);
            let name = if color {
                let style = level_style(*level);
                format!("{}{name}{}", style.render(), style.render_reset())
            } else {
                name
            };
            writeln!(out, "  {name} {n:>8}  {}", bar(n, self.detections()))?;
        }
        writeln!(out, "\n{}", t(Phrase::ByRule))?;
        let mut rules: Vec<_> = self.by_rule.values().collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.title.cmp(&b.0.title)));
        for (rule, n) in rules.iter().take(15) {
            writeln!(
                out,
                "  {n:>8}  {} {}  ({})",
                fit(self.lang.level(rule.level), 13, false),
                fit(&rule.title, 70, false),
                fit(&rule.author, 40, true)
            )?;
        }
        write_tally(&self.alerts, out, self.lang)
    }
}

/// A proportional bar of up to 30 cells.
fn bar(n: u64, total: u64) -> String {
    let cells = if total == 0 {
        0
    } else {
        (n * 30).div_ceil(total) as usize
    };
    "█".repeat(cells)
}

#[cfg(test)]
mod tests {
    use gsoc_event::{DetectionKind, Source};

    use super::*;

    #[test]
    fn summary_counts_and_names_authors() {
        let rule = Arc::new(RuleInfo {
            id: "r".into(),
            title: "Suspicious Thing".into(),
            level: Level::High,
            author: "Jane Analyst".into(),
            tags: vec![],
            status: "test".into(),
            path: "r.yml".into(),
        });
        let d = Detection {
            kind: DetectionKind::Sigma,
            rule,
            event_time: None,
            host: None,
            source: Source {
                file: "f".into(),
                record: 1,
            },
            fields: Default::default(),
            indicator: None,
            context: Default::default(),
            facts: None,
            assessment: None,
        };
        let mut s = Summary::new(Lang::Ja, 1, 0);
        s.events(10, 0);
        s.detection(&d);
        s.detection(&d);
        let mut out = Vec::new();
        let timing = Timing {
            total: Duration::from_secs(2),
            scanning: Duration::from_secs(1),
            peak_memory_mb: Some(42.0),
        };
        s.write(&mut out, &timing, false).expect("write to memory");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("検知"), "{text}");
        assert!(text.contains("Jane Analyst"));
        assert!(text.contains("10 イベント/秒"), "{text}");
        assert!(text.contains("42 MB"));
        assert!(text.contains("       2  高"));
    }
}
