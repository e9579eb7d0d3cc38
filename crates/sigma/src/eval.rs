//! Matching compiled programs against one event.

use gsoc_event::names::{NameMeanings, Numbered};
use gsoc_event::{Event, Value};

use crate::compile::FieldTable;
use crate::pattern::lower;
use crate::program::{AnyContains, Expr, FieldId, Matcher, Pred, RefHow, Test};

/// One value of a prepared field: ranges into the prepared buffers.
#[derive(Clone, Copy, Debug)]
struct Val {
    original: (u32, u32),
    lower: (u32, u32),
    null: bool,
}

/// An event prepared once for all rules: every field a rule names, looked
/// up by id, with its text and lower-cased text. Reused between events so
/// that preparing allocates nothing in the steady state.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    generation: u32,
    stamp: Vec<u32>,
    range: Vec<(u32, u32)>,
    vals: Vec<Val>,
    original: String,
    lower: String,
    /// Field ids present in this event, in event order.
    pub(crate) present: Vec<FieldId>,
    /// Whether `vals` holds every value of the event (for keyword search),
    /// not only those of fields the rules name.
    all: bool,
    name_scratch: String,
}

impl Prepared {
    /// Loads an event; `all` also loads the fields no rule names, for
    /// keyword search. Field names are read through `meanings` (the ids of `numbered`,
    /// worked out with `table` the first time each is seen).
    pub(crate) fn load(
        &mut self,
        event: &Event,
        numbered: Numbered<'_>,
        meanings: &mut NameMeanings<Option<FieldId>>,
        table: &FieldTable,
        all: bool,
    ) {
        if self.stamp.len() < table.len() {
            self.stamp.resize(table.len(), 0);
            self.range.resize(table.len(), (0, 0));
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        self.vals.clear();
        self.original.clear();
        self.lower.clear();
        self.present.clear();
        self.all = all;
        meanings.use_table(numbered);
        let mut scratch = std::mem::take(&mut self.name_scratch);
        for (&number, (name, value)) in numbered.ids().iter().zip(event.fields.iter()) {
            let Some(id) = meanings.get(number, || table.lookup(name, &mut scratch)) else {
                if all {
                    self.push_value(value);
                }
                continue;
            };
            let slot = id as usize;
            if self.stamp[slot] == self.generation {
                if all {
                    self.push_value(value);
                }
                continue;
            }
            let start = self.vals.len() as u32;
            self.push_value(value);
            self.stamp[slot] = self.generation;
            self.range[slot] = (start, self.vals.len() as u32);
            self.present.push(id);
        }
        self.name_scratch = scratch;
    }

    fn push_value(&mut self, value: &Value) {
        if let Value::List(items) = value {
            items.iter().for_each(|item| self.push_value(item));
            return;
        }
        let o_start = self.original.len() as u32;
        value.write_text(&mut self.original);
        let o_end = self.original.len() as u32;
        let l_start = self.lower.len() as u32;
        let text = &self.original[o_start as usize..];
        if text.is_ascii() {
            self.lower.push_str(text);
            self.lower[l_start as usize..].make_ascii_lowercase();
        } else {
            self.lower
                .extend(text.chars().flat_map(crate::pattern::fold_char));
        }
        self.vals.push(Val {
            original: (o_start, o_end),
            lower: (l_start, self.lower.len() as u32),
            null: matches!(value, Value::Null),
        });
    }

    #[inline]
    fn vals(&self, id: FieldId) -> Option<&[Val]> {
        let slot = id as usize;
        if self.stamp.get(slot) != Some(&self.generation) {
            return None;
        }
        let (a, b) = self.range[slot];
        Some(&self.vals[a as usize..b as usize])
    }

    #[inline]
    fn text(&self, v: &Val) -> (&str, &str) {
        (
            &self.original[v.original.0 as usize..v.original.1 as usize],
            &self.lower[v.lower.0 as usize..v.lower.1 as usize],
        )
    }

    /// The lower-cased texts of a field's values.
    pub(crate) fn lower_texts(&self, id: FieldId) -> impl Iterator<Item = &str> {
        self.vals(id)
            .unwrap_or_default()
            .iter()
            .map(|v| &self.lower[v.lower.0 as usize..v.lower.1 as usize])
    }

    /// The lower-cased texts of every value of the event (only complete when
    /// loaded with `all`).
    pub(crate) fn all_lower_texts(&self) -> impl Iterator<Item = &str> {
        self.vals
            .iter()
            .map(|v| &self.lower[v.lower.0 as usize..v.lower.1 as usize])
    }

    /// Whether the field has one of these lower-cased values.
    pub(crate) fn has_value(&self, id: FieldId, wanted: &[String]) -> bool {
        self.lower_texts(id).any(|t| wanted.iter().any(|w| w == t))
    }
}

/// Evaluates programs against one prepared event.
pub(crate) struct Eval<'a> {
    pub(crate) prepared: &'a Prepared,
    pub(crate) event: &'a Event,
}

impl<'a> Eval<'a> {
    /// An evaluator for one event.
    pub(crate) fn new(prepared: &'a Prepared, event: &'a Event) -> Self {
        Eval { prepared, event }
    }

    /// Whether `expr` holds.
    pub(crate) fn holds(&self, expr: &Expr, preds: &[Pred]) -> bool {
        match expr {
            Expr::Pred(i) => self.pred(&preds[*i as usize]),
            Expr::Not(inner) => !self.holds(inner, preds),
            Expr::And(items) => items.iter().all(|e| self.holds(e, preds)),
            Expr::Or(items) => items.iter().any(|e| self.holds(e, preds)),
            Expr::AtLeast(n, items) => {
                items
                    .iter()
                    .filter(|e| self.holds(e, preds))
                    .take(*n)
                    .count()
                    == *n
            }
        }
    }

    /// The fields of the predicates that made `expr` hold (not those under a
    /// negation), in the order met.
    pub(crate) fn explain(&self, expr: &Expr, preds: &[Pred], out: &mut Vec<Matched>) {
        match expr {
            Expr::Pred(i) => {
                let pred = &preds[*i as usize];
                if !self.pred(pred) {
                    return;
                }
                match pred.field {
                    Some(id) if !out.contains(&Matched::Field(id)) => out.push(Matched::Field(id)),
                    Some(_) => {}
                    None => {
                        for name in self.keyword_fields(&pred.test) {
                            if !out.contains(&Matched::Named(name.clone())) {
                                out.push(Matched::Named(name));
                            }
                        }
                    }
                }
            }
            Expr::And(items) | Expr::AtLeast(_, items) => {
                for e in items.iter().filter(|e| self.holds(e, preds)) {
                    self.explain(e, preds, out);
                }
            }
            Expr::Or(items) => {
                if let Some(e) = items.iter().find(|e| self.holds(e, preds)) {
                    self.explain(e, preds, out);
                }
            }
            Expr::Not(_) => {}
        }
    }

    fn pred(&self, pred: &Pred) -> bool {
        let Some(field) = pred.field else {
            return self.keyword(&pred.test);
        };
        let vals = self.prepared.vals(field);
        match &pred.test {
            Test::Null => {
                vals.is_none_or(|vals| vals.iter().all(|v| v.null || v.original.0 == v.original.1))
            }
            Test::Exists(wanted) => vals.is_some() == *wanted,
            Test::Never => false,
            Test::Values {
                specs,
                all,
                neq,
                any,
            } => {
                let Some(vals) = vals else { return false };
                self.values_match(vals, specs, *all, any.as_ref()) != *neq
            }
            Test::FieldRef {
                other,
                how,
                neq,
                cased,
            } => {
                let (Some(vals), Some(others)) = (vals, self.prepared.vals(*other)) else {
                    return false;
                };
                let hit = vals.iter().any(|v| {
                    others.iter().any(|o| {
                        let (vo, vl) = self.prepared.text(v);
                        let (oo, ol) = self.prepared.text(o);
                        let (a, b) = if *cased { (vo, oo) } else { (vl, ol) };
                        match how {
                            RefHow::Equal => a == b,
                            RefHow::Contains => a.contains(b),
                            RefHow::StartsWith => a.starts_with(b),
                            RefHow::EndsWith => a.ends_with(b),
                        }
                    })
                });
                hit != *neq
            }
        }
    }

    fn values_match(
        &self,
        vals: &[Val],
        specs: &[Vec<Matcher>],
        all: bool,
        any: Option<&AnyContains>,
    ) -> bool {
        let spec_hit = |spec: &Vec<Matcher>| {
            vals.iter().any(|v| {
                let (original, lower) = self.prepared.text(v);
                spec.iter().any(|m| m.is_match(original, lower))
            })
        };
        if all {
            return specs.iter().all(spec_hit);
        }
        let any_hit = any.is_some_and(|a| vals.iter().any(|v| a.is_match(self.prepared.text(v).1)));
        any_hit || specs.iter().any(spec_hit)
    }

    /// Keyword search: any value of any field of the event.
    fn keyword(&self, test: &Test) -> bool {
        let Test::Values {
            specs,
            all,
            neq,
            any,
        } = test
        else {
            return false;
        };
        debug_assert!(self.prepared.all, "keyword search needs every value loaded");
        self.values_match(&self.prepared.vals, specs, *all, any.as_ref()) != *neq
    }

    /// The names of the event fields a keyword search matched in.
    fn keyword_fields(&self, test: &Test) -> Vec<String> {
        let Test::Values { specs, any, .. } = test else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, value) in self.event.fields.iter() {
            let mut texts = Vec::new();
            collect_texts(value, &mut texts);
            let hit = texts.iter().any(|(original, lower)| {
                any.as_ref().is_some_and(|a| a.is_match(lower.as_str()))
                    || specs.iter().flatten().any(|m| m.is_match(original, lower))
            });
            if hit {
                out.push(name.to_owned());
            }
        }
        out
    }
}

/// A field that contributed to a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Matched {
    /// A field a predicate named.
    Field(FieldId),
    /// A field a keyword was found in.
    Named(String),
}

fn collect_texts(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::List(items) => items.iter().for_each(|i| collect_texts(i, out)),
        Value::Null => {}
        other => {
            let text = other.to_text();
            let lowered = lower(&text);
            out.push((text, lowered));
        }
    }
}
