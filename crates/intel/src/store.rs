//! The indicator store: what has been imported, kept in the data directory
//! between runs.
//!
//! Two JSON-lines files under `<data-dir>/intel/`: `indicators.jsonl` (one
//! indicator per line) and `objects.jsonl` (the STIX objects kept for
//! context). Both are rewritten whole, through a temporary file and a
//! rename, so a crash never leaves half a store. Every change is appended to
//! `<data-dir>/audit.jsonl`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::import::Item;
use crate::model::{Indicator, Kind};

const INDICATORS: &str = "indicators.jsonl";
const OBJECTS: &str = "objects.jsonl";

/// A store that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A line of a store file is not what gsoc wrote.
    #[error(
        "{path} line {line}: {message}; the store is damaged: remove the line, or the file and import again"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Which indicators a command is about.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only these types (any when empty).
    pub kinds: Vec<Kind>,
    /// Only from these sources (any when empty).
    pub sources: Vec<String>,
    /// Only these ids (any when empty).
    pub ids: Vec<String>,
    /// Also observables and indicators not meant for detection.
    pub include_observables: bool,
}

impl Selection {
    /// Whether an indicator is selected.
    pub fn matches(&self, indicator: &Indicator) -> bool {
        (self.include_observables || indicator.detect)
            && (self.kinds.is_empty() || self.kinds.contains(&indicator.kind))
            && (self.sources.is_empty() || self.sources.iter().any(|s| **s == *indicator.source))
            && (self.ids.is_empty() || self.ids.contains(&indicator.id))
    }

    /// Whether it selects by something (a type, a source or an id).
    pub fn is_narrowed(&self) -> bool {
        !(self.kinds.is_empty() && self.sources.is_empty() && self.ids.is_empty())
    }
}

/// The indicators and context objects in a data directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    /// The indicators, in the order they were first imported.
    pub indicators: Vec<Indicator>,
    /// The STIX context objects.
    pub objects: Vec<Value>,
    by_id: HashMap<String, usize>,
    objects_by_id: HashMap<String, usize>,
}

/// What merging an import into the store did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    /// Indicators that were new.
    pub added: usize,
    /// Indicators that replaced an older version.
    pub updated: usize,
    /// Indicators not taken because the store has a newer version.
    pub kept: usize,
}

impl Store {
    /// Opens the store in a data directory (empty when nothing was imported
    /// yet).
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let dir = data_dir.join("intel");
        let mut store = Store {
            dir,
            indicators: Vec::new(),
            objects: Vec::new(),
            by_id: HashMap::new(),
            objects_by_id: HashMap::new(),
        };
        let indicators_path = store.dir.join(INDICATORS);
        for_each_line(&indicators_path, &mut |indicator: Indicator| {
            store
                .by_id
                .insert(indicator.id.clone(), store.indicators.len());
            store.indicators.push(indicator);
        })?;
        let objects_path = store.dir.join(OBJECTS);
        for_each_line(&objects_path, &mut |object: Value| {
            store.add_object(object);
        })?;
        Ok(store)
    }

    /// Reads the indicators of a data directory one at a time, without
    /// keeping them (for loading a matcher).
    pub fn for_each_indicator(
        data_dir: &Path,
        f: &mut dyn FnMut(Indicator),
    ) -> Result<(), StoreError> {
        for_each_line(&data_dir.join("intel").join(INDICATORS), f)
    }

    /// Takes one imported item: a new indicator is added, a newer version
    /// (by `modified`) replaces an older one.
    pub fn add(&mut self, item: Item, now: Timestamp, merged: &mut Merged) {
        match item {
            Item::Object(object) => self.add_object(object),
            Item::Indicator(mut indicator) => {
                indicator.created.get_or_insert(now);
                match self.by_id.get(&indicator.id) {
                    Some(&i) if is_same_version(&self.indicators[i], &indicator) => {
                        merge_context(&mut self.indicators[i], indicator);
                        merged.updated += 1;
                    }
                    Some(&i) => {
                        if indicator.modified >= self.indicators[i].modified {
                            self.indicators[i] = indicator;
                            merged.updated += 1;
                        } else {
                            merged.kept += 1;
                        }
                    }
                    None => {
                        self.by_id
                            .insert(indicator.id.clone(), self.indicators.len());
                        self.indicators.push(indicator);
                        merged.added += 1;
                    }
                }
            }
        }
    }

    fn add_object(&mut self, object: Value) {
        let Some(id) = object.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        let modified = |o: &Value| o.get("modified").and_then(Value::as_str).map(str::to_owned);
        match self.objects_by_id.get(&id) {
            Some(&i) if modified(&object) >= modified(&self.objects[i]) => self.objects[i] = object,
            Some(_) => {}
            None => {
                self.objects_by_id.insert(id, self.objects.len());
                self.objects.push(object);
            }
        }
    }

    /// The selected indicators.
    pub fn select(&self, selection: &Selection) -> Vec<&Indicator> {
        self.indicators
            .iter()
            .filter(|i| selection.matches(i))
            .collect()
    }

    /// Removes the selected indicators; returns how many.
    pub fn remove(&mut self, selection: &Selection) -> usize {
        let before = self.indicators.len();
        self.indicators.retain(|i| !selection.matches(i));
        self.by_id = self
            .indicators
            .iter()
            .enumerate()
            .map(|(n, i)| (i.id.clone(), n))
            .collect();
        before - self.indicators.len()
    }

    /// Writes the store back.
    pub fn save(&self) -> Result<(), StoreError> {
        fs::create_dir_all(&self.dir).map_err(io_error(&self.dir))?;
        write_lines(&self.dir.join(INDICATORS), &self.indicators)?;
        write_lines(&self.dir.join(OBJECTS), &self.objects)
    }
}

/// Two feed entries for the same value from one source (one value in two
/// lists): one indicator, with what both say about it.
fn is_same_version(old: &Indicator, new: &Indicator) -> bool {
    old.modified == new.modified && new.stix.is_none() && new.misp.is_none()
}

fn merge_context(old: &mut Indicator, new: Indicator) {
    for (into, from) in [
        (&mut old.labels, new.labels),
        (&mut old.malware, new.malware),
        (&mut old.actors, new.actors),
        (&mut old.attack, new.attack),
    ] {
        for value in from {
            if !into.contains(&value) {
                into.push(value);
            }
        }
    }
}

fn for_each_line<T: serde::de::DeserializeOwned>(
    path: &Path,
    f: &mut dyn FnMut(T),
) -> Result<(), StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path)(e)),
    };
    for (n, line) in BufReader::with_capacity(1 << 20, file).lines().enumerate() {
        let line = line.map_err(io_error(path))?;
        if line.is_empty() {
            continue;
        }
        let item = serde_json::from_str(&line).map_err(|e| StoreError::Corrupt {
            path: path.to_owned(),
            line: n + 1,
            message: e.to_string(),
        })?;
        f(item);
    }
    Ok(())
}

fn write_lines<T: serde::Serialize>(path: &Path, items: &[T]) -> Result<(), StoreError> {
    let temporary = path.with_extension("jsonl.tmp");
    let write = || -> io::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&temporary)?);
        for item in items {
            serde_json::to_writer(&mut out, item)?;
            out.write_all(b"\n")?;
        }
        out.into_inner()?.sync_all()?;
        fs::rename(&temporary, path)
    };
    write().map_err(io_error(path))
}

/// Adds indicators to the store in `data_dir`, saves it, and writes the
/// change to the audit log under `action`: what `gsoc mail analyze
/// --add-indicators` and the centre do with what they find.
pub fn store_indicators(
    data_dir: &Path,
    indicators: Vec<Indicator>,
    action: &str,
) -> Result<Merged, StoreError> {
    let mut store = Store::open(data_dir)?;
    let mut merged = Merged::default();
    let now = Timestamp::now();
    for indicator in indicators {
        store.add(Item::Indicator(indicator), now, &mut merged);
    }
    store.save()?;
    audit(
        data_dir,
        action,
        json!({"added": merged.added, "updated": merged.updated}),
    )?;
    Ok(merged)
}

/// Appends a line to `<data-dir>/audit.jsonl`: when, who (the user
/// running gsoc), what, and the details.
pub fn audit(data_dir: &Path, action: &str, details: Value) -> Result<(), StoreError> {
    let path = data_dir.join("audit.jsonl");
    fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let line = json!({
        "time": Timestamp::now().to_string(),
        "user": user,
        "action": action,
        "details": details,
    });
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_error(&path))?;
    writeln!(file, "{line}").map_err(io_error(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn indicator(value: &str, modified: &str) -> Indicator {
        let mut i = Indicator::simple(Kind::Domain, value, Arc::from("t"));
        i.modified = modified.parse().ok();
        i
    }

    #[test]
    fn newer_versions_win_and_the_store_persists() {
        let dir = tempfile::tempdir().expect("temp dir");
        let now = Timestamp::now();
        let mut store = Store::open(dir.path()).expect("empty store opens");
        let mut merged = Merged::default();
        let old = indicator("a.example", "2024-01-01T00:00:00Z");
        let mut new = old.clone();
        new.modified = "2024-02-01T00:00:00Z".parse().ok();
        new.description = Some("newer".into());
        store.add(Item::Indicator(new), now, &mut merged);
        store.add(Item::Indicator(old), now, &mut merged);
        store.add(
            Item::Indicator(indicator("b.example", "2024-01-01T00:00:00Z")),
            now,
            &mut merged,
        );
        assert_eq!(
            merged,
            Merged {
                added: 2,
                updated: 0,
                kept: 1
            }
        );
        store.save().expect("saved");

        let mut again = Store::open(dir.path()).expect("reopens");
        assert_eq!(again.indicators.len(), 2);
        assert_eq!(again.indicators[0].description.as_deref(), Some("newer"));
        let removed = again.remove(&Selection {
            ids: vec![again.indicators[1].id.clone()],
            ..Selection::default()
        });
        assert_eq!(removed, 1);
        again.save().expect("saved");
        assert_eq!(
            Store::open(dir.path()).expect("reopens").indicators.len(),
            1
        );
    }

    #[test]
    fn damaged_lines_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir_all(dir.path().join("intel")).expect("dir");
        fs::write(dir.path().join("intel").join(INDICATORS), "{\"id\":1}\n").expect("write");
        let error = Store::open(dir.path()).expect_err("damaged");
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
