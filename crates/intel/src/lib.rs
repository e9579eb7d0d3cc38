//! Threat intelligence for gsoc: indicators in and out, and found in logs.
//!
//! - [`import`]: STIX 2.1 bundles and objects, MISP events and feed
//!   folders, CSV feeds (abuse.ch, `value,type`) and plain lists (maltrail),
//!   each reporting what it could not take with its place and reason.
//! - [`Store`]: what has been imported, in the data directory.
//! - [`stix::export`] and [`misp::export`]: bundles and events for any
//!   selection, keeping the ids, patterns, markings and validity of what
//!   came in.
//! - [`Matcher`]: every indicator indexed for lookup (addresses by hash and
//!   prefix trie, domains with their parents, URLs, hashes, e-mail
//!   addresses, JA3, user agents); a [`Session`] turns each event's values
//!   into detections.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use gsoc_intel::{Indicator, Kind, MatcherBuilder};
//!
//! let mut builder = MatcherBuilder::new();
//! builder.add(Indicator::simple(Kind::Domain, "evil.example", Arc::from("partner")));
//! let matcher = builder.build();
//! let mut hits = Vec::new();
//! matcher.lookup(Kind::Domain, "cdn.EVIL.example", &mut |hit| hits.push(hit.value().to_owned()));
//! assert_eq!(hits, ["evil.example"]);
//! ```
#![deny(missing_docs)]

pub mod feeds;
pub mod import;
mod matcher;
pub mod misp;
mod model;
pub mod normalize;
pub mod stix;
mod store;

pub use import::{ImportOptions, Item, Problem, Report, SourceFormat, import_paths};
pub use matcher::{Hit, Matcher, MatcherBuilder, Session, level};
pub use model::{Indicator, Kind, Observable, Role, Term, Tlp, derived_id};
pub use store::{Merged, Selection, Store, StoreError, audit, store_indicators};
