//! Importing: recognise what a file is (STIX, MISP, CSV feed, plain list),
//! read it with the right importer, and report every object that could not
//! be taken with its place and reason while taking the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::model::{Indicator, Kind, Tlp};
use crate::{feeds, misp, stix};

/// What a file holds, as recognised from its content or forced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// A STIX 2.1 bundle, one STIX object, or an array of objects.
    Stix,
    /// A MISP event (bare, under `Event`, or a `response` list), or an
    /// attribute or object list.
    Misp,
    /// A CSV feed: the abuse.ch layout, or `value,type` rows.
    Csv,
    /// One value per line (`#` comments), with types inferred.
    List,
}

/// How to label what an import brings in.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The source name to record (default: the folder or file name given).
    pub source: Option<String>,
    /// The TLP level for indicators that come without one.
    pub tlp: Option<Tlp>,
    /// The confidence for indicators that come without one.
    pub confidence: Option<u8>,
    /// Read every file as this format instead of recognising it.
    pub format: Option<SourceFormat>,
}

/// One object, row or line that could not be imported, or a note on one
/// that was imported in part.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// Where in it: `line 12`, `object 3 (indicator--…)`, `attribute …`.
    pub place: String,
    /// What is wrong, and what was done.
    pub reason: String,
}

/// What one import brought in.
#[derive(Debug, Default)]
pub struct Imported {
    /// The indicators.
    pub indicators: Vec<Indicator>,
    /// Other STIX objects kept for context and export (marking definitions,
    /// identities, malware, intrusion sets, relationships, reports, and
    /// indicators whose patterns nothing in logs can match).
    pub objects: Vec<Value>,
    /// Objects, rows and lines not imported, with the reason.
    pub errors: Vec<Problem>,
    /// Indicators imported in part: pattern features not matched.
    pub notes: Vec<Problem>,
    /// Records that are not indicators (a MISP `text` attribute, a comment
    /// row), by reason, counted.
    pub skipped: BTreeMap<String, usize>,
    /// Files read.
    pub files: usize,
}

impl Imported {
    /// Records an error.
    pub fn error(&mut self, file: &str, place: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(Problem {
            file: file.to_owned(),
            place: place.into(),
            reason: reason.into(),
        });
    }

    /// Records a note.
    pub fn note(&mut self, file: &str, place: impl Into<String>, reason: impl Into<String>) {
        self.notes.push(Problem {
            file: file.to_owned(),
            place: place.into(),
            reason: reason.into(),
        });
    }

    /// Counts a skipped record.
    pub fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// Takes the name of the identity that created an indicator (a MISP
    /// event's organisation, a STIX `created_by_ref` in the same file) as
    /// its source.
    fn name_sources_by_creator(&mut self) {
        let names: std::collections::HashMap<&str, Arc<str>> = self
            .objects
            .iter()
            .filter(|o| o.get("type").and_then(Value::as_str) == Some("identity"))
            .filter_map(|o| Some((o.get("id")?.as_str()?, Arc::from(o.get("name")?.as_str()?))))
            .collect();
        for indicator in &mut self.indicators {
            if let Some(name) = indicator.created_by.as_deref().and_then(|id| names.get(id)) {
                indicator.source = Arc::clone(name);
            }
        }
    }

    /// Applies the options' defaults to indicators that lack them.
    fn apply_defaults(&mut self, options: &ImportOptions) {
        for indicator in &mut self.indicators {
            if indicator.tlp.is_none() {
                indicator.tlp = options.tlp;
            }
            if indicator.confidence.is_none() {
                indicator.confidence = options.confidence;
            }
        }
    }
}

/// What an import brings in, one item at a time, so that a million
/// indicators can go straight into a matcher or a store.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Moved once, importer to sink; a box would cost an allocation per indicator.
pub enum Item {
    /// An indicator.
    Indicator(Indicator),
    /// A STIX object kept for context.
    Object(Value),
}

/// The totals of an import, and what could not be taken.
#[derive(Debug, Default)]
pub struct Report {
    /// Files read.
    pub files: usize,
    /// Indicators meant for detection, by type.
    pub by_kind: BTreeMap<Kind, usize>,
    /// Indicators meant for detection, by source.
    pub by_source: BTreeMap<String, usize>,
    /// Observables and indicators not meant for detection (MISP `to_ids`
    /// false, STIX cyber-observables), kept but not matched.
    pub observables: usize,
    /// Context objects, by STIX type.
    pub objects: BTreeMap<String, usize>,
    /// Objects, rows and lines not imported, with the reason.
    pub errors: Vec<Problem>,
    /// Indicators imported in part.
    pub notes: Vec<Problem>,
    /// Records that are not indicators, by reason.
    pub skipped: BTreeMap<String, usize>,
}

impl Report {
    /// Indicators meant for detection.
    pub fn indicators(&self) -> usize {
        self.by_kind.values().sum()
    }

    /// Counts one file's import and hands its items to `sink`.
    pub fn take(&mut self, imported: Imported, sink: &mut dyn FnMut(Item)) {
        self.files += imported.files;
        self.errors.extend(imported.errors);
        self.notes.extend(imported.notes);
        for (reason, n) in imported.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        for object in imported.objects {
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            *self.objects.entry(kind.to_owned()).or_default() += 1;
            sink(Item::Object(object));
        }
        for indicator in imported.indicators {
            if indicator.detect {
                *self.by_kind.entry(indicator.kind).or_default() += 1;
                match self.by_source.get_mut(&*indicator.source) {
                    Some(count) => *count += 1,
                    None => {
                        self.by_source.insert(indicator.source.to_string(), 1);
                    }
                }
            } else {
                self.observables += 1;
            }
            sink(Item::Indicator(indicator));
        }
    }
}

/// Imports files and folders, handing every indicator and context object
/// to `sink` as each file is read. Folders are walked (sorted; README,
/// LICENSE and hidden files skipped), gzip files read as they are; a MISP
/// feed folder's `manifest.json` is its index and its events are read from
/// their own files.
pub fn import_paths(
    paths: &[PathBuf],
    options: &ImportOptions,
    sink: &mut dyn FnMut(Item),
) -> Report {
    let mut report = Report::default();
    for path in paths {
        let source = options
            .source
            .clone()
            .unwrap_or_else(|| default_source(path));
        let source: Arc<str> = Arc::from(source);
        let (inputs, problems) = gsoc_input::expand(std::slice::from_ref(path));
        for problem in problems {
            report.errors.push(Problem {
                file: problem.file.to_string(),
                place: String::new(),
                reason: problem.message,
            });
        }
        for input in inputs {
            let name = input.name();
            let imported = match gsoc_input::read_all(&input) {
                Ok(bytes) => import_bytes(Path::new(&name), &bytes, &source, options),
                Err(e) => {
                    let mut failed = Imported::default();
                    failed.error(&name, "", format!("cannot read: {e}"));
                    failed
                }
            };
            report.take(imported, sink);
        }
    }
    report
}

/// The source name for a path given on the command line: a folder's name,
/// or a file's name without its extensions.
pub fn default_source(path: &Path) -> String {
    let name = path
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "stdin".to_owned());
    if path.is_dir() {
        name
    } else {
        name.split('.').next().unwrap_or(&name).to_owned()
    }
}

/// Imports one file's content.
pub fn import_bytes(
    path: &Path,
    bytes: &[u8],
    source: &Arc<str>,
    options: &ImportOptions,
) -> Imported {
    let name = path.display().to_string();
    let text = String::from_utf8_lossy(bytes);
    let mut imported = match options.format.or_else(|| recognise(path, &text)) {
        Some(SourceFormat::Stix) => stix::import(&name, &text, source),
        Some(SourceFormat::Misp) => misp::import(&name, &text, source),
        Some(SourceFormat::Csv) => feeds::import_csv(&name, &text, source),
        Some(SourceFormat::List) => feeds::import_list(path, &text, source),
        None => {
            let mut imported = Imported::default();
            imported.error(
                &name,
                "",
                "not STIX, MISP, CSV or a list of values; use --input-format to say which",
            );
            imported
        }
    };
    imported.files += 1;
    imported.apply_defaults(options);
    if options.source.is_none() {
        imported.name_sources_by_creator();
    }
    imported
}

/// Recognises a file's format from its content (and, for CSV, its name).
fn recognise(path: &Path, text: &str) -> Option<SourceFormat> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return Some(recognise_json(trimmed));
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let is_csv_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv_name || (first.contains(',') && !first.contains(' ')) || first.starts_with('"') {
        Some(SourceFormat::Csv)
    } else {
        Some(SourceFormat::List)
    }
}

fn recognise_json(text: &str) -> SourceFormat {
    let head = &text[..text.len().min(4096)];
    let stix_like = head.contains("\"spec_version\"")
        || head.contains("\"type\": \"bundle\"")
        || head.contains("\"type\":\"bundle\"")
        || head.contains("--");
    let misp_like = [
        "\"Event\"",
        "\"Attribute\"",
        "\"Object\"",
        "\"response\"",
        "\"info\"",
    ]
    .iter()
    .any(|k| head.contains(k));
    if misp_like && !head.contains("\"spec_version\"") {
        SourceFormat::Misp
    } else if stix_like {
        SourceFormat::Stix
    } else {
        SourceFormat::Misp
    }
}
