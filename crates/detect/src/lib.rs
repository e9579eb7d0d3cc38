//! The detect stage of gsoc: one implementation that `gsoc detect`, the
//! centre (`gsoc serve`) and the edge all run.
//!
//! Takes inputs (files, folders, bytes received) or decoded batches; gives
//! detections, alerts (detections with a triage assessment), quarantined
//! records, problems and counts to a [`Sink`].
//!
//! * [`pipeline::run`] reads inputs on one thread, decodes and scans
//!   batches on many, and hands the results back in input order;
//! * a [`Detector`] holds the compiled rules and the indicators; each
//!   worker scans with its own [`Scanner`], and a batch becomes a [`Scan`];
//! * a [`Chain`] takes scans in order: correlation, then triage, the
//!   beaconing and probe finders, and hands everything to a [`Sink`];
//! * a [`Tally`] counts alerts by category before and after noise removal.
//!
//! ```
//! use gsoc_detect::{Chain, ChainOptions, Detector, Sink, Wanted, scan_batch};
//! use gsoc_decode::{Chunk, Options, Problem, Quarantined, read_bytes};
//! use gsoc_event::Detection;
//!
//! #[derive(Default)]
//! struct Count(u64, usize);
//! impl Sink for Count {
//!     type Error = std::convert::Infallible;
//!     fn alert(&mut self, _: &Detection) -> Result<(), Self::Error> { self.1 += 1; Ok(()) }
//!     fn quarantined(&mut self, _: &Quarantined) -> Result<(), Self::Error> { Ok(()) }
//!     fn problem(&mut self, _: &Problem) -> Result<(), Self::Error> { Ok(()) }
//!     fn events(&mut self, n: u64, _: u64) -> Result<(), Self::Error> { self.0 += n; Ok(()) }
//! }
//!
//! let mut rules = gsoc_sigma::RuleSet::new();
//! rules.add_text("whoami.yml", "title: whoami\nid: 1\nlogsource: {product: windows}\n\
//!     detection: {sel: {CommandLine|contains: whoami}, condition: sel}\nlevel: low\n");
//! let detector = Detector::new(
//!     gsoc_sigma::EngineBuilder::new().build(&rules),
//!     gsoc_intel::MatcherBuilder::new().build(),
//! );
//! let mut scanner = detector.scanner();
//! let mut chain = Chain::new(detector.engine.correlator(), ChainOptions::default());
//! let mut sink = Count::default();
//! let line = br#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","CommandLine":"whoami /all"}"#;
//! read_bytes("sysmon.json", &line[..], &Options::default(), &mut |chunk| {
//!     if let Chunk::Batch(batch) = chunk {
//!         let scan = scan_batch(&mut scanner, batch, Wanted::default());
//!         let Ok(()) = chain.scan(scan, &mut sink);
//!     }
//!     true
//! });
//! let Ok(_) = chain.finish(&mut sink);
//! assert_eq!((sink.0, sink.1), (1, 1));
//! ```
#![deny(missing_docs)]

mod chain;
mod indicators;
pub mod pipeline;
mod scan;
mod tally;

pub use chain::{Chain, ChainOptions, MAX_PROBE_SOURCES, Overflow, Sink};
pub use indicators::{IndicatorSources, load_indicators, mail_indicators};
pub use pipeline::Item;
pub use scan::{Detector, Scan, Scanner, Wanted, is_mail, scan_batch, scan_mail};
pub use tally::Tally;
