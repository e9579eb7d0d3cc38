//! The SigmaHQ rules built into gsoc (Detection Rule License 1.1; authors
//! kept per rule, see `rules/sigmahq/NOTICE.md`), packed by `build.rs`.

use std::io::Read;

use flate2::read::DeflateDecoder;

use crate::RuleSet;

static BUILTIN_RULES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin-rules.bin"));

impl RuleSet {
    /// The SigmaHQ rules built into gsoc: `rules`, `rules-emerging-threats`
    /// and `rules-threat-hunting`, each file named `sigmahq/<folder>/…`.
    pub fn builtin() -> RuleSet {
        let mut files = Vec::new();
        for_each_builtin_rule(|name, body| {
            files.push((name.to_owned(), String::from_utf8_lossy(body).into_owned()));
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
        let mut set = RuleSet::new();
        set.add_texts(&files);
        set
    }
}

/// Calls `f` with the name and text of every built-in rule file, in the
/// order they were packed, stopping at the first error.
pub fn for_each_builtin_rule<E>(mut f: impl FnMut(&str, &[u8]) -> Result<(), E>) -> Result<(), E> {
    let mut bytes = Vec::new();
    // The blob is produced by build.rs from files in this repository.
    DeflateDecoder::new(BUILTIN_RULES)
        .read_to_end(&mut bytes)
        .expect("the built-in rule set decompresses");
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let name = take(&mut rest);
        let body = take(&mut rest);
        f(&String::from_utf8_lossy(name), body)?;
    }
    Ok(())
}

/// One length-prefixed record of the packed blob.
fn take<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let (len, tail) = rest.split_at(4);
    let len = u32::from_le_bytes(len.try_into().expect("four length bytes")) as usize;
    let (record, tail) = tail.split_at(len);
    *rest = tail;
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_are_all_there() {
        let set = RuleSet::builtin();
        assert_eq!(set.rules().len() + set.rejects().len(), 3754);
        assert!(
            set.rules()
                .iter()
                .all(|r| r.meta.path.starts_with("sigmahq/"))
        );
    }
}
