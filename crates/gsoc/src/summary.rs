//! The summary `gsoc detect` prints on stderr at the end of a run.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use gsoc_decode::{Problem, Quarantined};
use gsoc_event::{Detection, Format, Level, RuleInfo};

use crate::locale::{Lang, Phrase};
use crate::output::{fit, level_style};

const EXAMPLES: usize = 5;

/// Counts gathered during a run.
pub struct Summary {
    lang: Lang,
    rules: usize,
    rules_rejected: usize,
    files: u64,
    events: u64,
    out_of_range: u64,
    quarantined: u64,
    quarantine_examples: Vec<String>,
    problems: Vec<String>,
    by_level: [u64; 5],
    by_rule: HashMap<String, (Arc<RuleInfo>, u64)>,
    by_format: Vec<(Format, u64)>,
}

impl Summary {
    /// An empty summary.
    pub fn new(lang: Lang, rules: usize, rules_rejected: usize) -> Summary {
        Summary {
            lang,
            rules,
            rules_rejected,
            files: 0,
            events: 0,
            out_of_range: 0,
            quarantined: 0,
            quarantine_examples: Vec::new(),
            problems: Vec::new(),
            by_level: [0; 5],
            by_rule: HashMap::new(),
            by_format: Vec::new(),
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
        self.problems.push(p.to_string());
    }

    /// The total number of detections.
    pub fn detections(&self) -> u64 {
        self.by_level.iter().sum()
    }

    /// Prints the summary to stderr.
    pub fn print(&self, elapsed: Duration) {
        let mut err = anstream::stderr().lock();
        let _ = self.write(&mut err, elapsed, std::io::stderr().is_terminal());
    }

    fn write(&self, out: &mut dyn Write, elapsed: Duration, color: bool) -> std::io::Result<()> {
        let t = |p| self.lang.text(p);
        let secs = elapsed.as_secs_f64();
        writeln!(out, "\n── {} ──", t(Phrase::Summary))?;
        writeln!(out, "{:>12}  {}", self.rules, t(Phrase::Rules))?;
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
        if !self.problems.is_empty() {
            writeln!(out, "{:>12}  {}", self.problems.len(), t(Phrase::NotRead))?;
            for problem in &self.problems {
                writeln!(out, "              {problem}")?;
            }
        }
        writeln!(out, "{:>12}  {}", self.detections(), t(Phrase::Detections))?;
        writeln!(
            out,
            "{:>12}  {} ({:.0} {})",
            format!("{secs:.2}s"),
            t(Phrase::Elapsed),
            self.events as f64 / secs.max(1e-9),
            t(Phrase::Rate)
        )?;
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
        Ok(())
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
        };
        let mut s = Summary::new(Lang::Ja, 1, 0);
        s.events(10, 0);
        s.detection(&d);
        s.detection(&d);
        let mut out = Vec::new();
        s.write(&mut out, Duration::from_secs(1), false)
            .expect("write to memory");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("検知"), "{text}");
        assert!(text.contains("Jane Analyst"));
        assert!(text.contains("       2  高"));
    }
}
