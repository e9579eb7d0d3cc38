//! Hash maps with a cap on their keys: every finder and memory of triage
//! keeps at most so many and counts what it turned away, so memory does not
//! grow with the input.

use std::hash::Hash;

use rustc_hash::FxHashMap;

/// The entry for `key`, made with `make` when absent and there is room;
/// `None`, with `overflow` counted, when the map already holds `max` other
/// keys.
pub(crate) fn entry_within<'m, K: Hash + Eq, V>(
    map: &'m mut FxHashMap<K, V>,
    key: K,
    (max, overflow): (usize, &mut u64),
    make: impl FnOnce() -> V,
) -> Option<&'m mut V> {
    if map.len() >= max && !map.contains_key(&key) {
        *overflow += 1;
        return None;
    }
    Some(map.entry(key).or_insert_with(make))
}
