//! Loading rule files: every document parsed, the good ones kept, the bad
//! ones listed with their reasons.

use std::path::Path;

use gsoc_input::Walk;

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
    /// (walked by `gsoc-input`: sorted, so the order is stable; gzip read
    /// as it is). Unreadable files and folders become rejects.
    pub fn load_path(&mut self, path: &Path) {
        let (inputs, problems) = Walk::new()
            .keep(is_yaml)
            .expand(std::slice::from_ref(&path.to_owned()));
        for problem in problems {
            self.reject_io(&problem.file, &problem.message);
        }
        let mut texts = Vec::new();
        for input in inputs {
            let name = input.name();
            match gsoc_input::read_all(&input).map(String::from_utf8) {
                Ok(Ok(text)) => texts.push((name, text)),
                Ok(Err(_)) => self.reject_io(&name, "not UTF-8 text"),
                Err(e) => self.reject_io(&name, &e.to_string()),
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
