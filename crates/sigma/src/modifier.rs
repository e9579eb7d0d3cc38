//! Sigma value modifiers (`field|contains|all`), as the v2.1 specification
//! lists them.

use std::fmt;

/// One value modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16le,
    Utf16be,
    Utf16,
    Wide,
    Windash,
    Re,
    /// `re|i`: case-insensitive regular expression.
    ReIgnoreCase,
    /// `re|m`: `^` and `$` match at line breaks.
    ReMultiLine,
    /// `re|s`: `.` matches a line break.
    ReDotAll,
    Cidr,
    Lt,
    Lte,
    Gt,
    Gte,
    Neq,
    Exists,
    Cased,
    FieldRef,
    Expand,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

const NAMES: &[(&str, Modifier)] = &[
    ("contains", Modifier::Contains),
    ("startswith", Modifier::StartsWith),
    ("endswith", Modifier::EndsWith),
    ("all", Modifier::All),
    ("base64", Modifier::Base64),
    ("base64offset", Modifier::Base64Offset),
    ("utf16le", Modifier::Utf16le),
    ("utf16be", Modifier::Utf16be),
    ("utf16", Modifier::Utf16),
    ("wide", Modifier::Wide),
    ("windash", Modifier::Windash),
    ("re", Modifier::Re),
    ("cidr", Modifier::Cidr),
    ("lt", Modifier::Lt),
    ("lte", Modifier::Lte),
    ("gt", Modifier::Gt),
    ("gte", Modifier::Gte),
    ("neq", Modifier::Neq),
    ("exists", Modifier::Exists),
    ("cased", Modifier::Cased),
    ("fieldref", Modifier::FieldRef),
    ("expand", Modifier::Expand),
    ("minute", Modifier::Minute),
    ("hour", Modifier::Hour),
    ("day", Modifier::Day),
    ("week", Modifier::Week),
    ("month", Modifier::Month),
    ("year", Modifier::Year),
];

impl Modifier {
    /// Parses the modifier chain after a field name (`contains|all`).
    /// The regular-expression flags `i`, `m` and `s` are only accepted after
    /// `re`.
    pub fn parse_chain(parts: &[&str]) -> Result<Vec<Modifier>, String> {
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            let name = part.trim();
            let after_re = out.contains(&Modifier::Re);
            let modifier = match (name, after_re) {
                ("i", true) => Modifier::ReIgnoreCase,
                ("m", true) => Modifier::ReMultiLine,
                ("s", true) => Modifier::ReDotAll,
                ("i" | "m" | "s", false) => {
                    return Err(format!(
                        "modifier '{name}' is a regular-expression flag and must follow 're'"
                    ));
                }
                _ => Self::by_name(name).ok_or_else(|| unknown(name))?,
            };
            out.push(modifier);
        }
        Ok(out)
    }

    fn by_name(name: &str) -> Option<Modifier> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// The name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            Modifier::ReIgnoreCase => "i",
            Modifier::ReMultiLine => "m",
            Modifier::ReDotAll => "s",
            other => NAMES
                .iter()
                .find(|(_, m)| *m == other)
                .map(|(n, _)| *n)
                .expect("every other modifier is in NAMES"),
        }
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn unknown(name: &str) -> String {
    let closest = NAMES
        .iter()
        .map(|(n, _)| (edit_distance(name, n), *n))
        .min()
        .filter(|(d, _)| *d <= 2);
    match closest {
        Some((_, suggestion)) => {
            format!("unknown modifier '{name}' (did you mean '{suggestion}'?)")
        }
        None => format!("unknown modifier '{name}'"),
    }
}

/// Levenshtein distance, for "did you mean" hints on short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chains_and_regex_flags() {
        assert_eq!(
            Modifier::parse_chain(&["contains", "all"]),
            Ok(vec![Modifier::Contains, Modifier::All])
        );
        assert_eq!(
            Modifier::parse_chain(&["re", "i", "s"]),
            Ok(vec![
                Modifier::Re,
                Modifier::ReIgnoreCase,
                Modifier::ReDotAll
            ])
        );
        assert!(Modifier::parse_chain(&["i"]).is_err());
    }

    #[test]
    fn suggests_close_names() {
        let err = Modifier::parse_chain(&["contans"]).expect_err("typo");
        assert_eq!(err, "unknown modifier 'contans' (did you mean 'contains'?)");
    }
}
