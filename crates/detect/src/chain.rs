//! What happens on one thread after the workers, in input order:
//! detections through correlation, then triage; flows to the beaconing and
//! probe finders; everything that comes out handed to a [`Sink`].

use gsoc_decode::{Problem, Quarantined};
use gsoc_event::{Detection, Format, Lang};
use gsoc_sigma::Correlator;
use gsoc_triage::{BeaconFinder, BeaconSettings, Policy, ProbeFinder, Triage};

use crate::pipeline::Item;
use crate::scan::Scan;

/// The most sources the probe finder keeps (of each sort).
pub const MAX_PROBE_SOURCES: usize = 200_000;

/// Where the detect stage's output goes: a printer in `gsoc detect`, the
/// store in the centre.
pub trait Sink {
    /// What a sink can fail with (writing output, committing to a store).
    type Error;

    /// A detection, or with triage an alert (a detection with its
    /// assessment).
    fn alert(&mut self, alert: &Detection) -> Result<(), Self::Error>;

    /// A record that could not be decoded.
    fn quarantined(&mut self, record: &Quarantined) -> Result<(), Self::Error>;

    /// An input that could not be read.
    fn problem(&mut self, problem: &Problem) -> Result<(), Self::Error>;

    /// Events decoded in a batch, and how many of them were outside the
    /// wanted time range.
    fn events(&mut self, events: u64, out_of_range: u64) -> Result<(), Self::Error>;

    /// An input starts, read as `format`.
    fn input_start(&mut self, _file: &str, _format: Format) -> Result<(), Self::Error> {
        Ok(())
    }

    /// An input has been read to its end.
    fn input_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// What the chain does after matching.
#[derive(Clone, Debug, Default)]
pub struct ChainOptions {
    /// Find beaconing (reported at the end).
    pub beacons: bool,
    /// Triage every detection under this policy, in this language, and
    /// find probes.
    pub triage: Option<(Policy, Lang)>,
}

/// What had to be dropped because a bound was reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overflow {
    /// Probe sources not kept (at most [`MAX_PROBE_SOURCES`] are).
    pub probe_sources: u64,
    /// Correlation groups not kept (at most [`gsoc_sigma::MAX_GROUPS`] per
    /// correlation at a time).
    pub correlation_groups: u64,
}

/// Correlation, triage and the finders, kept for one stream of events (one
/// organisation's, in the centre).
pub struct Chain {
    correlator: Correlator,
    beacons: Option<BeaconFinder>,
    probes: Option<ProbeFinder>,
    triage: Option<Triage>,
}

impl Chain {
    /// A chain correlating with `correlator` (from the engine that
    /// matches) and doing what `options` ask.
    pub fn new(correlator: Correlator, options: ChainOptions) -> Chain {
        let networks = options
            .triage
            .as_ref()
            .map(|(policy, _)| policy.internal.clone())
            .unwrap_or_else(|| Policy::default().internal);
        Chain {
            correlator,
            beacons: options
                .beacons
                .then(|| BeaconFinder::new(BeaconSettings::default(), networks.clone())),
            probes: options.triage.as_ref().map(|(policy, _)| {
                let minimum = (policy.probe_min_attempts, policy.probe_min_web_paths);
                ProbeFinder::new(networks.clone(), minimum, MAX_PROBE_SOURCES)
            }),
            triage: options
                .triage
                .map(|(policy, lang)| Triage::new(policy, lang == Lang::Ja)),
        }
    }

    /// Whether flows are wanted from the workers.
    pub fn wants_flows(&self) -> bool {
        self.beacons.is_some() || self.probes.is_some()
    }

    /// Whether detections are triaged.
    pub fn triages(&self) -> bool {
        self.triage.is_some()
    }

    /// Takes one item of the pipeline, in input order.
    pub fn item<S: Sink>(&mut self, item: Item<Scan>, sink: &mut S) -> Result<(), S::Error> {
        match item {
            Item::Start { file, format } => sink.input_start(&file, format),
            Item::Done(scan) => self.scan(scan, sink),
            Item::Quarantined(q) => sink.quarantined(&q),
            Item::Problem(p) => sink.problem(&p),
            Item::End => sink.input_end(),
        }
    }

    /// Takes what the workers made of one batch.
    pub fn scan<S: Sink>(&mut self, scan: Scan, sink: &mut S) -> Result<(), S::Error> {
        sink.events(scan.events, scan.out_of_range)?;
        for f in &scan.flows {
            self.beacons.iter_mut().for_each(|b| b.add(f));
            self.probes.iter_mut().for_each(|p| p.add(f));
        }
        for r in &scan.requests {
            self.probes.iter_mut().for_each(|p| p.add_request(r));
        }
        if let Some(triage) = self.triage.as_mut() {
            scan.successes
                .into_iter()
                .for_each(|s| triage.logon_success(s));
        }
        for d in scan.detections {
            let observed = self.correlator.observe(&d);
            let shown = std::iter::once(d).filter(|_| !observed.suppressed);
            for d in shown.chain(observed.fired) {
                self.detection(d, sink)?;
            }
        }
        scan.quarantined
            .iter()
            .try_for_each(|q| sink.quarantined(q))
    }

    /// Hands a detection on, or to triage, handing on the alerts ready.
    fn detection<S: Sink>(&mut self, d: Detection, sink: &mut S) -> Result<(), S::Error> {
        let Some(triage) = self.triage.as_mut() else {
            return sink.alert(&d);
        };
        let mut ready = Vec::new();
        triage.add(d, &mut ready);
        ready.iter().try_for_each(|a| sink.alert(a))
    }

    /// Hands on what is found at the end (beacons, probes) and the alerts
    /// still waiting; says what had to be dropped.
    pub fn finish<S: Sink>(&mut self, sink: &mut S) -> Result<Overflow, S::Error> {
        let mut overflow = Overflow {
            correlation_groups: self.correlator.overflow(),
            ..Overflow::default()
        };
        let beacons = self
            .beacons
            .take()
            .map(BeaconFinder::finish)
            .unwrap_or_default();
        for beacon in beacons {
            self.detection(beacon.detection(), sink)?;
        }
        if let Some(probes) = self.probes.take() {
            overflow.probe_sources = probes.overflow();
            for d in probes.finish() {
                self.detection(d, sink)?;
            }
        }
        let mut rest = Vec::new();
        if let Some(triage) = self.triage.as_mut() {
            triage.finish(&mut rest);
        }
        rest.iter().try_for_each(|a| sink.alert(a))?;
        Ok(overflow)
    }
}
