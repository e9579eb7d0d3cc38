//! Required literals of a regular expression: a set of strings of which at
//! least one occurs (lower-cased) in any text the expression matches. The
//! pre-filter index uses them so that rules built on `re` are only evaluated
//! when their literals occur, like rules built on plain strings.
//!
//! regex-syntax's own literal extractor finds prefixes and suffixes; Sigma
//! regular expressions often start with `.*` or a class, so this walks the
//! expression for required inner literals instead.

use regex_syntax::ParserBuilder;
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::pattern::fold_char;

/// Checks a pattern's syntax and returns the literals one of which must
/// occur (`None` when no such set exists), or the syntax error.
pub(crate) fn analyze(
    pattern: &str,
    case_insensitive: bool,
    multi_line: bool,
    dot_all: bool,
) -> Result<Option<Vec<String>>, String> {
    let hir = ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    Ok(required_in(&hir).filter(|set| set.iter().all(|s| !s.is_empty())))
}

fn required_in(hir: &Hir) -> Option<Vec<String>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(_) | HirKind::Class(_) => exact(hir).map(|s| vec![s]),
        HirKind::Repetition(rep) if rep.min >= 1 => required_in(&rep.sub),
        HirKind::Repetition(_) => None,
        HirKind::Capture(cap) => required_in(&cap.sub),
        HirKind::Alternation(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(required_in(item)?);
            }
            Some(all)
        }
        HirKind::Concat(items) => best_in_concat(items),
    }
}

/// In a concatenation, runs of exact pieces join into longer literals; the
/// best candidate (longest single literal, else the cheapest set) wins.
fn best_in_concat(items: &[Hir]) -> Option<Vec<String>> {
    let mut candidates: Vec<Vec<String>> = Vec::new();
    let mut run = String::new();
    for item in items {
        if let Some(piece) = exact(item) {
            run.push_str(&piece);
            continue;
        }
        if !run.is_empty() {
            candidates.push(vec![std::mem::take(&mut run)]);
        }
        if let Some(set) = required_in(item) {
            candidates.push(set);
        }
    }
    if !run.is_empty() {
        candidates.push(vec![run]);
    }
    candidates
        .into_iter()
        .min_by(|a, b| score(a).total_cmp(&score(b)))
}

fn score(set: &[String]) -> f64 {
    set.iter()
        .map(|s| {
            let len = s.chars().count().min(12) as f64;
            1.0 / (len * len).max(1.0)
        })
        .sum()
}

/// The lower-cased string a piece matches exactly, when it matches one
/// string only (up to case).
fn exact(hir: &Hir) -> Option<String> {
    match hir.kind() {
        HirKind::Literal(lit) => std::str::from_utf8(&lit.0).ok().map(crate::pattern::lower),
        HirKind::Class(Class::Unicode(class)) => {
            let mut chars = class.iter().flat_map(|r| r.start()..=r.end());
            let first = fold_char(chars.next()?).collect::<String>();
            let mut count = 1;
            for c in chars {
                count += 1;
                if count > 4 || fold_char(c).collect::<String>() != first {
                    return None;
                }
            }
            Some(first)
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut bytes = class.iter().flat_map(|r| r.start()..=r.end());
            let first = bytes.next()?.to_ascii_lowercase();
            let mut count = 1;
            for b in bytes {
                count += 1;
                if count > 2 || b.to_ascii_lowercase() != first || !first.is_ascii() {
                    return None;
                }
            }
            Some(char::from(first).to_string())
        }
        HirKind::Capture(cap) => exact(&cap.sub),
        HirKind::Repetition(rep) if rep.min == 1 && rep.max == Some(1) => exact(&rep.sub),
        HirKind::Concat(items) => items.iter().map(exact).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str, i: bool) -> Option<Vec<String>> {
        analyze(p, i, false, false).expect("valid pattern")
    }

    #[test]
    fn inner_literals() {
        assert_eq!(
            req(
                r#"\.exe[\"\']?\s+[^\"]{0,64}werfaultsecure\.exe[\"\']?\s+\d{2,10}"#,
                true
            ),
            Some(vec!["werfaultsecure.exe".to_owned()])
        );
        assert_eq!(
            req("(?i)a(bc|de)f", false),
            Some(vec!["bc".to_owned(), "de".to_owned()])
        );
        assert_eq!(
            req("foo|bar", false),
            Some(vec!["foo".to_owned(), "bar".to_owned()])
        );
        assert_eq!(req(".{1000,}", false), None);
        assert_eq!(req("x?", false), None);
        assert_eq!(
            req("^C:\\\\Users\\\\[^\\\\]+\\\\NTUSER\\.DAT$", true),
            Some(vec!["\\ntuser.dat".to_owned()])
        );
        assert_eq!(req("(ab)+cd", false), Some(vec!["ab".to_owned()]));
    }

    #[test]
    fn case_is_folded() {
        assert_eq!(req("Kerberos", false), Some(vec!["kerberos".to_owned()]));
        // Case-insensitive `s` also matches U+017F (long s) and `k` the
        // Kelvin sign; both fold to the ASCII letter.
        assert_eq!(req("Kerberos", true), Some(vec!["kerberos".to_owned()]));
        assert_eq!(
            req("(?i)MIMIKATZ", false),
            Some(vec!["mimikatz".to_owned()])
        );
    }
}
