//! The per-class candidate index: for one class of events (say Sysmon
//! event 1), which rule programs can apply, and an Aho-Corasick automaton
//! per field over the literals those programs require. Matching an event
//! then scans each field once and evaluates only the programs whose
//! literals occur, plus the few that have no required literal.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;

use crate::mapping::{Applicability, EventClass, Mapping};
use crate::program::{FieldId, Program};
use crate::rule::LogSourceSpec;

/// Extra conditions a category entry puts on events (`EventType:
/// CreateKey`): alternatives, each a list of (field, allowed lower-cased
/// values) that must all hold.
pub(crate) type Guard = Vec<Vec<(FieldId, Vec<String>)>>;

/// A program that may apply to this class.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Candidate {
    pub(crate) program: u32,
    pub(crate) rule: u32,
    pub(crate) guard: Option<Guard>,
}

/// The automaton for one field.
#[derive(Debug)]
pub(crate) struct FieldIndex {
    /// The literals to find inside values, when there are any.
    pub(crate) automaton: Option<AhoCorasick>,
    /// For each pattern, the candidates it admits.
    pub(crate) targets: Vec<Vec<u32>>,
    /// Whole lower-cased values (from exact matches) and the candidates each
    /// admits: one hash lookup per value instead of a scan.
    pub(crate) exact: FxHashMap<Box<str>, Vec<u32>>,
}

/// Everything the engine needs for one class of events.
#[derive(Debug, Default)]
pub(crate) struct ClassIndex {
    pub(crate) candidates: Vec<Candidate>,
    /// Candidates without a required literal, evaluated for every event.
    pub(crate) always: Vec<u32>,
    /// Field id → index into `fields`.
    pub(crate) field_slot: FxHashMap<FieldId, u32>,
    pub(crate) fields: Vec<FieldIndex>,
    /// Whether some candidate searches keywords, so events need every value
    /// loaded.
    pub(crate) needs_all_values: bool,
}

/// What [`candidates`] reads about each rule.
pub(crate) struct RuleView<'a> {
    pub(crate) logsource: &'a LogSourceSpec,
    /// (field renames, program) for every rename table of the rule's
    /// category in the mapping; the first has no renames. Tables that do
    /// not touch the rule's fields share its plain program.
    pub(crate) variants: &'a [(Vec<(String, String)>, u32)],
}

/// The programs that may apply to a class of events, in rule order. Many
/// classes share the same list (every Security event id but 4688, say), so
/// the engine keys its indexes by this list.
pub(crate) fn candidates(
    class: &EventClass,
    rules: &[RuleView<'_>],
    mapping: &Mapping,
    guard_field: &dyn Fn(&str) -> FieldId,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    // Rules share a few hundred distinct log sources; work each out once.
    let mut seen: FxHashMap<&LogSourceSpec, Applicability> = FxHashMap::default();
    for (rule_no, rule) in rules.iter().enumerate() {
        let rule_no = u32::try_from(rule_no).expect("fewer than 4 billion rules");
        let applicability = seen
            .entry(rule.logsource)
            .or_insert_with(|| mapping.applicability(rule.logsource, class));
        match applicability {
            Applicability::No => {}
            Applicability::Direct => out.push(Candidate {
                program: rule.variants[0].1,
                rule: rule_no,
                guard: None,
            }),
            Applicability::Via(entries) => {
                for (renames, program) in rule.variants {
                    let matching: Vec<_> = entries
                        .iter()
                        .map(|e| &mapping.categories[*e])
                        .filter(|e| &e.fields == renames)
                        .collect();
                    if matching.is_empty() {
                        continue;
                    }
                    let guard = (!matching.iter().any(|e| e.conditions.is_empty())).then(|| {
                        matching
                            .iter()
                            .map(|e| {
                                e.conditions
                                    .iter()
                                    .map(|(f, v)| (guard_field(f), v.clone()))
                                    .collect()
                            })
                            .collect()
                    });
                    out.push(Candidate {
                        program: *program,
                        rule: rule_no,
                        guard,
                    });
                }
            }
        }
    }
    out
}

/// The longest literal the automata hold, in bytes. Any piece of a required
/// literal is itself required, so cutting literals keeps the pre-filter
/// exact while bounding the automata: the 4,438 driver hashes of one
/// SigmaHQ rule shrink from 180,000 automaton states to a few thousand.
const MAX_LITERAL: usize = 16;

fn truncate(literal: &str) -> &str {
    if literal.len() <= MAX_LITERAL {
        return literal;
    }
    let mut end = MAX_LITERAL;
    while !literal.is_char_boundary(end) {
        end -= 1;
    }
    &literal[..end]
}

impl ClassIndex {
    /// Builds the index over a candidate list.
    pub(crate) fn build(
        candidates: Vec<Candidate>,
        programs: &[Program],
        prefilter: bool,
    ) -> ClassIndex {
        let mut index = ClassIndex {
            candidates,
            ..ClassIndex::default()
        };
        index.build_automata(programs, prefilter);
        index
    }

    fn build_automata(&mut self, programs: &[Program], prefilter: bool) {
        let mut per_field: FxHashMap<FieldId, FieldLiterals<'_>> = FxHashMap::default();
        for (i, candidate) in self.candidates.iter().enumerate() {
            let i = i as u32;
            let program = &programs[candidate.program as usize];
            self.needs_all_values |= program.preds.iter().any(|p| p.field.is_none());
            let Some(atoms) = program.required.as_ref().filter(|_| prefilter) else {
                self.always.push(i);
                continue;
            };
            for atom in atoms {
                let literals = per_field.entry(atom.field).or_default();
                let targets = if atom.exact {
                    literals.exact.entry(&atom.literal).or_default()
                } else {
                    literals.inner.entry(truncate(&atom.literal)).or_default()
                };
                if targets.last() != Some(&i) {
                    targets.push(i);
                }
            }
        }
        let mut fields: Vec<_> = per_field.into_iter().collect();
        fields.sort_by_key(|(f, _)| *f);
        for (field, literals) in fields {
            self.field_slot.insert(field, self.fields.len() as u32);
            self.fields.push(literals.into_index());
        }
    }
}

/// The literals of one field, before they become a [`FieldIndex`].
#[derive(Default)]
struct FieldLiterals<'a> {
    inner: FxHashMap<&'a str, Vec<u32>>,
    exact: FxHashMap<&'a str, Vec<u32>>,
}

impl FieldLiterals<'_> {
    fn into_index(self) -> FieldIndex {
        let mut inner: Vec<_> = self.inner.into_iter().collect();
        inner.sort();
        let automaton = (!inner.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(inner.iter().map(|(l, _)| l.as_bytes()))
                .expect("literal automata stay far below aho-corasick's size limits")
        });
        FieldIndex {
            automaton,
            targets: inner.into_iter().map(|(_, t)| t).collect(),
            exact: self
                .exact
                .into_iter()
                .map(|(l, t)| (Box::from(l), t))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn literals_are_cut_on_character_boundaries() {
        assert_eq!(truncate("short"), "short");
        assert_eq!(truncate("md5=0123456789abcdef0123"), "md5=0123456789ab");
        assert_eq!(truncate("ааааааааа"), "аааааааа");
    }
}
