//! Loading rule files: every document parsed, the good ones kept, the bad
//! ones listed with their reasons.

use std::path::Path;

use walkdir::WalkDir;

use crate::error::{Error, ErrorKind};
use crate::parallel;
use crate::rule::{Correlation, Document, Filter, Rule, parse_document};
use crate::yaml;

/// A rule that could not be loaded.
#[derive(Clone, Debug)]
pub struct Reject {
    /// The file.
    pub path: String,
    /// The rule's id, when it got that far.
    pub id: Option<String>,
    /// The rule's title, when it got that far.
    pub title: Option<String>,
    /// Why.
    pub error: Error,
}

/// Rules, meta filters and correlations loaded from files, with the
/// documents that were rejected.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) correlations: Vec<Correlation>,
    pub(crate) rejects: Vec<Reject>,
}

impl RuleSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads a rule file, or every `.yml`/`.yaml` file under a directory
    /// (sorted, so the order is stable). Unreadable files become rejects.
    pub fn load_path(&mut self, path: &Path) {
        let mut files: Vec<_> = WalkDir::new(path)
            .follow_links(true)
            .into_iter()
            .filter_map(|entry| match entry {
                Ok(e) if e.file_type().is_file() => Some(Ok(e.into_path())),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect();
        files.sort_by(|a, b| match (a, b) {
            (Ok(a), Ok(b)) => a.cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
        let single_file = path.is_file();
        let mut texts = Vec::new();
        for file in files {
            match file {
                Ok(file) if single_file || is_yaml(&file) => {
                    let name = file.display().to_string();
                    match std::fs::read(&file).map(String::from_utf8) {
                        Ok(Ok(text)) => texts.push((name, text)),
                        Ok(Err(_)) => self.reject_io(&name, "not UTF-8 text"),
                        Err(e) => self.reject_io(&name, &e.to_string()),
                    }
                }
                Ok(_) => {}
                Err(e) => self.reject_io(
                    &e.path().unwrap_or(path).display().to_string(),
                    &e.to_string(),
                ),
            }
        }
        self.add_texts(&texts);
    }

    /// Adds many files' texts, parsed on every CPU, in the order given.
    pub fn add_texts(&mut self, files: &[(String, String)]) {
        for parsed in parallel::map(files, |(path, text)| {
            let mut one = RuleSet::new();
            one.add_text(path, text);
            one
        }) {
            self.rules.extend(parsed.rules);
            self.filters.extend(parsed.filters);
            self.correlations.extend(parsed.correlations);
            self.rejects.extend(parsed.rejects);
        }
    }

    fn reject_io(&mut self, path: &str, message: &str) {
        self.rejects.push(Reject {
            path: path.to_owned(),
            id: None,
            title: None,
            error: Error::new(ErrorKind::Io, None, message).in_file(path),
        });
    }

    /// Adds every document of one file's text. `path` names it in errors.
    pub fn add_text(&mut self, path: &str, text: &str) {
        let docs = match yaml::parse_documents(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.rejects.push(Reject {
                    path: path.to_owned(),
                    id: None,
                    title: None,
                    error: Error::at(ErrorKind::Yaml, e.pos, e.message).in_file(path),
                });
                return;
            }
        };
        for doc in docs
            .iter()
            .filter(|d| d.as_map().is_some_and(|m| !m.is_empty()))
        {
            match parse_document(doc) {
                Ok(Document::Rule(mut rule)) => {
                    rule.meta.path = path.to_owned();
                    self.rules.push(rule);
                }
                Ok(Document::Filter(mut filter)) => {
                    filter.meta.path = path.to_owned();
                    self.filters.push(filter);
                }
                Ok(Document::Correlation(mut correlation)) => {
                    correlation.meta.path = path.to_owned();
                    self.correlations.push(correlation);
                }
                Err(error) => self.rejects.push(Reject {
                    path: path.to_owned(),
                    id: doc
                        .get("id")
                        .and_then(yaml::Node::as_str)
                        .map(str::to_owned),
                    title: doc
                        .get("title")
                        .and_then(yaml::Node::as_str)
                        .map(str::to_owned),
                    error: error.in_file(path),
                }),
            }
        }
    }

    /// The detection rules that parsed.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The meta filters that parsed.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The correlation rules that parsed.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// The documents that did not parse.
    pub fn rejects(&self) -> &[Reject] {
        &self.rejects
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}
