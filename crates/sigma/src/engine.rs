//! The engine: compiled rules, the log-source mapping and the lazily built
//! per-class indexes; and the per-thread [`Session`] that matches events.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use gsoc_event::names::{NameMeanings, Names, Numbered};
use gsoc_event::{Detection, DetectionKind, Event, Fields, Level, RuleInfo, Value};
use rustc_hash::{FxHashMap, FxHasher};

use crate::compile::{self, Context, FieldTable};
use crate::error::Error;
use crate::eval::{Eval, Matched, Prepared};
use crate::index::{self, Candidate, ClassIndex, FieldIndex, RuleView};
use crate::mapping::{EventClass, Mapping};
use crate::parallel;
use crate::program::{ANY_FIELD, FieldId, Program};
use crate::rule::{Correlation, Filter, LogSourceSpec, Rule};
use crate::ruleset::{Reject, RuleSet};

/// A loaded rule that works but deserves a note (an undefined placeholder).
#[derive(Clone, Debug)]
pub struct Warning {
    /// The file.
    pub path: String,
    /// The rule's id.
    pub id: Option<String>,
    /// What to know.
    pub message: String,
}

/// Builds an [`Engine`] from a [`RuleSet`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    mapping: Mapping,
    placeholders: HashMap<String, Vec<String>>,
    min_level: Level,
    statuses: Vec<String>,
    prefilter: bool,
    eager_regex: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            mapping: Mapping::builtin(),
            placeholders: HashMap::new(),
            min_level: Level::Informational,
            statuses: Vec::new(),
            prefilter: true,
            eager_regex: false,
        }
    }
}

impl EngineBuilder {
    /// A builder with the built-in log-source mapping, no placeholders and
    /// no level or status filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the log-source mapping (default: [`Mapping::builtin`]).
    pub fn mapping(&mut self, mapping: Mapping) -> &mut Self {
        self.mapping = mapping;
        self
    }

    /// Gives a placeholder (`%Servers%` → `Servers`) its values. A rule using
    /// `|expand` on a placeholder with no values loads with a warning, and
    /// that value matches nothing.
    pub fn placeholder(&mut self, name: &str, values: Vec<String>) -> &mut Self {
        self.placeholders.insert(name.to_owned(), values);
        self
    }

    /// Only keeps rules of this level or above (default: all).
    pub fn min_level(&mut self, level: Level) -> &mut Self {
        self.min_level = level;
        self
    }

    /// Only keeps rules with one of these statuses (default: all).
    pub fn statuses(&mut self, statuses: Vec<String>) -> &mut Self {
        self.statuses = statuses
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        self
    }

    /// Turns the literal pre-filter off, so every rule whose log source
    /// covers an event is evaluated in full (default: on). The results are
    /// the same, only slower; tests use it to check the pre-filter.
    pub fn prefilter(&mut self, on: bool) -> &mut Self {
        self.prefilter = on;
        self
    }

    /// Compiles every regular expression while building, so that an
    /// expression too large to compile is reported as a reject (default:
    /// off; expressions are compiled on first use, and one that cannot be
    /// compiled then matches nothing).
    pub fn compile_regexes_now(&mut self, on: bool) -> &mut Self {
        self.eager_regex = on;
        self
    }

    /// Compiles every rule of the set. Rules that fail to compile are
    /// listed in [`Engine::rejects`] with the parse rejects.
    pub fn build(&self, set: &RuleSet) -> Engine {
        let wanted: Vec<&Rule> = set.rules.iter().filter(|r| self.wanted(r)).collect();
        let with_filters: Vec<(&Rule, Vec<&Filter>)> = wanted
            .iter()
            .map(|rule| {
                (
                    *rule,
                    set.filters
                        .iter()
                        .filter(|f| filter_applies(f, rule))
                        .collect(),
                )
            })
            .collect();
        let fields = self.intern_fields(&with_filters);
        let lookup = |name: &str| self.placeholders.get(name).cloned();
        // Compiling is independent per rule: spread it over the CPUs.
        let compiled = parallel::map(&with_filters, |(rule, filters)| {
            compile_rule(
                rule,
                filters,
                &self.mapping,
                &fields,
                &lookup,
                self.eager_regex,
            )
        });
        let mut engine = Engine {
            rules: Vec::new(),
            programs: Vec::new(),
            fields,
            mapping: self.mapping.clone(),
            indexes: Mutex::new(Indexes::default()),
            rejects: set.rejects.clone(),
            warnings: Vec::new(),
            skipped: set.rules.len() - wanted.len(),
            correlations: set.correlations.clone(),
            prefilter: self.prefilter,
        };
        for ((rule, _), outcome) in with_filters.iter().zip(compiled) {
            match outcome {
                Ok(output) => engine.add_rule(rule, output),
                Err(error) => engine.rejects.push(Reject {
                    path: rule.meta.path.clone(),
                    id: rule.meta.id.clone(),
                    title: Some(rule.meta.title.clone()),
                    error: error.in_file(&rule.meta.path),
                }),
            }
        }
        engine.link_correlations();
        engine
    }

    /// Interns every field name compiling can ask for, under every rename
    /// table, so that compiling needs only shared access.
    fn intern_fields(&self, rules: &[(&Rule, Vec<&Filter>)]) -> FieldTable {
        let mut fields = FieldTable::default();
        for entry in &self.mapping.categories {
            for (field, _) in &entry.conditions {
                fields.intern(field);
            }
        }
        for (rule, filters) in rules {
            let detections =
                std::iter::once(&rule.detection).chain(filters.iter().map(|f| &f.detection));
            let names: Vec<&str> = detections.flat_map(compile::field_names).collect();
            for renames in self.mapping.field_maps_for(&rule.logsource) {
                for name in &names {
                    fields.intern(compile::rename(&renames, name));
                }
            }
        }
        fields
    }

    fn wanted(&self, rule: &Rule) -> bool {
        rule.meta.level >= self.min_level
            && (self.statuses.is_empty()
                || self
                    .statuses
                    .contains(&rule.meta.status.to_ascii_lowercase()))
    }
}

/// Reads a placeholder file: a YAML mapping from placeholder name (without
/// `%`) to a value or a list of values.
pub fn parse_placeholders(path: &str, text: &str) -> Result<Vec<(String, Vec<String>)>, Error> {
    let docs = crate::yaml::parse_documents(text)
        .map_err(|e| Error::at(crate::ErrorKind::Yaml, e.pos, e.message).in_file(path))?;
    let Some(doc) = docs.first() else {
        return Ok(Vec::new());
    };
    let entries = doc.as_map().ok_or_else(|| {
        Error::at(
            crate::ErrorKind::Structure,
            doc.pos,
            "placeholders must be a mapping of name to values",
        )
        .in_file(path)
    })?;
    Ok(entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.trim_matches('%').to_owned(), v.strings())))
        .collect())
}

fn filter_applies(filter: &Filter, rule: &Rule) -> bool {
    let covers = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    let ls = &filter.logsource;
    covers(&ls.category, &rule.logsource.category)
        && covers(&ls.product, &rule.logsource.product)
        && covers(&ls.service, &rule.logsource.service)
        && (filter.rules.is_empty()
            || filter
                .rules
                .iter()
                .any(|r| Some(r) == rule.meta.id.as_ref() || Some(r) == rule.meta.name.as_ref()))
}

/// A compiled rule.
#[derive(Debug)]
struct CompiledRule {
    info: Arc<RuleInfo>,
    /// The rule's `name`, by which correlations may refer to it.
    name: Option<String>,
    logsource: LogSourceSpec,
    variants: Vec<(Vec<(String, String)>, u32)>,
    /// The event fields correlation rules read from its detections.
    correlated_fields: Vec<String>,
}

/// Whether a correlation's `rules:` entry names this rule (by id or name).
fn refers_to(rule: &CompiledRule, reference: &str) -> bool {
    rule.info.id == reference || rule.name.as_deref() == Some(reference)
}

/// A rule's id and name, for correlations.
pub(crate) fn rule_names(engine: &Engine) -> Vec<(String, Option<String>)> {
    engine
        .rules
        .iter()
        .map(|r| (r.info.id.clone(), r.name.clone()))
        .collect()
}

/// An event field by name, compared without case when no field has the
/// exact name (as Sigma compares field names).
fn field_ignoring_case<'e>(event: &'e Event, name: &str) -> Option<&'e gsoc_event::Value> {
    event.fields.get(name).or_else(|| {
        event
            .fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Compiled Sigma rules, ready to match events from any number of threads
/// (each through its own [`Session`]).
#[derive(Debug)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    programs: Vec<Program>,
    fields: FieldTable,
    mapping: Mapping,
    indexes: Mutex<Indexes>,
    rejects: Vec<Reject>,
    warnings: Vec<Warning>,
    skipped: usize,
    correlations: Vec<Correlation>,
    prefilter: bool,
}

impl Engine {
    fn add_rule(&mut self, rule: &Rule, output: RuleOutput) {
        let base = u32::try_from(self.programs.len()).expect("fewer than 4 billion programs");
        self.programs.extend(output.programs);
        if !output.missing_placeholders.is_empty() {
            self.warnings.push(Warning {
                path: rule.meta.path.clone(),
                id: rule.meta.id.clone(),
                message: format!(
                    "placeholder {} has no value, so values using it match nothing; give it one with --placeholders",
                    output
                        .missing_placeholders
                        .iter()
                        .map(|m| format!("%{m}%"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        self.rules.push(CompiledRule {
            info: Arc::new(rule_info(rule)),
            name: rule.meta.name.clone(),
            correlated_fields: Vec::new(),
            logsource: rule.logsource.clone(),
            variants: output
                .variants
                .into_iter()
                .map(|(renames, local)| (renames, base + local))
                .collect(),
        });
    }

    /// Tells each rule a correlation refers to which event fields to keep
    /// with its detections (group-by fields, through aliases, and the
    /// value field).
    fn link_correlations(&mut self) {
        for correlation in &self.correlations {
            for reference in &correlation.rules {
                let Some(rule) = self.rules.iter_mut().find(|r| refers_to(r, reference)) else {
                    continue;
                };
                let needed =
                    crate::correlate::fields_for(correlation, reference, rule.name.as_deref());
                for field in needed {
                    if !rule.correlated_fields.contains(&field) {
                        rule.correlated_fields.push(field);
                    }
                }
            }
        }
    }

    /// The rules that compiled, in load order.
    pub fn rules(&self) -> impl Iterator<Item = &Arc<RuleInfo>> {
        self.rules.iter().map(|r| &r.info)
    }

    /// How many rules compiled.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Rules that did not parse or compile, with the reason.
    pub fn rejects(&self) -> &[Reject] {
        &self.rejects
    }

    /// Rules that loaded with a note.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Rules left out by the level or status filter.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Correlation rules found in the rule files (evaluated by the triage
    /// stage, not by this engine).
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// A matching session for one thread.
    pub fn session(&self) -> Session<'_> {
        Session {
            engine: self,
            prepared: Prepared::default(),
            names: Names::new(),
            meanings: NameMeanings::default(),
            cache: FxHashMap::default(),
            marks: Vec::new(),
            generation: 0,
            hits: Vec::new(),
            explained: Vec::new(),
        }
    }

    fn class_index(&self, class: EventClass) -> Arc<ClassIndex> {
        if let Some(index) = self.lock_indexes().by_class.get(&class) {
            return Arc::clone(index);
        }
        // Work out the candidates and build the index without holding the
        // lock, so other threads keep matching meanwhile; if two threads
        // build the same index, the first one stored wins.
        let views: Vec<RuleView<'_>> = self
            .rules
            .iter()
            .map(|r| RuleView {
                logsource: &r.logsource,
                variants: &r.variants,
            })
            .collect();
        let guard_field = |name: &str| {
            let mut scratch = String::new();
            self.fields
                .lookup(name, &mut scratch)
                .expect("guard fields are interned at build time")
        };
        let candidates = index::candidates(&class, &views, &self.mapping, &guard_field);
        let shared = self.lock_indexes().by_candidates.get(&candidates).cloned();
        let index = shared.unwrap_or_else(|| {
            Arc::new(ClassIndex::build(
                candidates.clone(),
                &self.programs,
                self.prefilter,
            ))
        });
        let mut indexes = self.lock_indexes();
        let index = Arc::clone(indexes.by_candidates.entry(candidates).or_insert(index));
        indexes.by_class.insert(class, Arc::clone(&index));
        index
    }

    fn lock_indexes(&self) -> std::sync::MutexGuard<'_, Indexes> {
        // A poisoned lock only means another thread panicked while holding
        // it; the maps themselves are always consistent.
        self.indexes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Class indexes, built on first use and shared between classes with the
/// same candidates.
#[derive(Debug, Default)]
struct Indexes {
    by_class: FxHashMap<EventClass, Arc<ClassIndex>>,
    by_candidates: FxHashMap<Vec<Candidate>, Arc<ClassIndex>>,
}

/// One rule compiled: its programs (one per rename table that touches its
/// fields) and, for every rename table, which of them to use.
struct RuleOutput {
    programs: Vec<Program>,
    variants: Vec<(Vec<(String, String)>, u32)>,
    missing_placeholders: Vec<String>,
}

fn compile_rule(
    rule: &Rule,
    filters: &[&Filter],
    mapping: &Mapping,
    fields: &FieldTable,
    placeholders: &(dyn Fn(&str) -> Option<Vec<String>> + Sync),
    eager_regex: bool,
) -> Result<RuleOutput, Error> {
    let filter_detections: Vec<_> = filters.iter().map(|f| &f.detection).collect();
    let used = rule_fields(rule);
    let mut output = RuleOutput {
        programs: Vec::new(),
        variants: Vec::new(),
        missing_placeholders: Vec::new(),
    };
    for renames in mapping.field_maps_for(&rule.logsource) {
        let touches = renames.iter().any(|(from, _)| used.contains(from));
        if !touches && !output.programs.is_empty() {
            output.variants.push((renames, 0));
            continue;
        }
        let mut ctx = Context {
            fields,
            renames: &renames,
            placeholders,
            missing_placeholders: Vec::new(),
            eager_regex,
        };
        let program = compile::compile(&rule.detection, &filter_detections, &mut ctx)?;
        output.missing_placeholders.extend(ctx.missing_placeholders);
        output
            .variants
            .push((renames, output.programs.len() as u32));
        output.programs.push(program);
    }
    output.missing_placeholders.sort();
    output.missing_placeholders.dedup();
    Ok(output)
}

fn rule_info(rule: &Rule) -> RuleInfo {
    RuleInfo {
        id: rule
            .meta
            .id
            .clone()
            .unwrap_or_else(|| rule.meta.title.clone()),
        title: rule.meta.title.clone(),
        level: rule.meta.level,
        author: rule.meta.author.clone(),
        tags: rule.meta.tags.clone(),
        status: rule.meta.status.clone(),
        path: rule.meta.path.clone(),
    }
}

fn rule_fields(rule: &Rule) -> Vec<String> {
    rule.detection
        .searches
        .iter()
        .flat_map(|s| s.alternatives.iter().flatten())
        .filter_map(|item| item.field.clone())
        .collect()
}

/// The part of an event that decides its class, owned, to verify cache hits.
#[derive(Debug, PartialEq, Eq)]
struct ClassKey {
    product: Option<String>,
    source: Option<String>,
    event_id: Option<i64>,
    category: Option<String>,
}

impl ClassKey {
    fn of(event: &Event) -> ClassKey {
        let (product, source, event_id, category) = key_parts(event);
        ClassKey {
            product: product.map(str::to_owned),
            source: source.map(str::to_ascii_lowercase),
            event_id,
            category: category.map(str::to_owned),
        }
    }

    fn matches(&self, event: &Event) -> bool {
        let (product, source, event_id, category) = key_parts(event);
        self.product.as_deref() == product
            && self.event_id == event_id
            && self.category.as_deref() == category
            && match (&self.source, source) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
    }
}

fn key_parts(event: &Event) -> (Option<&str>, Option<&str>, Option<i64>, Option<&str>) {
    let product = event.logsource.product.as_deref();
    let source = match product {
        Some("windows") => event.fields.get_str("Channel"),
        _ => event.logsource.service.as_deref(),
    };
    let event_id = event.fields.get("EventID").and_then(Value::as_i64);
    (
        product,
        source,
        event_id,
        event.logsource.category.as_deref(),
    )
}

fn key_hash(event: &Event) -> u64 {
    let (product, source, event_id, category) = key_parts(event);
    let mut h = FxHasher::default();
    product.hash(&mut h);
    if let Some(s) = source {
        for b in s.bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
    }
    event_id.hash(&mut h);
    category.hash(&mut h);
    h.finish()
}

/// Matches events for one thread. Keeps its scratch buffers and a cache of
/// class indexes between events, so matching allocates little.
pub struct Session<'e> {
    engine: &'e Engine,
    prepared: Prepared,
    /// Numbers field names for [`detect`](Self::detect).
    names: Names,
    /// The rules' field id for each numbered name.
    meanings: NameMeanings<Option<FieldId>>,
    cache: FxHashMap<u64, (ClassKey, Arc<ClassIndex>)>,
    marks: Vec<u32>,
    generation: u32,
    hits: Vec<u32>,
    explained: Vec<Matched>,
}

impl Session<'_> {
    /// Matches one event against every rule whose log source covers it and
    /// hands each detection to `sink`. Returns the number of detections.
    pub fn detect(&mut self, event: &Event, sink: impl FnMut(Detection)) -> usize {
        let mut names = std::mem::take(&mut self.names);
        let emitted = self.detect_numbered(event, names.number(&event.fields), sink);
        self.names = names;
        emitted
    }

    /// [`detect`](Self::detect) for an event whose field names are already
    /// numbered (by a table shared with the other matchers of this thread).
    pub fn detect_numbered(
        &mut self,
        event: &Event,
        numbered: Numbered<'_>,
        mut sink: impl FnMut(Detection),
    ) -> usize {
        let index = self.index_for(event);
        self.prepared.load(
            event,
            numbered,
            &mut self.meanings,
            &self.engine.fields,
            index.needs_all_values,
        );
        self.collect_hits(&index);
        let eval = Eval::new(&self.prepared, event);
        let mut emitted = 0;
        let mut last_rule = None;
        let (mut hits, mut always) = (self.hits.iter().peekable(), index.always.iter().peekable());
        loop {
            let next = match (hits.peek(), always.peek()) {
                (Some(h), Some(a)) if h <= a => hits.next(),
                (Some(_), Some(_)) | (None, Some(_)) => always.next(),
                (Some(_), None) => hits.next(),
                (None, None) => break,
            };
            let candidate = &index.candidates[*next.expect("peeked") as usize];
            if last_rule == Some(candidate.rule) || !self.guard_holds(candidate.guard.as_ref()) {
                continue;
            }
            let program = &self.engine.programs[candidate.program as usize];
            if !eval.holds(&program.expr, &program.preds) {
                continue;
            }
            last_rule = Some(candidate.rule);
            self.explained.clear();
            eval.explain(&program.expr, &program.preds, &mut self.explained);
            let rule = &self.engine.rules[candidate.rule as usize];
            sink(detection(rule, event, &self.explained, &self.engine.fields));
            emitted += 1;
        }
        emitted
    }

    fn index_for(&mut self, event: &Event) -> Arc<ClassIndex> {
        let hash = key_hash(event);
        if let Some((key, index)) = self.cache.get(&hash)
            && key.matches(event)
        {
            return Arc::clone(index);
        }
        let index = self.engine.class_index(self.engine.mapping.classify(event));
        self.cache
            .insert(hash, (ClassKey::of(event), Arc::clone(&index)));
        index
    }

    fn collect_hits(&mut self, index: &ClassIndex) {
        self.hits.clear();
        if self.marks.len() < index.candidates.len() {
            self.marks.resize(index.candidates.len(), 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
        let (marks, hits, generation) = (&mut self.marks, &mut self.hits, self.generation);
        let mut mark = |targets: &[u32]| {
            for &target in targets {
                let mark = &mut marks[target as usize];
                if *mark != generation {
                    *mark = generation;
                    hits.push(target);
                }
            }
        };
        let mut scan = |field_index: &FieldIndex, text: &str| {
            if let Some(targets) = field_index.exact.get(text) {
                mark(targets);
            }
            if let Some(automaton) = &field_index.automaton {
                for m in automaton.find_overlapping_iter(text) {
                    mark(&field_index.targets[m.pattern().as_usize()]);
                }
            }
        };
        for &field in &self.prepared.present {
            if let Some(&slot) = index.field_slot.get(&field) {
                let field_index = &index.fields[slot as usize];
                self.prepared
                    .lower_texts(field)
                    .for_each(|text| scan(field_index, text));
            }
        }
        if let Some(&slot) = index.field_slot.get(&ANY_FIELD) {
            let field_index = &index.fields[slot as usize];
            self.prepared
                .all_lower_texts()
                .for_each(|text| scan(field_index, text));
        }
        self.hits.sort_unstable();
    }

    fn guard_holds(&self, guard: Option<&crate::index::Guard>) -> bool {
        guard.is_none_or(|alternatives| {
            alternatives.iter().any(|all| {
                all.iter()
                    .all(|(field, values)| self.prepared.has_value(*field, values))
            })
        })
    }
}

fn detection(
    rule: &CompiledRule,
    event: &Event,
    explained: &[Matched],
    table: &FieldTable,
) -> Detection {
    let mut context = Fields::new();
    for name in &rule.correlated_fields {
        if let Some(value) = field_ignoring_case(event, name) {
            context.push(name.as_str(), value.clone());
        }
    }
    let mut fields = Fields::new();
    let mut scratch = String::new();
    for (name, value) in event.fields.iter() {
        let named = explained.iter().any(|m| match m {
            Matched::Field(id) => table.lookup(name, &mut scratch) == Some(*id),
            Matched::Named(n) => n == name,
        });
        if named && !fields.contains(name) {
            fields.push(name, value.clone());
        }
    }
    Detection {
        event_time: event.time,
        host: event.host().map(str::to_owned),
        context,
        ..Detection::new(
            DetectionKind::Sigma,
            Arc::clone(&rule.info),
            event.source.clone(),
            fields,
        )
    }
}
