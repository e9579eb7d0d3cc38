//! The detect stage: Sigma rules, parsed, compiled and matched.
//!
//! Takes [`gsoc_event::Event`]s and gives [`gsoc_event::Detection`]s. It
//! implements Sigma v2.1: selections as maps and lists, keywords, every value
//! modifier, wildcards and escapes, `null`, the full condition language, meta
//! filters, and log-source matching through a [`Mapping`] that renames fields
//! per source (a `process_creation` rule runs on Sysmon event 1 and on
//! Security event 4688, reading `Image` from `NewProcessName` there).
//! Correlation rules are parsed and checked here and evaluated by triage.
//!
//! Speed comes from doing little per event: rules are grouped by the class
//! of event they can apply to (product, service, event id), and within a
//! class an Aho-Corasick automaton per field finds which rules' required
//! literals occur, so most rules are never evaluated for a given event.
//!
//! # Example
//!
//! ```
//! use gsoc_event::{Event, Format, LogSource, Value};
//! use gsoc_sigma::{EngineBuilder, RuleSet};
//!
//! let mut rules = RuleSet::new();
//! rules.add_text("whoami.yml", r#"
//! title: Whoami
//! id: 0b0d6a4b-0000-4000-8000-000000000001
//! author: Example
//! logsource: {category: process_creation, product: windows}
//! detection:
//!   selection:
//!     Image|endswith: '\whoami.exe'
//!   condition: selection
//! level: high
//! "#);
//! let engine = EngineBuilder::new().build(&rules);
//!
//! let mut event = Event::new(Format::WinJson, "sample.json", 1, "");
//! event.logsource = LogSource::product("windows");
//! event.fields.push("Channel", Value::from("Security"));
//! event.fields.push("EventID", Value::Int(4688));
//! event.fields.push("NewProcessName", Value::from(r"C:\Windows\System32\whoami.exe"));
//!
//! let mut titles = Vec::new();
//! engine.session().detect(&event, |d| titles.push(d.rule.title.clone()));
//! assert_eq!(titles, ["Whoami"]);
//! ```
#![deny(missing_docs)]

mod builtin;
mod compile;
mod condition;
mod correlate;
mod engine;
mod error;
mod eval;
mod index;
mod literal;
mod mapping;
mod modifier;
mod parallel;
mod pattern;
mod program;
mod rule;
mod ruleset;
mod yaml;

pub use builtin::for_each_builtin_rule;
pub use condition::{Cond, CondError, OfTarget, Quantifier, parse as parse_condition};
pub use correlate::{Correlator, MAX_GROUPS, Observed};
pub use engine::{Engine, EngineBuilder, Session, Warning, parse_placeholders};
pub use error::{Error, ErrorKind};
pub use mapping::Mapping;
pub use modifier::Modifier;
pub use rule::{Correlation, CorrelationType, LogSourceSpec, Meta, Rule};
pub use ruleset::{Reject, RuleSet};
pub use yaml::Pos;
