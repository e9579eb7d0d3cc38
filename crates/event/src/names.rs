//! Field names as small numbers, worked out once per event for every
//! matcher that reads the event.
//!
//! Each matcher (the Sigma engine, the indicator matcher) needs to know,
//! for every field of every event, what the field's name means to it. Done
//! by name, that is a hash or a string comparison per field per matcher.
//! A [`Names`] table numbers an event's field names once; each matcher then
//! keeps what a number means to it in a [`NameMeanings`], worked out the
//! first time it sees that number, so the per-event cost for a matcher is
//! one array index per field.

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use crate::Fields;

/// A field name's number in one [`Names`] table.
pub type NameId = u32;

/// The number given to names beyond the table's capacity: matchers work
/// such names out each time they see them.
pub const UNNUMBERED: NameId = NameId::MAX;

/// How many distinct names one table numbers. Logs whose keys are data
/// (random JSON keys) would otherwise grow the table without end.
const CAPACITY: usize = 1 << 16;

/// Tells tables apart, so a [`NameMeanings`] never reads one table's
/// numbers as another's.
static NEXT_TABLE: AtomicU64 = AtomicU64::new(1);

/// Numbers field names, one table per thread.
#[derive(Debug)]
pub struct Names {
    table: u64,
    ids: FxHashMap<Box<str>, NameId>,
    numbered: Vec<NameId>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            table: NEXT_TABLE.fetch_add(1, Ordering::Relaxed),
            ids: FxHashMap::default(),
            numbered: Vec::new(),
        }
    }
}

impl Names {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Numbers the names of `fields`, in field order.
    pub fn number(&mut self, fields: &Fields) -> Numbered<'_> {
        self.numbered.clear();
        for (name, _) in fields.iter() {
            let id = match self.ids.get(name) {
                Some(&id) => id,
                None if self.ids.len() < CAPACITY => {
                    let id = self.ids.len() as NameId;
                    self.ids.insert(name.into(), id);
                    id
                }
                None => UNNUMBERED,
            };
            self.numbered.push(id);
        }
        Numbered {
            table: self.table,
            ids: &self.numbered,
        }
    }
}

/// The numbers of one event's field names, in field order.
#[derive(Clone, Copy, Debug)]
pub struct Numbered<'a> {
    table: u64,
    ids: &'a [NameId],
}

impl<'a> Numbered<'a> {
    /// The numbers, one per field.
    pub fn ids(&self) -> &'a [NameId] {
        self.ids
    }
}

/// What one matcher makes of each numbered name, worked out once per name.
#[derive(Debug, Clone)]
pub struct NameMeanings<T> {
    table: u64,
    meanings: Vec<Option<T>>,
}

impl<T> Default for NameMeanings<T> {
    fn default() -> Self {
        NameMeanings {
            table: 0,
            meanings: Vec::new(),
        }
    }
}

impl<T: Copy> NameMeanings<T> {
    /// Starts reading an event numbered by `numbered`'s table (forgetting
    /// what was worked out for another table).
    pub fn use_table(&mut self, numbered: Numbered<'_>) {
        if self.table != numbered.table {
            self.table = numbered.table;
            self.meanings.clear();
        }
    }

    /// What the name numbered `id` means, from `work_out` the first time
    /// (and every time for [`UNNUMBERED`] names). Call
    /// [`use_table`](Self::use_table) for the event first.
    #[inline]
    pub fn get(&mut self, id: NameId, work_out: impl FnOnce() -> T) -> T {
        if id == UNNUMBERED {
            return work_out();
        }
        let slot = id as usize;
        if let Some(Some(meaning)) = self.meanings.get(slot) {
            return *meaning;
        }
        if self.meanings.len() <= slot {
            self.meanings.resize_with(slot + 1, || None);
        }
        let meaning = work_out();
        self.meanings[slot] = Some(meaning);
        meaning
    }
}

/// What a matcher made of the last layout it saw (the numbers of an
/// event's names, in order): consecutive events of one log mostly share
/// their layout, and comparing numbers costs less than reading each name's
/// meaning again.
#[derive(Debug, Clone, Default)]
pub struct LastLayout<T> {
    table: u64,
    /// The layout `made` is for; `None` when it was not kept.
    ids: Option<Vec<NameId>>,
    made: T,
}

impl<T> LastLayout<T> {
    /// What was made of this event's layout: kept from the last event when
    /// the layouts are the same, else made by `make` (and kept, unless the
    /// layout holds a name beyond the table's capacity).
    pub fn get_or(&mut self, numbered: Numbered<'_>, make: impl FnOnce() -> T) -> &T {
        let same = self.table == numbered.table && self.ids.as_deref() == Some(numbered.ids);
        if !same {
            self.made = make();
            self.table = numbered.table;
            let ids = self.ids.get_or_insert_with(Vec::new);
            ids.clear();
            ids.extend_from_slice(numbered.ids);
            if numbered.ids.contains(&UNNUMBERED) {
                self.ids = None;
            }
        }
        &self.made
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    fn fields(names: &[&str]) -> Fields {
        names.iter().map(|n| (*n, Value::Null)).collect()
    }

    #[test]
    fn the_same_name_gets_the_same_number_across_events() {
        let mut names = Names::new();
        let first = names.number(&fields(&["a", "b"])).ids().to_vec();
        let second = names.number(&fields(&["b", "c", "a"])).ids().to_vec();
        assert_eq!(first, [0, 1]);
        assert_eq!(second, [1, 2, 0]);
    }

    #[test]
    fn meanings_are_worked_out_once_per_name_and_table() {
        let mut names = Names::new();
        let mut meanings = NameMeanings::default();
        let mut calls = 0;
        for _ in 0..3 {
            let event = fields(&["src_ip", "dest_ip"]);
            let numbered = names.number(&event);
            meanings.use_table(numbered);
            for (id, (name, _)) in numbered.ids().iter().zip(event.iter()) {
                let len = meanings.get(*id, || {
                    calls += 1;
                    name.len()
                });
                assert_eq!(len, name.len());
            }
        }
        assert_eq!(calls, 2);
        let mut other = Names::new();
        let event = fields(&["dest_ip"]);
        let numbered = other.number(&event);
        meanings.use_table(numbered);
        assert_eq!(meanings.get(numbered.ids()[0], || 8), 8);
    }

    #[test]
    fn a_layout_is_worked_out_again_only_when_it_changes() {
        let mut names = Names::new();
        let mut last = LastLayout::default();
        let mut made = 0;
        for layout in [
            &["a", "b"][..],
            &["a", "b"],
            &["b", "a"],
            &["b", "a"],
            &["a", "b"],
        ] {
            let numbered = names.number(&fields(layout));
            let got = *last.get_or(numbered, || {
                made += 1;
                layout[0]
            });
            assert_eq!(got, layout[0]);
        }
        assert_eq!(made, 3);
    }

    #[test]
    fn names_beyond_the_capacity_are_worked_out_each_time() {
        let mut names = Names::new();
        for n in 0..CAPACITY {
            names.number(&fields(&[&format!("k{n}")]));
        }
        let numbered = names.number(&fields(&["one more"]));
        assert_eq!(numbered.ids(), [UNNUMBERED]);
        let mut meanings = NameMeanings::default();
        meanings.use_table(numbered);
        assert_eq!(meanings.get(UNNUMBERED, || 1), 1);
        assert_eq!(meanings.get(UNNUMBERED, || 2), 2);
        let mut last = LastLayout::default();
        assert_eq!(*last.get_or(numbered, || 1), 1);
        assert_eq!(*last.get_or(numbered, || 2), 2);
        let no_fields = names.number(&Fields::new());
        assert_eq!(*last.get_or(no_fields, || 3), 3);
    }
}
