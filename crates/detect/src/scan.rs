//! What the workers do: every event of a batch matched against the rules
//! and the indicators, with the sensor's own alerts, and (as wanted) the
//! flows, logons and web requests the later finders need.

use std::sync::Arc;

use gsoc_decode::{Batch, Input, Quarantined};
use gsoc_event::names::Names;
use gsoc_event::{Detection, Event, EventFacts, Format};
use gsoc_intel::Matcher;
use gsoc_sigma::Engine;
use gsoc_triage::{Flow, LogonSuccess, WebRequest, flow, sensor_alert, web_request};
use jiff::Timestamp;

/// The compiled rules and the indicators: what every worker matches.
pub struct Detector {
    /// The Sigma rules.
    pub engine: Engine,
    /// The indicators.
    pub matcher: Matcher,
}

impl Detector {
    /// The rules and the indicators to match.
    pub fn new(engine: Engine, matcher: Matcher) -> Detector {
        Detector { engine, matcher }
    }

    /// A scanner for one thread.
    pub fn scanner(&self) -> Scanner<'_> {
        Scanner::new(&self.engine, &self.matcher)
    }
}

/// What the workers look for besides detections (by default, nothing:
/// every event, no flows, no triage facts).
#[derive(Clone, Copy, Debug, Default)]
pub struct Wanted {
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
    /// Flows, for the beaconing and probe finders.
    pub flows: bool,
    /// Facts, successful logons and web requests, for triage.
    pub triage: bool,
}

impl Wanted {
    /// Whether an event's time is within `from`..`to` (an event without a
    /// time is outside any range that is set).
    pub fn in_range(&self, time: Option<Timestamp>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(t) = time else { return false };
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|end| t < end)
    }
}

/// The rules and the indicators of one thread, reading each event's field
/// names once for both.
pub struct Scanner<'a> {
    rules: gsoc_sigma::Session<'a>,
    indicators: gsoc_intel::Session<'a>,
    names: Names,
}

impl<'a> Scanner<'a> {
    /// A scanner matching `engine`'s rules and `matcher`'s indicators.
    pub fn new(engine: &'a Engine, matcher: &'a Matcher) -> Scanner<'a> {
        Scanner {
            rules: engine.session(),
            indicators: matcher.session(),
            names: Names::new(),
        }
    }

    /// Adds what the rules and the indicators find in the event.
    pub fn detect(&mut self, event: &Event, detections: &mut Vec<Detection>) {
        let numbered = self.names.number(&event.fields);
        self.rules
            .detect_numbered(event, numbered, |d| detections.push(d));
        self.indicators
            .detect_numbered(event, numbered, &mut |d| detections.push(d));
    }
}

/// What a worker makes of one batch.
#[derive(Debug, Default)]
pub struct Scan {
    /// Events decoded.
    pub events: u64,
    /// Events outside the wanted time range (counted, not matched).
    pub out_of_range: u64,
    /// Records that could not be decoded.
    pub quarantined: Vec<Quarantined>,
    /// What the rules, the indicators, the sensors and the mail analysis
    /// found.
    pub detections: Vec<Detection>,
    /// Flows for the beaconing and probe finders.
    pub flows: Vec<Flow>,
    /// Successful logons, for triage of failed ones.
    pub successes: Vec<LogonSuccess>,
    /// Web requests, for the probe finder.
    pub requests: Vec<WebRequest>,
}

impl Scan {
    /// The events of the batch and the detections in them.
    pub fn counts(&self) -> (u64, usize) {
        (self.events, self.detections.len())
    }

    /// Counts one event and, unless it is outside the range, adds what the
    /// rules, the indicators and the sensor find in it (and, as wanted,
    /// its flow, its successful logon and its facts for triage).
    pub fn take(&mut self, event: &Event, scanner: &mut Scanner<'_>, wanted: Wanted) {
        self.events += 1;
        if !wanted.in_range(event.time) {
            self.out_of_range += 1;
            return;
        }
        let before = self.detections.len();
        scanner.detect(event, &mut self.detections);
        self.detections.extend(sensor_alert(event));
        if wanted.flows {
            self.flows.extend(flow(event));
        }
        if wanted.triage {
            self.successes.extend(LogonSuccess::of(event));
            self.requests.extend(web_request(event));
            if self.detections.len() > before {
                let facts = Arc::new(EventFacts::of(event));
                for d in &mut self.detections[before..] {
                    d.facts = Some(Arc::clone(&facts));
                }
            }
        }
    }
}

/// Decodes a batch and matches every event (the scan `gsoc bench` times).
pub fn scan_batch(scanner: &mut Scanner<'_>, batch: Batch, wanted: Wanted) -> Scan {
    let mut scan = Scan::default();
    for decoded in batch.decode() {
        match decoded {
            Ok(event) => scan.take(&event, scanner, wanted),
            Err(q) => scan.quarantined.push(q),
        }
    }
    scan
}

/// Whether an input is mail (`.eml` or `.mbox`), read by gsoc-mail and
/// matched as events of log source category `email`.
pub fn is_mail(input: &Input) -> bool {
    input
        .path()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("eml") || e.eq_ignore_ascii_case("mbox"))
}

/// The detections for the messages of one mail file: each message analysed
/// and matched as an event, and a suspicious one is a detection of kind
/// `mail`; a message that cannot be read is quarantined.
pub fn scan_mail(
    input: &Input,
    settings: &gsoc_mail::Settings,
    scanner: &mut Scanner<'_>,
    wanted: Wanted,
) -> Scan {
    let mut scan = Scan::default();
    let Some(path) = input.path() else {
        return scan;
    };
    let file: Arc<str> = Arc::from(path.display().to_string());
    let quarantine = |record: u64, reason: String| Quarantined {
        file: Arc::clone(&file),
        record,
        format: Format::Json,
        reason,
        original: String::new(),
    };
    let messages = match gsoc_mail::source::read_file(path) {
        Ok(messages) => messages,
        Err(e) => {
            scan.quarantined.push(quarantine(0, e.to_string()));
            return scan;
        }
    };
    for message in &messages {
        let record = message.origin.message.unwrap_or(1) as u64;
        match gsoc_mail::analyse(message, settings) {
            Ok(analysis) => {
                let event = gsoc_mail::event::to_event(&analysis, &file);
                scan.take(&event, scanner, wanted);
                if wanted.in_range(event.time) {
                    scan.detections
                        .extend(gsoc_mail::event::detection(&analysis, &event));
                }
            }
            Err(broken) => scan.quarantined.push(quarantine(record, broken.reason)),
        }
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_keeps_what_is_inside_it() {
        let t = gsoc_event::time::parse_time("2024-04-01");
        let from = Wanted {
            from: t,
            ..Wanted::default()
        };
        let to = Wanted {
            to: t,
            ..Wanted::default()
        };
        assert!(from.in_range(t));
        assert!(!to.in_range(t));
        assert!(!from.in_range(None));
        assert!(Wanted::default().in_range(None));
    }
}
